//! Evaluating a road's reference line and lane boundaries at a given `s` (f64, metres).

use super::parse::{Cubic, Geometry, LaneDef, RoadDef, SectionDef, Shape, piecewise};

/// A point on a reference line: position (m) and heading (rad).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// East, m.
    pub x: f64,
    /// North, m.
    pub y: f64,
    /// Heading, rad.
    pub hdg: f64,
}

impl Pose {
    /// The point `t` m to the left (negative: right).
    pub fn offset(&self, t: f64) -> (f64, f64) {
        (self.x - t * self.hdg.sin(), self.y + t * self.hdg.cos())
    }
}

/// Composite Simpson's rule over [0, ds] of (cos θ(u), sin θ(u)), with intervals of at
/// most 0.1 m.
fn integrate_heading(ds: f64, theta: impl Fn(f64) -> f64) -> (f64, f64) {
    if ds <= 0.0 {
        return (0.0, 0.0);
    }
    let n = 2 * ((ds / 0.2).ceil() as usize).max(1);
    let h = ds / n as f64;
    let (mut x, mut y) = (0.0, 0.0);
    for k in 0..=n {
        let w = if k == 0 || k == n {
            1.0
        } else if k % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let (s, c) = theta(k as f64 * h).sin_cos();
        x += w * c;
        y += w * s;
    }
    (x * h / 3.0, y * h / 3.0)
}

fn cubic(c: &[f64; 4], p: f64) -> f64 {
    c[0] + p * (c[1] + p * (c[2] + p * c[3]))
}

fn cubic_slope(c: &[f64; 4], p: f64) -> f64 {
    c[1] + p * (2.0 * c[2] + p * 3.0 * c[3])
}

impl Geometry {
    /// The pose `ds` m along this piece (0 ≤ ds ≤ length).
    pub fn pose(&self, ds: f64) -> Pose {
        let (sin, cos) = self.hdg.sin_cos();
        let local = |u: f64, v: f64, dir: f64| Pose {
            x: self.x + u * cos - v * sin,
            y: self.y + u * sin + v * cos,
            hdg: self.hdg + dir,
        };
        match &self.shape {
            Shape::Line => local(ds, 0.0, 0.0),
            Shape::Arc(k) if k.abs() < 1e-12 => local(ds, 0.0, 0.0),
            Shape::Arc(k) => {
                let a = k * ds;
                local(a.sin() / k, (1.0 - a.cos()) / k, a)
            }
            Shape::Spiral(k0, k1) => {
                let rate = if self.length > 0.0 {
                    (k1 - k0) / self.length
                } else {
                    0.0
                };
                let theta = |u: f64| u * (k0 + 0.5 * rate * u);
                let (u, v) = integrate_heading(ds, theta);
                local(u, v, theta(ds))
            }
            Shape::Poly3(c) => {
                // Arc length to u: walk along u in 5 cm steps (midpoint rule on
                // sqrt(1 + v'^2)), then interpolate within the last step.
                let (mut u, mut s) = (0.0, 0.0);
                let du = 0.05;
                while s < ds {
                    let slope = cubic_slope(c, u + 0.5 * du);
                    let step = du * (1.0 + slope * slope).sqrt();
                    if s + step >= ds {
                        u += du * (ds - s) / step;
                        break;
                    }
                    s += step;
                    u += du;
                }
                local(u, cubic(c, u), cubic_slope(c, u).atan())
            }
            Shape::ParamPoly3 { u, v, normalized } => {
                // s is arc length along the curve, which p is not in general: walk p in
                // steps of about 5 cm of curve (midpoint rule on |(u', v')|) to arc length
                // ds, then interpolate within the last step.
                let p_end = if *normalized { 1.0 } else { self.length };
                let n = ((self.length / 0.05).ceil() as usize).max(8);
                let dp = p_end / n as f64;
                let (mut p, mut s) = (0.0, 0.0);
                for k in 0..n {
                    if s >= ds {
                        break;
                    }
                    let m = (k as f64 + 0.5) * dp;
                    let step = dp * cubic_slope(u, m).hypot(cubic_slope(v, m));
                    if s + step >= ds {
                        p = k as f64 * dp + dp * (ds - s) / step.max(1e-12);
                        break;
                    }
                    s += step;
                    p = (k + 1) as f64 * dp;
                }
                let p = p.min(p_end);
                let dir = cubic_slope(v, p).atan2(cubic_slope(u, p));
                local(cubic(u, p), cubic(v, p), dir)
            }
        }
    }
}

/// The reference line of `road` at `s` (clamped to the road).
pub fn reference(road: &RoadDef, s: f64) -> Pose {
    let s = s.clamp(0.0, road.length);
    let k = road.geometries.partition_point(|g| g.s <= s + 1e-9).max(1) - 1;
    let g = &road.geometries[k];
    g.pose((s - g.s).clamp(0.0, g.length))
}

/// Curvature of the reference line at `s`, 1/m (estimated from headings 0.1 m apart).
pub fn curvature(road: &RoadDef, s: f64) -> f64 {
    let (a, b) = ((s - 0.05).max(0.0), (s + 0.05).min(road.length));
    if b - a < 1e-6 {
        return 0.0;
    }
    let d = reference(road, b).hdg - reference(road, a).hdg;
    let d = (d + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI;
    d / (b - a)
}

/// Width of `lane` at road `s` in a section starting at `section_s`, m (never negative).
pub fn width(lane: &LaneDef, section_s: f64, s: f64) -> f64 {
    piecewise(&lane.widths, s - section_s).max(0.0)
}

/// Lateral position of the lane-offset line (the centre lane) at `s`, m.
pub fn lane_offset(offsets: &[Cubic], s: f64) -> f64 {
    piecewise(offsets, s)
}

/// Lateral extent (inner, outer) of lane `id` at `s`: distances from the reference line,
/// m, positive to the left.
pub fn lane_bounds(road: &RoadDef, section: &SectionDef, id: i32, s: f64) -> (f64, f64) {
    let mut t = lane_offset(&road.lane_offsets, s);
    let sign = if id > 0 { 1.0 } else { -1.0 };
    for k in 1..id.abs() {
        if let Some(l) = section.lanes.iter().find(|l| l.id == sign as i32 * k) {
            t += sign * width(l, section.s, s);
        }
    }
    let own = section
        .lanes
        .iter()
        .find(|l| l.id == id)
        .map_or(0.0, |l| width(l, section.s, s));
    (t, t + sign * own)
}
