//! Joint-delta control, sparse rewards, physics blow-ups and bad parameters.

mod common;

use common::step;
use rapt_core::{Env, EnvError, InfoBatch, Registry};
use rapt_manip::tasks::Push;
use rapt_manip::{ManipEnv, ManipParams};
use rapt_sim::rapier3d::prelude::*;

fn make(text: &str) -> Result<Box<dyn Env>, EnvError> {
    let mut registry = Registry::new();
    rapt_manip::register(&mut registry).unwrap();
    registry.make("Push-v0", text, None)
}

#[test]
fn joint_delta_control_moves_the_joints() {
    let mut env = make("(control: JointDelta)").unwrap();
    assert_eq!(env.action_space().flat_dim(), 7);
    let layout = env.info_layout().clone();
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    env.reset(Some(3), &mut obs, info.get_mut(0)).unwrap();
    let start = [obs[0], obs[1], obs[2]];
    // Turn the shoulder: the TCP must swing sideways.
    for _ in 0..10 {
        step(
            env.as_mut(),
            &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            &mut obs,
            &mut info,
        );
    }
    assert!(
        (obs[1] - start[1]).abs() > 0.1,
        "TCP y {} -> {}",
        start[1],
        obs[1]
    );
    assert!(
        !env.expert_action(&mut [0.0; 7]),
        "the expert speaks end-effector deltas only"
    );
}

#[test]
fn sparse_rewards_are_success_only() {
    let mut env = make("(reward: Sparse)").unwrap();
    let layout = env.info_layout().clone();
    assert_eq!(layout.reward_terms, ["success"]);
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut action = [0.0; 4];
    env.reset(Some(1000), &mut obs, info.get_mut(0)).unwrap();
    let mut total = 0.0;
    for _ in 0..100 {
        env.expert_action(&mut action);
        let (r, _, _) = step(env.as_mut(), &action, &mut obs, &mut info);
        assert!(r == 0.0 || r == 1.0, "{r}");
        assert_eq!(r, f32::from(u8::from(info.success[0])));
        total += r;
    }
    assert!(total > 0.0, "the expert succeeds on seed 1000");
}

/// Push-v1's `reach` term pays for the TCP's distance to the push start (6.5 cm behind the
/// cube on the goal line, 3.5 cm high); Push-v0's for its distance to the cube. The rest of
/// the reward is the same.
#[test]
fn push_v1_reaches_for_the_push_start_and_v0_for_the_cube() {
    let mut registry = Registry::new();
    rapt_manip::register(&mut registry).unwrap();
    let mut terms = Vec::new();
    for id in ["Push-v0", "Push-v1"] {
        let mut env = registry.make(id, "", None).unwrap();
        let layout = env.info_layout().clone();
        assert_eq!(layout.reward_terms, ["reach", "place", "success"]);
        let mut info = InfoBatch::new(1, &layout);
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        env.reset(Some(7), &mut obs, info.get_mut(0)).unwrap();
        step(env.as_mut(), &[0.0; 4], &mut obs, &mut info);
        let v = |i: usize| Vector::new(obs[i], obs[i + 1], obs[i + 2]);
        let (tcp, cube, goal) = (v(0), v(7), v(23));
        let dir = Vector::new(goal.x - cube.x, goal.y - cube.y, 0.0).normalize();
        assert!(
            (goal - cube).length() > 0.08,
            "seed 7 starts far from the goal"
        );
        let start = Vector::new(cube.x, cube.y, 0.035) - dir * 0.065;
        let want = if id == "Push-v0" { cube } else { start };
        let got = info.terms(0).to_vec();
        assert!(
            (got[0] + 0.5 * (tcp - want).length()).abs() < 1e-4,
            "{id}: {got:?}"
        );
        assert!(
            (got[1] + (goal - cube).length()).abs() < 1e-4,
            "{id}: {got:?}"
        );
        terms.push(got);
    }
    assert_ne!(terms[0][0], terms[1][0]);
    assert_eq!(terms[0][1], terms[1][1]);
}

/// Push-v2's `place` term adds 0.5 (1 − tanh(10 d)) to v1's −d (d = ‖cube − goal‖, m):
/// steep near the goal, so centring a cube inside the success radius pays. The other
/// terms, and the trajectory, are v1's.
#[test]
fn push_v2_pays_for_centring_the_cube_on_the_goal() {
    let mut registry = Registry::new();
    rapt_manip::register(&mut registry).unwrap();
    let mut runs = Vec::new();
    for id in ["Push-v1", "Push-v2"] {
        let mut env = registry.make(id, "", None).unwrap();
        let layout = env.info_layout().clone();
        let mut info = InfoBatch::new(1, &layout);
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut action = vec![0.0; 4];
        env.reset(Some(1000), &mut obs, info.get_mut(0)).unwrap();
        let mut steps = Vec::new();
        for _ in 0..100 {
            assert!(env.expert_action(&mut action));
            step(env.as_mut(), &action, &mut obs, &mut info);
            let d = (Vector::new(obs[23], obs[24], obs[25]) - Vector::new(obs[7], obs[8], obs[9]))
                .length();
            steps.push((obs.clone(), d, info.terms(0).to_vec()));
        }
        runs.push(steps);
    }
    let mut closest = f32::MAX;
    for ((obs1, d, t1), (obs2, _, t2)) in runs[0].iter().zip(&runs[1]) {
        assert_eq!(obs1, obs2, "the same trajectory");
        assert_eq!((t1[0], t1[2]), (t2[0], t2[2]), "reach and success are v1's");
        assert!((t1[1] + d).abs() < 1e-4, "v1 place = -d: {t1:?}, d {d}");
        let bonus = 0.5 * (1.0 - (10.0 * d).tanh());
        assert!(
            (t2[1] - (t1[1] + bonus)).abs() < 1e-4,
            "{t2:?} vs {t1:?}, d {d}"
        );
        closest = closest.min(*d);
    }
    assert!(closest < 0.05, "the expert brings the cube onto the goal");
}

#[test]
fn a_physics_blow_up_truncates_counts_and_never_leaks_nan() {
    let mut env = ManipEnv::new(Push::<0>::default(), ManipParams::default(), "Push-v0").unwrap();
    let layout = env.info_layout().clone();
    let blowups = layout.metric_index("physics_blowups").unwrap();
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    env.reset(Some(0), &mut obs, info.get_mut(0)).unwrap();
    // Fling the cube at 100 m/s: a runaway velocity.
    let scene = env.scene_mut().unwrap();
    let cube = scene.objects[0];
    scene.world.bodies[cube].set_linvel(Vector::new(100.0, 0.0, 0.0), true);
    let (r, te, tr) = step(&mut env, &[0.0; 4], &mut obs, &mut info);
    let v = env.scene().unwrap().world.bodies[cube].linvel();
    assert!(tr && !te, "a blow-up truncates (cube velocity {v:?})");
    assert_eq!(r, 0.0);
    assert_eq!(info.metrics_of(0)[blowups], 1.0);
    // Now NaN: the observation stays finite.
    env.reset(Some(0), &mut obs, info.get_mut(0)).unwrap();
    let scene = env.scene_mut().unwrap();
    scene.world.bodies[cube].set_linvel(Vector::new(f32::NAN, 0.0, 0.0), true);
    let (_, _, tr) = step(&mut env, &[0.0; 4], &mut obs, &mut info);
    let body = &env.scene().unwrap().world.bodies[cube];
    assert!(
        tr,
        "NaN truncates (cube at {:?}, velocity {:?})",
        body.translation(),
        body.linvel()
    );
    assert!(obs.iter().all(|v| v.is_finite()), "{obs:?}");
    assert!(info.metrics_of(0).iter().all(|v| v.is_finite()));
}

#[test]
fn bad_parameters_name_the_parameter() {
    let err = make("(substeps: 0)").err().expect("rejected");
    assert!(
        err.to_string().contains("substeps = 0 must be in 1..=50"),
        "{err}"
    );
    let err = make("(substeps: 2)").err().expect("rejected");
    assert!(err.to_string().contains("at most 0.01 s"), "{err}");
    let err = make("(substep: 4)").err().expect("rejected");
    assert!(err.to_string().contains("substep"), "{err}");
}
