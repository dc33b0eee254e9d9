//! The tasks, one file each (copy one to write a new task).

mod insert;
mod pick_place;
mod push;
mod reach;

pub use insert::Insert;
pub use pick_place::PickPlace;
pub use push::Push;
pub use reach::Reach;

use rand::Rng as _;
use rapt_core::Rng;
use rapt_sim::rapier3d::prelude::*;

/// Half the side of the cube the object tasks use, m (a 5 cm cube).
pub const CUBE_HALF: f32 = 0.025;
/// Cube mass, kg.
pub const CUBE_MASS: f32 = 0.1;

/// Add a dynamic cube (friction 1.0) to `world`.
pub fn add_cube(world: &mut PhysicsWorld) -> RigidBodyHandle {
    let (h, _) = world.insert(
        RigidBodyBuilder::dynamic()
            .can_sleep(false)
            .angular_damping(0.5)
            .linear_damping(0.1),
        ColliderBuilder::cuboid(CUBE_HALF, CUBE_HALF, CUBE_HALF)
            .mass(CUBE_MASS)
            .friction(0.5),
    );
    h
}

/// A uniform point in the square `[-half, half]²` at height `z`.
pub fn uniform_xy(rng: &mut Rng, half: f32, z: f32) -> Vector {
    Vector::new(
        rng.random_range(-half..=half),
        rng.random_range(-half..=half),
        z,
    )
}

/// Position, rotation (quaternion x y z w), linear and angular velocity of a body.
pub fn body_state(world: &PhysicsWorld, h: RigidBodyHandle) -> (Vector, [f32; 4], Vector, Vector) {
    let b = &world.bodies[h];
    let q = b.rotation();
    (
        b.translation(),
        [q.x, q.y, q.z, q.w],
        b.linvel(),
        b.angvel(),
    )
}

/// Observation of one object and the goal: position (3), position relative to the TCP (3),
/// rotation quaternion (4), linear velocity (3), angular velocity (3), goal (3), goal
/// relative to the object (3) — 22 slots.
pub fn object_obs(
    world: &PhysicsWorld,
    h: RigidBodyHandle,
    tcp: Vector,
    goal: Vector,
    out: &mut [f32],
) {
    let (p, q, v, w) = body_state(world, h);
    let rel = p - tcp;
    let to_goal = goal - p;
    let parts: [&[f32]; 7] = [
        &[p.x, p.y, p.z],
        &[rel.x, rel.y, rel.z],
        &q,
        &[v.x, v.y, v.z],
        &[w.x, w.y, w.z],
        &[goal.x, goal.y, goal.z],
        &[to_goal.x, to_goal.y, to_goal.z],
    ];
    write_parts(out, &parts);
}

/// Copy `parts` one after another into `out`.
pub fn write_parts(out: &mut [f32], parts: &[&[f32]]) {
    let mut i = 0;
    for part in parts {
        out[i..i + part.len()].copy_from_slice(part);
        i += part.len();
    }
}

/// Length of `v` in the table plane (x, y), m.
pub fn flat(v: Vector) -> f32 {
    Vector::new(v.x, v.y, 0.0).length()
}

/// Centre of the task's first object (the cube), m.
pub fn first_object(scene: &crate::TaskScene) -> Vector {
    scene.world.bodies[scene.objects[0]].translation()
}
