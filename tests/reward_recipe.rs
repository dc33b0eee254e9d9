//! `rapt reward-model build` at toy scale: the whole recipe (record, base model, the
//! oracle-shaped reference runs, two on-policy rounds of two shaped PPO runs side by
//! side, the result) in a scratch
//! directory, then a rerun that finds everything done, and a recipe whose run config is
//! not shaped by a progress model.

use std::fs;
use std::path::PathBuf;

mod common;

use common::{ok, rapt};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rapt-recipe-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// A tiny oracle-shaped Push run: 4 envs, 30-step episodes, two updates.
const PPO: &str = r#"(
    name: "toy-shaped",
    env: (id: "Push-v2", num_envs: 4, threads: 1, max_episode_steps: 30, params: (reward: Sparse)),
    train: (total_steps: 240, policy: Ppo, eval_every_updates: 100, eval_episodes: 2, final_eval_episodes: 2),
    ppo: (num_steps: 30, num_minibatches: 2, update_epochs: 1, hidden: [16]),
    shaping: Potential(model: Oracle, scale: 10.0),
)"#;

#[test]
fn the_recipe_runs_its_rounds_end_to_end_at_toy_scale_and_a_rerun_redoes_nothing() {
    let dir = scratch("toy");
    let ppo = dir.join("ppo.ron");
    fs::write(&ppo, PPO).unwrap();
    let recipe = dir.join("recipe.ron");
    // stop_mae 0: no model is that good, so both rounds run and the result is unchecked.
    // Each model is an ensemble of two networks; the rounds' seeds 1 and 2 are compared
    // with oracle-shaped runs of the same seeds.
    fs::write(
        &recipe,
        format!(
            "(ppo_config: {:?}, seeds: [1, 2], oracle_fraction: Some(0.9), max_rounds: 2, \
             stop_mae: 0.0, record_episodes: 4, \
             heldout_episodes: 2, policy_episodes: 2, policy_heldout_episodes: 2, size: 16, \
             model: (epochs: 1, batch_size: 64), round_epochs: 1, eval_episodes: 2, ensemble: 2)",
            ppo.to_str().unwrap()
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let args = [
        "reward-model",
        "build",
        recipe.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "2",
        "--device",
        "cpu",
    ];
    let text = ok(&rapt(&args));
    assert!(text.contains("| 2 |"), "{text}");
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{report}");
    for r in rounds {
        assert_eq!(r["policies"].as_array().unwrap().len(), 2);
        assert_eq!(r["on_policy"]["episodes"], 4, "{r}");
        assert!(r["on_policy"]["mae"].as_f64().unwrap() >= 0.0);
        assert_eq!(r["stop"], false);
    }
    assert_eq!(report["checked"], false);
    // The oracle-shaped reference: one run per seed, the config as it is, scored.
    let oracle = report["oracle"].as_array().unwrap();
    assert_eq!(oracle.len(), 2, "{report}");
    assert_eq!(oracle[1]["seed"], 2);
    let cfg = fs::read_to_string(out.join("ppo/oracle-s1/config.ron")).unwrap();
    assert!(cfg.contains("Oracle") && !cfg.contains("rm-"), "{cfg}");
    assert!(
        text.contains("Oracle-shaped PPO (the reference): 1: "),
        "{text}"
    );
    assert!(report["result"].as_str().unwrap().ends_with("rm-2/model"));
    assert!(out.join("model/model.json").exists());
    // Round 2's runs were shaped by round 1's model.
    let cfg = fs::read_to_string(out.join("ppo/round-2-s2/config.ron")).unwrap();
    assert!(cfg.contains("rm-1/model"), "{cfg}");
    // The result is an ensemble of the two members trained apart, and scores frames.
    let meta = fs::read_to_string(out.join("model/model.json")).unwrap();
    assert!(
        meta.contains("\"members\": 2") && meta.contains("MeanMinusStd"),
        "{meta}"
    );
    for k in 0..2 {
        assert!(out.join(format!("models/rm-2/member-{k}/model")).exists());
    }
    ok(&rapt(&[
        "reward-model",
        "eval",
        out.join("model").to_str().unwrap(),
        out.join("data/recorded-heldout").to_str().unwrap(),
    ]));
    // `rapt reward-model ensemble` combines members by hand; a bad aggregate is named.
    let member = |k: usize| out.join(format!("models/rm-1/member-{k}/model"));
    let (m0, m1) = (member(0), member(1));
    let by_hand = dir.join("by-hand");
    let combine = |aggregate: &str| {
        rapt(&[
            "reward-model",
            "ensemble",
            m0.to_str().unwrap(),
            m1.to_str().unwrap(),
            "--out",
            by_hand.to_str().unwrap(),
            "--aggregate",
            aggregate,
        ])
    };
    assert!(ok(&combine("Min")).contains("ensemble of 2 (Min)"));
    let bad = combine("Median");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--aggregate `Median`"),
        "{bad:?}"
    );

    // Everything is done: a rerun trains nothing and reports the same.
    let before = fs::metadata(out.join("models/rm-2/model/weights.safetensors"))
        .unwrap()
        .modified()
        .unwrap();
    let again = ok(&rapt(&args));
    assert!(!again.contains("Push-v2: round"), "{again}");
    let after = fs::metadata(out.join("models/rm-2/model/weights.safetensors"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);

    // A second build in the same directory while one holds it is refused.
    let held = fs::OpenOptions::new()
        .write(true)
        .open(out.join("lock"))
        .unwrap();
    held.try_lock().unwrap();
    let busy = rapt(&args);
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{busy:?}"
    );
    drop(held);

    // More rounds continue the recipe: round 3 runs, shaped by rm-2, and its result ships.
    let mut more = args.to_vec();
    more.extend(["--set", "max_rounds=3"]);
    let text = ok(&rapt(&more));
    assert!(
        text.contains("round-3-ppo") && !text.contains("round-1-ppo"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["rounds"].as_array().unwrap().len(), 3, "{report}");
    assert!(report["result"].as_str().unwrap().ends_with("rm-3/model"));

    // Another stopping criterion judges the rounds again and trains nothing (none is met).
    let mut looser = more.clone();
    looser.extend(["--set", "stop_mae=0.5", "--set", "oracle_fraction=None"]);
    let text = ok(&rapt(&looser));
    assert!(!text.contains("Push-v2: round"), "{text}");

    // Other settings in the same directory are refused.
    let mut other = more.clone();
    other.extend(["--set", "record_episodes=5"]);
    let err = rapt(&other);
    assert!(!err.status.success());
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("other settings"),
        "{err:?}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_recipe_whose_run_is_not_shaped_is_refused_by_name() {
    let dir = scratch("unshaped");
    let recipe = dir.join("recipe.ron");
    fs::write(&recipe, "(ppo_config: \"configs/push-fast.ron\")").unwrap();
    let out = rapt(&[
        "reward-model",
        "build",
        recipe.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("configs/push-fast.ron") && err.contains("progress model"),
        "{err}"
    );
    let _ = fs::remove_dir_all(&dir);
}
