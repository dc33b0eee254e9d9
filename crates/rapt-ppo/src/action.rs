//! Which action spaces PPO handles, and with which head.

use rapt_core::Space;

use crate::{ActionHead, TrainError};

/// A policy's view of an env's action space: the head that acts in it and the bounds its
/// actions are mapped onto.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSpace {
    /// The head (never `Auto`).
    pub head: ActionHead,
    /// Lower bound per env action slot (a `Discrete` space's `start`).
    pub low: Vec<f32>,
    /// Upper bound per env action slot (a `Discrete` space's `start + n − 1`).
    pub high: Vec<f32>,
    /// `Some(n)` for a `Discrete(n)` space.
    pub discrete: Option<usize>,
}

impl ActionSpace {
    /// The space `head` acts in: a bounded `Box` for the Gaussian and Beta heads, a
    /// `Discrete` space for the categorical head (`Auto` picks Gaussian or Categorical);
    /// anything else is refused with a message naming the head to use.
    pub fn of(space: &Space, head: ActionHead) -> Result<Self, TrainError> {
        let head = match (space, head) {
            (Space::Discrete { .. }, ActionHead::Auto) => ActionHead::Categorical,
            (_, ActionHead::Auto) => ActionHead::Gaussian,
            (_, head) => head,
        };
        match (space, head) {
            (Space::Box(b), ActionHead::Gaussian | ActionHead::Beta) if b.is_bounded() => {
                Ok(Self {
                    head,
                    low: b.low.clone(),
                    high: b.high.clone(),
                    discrete: None,
                })
            }
            (Space::Discrete { n, start }, ActionHead::Categorical) => Ok(Self {
                head,
                low: vec![*start as f32],
                high: vec![(i64::from(*start) + i64::from(*n) - 1) as f32],
                discrete: Some(*n as usize),
            }),
            (Space::Discrete { .. }, _) => Err(TrainError::Invalid(format!(
                "the action space is {space}: PPO needs `action_head: Categorical` (or `Auto`) for it, not {head:?}"
            ))),
            (Space::Box(b), ActionHead::Categorical) if b.is_bounded() => {
                Err(TrainError::Invalid(format!(
                    "the action space is a continuous {space}: use `action_head: Gaussian`, `Beta` or `Auto`, not Categorical"
                )))
            }
            _ => Err(TrainError::Invalid(format!(
                "PPO handles bounded Box action spaces (Gaussian or Beta head) and Discrete ones (Categorical head); this env's is {space}"
            ))),
        }
    }

    /// Action slots the env takes per sub-env.
    pub fn env_dim(&self) -> usize {
        self.low.len()
    }

    /// Outputs of the policy per action: the Box's dimension, or `n` logits.
    pub fn learner_dim(&self) -> usize {
        self.discrete.unwrap_or(self.low.len())
    }
}
