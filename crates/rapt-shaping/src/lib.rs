//! Rewards from progress: step-aware progress models Φ ∈ [0, 1] ([`ProgressModel`]: the
//! env's own oracle, ensembles of models; `rapt-reward-model`'s learned model implements the same
//! trait) and policy-invariant potential-based shaping (Ng et al. 1999, Robo-Dopamine):
//! `r' = r + γΦ(s') − Φ(s)` with Φ(terminal) = 0 on `terminated` and the real Φ of the
//! final observation on `truncated` ([`PotentialShaping`]), applied to a vector env's
//! rollouts by the [`Shaper`]. Using Φ itself as the reward ("the semantic trap") exists
//! only as a named ablation, [`Shaping::ProgressAsReward`].
#![warn(missing_docs)]

mod model;
mod shaper;
mod shaping;
mod validate;

pub use model::{
    Aggregate, Ensemble, ModelStats, Oracle, ProgressInput, ProgressModel, ProgressScores,
    RewardError, Row, SharedModel, Stat, pool_stats,
};
pub use shaper::{Shaper, ShaperError, ShapingStats};
pub use shaping::{
    LoadError, ModelLoader, ModelSpec, PotentialShaping, RemoteProtocol, RemoteSpec, Shaped,
    Shaping, ShapingConfigError, progress_as_reward,
};
pub use validate::{IMAGE_SIZES, MAX_IN_FLIGHT, MAX_MEMBERS, MAX_RETRIES, MAX_TIMEOUT_MS};
