//! 2-D geometry on the road plane (x east, y north, metres; yaw counter-clockwise from +x).

use std::ops::{Add, Mul, Neg, Sub};

/// A point or vector on the road plane, m.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct V2 {
    /// East, m.
    pub x: f32,
    /// North, m.
    pub y: f32,
}

impl V2 {
    /// `(x, y)`.
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// The unit vector at `yaw` radians.
    pub fn from_yaw(yaw: f32) -> Self {
        Self::new(yaw.cos(), yaw.sin())
    }

    /// Dot product.
    pub fn dot(self, o: V2) -> f32 {
        self.x * o.x + self.y * o.y
    }

    /// z of the cross product (positive when `o` is counter-clockwise of `self`).
    pub fn cross(self, o: V2) -> f32 {
        self.x * o.y - self.y * o.x
    }

    /// Length.
    pub fn length(self) -> f32 {
        self.dot(self).sqrt()
    }

    /// Unit vector (zero stays zero).
    pub fn normalized(self) -> V2 {
        let l = self.length();
        if l > 0.0 { self * (1.0 / l) } else { self }
    }

    /// Rotated 90° counter-clockwise (the left normal of a direction).
    pub fn perp(self) -> V2 {
        V2::new(-self.y, self.x)
    }

    /// Angle from +x, rad.
    pub fn yaw(self) -> f32 {
        self.y.atan2(self.x)
    }

    /// Expressed in a frame at `origin` rotated by `yaw` (x forward, y left).
    pub fn to_frame(self, origin: V2, yaw: f32) -> V2 {
        let d = self - origin;
        let (s, c) = yaw.sin_cos();
        V2::new(c * d.x + s * d.y, -s * d.x + c * d.y)
    }

    /// Distance to `o`.
    pub fn dist(self, o: V2) -> f32 {
        (self - o).length()
    }
}

impl Add for V2 {
    type Output = V2;
    fn add(self, o: V2) -> V2 {
        V2::new(self.x + o.x, self.y + o.y)
    }
}

impl Sub for V2 {
    type Output = V2;
    fn sub(self, o: V2) -> V2 {
        V2::new(self.x - o.x, self.y - o.y)
    }
}

impl Mul<f32> for V2 {
    type Output = V2;
    fn mul(self, k: f32) -> V2 {
        V2::new(self.x * k, self.y * k)
    }
}

impl Neg for V2 {
    type Output = V2;
    fn neg(self) -> V2 {
        V2::new(-self.x, -self.y)
    }
}

/// `a` wrapped into (−π, π].
pub fn wrap_angle(a: f32) -> f32 {
    let two_pi = std::f32::consts::TAU;
    let mut a = a % two_pi;
    if a <= -std::f32::consts::PI {
        a += two_pi;
    } else if a > std::f32::consts::PI {
        a -= two_pi;
    }
    a
}

/// A polyline with cumulative arc length: lane centres and routes.
#[derive(Debug, Clone, Default)]
pub struct Polyline {
    /// Vertices.
    pub points: Vec<V2>,
    /// Arc length at each vertex, m (starts at 0).
    pub s: Vec<f32>,
}

/// The turn at each interior vertex `k` of `p`: (k, |heading change| rad, mean length of
/// the two segments m); their ratio is the local curvature.
pub fn vertex_turns(p: &[V2]) -> impl Iterator<Item = (usize, f32, f32)> + '_ {
    (1..p.len().saturating_sub(1)).map(move |k| {
        let (d1, d2) = (p[k] - p[k - 1], p[k + 1] - p[k]);
        let turn = wrap_angle(d2.yaw() - d1.yaw()).abs();
        (k, turn, 0.5 * (d1.length() + d2.length()))
    })
}

/// Where a point projects onto a polyline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Segment index (from vertex `segment` to `segment + 1`).
    pub segment: usize,
    /// Arc length of the foot point, m.
    pub s: f32,
    /// Signed lateral offset, m (positive: left of the direction of travel).
    pub lateral: f32,
    /// Direction of travel at the foot point, rad.
    pub yaw: f32,
}

impl Polyline {
    /// A polyline through `points` (at least two).
    pub fn new(points: Vec<V2>) -> Self {
        let mut s = Vec::with_capacity(points.len());
        let mut acc = 0.0;
        for (k, p) in points.iter().enumerate() {
            if k > 0 {
                acc += p.dist(points[k - 1]);
            }
            s.push(acc);
        }
        Self { points, s }
    }

    /// Total length, m.
    pub fn length(&self) -> f32 {
        self.s.last().copied().unwrap_or(0.0)
    }

    /// Point and direction (rad) at arc length `s` (clamped to the ends).
    pub fn at(&self, s: f32) -> (V2, f32) {
        let n = self.points.len();
        let s = s.clamp(0.0, self.length());
        let k = match self.s.binary_search_by(|x| x.total_cmp(&s)) {
            Ok(k) => k.min(n - 2),
            Err(k) => k.saturating_sub(1).min(n - 2),
        };
        let (a, b) = (self.points[k], self.points[k + 1]);
        let seg = (self.s[k + 1] - self.s[k]).max(1e-6);
        let t = ((s - self.s[k]) / seg).clamp(0.0, 1.0);
        (a + (b - a) * t, (b - a).yaw())
    }

    /// Project `p` onto segments `from..to` (clamped), the nearest foot point.
    pub fn project_range(&self, p: V2, from: usize, to: usize) -> Projection {
        let last = self.points.len() - 1;
        let (from, to) = (from.min(last - 1), to.min(last));
        let mut best = (f32::INFINITY, 0usize, 0.0f32);
        for k in from..to.max(from + 1) {
            let (a, b) = (self.points[k], self.points[k + 1]);
            let d = b - a;
            let len2 = d.dot(d).max(1e-9);
            let t = ((p - a).dot(d) / len2).clamp(0.0, 1.0);
            let dist2 = {
                let q = a + d * t;
                (p - q).dot(p - q)
            };
            if dist2 < best.0 {
                best = (dist2, k, t);
            }
        }
        let (_, k, t) = best;
        let (a, b) = (self.points[k], self.points[k + 1]);
        let d = b - a;
        let foot = a + d * t;
        let dir = d.normalized();
        Projection {
            segment: k,
            s: self.s[k] + (self.s[k + 1] - self.s[k]) * t,
            lateral: dir.cross(p - foot),
            yaw: d.yaw(),
        }
    }

    /// Project `p` onto the whole polyline.
    pub fn project(&self, p: V2) -> Projection {
        self.project_range(p, 0, self.points.len() - 1)
    }
}

/// Points every `step` m (at least 2) along a cubic Bézier curve.
pub fn cubic_bezier(p0: V2, p1: V2, p2: V2, p3: V2, step: f32) -> Vec<V2> {
    let rough = p0.dist(p1) + p1.dist(p2) + p2.dist(p3);
    let n = ((rough / step).ceil() as usize).max(1);
    (0..=n)
        .map(|k| {
            let t = k as f32 / n as f32;
            let u = 1.0 - t;
            p0 * (u * u * u) + p1 * (3.0 * u * u * t) + p2 * (3.0 * u * t * t) + p3 * (t * t * t)
        })
        .collect()
}

/// Whether two oriented boxes (centre, yaw, half length, half width) overlap
/// (separating-axis test).
pub fn boxes_overlap(a: (V2, f32, f32, f32), b: (V2, f32, f32, f32)) -> bool {
    let axes = [
        V2::from_yaw(a.1),
        V2::from_yaw(a.1).perp(),
        V2::from_yaw(b.1),
        V2::from_yaw(b.1).perp(),
    ];
    let d = b.0 - a.0;
    axes.iter().all(|axis| {
        let radius = |(_, yaw, hl, hw): (V2, f32, f32, f32)| {
            let f = V2::from_yaw(yaw);
            hl * f.dot(*axis).abs() + hw * f.perp().dot(*axis).abs()
        };
        d.dot(*axis).abs() <= radius(a) + radius(b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_gives_arc_length_and_signed_offset() {
        let line = Polyline::new(vec![
            V2::new(0.0, 0.0),
            V2::new(10.0, 0.0),
            V2::new(10.0, 10.0),
        ]);
        assert_eq!(line.length(), 20.0);
        let p = line.project(V2::new(4.0, 1.0));
        assert!((p.s - 4.0).abs() < 1e-5 && (p.lateral - 1.0).abs() < 1e-5);
        let p = line.project(V2::new(11.0, 5.0));
        assert!((p.s - 15.0).abs() < 1e-5 && (p.lateral + 1.0).abs() < 1e-5);
        let (q, yaw) = line.at(15.0);
        assert!(q.dist(V2::new(10.0, 5.0)) < 1e-5);
        assert!((yaw - std::f32::consts::FRAC_PI_2).abs() < 1e-5);
    }

    #[test]
    fn boxes_overlap_only_when_they_touch() {
        let a = (V2::new(0.0, 0.0), 0.0, 2.0, 1.0);
        assert!(boxes_overlap(a, (V2::new(3.9, 0.0), 0.0, 2.0, 1.0)));
        assert!(!boxes_overlap(a, (V2::new(4.1, 0.0), 0.0, 2.0, 1.0)));
        // Rotated 45°: its corner reaches 2.0 + 1.5·√2·… only when close.
        assert!(!boxes_overlap(a, (V2::new(3.0, 3.0), 0.785, 2.0, 1.0)));
        assert!(boxes_overlap(a, (V2::new(2.5, 1.5), 0.785, 2.0, 1.0)));
    }

    #[test]
    fn frames_and_angles() {
        let p = V2::new(1.0, 1.0).to_frame(V2::new(1.0, 0.0), std::f32::consts::FRAC_PI_2);
        assert!((p.x - 1.0).abs() < 1e-6 && p.y.abs() < 1e-6);
        assert!((wrap_angle(3.0 * std::f32::consts::PI) - std::f32::consts::PI).abs() < 1e-5);
    }
}
