//! One module per subcommand.

mod bench;
mod bench_update;
mod envs;
mod eval;
mod export;
mod plot;
mod record;
mod render;
mod report;
mod reward_model;
mod reward_serve;
mod rollout;
pub(crate) mod train;

use anyhow::Result;

use crate::cli::Command;

/// Run one subcommand to completion.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => train::run(&args),
        Command::Envs(args) => envs::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Rollout(args) => rollout::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Export(args) => export::run(&args),
        Command::BenchUpdate(args) => bench_update::run(&args),
        Command::Record(args) => record::run(&args),
        Command::RewardModel(cmd) => reward_model::run(cmd),
        Command::RewardServe(args) => reward_serve::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Report(args) => report::run(&args),
    }
}
