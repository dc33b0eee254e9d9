//! The examples do what their docs say.

#[path = "../examples/custom_env.rs"]
mod custom_env;

#[test]
fn the_custom_env_example_trains_its_own_env_to_ninety_percent_success() {
    let eval = custom_env::train(40_000).unwrap();
    assert_eq!(eval.episodes, 100);
    assert!(
        eval.success_rate >= 0.9,
        "success {} < 0.9 after 40k steps",
        eval.success_rate
    );
}

#[path = "../examples/evaluate_run.rs"]
mod evaluate_run;

#[test]
fn the_evaluate_run_example_reads_a_saved_run() {
    let dir = std::env::temp_dir().join(format!("rapt-example-eval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/reach.ron");
    let sets: Vec<String> = [
        "train.total_steps=1600",
        "train.final_eval_episodes=4",
        "device=Cpu",
    ]
    .map(String::from)
    .to_vec();
    let loaded = rapt::config::load(&config, &sets).unwrap();
    rapt_run::train_new(&loaded.config, &dir).unwrap();
    let eval = evaluate_run::evaluate(&dir, 6).unwrap();
    assert_eq!(eval.episodes, 6);
    assert_eq!(eval.per_episode.len(), 6);
    assert!(eval.metric("tcp_to_goal").is_some());
    // The example and `rapt eval` play the same held-out episodes.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["eval", dir.to_str().unwrap(), "--episodes", "6", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let example = serde_json::to_value(&eval).unwrap();
    for key in [
        "success_rate",
        "mean_return",
        "mean_length",
        "per_episode",
        "metrics",
    ] {
        assert_eq!(cli[key], example[key], "{key}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
