//! The Franka Emika Panda (`assets/robots/franka_fer/`, Apache-2.0, © Franka Robotics
//! GmbH; see its README for what rapt changed): seven revolute joints with the URDF's
//! torque limits (87 N·m joints 1–4, 12 N·m joints 5–7), the Franka hand with two
//! prismatic fingers (0–4 cm each, 100 N) driven as one (the URDF's `<mimic>`), and the
//! links' convex collision meshes.

use std::f32::consts::{FRAC_PI_2, FRAC_PI_4};
use std::sync::OnceLock;

use rapt_sim::rapier3d::prelude::*;
use rapt_sim::{ArmModel, MotorGains};

use super::{Robot, RobotKind, WristCamera};

/// The URDF, compiled in with its collision meshes so envs need no files at run time.
pub const URDF: &str = include_str!("../../../../assets/robots/franka_fer/fer.urdf");

macro_rules! meshes {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_bytes!(concat!("../../../../assets/robots/franka_fer/", $file)) as &[u8])),*]
    };
}

/// The collision meshes, by the file names the URDF writes.
const MESHES: &[(&str, &[u8])] = meshes!(
    "meshes/arm/collision/link0.stl",
    "meshes/arm/collision/link1.stl",
    "meshes/arm/collision/link2.stl",
    "meshes/arm/collision/link3.stl",
    "meshes/arm/collision/link4.stl",
    "meshes/arm/collision/link5.stl",
    "meshes/arm/collision/link6.stl",
    "meshes/arm/collision/link7.stl",
    "meshes/hand/collision/hand.stl",
);

/// MuJoCo Menagerie's home pose (gripper down in front of the base), the start of the IK
/// that finds rapt's home (rad × 7, m × 2).
const MENAGERIE_HOME: [f32; 9] = [
    0.0, 0.0, 0.0, -FRAC_PI_2, 0.0, FRAC_PI_2, -FRAC_PI_4, 0.04, 0.04,
];

/// The parsed model.
pub fn model() -> ArmModel {
    ArmModel::from_urdf_with_meshes("assets/robots/franka_fer/fer.urdf", URDF, &|file| {
        MESHES
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, bytes)| bytes.to_vec())
            .ok_or_else(|| "not among the meshes compiled into rapt-manip".to_string())
    })
    .expect("the bundled Panda URDF and meshes are valid (tested)")
}

/// The robot, built once.
pub fn robot() -> &'static Robot {
    static ROBOT: OnceLock<Robot> = OnceLock::new();
    ROBOT.get_or_init(|| {
        let model = model();
        let link = |name: &str| model.link_index(name).expect("bundled link exists");
        let mut robot = Robot {
            kind: RobotKind::Panda,
            // The table's centre 0.55 m in front of the base: the workspace's far corners
            // (0.80 m, ±0.25 m) stay inside the arm's reach at table height.
            base: Vector::new(-0.55, 0.0, 0.0),
            home: MENAGERIE_HOME.to_vec(),
            arm_joints: 7,
            hand_link: link("fer_hand"),
            finger_links: [link("fer_leftfinger"), link("fer_rightfinger")],
            // fer_hand_tcp: 0.1034 m past the hand, between the finger pads.
            tcp_offset: 0.1034,
            finger_open: 0.04,
            // ManiSkill3's Panda joint gains (stiffness 1000 N·m/rad, damping 100 N·m·s/rad),
            // force-based so the torques meet the links' real inertia, capped by the URDF's
            // 87 / 12 N·m; fingers as the RaptArm's (force-based, capped at 100 N).
            gains: MotorGains {
                revolute_force: Some(vec![[1000.0, 100.0]; 9]),
                ..MotorGains::default()
            },
            down: super::down(),
            // The hand's camera mount: beside the fingers, 4 cm off the hand's axis.
            wrist_camera: WristCamera::OnHand(Vector::new(0.04, 0.0, 0.04)),
            // Farther and higher than the RaptArm's: the Panda's shoulder is at 0.33 m.
            fixed_cameras: [
                [[0.60, 0.0, 0.50], [-0.15, 0.0, 0.12]],
                [[-0.10, -0.90, 0.50], [-0.10, 0.0, 0.12]],
            ],
            model,
        };
        robot.down = facing_fingers_down(&robot);
        robot.home = solve_home(&robot);
        robot
    })
}

/// Of the two hand orientations that point the gripper down with the fingers closing along
/// world y (they differ by a half turn about the vertical), the one nearer the hand's at
/// Menagerie's home: the one the arm reaches without winding joint 7 round.
fn facing_fingers_down(robot: &Robot) -> Rotation {
    let mut world = rapt_sim::new_world(&rapt_sim::WorldConfig::default());
    let arm = robot.insert(&mut world);
    let hand = arm.link_pose(&world, robot.hand_link).rotation;
    let a = super::down();
    let b = a * Rotation::from_rotation_z(std::f32::consts::PI);
    if hand.angle_between(a) <= hand.angle_between(b) {
        a
    } else {
        b
    }
}

/// Joint positions that put the TCP at the shared home TCP pointing down: damped
/// least-squares IK from Menagerie's home on a scratch world.
fn solve_home(robot: &Robot) -> Vec<f32> {
    let mut world = rapt_sim::new_world(&rapt_sim::WorldConfig::default());
    let arm = robot.insert(&mut world);
    let target = robot.hand_pose_for(super::home_tcp());
    let mut q = robot.home.clone();
    for _ in 0..50 {
        arm.solve_ik(&world, robot.hand_link, &target, robot.arm_joints, &mut q);
        arm.set_positions(&mut world, &q);
    }
    q
}
