//! A set of runs reported as the field reports them (`rapt report RUN...`): per task, each
//! seed's success on held-out episodes with its 95% interval, the inter-quartile mean over
//! seeds with a bootstrap interval (rliable's IQM), the worst seed, and the steps and
//! training time each seed took to first reach a success rate in its periodic evaluation;
//! and the learning curves, mean and range over seeds.
//!
//! Held-out episodes start from seeds no run uses: training envs use `seed + i` and
//! per-update resets, periodic evaluations `EVAL_SEED_OFFSET + update + i` and the final
//! one `EVAL_SEED_OFFSET + i`; the report's default base, [`HELD_OUT_SEED`], puts them
//! a million seeds further (`rapt eval RUN --seed 1000000` evaluates the same episodes).

mod stats;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rapt_rundir::curves::{RunGroup, learning_curves, read_metric};
use rapt_rundir::plot::{Chart, Series};

pub use stats::{iqm, iqm_interval};

use crate::{EvalRunOptions, RunError, evaluate_run};

/// The default base of the held-out seeds (see the module docs).
pub const HELD_OUT_SEED: u64 = 1_000_000;

/// How to report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Held-out episodes per run (default 200).
    pub episodes: usize,
    /// Their seed base, as `rapt eval --seed` (default [`HELD_OUT_SEED`]).
    pub seed: u64,
    /// The periodic-evaluation success rate whose first reaching is reported (default 0.9).
    pub threshold: f64,
    /// Bootstrap resamples of the IQM's interval (default 10,000).
    pub resamples: usize,
    /// Evaluate in this env id instead of each run's own ([`EvalRunOptions::env`]).
    pub env: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            episodes: 200,
            seed: HELD_OUT_SEED,
            threshold: 0.9,
            resamples: 10_000,
            env: None,
        }
    }
}

/// One run (one seed) of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedResult {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The run's seed.
    pub seed: u64,
    /// Success rate over the held-out episodes of its newest checkpoint.
    pub success_rate: f64,
    /// Its 95% (Wilson) interval.
    pub success_ci95: (f64, f64),
    /// Env steps trained.
    pub steps: u64,
    /// Training time, s: rollouts and updates, without evaluations and checkpoints.
    pub train_seconds: f64,
    /// Env steps and training seconds when the periodic evaluation first reached the
    /// threshold, if it did.
    pub first_reach: Option<(u64, f64)>,
    /// How the held-out episodes ended: the env's metrics at their last step, means
    /// (for manipulation: `stage` reached, `object_to_goal` in m, …).
    pub end_metrics: Vec<(String, f64)>,
}

/// The runs of one task and config (grouped by env id and run name).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskReport {
    /// The env id.
    pub env_id: String,
    /// The runs' config name.
    pub name: String,
    /// One result per run, in seed order.
    pub seeds: Vec<SeedResult>,
    /// IQM of the seeds' held-out success rates.
    pub iqm: f64,
    /// Its 95% bootstrap interval.
    pub iqm_ci95: (f64, f64),
}

impl TaskReport {
    /// The seed with the lowest held-out success.
    pub fn worst(&self) -> Option<&SeedResult> {
        self.seeds
            .iter()
            .min_by(|a, b| a.success_rate.total_cmp(&b.success_rate))
    }

    /// The periodic evaluation's success rate against env steps: mean over seeds, range
    /// shaded.
    pub fn curves(&self) -> Result<Chart, RunError> {
        let group = RunGroup {
            label: format!("{} ({} seeds)", self.name, self.seeds.len()),
            runs: self.seeds.iter().map(|s| s.run_dir.clone()).collect(),
            metric: None,
        };
        let title = format!("{}: periodic evaluation", self.env_id);
        Ok(learning_curves(&[group], "eval/success_rate", &title)?)
    }

    /// The periodic evaluation's success rate against training minutes (rollouts and
    /// updates), one line per seed.
    pub fn time_curves(&self) -> Result<Chart, RunError> {
        let mut series = Vec::new();
        for s in &self.seeds {
            let evals = read_metric(&s.run_dir, "eval/success_rate")?;
            let points = elapsed(&s.run_dir)?
                .into_iter()
                .filter_map(|(step, secs)| Some((secs / 60.0, *evals.get(&step)?)))
                .collect();
            series.push(Series {
                label: format!("seed {}", s.seed),
                points,
                ..Series::default()
            });
        }
        Ok(Chart {
            title: format!("{}: periodic evaluation against training time", self.env_id),
            x_label: "training minutes (rollouts + updates)".into(),
            y_label: "eval/success_rate".into(),
            series,
            y_range: Some((0.0, 1.0)),
            ..Chart::default()
        })
    }
}

/// Every task's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// One per (env id, run name), in that order.
    pub tasks: Vec<TaskReport>,
    /// What the report was made with.
    pub options: ReportOptions,
}

impl Report {
    /// Write `dir/report.md` (this report), and per task `dir/ENV_ID-NAME.png` (curves
    /// against steps) and `dir/ENV_ID-NAME-time.png` (against training minutes).
    pub fn write(&self, dir: &Path) -> Result<(), RunError> {
        std::fs::create_dir_all(dir).map_err(|source| RunError::Io {
            what: format!("creating {}", dir.display()),
            source,
        })?;
        for task in &self.tasks {
            let png = dir.join(format!("{}-{}.png", task.env_id, task.name));
            task.curves()?.write_png(&png, 720, 420)?;
            let png = dir.join(format!("{}-{}-time.png", task.env_id, task.name));
            task.time_curves()?.write_png(&png, 720, 420)?;
        }
        rapt_rundir::write_atomic(&dir.join("report.md"), self.to_string().as_bytes())
            .map_err(rapt_rundir::plot::PlotError::from)?;
        Ok(())
    }
}

/// Evaluate each run's newest checkpoint on held-out episodes, read its metrics, and
/// group the runs by task.
pub fn report(runs: &[PathBuf], options: &ReportOptions) -> Result<Report, RunError> {
    if runs.is_empty() {
        return Err(RunError::Invalid("no runs to report".into()));
    }
    let mut groups: BTreeMap<(String, String), Vec<SeedResult>> = BTreeMap::new();
    for run in runs {
        let eval = evaluate_run(
            run,
            &EvalRunOptions {
                episodes: options.episodes,
                seed: options.seed,
                env: options.env.clone(),
                ..EvalRunOptions::default()
            },
        )?;
        let (train_seconds, first_reach) = timeline(&eval.run_dir, options.threshold)?;
        let key = (eval.config.env.id.clone(), eval.config.name.clone());
        groups.entry(key).or_default().push(SeedResult {
            run_dir: eval.run_dir.clone(),
            seed: eval.config.seed,
            success_rate: eval.evaluation.success_rate,
            success_ci95: eval.evaluation.success_ci95,
            steps: eval.progress.global_step,
            train_seconds,
            first_reach,
            end_metrics: eval.evaluation.metrics.clone(),
        });
    }
    let tasks = groups
        .into_iter()
        .map(|((env_id, name), mut seeds)| {
            seeds.sort_by_key(|s| s.seed);
            let rates: Vec<f64> = seeds.iter().map(|s| s.success_rate).collect();
            TaskReport {
                env_id,
                name,
                iqm: iqm(&rates),
                iqm_ci95: iqm_interval(&rates, options.resamples, 0x5EED),
                seeds,
            }
        })
        .collect();
    Ok(Report {
        tasks,
        options: options.clone(),
    })
}

/// Training seconds (rollouts and updates) elapsed at each logged step of a run.
fn elapsed(run_dir: &Path) -> Result<Vec<(u64, f64)>, RunError> {
    let rollout = read_metric(run_dir, "charts/rollout_seconds")?;
    let update = read_metric(run_dir, "charts/update_seconds")?;
    let mut seconds = 0.0;
    Ok(rollout
        .iter()
        .map(|(step, r)| {
            seconds += r + update.get(step).copied().unwrap_or(0.0);
            (*step, seconds)
        })
        .collect())
}

/// A run's training seconds in all, and the steps and seconds at which its periodic
/// evaluation first reached `threshold`.
fn timeline(run_dir: &Path, threshold: f64) -> Result<(f64, Option<(u64, f64)>), RunError> {
    let evals = read_metric(run_dir, "eval/success_rate").unwrap_or_default();
    let elapsed = elapsed(run_dir)?;
    let first = elapsed
        .iter()
        .find(|(step, _)| evals.get(step).is_some_and(|&s| s >= threshold))
        .copied();
    Ok((elapsed.last().map_or(0.0, |e| e.1), first))
}

fn percent(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

fn minutes(seconds: f64) -> String {
    format!("{:.1}", seconds / 60.0)
}

impl fmt::Display for TaskReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "### {} — `{}`\n", self.env_id, self.name)?;
        writeln!(
            f,
            "| seed | held-out success % (95% CI) | steps | training min | first ≥ threshold: steps (min) | episode ends (means) |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for s in &self.seeds {
            let reach = s.first_reach.map_or_else(
                || "never".to_owned(),
                |(step, secs)| format!("{step} ({})", minutes(secs)),
            );
            let ends: Vec<String> = s
                .end_metrics
                .iter()
                .map(|(name, v)| format!("{name} {v:.3}"))
                .collect();
            writeln!(
                f,
                "| {} | {} ({}–{}) | {} | {} | {reach} | {} |",
                s.seed,
                percent(s.success_rate),
                percent(s.success_ci95.0),
                percent(s.success_ci95.1),
                s.steps,
                minutes(s.train_seconds),
                ends.join(", "),
            )?;
        }
        if let Some(w) = self.worst() {
            writeln!(
                f,
                "\nIQM over {} seeds {} % (95% bootstrap CI {}–{}); worst seed {}: {} %.",
                self.seeds.len(),
                percent(self.iqm),
                percent(self.iqm_ci95.0),
                percent(self.iqm_ci95.1),
                w.seed,
                percent(w.success_rate)
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "Held-out success: {} episodes per run from seed base {} (`rapt eval RUN --episodes {} --seed {}`); first ≥ {} % in the periodic evaluation.\n",
            o.episodes,
            o.seed,
            o.episodes,
            o.seed,
            percent(o.threshold)
        )?;
        for task in &self.tasks {
            writeln!(f, "{task}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_time_adds_rollouts_and_updates_and_first_reach_is_the_first_evaluation_over() {
        let dir = std::env::temp_dir().join(format!("rapt-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("metrics.csv"),
            "global_step,eval/success_rate,charts/rollout_seconds,charts/update_seconds\n\
             100,NaN,1.0,0.5\n200,0.5,1.0,0.5\n300,0.5,1.0,0.5\n400,0.92,2.0,1.0\n500,0.95,1.0,0.5\n",
        )
        .unwrap();
        let (seconds, first) = timeline(&dir, 0.9).unwrap();
        assert_eq!(seconds, 9.0);
        assert_eq!(first, Some((400, 7.5)));
        assert_eq!(timeline(&dir, 0.99).unwrap().1, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
