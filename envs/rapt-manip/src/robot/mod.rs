//! The robots the manipulation tasks run on — rapt's own 6-joint arm
//! (`assets/robots/rapt_arm.urdf`) and the Franka Emika Panda
//! (`assets/robots/franka_fer/`) — with their home poses, tool centre points and Cartesian
//! control. Tasks see a robot only through [`Robot`]: the same task, stages, Φ and rewards
//! run on either.

mod panda;
mod rapt_arm;

use std::f32::consts::PI;

use rapt_sim::rapier3d::prelude::*;
use rapt_sim::{Arm, ArmModel, MotorGains};
use serde::{Deserialize, Serialize};

/// Which robot a task runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum RobotKind {
    /// rapt's generated 6-joint arm of primitive shapes, 9 cm gripper.
    #[default]
    RaptArm,
    /// The Franka Emika Panda: 7 joints, convex-hull link meshes, 8 cm gripper.
    Panda,
}

impl RobotKind {
    /// The robot's name in ids and cards.
    pub fn name(self) -> &'static str {
        match self {
            RobotKind::RaptArm => "RaptArm",
            RobotKind::Panda => "Panda",
        }
    }
}

/// Cartesian step per unit action per control step, m (Fetch's 0.05).
pub const ACTION_SCALE: f32 = 0.05;
/// Joint step per unit action per control step in joint-delta mode, rad.
pub const JOINT_ACTION_SCALE: f32 = 0.1;
/// Where the tool centre point may be commanded, m: x, y, z ranges (the table top is z = 0,
/// its centre the origin).
pub const WORKSPACE: [[f32; 2]; 3] = [[-0.25, 0.25], [-0.25, 0.25], [0.03, 0.40]];

/// One robot: its model and the facts the control loop needs.
#[derive(Debug)]
pub struct Robot {
    /// Which robot this is.
    pub kind: RobotKind,
    /// The parsed URDF.
    pub model: ArmModel,
    /// Base position on the table, m.
    pub base: Vector,
    /// Joint positions at reset (rad, and m for the fingers): gripper pointing down above
    /// the table centre, fingers open. Every robot's tool centre point starts at the same
    /// place (the RaptArm's, [`home_tcp`]), so tasks are the same task on each.
    pub home: Vec<f32>,
    /// Number of arm joints (the first ones); the two after them are the fingers.
    pub arm_joints: usize,
    /// URDF index of the hand link.
    pub hand_link: usize,
    /// URDF indices of the finger links.
    pub finger_links: [usize; 2],
    /// Tool centre point: between the finger pads, this far from the hand frame along
    /// its +z, m.
    pub tcp_offset: f32,
    /// Largest opening of each finger, m (URDF limit).
    pub finger_open: f32,
    /// Motor gains.
    pub gains: MotorGains,
    /// Hand orientation that points the gripper straight down with the fingers closing
    /// along world y.
    pub down: Rotation,
    /// Where the wrist camera sits.
    pub wrist_camera: WristCamera,
    /// The `front` and `side` cameras' eye and target, m (framing the robot and the table).
    pub fixed_cameras: [[[f32; 3]; 2]; 2],
}

/// Where a robot's `wrist` camera sits (it always looks down past the fingers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WristCamera {
    /// This far above the TCP along world z, m (the RaptArm's, whose hand always points
    /// down: 6 cm, between the finger roots).
    AboveTcp(f32),
    /// At this point of the hand's frame, m (moves and tilts with the hand).
    OnHand(Vector),
}

/// Friction coefficient of the finger pads (rubber).
pub const FINGER_FRICTION: f32 = 1.0;

impl Robot {
    /// The robot of `kind`, parsed once per process.
    pub fn get(kind: RobotKind) -> &'static Robot {
        match kind {
            RobotKind::RaptArm => rapt_arm::robot(),
            RobotKind::Panda => panda::robot(),
        }
    }

    /// Insert the robot at home into `world`.
    pub fn insert(&self, world: &mut PhysicsWorld) -> Arm {
        let arm = self.model.insert(
            world,
            Pose::from_translation(self.base),
            &self.home,
            self.gains.clone(),
        );
        // Rubber finger pads: friction 1.0 (rapier's default of 0.5 lets a squeezed cube slide).
        for link in self.finger_links {
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
    pub fn tcp(&self, world: &PhysicsWorld, arm: &Arm) -> Vector {
        let hand = arm.link_pose(world, self.hand_link);
        hand.transform_point(Vector::new(0.0, 0.0, self.tcp_offset))
    }

    /// Tool-centre-point velocity, m/s.
    pub fn tcp_velocity(&self, world: &PhysicsWorld, arm: &Arm) -> Vector {
        let body = &world.bodies[arm.link_body(self.hand_link)];
        body.velocity_at_point(self.tcp(world, arm))
    }

    /// Set arm motor targets so that the TCP goes to `target` pointing down, by DLS IK
    /// from the current configuration.
    pub fn command_tcp(&self, world: &mut PhysicsWorld, arm: &Arm, target: Vector) {
        let hand_target = self.hand_pose_for(target);
        let mut q = [0.0; MAX_JOINTS];
        let q = &mut q[..arm.specs().len()];
        arm.solve_ik(world, self.hand_link, &hand_target, self.arm_joints, q);
        arm.set_targets(world, 0, &q[..self.arm_joints]);
    }

    /// The hand pose that puts the TCP at `tcp` pointing down.
    pub fn hand_pose_for(&self, tcp: Vector) -> Pose {
        Pose::from_parts(
            tcp - self.down * Vector::new(0.0, 0.0, self.tcp_offset),
            self.down,
        )
    }

    /// Set both finger targets from a gripper action in [-1, 1] (-1 closed, 1 open).
    pub fn command_gripper(&self, world: &mut PhysicsWorld, arm: &Arm, action: f32) {
        let opening = (action.clamp(-1.0, 1.0) + 1.0) * 0.5 * self.finger_open;
        arm.set_targets(world, self.arm_joints, &[opening, opening]);
    }

    /// Set arm joint targets `q + delta · JOINT_ACTION_SCALE` (joint-delta control;
    /// `delta` has one entry per arm joint, each in [-1, 1]).
    pub fn command_joint_delta(&self, world: &mut PhysicsWorld, arm: &Arm, delta: &[f32]) {
        let mut q = [0.0; MAX_JOINTS];
        arm.positions(world, &mut q[..arm.specs().len()]);
        let targets: Vec<f32> = (0..self.arm_joints)
            .map(|i| q[i] + delta[i].clamp(-1.0, 1.0) * JOINT_ACTION_SCALE)
            .collect();
        arm.set_targets(world, 0, &targets);
    }

    /// The bodies of the two fingers.
    pub fn finger_bodies(&self, arm: &Arm) -> [RigidBodyHandle; 2] {
        self.finger_links.map(|i| arm.link_body(i))
    }

    /// Normal force each finger presses on `body` with in the last physics step, N (the
    /// contact impulses between the finger's and the body's colliders over the step
    /// length); 0 for a finger not touching it.
    pub fn finger_forces(
        &self,
        world: &PhysicsWorld,
        arm: &Arm,
        body: RigidBodyHandle,
    ) -> [f32; 2] {
        let dt = world.integration_parameters.dt;
        self.finger_bodies(arm).map(|finger| {
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

    /// Whether both fingers press `body` with at least `force` N each (a grasp that can
    /// lift it; see [`Robot::finger_forces`]).
    pub fn squeezes(
        &self,
        world: &PhysicsWorld,
        arm: &Arm,
        body: RigidBodyHandle,
        force: f32,
    ) -> bool {
        let [a, b] = self.finger_forces(world, arm, body);
        a.min(b) >= force
    }

    /// Distance between the finger pads, m.
    pub fn gripper_width(&self, world: &PhysicsWorld, arm: &Arm) -> f32 {
        let mut q = [0.0; MAX_JOINTS];
        arm.positions(world, &mut q[..arm.specs().len()]);
        q[self.arm_joints] + q[self.arm_joints + 1]
    }
}

/// Most joints any robot here has (the Panda: 7 arm + 2 fingers).
pub const MAX_JOINTS: usize = 9;

/// Where every robot's tool centre point starts an episode, m: the RaptArm's at its home
/// pose, above the table centre.
pub fn home_tcp() -> Vector {
    rapt_arm::home_tcp()
}

/// Clamp a TCP target into the workspace.
pub fn clamp_to_workspace(p: Vector) -> Vector {
    Vector::new(
        p.x.clamp(WORKSPACE[0][0], WORKSPACE[0][1]),
        p.y.clamp(WORKSPACE[1][0], WORKSPACE[1][1]),
        p.z.clamp(WORKSPACE[2][0], WORKSPACE[2][1]),
    )
}

/// The hand orientation that points the gripper straight down (hand +z = world −z), hand
/// y along world y.
pub fn down() -> Rotation {
    Rotation::from_rotation_y(PI)
}
