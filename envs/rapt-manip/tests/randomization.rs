//! Domain randomization: every parameter draws per episode from the episode's seed (two
//! seeds differ, the same seed repeats), reaches the simulation or the pixels, and is off
//! by default without disturbing anything.

mod common;

use common::step;
use rapt_core::{Env, InfoBatch};
use rapt_manip::tasks::{Insert, Push, Reach};
use rapt_manip::{EpisodeDraws, ManipEnv, ManipParams, Randomization, RobotKind, Task};

fn params(randomize: Randomization) -> ManipParams {
    ManipParams {
        randomize: Some(randomize),
        ..ManipParams::default()
    }
}

fn push(randomize: Randomization) -> ManipEnv<Push> {
    ManipEnv::new(Push::default(), params(randomize), "Push-v2").unwrap()
}

fn reset<T: Task>(env: &mut ManipEnv<T>, seed: u64) -> Vec<f32> {
    let layout = env.info_layout().clone();
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    env.reset(Some(seed), &mut obs, info.get_mut(0)).unwrap();
    obs
}

fn draws_of<T: Task>(env: &mut ManipEnv<T>, seed: u64) -> EpisodeDraws {
    reset(env, seed);
    env.draws().unwrap().clone()
}

/// Seeds 1 and 2 draw differently, seed 1 twice draws the same, and `field` shows it.
fn check_draws<F: PartialEq + std::fmt::Debug>(
    name: &str,
    randomize: Randomization,
    field: impl Fn(&EpisodeDraws) -> F,
) {
    let mut env = push(randomize);
    let a = draws_of(&mut env, 1);
    let b = draws_of(&mut env, 2);
    let again = draws_of(&mut env, 1);
    assert_ne!(field(&a), field(&b), "{name}: seeds 1 and 2 drew the same");
    assert_eq!(
        field(&a),
        field(&again),
        "{name}: seed 1 drew differently twice"
    );
    assert_ne!(
        field(&a),
        field(&EpisodeDraws::default()),
        "{name}: nothing drawn"
    );
}

#[test]
fn object_size_mass_and_friction_reach_the_cube() {
    let r = Randomization {
        object_scale: [0.8, 1.2],
        object_mass: [0.5, 2.0],
        object_friction: Some([0.2, 1.0]),
        table_friction: Some([0.3, 1.2]),
        ..Randomization::default()
    };
    check_draws("object_scale", r.clone(), |d| d.object_scale.to_bits());
    check_draws("object_mass", r.clone(), |d| d.object_mass.to_bits());
    check_draws("object_friction", r.clone(), |d| d.object_friction);
    check_draws("table_friction", r.clone(), |d| d.table_friction);
    let mut env = push(r);
    for seed in [1, 2, 3] {
        reset(&mut env, seed);
        let d = env.draws().unwrap().clone();
        let scene = env.scene().unwrap();
        let cube = &scene.world.bodies[scene.objects[0]];
        let collider = &scene.world.colliders[cube.colliders()[0]];
        let half = collider.shape().as_cuboid().unwrap().half_extents.x;
        assert!((half - 0.025 * d.object_scale).abs() < 1e-6, "seed {seed}");
        assert!(
            (cube.mass() - 0.1 * d.object_mass).abs() < 1e-5,
            "seed {seed}"
        );
        assert_eq!(Some(collider.friction()), d.object_friction);
        // Resting on the table at its new size.
        assert!((cube.translation().z - half).abs() < 1e-5, "seed {seed}");
        let table = &scene.world.bodies[scene.table];
        let top = &scene.world.colliders[table.colliders()[0]];
        assert_eq!(Some(top.friction()), d.table_friction);
    }
}

#[test]
fn placement_spread_widens_the_placement_ranges() {
    let spread = Randomization {
        placement_spread: 0.08,
        ..Randomization::default()
    };
    let mut reach = ManipEnv::new(Reach, params(spread.clone()), "Reach-v0").unwrap();
    let mut plain = ManipEnv::new(Reach, ManipParams::default(), "Reach-v0").unwrap();
    let mut widest = 0.0f32;
    for seed in 0..100 {
        reset(&mut reach, seed);
        let goal = reach.scene().unwrap().goal;
        widest = widest.max(goal.x.abs()).max(goal.y.abs());
        assert!(goal.x.abs() <= 0.23 && goal.y.abs() <= 0.23);
        reset(&mut plain, seed);
        let plain_goal = plain.scene().unwrap().goal;
        assert!(plain_goal.x.abs() <= 0.15 && plain_goal.y.abs() <= 0.15);
    }
    assert!(widest > 0.18, "spread never used: widest goal {widest}");
    reset(&mut reach, 5);
    let first = reach.scene().unwrap().goal;
    reset(&mut reach, 5);
    assert_eq!(first, reach.scene().unwrap().goal);
}

fn front<T: Task>(env: &mut ManipEnv<T>, seed: u64) -> Vec<u8> {
    reset(env, seed);
    let mut rgb = Vec::new();
    assert!(env.render("front", 48, 48, &mut rgb));
    rgb
}

#[test]
fn camera_light_and_colour_jitter_change_the_pixels_per_seed() {
    let cases = [
        (
            "camera_jitter",
            Randomization {
                camera_jitter: 0.03,
                ..Randomization::default()
            },
        ),
        (
            "light_jitter",
            Randomization {
                light_jitter: 0.6,
                ..Randomization::default()
            },
        ),
        (
            "color_jitter",
            Randomization {
                color_jitter: 0.2,
                ..Randomization::default()
            },
        ),
    ];
    let mut plain = push(Randomization::default());
    for (name, r) in cases {
        let mut env = push(r);
        // The scene (cube, goal) is the same as without jitter: only the look changes.
        reset(&mut env, 1);
        reset(&mut plain, 1);
        assert_eq!(
            env.scene().unwrap().goal,
            plain.scene().unwrap().goal,
            "{name}"
        );
        let a = front(&mut env, 1);
        assert_ne!(a, front(&mut plain, 1), "{name}: no effect on the frame");
        assert_eq!(
            a,
            front(&mut env, 1),
            "{name}: seed 1 renders differently twice"
        );
        let (da, db) = (draws_of(&mut env, 1), draws_of(&mut env, 2));
        assert_ne!(da, db, "{name}: seeds 1 and 2 drew the same");
    }
}

/// TCP x after each of `steps` full +x actions from seed 4's reset.
fn tcp_track(env: &mut ManipEnv<Push>, steps: usize) -> Vec<f32> {
    let layout = env.info_layout().clone();
    let mut info = InfoBatch::new(1, &layout);
    let mut obs = reset(env, 4);
    (0..steps)
        .map(|_| {
            step(env, &[1.0, 0.0, 0.0, 1.0], &mut obs, &mut info);
            obs[0]
        })
        .collect()
}

#[test]
fn action_noise_and_latency_act_on_the_commands() {
    let mut plain = push(Randomization::default());
    let clean = tcp_track(&mut plain, 6);
    let mut noisy = push(Randomization {
        action_noise: 0.3,
        ..Randomization::default()
    });
    let a = tcp_track(&mut noisy, 6);
    assert_ne!(a, clean, "noise changed nothing");
    assert_eq!(a, tcp_track(&mut noisy, 6), "same seed, different noise");

    let mut late = push(Randomization {
        action_latency: 2,
        ..Randomization::default()
    });
    let delayed = tcp_track(&mut late, 6);
    // Two steps of holding still at home, then the moves start.
    let home = {
        let obs = reset(&mut plain, 4);
        obs[0]
    };
    assert!(
        (delayed[0] - home).abs() < 2e-3 && (delayed[1] - home).abs() < 2e-3,
        "{delayed:?}"
    );
    // Then the same motion, two steps late.
    assert_eq!(delayed[2..], clean[..4], "{delayed:?} vs {clean:?}");
}

#[test]
fn randomization_with_everything_off_changes_nothing() {
    let mut plain = push(Randomization::default());
    let mut none = ManipEnv::new(Push::<2>::default(), ManipParams::default(), "Push-v2").unwrap();
    assert_eq!(tcp_track(&mut plain, 5), tcp_track(&mut none, 5));
    for seed in [1, 7] {
        assert_eq!(reset(&mut plain, seed), reset(&mut none, seed));
    }
}

#[test]
fn bad_ranges_are_errors_naming_the_parameter() {
    let bad = |r: Randomization| {
        ManipEnv::new(Push::<2>::default(), params(r), "Push-v2")
            .expect_err("rejected")
            .to_string()
    };
    let e = bad(Randomization {
        object_scale: [1.2, 0.9],
        ..Randomization::default()
    });
    assert!(e.contains("randomize.object_scale"), "{e}");
    let e = bad(Randomization {
        action_latency: 9,
        ..Randomization::default()
    });
    assert!(e.contains("randomize.action_latency"), "{e}");
    // A peg scaled past its hole would make Insert unsolvable.
    let e = ManipEnv::new(
        Insert::<2>::default(),
        params(Randomization {
            object_scale: [1.0, 1.5],
            ..Randomization::default()
        }),
        "Insert-v2",
    )
    .expect_err("rejected")
    .to_string();
    assert!(e.contains("object_scale") && e.contains("hole"), "{e}");
    // Panda envs take the same parameters.
    ManipEnv::new(
        Push::<2>::default(),
        ManipParams {
            robot: Some(RobotKind::Panda),
            ..params(Randomization {
                object_scale: [0.9, 1.1],
                ..Randomization::default()
            })
        },
        "PandaPush-v0",
    )
    .unwrap();
}
