//! What a manipulation policy does with the object: roll a checkpoint out on held-out
//! episodes and report, split by whether the goal is on the table or in the air, how often
//! it succeeds, how high the object gets, how much of the time it is grasped, and the
//! policy's raw (pre-clip) mean actions — how far outside [−1, 1] each dimension sits and
//! which way it points while the object is held (docs/manipulation-learning.md).
//!
//! `cargo run --release --example manip_diagnose -- RUN_DIR_OR_CHECKPOINT [EPISODES] [SEED]`
//!
//! Episodes run with the policy's mean action, from seeds `10⁹ + SEED` on (default `SEED`
//! 5,000,000: episodes the periodic and final evaluations do not use). Needs a
//! PickPlace- or Insert-family run (state observations: the object at slots 7–9, the goal
//! at 23–25; metrics `grasped` and `object_height` or `insertion_depth`). Prints JSON.

use std::path::Path;

use anyhow::{Context, bail};
use rapt_core::{VecEnv, VecEnvOptions};
use rapt_ppo::{DeviceChoice, EVAL_SEED_OFFSET, Learner};
use serde_json::json;

/// Observation slots: object centre z, goal z (m).
const OBJECT_Z: usize = 9;
const GOAL_Z: usize = 25;
/// A goal this far above the object's start is "in the air", m.
const IN_AIR: f32 = 0.03;

#[derive(Default)]
struct Episode {
    in_air: bool,
    success: bool,
    max_height: f32,
    grasped_steps: usize,
    steps: usize,
}

/// Per action dimension: sum of raw means, count beyond ±1, count.
#[derive(Default, Clone)]
struct ActionStats {
    sum: Vec<f64>,
    beyond: Vec<usize>,
    n: usize,
}

impl ActionStats {
    fn add(&mut self, a: &[f32]) {
        if self.sum.is_empty() {
            self.sum = vec![0.0; a.len()];
            self.beyond = vec![0; a.len()];
        }
        for (k, &x) in a.iter().enumerate() {
            self.sum[k] += f64::from(x);
            self.beyond[k] += usize::from(x.abs() > 1.0);
        }
        self.n += 1;
    }

    fn json(&self) -> serde_json::Value {
        let n = self.n.max(1) as f64;
        json!({
            "steps": self.n,
            "mean": self.sum.iter().map(|s| s / n).collect::<Vec<_>>(),
            "share_beyond_bounds": self.beyond.iter().map(|&b| b as f64 / n).collect::<Vec<_>>(),
        })
    }
}

fn run(target: &Path, episodes: usize, seed: u64) -> anyhow::Result<serde_json::Value> {
    let (run_dir, checkpoint) =
        rapt_rundir::locate_checkpoint(target, rapt_rundir::CheckpointDir::updates)?;
    let cfg = rapt::config::load(&run_dir.join("config.ron"), &[])?.config;
    if !(cfg.env.id.starts_with("PickPlace") || cfg.env.id.starts_with("Insert")) {
        bail!(
            "{}: env `{}` is not a PickPlace or Insert env",
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
    let layout = venv.info_layout().clone();
    let grasped = layout
        .metric_index("grasped")
        .context("the env reports no `grasped` metric")?;
    let dim = learner.obs_dim();
    let act_dim = space.env_dim();
    let mut raw = venv.reset(Some(EVAL_SEED_OFFSET + seed))?.obs.clone();
    let start_z: Vec<f32> = (0..n).map(|i| raw[i * dim + OBJECT_Z]).collect();
    let mut running: Vec<Episode> = (0..n)
        .map(|i| Episode {
            in_air: raw[i * dim + GOAL_Z] - start_z[i] > IN_AIR,
            ..Episode::default()
        })
        .collect();
    let mut start_z = start_z;
    let mut done: Vec<Episode> = Vec::with_capacity(episodes);
    // Raw mean actions: all steps, steps holding the object, holding it below an in-air goal.
    let (mut all, mut held, mut held_below) = (
        ActionStats::default(),
        ActionStats::default(),
        ActionStats::default(),
    );
    let mut env_actions = vec![0.0; n * act_dim];
    let mut obs = raw.clone();
    while done.len() < episodes {
        obs.copy_from_slice(&raw);
        learner.normalize_frozen(&mut obs);
        let actions = learner.act_deterministic(&obs);
        learner.env_actions(&actions, &space.low, &space.high, &mut env_actions);
        let b = venv.step(&env_actions)?;
        for i in 0..n {
            let info = if b.ended[i] { &b.final_info } else { &b.info };
            let is_held = info.metrics_of(i)[grasped] > 0.5;
            let a = &actions[i * act_dim..(i + 1) * act_dim];
            all.add(a);
            let row = &raw[i * dim..(i + 1) * dim];
            if is_held {
                held.add(a);
                if row[GOAL_Z] - row[OBJECT_Z] > IN_AIR {
                    held_below.add(a);
                }
            }
            let e = &mut running[i];
            e.steps += 1;
            e.grasped_steps += usize::from(is_held);
            e.max_height = e.max_height.max(row[OBJECT_Z] - start_z[i]);
            if b.ended[i] {
                let mut finished = std::mem::take(e);
                finished.success = b.final_info.success[i];
                if done.len() < episodes {
                    done.push(finished);
                }
                let next = &b.obs[i * dim..(i + 1) * dim];
                start_z[i] = next[OBJECT_Z];
                running[i].in_air = next[GOAL_Z] - start_z[i] > IN_AIR;
            }
        }
        raw.copy_from_slice(&b.obs);
    }
    let group = |in_air: bool| {
        let eps: Vec<&Episode> = done.iter().filter(|e| e.in_air == in_air).collect();
        let k = eps.len().max(1) as f64;
        json!({
            "episodes": eps.len(),
            "success": eps.iter().filter(|e| e.success).count() as f64 / k,
            "mean_max_lift_m": eps.iter().map(|e| f64::from(e.max_height)).sum::<f64>() / k,
            "share_lifted_over_3cm": eps.iter().filter(|e| e.max_height > 0.03).count() as f64 / k,
            "share_of_steps_grasped": eps.iter().map(|e| e.grasped_steps as f64 / e.steps.max(1) as f64).sum::<f64>() / k,
        })
    };
    Ok(json!({
        "run": run_dir.display().to_string(),
        "env": cfg.env.id,
        "checkpoint": checkpoint.display().to_string(),
        "goal_on_table": group(false),
        "goal_in_air": group(true),
        "raw_mean_action": {
            "all_steps": all.json(),
            "while_grasped": held.json(),
            "while_grasped_below_the_goal": held_below.json(),
        },
    }))
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .context("usage: manip_diagnose RUN_DIR_OR_CHECKPOINT [EPISODES] [SEED]")?;
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
