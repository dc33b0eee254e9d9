use anyhow::Result;

use crate::cli::ExportArgs;

/// Write a run's policy into a small directory `rapt eval` loads.
pub fn run(args: &ExportArgs) -> Result<()> {
    let checkpoint = rapt_ppo::export_policy(&args.target, &args.out)?;
    println!(
        "policy written to {} (evaluate it with `rapt eval {}`)",
        checkpoint.display(),
        args.out.display()
    );
    Ok(())
}
