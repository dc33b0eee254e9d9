use rapier3d::dynamics::{InverseKinematicsOption, JointAxesMask, MultibodyIndex};
use rapier3d::prelude::*;
use rapier3d_urdf::{UrdfLoaderOptions, UrdfMultibodyOptions, UrdfRobot};

use crate::SimError;

/// What a joint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JointKind {
    /// Rotation about the joint axis, rad.
    Revolute,
    /// Translation along the joint axis, m.
    Prismatic,
}

/// One actuated joint as the URDF describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct JointSpec {
    /// URDF joint name.
    pub name: String,
    /// Revolute or prismatic.
    pub kind: JointKind,
    /// Lower limit, rad or m.
    pub lower: f32,
    /// Upper limit, rad or m.
    pub upper: f32,
    /// Largest motor effort, N·m or N (URDF `effort`).
    pub effort: f32,
    /// Largest speed, rad/s or m/s (URDF `velocity`).
    pub velocity: f32,
}

/// Position-motor gains.
///
/// Revolute joints use acceleration-based gains (independent of link masses); prismatic
/// joints (fingers) use force-based gains, so that a closed gripper squeezes with a real
/// force instead of one scaled by the fingers' tiny mass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotorGains {
    /// Revolute stiffness, 1/s² (default 400: a 20 rad/s natural frequency).
    pub stiffness: f32,
    /// Revolute damping, 1/s (default 40: critically damped).
    pub damping: f32,
    /// Prismatic stiffness, N/m (default 400: 10 N at 2.5 cm from the target, capped by
    /// the URDF effort).
    pub prismatic_stiffness: f32,
    /// Prismatic damping, N·s/m (default 20).
    pub prismatic_damping: f32,
}

impl Default for MotorGains {
    fn default() -> Self {
        Self {
            stiffness: 400.0,
            damping: 40.0,
            prismatic_stiffness: 400.0,
            prismatic_damping: 20.0,
        }
    }
}

/// A parsed URDF arm, ready to be inserted into any number of worlds.
#[derive(Debug, Clone)]
pub struct ArmModel {
    name: String,
    robot: UrdfRobot,
    joints: Vec<JointSpec>,
    links: Vec<String>,
}

impl ArmModel {
    /// Parse `urdf` (named `name` in errors). Only revolute and prismatic joints are
    /// accepted; the first link is the fixed base.
    pub fn from_urdf_str(name: &str, urdf: &str) -> Result<Self, SimError> {
        let err = |message: String| SimError::Urdf {
            name: name.to_string(),
            message,
        };
        let parsed = urdf_rs::read_from_string(urdf).map_err(|e| err(e.to_string()))?;
        let mut joints = Vec::new();
        for j in &parsed.joints {
            let kind = match j.joint_type {
                urdf_rs::JointType::Revolute => JointKind::Revolute,
                urdf_rs::JointType::Prismatic => JointKind::Prismatic,
                ref other => {
                    return Err(SimError::Model {
                        name: name.to_string(),
                        message: format!(
                            "joint `{}` is {other:?}; only revolute and prismatic joints are supported",
                            j.name
                        ),
                    });
                }
            };
            joints.push(JointSpec {
                name: j.name.clone(),
                kind,
                lower: j.limit.lower as f32,
                upper: j.limit.upper as f32,
                effort: j.limit.effort as f32,
                velocity: j.limit.velocity as f32,
            });
        }
        let options = UrdfLoaderOptions {
            make_roots_fixed: true,
            ..UrdfLoaderOptions::default()
        };
        let (robot, _) = UrdfRobot::from_str(urdf, options, std::path::Path::new("."))
            .map_err(|e| err(e.to_string()))?;
        let links = parsed.links.iter().map(|l| l.name.clone()).collect();
        Ok(Self {
            name: name.to_string(),
            robot,
            joints,
            links,
        })
    }

    /// The robot's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The actuated joints, in URDF order.
    pub fn joints(&self) -> &[JointSpec] {
        &self.joints
    }

    /// Index of the joint called `name`.
    pub fn joint_index(&self, name: &str) -> Option<usize> {
        self.joints.iter().position(|j| j.name == name)
    }

    /// Index of the link called `name` (URDF order).
    pub fn link_index(&self, name: &str) -> Option<usize> {
        self.links.iter().position(|l| l == name)
    }

    /// Insert the arm with its base at `base`, joints at `q` (one value per joint) with
    /// motors holding `q`. Links ignore gravity (an ideally gravity-compensated arm, as
    /// real arm controllers provide) and never sleep (sleeping bodies ignore new motor
    /// targets).
    pub fn insert(
        &self,
        world: &mut PhysicsWorld,
        base: Pose,
        q: &[f32],
        gains: MotorGains,
    ) -> Arm {
        let mut robot = self.robot.clone();
        robot.append_transform(&base);
        let handles = robot.insert_using_multibody_joints(
            &mut world.bodies,
            &mut world.colliders,
            &mut world.multibody_joints,
            UrdfMultibodyOptions::DISABLE_SELF_CONTACTS,
        );
        let links: Vec<RigidBodyHandle> = handles.links.iter().map(|l| l.body).collect();
        for (i, &h) in links.iter().enumerate() {
            let body = &mut world.bodies[h];
            *body.activation_mut() = RigidBodyActivation::cannot_sleep();
            if i > 0 {
                body.set_gravity_scale(0.0, true);
            }
        }
        let root = links[0];
        let index = world
            .multibody_joints
            .rigid_body_link(root)
            .map(|l| l.multibody)
            .expect("an arm with joints forms a multibody");
        let joint_links: Vec<usize> = handles
            .joints
            .iter()
            .map(|j| {
                let h = j.joint.expect("multibody joint created");
                world.multibody_joints.get(h).expect("joint exists").1
            })
            .collect();
        let arm = Arm {
            index,
            links,
            joint_links,
            specs: self.joints.clone(),
            gains,
        };
        arm.set_positions(world, q);
        arm
    }
}

/// An arm inside one world: handles to its links and multibody.
#[derive(Debug, Clone)]
pub struct Arm {
    index: MultibodyIndex,
    links: Vec<RigidBodyHandle>,
    joint_links: Vec<usize>,
    specs: Vec<JointSpec>,
    gains: MotorGains,
}

fn axis_of(kind: JointKind) -> (JointAxis, usize) {
    // Generalized coordinates are a spatial vector: linear x y z, then angular x y z.
    match kind {
        JointKind::Revolute => (JointAxis::AngX, 3),
        JointKind::Prismatic => (JointAxis::LinX, 0),
    }
}

impl Arm {
    /// The joint specs, in URDF order.
    pub fn specs(&self) -> &[JointSpec] {
        &self.specs
    }

    /// Rigid body of link `i` (URDF link order; 0 is the base).
    pub fn link_body(&self, i: usize) -> RigidBodyHandle {
        self.links[i]
    }

    /// World pose of link `i`.
    pub fn link_pose(&self, world: &PhysicsWorld, i: usize) -> Pose {
        *world.bodies[self.links[i]].position()
    }

    fn multibody<'a>(&self, world: &'a PhysicsWorld) -> &'a Multibody {
        world
            .multibody_joints
            .get_multibody(self.index)
            .expect("arm multibody exists")
    }

    /// Joint positions (rad or m), URDF order, written into `out`.
    pub fn positions(&self, world: &PhysicsWorld, out: &mut [f32]) {
        let mb = self.multibody(world);
        for ((o, &l), spec) in out.iter_mut().zip(&self.joint_links).zip(&self.specs) {
            let link = mb.link(l).expect("link exists");
            *o = link.joint().coords()[axis_of(spec.kind).1];
        }
    }

    /// Joint velocities (rad/s or m/s), URDF order, written into `out`.
    pub fn velocities(&self, world: &PhysicsWorld, out: &mut [f32]) {
        let mb = self.multibody(world);
        for (o, &l) in out.iter_mut().zip(&self.joint_links) {
            let link = mb.link(l).expect("link exists");
            *o = mb.joint_velocity(link)[0];
        }
    }

    /// Set motor targets (clamped to the joint limits) for the joints `first..` with
    /// `targets`.
    pub fn set_targets(&self, world: &mut PhysicsWorld, first: usize, targets: &[f32]) {
        let gains = self.gains;
        let mb = world
            .multibody_joints
            .get_multibody_mut(self.index)
            .expect("arm multibody exists");
        for (k, &t) in targets.iter().enumerate() {
            let (spec, l) = (&self.specs[first + k], self.joint_links[first + k]);
            let (axis, _) = axis_of(spec.kind);
            let (model, k, c) = match spec.kind {
                JointKind::Revolute => (
                    MotorModel::AccelerationBased,
                    gains.stiffness,
                    gains.damping,
                ),
                JointKind::Prismatic => (
                    MotorModel::ForceBased,
                    gains.prismatic_stiffness,
                    gains.prismatic_damping,
                ),
            };
            let link = mb.link_mut(l).expect("link exists");
            link.joint
                .data
                .set_motor_model(axis, model)
                .set_motor_position(axis, t.clamp(spec.lower, spec.upper), k, c)
                .set_motor_max_force(axis, spec.effort);
        }
    }

    /// Teleport the joints to `q` at rest, motors holding `q` (use on a fresh world).
    pub fn set_positions(&self, world: &mut PhysicsWorld, q: &[f32]) {
        let mut current = vec![0.0; self.specs.len()];
        self.positions(world, &mut current);
        let mb = world
            .multibody_joints
            .get_multibody_mut(self.index)
            .expect("arm multibody exists");
        let mut disp = vec![0.0; mb.ndofs()];
        for ((spec, &l), (&target, &now)) in self
            .specs
            .iter()
            .zip(&self.joint_links)
            .zip(q.iter().zip(&current))
        {
            let id = mb.link(l).expect("link exists").assembly_id();
            disp[id] = target.clamp(spec.lower, spec.upper) - now;
        }
        mb.apply_displacements(&disp);
        mb.generalized_velocity_mut().fill(0.0);
        mb.forward_kinematics(&world.bodies, true);
        mb.update_rigid_bodies(&mut world.bodies, true);
        self.set_targets(world, 0, q);
    }

    /// Damped-least-squares IK (rapier's multibody IK): joint positions that bring link
    /// `link` to `target`, moving only joints `0..movable`, starting from the current
    /// configuration. Written into `out` (one value per joint, clamped to limits).
    pub fn solve_ik(
        &self,
        world: &PhysicsWorld,
        link: usize,
        target: &Pose,
        movable: usize,
        out: &mut [f32],
    ) {
        let mb = self.multibody(world);
        let options = InverseKinematicsOption {
            damping: 0.05,
            max_iters: 12,
            constrained_axes: JointAxesMask::all(),
            epsilon_linear: 1.0e-4,
            epsilon_angular: 1.0e-3,
        };
        let link_id = world
            .multibody_joints
            .rigid_body_link(self.links[link])
            .expect("link in multibody")
            .id;
        let movable_links: Vec<usize> = self.joint_links[..movable].to_vec();
        let mut disp = DVector::zeros(mb.ndofs());
        mb.inverse_kinematics(
            &world.bodies,
            link_id,
            &options,
            target,
            |l| movable_links.contains(&l.link_id()),
            &mut disp,
        );
        self.positions(world, out);
        for ((o, &l), spec) in out.iter_mut().zip(&self.joint_links).zip(&self.specs) {
            let id = mb.link(l).expect("link exists").assembly_id();
            *o = (*o + disp[id]).clamp(spec.lower, spec.upper);
        }
    }
}
