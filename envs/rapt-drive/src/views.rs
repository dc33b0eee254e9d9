//! Camera views of the driving scene: `chase` (behind and above the ego) and `top_down`
//! (40 m above it, heading up). Drawn with the CPU rasterizer: grass, road surface as
//! flat strips, the route as a green strip (top-down only), the ego red, traffic blue,
//! pedestrians orange, and a light beside each stop line in its current colour. Only
//! what lies within 80 m of the ego is drawn.

use rapt_sim::rapier3d::prelude::{Pose, Rotation, Vector};
use rapt_sim::render::{Camera, Item, Primitive, Rgb};

use crate::built::BuiltMap;
use crate::geom::V2;
use crate::map::LightState;
use crate::pedestrians::Pedestrian;
use crate::route::Route;
use crate::traffic::{CAR_HALF, Traffic};

/// The views, in order.
pub const VIEWS: [&str; 2] = ["chase", "top_down"];

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
