//! PPO learns Reach-v0: ≥ 90% success on held-out seeds within a small step budget, with
//! the Gaussian head and with CaRL's Beta head (a fast learning smoke test; `make train`
//! runs the full 100k-step config).

/// Torch's random generator is global to the process: two trainings running at once
/// would interleave their draws and neither would be reproducible. One at a time.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn train_reach(name: &str, total_steps: u32, extra: &[&str]) -> rapt_ppo::Evaluation {
    let _one_at_a_time = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("rapt-ppo-reach-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/reach.ron");
    let mut sets: Vec<String> = vec![
        format!("train.total_steps={total_steps}"),
        "train.eval_every_updates=0".into(),
        "train.final_eval_episodes=50".into(),
    ];
    sets.extend(extra.iter().map(|s| s.to_string()));
    let loaded = rapt::config::load(&config, &sets).unwrap();
    let eval = rapt_run::train_new(&loaded.config, &dir)
        .unwrap()
        .evaluation
        .unwrap();
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("global_step,charts/episodic_return"));
    assert!(csv.lines().count() > 10);
    let _ = std::fs::remove_dir_all(&dir);
    eval
}

#[test]
fn ppo_reaches_ninety_percent_success_on_reach_within_24k_steps() {
    let eval = train_reach("gaussian", 24_000, &[]);
    assert_eq!(eval.episodes, 50);
    assert!(
        eval.success_rate >= 0.9,
        "success {} < 0.9 after 24k steps",
        eval.success_rate
    );
}

#[test]
fn ppo_with_a_beta_head_reaches_ninety_percent_on_reach_within_40k_steps() {
    let eval = train_reach("beta", 40_000, &["ppo.action_head=Beta"]);
    assert!(
        eval.success_rate >= 0.9,
        "Beta head: success {} < 0.9 after 40k steps",
        eval.success_rate
    );
}
