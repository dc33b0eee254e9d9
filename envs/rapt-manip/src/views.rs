//! Camera views of the manipulation scene: `front` (facing the robot across the table),
//! `side` (from the robot's right) and `wrist` (on the gripper, looking down between the
//! fingers). The scene is drawn from the physics world's colliders — table grey-brown,
//! arm light grey, fingers dark grey, task objects red — plus a green marker at the goal.

use rapt_sim::rapier3d::prelude::{Pose, Rotation, ShapeType, Vector};
use rapt_sim::render::{self, Camera, Item, Primitive, Rgb};

use crate::robot;
use crate::task::TaskScene;

/// The views, in order.
pub const VIEWS: [&str; 3] = ["front", "side", "wrist"];

const TABLE: Rgb = [150, 130, 110];
const ARM: Rgb = [205, 205, 210];
const FINGER: Rgb = [70, 70, 80];
/// Default colour of the task's objects.
pub const OBJECT: Rgb = [210, 40, 40];
const GOAL: Rgb = [40, 190, 60];

/// The scene's shapes with their colours.
pub fn items(scene: &TaskScene) -> Vec<Item> {
    let mut items = Vec::with_capacity(scene.world.colliders.len() + 1);
    let fingers = robot::finger_bodies(&scene.arm);
    for (_, collider) in scene.world.colliders.iter() {
        let color = match collider.parent() {
            None => TABLE,
            Some(body) if scene.objects.contains(&body) => scene.object_color,
            Some(body) if fingers.contains(&body) => FINGER,
            Some(_) => ARM,
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
            _ => continue,
        };
        items.push(Item {
            primitive,
            pose: *collider.position(),
            color,
        });
    }
    items.push(Item {
        primitive: Primitive::Ball(0.025),
        pose: Pose::from_parts(scene.goal, Rotation::IDENTITY),
        color: GOAL,
    });
    items
}

/// The camera of `view`, or `None` for an unknown view.
pub fn camera(scene: &TaskScene, view: &str, width: usize, height: usize) -> Option<Camera> {
    let (eye, target, up, fov) = match view {
        "front" => ([0.42, 0.0, 0.32], [-0.12, 0.0, 0.06], [0.0, 0.0, 1.0], 0.9),
        "side" => (
            [-0.05, -0.65, 0.35],
            [-0.05, 0.0, 0.05],
            [0.0, 0.0, 1.0],
            0.9,
        ),
        "wrist" => {
            let tcp = robot::tcp(&scene.world, &scene.arm);
            (
                [tcp.x, tcp.y, tcp.z + 0.06],
                [tcp.x + 0.02, tcp.y, tcp.z - 0.3],
                [1.0, 0.0, 0.0],
                1.3,
            )
        }
        _ => return None,
    };
    Some(Camera::look_at(eye, target, up, fov, (width, height)))
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
    render::render_rgb(&camera, &items(scene), rgb);
    true
}
