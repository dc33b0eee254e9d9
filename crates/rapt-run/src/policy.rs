//! A saved policy meeting an env outside its own run (`rapt render`, `rapt record`): the
//! run it comes from must have trained on the same env id, and the policy's observation
//! layout and action size must fit the env's (checked again when each episode starts).

use std::path::Path;

use rapt_ppo::Actor;
use rapt_reward_model::record::RecordPolicy;

use crate::RunError;

/// The actor `spec` names for episodes of `env_id`: `expert`, `random`, or a run
/// directory whose newest checkpoint's policy was trained on `env_id`.
pub fn actor_for(spec: &str, env_id: &str) -> Result<Actor, RunError> {
    if matches!(spec, "expert" | "random") {
        return Ok(Actor::from_spec(spec)?);
    }
    check_run_env(Path::new(spec), env_id)?;
    Ok(Actor::from_spec(spec)?)
}

/// The policy `spec` names for recording `env_id`: `mixed` or what [`actor_for`] takes.
pub fn record_policy_for(spec: &str, env_id: &str) -> Result<RecordPolicy, RunError> {
    match spec {
        "mixed" => Ok(RecordPolicy::Mixed),
        "expert" => Ok(RecordPolicy::Expert),
        "random" => Ok(RecordPolicy::Random),
        dir => Ok(RecordPolicy::Policy(actor_for(dir, env_id)?)),
    }
}

/// The run in `dir` must have trained on `env_id`.
fn check_run_env(dir: &Path, env_id: &str) -> Result<(), RunError> {
    let saved = dir.join("config.ron");
    if !saved.exists() {
        return Err(RunError::Invalid(format!(
            "--policy {}: not `expert`, `random`, or a run directory (it has no config.ron)",
            dir.display()
        )));
    }
    let trained = crate::config::load(&saved, &[])?.config.env;
    if trained.id != env_id {
        return Err(RunError::Invalid(format!(
            "--policy {}: its policy was trained on `{}` (params {}) and cannot act in `{env_id}`",
            dir.display(),
            trained.id,
            trained.params_text()
        )));
    }
    Ok(())
}
