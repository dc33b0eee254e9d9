//! What holds a Drive-v0 policy back: roll a checkpoint out on held-out routes and report,
//! from the measurement vector and the episode outcomes, how often a red light is in
//! sight, what the policy does about it, what the critic expects while it waits at one
//! against the return it then gets, and the situation just before each collision and
//! red-light infraction (docs/driving-training.md).
//!
//! `cargo run --release --example drive_diagnose -- RUN_DIR_OR_CHECKPOINT [EPISODES] [SEED]`
//!
//! Episodes run with the policy's mean action, from seeds `10⁹ + SEED` on (default
//! `SEED` 5,000,000: routes the periodic and final evaluations do not use). Needs a
//! Drive-family run with `observation: Vector` or a raster (the measurements are the
//! observation's last 29 values either way). Prints JSON.

use std::path::Path;

use anyhow::{Context, bail};
use rapt_core::{VecEnv, VecEnvOptions};
use rapt_ppo::{DeviceChoice, EVAL_SEED_OFFSET, Learner};
use serde_json::json;

/// Slots of the measurement vector (`envs/rapt-drive/src/env.rs`, `write_measurements`).
const MEASUREMENTS: usize = 29;
const SPEED: usize = 0; // m/s ÷ 10
const LIGHT: usize = 6; // 0 none, 0.33 green, 0.66 yellow, 1 red
const LIGHT_DIST: usize = 7; // m ÷ 60
const GAP: usize = 8; // m ÷ 60, 1 = none
const REL_SPEED: usize = 9; // m/s ÷ 10
const IN_JUNCTION: usize = 10;
const TIME_LEFT: usize = 11; // fraction of the time budget
/// Metres the light and leader slots see (`SENSE` in the env).
const SENSE: f32 = 60.0;
/// The ego's hardest braking, m/s² (docs/envs/Drive-v0.md).
const MAX_BRAKE: f32 = 7.5;

/// One step of one episode, as the diagnosis needs it.
#[derive(Clone, Copy)]
struct Step {
    speed: f32,
    light: f32,
    light_dist: f32,
    gap: f32,
    rel_speed: f32,
    in_junction: bool,
    time_left: f32,
    /// Lateral offset from the route, m; heading error, rad; share of the route left.
    lateral: f32,
    heading_error: f32,
    route_left: f32,
    /// The last action (steering, acceleration) as the env reports it.
    last_action: [f32; 2],
    value: f32,
    reward: f32,
    /// The reward's factors this step, in the order of [`FACTORS`] (1 where absent).
    factors: [f32; FACTORS.len()],
}

impl Step {
    fn red(&self) -> bool {
        self.light > 0.9
    }
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, s) = xs.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    (n > 0).then(|| s / n as f64)
}

/// The reward factors reported, as Drive-v0's info terms name them.
const FACTORS: [&str; 5] = [
    "factor_speed",
    "factor_lane",
    "factor_wrong_lane",
    "factor_ttc",
    "factor_comfort",
];

/// The outcome columns of Drive-v0's metrics, in the order reported.
const OUTCOMES: [&str; 6] = [
    "collision",
    "red_light",
    "off_road",
    "off_route",
    "blocked",
    "timeout",
];

struct Episode {
    steps: Vec<Step>,
    /// `None` for success or an episode that ended without an infraction.
    outcome: Option<&'static str>,
    success: bool,
}

fn run(target: &Path, episodes: usize, seed: u64) -> anyhow::Result<serde_json::Value> {
    let (run_dir, checkpoint) =
        rapt_rundir::locate_checkpoint(target, rapt_rundir::CheckpointDir::updates)?;
    let cfg = rapt::config::load(&run_dir.join("config.ron"), &[])?.config;
    if !cfg.env.id.starts_with("Drive") {
        bail!(
            "{}: env `{}` is not a Drive env",
            run_dir.display(),
            cfg.env.id
        );
    }
    let (learner, _) = Learner::load_checkpoint(&checkpoint, DeviceChoice::Cpu.resolve()?)?;
    let gamma = f64::from(learner.config().gamma);
    let n = cfg.env.num_envs.min(episodes).max(1);
    let options = VecEnvOptions {
        num_envs: n,
        threads: 1,
        max_episode_steps: cfg.env.max_episode_steps,
    };
    let mut venv =
        rapt_registry::registry().make_vec(&cfg.env.id, cfg.env.params_text(), &options)?;
    let space = learner.check_fits(&venv)?;
    let layout = venv.info_layout().clone();
    let outcome_index: Vec<(&'static str, usize)> = OUTCOMES
        .iter()
        .filter_map(|&name| layout.metric_index(name).map(|k| (name, k)))
        .collect();
    let factor_index: Vec<Option<usize>> = FACTORS.iter().map(|f| layout.term_index(f)).collect();
    let dim = learner.obs_dim();
    let mut raw = venv.reset(Some(EVAL_SEED_OFFSET + seed))?.obs.clone();
    let mut running: Vec<Vec<Step>> = vec![Vec::new(); n];
    let mut done: Vec<Episode> = Vec::with_capacity(episodes);
    let mut env_actions = vec![0.0; n * space.env_dim()];
    let mut obs = raw.clone();
    while done.len() < episodes {
        obs.copy_from_slice(&raw);
        learner.normalize_frozen(&mut obs);
        let values = learner.values(&obs);
        let actions = learner.act_deterministic(&obs);
        learner.env_actions(&actions, &space.low, &space.high, &mut env_actions);
        let b = venv.step(&env_actions)?;
        for i in 0..n {
            let m = &raw[(i + 1) * dim - MEASUREMENTS..(i + 1) * dim];
            running[i].push(Step {
                speed: m[SPEED] * 10.0,
                light: m[LIGHT],
                light_dist: m[LIGHT_DIST] * SENSE,
                gap: m[GAP] * SENSE,
                rel_speed: m[REL_SPEED] * 10.0,
                in_junction: m[IN_JUNCTION] > 0.5,
                time_left: m[TIME_LEFT],
                lateral: m[3] * 4.0,
                heading_error: m[4],
                route_left: m[12],
                last_action: [m[1], m[2]],
                value: values[i],
                reward: b.rewards[i],
                factors: {
                    let info = if b.ended[i] { &b.final_info } else { &b.info };
                    let terms = info.terms(i);
                    std::array::from_fn(|k| factor_index[k].map_or(1.0, |j| terms[j]))
                },
            });
            if b.ended[i] {
                let metrics = b.final_info.metrics_of(i);
                let outcome = outcome_index
                    .iter()
                    .find(|(_, k)| metrics[*k] > 0.5)
                    .map(|(name, _)| *name);
                let steps = std::mem::take(&mut running[i]);
                if done.len() < episodes {
                    done.push(Episode {
                        steps,
                        outcome,
                        success: b.final_info.success[i],
                    });
                }
            }
        }
        raw.copy_from_slice(&b.obs);
    }
    Ok(report(&done, gamma))
}

/// Discounted return from each step to the end of the episode.
fn returns(steps: &[Step], gamma: f64) -> Vec<f64> {
    let mut g = 0.0;
    let mut out = vec![0.0; steps.len()];
    for (t, s) in steps.iter().enumerate().rev() {
        g = f64::from(s.reward) + gamma * g;
        out[t] = g;
    }
    out
}

/// The steps of the last approach to a red light before the end: from the first step of
/// the run of steps with a light in sight that ends the episode.
fn last_approach(steps: &[Step]) -> &[Step] {
    let start = steps
        .iter()
        .rposition(|s| s.light == 0.0)
        .map_or(0, |k| k + 1);
    &steps[start..]
}

fn report(episodes: &[Episode], gamma: f64) -> serde_json::Value {
    let all = || episodes.iter().flat_map(|e| e.steps.iter());
    let total_steps = all().count();
    let red_steps = all().filter(|s| s.red()).count();
    let with_red = episodes
        .iter()
        .filter(|e| e.steps.iter().any(Step::red))
        .count();
    // Waiting at a red light: standing within 15 m of its stop line.
    let mut wait = (Vec::new(), Vec::new(), Vec::new());
    // Driving on with nothing ahead (no light, no leader in sight), for comparison.
    let mut cruise = (Vec::new(), Vec::new());
    let mut waits_per_stop = Vec::new();
    for e in episodes {
        let g = returns(&e.steps, gamma);
        let mut run = 0usize;
        for (t, s) in e.steps.iter().enumerate() {
            if s.red() && s.speed < 0.5 && s.light_dist < 15.0 {
                wait.0.push(f64::from(s.value));
                wait.1.push(g[t]);
                wait.2.push(f64::from(s.time_left));
                run += 1;
            } else {
                if run > 0 {
                    waits_per_stop.push(run as f64 / 10.0);
                }
                run = 0;
            }
            if s.light == 0.0 && s.gap >= SENSE && s.speed > 3.0 {
                cruise.0.push(f64::from(s.value));
                cruise.1.push(g[t]);
            }
        }
        if run > 0 {
            waits_per_stop.push(run as f64 / 10.0);
        }
    }
    // Red-light infractions: could the car still stop when the red came into sight?
    let red_runs: Vec<serde_json::Value> = episodes
        .iter()
        .filter(|e| e.outcome == Some("red_light"))
        .map(|e| {
            let approach = last_approach(&e.steps);
            let first_red = approach.iter().find(|s| s.red());
            let last = e.steps.last().copied();
            json!({
                "red_seen_at_m": first_red.map(|s| s.light_dist),
                "speed_then": first_red.map(|s| s.speed),
                "braking_needed": first_red.map(|s| s.speed * s.speed / (2.0 * s.light_dist.max(0.1))),
                "light_when_first_seen": approach.first().map(|s| s.light),
                "stopped_on_this_approach": approach.iter().any(|s| s.speed < 0.5),
                "speed_at_line": last.map(|s| s.speed),
                "value_at_first_red": first_red.map(|s| s.value),
            })
        })
        .collect();
    let stoppable = red_runs
        .iter()
        .filter(|r| {
            r["braking_needed"]
                .as_f64()
                .is_some_and(|b| b <= f64::from(MAX_BRAKE) / 2.0)
        })
        .count();
    let collisions: Vec<serde_json::Value> = episodes
        .iter()
        .filter(|e| e.outcome == Some("collision"))
        .map(|e| {
            let s = e.steps.last().copied().expect("an episode has a step");
            json!({
                "speed": s.speed,
                "leader_gap_m": (s.gap < SENSE).then_some(s.gap),
                "closing_speed": (s.gap < SENSE).then_some(-s.rel_speed),
                "in_junction": s.in_junction,
                "light": s.light,
            })
        })
        .collect();
    let collision_with_leader = collisions
        .iter()
        .filter(|c| c["leader_gap_m"].as_f64().is_some_and(|g| g < 10.0))
        .count();
    let collision_in_junction = collisions
        .iter()
        .filter(|c| c["in_junction"].as_bool() == Some(true))
        .count();
    // Blocked: where the car stood for the last 90 s.
    let blocked: Vec<serde_json::Value> = episodes
        .iter()
        .filter(|e| e.outcome == Some("blocked"))
        .map(|e| {
            let s = e.steps.last().copied().expect("an episode has a step");
            let lights: Vec<f32> = e.steps.iter().rev().take(900).map(|s| s.light).collect();
            json!({
                "light": s.light,
                "light_dist_m": (s.light > 0.0).then_some(s.light_dist),
                "share_of_wait_with_green": lights.iter().filter(|&&l| (l - 0.33).abs() < 0.01).count() as f64 / lights.len() as f64,
                "leader_gap_m": (s.gap < SENSE).then_some(s.gap),
                "in_junction": s.in_junction,
                "steps": e.steps.len(),
                "lateral_m": s.lateral,
                "heading_error": s.heading_error,
                "route_left": s.route_left,
                "last_action": s.last_action,
                "value": s.value,
            })
        })
        .collect();
    let outcomes: serde_json::Map<String, serde_json::Value> = OUTCOMES
        .iter()
        .map(|&o| {
            let k = episodes.iter().filter(|e| e.outcome == Some(o)).count();
            (o.to_string(), json!(k))
        })
        .collect();
    let factors: serde_json::Map<String, serde_json::Value> = FACTORS
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let moving = mean(
                all()
                    .filter(|s| s.speed > 1.0)
                    .map(|s| f64::from(s.factors[k])),
            );
            (f.to_string(), json!({ "mean_while_moving": moving }))
        })
        .collect();
    json!({
        "episodes": episodes.len(),
        "reward_factors": factors,
        "gamma": gamma,
        "success": episodes.iter().filter(|e| e.success).count(),
        "outcomes": outcomes,
        "steps": total_steps,
        "share_of_steps_with_a_red_light_in_sight": red_steps as f64 / total_steps.max(1) as f64,
        "episodes_meeting_a_red_light": with_red,
        "waiting_at_red": {
            "steps": wait.0.len(),
            "stops": waits_per_stop.len(),
            "mean_wait_s": mean(waits_per_stop.iter().copied()),
            "longest_wait_s": waits_per_stop.iter().copied().fold(0.0, f64::max),
            "mean_value": mean(wait.0.iter().copied()),
            "mean_realised_return": mean(wait.1.iter().copied()),
            "mean_time_budget_left": mean(wait.2.iter().copied()),
        },
        "cruising_clear_road": {
            "steps": cruise.0.len(),
            "mean_value": mean(cruise.0.iter().copied()),
            "mean_realised_return": mean(cruise.1.iter().copied()),
        },
        "red_light_infractions": {
            "count": red_runs.len(),
            "could_stop_at_half_max_braking_when_red_came_into_sight": stoppable,
            "stopped_before_on_same_approach": red_runs.iter().filter(|r| r["stopped_on_this_approach"] == json!(true)).count(),
            "each": red_runs,
        },
        "blocked": blocked,
        "collisions": {
            "count": collisions.len(),
            "leader_within_10_m": collision_with_leader,
            "in_junction": collision_in_junction,
            "each": collisions,
        },
    })
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .context("usage: drive_diagnose RUN_DIR_OR_CHECKPOINT [EPISODES] [SEED]")?;
    let count = |a: Option<String>, name: &str, default: u64| -> anyhow::Result<u64> {
        a.map_or(Ok(default), |s| {
            s.parse()
                .with_context(|| format!("{name}: `{s}` is not a whole number"))
        })
    };
    let episodes = count(args.next(), "EPISODES", 200)? as usize;
    let seed = count(args.next(), "SEED", 5_000_000)?;
    let report = run(Path::new(&target), episodes, seed)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
