use anyhow::Result;

use crate::cli::EnvsArgs;

pub fn run(args: &EnvsArgs) -> Result<()> {
    let registry = rapt_envs::registry();
    for spec in registry.specs() {
        let env = registry.make(spec.id, "", None)?;
        let (obs, act) = (env.observation_space(), env.action_space());
        let layout = env.info_layout();
        if args.json {
            let line = serde_json::json!({
                "id": spec.id,
                "summary": spec.summary,
                "max_episode_steps": spec.max_episode_steps,
                "observation_space": obs.to_string(),
                "observation_dim": obs.flat_dim(),
                "action_space": act.to_string(),
                "action_dim": act.flat_dim(),
                "reward_terms": layout.reward_terms,
                "metrics": layout.metrics,
                "default_params": (spec.default_params)(),
            });
            println!("{line}");
            continue;
        }
        println!("{:<16} {}", spec.id, spec.summary);
        println!("{:<16} observation {obs}", "");
        println!("{:<16} action      {act}", "");
        println!(
            "{:<16} max_episode_steps {}, reward terms [{}], metrics [{}]",
            "",
            spec.max_episode_steps,
            layout.reward_terms.join(", "),
            layout.metrics.join(", ")
        );
        if args.params {
            for line in (spec.default_params)().lines() {
                println!("{:<16} {line}", "");
            }
        }
    }
    Ok(())
}
