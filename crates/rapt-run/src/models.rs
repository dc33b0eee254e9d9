//! Loading the progress models that `rapt_shaping` cannot build itself: learned ones
//! (libtorch, through `rapt_reward_model`) and remote ones (HTTP, through `rapt_progress_http`, GRM's
//! references rendered from the env's scripted expert).

use rapt_progress_http::RemoteProgress;
use rapt_shaping::{LoadError, ModelSpec, ProgressModel};

/// Load `spec` (learned or remote) for env `env_id` with parameters `params` (RON);
/// a learned model onto `device` (the run's).
pub fn load_model(
    spec: &ModelSpec,
    env_id: &str,
    params: &str,
    device: tch::Device,
) -> Result<Box<dyn ProgressModel>, LoadError> {
    match spec {
        ModelSpec::Learned { path, fixed_batch } => {
            rapt_reward_model::LearnedProgress::load_boxed(path, *fixed_batch, device)
        }
        ModelSpec::Remote(remote) => Ok(Box::new(RemoteProgress::connect_for_env(remote, || {
            rapt_registry::registry().make(env_id, params, None)
        })?)),
        other => Err(format!("{other:?} is built by rapt_shaping, not loaded").into()),
    }
}
