//! `rapt plot`: learning curves of runs into a PNG.

use anyhow::Result;
use rapt_rundir::curves::{RunGroup, learning_curves};

use crate::cli::PlotArgs;

/// Draw the curves `args` names.
pub fn run(args: &PlotArgs) -> Result<()> {
    let groups: Vec<RunGroup> = args.runs.iter().map(|s| RunGroup::parse(s)).collect();
    let title = args.title.clone().unwrap_or_else(|| args.metric.clone());
    let chart = learning_curves(&groups, &args.metric, &title)?;
    chart.write_png(&args.out, args.size.0, args.size.1)?;
    println!("{} → {}", args.metric, args.out.display());
    Ok(())
}
