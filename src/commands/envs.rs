//! `rapt envs`: the registered envs (`Registry::describe`), as text or JSON lines.

use anyhow::Result;

use crate::cli::EnvsArgs;

/// List every registered env.
pub fn run(args: &EnvsArgs) -> Result<()> {
    for env in rapt_registry::registry().describe()? {
        match args.json {
            true => println!("{}", serde_json::to_string(&env)?),
            false => print!("{}", env.text(args.params)),
        }
    }
    Ok(())
}
