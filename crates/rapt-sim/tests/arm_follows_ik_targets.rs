//! The URDF arm loads onto multibody joints, holds still under its motors, and reaches IK
//! targets.

use std::f32::consts::PI;

use rapier3d::prelude::*;
use rapt_sim::{ArmModel, WorldConfig, new_world};

const URDF: &str = include_str!("../../../assets/robots/rapt_arm.urdf");
const HOME: [f32; 8] = [0.0, 0.552, 1.496, 1.093, 0.0, 0.0, 0.03, 0.03];

fn setup() -> (PhysicsWorld, rapt_sim::Arm, ArmModel) {
    let model = ArmModel::from_urdf_str("rapt_arm", URDF).unwrap();
    let mut world = new_world(&WorldConfig::default());
    let base = Pose::from_translation(Vector::new(-0.40, 0.0, 0.0));
    let arm = model.insert(&mut world, base, &HOME, Default::default());
    (world, arm, model)
}

#[test]
fn the_model_lists_six_revolute_joints_and_two_fingers() {
    let model = ArmModel::from_urdf_str("rapt_arm", URDF).unwrap();
    let kinds: Vec<_> = model.joints().iter().map(|j| j.kind).collect();
    assert_eq!(kinds.len(), 8);
    assert!(
        kinds[..6]
            .iter()
            .all(|k| *k == rapt_sim::JointKind::Revolute)
    );
    assert_eq!(model.link_index("hand"), Some(6));
}

#[test]
fn motors_hold_the_home_pose() {
    let (mut world, arm, _) = setup();
    let mut q = [0.0; 8];
    arm.positions(&world, &mut q);
    for (a, b) in q.iter().zip(&HOME) {
        assert!((a - b).abs() < 1e-5, "{q:?}");
    }
    for _ in 0..100 {
        world.step();
    }
    arm.positions(&world, &mut q);
    for (a, b) in q.iter().zip(&HOME) {
        assert!((a - b).abs() < 2e-3, "drifted: {q:?}");
    }
}

#[test]
fn ik_targets_are_reached_within_millimetres() {
    let (mut world, arm, model) = setup();
    let hand = model.link_index("hand").unwrap();
    let down = Rotation::from_rotation_y(PI);
    for target in [
        Vector::new(0.05, 0.1, 0.2),
        Vector::new(-0.1, -0.12, 0.12),
        Vector::new(0.15, 0.0, 0.3),
    ] {
        let pose = Pose::from_parts(target, down);
        let mut q = [0.0; 8];
        for _ in 0..200 {
            arm.solve_ik(&world, hand, &pose, 6, &mut q);
            arm.set_targets(&mut world, 0, &q[..6]);
            world.step();
        }
        let reached = arm.link_pose(&world, hand);
        let err = (reached.translation - target).length();
        assert!(
            err < 0.005,
            "target {target:?}: reached {:?}, error {err} m",
            reached.translation
        );
    }
}
