//! Camera views of the driving scene: `chase` (behind and above the ego) and `top_down`
//! (40 m above it, heading up). Drawn with the CPU rasterizer: grass, road surface as
//! flat strips, the route as a green strip (top-down only), the ego red, traffic blue,
//! pedestrians orange, and a light beside each stop line in its current colour. Only
//! what lies within 80 m of the ego is drawn.
//!
//! And `map`: the whole town from above, north up, from the map's static raster (drivable
//! area grey, markings white), with the route, every light at its stop line, the traffic
//! and the ego (magenta) — a picture of the map rather than an observation.

use rapt_sim::rapier3d::prelude::{Pose, Rotation, Vector};
use rapt_sim::render::{Camera, Item, Primitive, Rgb};

use crate::built::BuiltMap;
use crate::geom::V2;
use crate::map::LightState;
use crate::pedestrians::Pedestrian;
use crate::route::Route;
use crate::traffic::{CAR_HALF, Traffic};

/// The views, in order.
pub const VIEWS: [&str; 3] = ["chase", "top_down", "map"];

const GRASS: Rgb = [96, 140, 80];
const ROAD: Rgb = [70, 70, 75];
const ROUTE: Rgb = [60, 200, 90];
const EGO: Rgb = [220, 40, 40];
const CAR: Rgb = [50, 90, 200];
const WALKER: Rgb = [240, 150, 30];
const RANGE: f32 = 80.0;

fn pose(at: V2, z: f32, yaw: f32) -> Pose {
    Pose::from_parts(Vector::new(at.x, at.y, z), Rotation::from_rotation_z(yaw))
}

/// A flat strip from `a` to `b`, `width` m wide, its top at height `z`.
fn strip(a: V2, b: V2, width: f32, z: f32, color: Rgb) -> Item {
    let d = b - a;
    Item {
        primitive: Primitive::Cuboid([0.5 * d.length() + 0.3, 0.5 * width, 0.01]),
        pose: pose((a + b) * 0.5, z - 0.01, d.yaw()),
        color,
    }
}

/// The scene around the ego at `ego` (position, heading).
pub fn items(
    map: &BuiltMap,
    route: Option<&Route>,
    traffic: &Traffic,
    peds: &[Pedestrian],
    ego: (V2, f32),
    t: f32,
) -> Vec<Item> {
    let near = |p: V2| p.dist(ego.0) < RANGE;
    let mut items = vec![Item {
        primitive: Primitive::Cuboid([RANGE * 1.5, RANGE * 1.5, 0.05]),
        pose: pose(ego.0, -0.06, 0.0),
        color: GRASS,
    }];
    for lane in &map.map.lanes {
        let p = &lane.centre.points;
        let mut k = 0;
        while k + 1 < p.len() {
            let next = (k + 4).min(p.len() - 1);
            if near(p[k]) || near(p[next]) {
                items.push(strip(p[k], p[next], lane.width, 0.0, ROAD));
            }
            k = next;
        }
    }
    if let Some(route) = route {
        let p = &route.line.points;
        let mut k = 0;
        while k + 1 < p.len() {
            let next = (k + 4).min(p.len() - 1);
            if near(p[k]) {
                items.push(strip(p[k], p[next], 1.0, 0.02, ROUTE));
            }
            k = next;
        }
    }
    for line in &map.stop_lines {
        if !near(line.at) {
            continue;
        }
        let color = match map.map.light_state(line.light, t) {
            LightState::Green => [40, 220, 60],
            LightState::Yellow => [240, 210, 40],
            LightState::Red => [230, 30, 30],
        };
        let side = line.at + V2::from_yaw(line.yaw).perp() * -(line.half_width + 0.8);
        items.push(Item {
            primitive: Primitive::Cuboid([0.25, 0.25, 1.5]),
            pose: pose(side, 1.5, line.yaw),
            color,
        });
    }
    for car in traffic.cars.iter().filter(|c| near(c.pose.0)) {
        items.push(Item {
            primitive: Primitive::Cuboid([CAR_HALF.0, CAR_HALF.1, 0.75]),
            pose: pose(car.pose.0, 0.75, car.pose.1),
            color: CAR,
        });
    }
    for p in peds.iter().filter(|p| near(p.at)) {
        items.push(Item {
            primitive: Primitive::Cylinder(0.3, 0.9),
            pose: pose(p.at, 0.9, 0.0),
            color: WALKER,
        });
    }
    items.push(Item {
        primitive: Primitive::Cuboid([2.25, 0.95, 0.75]),
        pose: pose(ego.0, 0.75, ego.1),
        color: EGO,
    });
    items
}

/// The camera of `view` for the ego at `ego`, or `None` for an unknown view.
pub fn camera(view: &str, ego: (V2, f32), width: usize, height: usize) -> Option<Camera> {
    let (at, yaw) = ego;
    let f = V2::from_yaw(yaw);
    let (eye, target, up, fov) = match view {
        "chase" => {
            let eye = at - f * 9.0;
            let target = at + f * 8.0;
            (
                [eye.x, eye.y, 4.5],
                [target.x, target.y, 0.0],
                [0.0, 0.0, 1.0],
                1.0,
            )
        }
        "top_down" => {
            let ahead = at + f * 8.0;
            (
                [ahead.x, ahead.y, 45.0],
                [ahead.x, ahead.y, 0.0],
                [f.x, f.y, 0.0],
                0.75,
            )
        }
        _ => return None,
    };
    Some(Camera::look_at(eye, target, up, fov, (width, height)))
}

/// Draw the whole map into `rgb` (`width` × `height`, RGB8), north up, scaled to fit.
#[allow(clippy::too_many_arguments)]
pub fn draw_map(
    map: &BuiltMap,
    route: &Route,
    traffic: &Traffic,
    peds: &[Pedestrian],
    ego: (V2, f32),
    t: f32,
    (width, height): (usize, usize),
    rgb: &mut Vec<u8>,
) {
    let (lo, hi) = (map.map.min, map.map.max);
    let scale = ((hi.x - lo.x) / width as f32).max((hi.y - lo.y) / height as f32);
    let centre = (lo + hi) * 0.5;
    let world = |x: usize, y: usize| {
        V2::new(
            centre.x + (x as f32 + 0.5 - 0.5 * width as f32) * scale,
            centre.y - (y as f32 + 0.5 - 0.5 * height as f32) * scale,
        )
    };
    rgb.clear();
    rgb.resize(width * height * 3, 0);
    for y in 0..height {
        for x in 0..width {
            let p = world(x, y);
            // Markings a pixel wide at least: the brightest of five samples.
            let h = 0.5 * scale;
            let marking = [
                V2::new(0.0, 0.0),
                V2::new(h, 0.0),
                V2::new(-h, 0.0),
                V2::new(0.0, h),
                V2::new(0.0, -h),
            ]
            .iter()
            .map(|d| map.raster.marking_at(p + *d))
            .max()
            .unwrap_or(0);
            let color = match marking {
                255 => [235, 235, 235],
                127 => [170, 170, 170],
                _ if map.raster.is_drivable(p) => ROAD,
                _ => GRASS,
            };
            rgb[(y * width + x) * 3..][..3].copy_from_slice(&color);
        }
    }
    // Boxes at least 1.5 px across so they show at any size.
    let mut fill = |at: V2, yaw: f32, half: (f32, f32), color: Rgb| {
        let half = (half.0.max(0.75 * scale), half.1.max(0.75 * scale));
        let r = half.0.hypot(half.1);
        let to_px = |v: V2| {
            (
                (v.x - centre.x) / scale + 0.5 * width as f32,
                (centre.y - v.y) / scale + 0.5 * height as f32,
            )
        };
        let (cx, cy) = to_px(at);
        let (x0, x1) = (
            (cx - r / scale).floor().max(0.0) as usize,
            (cx + r / scale).ceil(),
        );
        let (y0, y1) = (
            (cy - r / scale).floor().max(0.0) as usize,
            (cy + r / scale).ceil(),
        );
        for y in y0..(y1.max(0.0) as usize).min(height) {
            for x in x0..(x1.max(0.0) as usize).min(width) {
                let local = world(x, y).to_frame(at, yaw);
                if local.x.abs() <= half.0 && local.y.abs() <= half.1 {
                    rgb[(y * width + x) * 3..][..3].copy_from_slice(&color);
                }
            }
        }
    };
    let p = &route.line.points;
    for w in p.windows(2) {
        let d = w[1] - w[0];
        fill((w[0] + w[1]) * 0.5, d.yaw(), (0.5 * d.length(), 0.8), ROUTE);
    }
    for line in &map.stop_lines {
        let color = match map.map.light_state(line.light, t) {
            LightState::Green => [40, 220, 60],
            LightState::Yellow => [240, 210, 40],
            LightState::Red => [230, 30, 30],
        };
        fill(line.at, line.yaw, (1.2, line.half_width), color);
    }
    for car in &traffic.cars {
        fill(car.pose.0, car.pose.1, CAR_HALF, CAR);
    }
    for p in peds {
        fill(p.at, 0.0, (0.5, 0.5), WALKER);
    }
    // The ego larger and magenta here, apart from the red lights.
    fill(ego.0, ego.1, (3.5, 1.75), [230, 40, 230]);
}
