//! PPO learns Reach-v0: ≥ 90% success on held-out seeds within a small step budget, with
//! the Gaussian head and with CaRL's Beta head (a fast learning smoke test; `make train`
//! runs the full 100k-step config).

fn train_reach(name: &str, extra: &[&str]) -> rapt::Evaluation {
    let dir = std::env::temp_dir().join(format!("rapt-ppo-reach-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/reach.ron");
    let mut sets: Vec<String> = [
        "train.total_steps=24000",
        "train.eval_every_updates=0",
        "train.final_eval_episodes=50",
    ]
    .map(String::from)
    .to_vec();
    sets.extend(extra.iter().map(|s| s.to_string()));
    let loaded = rapt::config::load(&config, &sets).unwrap();
    let eval = rapt::train_ppo(&loaded.config, &dir).unwrap();
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("global_step,charts/episodic_return"));
    assert!(csv.lines().count() > 10);
    let _ = std::fs::remove_dir_all(&dir);
    eval
}

#[test]
fn ppo_reaches_ninety_percent_success_on_reach_within_24k_steps() {
    let eval = train_reach("gaussian", &[]);
    assert_eq!(eval.episodes, 50);
    assert!(
        eval.success_rate >= 0.9,
        "success {} < 0.9 after 24k steps",
        eval.success_rate
    );
}

#[test]
fn ppo_with_a_beta_head_reaches_ninety_percent_on_reach_within_24k_steps() {
    let eval = train_reach("beta", &["ppo.action_head=Beta"]);
    assert!(
        eval.success_rate >= 0.9,
        "Beta head: success {} < 0.9 after 24k steps",
        eval.success_rate
    );
}
