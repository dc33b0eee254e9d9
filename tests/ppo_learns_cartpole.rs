//! PPO with the categorical head learns CartPole-v1 as CleanRL's `ppo.py` does: the
//! maximum return of 500 on held-out evaluation within 100k steps (asserted ≥ 475), and
//! a config that pairs PPO's continuous heads with a discrete action space is refused
//! before anything is written.

#[test]
fn ppo_reaches_the_maximum_return_on_cartpole_within_100k_steps() {
    let dir = std::env::temp_dir().join(format!("rapt-ppo-cartpole-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/cartpole.ron");
    let sets = [
        "train.eval_every_updates=0".to_string(),
        "device=Cpu".into(),
    ];
    let loaded = rapt::config::load(&config, &sets).unwrap();
    assert_eq!(loaded.config.train.total_steps, 100_000);
    let eval = rapt_run::train_new(&loaded.config, &dir)
        .unwrap()
        .evaluation
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(eval.episodes, 100);
    assert!(
        eval.mean_return >= 475.0,
        "mean held-out return {} < 475 after 100k steps",
        eval.mean_return
    );
}

#[test]
fn a_continuous_head_on_a_discrete_env_is_refused_at_validation() {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/cartpole.ron");
    let err = rapt::config::load(&config, &["ppo.action_head=Gaussian".to_string()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ppo.action_head") && err.contains("Categorical") && err.contains("Discrete"),
        "{err}"
    );
    // The default head (`Auto`) fits either kind of space.
    let defaults = rapt::config::RunConfig::default();
    assert_eq!(defaults.env.id, "CartPole-v1");
    assert_eq!(defaults.ppo.action_head, rapt_ppo::ActionHead::Auto);
    let pendulum = "(env: (id: \"Pendulum-v1\"), ppo: (action_head: Categorical))";
    let path = std::env::temp_dir().join(format!("rapt-pendulum-{}.ron", std::process::id()));
    std::fs::write(&path, pendulum).unwrap();
    let err = rapt::config::load(&path, &[]).unwrap_err().to_string();
    let _ = std::fs::remove_file(&path);
    assert!(err.contains("Gaussian") && err.contains(":1:"), "{err}");
}
