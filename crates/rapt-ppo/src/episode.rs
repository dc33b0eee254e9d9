//! Single episodes on one env with a chosen actor — the scripted expert, random actions,
//! a perturbed expert or a trained policy — for tools that look at every state: rendering,
//! recording reward-model datasets, rollout tables.

use std::path::Path;

use rand::Rng as _;
use rapt_core::{Env, EnvBuffers, EpisodeStats, Rng};

use crate::{ActionSpace, DeviceChoice, Learner, TrainError};

/// Who acts.
#[derive(Debug)]
pub enum Actor {
    /// The env's privileged scripted expert.
    Expert,
    /// Uniformly random actions from the action space.
    Random,
    /// The expert with noise: with probability `p_random` a random action, otherwise the
    /// expert's plus uniform noise of ±`noise` × each dimension's half-range, clipped.
    PerturbedExpert {
        /// Noise as a fraction of the half-range.
        noise: f32,
        /// Chance per step of a random action.
        p_random: f64,
    },
    /// A trained policy's mean action (observations normalized with its statistics).
    Policy(Box<Learner>),
}

impl Actor {
    /// The actor a command line names: `expert`, `random`, or a run directory (the policy
    /// of its newest checkpoint, on the CPU).
    pub fn from_spec(spec: &str) -> Result<Self, TrainError> {
        match spec {
            "expert" => Ok(Actor::Expert),
            "random" => Ok(Actor::Random),
            dir => Self::policy_of_run(Path::new(dir)).map_err(|e| {
                TrainError::Invalid(format!(
                    "`{dir}` is not `expert`, `random`, or a run directory with checkpoints: {e}"
                ))
            }),
        }
    }

    /// The policy of the newest checkpoint in run directory `run_dir`, on the CPU.
    pub fn policy_of_run(run_dir: &Path) -> Result<Self, TrainError> {
        let ckpt = rapt_rundir::CheckpointDir::updates(run_dir.join("checkpoints"))
            .latest()
            .ok_or_else(|| {
                TrainError::Invalid(format!(
                    "{}: not a run directory with checkpoints",
                    run_dir.display()
                ))
            })?;
        let device = DeviceChoice::Cpu
            .resolve()
            .map_err(|e| TrainError::Invalid(e.to_string()))?;
        let (learner, _) = Learner::load_checkpoint(&ckpt, device)?;
        Ok(Self::Policy(Box::new(learner)))
    }

    /// Write the action for the current state of `env` (observation `obs`) into `action`;
    /// random draws come from `rng`.
    pub fn act(
        &mut self,
        env: &mut dyn Env,
        obs: &[f32],
        rng: &mut Rng,
        action: &mut [f32],
    ) -> Result<(), TrainError> {
        let no_expert = || TrainError::Invalid("this env has no scripted expert".into());
        match self {
            Actor::Expert => {
                if !env.expert_action(action) {
                    return Err(no_expert());
                }
            }
            Actor::Random => env.action_space().sample(rng, action),
            Actor::PerturbedExpert { noise, p_random } => {
                if !env.expert_action(action) {
                    return Err(no_expert());
                }
                let space = env.action_space();
                if rng.random_bool(*p_random) {
                    space.sample(rng, action);
                } else if let rapt_core::Space::Box(b) = space {
                    for ((a, lo), hi) in action.iter_mut().zip(&b.low).zip(&b.high) {
                        let half = (hi - lo) / 2.0;
                        *a = (*a + rng.random_range(-1.0..1.0) * *noise * half).clamp(*lo, *hi);
                    }
                }
            }
            Actor::Policy(learner) => {
                let space = ActionSpace::of(env.action_space(), learner.action_head())?;
                learner.policy_env_actions(&mut obs.to_vec(), &space, false, action);
            }
        }
        Ok(())
    }
}

/// One state of an episode, as [`run_episode`]'s callback sees it.
pub struct EpisodeState<'a> {
    /// The env, in this state (render it, read its progress).
    pub env: &'a dyn Env,
    /// Observation, info and (after step 0) the reward and flags of the step that led
    /// here.
    pub buffers: &'a EnvBuffers,
    /// The action that led here (empty at step 0).
    pub action: &'a [f32],
    /// Steps taken so far (0: the state after reset).
    pub step: u32,
}

impl std::fmt::Debug for EpisodeState<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpisodeState")
            .field("buffers", self.buffers)
            .field("action", &self.action)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

/// Run one episode of `env` (registered, so wrapped with episode statistics) from reset
/// `seed` with `actor`, calling `on_state` at every state, the first and the last
/// included; returns the episode's statistics.
pub fn run_episode(
    env: &mut Box<dyn Env>,
    actor: &mut Actor,
    seed: u64,
    rng: &mut Rng,
    mut on_state: impl FnMut(&EpisodeState<'_>) -> Result<(), TrainError>,
) -> Result<EpisodeStats, TrainError> {
    if let Actor::Policy(learner) = actor {
        learner.check_fits_spaces(env.observation_space(), env.action_space())?;
    }
    let mut action = vec![0.0; env.action_space().flat_dim()];
    let mut b = EnvBuffers::new(env);
    b.reset(env, Some(seed))?;
    let mut step = 0u32;
    loop {
        on_state(&EpisodeState {
            env: &**env,
            buffers: &b,
            action: if step == 0 { &[] } else { &action },
            step,
        })?;
        if b.ended() {
            break;
        }
        actor.act(&mut **env, &b.obs, rng, &mut action)?;
        b.step(env, &action)?;
        step += 1;
    }
    b.info.episode[0].ok_or_else(|| {
        TrainError::Invalid("the env reported no episode statistics (is it registered?)".into())
    })
}
