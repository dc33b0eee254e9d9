//! Which Push episodes a policy fails: roll a checkpoint out on held-out episodes and
//! report success split by the episode's start — the cube-to-goal distance, whether the
//! push heads towards the arm's base or away from it, and whether the cube or the goal
//! starts near the table's edge of the workspace — with the cube's distance to the goal at
//! the end and at its closest; and, for episodes whose cube reached the goal and left it,
//! how fast the cube moved and how far the TCP was from it when it left
//! (docs/manipulation-learning.md).
//!
//! `cargo run --release --example push_diagnose -- RUN_DIR_OR_CHECKPOINT [EPISODES] [SEED]`
//!
//! Episodes run with the policy's mean action, from seeds `10⁹ + SEED` on (default `SEED`
//! 5,000,000: episodes the periodic and final evaluations do not use). Needs a Push-family
//! run (state observations: the cube at slots 7–9, the goal at 23–25). Prints JSON.

use std::path::Path;

use anyhow::{Context, bail};
use rapt_core::{VecEnv, VecEnvOptions};
use rapt_ppo::{DeviceChoice, EVAL_SEED_OFFSET, Learner};
use serde_json::json;

/// Observation slots: cube x, cube − TCP x, cube linear velocity x, goal x (m, m/s; y and
/// z follow each).
const CUBE_X: usize = 7;
const CUBE_FROM_TCP: usize = 10;
const CUBE_VELOCITY: usize = 17;
const GOAL_X: usize = 23;
/// Push's success radius, m.
const SOLVED: f32 = 0.05;
/// A cube or goal farther than this from the table's centre in x or y is "at the edge", m
/// (both are drawn from ±0.15 m).
const EDGE: f32 = 0.12;

#[derive(Default, Clone)]
struct Episode {
    start_distance: f32,
    /// x component of the unit push direction (negative: towards the arm's base at −x).
    towards_base: bool,
    at_edge: bool,
    success: bool,
    success_once: bool,
    end_distance: f32,
    min_distance: f32,
    /// The cube was on the goal at the previous step.
    on_goal: bool,
    /// When the cube last left the goal: the TCP's distance to it (m) and its speed (m/s).
    left: Option<(f32, f32)>,
}

fn xy(row: &[f32], at: usize) -> (f32, f32) {
    (row[at], row[at + 1])
}

fn start(row: &[f32]) -> Episode {
    let (c, g) = (xy(row, CUBE_X), xy(row, GOAL_X));
    let (dx, dy) = (g.0 - c.0, g.1 - c.1);
    let d = dx.hypot(dy);
    let far = |p: (f32, f32)| p.0.abs() > EDGE || p.1.abs() > EDGE;
    Episode {
        start_distance: d,
        towards_base: dx < 0.0,
        at_edge: far(c) || far(g),
        min_distance: d,
        ..Episode::default()
    }
}

fn norm3(row: &[f32], at: usize) -> f32 {
    (row[at].powi(2) + row[at + 1].powi(2) + row[at + 2].powi(2)).sqrt()
}

/// Track the cube on and off the goal after a step that ended at `row`.
fn track(e: &mut Episode, row: &[f32]) -> f32 {
    let d = distance(row);
    let on_goal = d < SOLVED;
    if e.on_goal && !on_goal {
        e.left = Some((norm3(row, CUBE_FROM_TCP), norm3(row, CUBE_VELOCITY)));
    }
    e.on_goal = on_goal;
    e.min_distance = e.min_distance.min(d);
    e.success_once = e.success_once || on_goal;
    d
}

fn distance(row: &[f32]) -> f32 {
    let (c, g) = (xy(row, CUBE_X), xy(row, GOAL_X));
    (g.0 - c.0).hypot(g.1 - c.1)
}

fn summary(eps: &[&Episode]) -> serde_json::Value {
    let k = eps.len().max(1) as f64;
    let mean = |f: &dyn Fn(&Episode) -> f32| eps.iter().map(|e| f64::from(f(e))).sum::<f64>() / k;
    json!({
        "episodes": eps.len(),
        "success": eps.iter().filter(|e| e.success).count() as f64 / k,
        "success_once": eps.iter().filter(|e| e.success_once).count() as f64 / k,
        "mean_end_distance_m": mean(&|e| e.end_distance),
        "mean_closest_distance_m": mean(&|e| e.min_distance),
    })
}

/// Where the cubes that reached the goal and ended off it were when they last left it.
fn left(eps: &[&Episode]) -> serde_json::Value {
    let leaving: Vec<(f32, f32)> = eps.iter().filter_map(|e| e.left).collect();
    let k = leaving.len().max(1) as f64;
    let mean =
        |f: &dyn Fn(&(f32, f32)) -> f32| leaving.iter().map(|l| f64::from(f(l))).sum::<f64>() / k;
    json!({
        "episodes": eps.len(),
        "mean_tcp_to_cube_when_leaving_m": mean(&|l| l.0),
        "share_with_tcp_within_5cm_when_leaving": leaving.iter().filter(|l| l.0 < 0.05).count() as f64 / k,
        "mean_cube_speed_when_leaving_m_per_s": mean(&|l| l.1),
    })
}

fn run(target: &Path, episodes: usize, seed: u64) -> anyhow::Result<serde_json::Value> {
    let (run_dir, checkpoint) =
        rapt_rundir::locate_checkpoint(target, rapt_rundir::CheckpointDir::updates)?;
    let cfg = rapt::config::load(&run_dir.join("config.ron"), &[])?.config;
    if !cfg.env.id.starts_with("Push") {
        bail!(
            "{}: env `{}` is not a Push env",
            run_dir.display(),
            cfg.env.id
        );
    }
    let (learner, _) = Learner::load_checkpoint(&checkpoint, DeviceChoice::Cpu.resolve()?)?;
    let n = cfg.env.num_envs.min(episodes).max(1);
    let options = VecEnvOptions {
        num_envs: n,
        threads: 1,
        max_episode_steps: cfg.env.max_episode_steps,
    };
    let mut venv =
        rapt_registry::registry().make_vec(&cfg.env.id, cfg.env.params_text(), &options)?;
    let space = learner.check_fits(&venv)?;
    let dim = learner.obs_dim();
    let act_dim = space.env_dim();
    let mut raw = venv.reset(Some(EVAL_SEED_OFFSET + seed))?.obs.clone();
    let mut running: Vec<Episode> = (0..n)
        .map(|i| start(&raw[i * dim..(i + 1) * dim]))
        .collect();
    let mut done: Vec<Episode> = Vec::with_capacity(episodes);
    let mut env_actions = vec![0.0; n * act_dim];
    let mut obs = raw.clone();
    while done.len() < episodes {
        obs.copy_from_slice(&raw);
        learner.normalize_frozen(&mut obs);
        let actions = learner.act_deterministic(&obs);
        learner.env_actions(&actions, &space.low, &space.high, &mut env_actions);
        let b = venv.step(&env_actions)?;
        for (i, e) in running.iter_mut().enumerate() {
            if b.ended[i] {
                // `obs` is already the next episode's first: measure the last step on the
                // final observation.
                e.end_distance = track(e, b.final_obs_of(i));
                e.success = b.final_info.success[i];
                if done.len() < episodes {
                    done.push(e.clone());
                }
                *e = start(&b.obs[i * dim..(i + 1) * dim]);
            } else {
                track(e, &b.obs[i * dim..(i + 1) * dim]);
            }
        }
        raw.copy_from_slice(&b.obs);
    }
    let by =
        |f: &dyn Fn(&Episode) -> bool| -> Vec<&Episode> { done.iter().filter(|e| f(e)).collect() };
    Ok(json!({
        "run": run_dir.display().to_string(),
        "env": cfg.env.id,
        "checkpoint": checkpoint.display().to_string(),
        "all": summary(&by(&|_| true)),
        "start_distance_under_20cm": summary(&by(&|e| e.start_distance < 0.20)),
        "start_distance_20_to_30cm": summary(&by(&|e| (0.20..0.30).contains(&e.start_distance))),
        "start_distance_over_30cm": summary(&by(&|e| e.start_distance >= 0.30)),
        "push_towards_base": summary(&by(&|e| e.towards_base)),
        "push_away_from_base": summary(&by(&|e| !e.towards_base)),
        "cube_or_goal_at_edge": summary(&by(&|e| e.at_edge)),
        "cube_and_goal_inside": summary(&by(&|e| !e.at_edge)),
        "reached_the_goal_and_left_it": left(&by(&|e| e.success_once && !e.success)),
    }))
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .context("usage: push_diagnose RUN_DIR_OR_CHECKPOINT [EPISODES] [SEED]")?;
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
