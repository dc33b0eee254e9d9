use std::fmt;

use rand::Rng as _;
use rand_distr_free::{standard_exponential, standard_normal};

use crate::Rng;

/// A continuous box: each element lies in `[low[i], high[i]]` (bounds may be infinite).
#[derive(Debug, Clone, PartialEq)]
pub struct BoxSpace {
    /// Lower bounds, one per element (row-major over `shape`).
    pub low: Vec<f32>,
    /// Upper bounds, one per element.
    pub high: Vec<f32>,
    /// Shape, e.g. `[3]` for a vector or `[3, 64, 64]` for an image (CHW).
    pub shape: Vec<usize>,
}

impl BoxSpace {
    /// A box of `shape` with the same bounds everywhere.
    pub fn uniform(low: f32, high: f32, shape: &[usize]) -> Self {
        let n = shape.iter().product();
        Self {
            low: vec![low; n],
            high: vec![high; n],
            shape: shape.to_vec(),
        }
    }

    /// A 1-D box from per-element bounds.
    pub fn from_bounds(low: Vec<f32>, high: Vec<f32>) -> Self {
        assert_eq!(low.len(), high.len(), "box bounds must have equal length");
        let shape = vec![low.len()];
        Self { low, high, shape }
    }

    /// Whether every bound is finite (needed for uniform sampling and action boxes).
    pub fn is_bounded(&self) -> bool {
        self.low.iter().chain(&self.high).all(|b| b.is_finite())
    }
}

/// A malformed space (what is wrong with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpaceError(pub String);

/// An observation or action space, in the Gymnasium sense.
///
/// Every space is stored flat as `f32` slots so that batches are plain
/// structure-of-arrays buffers: a `Box` takes one slot per element, `Discrete` one slot
/// holding an integer value, `MultiDiscrete` one slot per component, and `Tuple`/`Dict`
/// the concatenation of their parts in order (e.g. an image followed by a vector).
#[derive(Debug, Clone, PartialEq)]
pub enum Space {
    /// Continuous values with bounds and a shape.
    Box(BoxSpace),
    /// Integers `start ..= start + n - 1`.
    Discrete {
        /// Number of values (≥ 1).
        n: u32,
        /// Smallest value (Gymnasium's `start`, usually 0).
        start: i32,
    },
    /// Independent integer components, component `i` in `0 .. nvec[i]`.
    MultiDiscrete {
        /// Number of values of each component.
        nvec: Vec<u32>,
    },
    /// An ordered tuple of spaces.
    Tuple(Vec<Space>),
    /// Named parts, in a fixed order (the order of the flat layout).
    Dict(Vec<(String, Space)>),
}

impl Space {
    /// Number of `f32` slots one element of this space takes.
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Box(b) => b.low.len(),
            Space::Discrete { .. } => 1,
            Space::MultiDiscrete { nvec } => nvec.len(),
            Space::Tuple(parts) => parts.iter().map(Space::flat_dim).sum(),
            Space::Dict(parts) => parts.iter().map(|(_, s)| s.flat_dim()).sum(),
        }
    }

    /// Whether `x` (flat, `flat_dim` slots) is an element of this space. NaN is never
    /// contained; discrete slots must hold exact integers in range.
    pub fn contains(&self, x: &[f32]) -> bool {
        if x.len() != self.flat_dim() {
            return false;
        }
        match self {
            Space::Box(b) => x
                .iter()
                .zip(b.low.iter().zip(&b.high))
                .all(|(v, (lo, hi))| *v >= *lo && *v <= *hi),
            Space::Discrete { n, start } => {
                let v = x[0];
                v.fract() == 0.0 && v >= *start as f32 && v < (*start as f32 + *n as f32)
            }
            Space::MultiDiscrete { nvec } => x
                .iter()
                .zip(nvec)
                .all(|(v, n)| v.fract() == 0.0 && *v >= 0.0 && *v < *n as f32),
            Space::Tuple(parts) => contains_parts(parts.iter(), x),
            Space::Dict(parts) => contains_parts(parts.iter().map(|(_, s)| s), x),
        }
    }

    /// Draw a random element into `out` (`flat_dim` slots). Bounded box dimensions are
    /// uniform, unbounded ones standard normal, half-bounded ones an exponential offset
    /// from the finite bound (Gymnasium's rule); discrete values are uniform.
    pub fn sample(&self, rng: &mut Rng, out: &mut [f32]) {
        assert_eq!(
            out.len(),
            self.flat_dim(),
            "sample buffer has the wrong length"
        );
        match self {
            Space::Box(b) => {
                for ((o, lo), hi) in out.iter_mut().zip(&b.low).zip(&b.high) {
                    *o = match (lo.is_finite(), hi.is_finite()) {
                        (true, true) => {
                            if lo == hi {
                                *lo
                            } else {
                                rng.random_range(*lo..=*hi)
                            }
                        }
                        (false, false) => standard_normal(rng),
                        (true, false) => lo + standard_exponential(rng),
                        (false, true) => hi - standard_exponential(rng),
                    };
                }
            }
            Space::Discrete { n, start } => {
                out[0] = (*start + rng.random_range(0..*n) as i32) as f32;
            }
            Space::MultiDiscrete { nvec } => {
                for (o, n) in out.iter_mut().zip(nvec) {
                    *o = rng.random_range(0..*n) as f32;
                }
            }
            Space::Tuple(parts) => sample_parts(parts.iter(), rng, out),
            Space::Dict(parts) => sample_parts(parts.iter().map(|(_, s)| s), rng, out),
        }
    }

    /// Whether the space is well formed: non-empty, `low ≤ high`, no NaN bounds, shape
    /// matching the number of bounds, `n ≥ 1`.
    pub fn validate(&self) -> Result<(), SpaceError> {
        let bad = |message: String| Err(SpaceError(message));
        match self {
            Space::Box(b) => {
                if b.low.len() != b.high.len() || b.shape.iter().product::<usize>() != b.low.len() {
                    return bad(format!("box bounds do not match shape {:?}", b.shape));
                }
                if b.low.is_empty() {
                    return bad("box has no elements".into());
                }
                if let Some(i) = (0..b.low.len())
                    .find(|&i| b.low[i].partial_cmp(&b.high[i]).is_none_or(|o| o.is_gt()))
                {
                    return bad(format!(
                        "box bound {i}: low {} is not ≤ high {}",
                        b.low[i], b.high[i]
                    ));
                }
                Ok(())
            }
            Space::Discrete { n, .. } if *n == 0 => bad("discrete space with n = 0".into()),
            Space::Discrete { .. } => Ok(()),
            Space::MultiDiscrete { nvec } if nvec.is_empty() || nvec.contains(&0) => {
                bad(format!("multi-discrete space with bad nvec {nvec:?}"))
            }
            Space::MultiDiscrete { .. } => Ok(()),
            Space::Tuple(parts) => parts.iter().try_for_each(Space::validate),
            Space::Dict(parts) => parts.iter().try_for_each(|(name, s)| {
                s.validate()
                    .map_err(|e| SpaceError(format!("part `{name}`: {e}")))
            }),
        }
    }
}

fn contains_parts<'a>(parts: impl Iterator<Item = &'a Space>, x: &[f32]) -> bool {
    let mut offset = 0;
    for part in parts {
        let d = part.flat_dim();
        if !part.contains(&x[offset..offset + d]) {
            return false;
        }
        offset += d;
    }
    true
}

fn sample_parts<'a>(parts: impl Iterator<Item = &'a Space>, rng: &mut Rng, out: &mut [f32]) {
    let mut offset = 0;
    for part in parts {
        let d = part.flat_dim();
        part.sample(rng, &mut out[offset..offset + d]);
        offset += d;
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::Box(b) => {
                let (lo, hi) = (min_of(&b.low), max_of(&b.high));
                write!(f, "Box({lo}, {hi}, {:?})", b.shape)
            }
            Space::Discrete { n, start: 0 } => write!(f, "Discrete({n})"),
            Space::Discrete { n, start } => write!(f, "Discrete({n}, start={start})"),
            Space::MultiDiscrete { nvec } => write!(f, "MultiDiscrete({nvec:?})"),
            Space::Tuple(parts) => {
                write!(f, "Tuple(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{p}")?;
                }
                write!(f, ")")
            }
            Space::Dict(parts) => {
                write!(f, "Dict(")?;
                for (i, (name, p)) in parts.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{name}: {p}")?;
                }
                write!(f, ")")
            }
        }
    }
}

fn min_of(v: &[f32]) -> f32 {
    v.iter().copied().fold(f32::INFINITY, f32::min)
}

fn max_of(v: &[f32]) -> f32 {
    v.iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

/// Normal and exponential draws without an extra dependency (Box–Muller and inversion).
mod rand_distr_free {
    use rand::Rng as _;

    use crate::Rng;

    pub fn standard_normal(rng: &mut Rng) -> f32 {
        let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        let u2: f64 = rng.random::<f64>();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    pub fn standard_exponential(rng: &mut Rng) -> f32 {
        let u: f64 = 1.0 - rng.random::<f64>();
        (-u.ln()) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng_from_seed;

    fn dict() -> Space {
        Space::Dict(vec![
            (
                "image".into(),
                Space::Box(BoxSpace::uniform(0.0, 1.0, &[2, 2])),
            ),
            ("mode".into(), Space::Discrete { n: 3, start: -1 }),
            (
                "vec".into(),
                Space::Box(BoxSpace::uniform(f32::NEG_INFINITY, f32::INFINITY, &[2])),
            ),
            ("md".into(), Space::MultiDiscrete { nvec: vec![2, 5] }),
        ])
    }

    #[test]
    fn samples_are_contained_and_seeded() {
        let space = dict();
        assert_eq!(space.flat_dim(), 4 + 1 + 2 + 2);
        let (mut a, mut b) = (vec![0.0; 9], vec![0.0; 9]);
        let (mut r1, mut r2) = (rng_from_seed(7), rng_from_seed(7));
        for _ in 0..200 {
            space.sample(&mut r1, &mut a);
            space.sample(&mut r2, &mut b);
            assert!(space.contains(&a), "{a:?}");
            assert_eq!(a, b);
        }
    }

    #[test]
    fn contains_rejects_out_of_space() {
        let d = Space::Discrete { n: 2, start: 0 };
        assert!(d.contains(&[1.0]));
        assert!(!d.contains(&[2.0]));
        assert!(!d.contains(&[0.5]));
        assert!(!d.contains(&[f32::NAN]));
        let b = Space::Box(BoxSpace::uniform(-1.0, 1.0, &[2]));
        assert!(!b.contains(&[0.0, 1.5]));
        assert!(!b.contains(&[0.0, f32::NAN]));
        assert!(!b.contains(&[0.0]));
    }

    #[test]
    fn half_bounded_box_samples_respect_the_bound() {
        let b = Space::Box(BoxSpace::from_bounds(
            vec![1.0, f32::NEG_INFINITY],
            vec![f32::INFINITY, -3.0],
        ));
        let mut rng = rng_from_seed(1);
        let mut x = [0.0; 2];
        for _ in 0..100 {
            b.sample(&mut rng, &mut x);
            assert!(x[0] >= 1.0 && x[1] <= -3.0);
        }
    }

    #[test]
    fn validate_catches_malformed_spaces() {
        assert!(Space::Discrete { n: 0, start: 0 }.validate().is_err());
        let bad = Space::Box(BoxSpace::from_bounds(vec![1.0], vec![0.0]));
        assert!(bad.validate().is_err());
        assert!(dict().validate().is_ok());
    }
}
