//! The learned-reward-model loop end to end at tiny scale: `rapt record` → `rapt
//! reward-model train` → `eval` → `adapt` → `rapt train` shaped by the learned model, plus
//! what happens to a corrupted dataset chunk and a corrupted model file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{ok, rapt, train_tiny_reward_model};

fn fail(out: Output) -> String {
    assert!(!out.status.success(), "rapt should have failed");
    String::from_utf8(out.stderr).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rapt-rm-loop-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `rapt record ENV` of `episodes` 30-step episodes at 16 px into `out`; its output.
fn record_tiny(env: &str, out: &Path, seed: &str, episodes: &str) -> String {
    ok(&rapt(&[
        "record",
        env,
        "--episodes",
        episodes,
        "--seed",
        seed,
        "--size",
        "16",
        "--max-steps",
        "30",
        "--out",
        s(out),
    ]))
}

#[test]
fn record_train_eval_adapt_and_shaped_ppo_at_tiny_scale() {
    let dir = scratch("loop");
    let (train, heldout) = (dir.join("train"), dir.join("heldout"));
    let rec = |out: &Path, seed: &str, episodes: &str| record_tiny("Push-v0", out, seed, episodes);
    let text = rec(&train, "0", "4");
    assert!(text.contains("4 episodes"), "{text}");
    // A second recording appends.
    rec(&train, "4", "2");
    let files = fs::read_dir(train.join("episodes")).unwrap().count();
    assert!(files >= 6, "{files} episode files");
    rec(&heldout, "1000", "3");

    let run = dir.join("rm");
    let text = train_tiny_reward_model(&train, &run, 2);
    assert!(text.contains("epoch 2/2"), "{text}");
    assert!(run.join("model/weights.safetensors").exists());
    assert!(
        run.join("checkpoints/epoch-0002/optimizer.safetensors")
            .exists()
    );
    assert!(run.join("tensorboard").exists());

    // Resume: drop the last epoch's checkpoint and the model, continue, and get the same
    // weights bit for bit.
    let resumed = dir.join("rm-resumed");
    copy_dir(&run, &resumed);
    fs::remove_dir_all(resumed.join("checkpoints/epoch-0002")).unwrap();
    fs::remove_dir_all(resumed.join("model")).unwrap();
    let text = ok(&rapt(&[
        "reward-model",
        "train",
        "--resume",
        s(&resumed),
        "--device",
        "cpu",
        "--threads",
        "1",
    ]));
    assert!(
        text.contains("after epoch 1") && text.contains("epoch 2/2"),
        "{text}"
    );
    assert_eq!(
        fs::read(run.join("model/weights.safetensors")).unwrap(),
        fs::read(resumed.join("model/weights.safetensors")).unwrap(),
        "a resumed run differs from an uninterrupted one"
    );

    let plot = dir.join("calibration.png");
    let json = ok(&rapt(&[
        "reward-model",
        "eval",
        s(&run.join("model")),
        s(&heldout),
        "--plot",
        s(&plot),
        "--json",
        "--device",
        "cpu",
    ]));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mae = report["mae"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&mae), "{report}");
    assert_eq!(
        report["episodes"].as_u64().unwrap() as usize,
        fs::read_dir(heldout.join("episodes")).unwrap().count()
    );
    assert!(fs::metadata(&plot).unwrap().len() > 100);
    let err = fail(rapt(&[
        "reward-model",
        "eval",
        s(&run.join("model")),
        s(&heldout),
        "--threads",
        "0",
    ]));
    assert!(
        err.contains("--threads") && err.contains("out of range"),
        "{err}"
    );

    let demo = heldout.join("episodes/ep-000000.rep");
    let adapted = dir.join("adapted");
    let text = ok(&rapt(&[
        "reward-model",
        "adapt",
        s(&run.join("model")),
        "--demo",
        s(&demo),
        "--out",
        s(&adapted),
        "--steps",
        "5",
        "--device",
        "cpu",
    ]));
    assert!(text.contains("adapted on"), "{text}");
    assert!(adapted.join("model.json").exists());

    // Shaped PPO with the learned model (frames rendered by the envs, scored on the
    // scoring thread) for a few updates.
    let ppo = dir.join("ppo");
    let text = ok(&rapt(&[
        "train",
        "configs/push-shaped.ron",
        "--run-dir",
        s(&ppo),
        "--set",
        "env.num_envs=4",
        "--set",
        "env.threads=1",
        "--set",
        "ppo.num_steps=16",
        "--set",
        "train.total_steps=192",
        "--set",
        "train.eval_every_updates=0",
        "--set",
        "train.final_eval_episodes=2",
        "--set",
        &format!(
            "shaping=Potential(model: Learned(path: \"{}\"), scale: 10.0)",
            s(&run.join("model"))
        ),
    ]));
    let _ = text;
    let csv = fs::read_to_string(ppo.join("metrics.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let phi_col = header.iter().position(|h| *h == "reward/phi").unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    for row in rows {
        let phi: f64 = row.split(',').nth(phi_col).unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&phi), "Φ {phi} in {row}");
    }
    // Evaluation reports the shaping terms when asked (scored from frames, like
    // training), and only then.
    let json = ok(&rapt(&[
        "eval",
        s(&ppo),
        "--episodes",
        "2",
        "--json",
        "--shaping",
    ]));
    let eval: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        eval["mean_shaping_return"].as_f64().unwrap().is_finite(),
        "{eval}"
    );
    let json = ok(&rapt(&["eval", s(&ppo), "--episodes", "2", "--json"]));
    let plain: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(plain["mean_shaping_return"].is_null(), "{plain}");
    assert_eq!(plain["success_rate"], eval["success_rate"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupted_chunks_and_models_give_clear_errors_and_lose_nothing_else() {
    let dir = scratch("corrupt");
    let data = dir.join("data");
    let record = |episodes: &str| {
        rapt(&[
            "record",
            "Reach-v0",
            "--episodes",
            episodes,
            "--size",
            "8",
            "--max-steps",
            "10",
            "--policy",
            "random",
            "--out",
            s(&data),
        ])
    };
    ok(&record("3"));
    // Recording the same seeds again would add identical episodes: refused, naming the
    // next free seed.
    let err = fail(record("2"));
    assert!(err.contains("seed 0") && err.contains("--seed 3"), "{err}");
    assert_eq!(fs::read_dir(data.join("episodes")).unwrap().count(), 3);
    let victim = data.join("episodes/ep-000001.rep");
    let mut bytes = fs::read(&victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    fs::write(&victim, &bytes).unwrap();
    let run = dir.join("rm");
    let err = fail(rapt(&[
        "reward-model",
        "train",
        s(&data),
        "--run-dir",
        s(&run),
        "--device",
        "cpu",
    ]));
    assert!(
        err.contains("ep-000001.rep") && err.contains("checksum"),
        "{err}"
    );
    // The other episodes still train, with the bad one named.
    let cfg = dir.join("rm.ron");
    fs::write(
        &cfg,
        "(epochs: 1, net: (channels: [4], features: 8, hidden: 8))",
    )
    .unwrap();
    let out = rapt(&[
        "reward-model",
        "train",
        s(&data),
        "--config",
        s(&cfg),
        "--run-dir",
        s(&run),
        "--skip-corrupt",
        "--device",
        "cpu",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    ok(&out);
    assert!(
        stderr.contains("skipped") && stderr.contains("ep-000001.rep"),
        "{stderr}"
    );

    let model = run.join("model");
    let weights = model.join("weights.safetensors");
    let len = fs::metadata(&weights).unwrap().len() as usize;
    // Zeroed tensor data behind an intact header still loads as safetensors: the SHA-256
    // in model.json is what catches it.
    let mut zeroed = fs::read(&weights).unwrap();
    let header = 8 + u64::from_le_bytes(zeroed[..8].try_into().unwrap()) as usize;
    zeroed[header..].fill(0);
    fs::write(&weights, &zeroed).unwrap();
    let eval_model = || {
        fail(rapt(&[
            "reward-model",
            "eval",
            s(&model),
            s(&data),
            "--skip-corrupt",
            "--device",
            "cpu",
        ]))
    };
    let err = eval_model();
    assert!(
        err.contains("weights.safetensors") && err.contains("SHA-256"),
        "{err}"
    );
    fs::write(&weights, vec![7u8; len / 2]).unwrap();
    let err = eval_model();
    assert!(
        err.contains("weights.safetensors") && err.contains("corrupted"),
        "{err}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_stops_reward_model_training_after_an_epoch_checkpoint_with_exit_143() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = scratch("rm-term");
    let data = dir.join("data");
    ok(&rapt(&[
        "record",
        "Push-v0",
        "--episodes",
        "2",
        "--size",
        "16",
        "--max-steps",
        "20",
        "--out",
        s(&data),
    ]));
    let run = dir.join("rm");
    let cfg = dir.join("rm.ron");
    fs::write(
        &cfg,
        "(epochs: 100000, batch_size: 32, net: (channels: [8, 8], features: 16, hidden: 16))",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args([
            "reward-model",
            "train",
            s(&data),
            "--config",
            s(&cfg),
            "--run-dir",
            s(&run),
        ])
        .args(["--device", "cpu", "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let checkpoints = || {
        fs::read_dir(run.join("checkpoints"))
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    };
    let t = Instant::now();
    while checkpoints() == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "no epoch checkpoint"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(common::signal("TERM", child.id()));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(checkpoints() >= 1);
    assert!(
        !run.join("model").exists(),
        "an unfinished run writes no final model"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn one_task_conditioned_model_learns_two_tasks_and_scores_each_by_its_env() {
    let dir = scratch("multi");
    let rec = |env: &str, out: &Path, seed: &str| record_tiny(env, out, seed, "3");
    let (push, pick, reach) = (dir.join("push"), dir.join("pick"), dir.join("reach"));
    rec("Push-v2", &push, "0");
    rec("PickPlace-v2", &pick, "0");
    rec("Reach-v0", &reach, "0");
    let cfg = dir.join("rm.ron");
    fs::write(
        &cfg,
        "(epochs: 2, batch_size: 32, net: (channels: [8, 8], features: 16, hidden: 16))",
    )
    .unwrap();
    let run = dir.join("rm");
    let text = ok(&rapt(&[
        "reward-model",
        "train",
        s(&push),
        s(&pick),
        "--config",
        s(&cfg),
        "--run-dir",
        s(&run),
        "--device",
        "cpu",
        "--threads",
        "1",
    ]));
    assert!(text.contains("model →"), "{text}");
    let meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("model/model.json")).unwrap()).unwrap();
    assert_eq!(meta["env"], "Push+PickPlace", "{meta}");
    assert_eq!(
        meta["shape"]["task_stages"],
        serde_json::json!([2, 3]),
        "{meta}"
    );
    assert_eq!(
        meta["tasks"][1]["stages"],
        serde_json::json!(["reach", "grasp", "place"])
    );
    // Each task's held-out data is scored as that task.
    for data in [&push, &pick] {
        let out = ok(&rapt(&[
            "reward-model",
            "eval",
            s(&run.join("model")),
            s(data),
        ]));
        assert!(out.contains("MAE"), "{out}");
    }
    // A task it does not know is refused by name.
    let err = fail(rapt(&[
        "reward-model",
        "eval",
        s(&run.join("model")),
        s(&reach),
    ]));
    assert!(
        err.contains("knows the tasks") && err.contains("Reach-v0"),
        "{err}"
    );
    // It shapes PPO on either task: the shaper names the env id as the task.
    let ppo = dir.join("ppo.ron");
    fs::write(
        &ppo,
        format!(
            "(env: (id: \"PickPlace-v2\", num_envs: 2, max_episode_steps: 30, params: (reward: Sparse)), \
             train: (total_steps: 120, eval_every_updates: 100, final_eval_episodes: 1), \
             ppo: (num_steps: 30, num_minibatches: 2, update_epochs: 1, hidden: [16]), \
             shaping: Potential(model: Learned(path: {:?}), scale: 10.0))",
            s(&run.join("model"))
        ),
    )
    .unwrap();
    let out = ok(&rapt(&[
        "train",
        s(&ppo),
        "--run-dir",
        s(&dir.join("shaped")),
    ]));
    assert!(out.contains("final evaluation"), "{out}");
    let _ = fs::remove_dir_all(&dir);
}
