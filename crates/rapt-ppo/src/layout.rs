//! Where the image is in a flat observation, for the CNN encoder.

use serde::{Deserialize, Serialize};

/// The layout of a flat observation: `dim` slots, of which the first `C·H·W` are an
/// image in CHW order when `image` is set; the rest is the vector part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObsLayout {
    /// Total slots.
    pub dim: usize,
    /// `[channels, height, width]` of the leading image, if there is one.
    pub image: Option<[usize; 3]>,
}

impl ObsLayout {
    /// The layout of an env's observation space: an image where the space is a Box of
    /// shape `[C, H, W]`, alone or first in a Dict; otherwise a plain vector.
    pub fn of(space: &rapt_core::Space) -> Self {
        use rapt_core::Space;
        let image = match space {
            Space::Box(b) => Some(b),
            Space::Dict(parts) => match parts.first() {
                Some((_, Space::Box(b))) => Some(b),
                _ => None,
            },
            _ => None,
        }
        .and_then(|b| <[usize; 3]>::try_from(b.shape.as_slice()).ok());
        Self {
            dim: space.flat_dim(),
            image,
        }
    }

    /// A plain vector observation of `dim` slots.
    pub fn vector(dim: usize) -> Self {
        Self { dim, image: None }
    }

    /// Slots taken by the image (0 without one).
    pub fn image_len(&self) -> usize {
        self.image.map_or(0, |[c, h, w]| c * h * w)
    }

    /// Slots after the image.
    pub fn vector_dim(&self) -> usize {
        self.dim - self.image_len()
    }

    /// Why this layout is inconsistent, if it is.
    pub fn problem(&self) -> Option<String> {
        match self.image {
            Some(shape) if shape.contains(&0) => Some(format!("image shape {shape:?} has a 0")),
            Some(shape) if self.image_len() > self.dim => Some(format!(
                "image {shape:?} needs {} slots, the observation has {}",
                self.image_len(),
                self.dim
            )),
            _ => None,
        }
    }
}
