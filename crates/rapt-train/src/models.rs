//! Loading the progress models that `rapt_reward` cannot build itself: learned ones
//! (libtorch, through `rapt_rm`) and remote ones (HTTP, through `rapt_remote`, with GRM's
//! reference images rendered from the env's scripted expert).

use rapt_remote::{RemoteProgress, expert_references};
use rapt_reward::{LoadError, ModelSpec, ProgressModel, RemoteProtocol};

/// Seed of the expert episode whose first and last front frames are GRM's references.
pub const REFERENCE_SEED: u64 = 0;

/// Load `spec` (learned or remote) for env `env_id` with parameters `params` (RON).
pub fn load_model(
    spec: &ModelSpec,
    env_id: &str,
    params: &str,
) -> Result<Box<dyn ProgressModel>, LoadError> {
    match spec {
        ModelSpec::Learned { path } => rapt_rm::LearnedProgress::load_boxed(path),
        ModelSpec::Remote(remote) => {
            let model = RemoteProgress::connect(remote)?;
            let model = match remote.protocol {
                RemoteProtocol::Grm => {
                    let mut env = rapt_envs::registry().make(env_id, params, None)?;
                    let (start, goal) = expert_references(
                        &mut *env,
                        &remote.views[0],
                        remote.image_size,
                        REFERENCE_SEED,
                    )
                    .map_err(|e| format!("Grm's reference images from `{env_id}`: {e}"))?;
                    model.with_references(&start, &goal)?
                }
                RemoteProtocol::Rubric5 | RemoteProtocol::Progress => model,
            };
            Ok(Box::new(model))
        }
        other => Err(format!("{other:?} is built by rapt_reward, not loaded").into()),
    }
}
