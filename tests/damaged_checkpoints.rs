//! One checkpoint-directory implementation (`rapt_rundir::CheckpointDir`) for every kind of
//! run: a PPO run and a reward-model run whose newest checkpoint is damaged the same way
//! both resume from the one before it, each through its own resume path.

use std::path::{Path, PathBuf};

use rapt_rundir::{CheckpointDir, RunDir};

mod common;

use common::{ok, rapt, train_tiny_reward_model};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rapt-damaged-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Zero the tensor data of the newest checkpoint's `weights.safetensors` behind its intact
/// header (it still parses; only the recorded SHA-256 tells), returning the checkpoint.
fn damage_newest(checkpoints: &CheckpointDir) -> PathBuf {
    let newest = checkpoints.latest().expect("a checkpoint");
    let weights = newest.join("weights.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let header = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[header..].fill(0);
    std::fs::write(&weights, bytes).unwrap();
    newest
}

#[test]
fn ppo_and_reward_model_runs_resume_past_the_same_damage() {
    let dir = scratch("both");

    // A PPO run with a checkpoint after each of its 3 updates.
    let ppo = dir.join("ppo");
    ok(&rapt(&[
        "train",
        "configs/reach.ron",
        "--set",
        "train.total_steps=2400",
        "--set",
        "train.checkpoint_every_updates=1",
        "--set",
        "train.final_eval_episodes=2",
        "--set",
        "device=Cpu",
        "--run-dir",
        s(&ppo),
    ]));
    let checkpoints = CheckpointDir::updates(ppo.join("checkpoints"));
    let damaged = damage_newest(&checkpoints);
    assert_eq!(checkpoints.number_of(&damaged), Some(3));
    let cfg = rapt_run::config::load(&ppo.join("config.ron"), &[])
        .unwrap()
        .config;
    let run = RunDir::claim(&ppo).unwrap();
    let prepared = rapt_run::prepare(&cfg, rapt_run::Role::Lead, Some(&run), 1).unwrap();
    assert_eq!(prepared.progress.update, 2, "resumed from update-000002");
    drop((prepared, run));

    // A reward-model run with a checkpoint after each of its 3 epochs.
    let data = dir.join("data");
    ok(&rapt(&[
        "record",
        "Reach-v0",
        "--episodes",
        "4",
        "--size",
        "8",
        "--max-steps",
        "12",
        "--policy",
        "random",
        "--out",
        s(&data),
    ]));
    let rm = dir.join("rm");
    train_tiny_reward_model(&data, &rm, 3);
    let checkpoints = rapt_reward_model::train::checkpoint_dir(&rm);
    let damaged = damage_newest(&checkpoints);
    assert_eq!(checkpoints.number_of(&damaged), Some(3));
    let (trainer, _) =
        rapt_reward_model::RewardModelTrainer::resume_run(&rm, false, tch::Device::Cpu).unwrap();
    assert_eq!(trainer.progress().epochs_done, 2, "resumed from epoch-0002");

    // With every checkpoint damaged, both refuse to start over silently.
    for ckpt in CheckpointDir::updates(ppo.join("checkpoints")).newest_first() {
        std::fs::write(ckpt.join("weights.safetensors"), b"garbage").unwrap();
    }
    let run = RunDir::claim(&ppo).unwrap();
    let err = rapt_run::prepare(&cfg, rapt_run::Role::Lead, Some(&run), 1)
        .expect_err("no intact checkpoint");
    assert!(err.to_string().contains("update-000003"), "{err}");
    for ckpt in checkpoints.newest_first() {
        std::fs::write(ckpt.join("weights.safetensors"), b"garbage").unwrap();
    }
    let err = rapt_reward_model::RewardModelTrainer::resume_run(&rm, false, tch::Device::Cpu)
        .expect_err("no intact checkpoint");
    assert!(err.to_string().contains("epoch-0003"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
