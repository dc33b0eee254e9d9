//! `rapt report`: runs per task as the field reports them (`rapt_run::report`).

use anyhow::Result;
use rapt_run::report::{ReportOptions, report};

use crate::cli::ReportArgs;

pub fn run(args: &ReportArgs) -> Result<()> {
    let options = ReportOptions {
        episodes: args.episodes,
        seed: args.seed,
        threshold: args.threshold,
        env: args.env.clone(),
        ..ReportOptions::default()
    };
    let report = report(&args.runs, &options)?;
    print!("{report}");
    if let Some(out) = &args.out {
        report.write(out)?;
        println!("→ {}", out.display());
    }
    Ok(())
}
