//! The bird's-eye raster: a static top-down image of each map (drivable area, lane
//! markings), built once, and the ego-centred observation cut from it each step with the
//! route, the other vehicles and the traffic lights drawn on top (CaRL/Roach-style).

use serde::{Deserialize, Serialize};

use crate::geom::{Polyline, V2};
use crate::map::{LightState, RoadMap};

/// Channels of the raster observation, in order.
pub const CHANNELS: [&str; 6] = [
    "drivable",
    "route",
    "lane_markings",
    "vehicles",
    "pedestrians",
    "lights",
];

/// Size and scale of the raster observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RasterConfig {
    /// Pixels per side (default 64; up to 256 as CaRL).
    pub size: usize,
    /// Metres per pixel (default 0.5).
    pub resolution: f32,
    /// Pixels from the bottom edge to the ego (default 16: 24 m ahead, 8 m behind).
    pub ego_from_bottom: usize,
}

impl Default for RasterConfig {
    fn default() -> Self {
        Self {
            size: 64,
            resolution: 0.5,
            ego_from_bottom: 16,
        }
    }
}

/// The static layers of a map at 0.5 m per pixel.
#[derive(Debug, Clone)]
pub struct StaticRaster {
    origin: V2,
    res: f32,
    width: usize,
    height: usize,
    /// 1 where a vehicle may drive.
    drivable: Vec<u8>,
    /// 255 on solid markings (between directions), 127 on broken ones (between lanes of
    /// one direction).
    markings: Vec<u8>,
}

/// A stop line at the end of a lane with a light.
#[derive(Debug, Clone, Copy)]
pub struct StopLine {
    /// Centre of the line, m.
    pub at: V2,
    /// Direction of travel, rad.
    pub yaw: f32,
    /// Half the lane width, m.
    pub half_width: f32,
    /// The light, as (node, approach).
    pub light: (usize, usize),
}

impl StaticRaster {
    /// Rasterize `map`.
    pub fn build(map: &RoadMap) -> Self {
        let res = 0.5;
        let width = ((map.max.x - map.min.x) / res).ceil() as usize + 1;
        let height = ((map.max.y - map.min.y) / res).ceil() as usize + 1;
        let mut r = Self {
            origin: map.min,
            res,
            width,
            height,
            drivable: vec![0; width * height],
            markings: vec![0; width * height],
        };
        for lane in &map.lanes {
            let radius = 0.5 * lane.width + 0.15;
            for w in lane.centre.points.windows(2) {
                r.capsule(w[0], w[1], radius, 1, Layer::Drivable);
            }
        }
        for n in &map.nodes {
            r.capsule(n.centre, n.centre, n.radius, 1, Layer::Drivable);
        }
        for m in map.roads.iter().flat_map(|road| &road.markings) {
            if m.broken {
                r.line(&m.line, m.offset, Some(3.0), 127);
            } else {
                r.line(&m.line, m.offset, None, 255);
            }
        }
        r
    }

    fn index(&self, p: V2) -> Option<usize> {
        let x = ((p.x - self.origin.x) / self.res).floor();
        let y = ((p.y - self.origin.y) / self.res).floor();
        (x >= 0.0 && y >= 0.0 && (x as usize) < self.width && (y as usize) < self.height)
            .then(|| y as usize * self.width + x as usize)
    }

    /// Whether `p` is on the drivable area.
    pub fn is_drivable(&self, p: V2) -> bool {
        self.index(p).is_some_and(|k| self.drivable[k] != 0)
    }

    /// The marking at `p`: 255 solid, 127 broken, 0 none.
    pub fn marking_at(&self, p: V2) -> u8 {
        self.index(p).map_or(0, |k| self.markings[k])
    }

    fn capsule(&mut self, a: V2, b: V2, radius: f32, value: u8, layer: Layer) {
        let lo = V2::new(a.x.min(b.x) - radius, a.y.min(b.y) - radius);
        let hi = V2::new(a.x.max(b.x) + radius, a.y.max(b.y) + radius);
        let to_px = |v: f32, o: f32| ((v - o) / self.res).floor().max(0.0) as usize;
        let (x0, y0) = (to_px(lo.x, self.origin.x), to_px(lo.y, self.origin.y));
        let x1 = to_px(hi.x, self.origin.x).min(self.width - 1);
        let y1 = to_px(hi.y, self.origin.y).min(self.height - 1);
        let d = b - a;
        let len2 = d.dot(d).max(1e-9);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let p = V2::new(
                    self.origin.x + (x as f32 + 0.5) * self.res,
                    self.origin.y + (y as f32 + 0.5) * self.res,
                );
                let t = ((p - a).dot(d) / len2).clamp(0.0, 1.0);
                if p.dist(a + d * t) <= radius {
                    let k = y * self.width + x;
                    match layer {
                        Layer::Drivable => self.drivable[k] = value,
                        Layer::Markings => self.markings[k] = self.markings[k].max(value),
                    }
                }
            }
        }
    }

    /// A marking along `centre` offset sideways by `offset` m; dashed 3 m on / 3 m off
    /// when `dash` is set.
    fn line(&mut self, centre: &Polyline, offset: f32, dash: Option<f32>, value: u8) {
        let n = centre.points.len();
        for k in 0..n - 1 {
            if let Some(len) = dash
                && (centre.s[k] / len) as usize % 2 == 1
            {
                continue;
            }
            let dir = (centre.points[k + 1] - centre.points[k]).normalized();
            let shift = dir.perp() * offset;
            self.capsule(
                centre.points[k] + shift,
                centre.points[k + 1] + shift,
                0.3,
                value,
                Layer::Markings,
            );
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Layer {
    Drivable,
    Markings,
}

/// What the dynamic layers need to know about one other vehicle.
#[derive(Debug, Clone, Copy)]
pub struct VehicleShape {
    /// Centre, m.
    pub at: V2,
    /// Heading, rad.
    pub yaw: f32,
    /// Half length and half width, m.
    pub half: (f32, f32),
    /// Speed, m/s.
    pub speed: f32,
}

/// Everything drawn into one observation.
#[derive(Debug)]
pub struct RasterScene<'a> {
    /// The map's static layers.
    pub raster: &'a StaticRaster,
    /// Ego position and heading.
    pub ego: (V2, f32),
    /// The route's line and the arc length the ego has reached.
    pub route: (&'a Polyline, f32),
    /// Other vehicles.
    pub vehicles: &'a [VehicleShape],
    /// Pedestrians' positions.
    pub pedestrians: &'a [V2],
    /// Stop lines with their states.
    pub stop_lines: &'a [(StopLine, LightState)],
}

/// Render `scene` into `out` (`CHANNELS.len() × size × size`, channel-major, values in
/// [0, 1]): forward is up, the ego `ego_from_bottom` pixels above the bottom edge, centred.
pub fn render(config: &RasterConfig, scene: &RasterScene<'_>, out: &mut [f32]) {
    let n = config.size;
    let plane = n * n;
    debug_assert_eq!(out.len(), CHANNELS.len() * plane);
    out.fill(0.0);
    let (ego, yaw) = scene.ego;
    let res = config.resolution;
    let forward = V2::from_yaw(yaw) * res;
    let left = V2::from_yaw(yaw).perp() * res;
    let ego_row = (n - 1 - config.ego_from_bottom) as f32;
    let ego_col = (n as f32 - 1.0) * 0.5;
    // Pixel (row, col) centre: ego + forward·(ego_row − row) + left·(ego_col − col).
    let r = scene.raster;
    for row in 0..n {
        let mut p = ego + forward * (ego_row - row as f32) + left * ego_col;
        for col in 0..n {
            if let Some(k) = r.index(p) {
                out[row * n + col] = f32::from(r.drivable[k]);
                out[2 * plane + row * n + col] = f32::from(r.markings[k]) / 255.0;
            }
            p = p - left;
        }
    }
    let to_px = |q: V2| -> (f32, f32) {
        let local = q.to_frame(ego, yaw);
        (ego_row - local.x / res, ego_col - local.y / res)
    };
    let reach = n as f32 * res * 1.5;
    let mut canvas = Canvas { out, n };
    // Route: from 4 m behind the ego to the edge, 3 px wide.
    let (line, s_now) = scene.route;
    let from = line.s.partition_point(|&s| s < s_now - 4.0);
    for (p, &s) in line.points[from..].iter().zip(&line.s[from..]) {
        if s > s_now + reach {
            break;
        }
        canvas.stamp(1, to_px(*p), 1.5, 1.0);
    }
    // Vehicles: speed-coded rectangles.
    for v in scene.vehicles {
        if v.at.dist(ego) > reach {
            continue;
        }
        let value = (0.5 + 0.5 * v.speed / 15.0).clamp(0.5, 1.0);
        canvas.fill_box(3, v, &to_px, res, value);
    }
    // Pedestrians: 1 m squares.
    for p in scene.pedestrians {
        if p.dist(ego) <= reach {
            canvas.stamp(4, to_px(*p), 1.0 / res, 1.0);
        }
    }
    // Stop lines.
    for (line, state) in scene.stop_lines {
        if line.at.dist(ego) > reach {
            continue;
        }
        let value = match state {
            LightState::Red => 1.0,
            LightState::Yellow => 0.66,
            LightState::Green => 0.33,
        };
        let across = V2::from_yaw(line.yaw).perp();
        let steps = (2.0 * line.half_width / (0.5 * res)).ceil() as usize;
        for k in 0..=steps {
            let q = line.at
                + across * (-line.half_width + 2.0 * line.half_width * k as f32 / steps as f32);
            canvas.stamp(5, to_px(q), 1.0, value);
        }
    }
}

/// The dynamic layers being drawn: channel-major planes of `n × n` pixels.
struct Canvas<'a> {
    out: &'a mut [f32],
    n: usize,
}

impl Canvas<'_> {
    fn raise(&mut self, channel: usize, r: usize, c: usize, value: f32) {
        let k = channel * self.n * self.n + r * self.n + c;
        self.out[k] = self.out[k].max(value);
    }

    /// Set a `size`-px square around (py, px) in `channel` to at least `value`.
    fn stamp(&mut self, channel: usize, (py, px): (f32, f32), size: f32, value: f32) {
        let n = self.n;
        let half = size * 0.5;
        let (r0, r1) = ((py - half).round(), (py + half).round());
        let (c0, c1) = ((px - half).round(), (px + half).round());
        if r1 < 0.0 || c1 < 0.0 || r0 >= n as f32 || c0 >= n as f32 {
            return;
        }
        for r in r0.max(0.0) as usize..=(r1 as usize).min(n - 1) {
            for c in c0.max(0.0) as usize..=(c1 as usize).min(n - 1) {
                self.raise(channel, r, c, value);
            }
        }
    }

    /// Fill vehicle `v`'s box in `channel` with at least `value`; `to_px` maps world to
    /// (row, column), `res` is metres per pixel.
    fn fill_box(
        &mut self,
        channel: usize,
        v: &VehicleShape,
        to_px: &dyn Fn(V2) -> (f32, f32),
        res: f32,
        value: f32,
    ) {
        let n = self.n;
        let (hl, hw) = v.half;
        let f = V2::from_yaw(v.yaw);
        let l = f.perp();
        let corners = [
            v.at + f * hl + l * hw,
            v.at + f * hl - l * hw,
            v.at - f * hl + l * hw,
            v.at - f * hl - l * hw,
        ]
        .map(to_px);
        let (mut r0, mut r1, mut c0, mut c1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for (r, c) in corners {
            (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
        }
        if r1 < 0.0 || c1 < 0.0 || r0 >= n as f32 || c0 >= n as f32 {
            return;
        }
        let centre = to_px(v.at);
        // The vehicle's unit axes in pixel offsets (each 1/res px long).
        let axis = |d: V2| {
            let a = to_px(v.at + d);
            (a.0 - centre.0, a.1 - centre.1)
        };
        let ((fx, fy), (lx, ly)) = (axis(f), axis(l));
        let (hl_px, hw_px) = (hl / res, hw / res);
        for r in r0.floor().max(0.0) as usize..=(r1.ceil() as usize).min(n - 1) {
            for c in c0.floor().max(0.0) as usize..=(c1.ceil() as usize).min(n - 1) {
                let (dr, dc) = (r as f32 - centre.0, c as f32 - centre.1);
                let along = (dr * fx + dc * fy) * res;
                let side = (dr * lx + dc * ly) * res;
                if along.abs() <= hl_px + 0.5 && side.abs() <= hw_px + 0.5 {
                    self.raise(channel, r, c, value);
                }
            }
        }
    }
}
