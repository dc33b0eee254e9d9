use std::process::ExitCode;

use clap::Parser;
use rapt::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    // Before torch allocates: reuse freed memory instead of a page fault per fresh page.
    rapt_ppo::keep_freed_memory();
    match rapt::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(stop) = err.downcast_ref::<rapt::interrupt::Interrupted>() {
                eprintln!("{stop}");
                let status = rapt::interrupt::exit_status(stop.signal);
                return ExitCode::from(u8::try_from(status).unwrap_or(1));
            }
            // The whole chain, once: "error: <outer>\n  caused by: <inner>", leaving out
            // a cause whose text an outer message already shows.
            let mut shown = err.to_string();
            eprintln!("error: {shown}");
            for cause in err.chain().skip(1).map(|c| c.to_string()) {
                if !shown.contains(&cause) {
                    eprintln!("  caused by: {cause}");
                    shown.push_str(&cause);
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8) {
    // The ranks of a data-parallel job other than rank 0 log warnings and errors only.
    let quiet = rapt_mpi::launcher_rank().is_some_and(|r| r > 0);
    let default = match verbose {
        0 if quiet => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
