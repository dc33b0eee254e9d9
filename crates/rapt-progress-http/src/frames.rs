//! Camera frames as image data URLs (`data:image/png;base64,…`), the way OpenAI-compatible
//! servers take images, and back into the RGB bytes progress models read.

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::{ExtendedColorType, ImageEncoder, RgbImage, imageops::FilterType};
use thiserror::Error;

/// Why an image could not be read or written.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Not a `data:image/…;base64,` URL.
    #[error(
        "image {index}: expected a `data:image/png;base64,…` or `data:image/jpeg;base64,…` URL, got `{start}…`"
    )]
    NotDataUrl {
        /// Position among the request's images (0-based).
        index: usize,
        /// The URL's first characters.
        start: String,
    },
    /// An image larger than what is decoded (read from its header, before decoding).
    #[error(
        "image {index}: {width}×{height} px is larger than the {max}×{max} px this model decodes (it reads {size}×{size} px frames): send smaller images"
    )]
    TooLarge {
        /// Position among the request's images.
        index: usize,
        /// Its width, px.
        width: u32,
        /// Its height, px.
        height: u32,
        /// The largest side decoded, px ([`max_side`]).
        max: u32,
        /// The model's frame size, px.
        size: usize,
    },
    /// Bad base64 or an undecodable image.
    #[error("image {index}: {message}")]
    Undecodable {
        /// Position among the request's images.
        index: usize,
        /// What the decoder said.
        message: String,
    },
    /// An image file could not be read or decoded.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The images do not make whole frame sets.
    #[error("{images} images do not make whole frame sets of {views} views")]
    Incomplete {
        /// Images given.
        images: usize,
        /// Views per frame set.
        views: usize,
    },
    /// The RGB buffer does not hold `size × size × 3` bytes.
    #[error("frame of {got} bytes, expected {size}×{size}×3 = {}", size * size * 3)]
    BadFrame {
        /// Side, px.
        size: usize,
        /// Bytes given.
        got: usize,
    },
}

/// `rgb` (`size × size × 3` bytes, row-major from the top) as a PNG data URL.
pub fn png_data_url(rgb: &[u8], size: usize) -> Result<String, FrameError> {
    if rgb.len() != size * size * 3 {
        return Err(FrameError::BadFrame {
            size,
            got: rgb.len(),
        });
    }
    let mut png = Vec::new();
    // Fast deflate: small frames, and encoding is on the scoring thread's critical path.
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(rgb, size as u32, size as u32, ExtendedColorType::Rgb8)
    .map_err(|e| FrameError::Undecodable {
        index: 0,
        message: e.to_string(),
    })?;
    Ok(format!("data:image/png;base64,{}", STANDARD.encode(png)))
}

/// Decode image `index` of a request (a PNG or JPEG data URL) into `size × size × 3` RGB
/// bytes, resized with a triangle filter when its size differs.
pub fn decode_data_url(url: &str, index: usize, size: usize) -> Result<Vec<u8>, FrameError> {
    let payload = ["data:image/png;base64,", "data:image/jpeg;base64,"]
        .iter()
        .find_map(|prefix| url.strip_prefix(prefix))
        .ok_or_else(|| FrameError::NotDataUrl {
            index,
            start: url.chars().take(40).collect(),
        })?;
    let bytes = STANDARD
        .decode(payload.trim())
        .map_err(|e| FrameError::Undecodable {
            index,
            message: format!("bad base64: {e}"),
        })?;
    decode_image(&bytes, index, size)
}

/// The largest image side decoded for a model reading `size × size` frames, px: 8× its
/// size, at least 1,024 (clients commonly send 224 px frames to small models), so one
/// decoded image takes at most a few MB however large the file claims to be.
pub fn max_side(size: usize) -> u32 {
    (size.saturating_mul(8)).clamp(1024, 8192) as u32
}

/// Decode image `index` (PNG or JPEG file bytes) into `size × size × 3` RGB bytes, resized
/// with a triangle filter when its size differs. Its dimensions are read from its header
/// first: an image larger than [`max_side`] on a side is refused before any pixel is
/// decoded ([`FrameError::TooLarge`]).
pub fn decode_image(bytes: &[u8], index: usize, size: usize) -> Result<Vec<u8>, FrameError> {
    let undecodable = |e: &dyn std::fmt::Display| FrameError::Undecodable {
        index,
        message: e.to_string(),
    };
    let reader = || {
        image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| undecodable(&e))
    };
    let (width, height) = reader()?.into_dimensions().map_err(|e| undecodable(&e))?;
    let max = max_side(size);
    if width > max || height > max {
        return Err(FrameError::TooLarge {
            index,
            width,
            height,
            max,
            size,
        });
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(max);
    limits.max_image_height = Some(max);
    limits.max_alloc = Some(u64::from(max) * u64::from(max) * 4 + (1 << 20));
    let mut reader = reader()?;
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| FrameError::Undecodable {
            index,
            message: e.to_string(),
        })?
        .to_rgb8();
    let image: RgbImage = if image.width() as usize == size && image.height() as usize == size {
        image
    } else {
        image::imageops::resize(&image, size as u32, size as u32, FilterType::Triangle)
    };
    Ok(image.into_raw())
}

/// The frame sets in image files `paths` (PNG or JPEG, `views` per set, set after set) as
/// `size × size × 3` RGB bytes each, resized where their size differs: what
/// `ProgressModel::score` takes as frames.
pub fn read_frame_sets(
    paths: &[std::path::PathBuf],
    views: usize,
    size: usize,
) -> Result<Vec<u8>, FrameError> {
    if paths.is_empty() || !paths.len().is_multiple_of(views) {
        return Err(FrameError::Incomplete {
            images: paths.len(),
            views,
        });
    }
    let mut frames = Vec::with_capacity(paths.len() * size * size * 3);
    for (i, path) in paths.iter().enumerate() {
        let file = |message: String| FrameError::File {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| file(e.to_string()))?;
        let rgb = decode_image(&bytes, i, size).map_err(|e| file(e.to_string()))?;
        frames.extend_from_slice(&rgb);
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trips_bit_for_bit() {
        let rgb: Vec<u8> = (0..8 * 8 * 3).map(|i| (i * 7 % 256) as u8).collect();
        let url = png_data_url(&rgb, 8).unwrap();
        assert!(url.starts_with("data:image/png;base64,"));
        assert_eq!(decode_data_url(&url, 0, 8).unwrap(), rgb);
    }

    #[test]
    fn oversized_images_are_refused_from_their_header_before_decoding() {
        // A PNG whose header claims 12000 × 12000 px over a few bytes of data: decoding it
        // would allocate 432 MB; its header alone says no.
        let mut png = Vec::new();
        image::RgbImage::from_raw(1, 1, vec![0; 3])
            .unwrap()
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png[16..20].copy_from_slice(&12_000u32.to_be_bytes()); // IHDR width
        png[20..24].copy_from_slice(&12_000u32.to_be_bytes()); // IHDR height
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = decode_image(&png, 2, 32).unwrap_err();
        assert!(
            matches!(
                err,
                FrameError::TooLarge {
                    index: 2,
                    width: 12_000,
                    max: 1024,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("12000×12000"), "{err}");
        // At the limit it decodes.
        let wide = image::RgbImage::from_raw(1024, 1, vec![9; 1024 * 3]).unwrap();
        let mut ok = Vec::new();
        wide.write_to(&mut Cursor::new(&mut ok), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(decode_image(&ok, 0, 4).unwrap().len(), 4 * 4 * 3);
    }

    /// CRC-32 (IEEE), for patching a PNG chunk.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn frame_sets_are_read_from_image_files_set_after_set() {
        let dir = std::env::temp_dir().join(format!("rapt-frames-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths: Vec<_> = [10u8, 20, 30, 40]
            .iter()
            .map(|&v| {
                let path = dir.join(format!("{v}.png"));
                image::RgbImage::from_raw(2, 2, vec![v; 12])
                    .unwrap()
                    .save(&path)
                    .unwrap();
                path
            })
            .collect();
        let frames = read_frame_sets(&paths, 2, 2).unwrap();
        assert_eq!(frames.len(), 4 * 12);
        assert_eq!((frames[0], frames[12], frames[47]), (10, 20, 40));
        let e = read_frame_sets(&paths[..3], 2, 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "3 images do not make whole frame sets of 2 views"
        );
        let missing = [dir.join("none.png"), paths[0].clone()];
        let e = read_frame_sets(&missing, 2, 2).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("{}: ", missing[0].display())),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_sizes_are_resized() {
        let url = png_data_url(&[200; 16 * 16 * 3], 16).unwrap();
        let small = decode_data_url(&url, 0, 4).unwrap();
        assert_eq!(small, vec![200; 4 * 4 * 3]);
    }

    #[test]
    fn bad_urls_name_the_image_and_the_problem() {
        let e = decode_data_url("http://example.org/a.png", 2, 8).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("image 2: expected a `data:image/png"),
            "{e}"
        );
        let e = decode_data_url("data:image/png;base64,@@@", 1, 8).unwrap_err();
        assert!(e.to_string().contains("image 1: bad base64"), "{e}");
        let e = decode_data_url("data:image/png;base64,AAAA", 0, 8).unwrap_err();
        assert!(matches!(e, FrameError::Undecodable { index: 0, .. }), "{e}");
        assert!(png_data_url(&[0; 5], 8).is_err());
    }
}
