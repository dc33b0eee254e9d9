//! A real robot description loads: the Franka Panda's URDF with fixed joints, bare frames
//! and STL collision meshes (as convex hulls), holds its home pose under its torque limits
//! and reaches IK targets; a URDF whose mesh is missing or unreadable is an error naming
//! the link and the file.

use std::path::{Path, PathBuf};

use rapier3d::prelude::*;
use rapt_sim::{ArmModel, JointKind, MotorGains, SimError, WorldConfig, new_world};

fn panda_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/robots/franka_fer/fer.urdf")
}

/// MuJoCo Menagerie's home pose (joint 4's range excludes 0), fingers open.
const HOME: [f32; 9] = [
    0.0,
    0.0,
    0.0,
    -std::f32::consts::FRAC_PI_2,
    0.0,
    std::f32::consts::FRAC_PI_2,
    -std::f32::consts::FRAC_PI_4,
    0.04,
    0.04,
];

#[test]
fn the_panda_loads_with_its_joints_meshes_and_bare_frames() {
    let model = ArmModel::from_urdf_file(&panda_path()).unwrap();
    let kinds: Vec<_> = model.joints().iter().map(|j| j.kind).collect();
    assert_eq!(kinds.len(), 9, "7 arm joints and 2 fingers: {kinds:?}");
    assert!(kinds[..7].iter().all(|k| *k == JointKind::Revolute));
    assert!(kinds[7..].iter().all(|k| *k == JointKind::Prismatic));
    let j4 = &model.joints()[3];
    assert_eq!((j4.lower, j4.upper), (-3.0718, -0.0698));
    assert_eq!(model.joints()[0].effort, 87.0);
    assert_eq!(model.joints()[6].effort, 12.0);
    // The hand is a body welded to link 7; the TCP and flange frames are not bodies.
    let hand = model.link_index("fer_hand").unwrap();
    assert!(model.has_body(hand));
    assert!(!model.has_body(model.link_index("fer_hand_tcp").unwrap()));
    assert!(!model.has_body(model.link_index("fer_link8").unwrap()));
    // One mesh per arm link and the hand, each a closed hull of a few hundred triangles.
    assert_eq!(model.meshes().len(), 9);
    for m in model.meshes() {
        let n = m.mesh.triangles.len();
        assert!((100..=400).contains(&n), "link {}: {n} triangles", m.link);
        let coarse = m.coarse.triangles.len();
        eprintln!("link {}: {n} triangles, {coarse} coarse", m.link);
        assert!(
            coarse >= 8 && coarse < n,
            "link {}: {coarse} coarse triangles",
            m.link
        );
    }
}

#[test]
fn the_panda_holds_its_home_pose_and_tracks_ik_targets_under_its_torque_limits() {
    let model = ArmModel::from_urdf_file(&panda_path()).unwrap();
    let mut world = new_world(&WorldConfig::default());
    // Force-based joint gains (ManiSkill3's Panda: 1000 N·m/rad, 100 N·m·s/rad).
    let gains = MotorGains {
        revolute_force: Some(vec![[1000.0, 100.0]; 9]),
        ..MotorGains::default()
    };
    let arm = model.insert(&mut world, Pose::IDENTITY, &HOME, gains);
    // Every collider on the arm is a convex hull or a finger box, none missing.
    let hand = model.link_index("fer_hand").unwrap();
    for link in ["fer_link1", "fer_link4", "fer_link7", "fer_hand"] {
        let body = arm.link_body(model.link_index(link).unwrap());
        let colliders = world.bodies[body].colliders();
        assert_eq!(colliders.len(), 1, "{link}");
        let shape = world.colliders[colliders[0]].shape().shape_type();
        assert_eq!(shape, ShapeType::ConvexPolyhedron, "{link}");
    }
    let mut q = [0.0; 9];
    for _ in 0..100 {
        world.step();
    }
    arm.positions(&world, &mut q);
    for (a, b) in q.iter().zip(&HOME) {
        assert!((a - b).abs() < 2e-3, "drifted: {q:?}");
    }
    // The gripper pointing down at table-top points in front of the base.
    let down = Rotation::from_rotation_y(std::f32::consts::PI);
    for target in [
        Vector::new(0.5, 0.1, 0.25),
        Vector::new(0.4, -0.2, 0.15),
        Vector::new(0.65, 0.0, 0.3),
    ] {
        let pose = Pose::from_parts(target, down);
        for _ in 0..200 {
            arm.solve_ik(&world, hand, &pose, 7, &mut q);
            arm.set_targets(&mut world, 0, &q[..7]);
            world.step();
        }
        let reached = arm.link_pose(&world, hand);
        let err = (reached.translation - target).length();
        assert!(
            err < 0.005,
            "target {target:?}: reached {reached:?}, error {err} m"
        );
    }
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rapt-sim-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const ONE_LINK: &str = r#"<robot name="r">
  <link name="base"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <link name="arm">
    <inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><geometry><mesh filename="MESH"/></geometry></collision>
  </link>
  <joint name="j" type="JOINT"><parent link="base"/><child link="arm"/><axis xyz="0 0 1"/>
    <limit lower="-1" upper="1" effort="10" velocity="1"/></joint>
</robot>"#;

#[test]
fn a_missing_or_broken_mesh_is_an_error_naming_the_link_and_file() {
    let dir = scratch_dir("meshes");
    let urdf = dir.join("r.urdf");
    std::fs::write(
        &urdf,
        ONE_LINK
            .replace("MESH", "gone.stl")
            .replace("JOINT", "revolute"),
    )
    .unwrap();
    let err = ArmModel::from_urdf_file(&urdf).unwrap_err();
    assert!(matches!(err, SimError::Mesh { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("`arm`") && text.contains("gone.stl"),
        "{text}"
    );

    std::fs::write(dir.join("bad.stl"), b"not a mesh at all").unwrap();
    std::fs::write(
        &urdf,
        ONE_LINK
            .replace("MESH", "bad.stl")
            .replace("JOINT", "revolute"),
    )
    .unwrap();
    let text = ArmModel::from_urdf_file(&urdf).unwrap_err().to_string();
    assert!(
        text.contains("bad.stl") && text.contains("not an STL file"),
        "{text}"
    );

    // Text URDFs cannot name meshes: the error says to load the file instead.
    let text = ArmModel::from_urdf_str(
        "inline",
        &ONE_LINK
            .replace("MESH", "m.stl")
            .replace("JOINT", "revolute"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        text.contains("m.stl") && text.contains("load it from its file"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn unsupported_joints_are_named() {
    let dir = scratch_dir("joints");
    let urdf = dir.join("r.urdf");
    std::fs::write(
        &urdf,
        ONE_LINK
            .replace(
                r#"<collision><geometry><mesh filename="MESH"/></geometry></collision>"#,
                "",
            )
            .replace("JOINT", "continuous"),
    )
    .unwrap();
    let text = ArmModel::from_urdf_file(&urdf).unwrap_err().to_string();
    assert!(
        text.contains("joint `j`") && text.contains("Continuous"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).ok();
}
