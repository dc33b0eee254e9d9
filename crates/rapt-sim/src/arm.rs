//! One arm inside one world: joint state, position motors, IK.

use rapier3d::dynamics::{InverseKinematicsOption, JointAxesMask, MultibodyIndex};
use rapier3d::prelude::*;
use rapier3d_urdf::UrdfMultibodyOptions;

use crate::arm_model::{ArmModel, JointKind, JointSpec, LinkMesh};

/// Position-motor gains.
///
/// Revolute joints use acceleration-based gains (independent of link masses) unless
/// `revolute_force` gives force-based ones; prismatic joints (fingers) use force-based
/// gains, so that a closed gripper squeezes with a real force instead of one scaled by the
/// fingers' tiny mass. Every motor is capped by its joint's URDF effort.
#[derive(Debug, Clone, PartialEq)]
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
    /// Force-based gains of the revolute joints, `[stiffness N·m/rad, damping N·m·s/rad]`
    /// per actuated joint in URDF order (a prismatic joint's entry is unused; default
    /// none). When set they replace `stiffness` and
    /// `damping`: torques then act on the links' real inertia, as a real arm's joint
    /// impedance controller does. Arms whose proximal joints carry heavy links need them:
    /// on the Franka Panda, acceleration-based gains left joints 1 and 3 several hundredths
    /// of a radian off their targets for seconds.
    pub revolute_force: Option<Vec<[f32; 2]>>,
}

impl Default for MotorGains {
    fn default() -> Self {
        Self {
            stiffness: 400.0,
            damping: 40.0,
            prismatic_stiffness: 400.0,
            prismatic_damping: 20.0,
            revolute_force: None,
        }
    }
}

impl ArmModel {
    /// Insert the arm with its base at `base`, joints at `q` (one value per actuated
    /// joint) with motors holding `q`. Links ignore gravity (an ideally
    /// gravity-compensated arm, as real arm controllers provide), never sleep (sleeping
    /// bodies ignore new motor targets) and do not collide with each other.
    pub fn insert(
        &self,
        world: &mut PhysicsWorld,
        base: Pose,
        q: &[f32],
        gains: MotorGains,
    ) -> Arm {
        if let Some(force) = &gains.revolute_force {
            assert!(
                force.len() >= self.joints.len(),
                "{}: revolute_force has {} entries for {} actuated joints",
                self.name,
                force.len(),
                self.joints.len()
            );
        }
        let mut robot = self.robot.clone();
        robot.append_transform(&base);
        let handles = robot.insert_using_multibody_joints(
            &mut world.bodies,
            &mut world.colliders,
            &mut world.multibody_joints,
            UrdfMultibodyOptions::DISABLE_SELF_CONTACTS,
        );
        let bodies: Vec<RigidBodyHandle> = handles.links.iter().map(|l| l.body).collect();
        for (i, &h) in bodies.iter().enumerate() {
            let body = &mut world.bodies[h];
            *body.activation_mut() = RigidBodyActivation::cannot_sleep();
            if i > 0 {
                body.set_gravity_scale(0.0, true);
            }
        }
        let index = world
            .multibody_joints
            .rigid_body_link(bodies[0])
            .map(|l| l.multibody)
            .expect("an arm with joints forms a multibody");
        let joint_links: Vec<usize> = self
            .joint_slots
            .iter()
            .map(|&slot| {
                let h = handles.joints[slot].joint.expect("multibody joint created");
                world.multibody_joints.get(h).expect("joint exists").1
            })
            .collect();
        let links = self
            .link_slots
            .iter()
            .map(|s| s.map(|s| bodies[s]))
            .collect();
        let arm = Arm {
            index,
            links,
            joint_links,
            specs: self.joints.clone(),
            gains,
            meshes: self.meshes.clone(),
        };
        arm.set_positions(world, q);
        arm
    }
}

/// An arm inside one world: handles to its links and multibody.
#[derive(Debug, Clone)]
pub struct Arm {
    index: MultibodyIndex,
    /// Body of each URDF link (`None`: a bare frame merged into its parent).
    links: Vec<Option<RigidBodyHandle>>,
    joint_links: Vec<usize>,
    specs: Vec<JointSpec>,
    gains: MotorGains,
    meshes: Vec<LinkMesh>,
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

    /// Rigid body of link `i` (URDF link order). Panics for a bare frame merged into its
    /// parent ([`ArmModel::has_body`] is false): use the parent and an offset.
    pub fn link_body(&self, i: usize) -> RigidBodyHandle {
        self.links[i].unwrap_or_else(|| panic!("URDF link {i} is a bare frame with no body"))
    }

    /// The links' meshes with the bodies that carry them, for drawing.
    pub fn meshes(&self) -> impl Iterator<Item = (RigidBodyHandle, &LinkMesh)> {
        self.meshes.iter().map(|m| (self.link_body(m.link), m))
    }

    /// World pose of link `i`.
    pub fn link_pose(&self, world: &PhysicsWorld, i: usize) -> Pose {
        *world.bodies[self.link_body(i)].position()
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
        let gains = &self.gains;
        let mb = world
            .multibody_joints
            .get_multibody_mut(self.index)
            .expect("arm multibody exists");
        for (k, &t) in targets.iter().enumerate() {
            let (spec, l) = (&self.specs[first + k], self.joint_links[first + k]);
            let (axis, _) = axis_of(spec.kind);
            let (model, k, c) = match (spec.kind, &gains.revolute_force) {
                (JointKind::Revolute, Some(force)) => {
                    let [k, c] = force[first + k];
                    (MotorModel::ForceBased, k, c)
                }
                (JointKind::Revolute, None) => (
                    MotorModel::AccelerationBased,
                    gains.stiffness,
                    gains.damping,
                ),
                (JointKind::Prismatic, _) => (
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
            .rigid_body_link(self.link_body(link))
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
