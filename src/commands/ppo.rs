//! `rapt train` with PPO: collect rollouts on the vector env, update, evaluate.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use rapt_core::{Space, ThreadedVecEnv, VecEnv, VecEnvOptions};
use rapt_ppo::{Learner, Rollout};
use tracing::info;

use crate::config::RunConfig;

/// Seeds of evaluation episodes start here, far from the training seeds (`seed + i`).
pub const EVAL_SEED_OFFSET: u64 = 1_000_000_000;

/// What an evaluation measured.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Episodes run.
    pub episodes: usize,
    /// Fraction successful at the end of the episode.
    pub success_rate: f64,
    /// Fraction successful at any step.
    pub success_once_rate: f64,
    /// Mean undiscounted return.
    pub mean_return: f64,
    /// Mean episode length, steps.
    pub mean_length: f64,
    /// The env's metrics at the last step of each episode, averaged, by name.
    pub metrics: Vec<(String, f64)>,
    /// Each episode, in the order they finished.
    pub per_episode: Vec<EpisodeRecord>,
    /// Mean undiscounted sum of the shaping terms per episode, when the run is shaped
    /// (the env's reward is `mean_return`; the learner saw both).
    pub mean_shaping_return: Option<f64>,
}

/// One evaluated episode.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct EpisodeRecord {
    /// Sub-env that ran it.
    pub env: usize,
    /// Its index among that sub-env's episodes (0: the one started from seed
    /// `EVAL_SEED_OFFSET + base + env`).
    pub index: u32,
    /// Undiscounted return.
    #[serde(rename = "return")]
    pub ret: f64,
    /// Steps.
    pub length: u32,
    /// Successful at the last step.
    pub success: bool,
    /// Successful at some step.
    pub success_once: bool,
    /// Ended by `terminated` (otherwise truncated).
    pub terminated: bool,
}

/// The 95% Wilson score interval of `k` successes in `n` trials.
pub fn wilson_interval(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p, z) = (n as f64, k as f64 / n as f64, 1.959_964);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The action bounds PPO maps its actions onto (the space must be a bounded Box).
fn action_bounds(space: &Space, env: &str) -> Result<(Vec<f32>, Vec<f32>)> {
    match space {
        Space::Box(b) if b.is_bounded() => Ok((b.low.clone(), b.high.clone())),
        other => bail!("PPO here needs a bounded continuous action space; `{env}` has {other}"),
    }
}

/// Where the CNN encoder finds an image: a Box of shape `[C, H, W]`, alone or first in a
/// Dict; otherwise the observation is a plain vector.
pub fn obs_layout(space: &Space) -> rapt_ppo::ObsLayout {
    let image = match space {
        Space::Box(b) => Some(b),
        Space::Dict(parts) => match parts.first() {
            Some((_, Space::Box(b))) => Some(b),
            _ => None,
        },
        _ => None,
    }
    .and_then(|b| <[usize; 3]>::try_from(b.shape.as_slice()).ok());
    rapt_ppo::ObsLayout {
        dim: space.flat_dim(),
        image,
    }
}

/// Run `episodes` episodes on `venv` with seeds from `EVAL_SEED_OFFSET + base`, with the
/// policy mean (`stochastic` false) or sampled actions. Each sub-env runs a fixed share of
/// the episodes (as SB3's `evaluate_policy`), so short episodes are not over-counted.
pub fn evaluate(
    learner: &mut Learner,
    venv: &mut ThreadedVecEnv,
    episodes: usize,
    base: u64,
    stochastic: bool,
    mut shaper: Option<&mut super::shaper::Shaper>,
) -> Result<Evaluation> {
    let space = venv.single_action_space().clone();
    let (low, high) = action_bounds(&space, "the evaluation env")?;
    let n = venv.num_envs();
    let targets: Vec<u32> = (0..n).map(|i| ((episodes + i) / n) as u32).collect();
    let mut counts = vec![0u32; n];
    let first = venv.reset(Some(EVAL_SEED_OFFSET + base))?;
    if let Some(s) = shaper.as_deref_mut() {
        s.reset(first)?;
    }
    let mut obs = first.obs.clone();
    // The shaping terms summed along each running episode, and over finished ones.
    let mut shaping_sum = vec![0.0f64; n];
    let mut shaping_total = 0.0f64;
    let mut shaped = Vec::new();
    let mut finished: Vec<EpisodeRecord> = Vec::with_capacity(episodes);
    let names = venv.info_layout().metrics.clone();
    let mut metric_sums = vec![0.0f64; names.len()];
    let mut env_actions = vec![0.0; n * space.flat_dim()];
    while finished.len() < episodes {
        learner.normalize(&mut obs, false);
        let actions = if stochastic {
            learner.act(&obs).0
        } else {
            learner.act_deterministic(&obs)
        };
        learner.env_actions(&actions, &low, &high, &mut env_actions);
        let b = venv.step(&env_actions)?;
        if let Some(s) = shaper.as_deref_mut() {
            shaped.clear();
            shaped.extend_from_slice(&b.rewards);
            s.apply(b, &mut shaped, 0)?;
            s.finish(&mut shaped)?;
            for i in 0..n {
                shaping_sum[i] += f64::from(shaped[i] - b.rewards[i]);
            }
        }
        for i in 0..n {
            let counted = b.ended[i] && counts[i] < targets[i];
            if b.ended[i] {
                if counted {
                    shaping_total += shaping_sum[i];
                }
                shaping_sum[i] = 0.0;
            }
            if counted && let Some(ep) = b.final_info.episode[i] {
                finished.push(EpisodeRecord {
                    env: i,
                    index: counts[i],
                    ret: ep.ret,
                    length: ep.length,
                    success: ep.success_at_end,
                    success_once: ep.success_once,
                    terminated: ep.terminated,
                });
                counts[i] += 1;
                for (s, m) in metric_sums.iter_mut().zip(b.final_info.metrics_of(i)) {
                    *s += f64::from(*m);
                }
            }
        }
        obs.copy_from_slice(&b.obs);
    }
    let k = episodes as f64;
    let mut metrics: Vec<(String, f64)> = names
        .iter()
        .cloned()
        .zip(metric_sums.iter().map(|s| s / k))
        .collect();
    per_km_over_all_episodes(&mut metrics, &names, &metric_sums);
    Ok(Evaluation {
        episodes,
        success_rate: finished.iter().filter(|e| e.success).count() as f64 / k,
        success_once_rate: finished.iter().filter(|e| e.success_once).count() as f64 / k,
        mean_return: finished.iter().map(|e| e.ret).sum::<f64>() / k,
        mean_length: finished.iter().map(|e| f64::from(e.length)).sum::<f64>() / k,
        mean_shaping_return: shaper.is_some().then_some(shaping_total / k),
        metrics,
        per_episode: finished,
    })
}

/// A metric `X_per_km` next to the metrics `X` and `distance` (m) is reported as the
/// CARLA leaderboard does: all of `X` over all kilometres driven, not the mean of each
/// episode's ratio (which short episodes would dominate).
pub(crate) fn per_km_over_all_episodes(
    metrics: &mut [(String, f64)],
    names: &[String],
    sums: &[f64],
) {
    let Some(km) = names
        .iter()
        .position(|n| n == "distance")
        .map(|d| sums[d] / 1000.0)
    else {
        return;
    };
    for (name, value) in metrics.iter_mut() {
        if let Some(x) = name.strip_suffix("_per_km")
            && let Some(k) = names.iter().position(|n| n == x)
        {
            *value = if km > 0.0 { sums[k] / km } else { 0.0 };
        }
    }
}

/// Train with PPO as `cfg` says, writing `metrics.csv` into `run_dir`; returns the final
/// evaluation.
pub fn train(cfg: &RunConfig, run_dir: &Path) -> Result<Evaluation> {
    train_from(cfg, run_dir, None)
}

/// Continue the run in `run_dir` (trained with `cfg`, its saved config) from its newest
/// checkpoint: the same step and update counters, learning-rate schedule, optimizer state,
/// normalizer statistics and per-update random seeds. What the killed process did after
/// that checkpoint is dropped from `metrics.csv` and (through a TensorBoard purge event)
/// from the event files, then done again. The envs restart their episodes.
pub fn resume(cfg: &RunConfig, run_dir: &Path) -> Result<Evaluation> {
    let dir = run_dir.join("checkpoints");
    let Some(ckpt) = rapt_ppo::latest_checkpoint(&dir) else {
        bail!(
            "cannot resume {}: no checkpoint in {}",
            run_dir.display(),
            dir.display()
        );
    };
    let device = cfg.device.resolve()?;
    let (learner, progress) = Learner::load_checkpoint(&ckpt, device)?;
    ensure!(
        learner.config() == &cfg.ppo,
        "cannot resume {}: the checkpoint's PPO settings differ from {}",
        ckpt.display(),
        run_dir.join("config.ron").display()
    );
    info!(checkpoint = %ckpt.display(), global_step = progress.global_step, update = progress.update, "resuming");
    crate::runs::trim_metrics(run_dir, progress.global_step)?;
    // A `best` saved by the killed process after this checkpoint belongs to work that is
    // being redone: drop it with the rest.
    let best = dir.join("best");
    if rapt_ppo::read_progress(&best).is_ok_and(|b| b.global_step > progress.global_step) {
        std::fs::remove_dir_all(&best)
            .with_context(|| format!("removing {} (newer than the checkpoint)", best.display()))?;
    }
    train_from(cfg, run_dir, Some((learner, progress)))
}

/// Seeds of the envs' first reset after `update` updates (the run's seed at update 0).
fn reset_seed(seed: u64, update: u64) -> u64 {
    seed.wrapping_add(update << 32)
}

fn train_from(
    cfg: &RunConfig,
    run_dir: &Path,
    start_from: Option<(Learner, rapt_ppo::Progress)>,
) -> Result<Evaluation> {
    std::fs::create_dir_all(run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
    let registry = crate::registry();
    let options = VecEnvOptions {
        num_envs: cfg.env.num_envs,
        threads: cfg.env.threads,
        max_episode_steps: cfg.env.max_episode_steps,
    };
    let params = cfg.env.params_text();
    let mut venv = registry.make_vec(&cfg.env.id, params, &options)?;
    let eval_options = VecEnvOptions {
        num_envs: cfg.env.num_envs.min(cfg.train.eval_episodes.max(1)),
        ..options.clone()
    };
    let mut eval_venv = registry.make_vec(&cfg.env.id, params, &eval_options)?;
    let space = venv.single_action_space().clone();
    let (low, high) = action_bounds(&space, &cfg.env.id)?;
    let layout = obs_layout(venv.single_observation_space());
    let (n, obs_dim, act_dim) = (venv.num_envs(), layout.dim, space.flat_dim());
    let cores = rapt_ppo::available_cores();
    rapt_ppo::configure_torch_threads(rapt_ppo::torch_threads_for(venv.threads(), cores));
    let (mut learner, progress) = match start_from {
        Some(start) => start,
        None => {
            let device = cfg.device.resolve()?;
            let learner = Learner::new(layout, act_dim, cfg.ppo.clone(), device, cfg.seed)
                .with_context(|| format!("building the PPO learner for `{}`", cfg.env.id))?;
            (learner, rapt_ppo::Progress::default())
        }
    };
    ensure!(
        (learner.layout(), learner.act_dim()) == (layout, act_dim),
        "the checkpoint is for observations {:?} and {} action slots; `{}` has {layout:?} and {act_dim}",
        learner.layout(),
        learner.act_dim(),
        cfg.env.id
    );
    let steps_per_update = (cfg.ppo.num_steps * n) as u64;
    let num_updates = (cfg.train.total_steps / steps_per_update).max(1);
    info!(env = %cfg.env.id, num_envs = n, updates = num_updates, batch = steps_per_update, "PPO training");

    // Periodic evaluations also log the mean return and every env metric (for driving:
    // route completion, infraction and driving scores, infractions per km, ...).
    let metric_names = venv.info_layout().metrics.clone();
    let eval_tags: Vec<String> = std::iter::once("eval/mean_return".to_string())
        .chain(metric_names.iter().map(|m| format!("eval/{m}")))
        .collect();
    let mut eval_values = vec![f64::NAN; eval_tags.len()];
    let mut shaper = make_shaper(cfg, &mut venv)?;
    // Evaluations report the shaping terms too, from their own shaper.
    let mut eval_shaper = make_shaper(cfg, &mut eval_venv)?;
    let mut csv = crate::runs::metrics_csv(
        run_dir,
        &format!(
            "global_step,charts/episodic_return,charts/episodic_length,charts/success_rate,charts/SPS,charts/learning_rate,losses/value_loss,losses/policy_loss,losses/entropy,losses/approx_kl,losses/clipfrac,losses/explained_variance,eval/success_rate,{},reward/base,reward/shaping,reward/phi",
            eval_tags.join(",")
        ),
    )?;
    let mut tb = rapt_ppo::tensorboard::EventWriter::create(&run_dir.join("tensorboard"))
        .with_context(|| format!("creating TensorBoard events in {}", run_dir.display()))?;
    if progress.update > 0 {
        // TensorBoard drops what the interrupted process logged after the checkpoint.
        tb.purge_from(progress.global_step as i64 + 1)?;
    }
    let bar = super::progress_bar(
        num_updates * steps_per_update,
        "{elapsed_precise} [{bar:30}] {human_pos}/{human_len} steps {msg}",
        false,
    );

    let first = venv.reset(Some(reset_seed(cfg.seed, progress.update)))?;
    if let Some(s) = shaper.as_mut() {
        s.reset(first)?;
    }
    let mut obs = first.obs.clone();
    learner.normalize(&mut obs, true);
    let mut rollout = Rollout {
        num_envs: n,
        ..Rollout::default()
    };
    let mut env_actions = vec![0.0; n * act_dim];
    let mut window = super::train::Window::default();
    let mut pending = vec![false; n];
    let start = Instant::now();
    let mut global_step = progress.global_step;
    let first_step = global_step;
    let mut last_eval = progress.last_eval.unwrap_or(f64::NAN);
    let mut best_eval = best_evaluation(run_dir);
    // Evaluation time is kept out of the training SPS (CleanRL's SPS has no evaluation).
    let mut eval_seconds = 0.0f64;
    bar.set_position(global_step);
    let mut stopped_early = false;
    for update in progress.update..num_updates {
        // The per-update seed makes sampling resumable without saving torch's RNG.
        rapt_ppo::seed_update(cfg.seed, update);
        rollout.clear();
        for t in 0..cfg.ppo.num_steps {
            let (actions, logp, values) = learner.act(&obs);
            if t > 0 {
                let base = (t - 1) * n;
                for i in (0..n).filter(|&i| pending[i]) {
                    rollout.next_values[base + i] = values[i];
                }
            }
            learner.env_actions(&actions, &low, &high, &mut env_actions);
            let b = venv.step(&env_actions)?;
            rollout.obs.extend_from_slice(&obs);
            rollout.actions.extend_from_slice(&actions);
            rollout.logp.extend_from_slice(&logp);
            rollout.values.extend_from_slice(&values);
            let reward_at = rollout.rewards.len();
            rollout.rewards.extend_from_slice(&b.rewards);
            if let Some(s) = shaper.as_mut() {
                s.apply(b, &mut rollout.rewards, reward_at)?;
            }
            rollout.terminated.extend_from_slice(&b.terminated);
            rollout.ended.extend_from_slice(&b.ended);
            obs.copy_from_slice(&b.obs);
            for i in 0..n {
                if b.ended[i]
                    && let Some(ep) = b.final_info.episode[i]
                {
                    window.push(ep);
                }
            }
            // Value of the next state: 0 after a termination, V(final_obs) after a
            // truncation (bootstrap through time limits), otherwise V(s_{t+1}), which the
            // next `act` computes anyway (filled in below, or after the loop).
            let mut next_values = vec![0.0f32; n];
            let trunc: Vec<usize> = (0..n)
                .filter(|&i| b.truncated[i] && !b.terminated[i])
                .collect();
            if !trunc.is_empty() {
                let mut fo: Vec<f32> = trunc
                    .iter()
                    .flat_map(|&i| b.final_obs[i * obs_dim..(i + 1) * obs_dim].iter().copied())
                    .collect();
                learner.normalize(&mut fo, false);
                for (k, v) in learner.values(&fo).into_iter().enumerate() {
                    next_values[trunc[k]] = v;
                }
            }
            pending.copy_from_slice(&b.ended);
            pending.iter_mut().for_each(|p| *p = !*p);
            rollout.next_values.extend_from_slice(&next_values);
            learner.normalize(&mut obs, true);
            global_step += n as u64;
        }
        // Scores computed alongside the rollout join it here; then rewards are scaled
        // step by step in order, as they would have been inline.
        if let Some(s) = shaper.as_mut() {
            s.finish(&mut rollout.rewards)?;
        }
        for t in 0..cfg.ppo.num_steps {
            let r = t * n..(t + 1) * n;
            learner.scale_rewards(&mut rollout.rewards[r.clone()], &rollout.ended[r]);
        }
        // The last step's continuing envs bootstrap from V(current observation).
        let last = (cfg.ppo.num_steps - 1) * n;
        for (i, v) in learner.values(&obs).into_iter().enumerate() {
            if pending[i] {
                rollout.next_values[last + i] = v;
            }
        }
        let stats = learner.update(&rollout, update as f64 / num_updates as f64);
        let interrupted = crate::interrupt::requested();
        let is_last = update + 1 == num_updates || interrupted;
        if cfg.train.eval_every_updates > 0
            && (update + 1) % cfg.train.eval_every_updates as u64 == 0
            && !is_last
        {
            let eval_start = Instant::now();
            let eval = evaluate(
                &mut learner,
                &mut eval_venv,
                cfg.train.eval_episodes,
                update,
                false,
                eval_shaper.as_mut(),
            )?;
            if let Some(v) = eval.mean_shaping_return {
                tb.scalar("eval/shaping_return", global_step as i64, v as f32)?;
            }
            last_eval = eval.success_rate;
            eval_values[0] = eval.mean_return;
            for (v, (_, m)) in eval_values[1..].iter_mut().zip(&eval.metrics) {
                *v = *m;
            }
            if best_eval.is_none_or(|best| last_eval > best) {
                best_eval = Some(last_eval);
                learner.save_checkpoint(
                    &run_dir.join("checkpoints").join("best"),
                    rapt_ppo::Progress {
                        global_step,
                        update: update + 1,
                        last_eval: Some(last_eval),
                    },
                )?;
            }
            eval_seconds += eval_start.elapsed().as_secs_f64();
        }
        let sps =
            (global_step - first_step) as f64 / (start.elapsed().as_secs_f64() - eval_seconds);
        let (ret, len, succ) = (
            window.mean(|e| e.ret),
            window.mean(|e| f64::from(e.length)),
            window.mean(|e| f64::from(u8::from(e.success_at_end))),
        );
        let eval_columns: Vec<String> = eval_values.iter().map(|v| v.to_string()).collect();
        let shaping = shaper.as_mut().map(|s| s.take());
        let (base, shaping_term, phi) = shaping.map_or((f64::NAN, f64::NAN, f64::NAN), |s| {
            (s.base, s.shaping, s.phi)
        });
        writeln!(
            csv,
            "{global_step},{ret},{len},{succ},{sps:.1},{},{},{},{},{},{},{},{last_eval},{},{base},{shaping_term},{phi}",
            stats.learning_rate,
            stats.value_loss,
            stats.policy_loss,
            stats.entropy,
            stats.approx_kl,
            stats.clipfrac,
            stats.explained_variance,
            eval_columns.join(",")
        )?;
        csv.flush()?;
        let step = global_step as i64;
        for (tag, value) in [
            ("charts/episodic_return", ret),
            ("charts/episodic_length", len),
            ("charts/success_rate", succ),
            ("charts/SPS", sps),
            ("charts/learning_rate", stats.learning_rate),
            ("losses/value_loss", stats.value_loss),
            ("losses/policy_loss", stats.policy_loss),
            ("losses/entropy", stats.entropy),
            ("losses/approx_kl", stats.approx_kl),
            ("losses/clipfrac", stats.clipfrac),
            ("losses/explained_variance", stats.explained_variance),
            ("eval/success_rate", last_eval),
            ("reward/base", base),
            ("reward/shaping", shaping_term),
            ("reward/phi", phi),
        ] {
            if value.is_finite() {
                tb.scalar(tag, step, value as f32)?;
            }
        }
        for (tag, value) in eval_tags.iter().zip(&eval_values) {
            if value.is_finite() {
                tb.scalar(tag, step, *value as f32)?;
            }
        }
        tb.flush()?;
        if (update + 1) % cfg.train.checkpoint_every_updates as u64 == 0 || is_last {
            let progress = rapt_ppo::Progress {
                global_step,
                update: update + 1,
                last_eval: last_eval.is_finite().then_some(last_eval),
            };
            save_checkpoint(&learner, run_dir, progress, cfg.train.keep_checkpoints)?;
        }
        if interrupted {
            tracing::warn!(
                update = update + 1,
                global_step,
                "interrupted: checkpoint saved, stopping"
            );
            stopped_early = true;
            break;
        }
        bar.set_position(global_step);
        bar.set_message(format!(
            "SPS {sps:.0} | return {ret:.2} | success {:.0}% | eval {:.0}%",
            succ * 100.0,
            last_eval * 100.0
        ));
    }
    bar.finish_and_clear();
    let train_seconds = start.elapsed().as_secs_f64() - eval_seconds;
    let eval_start = Instant::now();
    let final_eval = evaluate(
        &mut learner,
        &mut eval_venv,
        cfg.train.final_eval_episodes,
        num_updates,
        false,
        eval_shaper.as_mut(),
    )?;
    let k = (final_eval.success_rate * final_eval.episodes as f64).round() as usize;
    let (lo, hi) = wilson_interval(k, final_eval.episodes);
    // Only a finished run's summary says "final evaluation" (scripts look for it).
    let which = if stopped_early {
        "evaluation at interruption"
    } else {
        "final evaluation"
    };
    println!(
        "{}: {global_step} steps in {:.1} s of training ({:.0} steps/s) and {:.1} s of evaluation; {which} over {} held-out episodes: success {:.1}% (95% CI {:.1}–{:.1}%), success once {:.1}%, mean return {:.3}",
        cfg.env.id,
        train_seconds,
        (global_step - first_step) as f64 / train_seconds,
        eval_seconds + eval_start.elapsed().as_secs_f64(),
        final_eval.episodes,
        final_eval.success_rate * 100.0,
        lo * 100.0,
        hi * 100.0,
        final_eval.success_once_rate * 100.0,
        final_eval.mean_return
    );
    if let Some(v) = final_eval.mean_shaping_return {
        println!("  {:<20} {v:.4}", "shaping_return");
    }
    for (name, value) in &final_eval.metrics {
        println!("  {name:<20} {value:.4}");
    }
    Ok(final_eval)
}

/// The run's shaper for `venv` (which renders the model's camera views from its next
/// reset on, when the model reads frames); `None` when the run is not shaped.
pub fn make_shaper(
    cfg: &RunConfig,
    venv: &mut ThreadedVecEnv,
) -> Result<Option<super::shaper::Shaper>> {
    let Some((shaper, frames)) =
        super::shaper::Shaper::new(&cfg.shaping, &cfg.env.id, venv.info_layout(), cfg.ppo.gamma)?
    else {
        return Ok(None);
    };
    if frames.is_some() {
        venv.set_frames(frames)
            .context("shaping: rendering the progress model's camera views")?;
    }
    Ok(Some(shaper))
}

/// The success rate of `run_dir/checkpoints/best`, if there is one.
fn best_evaluation(run_dir: &Path) -> Option<f64> {
    rapt_ppo::read_progress(&run_dir.join("checkpoints").join("best"))
        .ok()?
        .last_eval
}

/// Save `run_dir/checkpoints/update-NNNNNN` and delete all but the newest `keep`.
fn save_checkpoint(
    learner: &Learner,
    run_dir: &Path,
    progress: rapt_ppo::Progress,
    keep: usize,
) -> Result<()> {
    let dir = run_dir.join("checkpoints");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    learner.save_checkpoint(
        &dir.join(format!("update-{:06}", progress.update)),
        progress,
    )?;
    let mut old: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("update-"))
                && p.extension().is_none()
        })
        .collect();
    old.sort();
    let excess = old.len().saturating_sub(keep);
    for p in &old[..excess] {
        std::fs::remove_dir_all(p)
            .with_context(|| format!("removing old checkpoint {}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_known_values() {
        let (lo, hi) = wilson_interval(190, 200);
        assert!(
            (lo - 0.9103).abs() < 1e-3 && (hi - 0.9727).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
    }
}
