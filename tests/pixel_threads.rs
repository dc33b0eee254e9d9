//! A pixel policy trains bit-identically whether its envs step on one thread or two: the
//! workers write camera observations straight into the batch, and the learner must see
//! the same rows in the same order either way. Both runs are pinned to the same two cores
//! (`taskset`), so torch gets the same thread counts on any machine.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Columns that hold wall-clock times, which differ between any two runs.
const TIMING: [&str; 3] = [
    "charts/SPS",
    "charts/rollout_seconds",
    "charts/update_seconds",
];

fn train(dir: &Path, threads: usize) {
    let threads = format!("env.threads={threads}");
    let out = Command::new("taskset")
        .args([
            "-c",
            "0,1",
            env!("CARGO_BIN_EXE_rapt"),
            "train",
            "configs/reach.ron",
        ])
        .args(["--run-dir", dir.to_str().unwrap(), "--no-final-eval"])
        .args([
            "--set",
            "env.params=(camera: (views: [\"front\", \"wrist\"], size: 24))",
            "--set",
            "env.num_envs=6",
            "--set",
            &threads,
            "--set",
            "ppo.num_steps=16",
            "--set",
            "ppo.num_minibatches=2",
            "--set",
            "ppo.encoder=Cnn(channels: [8, 16], features: 32)",
            "--set",
            "train.total_steps=480",
            "--set",
            "train.eval_every_updates=0",
            "--set",
            "train.checkpoint_every_updates=1",
            "--set",
            "train.keep_checkpoints=100",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("taskset and rapt run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// metrics.csv without its timing columns.
fn metrics(dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let keep: Vec<usize> = (0..rows[0].len())
        .filter(|&c| !TIMING.contains(&rows[0][c].as_str()))
        .collect();
    rows.iter()
        .map(|r| keep.iter().map(|&c| r[c].clone()).collect())
        .collect()
}

/// Every checkpoint's weights and optimizer state, by file name.
fn checkpoints(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut updates: Vec<PathBuf> = std::fs::read_dir(dir.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    updates.sort();
    for update in updates {
        for name in ["weights.safetensors", "optimizer.safetensors"] {
            let path = update.join(name);
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    files
}

#[test]
fn a_camera_pixel_run_is_identical_on_one_and_two_env_threads() {
    let base = std::env::temp_dir().join(format!("rapt-pixel-threads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (one, two) = (base.join("one"), base.join("two"));
    train(&one, 1);
    train(&two, 2);
    let (m1, m2) = (metrics(&one), metrics(&two));
    assert_eq!(m1.len(), 6, "a header and 5 updates");
    assert_eq!(m1, m2, "metrics differ between 1 and 2 env threads");
    let (c1, c2) = (checkpoints(&one), checkpoints(&two));
    assert_eq!(c1.len(), 10, "5 checkpoints of 2 files");
    for ((p1, b1), (p2, b2)) in c1.iter().zip(&c2) {
        assert!(b1 == b2, "{p1} and {p2} differ");
    }
    let _ = std::fs::remove_dir_all(&base);
}
