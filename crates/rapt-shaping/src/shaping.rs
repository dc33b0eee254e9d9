//! Potential-based reward shaping and the run config's choice of reward.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{Aggregate, Ensemble, Oracle, ProgressModel};

/// A progress model, as a config names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelSpec {
    /// The env's privileged Φ.
    Oracle,
    /// A learned reward model that reads camera frames (a `rapt reward-model train`
    /// output directory).
    Learned {
        /// The model directory.
        path: std::path::PathBuf,
        /// Score in forward passes of exactly this many frame sets, the last padded with
        /// blank frames (default: none, one pass per step's batch). libtorch's CPU kernels
        /// round a row differently in batches of a few rows than in larger ones, so Φ
        /// then does not depend on how the frames were batched: a run scored in-process
        /// and one served by `rapt reward-serve --fixed-batch N` (same N) get the same
        /// bits. Costs the padding's compute.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fixed_batch: Option<usize>,
    },
    /// A model behind an OpenAI-compatible chat-completions server: a VLM (Robo-Dopamine's
    /// GRM, RoboReward) or `rapt reward-serve` (built by `rapt_progress_http`).
    Remote(RemoteSpec),
    /// Several models combined per env.
    Ensemble {
        /// The members.
        members: Vec<ModelSpec>,
        /// How they are combined.
        aggregate: Aggregate,
    },
}

/// How a remote server answers (see `rapt_progress_http::protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemoteProtocol {
    /// Robo-Dopamine's GRM: reference start/goal and BEFORE/AFTER three-view sets, a
    /// `<score>±NN%</score>` hop, Φ accumulated per episode (incremental mode).
    Grm,
    /// RoboReward's 1–5 rubric on the current state's views; Φ = (E\[score\] − 1) / 4 from
    /// the digit tokens' log-probabilities when the server returns them, else the digit.
    Rubric5,
    /// `rapt reward-serve`: Φ as a plain number.
    Progress,
}

/// A remote progress model (`Remote(...)` in a shaping config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteSpec {
    /// The server's base URL, e.g. `http://127.0.0.1:8000/v1`.
    pub url: String,
    /// The served model's name.
    pub model: String,
    /// How the server is asked and answers.
    pub protocol: RemoteProtocol,
    /// Camera views sent, in order (GRM: front, left wrist, right wrist; `Progress`: the
    /// served model's views).
    pub views: Vec<String>,
    /// Frame width and height sent, px. Default 224.
    #[serde(default = "default_image_size")]
    pub image_size: usize,
    /// Time allowed for one call, ms, and for all the calls of one scored batch (a rollout
    /// step), retries included: a call unanswered by then fails and its env's Φ is held.
    /// Default 30,000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Calls in flight at once. Default 16.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Retries of a call that timed out or got 429/5xx, with back-off doubling from
    /// 100 ms. Default 3.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Environment variable holding the API key sent as a bearer token (none by default).
    #[serde(default)]
    pub api_key_env: Option<String>,
}

fn default_image_size() -> usize {
    224
}
fn default_timeout_ms() -> u64 {
    30_000
}
fn default_max_in_flight() -> usize {
    16
}
fn default_retries() -> u32 {
    3
}

impl RemoteSpec {
    /// Check the settings without calling the server (every problem, each at its
    /// field; see [`rapt_config::Validate`]).
    pub fn check(&self) -> Result<(), ShapingConfigError> {
        crate::validate::problems(|v| v.nested("model", self))
    }
}

/// Loads the models this crate cannot build itself — `Learned` (needs the network's
/// runtime, libtorch) and `Remote` (needs an HTTP client) — supplied by the crate that
/// links them, so this crate stays free of both.
pub type ModelLoader<'a> = &'a dyn Fn(&ModelSpec) -> Result<Box<dyn ProgressModel>, LoadError>;

/// Why a model could not be loaded (the loader's own error, boxed).
pub type LoadError = Box<dyn std::error::Error + Send + Sync>;

impl ModelSpec {
    /// Build the model; `Learned` and `Remote` models need [`ModelSpec::build_with`].
    pub fn build(&self) -> Result<Box<dyn ProgressModel>, ShapingConfigError> {
        self.build_with(&|spec| {
            Err(format!("{spec:?}: learned and remote models are loaded by the rapt CLI").into())
        })
    }

    /// Build the model, loading learned and remote ones with `load`.
    pub fn build_with(
        &self,
        load: ModelLoader<'_>,
    ) -> Result<Box<dyn ProgressModel>, ShapingConfigError> {
        Ok(match self {
            ModelSpec::Oracle => Box::new(Oracle),
            ModelSpec::Learned { .. } => {
                load(self).map_err(|e| ShapingConfigError::Learned(e.to_string()))?
            }
            ModelSpec::Remote(remote) => {
                remote.check()?;
                load(self).map_err(|e| ShapingConfigError::Remote(e.to_string()))?
            }
            ModelSpec::Ensemble { members, aggregate } => {
                if members.is_empty() {
                    return Err(ShapingConfigError::EmptyEnsemble);
                }
                let built: Vec<Box<dyn ProgressModel>> = members
                    .iter()
                    .map(|m| m.build_with(load))
                    .collect::<Result<_, _>>()?;
                let views: Vec<_> = built.iter().filter_map(|m| m.views()).collect();
                if let Some(first) = views.first()
                    && let Some(other) = views.iter().find(|v| *v != first)
                {
                    return Err(ShapingConfigError::Learned(format!(
                        "ensemble members read different frames: {:?} at {} px vs {:?} at {} px",
                        first.0, first.1, other.0, other.1
                    )));
                }
                Box::new(Ensemble::new(built, *aggregate))
            }
        })
    }

    /// Check the structure without loading anything (every problem, each at its field;
    /// see [`rapt_config::Validate`]).
    pub fn check(&self) -> Result<(), ShapingConfigError> {
        crate::validate::problems(|v| v.nested("model", self))
    }

    /// Whether any part of it is a learned model.
    pub fn is_learned(&self) -> bool {
        match self {
            ModelSpec::Oracle => false,
            ModelSpec::Learned { .. } => true,
            ModelSpec::Remote(_) => false,
            ModelSpec::Ensemble { members, .. } => members.iter().any(ModelSpec::is_learned),
        }
    }
}

/// Which reward the learner sees (`shaping:` in a run config).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum Shaping {
    /// The env's reward as it is (default).
    #[default]
    None,
    /// `r + γΦ(s') − Φ(s)`: policy-invariant (Ng et al. 1999). `gamma`, if given, must
    /// equal the learner's γ.
    Potential {
        /// The progress model.
        model: ModelSpec,
        /// γ of the shaping (default: the learner's; a different value is an error).
        #[serde(default)]
        gamma: Option<f32>,
        /// Weight k of the potential: the shaping is `γkΦ(s') − kΦ(s)` (default 1). Any
        /// k > 0 keeps the shaping policy-invariant; it sets how much one full task's
        /// progress is worth against the env's reward.
        #[serde(default = "unit_scale")]
        scale: f32,
    },
    /// Ablation only — the "semantic trap" Robo-Dopamine warns about: `r + Φ(s')`, which
    /// changes the optimal policy (a policy can farm progress instead of finishing).
    ProgressAsReward {
        /// The progress model.
        model: ModelSpec,
        /// Weight k: the reward is `r + kΦ(s')` (default 1).
        #[serde(default = "unit_scale")]
        scale: f32,
    },
}

fn unit_scale() -> f32 {
    1.0
}

/// A shaping setting that cannot work.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ShapingConfigError {
    /// The shaping's γ differs from the learner's: the shaping would no longer be
    /// policy-invariant.
    #[error(
        "shaping gamma = {shaping} differs from the learner's gamma = {learner}: potential-based shaping is only policy-invariant with the learner's discount (remove shaping.gamma or make them equal)"
    )]
    GammaMismatch {
        /// The shaping's γ.
        shaping: f32,
        /// The learner's γ.
        learner: f32,
    },
    /// An ensemble without members.
    #[error("an Ensemble needs at least one member")]
    EmptyEnsemble,
    /// A learned model could not be loaded.
    #[error("learned progress model: {0}")]
    Learned(String),
    /// A remote model's settings are wrong or its server failed the start-up check.
    #[error("remote progress model: {0}")]
    Remote(String),
    /// A shaping weight that is not a positive finite number.
    #[error("shaping scale = {0} must be a positive finite number (default 1)")]
    BadScale(f32),
    /// Settings that cannot work: every problem, each naming its field.
    #[error("{0}")]
    Invalid(String),
}

impl Shaping {
    /// Check the setting against the learner's discount `learner_gamma`: every
    /// problem [`Shaping::validate_for`] finds, as one error naming each field.
    /// Learned models are not loaded here (see [`ModelSpec::build_with`]).
    pub fn check(&self, learner_gamma: f32) -> Result<(), ShapingConfigError> {
        crate::validate::problems(|v| self.validate_for(v, learner_gamma))
    }

    /// The weight k of Φ (1 when the run is not shaped).
    pub fn scale(&self) -> f32 {
        match self {
            Shaping::None => 1.0,
            Shaping::Potential { scale, .. } | Shaping::ProgressAsReward { scale, .. } => *scale,
        }
    }

    /// The progress model, if the setting has one.
    pub fn model(&self) -> Option<&ModelSpec> {
        match self {
            Shaping::None => None,
            Shaping::Potential { model, .. } | Shaping::ProgressAsReward { model, .. } => {
                Some(model)
            }
        }
    }
}

/// A shaped reward and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shaped {
    /// What the learner gets.
    pub reward: f32,
    /// The shaping term alone (`γΦ(s') − Φ(s)` or `Φ(s')`).
    pub shaping: f32,
}

/// `r' = r + γΦ(s') − Φ(s)` with the conventions that keep it policy-invariant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PotentialShaping {
    /// The learner's discount.
    pub gamma: f32,
}

impl PotentialShaping {
    /// Shape one transition `s → s'` with reward `reward`. On `terminated`, Φ(s') is 0 (the
    /// terminal state's potential); on truncation pass the real Φ of the final
    /// observation — a time limit is not a terminal state, and the learner bootstraps.
    pub fn shape(&self, reward: f32, phi_s: f32, phi_next: f32, terminated: bool) -> Shaped {
        let next = if terminated { 0.0 } else { phi_next };
        let shaping = self.gamma * next - phi_s;
        Shaped {
            reward: reward + shaping,
            shaping,
        }
    }
}

/// The semantic-trap ablation: `r + Φ(s')`.
pub fn progress_as_reward(reward: f32, phi_next: f32) -> Shaped {
    Shaped {
        reward: reward + phi_next,
        shaping: phi_next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gamma_mismatch_is_a_config_error_that_says_why() {
        let s = Shaping::Potential {
            model: ModelSpec::Oracle,
            gamma: Some(0.9),
            scale: 1.0,
        };
        let err = s.check(0.99).unwrap_err().to_string();
        assert!(err.contains("0.9") && err.contains("0.99") && err.contains("policy-invariant"));
        assert!(
            Shaping::Potential {
                model: ModelSpec::Oracle,
                gamma: Some(0.99),
                scale: 1.0,
            }
            .check(0.99)
            .is_ok()
        );
        let empty = Shaping::ProgressAsReward {
            model: ModelSpec::Ensemble {
                members: vec![],
                aggregate: Aggregate::Mean,
            },
            scale: 1.0,
        };
        let err = empty.check(0.99).unwrap_err().to_string();
        assert!(
            err.contains("shaping.model.members") && err.contains("at least one member"),
            "{err}"
        );
        for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            let s = Shaping::Potential {
                model: ModelSpec::Oracle,
                gamma: None,
                scale: bad,
            };
            let err = s.check(0.99).unwrap_err().to_string();
            assert!(err.contains("shaping.scale"), "{err}");
        }
    }

    #[test]
    fn every_remote_problem_is_reported_at_its_field() {
        let text = "Potential(model: Ensemble(members: [Oracle, Remote(url: \"ftp://x\", model: \"m\", \
                    protocol: Grm, views: [\"front\"], image_size: 4, max_in_flight: 1000000, \
                    timeout_ms: 0, retries: 99), Learned(path: \"m\", fixed_batch: Some(0))], \
                    aggregate: Mean), scale: 1e30)";
        let s: Shaping = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES)
            .from_str(text)
            .unwrap();
        let err = s.check(0.99).unwrap_err().to_string();
        for field in [
            "shaping.scale",
            "shaping.model.members[1].url",
            "shaping.model.members[1].views",
            "shaping.model.members[1].image_size",
            "shaping.model.members[1].max_in_flight",
            "shaping.model.members[1].timeout_ms",
            "shaping.model.members[1].retries",
            "shaping.model.members[2].fixed_batch",
        ] {
            assert!(err.contains(field), "{field} in {err}");
        }
    }

    #[test]
    fn terminal_potential_is_zero_and_truncation_keeps_the_real_one() {
        let p = PotentialShaping { gamma: 0.9 };
        let t = p.shape(1.0, 0.5, 0.8, true);
        assert!((t.shaping + 0.5).abs() < 1e-6 && (t.reward - 0.5).abs() < 1e-6);
        let u = p.shape(1.0, 0.5, 0.8, false);
        assert!((u.shaping - (0.72 - 0.5)).abs() < 1e-6);
    }

    #[test]
    fn configs_parse_from_ron() {
        let s: Shaping = ron::from_str(
            "Potential(model: Ensemble(members: [Oracle, Oracle], aggregate: MeanMinusStd(1.0)))",
        )
        .unwrap();
        assert!(matches!(s, Shaping::Potential { gamma: None, .. }));
        assert_eq!(s.scale(), 1.0);
        let s: Shaping = ron::from_str("Potential(model: Oracle, scale: 10.0)").unwrap();
        assert_eq!(s.scale(), 10.0);
    }
}
