//! What `rapt envs` lists about each registered env: its spaces, time limit, reward terms,
//! metrics and default parameters, as text or JSON.

use serde::Serialize;

use crate::{EnvError, Registry};

/// One registered env, described.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvDescription {
    /// Versioned id.
    pub id: String,
    /// What the task is, in one line.
    pub summary: String,
    /// The registry's time limit, steps.
    pub max_episode_steps: u32,
    /// The observation space, as `Space` displays it.
    pub observation_space: String,
    /// Its flat size.
    pub observation_dim: usize,
    /// The action space, as `Space` displays it.
    pub action_space: String,
    /// Its flat size.
    pub action_dim: usize,
    /// Named reward terms.
    pub reward_terms: Vec<String>,
    /// Env metrics.
    pub metrics: Vec<String>,
    /// The default parameters, RON.
    pub default_params: String,
}

impl Registry {
    /// Every registered env, described (each built once with its default parameters).
    pub fn describe(&self) -> Result<Vec<EnvDescription>, EnvError> {
        self.specs()
            .map(|spec| {
                let env = self.make(spec.id, "", None)?;
                let (obs, act, layout) = (
                    env.observation_space(),
                    env.action_space(),
                    env.info_layout(),
                );
                Ok(EnvDescription {
                    id: spec.id.to_owned(),
                    summary: spec.summary.to_owned(),
                    max_episode_steps: spec.max_episode_steps,
                    observation_space: obs.to_string(),
                    observation_dim: obs.flat_dim(),
                    action_space: act.to_string(),
                    action_dim: act.flat_dim(),
                    reward_terms: layout.reward_terms.clone(),
                    metrics: layout.metrics.clone(),
                    default_params: (spec.default_params)(),
                })
            })
            .collect()
    }
}

impl EnvDescription {
    /// The description as indented lines, with the default parameters when `params`.
    pub fn text(&self, params: bool) -> String {
        let mut out = format!("{:<16} {}\n", self.id, self.summary);
        out += &format!("{:<16} observation {}\n", "", self.observation_space);
        out += &format!("{:<16} action      {}\n", "", self.action_space);
        out += &format!(
            "{:<16} max_episode_steps {}, reward terms [{}], metrics [{}]\n",
            "",
            self.max_episode_steps,
            self.reward_terms.join(", "),
            self.metrics.join(", ")
        );
        if params {
            for line in self.default_params.lines() {
                out += &format!("{:<16} {line}\n", "");
            }
        }
        out
    }
}
