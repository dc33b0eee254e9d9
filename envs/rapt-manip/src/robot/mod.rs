//! The robot every manipulation task uses: `assets/robots/rapt_arm.urdf`, its home pose,
//! tool centre point, workspace and Cartesian control.

use std::f32::consts::PI;
use std::sync::OnceLock;

use rapt_sim::rapier3d::prelude::*;
use rapt_sim::{Arm, ArmModel};

/// The arm's URDF, compiled in so envs need no files at run time.
pub const URDF: &str = include_str!("../../../assets/robots/rapt_arm.urdf");
/// Base of the arm on the table, m (the table top is z = 0).
pub const BASE: [f32; 3] = [-0.40, 0.0, 0.0];
/// Joint positions at reset: gripper 5 cm in front of the base... above the table centre,
/// pointing down, fingers open (rad, rad, rad, rad, rad, rad, m, m).
pub const HOME: [f32; 8] = [0.0, 0.552, 1.496, 1.093, 0.0, 0.0, 0.04, 0.04];
/// Arm joints (the first six); the last two are the fingers.
pub const ARM_JOINTS: usize = 6;
/// Index of the hand link in URDF order.
pub const HAND_LINK: usize = 6;
/// Indices of the finger links in URDF order.
pub const FINGER_LINKS: [usize; 2] = [7, 8];
/// Friction coefficient of the finger pads.
pub const FINGER_FRICTION: f32 = 1.0;
/// Tool centre point: between the finger pads, this far from the hand frame along its +z, m.
pub const TCP_OFFSET: f32 = 0.045;
/// Largest opening of each finger, m (URDF limit).
pub const FINGER_OPEN: f32 = 0.045;
/// Cartesian step per unit action per control step, m (Fetch's 0.05).
pub const ACTION_SCALE: f32 = 0.05;
/// Joint step per unit action per control step in joint-delta mode, rad.
pub const JOINT_ACTION_SCALE: f32 = 0.1;
/// Where the tool centre point may be commanded, m: x, y, z ranges.
pub const WORKSPACE: [[f32; 2]; 3] = [[-0.25, 0.25], [-0.25, 0.25], [0.03, 0.40]];

/// The parsed arm, shared by every env in the process.
pub fn model() -> &'static ArmModel {
    static MODEL: OnceLock<ArmModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        ArmModel::from_urdf_str("assets/robots/rapt_arm.urdf", URDF)
            .expect("the bundled URDF is valid (tested)")
    })
}

/// The hand orientation that points the gripper straight down (hand +z = world -z).
pub fn down() -> Rotation {
    Rotation::from_rotation_y(PI)
}

/// Insert the arm at home into `world`.
pub fn insert(world: &mut PhysicsWorld) -> Arm {
    let base = Pose::from_translation(Vector::new(BASE[0], BASE[1], BASE[2]));
    let arm = model().insert(world, base, &HOME, Default::default());
    // Rubber finger pads: friction 1.0 (rapier's default of 0.5 lets a squeezed cube slide).
    for link in [FINGER_LINKS[0], FINGER_LINKS[1]] {
        let body = arm.link_body(link);
        let colliders: Vec<ColliderHandle> = world.bodies[body].colliders().to_vec();
        for c in colliders {
            let collider = &mut world.colliders[c];
            collider.set_friction(FINGER_FRICTION);
            // Rubber decides the grip: the pad's coefficient wins over the object's.
            collider.set_friction_combine_rule(CoefficientCombineRule::Max);
        }
    }
    arm
}

/// Tool-centre-point position, m.
pub fn tcp(world: &PhysicsWorld, arm: &Arm) -> Vector {
    let hand = arm.link_pose(world, HAND_LINK);
    hand.transform_point(Vector::new(0.0, 0.0, TCP_OFFSET))
}

/// Tool-centre-point velocity, m/s.
pub fn tcp_velocity(world: &PhysicsWorld, arm: &Arm) -> Vector {
    let body = &world.bodies[arm.link_body(HAND_LINK)];
    body.velocity_at_point(tcp(world, arm))
}

/// Clamp a TCP target into the workspace.
pub fn clamp_to_workspace(p: Vector) -> Vector {
    Vector::new(
        p.x.clamp(WORKSPACE[0][0], WORKSPACE[0][1]),
        p.y.clamp(WORKSPACE[1][0], WORKSPACE[1][1]),
        p.z.clamp(WORKSPACE[2][0], WORKSPACE[2][1]),
    )
}

/// Set arm motor targets so that the TCP goes to `target` pointing down, by DLS IK from
/// the current configuration.
pub fn command_tcp(world: &mut PhysicsWorld, arm: &Arm, target: Vector) {
    let rot = down();
    let hand_target = Pose::from_parts(target - rot * Vector::new(0.0, 0.0, TCP_OFFSET), rot);
    let mut q = [0.0; 8];
    arm.solve_ik(world, HAND_LINK, &hand_target, ARM_JOINTS, &mut q);
    arm.set_targets(world, 0, &q[..ARM_JOINTS]);
}

/// Set both finger targets from a gripper action in [-1, 1] (-1 closed, 1 open).
pub fn command_gripper(world: &mut PhysicsWorld, arm: &Arm, action: f32) {
    let opening = (action.clamp(-1.0, 1.0) + 1.0) * 0.5 * FINGER_OPEN;
    arm.set_targets(world, ARM_JOINTS, &[opening, opening]);
}

/// The bodies of the two fingers.
pub fn finger_bodies(arm: &Arm) -> [RigidBodyHandle; 2] {
    FINGER_LINKS.map(|i| arm.link_body(i))
}

/// Normal force each finger presses on `body` with in the last physics step, N (the
/// contact impulses between the finger's and the body's colliders over the step length);
/// 0 for a finger not touching it.
pub fn finger_forces(world: &PhysicsWorld, arm: &Arm, body: RigidBodyHandle) -> [f32; 2] {
    let dt = world.integration_parameters.dt;
    finger_bodies(arm).map(|finger| {
        let mut impulse = 0.0;
        for &f in world.bodies[finger].colliders() {
            for &o in world.bodies[body].colliders() {
                if let Some(pair) = world.contact_pair(f, o) {
                    impulse += pair.total_impulse_magnitude();
                }
            }
        }
        impulse / dt
    })
}

/// Whether both fingers press `body` with at least `force` N each (a grasp that can lift
/// it; see [`finger_forces`]).
pub fn squeezes(world: &PhysicsWorld, arm: &Arm, body: RigidBodyHandle, force: f32) -> bool {
    let [a, b] = finger_forces(world, arm, body);
    a.min(b) >= force
}

/// Distance between the finger pads, m.
pub fn gripper_width(world: &PhysicsWorld, arm: &Arm) -> f32 {
    let mut q = [0.0; 8];
    arm.positions(world, &mut q);
    q[6] + q[7]
}
