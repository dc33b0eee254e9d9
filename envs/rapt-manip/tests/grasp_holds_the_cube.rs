//! A cube grasped by the expert and held still for 2 s slips less than 1 cm.

mod common;

use common::step;
use rapt_core::{InfoBatch, Registry};
use rapt_manip::move_towards;
use rapt_sim::rapier3d::prelude::Vector;

#[test]
fn a_grasped_cube_held_still_for_two_seconds_slips_less_than_a_centimetre() {
    let mut registry = Registry::new();
    rapt_manip::register(&mut registry).unwrap();
    let mut env = registry.make("PickPlace-v0", "", Some(400)).unwrap();
    let layout = env.info_layout().clone();
    let (grasped, height) = (
        layout.metric_index("grasped").unwrap(),
        layout.metric_index("object_height").unwrap(),
    );
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut action = vec![0.0; 4];
    let mut tested = 0;
    for seed in 0..5u64 {
        env.reset(Some(seed), &mut obs, info.get_mut(0)).unwrap();
        // Let the expert grasp the cube, then lift it 8 cm with the gripper closed.
        let mut held_for = 0;
        for _ in 0..100 {
            env.expert_action(&mut action);
            step(env.as_mut(), &action, &mut obs, &mut info);
            held_for = if info.metrics_of(0)[grasped] == 1.0 {
                held_for + 1
            } else {
                0
            };
            if held_for == 3 {
                break;
            }
        }
        assert_eq!(
            held_for, 3,
            "seed {seed}: the expert did not grasp the cube"
        );
        for _ in 0..25 {
            step(env.as_mut(), &[0.0, 0.0, 1.0, -1.0], &mut obs, &mut info);
            if info.metrics_of(0)[height] > 0.08 {
                break;
            }
        }
        assert!(
            info.metrics_of(0)[height] > 0.08,
            "seed {seed}: cube not lifted"
        );
        // Hold the TCP still where it is, gripper closed: a P-controller on the TCP position
        // (observation slots 0..3). The first 0.5 s lets the arm come to rest after the lift.
        let hold = Vector::new(obs[0], obs[1], obs[2]);
        for _ in 0..12 {
            let [x, y, z] = move_towards(Vector::new(obs[0], obs[1], obs[2]), hold, 1.0);
            step(env.as_mut(), &[x, y, z, -1.0], &mut obs, &mut info);
        }
        // Slip is motion of the cube relative to the gripper over the next 2 s (50 control
        // steps at 25 Hz): observation slots 10..13 (object − TCP).
        let start = [obs[10], obs[11], obs[12]];
        for _ in 0..50 {
            let [x, y, z] = move_towards(Vector::new(obs[0], obs[1], obs[2]), hold, 1.0);
            step(env.as_mut(), &[x, y, z, -1.0], &mut obs, &mut info);
        }
        let slip = ((obs[10] - start[0]).powi(2)
            + (obs[11] - start[1]).powi(2)
            + (obs[12] - start[2]).powi(2))
        .sqrt();
        eprintln!(
            "seed {seed}: slip {:.2} mm in 2 s ({:.4?})",
            slip * 1000.0,
            [obs[10] - start[0], obs[11] - start[1], obs[12] - start[2]]
        );
        assert!(slip < 0.01, "seed {seed}: cube slipped {slip} m in 2 s");
        assert_eq!(
            info.metrics_of(0)[grasped],
            1.0,
            "seed {seed}: grasp lost (opening {} m, cube - TCP {:?})",
            obs[6],
            &obs[10..13]
        );
        tested += 1;
    }
    assert_eq!(tested, 5);
}

/// A gripper commanded half-open (0.1–0.3) closes to within PickPlace's grasp width around
/// the cube without squeezing it: v1 counted that as a grasp, though the cube stays on the
/// table when the arm rises; v2 counts a grasp only when both pads press hard enough to
/// lift it, as they do when the gripper is commanded closed.
#[test]
fn pick_place_v2_counts_a_grasp_only_when_the_pads_can_lift_the_cube() {
    let mut registry = Registry::new();
    rapt_manip::register(&mut registry).unwrap();
    for (grip, liftable) in [(-1.0, true), (0.1, false), (0.3, false)] {
        let mut grasped_by = Vec::new();
        let mut lifted = false;
        for id in ["PickPlace-v1", "PickPlace-v2"] {
            let mut env = registry.make(id, "", Some(100)).unwrap();
            let layout = env.info_layout().clone();
            let grasped = layout.metric_index("grasped").unwrap();
            let height = layout.metric_index("object_height").unwrap();
            let mut info = InfoBatch::new(1, &layout);
            let mut obs = vec![0.0; env.observation_space().flat_dim()];
            let mut action = vec![0.0; 4];
            env.reset(Some(3), &mut obs, info.get_mut(0)).unwrap();
            // The expert descends around the cube and closes; then the grip is set to `grip`.
            for _ in 0..100 {
                env.expert_action(&mut action);
                if action[3] < 0.0 {
                    break;
                }
                step(env.as_mut(), &action, &mut obs, &mut info);
            }
            for _ in 0..8 {
                step(env.as_mut(), &[0.0, 0.0, 0.0, grip], &mut obs, &mut info);
            }
            grasped_by.push(info.metrics_of(0)[grasped] == 1.0);
            for _ in 0..10 {
                step(env.as_mut(), &[0.0, 0.0, 1.0, grip], &mut obs, &mut info);
            }
            lifted = info.metrics_of(0)[height] > 0.05;
        }
        assert_eq!(lifted, liftable, "grip {grip}");
        assert!(grasped_by[0], "grip {grip}: v1 calls it a grasp");
        assert_eq!(grasped_by[1], liftable, "grip {grip}: v2");
    }
}
