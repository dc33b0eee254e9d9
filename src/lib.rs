//! The `rapt` command line: train policies from RON configs, benchmark and list
//! environments. The binary (`main.rs`) only parses arguments and prints errors; the work
//! lives here so that end-to-end tests can call it too.
#![warn(missing_docs)]

pub mod cli;
mod commands;
pub mod interrupt;

pub use commands::run;
pub use rapt_envs::registry;
pub use rapt_ppo::Evaluation;
pub use rapt_train::config;

/// Train with PPO as `cfg` says into the new run directory `run_dir` (claimed for the run,
/// the config saved in it), without a Ctrl-C handler: what `rapt train` does after loading
/// the config. Returns the final evaluation.
pub fn train_ppo(cfg: &config::RunConfig, run_dir: &std::path::Path) -> anyhow::Result<Evaluation> {
    let run = rapt_train::start_new_run(cfg, run_dir)?;
    let outcome = rapt_train::train(cfg, &run, &rapt_train::TrainOptions::default())?;
    anyhow::Context::context(outcome.evaluation, "the final evaluation did not run")
}
