//! The privileged driving expert reaches a driving score ≥ 90 on Drive-v0's default
//! traffic (and finishes every empty route), over held-out seeds.

use rapt_core::{Env, EnvBuffers};

/// Mean (route completion, driving score, success rate) of the expert on `id`.
fn expert(id: &str, episodes: u64) -> (f64, f64, f64) {
    let registry = rapt::registry();
    let mut env = registry.make(id, "(observation: Vector)", None).unwrap();
    let layout = env.info_layout().clone();
    let (rc, ds) = (
        layout.metric_index("route_completion").unwrap(),
        layout.metric_index("driving_score").unwrap(),
    );
    let mut action = vec![0.0; 2];
    let mut b = EnvBuffers::new(&env);
    let (mut sum_rc, mut sum_ds, mut successes) = (0.0, 0.0, 0);
    for seed in 0..episodes {
        b.reset(&mut env, Some(7_000 + seed)).unwrap();
        while !b.ended() {
            assert!(env.expert_action(&mut action));
            b.step(&mut env, &action).unwrap();
        }
        let m = b.info.metrics_of(0);
        sum_rc += f64::from(m[rc]);
        sum_ds += f64::from(m[ds]);
        successes += u32::from(b.info.success[0]);
    }
    let n = episodes as f64;
    (sum_rc / n, sum_ds / n, f64::from(successes) / n)
}

#[test]
fn the_expert_drives_with_a_driving_score_of_at_least_90() {
    let (rc, ds, success) = expert("Drive-v0", 40);
    eprintln!("Drive-v0 expert: RC {rc:.1}, DS {ds:.1}, success {success:.2}");
    assert!(
        ds >= 90.0,
        "driving score {ds:.1} (route completion {rc:.1})"
    );
    let (rc, ds, success) = expert("DriveEmpty-v0", 10);
    assert_eq!((rc, ds, success), (100.0, 100.0, 1.0));
}

/// CARLA's towns from OpenDRIVE: the expert drives them as it drives the generated towns
/// (`make test-long` runs 200 routes per town: `the_expert_drives_carla_towns_on_200_routes`).
#[test]
fn the_expert_drives_carla_towns() {
    for id in ["DriveTown01-v0", "DriveTown02-v0"] {
        let (rc, ds, success) = expert(id, 8);
        eprintln!("{id} expert: RC {rc:.1}, DS {ds:.1}, success {success:.2}");
        assert!(ds >= 90.0 && rc >= 95.0, "{id}: DS {ds:.1}, RC {rc:.1}");
    }
}

#[test]
#[ignore = "200 routes per town: make test-long"]
fn the_expert_drives_carla_towns_on_200_routes() {
    for id in ["DriveTown01-v0", "DriveTown02-v0"] {
        let (rc, ds, success) = expert(id, 200);
        eprintln!("{id} expert: RC {rc:.1}, DS {ds:.1}, success {success:.2}");
        assert!(ds >= 90.0 && rc >= 95.0, "{id}: DS {ds:.1}, RC {rc:.1}");
    }
}
