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
    rapt::train_ppo(&loaded.config, &dir).unwrap();
    let eval = evaluate_run::evaluate(&dir, 6).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(eval.episodes, 6);
    assert_eq!(eval.per_episode.len(), 6);
    assert!(eval.metric("tcp_to_goal").is_some());
}
