//! The Franka Panda in the manipulation tasks: ids, home pose, control, physics health,
//! and bad robot parameters.

mod common;

use common::step;
use rapt_core::{Env, InfoBatch, Registry, rng_from_seed};
use rapt_manip::{ManipEnv, ManipParams, Robot, RobotKind, robot};

fn registry() -> Registry {
    let mut registry = Registry::new();
    rapt_manip::register(&mut registry).unwrap();
    registry
}

const PANDA_IDS: [&str; 4] = [
    "PandaReach-v0",
    "PandaPush-v0",
    "PandaPickPlace-v0",
    "PandaInsert-v0",
];

#[test]
fn every_task_has_a_panda_id_whose_defaults_name_the_robot() {
    let registry = registry();
    let ids = registry.ids();
    for id in PANDA_IDS {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
        let defaults = (registry.spec(id).unwrap().default_params)();
        assert!(defaults.contains("robot: Some(Panda)"), "{id}: {defaults}");
    }
    let defaults = (registry.spec("Push-v2").unwrap().default_params)();
    assert!(defaults.contains("robot: Some(RaptArm)"), "{defaults}");
}

#[test]
fn both_robots_start_with_the_tcp_at_the_same_home_pointing_down() {
    let home = robot::home_tcp();
    for kind in [RobotKind::RaptArm, RobotKind::Panda] {
        let robot = Robot::get(kind);
        let mut world = rapt_sim::new_world(&rapt_sim::WorldConfig::default());
        let arm = robot.insert(&mut world);
        let tcp = robot.tcp(&world, &arm);
        assert!(
            (tcp - home).length() < 2e-3,
            "{kind:?}: TCP {tcp:?} vs {home:?}"
        );
        let hand = arm.link_pose(&world, robot.hand_link).rotation;
        assert!(
            hand.angle_between(robot.down) < 0.02,
            "{kind:?}: hand not pointing down"
        );
        // Joint limits hold at home (joint 4's range excludes 0).
        for (q, spec) in robot.home.iter().zip(arm.specs()) {
            assert!(
                (spec.lower..=spec.upper).contains(q),
                "{kind:?}: {} = {q}",
                spec.name
            );
        }
    }
}

#[test]
fn a_panda_id_runs_the_panda_and_pushes_with_its_expert() {
    let mut env = registry().make("PandaPush-v0", "", None).unwrap();
    let layout = env.info_layout().clone();
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut action = [0.0; 4];
    let mut successes = 0;
    for seed in 0..5 {
        env.reset(Some(500 + seed), &mut obs, info.get_mut(0))
            .unwrap();
        loop {
            assert!(env.expert_action(&mut action));
            let (_, te, tr) = step(env.as_mut(), &action, &mut obs, &mut info);
            if te || tr {
                successes += u32::from(info.success[0]);
                break;
            }
        }
    }
    assert!(successes >= 4, "{successes}/5 expert pushes on the Panda");
}

#[test]
fn joint_delta_control_on_the_panda_has_seven_joints() {
    let mut env = registry()
        .make("PandaReach-v0", "(control: JointDelta)", None)
        .unwrap();
    assert_eq!(env.action_space().flat_dim(), 8);
    let layout = env.info_layout().clone();
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    env.reset(Some(3), &mut obs, info.get_mut(0)).unwrap();
    let start = [obs[0], obs[1]];
    let mut turn = [0.0; 8];
    turn[0] = 1.0;
    for _ in 0..10 {
        step(env.as_mut(), &turn, &mut obs, &mut info);
    }
    assert!(
        (obs[1] - start[1]).abs() > 0.1,
        "TCP y {} -> {}",
        start[1],
        obs[1]
    );
}

#[test]
fn random_actions_at_the_joint_limits_never_blow_the_panda_up() {
    // Physics health: bang-bang joint-delta actions drive every joint into its limits and
    // the fingers open and shut against the cube; no body may run away.
    let registry = registry();
    for id in PANDA_IDS {
        let mut env = registry.make(id, "(control: JointDelta)", None).unwrap();
        let layout = env.info_layout().clone();
        let blowups = layout.metric_index("physics_blowups").unwrap();
        let mut info = InfoBatch::new(1, &layout);
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut rng = rng_from_seed(7);
        let mut action = vec![0.0; env.action_space().flat_dim()];
        for episode in 0..4 {
            env.reset(Some(episode), &mut obs, info.get_mut(0)).unwrap();
            for _ in 0..150 {
                for a in &mut action {
                    *a = if rand::Rng::random_bool(&mut rng, 0.5) {
                        1.0
                    } else {
                        -1.0
                    };
                }
                let (_, te, tr) = step(env.as_mut(), &action, &mut obs, &mut info);
                assert_eq!(info.metrics_of(0)[blowups], 0.0, "{id} episode {episode}");
                assert!(obs.iter().all(|x| x.is_finite()));
                if te || tr {
                    break;
                }
            }
        }
    }
}

#[test]
fn another_robot_on_a_panda_id_is_an_error_naming_the_way_to_it() {
    let err = registry()
        .make("PandaPush-v0", "(robot: RaptArm)", None)
        .err()
        .expect("rejected")
        .to_string();
    assert!(
        err.contains("Push-v2") && err.contains("robot: RaptArm"),
        "{err}"
    );
    // The unprefixed id takes either robot.
    let env = ManipEnv::new(
        rapt_manip::tasks::Push::<2>::default(),
        ManipParams {
            robot: Some(RobotKind::Panda),
            ..ManipParams::default()
        },
        "Push-v2",
    )
    .unwrap();
    assert_eq!(env.robot().kind, RobotKind::Panda);
}

#[test]
fn the_panda_is_drawn_from_its_link_meshes() {
    let mut env = registry().make("PandaPickPlace-v0", "", None).unwrap();
    let layout = env.info_layout().clone();
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    env.reset(Some(1), &mut obs, info.get_mut(0)).unwrap();
    let mut rgb = Vec::new();
    for view in ["front", "side", "wrist"] {
        assert!(env.render(view, 64, 64, &mut rgb), "{view}");
        // The arm's light grey covers a visible part of the front and side views.
        let grey = rgb
            .chunks_exact(3)
            .filter(|p| p[0] > 120 && (i32::from(p[0]) - i32::from(p[2])).abs() < 20)
            .count();
        if view != "wrist" {
            assert!(grey > 64, "{view}: {grey} arm pixels");
        }
    }
}
