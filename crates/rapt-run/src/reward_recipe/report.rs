//! What the recipe measured: per round, the shaped policies' success and the model's
//! accuracy on their states and on the recorded held-out episodes.

use std::path::{Path, PathBuf};

use rapt_reward_model::eval::EvalReport;
use serde::{Deserialize, Serialize};

/// A model measured on a held-out dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// The dataset.
    pub dataset: PathBuf,
    /// Episodes in it.
    pub episodes: usize,
    /// Value-order consistency over its successful episodes (NaN: none succeeded).
    #[serde(deserialize_with = "rapt_reward_model::train::nan_from_null")]
    pub voc: f64,
    /// Mean absolute error against the oracle Φ.
    #[serde(deserialize_with = "rapt_reward_model::train::nan_from_null")]
    pub mae: f64,
    /// Stage accuracy.
    #[serde(deserialize_with = "rapt_reward_model::train::nan_from_null")]
    pub stage_accuracy: f64,
}

impl Measured {
    pub(super) fn new(dataset: &Path, r: &EvalReport) -> Self {
        Self {
            dataset: dataset.to_path_buf(),
            episodes: r.episodes,
            voc: r.voc,
            mae: r.mae,
            stage_accuracy: r.stage_accuracy,
        }
    }
}

/// One shaped PPO policy of a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundPolicy {
    /// Its run directory.
    pub run: PathBuf,
    /// Its seed.
    pub seed: u64,
    /// Success on the held-out episodes.
    pub success: f64,
    /// 95% Wilson interval of the success.
    pub success_ci95: (f64, f64),
}

/// One on-policy round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// 1, 2, …
    pub round: usize,
    /// The model that shaped the round's policies.
    pub shaped_by: PathBuf,
    /// The policies.
    pub policies: Vec<RoundPolicy>,
    /// That model on the policies' held-out episodes.
    pub on_policy: Measured,
    /// That model on the recorded held-out episodes.
    pub recorded: Measured,
    /// Whether it met the stopping criterion (then it is the result).
    pub stop: bool,
}

/// What the recipe made and measured (`report.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecipeReport {
    /// The env.
    pub env: String,
    /// The oracle-shaped runs a round's policies are compared with, per seed (with
    /// `oracle_fraction`; empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oracle: Vec<RoundPolicy>,
    /// The rounds so far.
    pub rounds: Vec<Round>,
    /// The resulting model (a copy of it is `model/`), once there is one.
    pub result: Option<PathBuf>,
    /// Whether the result met the stopping criterion on its own policies.
    pub checked: bool,
    /// Wall time of the recipe's steps so far (all sittings), s.
    pub seconds: f64,
}

impl std::fmt::Display for RecipeReport {
    /// A Markdown table per round.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "# Reward-model recipe: {}\n", self.env)?;
        if !self.oracle.is_empty() {
            writeln!(
                f,
                "Oracle-shaped PPO (the reference): {}.\n",
                success_per_seed(&self.oracle)
            )?;
        }
        writeln!(
            f,
            "| round | shaped by | shaped-PPO success per seed | on its policies: VOC / MAE / stage acc. | recorded held-out: VOC / MAE / stage acc. | stop |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for r in &self.rounds {
            let m = |m: &Measured| format!("{:.3} / {:.4} / {:.3}", m.voc, m.mae, m.stage_accuracy);
            writeln!(
                f,
                "| {} | `{}` | {} | {} | {} | {} |",
                r.round,
                r.shaped_by.display(),
                success_per_seed(&r.policies),
                m(&r.on_policy),
                m(&r.recorded),
                if r.stop { "yes" } else { "no" }
            )?;
        }
        match &self.result {
            Some(model) => writeln!(
                f,
                "\nResult: `{}` ({}); {:.1} min of wall time.",
                model.display(),
                if self.checked {
                    "met the stopping criterion on its own policies"
                } else {
                    "the rounds ran out before the criterion was met: not checked on its own policies"
                },
                self.seconds / 60.0
            ),
            None => writeln!(f, "\nNo result yet."),
        }
    }
}

/// `seed: success%, …` of `policies`.
fn success_per_seed(policies: &[RoundPolicy]) -> String {
    let each: Vec<String> = policies
        .iter()
        .map(|p| format!("{}: {:.1}%", p.seed, p.success * 100.0))
        .collect();
    each.join(", ")
}

/// Finished steps, kept in `state.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) done: Vec<String>,
    pub(super) report: RecipeReport,
}
