//! Tests of the driving env: rewards, infractions, maps, observations.
use super::*;
use rapt_core::EnvBuffers;

fn reset(env: &mut DriveEnv, seed: u64) -> EnvBuffers {
    let mut b = EnvBuffers::new(env);
    b.reset(env, Some(seed)).unwrap();
    b
}

fn step(env: &mut DriveEnv, b: &mut EnvBuffers, action: [f32; 2]) {
    b.step(env, &action).unwrap();
}

fn metric(b: &EnvBuffers, name: &str) -> f32 {
    b.info.metrics_of(0)[METRICS.iter().position(|m| *m == name).unwrap()]
}

fn empty() -> DriveEnv {
    let mut p = DriveParams::default();
    p.traffic.vehicles = 0;
    p.observation = ObservationMode::Vector;
    DriveEnv::new("DriveEmpty-v0", p).unwrap()
}

#[test]
fn a_parked_car_earns_nothing_and_is_ended_as_blocked() {
    let mut env = empty();
    let mut b = reset(&mut env, 3);
    let blocked_steps = (env.params.reward.blocked_seconds / env.params.control_dt) as usize;
    for k in 0..blocked_steps + 5 {
        step(&mut env, &mut b, [0.0, -1.0]);
        assert_eq!(b.reward, 0.0, "step {k}: no survival bonus");
        if b.terminated {
            assert!(k + 2 >= blocked_steps, "ended early at step {k}");
            assert_eq!(metric(&b, "blocked"), 1.0);
            assert!((metric(&b, "infraction_score") - 0.7).abs() < 1e-6);
            return;
        }
    }
    panic!("a parked car was never ended as blocked");
}

#[test]
fn finishing_a_route_sums_to_the_route_completion_total() {
    let mut p = DriveParams::default();
    p.traffic.vehicles = 0;
    p.observation = ObservationMode::Vector;
    // Factors off: every metre of progress pays in full.
    p.reward.speeding_tolerance = 0.0;
    p.reward.lane_centre_factor = false;
    p.reward.ttc_factor = 1.0;
    p.reward.comfort_window = 0;
    let mut env = DriveEnv::new("DriveEmpty-v0", p).unwrap();
    for seed in 0..3 {
        let mut b = reset(&mut env, seed);
        let mut total = 0.0f64;
        let mut action = [0.0; 2];
        for _ in 0..3000 {
            assert!(env.expert_action(&mut action));
            step(&mut env, &mut b, action);
            total += f64::from(b.reward);
            if b.terminated {
                break;
            }
        }
        assert!(
            b.info.success[0],
            "seed {seed}: the expert finishes an empty route"
        );
        assert!(
            (total - 100.0).abs() < 1e-3,
            "seed {seed}: rewards sum to {total}"
        );
        assert_eq!(metric(&b, "route_completion"), 100.0);
        assert_eq!(metric(&b, "driving_score"), 100.0);
    }
}

/// Every hard infraction ends the episode with its own reason, in precedence order.
#[test]
fn each_hard_infraction_is_detected_with_its_reason() {
    let params = DriveParams {
        observation: ObservationMode::Vector,
        ..DriveParams::default()
    };
    let mut env = DriveEnv::new("Drive-v0", params).unwrap();
    reset(&mut env, 11);
    let mut e = env.episode.take().unwrap();
    assert_eq!(env.infraction(&e, e.s), None);
    // Collision: a car on top of the ego.
    let saved = e.traffic.cars[0].pose;
    e.traffic.cars[0].pose = (V2::new(e.state.x + 1.0, e.state.y), e.state.yaw);
    assert_eq!(env.infraction(&e, e.s), Some(Infraction::Collision));
    e.traffic.cars[0].pose = saved;
    // A pedestrian in front of the bumper.
    e.peds.push(Pedestrian {
        crosswalk: 0,
        forward: true,
        walked: 1.0,
        wait: 0.0,
        speed: 1.4,
        at: V2::new(e.state.x, e.state.y) + V2::from_yaw(e.state.yaw) * 2.4,
    });
    assert_eq!(env.infraction(&e, e.s), Some(Infraction::Pedestrian));
    e.peds.clear();
    // Red light: crossing a stop line while its light is red.
    if let Some(&(s_stop, light)) = e.route_stops.first() {
        let red = (0..2000)
            .map(|k| k as f32 * 0.1)
            .find(|&t| e.map.map.light_state(light, t) == LightState::Red)
            .unwrap();
        let (t0, s0) = (e.t, e.s);
        (e.t, e.s) = (red, s_stop + 0.3);
        let mut moved = e.traffic.clone();
        moved.cars.clear();
        let cars = std::mem::replace(&mut e.traffic, moved);
        assert_eq!(env.infraction(&e, s_stop - 0.3), Some(Infraction::RedLight));
        let green = (0..2000)
            .map(|k| k as f32 * 0.1)
            .find(|&t| e.map.map.light_state(light, t) == LightState::Green)
            .unwrap();
        e.t = green;
        assert_eq!(env.infraction(&e, s_stop - 0.3), None);
        (e.t, e.s, e.traffic) = (t0, s0, cars);
    }
    // Off road: far from any road.
    let x = e.state.x;
    e.state.x = e.map.map.max.x + 100.0;
    assert_eq!(env.infraction(&e, e.s), Some(Infraction::OffRoad));
    e.state.x = x;
    // Off route, blocked, timeout.
    e.lateral = env.params.reward.off_route_distance + 0.1;
    assert_eq!(env.infraction(&e, e.s), Some(Infraction::OffRoute));
    e.lateral = 0.0;
    e.still = env.params.reward.blocked_seconds;
    assert_eq!(env.infraction(&e, e.s), Some(Infraction::Blocked));
    e.still = 0.0;
    e.t = env.timeout(e.route.length());
    assert_eq!(env.infraction(&e, e.s), Some(Infraction::Timeout));
}

#[test]
fn driving_off_the_road_terminates_with_off_road_or_off_route() {
    let mut env = empty();
    let mut b = reset(&mut env, 5);
    for _ in 0..400 {
        step(&mut env, &mut b, [1.0, 1.0]);
        if b.terminated {
            break;
        }
    }
    assert!(b.terminated && !b.info.success[0]);
    assert_eq!(metric(&b, "off_road") + metric(&b, "off_route"), 1.0);
    assert!(metric(&b, "infraction_score") < 1.0 || metric(&b, "off_route") == 1.0);
}

#[test]
fn the_built_in_hand_written_maps_drive_and_a_bad_path_is_named() {
    for name in ["ring", "cross"] {
        let params = DriveParams {
            map: MapSource::File(name.into()),
            observation: ObservationMode::Vector,
            ..DriveParams::default()
        };
        let mut env = DriveEnv::new("Drive-v0", params).unwrap();
        let mut b = reset(&mut env, 1);
        let mut a = [0.0; 2];
        for _ in 0..3000 {
            env.expert_action(&mut a);
            step(&mut env, &mut b, a);
            if b.terminated {
                break;
            }
        }
        assert!(
            metric(&b, "route_completion") > 50.0,
            "{name}: {}",
            metric(&b, "route_completion")
        );
    }
    let cross = env_lights("cross");
    assert_eq!(
        cross, 5,
        "the cross map: one 4-way and four 3-way junctions with lights"
    );
    let params = DriveParams {
        map: MapSource::File("no/such/map.ron".into()),
        ..DriveParams::default()
    };
    let err = DriveEnv::new("Drive-v0", params).unwrap_err().to_string();
    assert!(
        err.contains("no/such/map.ron") && err.contains("built-in"),
        "{err}"
    );
}

fn env_lights(name: &str) -> usize {
    let params = DriveParams {
        map: MapSource::File(name.into()),
        ..DriveParams::default()
    };
    let env = DriveEnv::new("Drive-v0", params).unwrap();
    env.file_map
        .unwrap()
        .map
        .nodes
        .iter()
        .filter(|n| n.signalized)
        .count()
}

#[test]
fn the_observation_has_the_raster_then_the_measurements() {
    let mut env = DriveEnv::new("Drive-v0", DriveParams::default()).unwrap();
    let b = reset(&mut env, 2);
    let plane = 64 * 64;
    assert_eq!(b.obs.len(), CHANNELS.len() * plane + MEASUREMENTS);
    // The ego stands on the road, on its route.
    let (row, col) = (64 - 1 - 16, 32);
    assert_eq!(b.obs[row * 64 + col], 1.0, "drivable under the ego");
    assert_eq!(
        b.obs[plane + (row - 4) * 64 + col],
        1.0,
        "route ahead of the ego"
    );
    let raster = &b.obs[..CHANNELS.len() * plane];
    assert!(raster.iter().all(|v| (0.0..=1.0).contains(v)));
    // Measurements: standing still, the next waypoint 5 m ahead.
    let m = &b.obs[CHANNELS.len() * plane..];
    assert_eq!(m[0], 0.0);
    assert!(
        (m[13] - 5.0 / 40.0).abs() < 0.02 && m[14].abs() < 0.02,
        "{m:?}"
    );
}

#[test]
fn the_chase_and_top_down_views_show_road_ego_and_route() {
    let mut env = DriveEnv::new("Drive-v0", DriveParams::default()).unwrap();
    let mut b = reset(&mut env, 6);
    step(&mut env, &mut b, [0.0, 0.5]);
    assert_eq!(env.views(), ["chase", "top_down", "map"]);
    let count = |rgb: &[u8], c: [u8; 3]| {
        rgb.chunks_exact(3)
            .filter(|p| p.iter().zip(c).all(|(a, b)| a.abs_diff(b) < 40))
            .count()
    };
    let mut frames = Vec::new();
    for view in ["chase", "top_down"] {
        let mut rgb = Vec::new();
        assert!(env.render(view, 64, 64, &mut rgb));
        let mut again = Vec::new();
        env.render(view, 64, 64, &mut again);
        assert_eq!(rgb, again, "{view}: deterministic");
        assert!(
            count(&rgb, [200, 36, 36]) > 10,
            "{view}: the ego (red) is visible"
        );
        assert!(count(&rgb, [60, 60, 65]) > 100, "{view}: road is visible");
        frames.push(rgb);
    }
    assert!(
        count(&frames[1], [55, 180, 80]) > 10,
        "top_down: the route (green) is visible"
    );
    assert!(!env.render("front", 64, 64, &mut Vec::new()));
}

#[test]
fn light_timings_apply_to_generated_maps_too() {
    let mut p = DriveParams::default();
    p.traffic.vehicles = 0;
    p.observation = ObservationMode::Vector;
    let lights = crate::map::LightTiming {
        green: 42.0,
        yellow: 4.0,
        all_red: 2.0,
    };
    p.lights = lights;
    let mut env = DriveEnv::new("Drive-v0", p).unwrap();
    reset(&mut env, 3);
    let (built, _) = env.map_and_route().unwrap();
    assert_eq!(built.map.timing, lights);
    // Zero timings (every light red for ever) are refused, naming the parameter.
    let mut bad = DriveParams::default();
    bad.lights.green = 0.0;
    let err = DriveEnv::new("Drive-v0", bad).err().unwrap().to_string();
    assert!(err.contains("lights.green"), "{err}");
}

#[test]
fn waypoints_past_the_route_end_go_straight_on_or_stay_at_the_end() {
    // An L: 10 m east, then 10 m north; its end heading is north.
    let line = Polyline::new(vec![
        V2::new(0.0, 0.0),
        V2::new(10.0, 0.0),
        V2::new(10.0, 10.0),
    ]);
    let near = |a: V2, b: V2| a.dist(b) < 1e-4;
    for mode in [RouteEndWaypoints::Extend, RouteEndWaypoints::Clamp] {
        assert!(
            near(waypoint(&line, 15.0, mode), V2::new(10.0, 5.0)),
            "{mode:?}"
        );
    }
    assert!(near(
        waypoint(&line, 26.0, RouteEndWaypoints::Extend),
        V2::new(10.0, 16.0)
    ));
    assert!(near(
        waypoint(&line, 26.0, RouteEndWaypoints::Clamp),
        V2::new(10.0, 10.0)
    ));
}
