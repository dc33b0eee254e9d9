//! One module per subcommand.

mod bench;
mod bench_update;
mod envs;
mod eval;
mod record;
mod render;
mod reward_model;
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
        Command::BenchUpdate(args) => bench_update::run(&args),
        Command::Record(args) => record::run(&args),
        Command::RewardModel(cmd) => reward_model::run(cmd),
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal or `quiet`.
fn progress_bar(len: u64, template: &str, quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
