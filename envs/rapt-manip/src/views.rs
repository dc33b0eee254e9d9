//! Camera views of the manipulation scene: `front` (facing the robot across the table),
//! `side` (from the robot's right) and `wrist` (on the gripper, looking down between the
//! fingers). The scene is drawn from the physics world's colliders and the arm's link
//! meshes — arm light grey, fingers dark grey, task objects red, the table light grey on
//! the RaptArm (as its reward models saw it) and wood-coloured on the Panda — plus a green
//! marker at the goal. Each robot places the front and side cameras to frame it
//! ([`crate::Robot::fixed_cameras`]).

use rapt_sim::rapier3d::prelude::{Pose, Rotation, ShapeType, Vector};
use rapt_sim::render::{self, Camera, Item, Primitive, Rgb};

use crate::robot::{RobotKind, WristCamera};
use crate::task::TaskScene;

/// The views, in order.
pub const VIEWS: [&str; 3] = ["front", "side", "wrist"];

const TABLE: Rgb = [150, 130, 110];
const ARM: Rgb = [205, 205, 210];
const FINGER: Rgb = [70, 70, 80];
/// Default colour of the task's objects.
pub const OBJECT: Rgb = [210, 40, 40];
const GOAL: Rgb = [40, 190, 60];

/// Images up to this many pixels on their longer side draw the arm's coarse meshes.
const COARSE_UP_TO: usize = 128;

/// The scene's shapes with their colours, for an image whose longer side is `size` px.
pub fn items(scene: &TaskScene, size: usize) -> Vec<Item> {
    let mut items = Vec::with_capacity(scene.world.colliders.len() + 1);
    let fingers = scene.robot.finger_bodies(&scene.arm);
    let [table_tint, arm_tint, object_tint] = scene.draws.tints;
    for (_, collider) in scene.world.colliders.iter() {
        let color = match collider.parent() {
            None => tint(TABLE, table_tint),
            Some(body) if scene.objects.contains(&body) => tint(scene.object_color, object_tint),
            Some(body) if fingers.contains(&body) => tint(FINGER, arm_tint),
            // The table is drawn in the arm's grey on the RaptArm (the frames its reward
            // models learned from), wood-coloured on the Panda.
            Some(body) if body == scene.table => match scene.robot.kind {
                RobotKind::RaptArm => tint(ARM, table_tint),
                RobotKind::Panda => tint(TABLE, table_tint),
            },
            Some(_) => tint(ARM, arm_tint),
        };
        let shape = collider.shape();
        let primitive = match shape.shape_type() {
            ShapeType::Cuboid => {
                let h = shape.as_cuboid().expect("a cuboid").half_extents;
                Primitive::Cuboid([h.x, h.y, h.z])
            }
            ShapeType::Ball => Primitive::Ball(shape.as_ball().expect("a ball").radius),
            ShapeType::Cylinder => {
                let c = shape.as_cylinder().expect("a cylinder");
                // rapier's cylinders run along local y; the rasterizer's along z.
                let pose = *collider.position()
                    * Pose::from_parts(
                        Vector::ZERO,
                        Rotation::from_rotation_x(std::f32::consts::FRAC_PI_2),
                    );
                items.push(Item {
                    primitive: Primitive::Cylinder(c.radius, c.half_height),
                    pose,
                    color,
                });
                continue;
            }
            ShapeType::Capsule => {
                let c = shape.as_capsule().expect("a capsule");
                Primitive::Ball(c.radius + 0.5 * c.height())
            }
            // Link meshes (convex hulls) are drawn from their source triangles below.
            _ => continue,
        };
        items.push(Item {
            primitive,
            pose: *collider.position(),
            color,
        });
    }
    for (body, link) in scene.arm.meshes() {
        let mesh = if size <= COARSE_UP_TO {
            &link.coarse
        } else {
            &link.mesh
        };
        items.push(Item {
            primitive: Primitive::Mesh(mesh.clone()),
            pose: *scene.world.bodies[body].position() * link.local,
            color: tint(ARM, arm_tint),
        });
    }
    items.push(Item {
        primitive: Primitive::Ball(0.025),
        pose: Pose::from_parts(scene.goal, Rotation::IDENTITY),
        color: GOAL,
    });
    items
}

/// `color` scaled per channel by `factor` (domain randomization's colour jitter).
fn tint(color: Rgb, factor: [f32; 3]) -> Rgb {
    if factor == [1.0; 3] {
        return color;
    }
    [0, 1, 2].map(|k| (f32::from(color[k]) * factor[k]).clamp(0.0, 255.0) as u8)
}

/// The camera of `view`, or `None` for an unknown view (its pose jittered by this
/// episode's draws).
pub fn camera(scene: &TaskScene, view: &str, width: usize, height: usize) -> Option<Camera> {
    let [front, side] = scene.robot.fixed_cameras;
    let (eye, target, up, fov) = match view {
        "front" => (front[0], front[1], [0.0, 0.0, 1.0], 0.9),
        "side" => (side[0], side[1], [0.0, 0.0, 1.0], 0.9),
        "wrist" => {
            // On the hand, looking down past the fingers (the gripper points down).
            let robot = scene.robot;
            let tcp = scene.tcp();
            let eye = match robot.wrist_camera {
                WristCamera::AboveTcp(height) => tcp + Vector::new(0.0, 0.0, height),
                WristCamera::OnHand(at) => scene
                    .arm
                    .link_pose(&scene.world, robot.hand_link)
                    .transform_point(at),
            };
            (
                [eye.x, eye.y, eye.z],
                [tcp.x + 0.02, tcp.y, tcp.z - 0.3],
                [1.0, 0.0, 0.0],
                1.3,
            )
        }
        _ => return None,
    };
    let index = VIEWS.iter().position(|v| *v == view).expect("a known view");
    let [de, dt] = scene.draws.camera_offsets[index];
    let add = |p: [f32; 3], d: [f32; 3]| [p[0] + d[0], p[1] + d[1], p[2] + d[2]];
    Some(Camera::look_at(
        add(eye, de),
        add(target, dt),
        up,
        fov,
        (width, height),
    ))
}

/// Render `view` of `scene` into `rgb`; false for an unknown view.
pub fn render_view(
    scene: &TaskScene,
    view: &str,
    width: usize,
    height: usize,
    rgb: &mut Vec<u8>,
) -> bool {
    let Some(camera) = camera(scene, view, width, height) else {
        return false;
    };
    let light = render::Light {
        direction: scene.draws.light_direction,
        color: scene.draws.light_color,
    };
    render::render_rgb_lit(&camera, &items(scene, width.max(height)), &light, rgb);
    true
}
