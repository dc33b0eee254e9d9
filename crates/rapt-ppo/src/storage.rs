//! Rollout observations on the learner's device, allocated once and written in place
//! step by step; minibatches are gathered into buffers reused for the whole run.
//!
//! Images are kept as `u8` when every pixel the env produced is `k / 255` for an integer
//! `k` (what rendered rasters and camera frames are): a quarter of the memory of `f32`
//! and of the bytes each minibatch gathers. Each minibatch decodes them back to exactly
//! the `f32` values the policy acted on — checked once per storage against Rust's
//! `k as f32 / 255.0` for every `k` — so the update sees what the rollout saw, bit for
//! bit. The first pixel that is not such a value (an env with other images) switches
//! the storage to `f32` for the rest of the run, converting the rows kept so far.

use tch::{Device, Kind, Tensor};

use crate::ObsLayout;

/// How the image part of the observations is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStorage {
    /// One byte per pixel, `k` for the value `k / 255`.
    U8,
    /// The values as the env produced them.
    F32,
}

impl ImageStorage {
    /// The tensor kind of images kept this way.
    fn kind(self) -> Kind {
        match self {
            ImageStorage::U8 => Kind::Uint8,
            ImageStorage::F32 => Kind::Float,
        }
    }
}

/// Copy `n` host rows (`data`, row-major) into rows `at..at + n` of `dst` on its device.
fn write_rows<T: tch::kind::Element>(dst: &Tensor, at: usize, n: usize, data: &[T]) {
    let src = Tensor::from_slice(data).view([n as i64, -1]);
    dst.narrow(0, at as i64, n as i64)
        .copy_(&src.to_device(dst.device()));
}

/// The observations of one rollout on the learner's device: `rows` of `capacity`
/// filled, each a normalized observation as the policy saw it.
#[derive(Debug)]
pub struct ObsStorage {
    layout: ObsLayout,
    device: Device,
    /// `[capacity, image_len]`, u8 or f32 (see [`ImageStorage`]); none without an image.
    images: Option<Tensor>,
    image_kind: ImageStorage,
    /// `[capacity, vector_dim]` f32; none when the observation is all image.
    vectors: Option<Tensor>,
    capacity: usize,
    rows: usize,
    /// Host staging for one step's rows (reused).
    stage_u8: Vec<u8>,
    stage_f32: Vec<f32>,
    /// Reused minibatch buffers, sized for the largest minibatch so far.
    minibatch: Option<MinibatchBuffers>,
}

#[derive(Debug)]
struct MinibatchBuffers {
    rows: usize,
    /// `[rows, dim]` f32: what the policy evaluates.
    obs: Tensor,
    /// `[rows, image_len]` in the image storage's kind (gather target before decoding).
    images: Option<Tensor>,
    /// `[rows, vector_dim]` f32 (gather target when there is an image too).
    vectors: Option<Tensor>,
}

/// `k / 255` as the envs compute it (`f32::from(k) / 255.0`), for every byte `k`.
fn byte_values() -> [f32; 256] {
    std::array::from_fn(|k| f32::from(k as u8) / 255.0)
}

/// The byte whose value is exactly `v`, if there is one.
fn encode(v: f32, table: &[f32; 256]) -> Option<u8> {
    let k = (v * 255.0).round();
    if !(0.0..=255.0).contains(&k) {
        return None;
    }
    let k = k as u8;
    (table[k as usize].to_bits() == v.to_bits()).then_some(k)
}

/// Write `bytes / 255` into `dst` (f32, same shape).
fn decode_into(bytes: &Tensor, dst: &Tensor) {
    let _ = bytes.div_scalar_out(dst, 255.0);
}

/// Whether [`decode_into`] gives Rust's `k / 255` for every byte on `device`, through a
/// strided destination as minibatches use it.
fn decoding_is_exact(device: Device) -> bool {
    let table = byte_values();
    let cols = 3 * 256 + 5; // vectorized loops and their tails
    let bytes: Vec<u8> = (0..2 * cols).map(|i| (i % 256) as u8).collect();
    let src = Tensor::from_slice(&bytes)
        .view([2, cols as i64])
        .to_device(device);
    let wide = Tensor::zeros([2, cols as i64 + 7], (Kind::Float, device));
    decode_into(&src, &wide.narrow(1, 0, cols as i64));
    let got = Vec::<f32>::try_from(
        wide.narrow(1, 0, cols as i64)
            .to_device(Device::Cpu)
            .contiguous()
            .view(-1),
    );
    got.is_ok_and(|got| {
        got.iter()
            .zip(&bytes)
            .all(|(g, &b)| g.to_bits() == table[b as usize].to_bits())
    })
}

impl ObsStorage {
    /// Empty storage for observations laid out as `layout` on `device`; nothing is
    /// allocated until the first rows are pushed.
    pub fn new(layout: ObsLayout, device: Device) -> Self {
        let image_kind = if layout.image.is_some() && decoding_is_exact(device) {
            ImageStorage::U8
        } else {
            ImageStorage::F32
        };
        Self {
            layout,
            device,
            images: None,
            image_kind,
            vectors: None,
            capacity: 0,
            rows: 0,
            stage_u8: Vec::new(),
            stage_f32: Vec::new(),
            minibatch: None,
        }
    }

    /// Rows stored.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Rows the storage holds without growing.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How the images are kept (`F32` without an image).
    pub fn image_storage(&self) -> ImageStorage {
        self.image_kind
    }

    /// Forget the rows (the memory stays for the next rollout).
    pub fn clear(&mut self) {
        self.rows = 0;
    }

    /// Make room for `rows` rows in all, keeping those stored (the run's rollout size is
    /// reserved once; growing copies).
    pub fn reserve(&mut self, rows: usize) {
        if rows <= self.capacity {
            return;
        }
        let (image_len, vector_dim) = (self.layout.image_len(), self.layout.vector_dim());
        let image_kind = self.image_kind.kind();
        let grow = |old: &Option<Tensor>, cols: usize, kind: Kind| {
            (cols > 0).then(|| {
                let t = Tensor::zeros([rows as i64, cols as i64], (kind, self.device));
                if let Some(old) = old {
                    t.narrow(0, 0, self.rows as i64)
                        .copy_(&old.narrow(0, 0, self.rows as i64));
                }
                t
            })
        };
        self.images = grow(&self.images, image_len, image_kind);
        self.vectors = grow(&self.vectors, vector_dim, Kind::Float);
        self.capacity = rows;
    }

    /// Append observations: whole rows of the layout, as the policy saw them.
    ///
    /// # Panics
    /// If `obs` is not a whole number of rows.
    pub fn push(&mut self, obs: &[f32]) {
        let dim = self.layout.dim;
        assert!(
            dim > 0 && obs.len().is_multiple_of(dim),
            "{} values are not whole observations of {dim}",
            obs.len()
        );
        let n = obs.len() / dim;
        if self.rows + n > self.capacity {
            self.reserve((self.rows + n).max(2 * self.capacity));
        }
        let image_len = self.layout.image_len();
        if image_len > 0 {
            self.push_images(obs, n);
        }
        if let Some(vectors) = &self.vectors {
            self.stage_f32.clear();
            self.stage_f32
                .extend(obs.chunks_exact(dim).flat_map(|row| &row[image_len..]));
            write_rows(vectors, self.rows, n, &self.stage_f32);
        }
        self.rows += n;
    }

    fn push_images(&mut self, obs: &[f32], n: usize) {
        let (dim, image_len) = (self.layout.dim, self.layout.image_len());
        let pixels = || obs.chunks_exact(dim).flat_map(|row| &row[..image_len]);
        if self.image_kind == ImageStorage::U8 {
            let table = byte_values();
            self.stage_u8.clear();
            self.stage_u8.reserve(n * image_len);
            let mut exact = true;
            for &v in pixels() {
                match encode(v, &table) {
                    Some(k) => self.stage_u8.push(k),
                    None => {
                        exact = false;
                        break;
                    }
                }
            }
            if exact {
                if let Some(images) = &self.images {
                    write_rows(images, self.rows, n, &self.stage_u8);
                }
                return;
            }
            self.fall_back_to_f32();
        }
        self.stage_f32.clear();
        self.stage_f32.extend(pixels());
        if let Some(images) = &self.images {
            write_rows(images, self.rows, n, &self.stage_f32);
        }
    }

    /// Keep images as f32 from now on, decoding the rows stored so far.
    fn fall_back_to_f32(&mut self) {
        tracing::warn!(
            "observation images are not all k/255 values: the rollout keeps them as f32 \
             (4 bytes a pixel instead of 1)"
        );
        self.image_kind = ImageStorage::F32;
        if let Some(old) = self.images.take() {
            let wide = Tensor::zeros(old.size(), (Kind::Float, self.device));
            decode_into(&old, &wide);
            self.images = Some(wide);
        }
        self.minibatch = None;
    }

    /// The observations of rows `index` (int64, on the device) as `[len, dim]` f32 — a
    /// view of a buffer reused by the next call, so use it before gathering again.
    ///
    /// # Panics
    /// If nothing is stored.
    pub fn gather(&mut self, index: &Tensor) -> Tensor {
        assert!(self.rows > 0, "gather from an empty rollout storage");
        let len = index.size1().expect("a 1-d index") as usize;
        if self.minibatch.as_ref().is_none_or(|m| m.rows < len) {
            self.minibatch = Some(self.minibatch_buffers(len));
        }
        let filled = self.rows as i64;
        let m = self.minibatch.as_ref().expect("allocated above");
        let obs = m.obs.narrow(0, 0, len as i64);
        let image_len = self.layout.image_len() as i64;
        match (&self.images, &self.vectors) {
            (None, Some(vectors)) => {
                let _ = vectors
                    .narrow(0, 0, filled)
                    .index_select_out(&obs, 0, index);
            }
            (images, vectors) => {
                if let (Some(images), Some(target)) = (images, &m.images) {
                    let target = target.narrow(0, 0, len as i64);
                    let _ = images
                        .narrow(0, 0, filled)
                        .index_select_out(&target, 0, index);
                    let mut dst = obs.narrow(1, 0, image_len);
                    match self.image_kind {
                        ImageStorage::U8 => decode_into(&target, &dst),
                        ImageStorage::F32 => dst.copy_(&target),
                    }
                }
                if let (Some(vectors), Some(target)) = (vectors, &m.vectors) {
                    let target = target.narrow(0, 0, len as i64);
                    let _ = vectors
                        .narrow(0, 0, filled)
                        .index_select_out(&target, 0, index);
                    let rest = self.layout.vector_dim() as i64;
                    obs.narrow(1, image_len, rest).copy_(&target);
                }
            }
        }
        obs
    }

    fn minibatch_buffers(&self, rows: usize) -> MinibatchBuffers {
        let r = rows as i64;
        let has_image = self.images.is_some();
        let image_kind = self.image_kind.kind();
        MinibatchBuffers {
            rows,
            obs: Tensor::zeros([r, self.layout.dim as i64], (Kind::Float, self.device)),
            images: has_image.then(|| {
                Tensor::zeros(
                    [r, self.layout.image_len() as i64],
                    (image_kind, self.device),
                )
            }),
            vectors: (has_image && self.vectors.is_some()).then(|| {
                Tensor::zeros(
                    [r, self.layout.vector_dim() as i64],
                    (Kind::Float, self.device),
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t.contiguous().view(-1)).unwrap()
    }

    fn image_layout() -> ObsLayout {
        ObsLayout {
            dim: 2 * 3 * 3 + 2,
            image: Some([2, 3, 3]),
        }
    }

    /// Row `r` of an image observation: pixels k/255, then two free values.
    fn obs_row(r: usize) -> Vec<f32> {
        let mut row: Vec<f32> = (0..18)
            .map(|k| ((r * 37 + k * 11) % 256) as f32 / 255.0)
            .collect();
        row.extend([r as f32 * 0.5 - 1.0, 1e-3 * r as f32]);
        row
    }

    #[test]
    fn decoding_bytes_gives_the_envs_values_exactly() {
        assert!(decoding_is_exact(Device::Cpu));
        let table = byte_values();
        for k in 0..=255u8 {
            assert_eq!(encode(table[k as usize], &table), Some(k));
        }
        assert_eq!(encode(0.5, &table), None);
        assert_eq!(encode(-0.0, &table), None, "−0 is not a byte's value");
        assert_eq!(encode(1.5, &table), None);
    }

    #[test]
    fn images_are_kept_as_bytes_and_gathered_back_bit_for_bit() {
        let layout = image_layout();
        let mut s = ObsStorage::new(layout, Device::Cpu);
        let data: Vec<Vec<f32>> = (0..7).map(obs_row).collect();
        for step in data.chunks(2) {
            s.push(&step.concat());
        }
        assert_eq!(s.image_storage(), ImageStorage::U8);
        assert_eq!(s.rows(), 7);
        let idx = Tensor::from_slice(&[6i64, 0, 3]);
        let got = rows(&s.gather(&idx));
        let want: Vec<f32> = [6, 0, 3].iter().flat_map(|&r| data[r].clone()).collect();
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn other_images_fall_back_to_f32_keeping_the_rows_stored() {
        let mut s = ObsStorage::new(image_layout(), Device::Cpu);
        let first = obs_row(1);
        s.push(&first);
        let mut odd = obs_row(2);
        odd[4] = 0.123_456_7;
        s.push(&odd);
        assert_eq!(s.image_storage(), ImageStorage::F32);
        let got = rows(&s.gather(&Tensor::from_slice(&[1i64, 0])));
        assert_eq!(got, [odd, first].concat());
    }

    #[test]
    fn vectors_are_gathered_and_clearing_keeps_the_memory() {
        let mut s = ObsStorage::new(ObsLayout::vector(3), Device::Cpu);
        s.reserve(4);
        s.push(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            rows(&s.gather(&Tensor::from_slice(&[1i64]))),
            [4.0, 5.0, 6.0]
        );
        s.clear();
        s.push(&[7.0, 8.0, 9.0]);
        assert_eq!((s.rows(), s.capacity()), (1, 4));
        assert_eq!(
            rows(&s.gather(&Tensor::from_slice(&[0i64]))),
            [7.0, 8.0, 9.0]
        );
        // Growing keeps what is stored.
        s.push(&[0.5; 15]);
        assert_eq!((s.rows(), s.capacity()), (6, 8));
        assert_eq!(
            rows(&s.gather(&Tensor::from_slice(&[0i64, 5]))),
            [7.0, 8.0, 9.0, 0.5, 0.5, 0.5]
        );
    }
}
