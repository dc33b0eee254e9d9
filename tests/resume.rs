//! `rapt train --resume` after a SIGKILL: the killed run's checkpoint holds exactly the
//! parameters and optimizer state an uninterrupted run of the same seed had at that
//! update, and the resumed run finishes the same schedule with nothing logged twice and
//! nothing but the work since the checkpoint redone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// 60 updates of 4 envs × 50 steps, checkpoints every 5 updates, evaluations every 8.
const SETS: [&str; 8] = [
    "train.total_steps=12000",
    "env.num_envs=4",
    "train.checkpoint_every_updates=5",
    "train.keep_checkpoints=100",
    "train.eval_every_updates=8",
    "train.eval_episodes=4",
    "train.final_eval_episodes=4",
    "ppo.norm_reward=true",
];
const UPDATES: usize = 60;

fn train_command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rapt"));
    cmd.args([
        "train",
        "configs/reach.ron",
        "--run-dir",
        dir.to_str().unwrap(),
    ])
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for s in SETS {
        cmd.args(["--set", s]);
    }
    cmd
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rapt-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// (global_step, learning_rate, value_loss, policy_loss) per metrics.csv row.
fn rows(dir: &Path) -> Vec<(u64, String, String, String)> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (lr, vl, pl) = (
        col("charts/learning_rate"),
        col("losses/value_loss"),
        col("losses/policy_loss"),
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[lr].to_string(),
                f[vl].to_string(),
                f[pl].to_string(),
            )
        })
        .collect()
}

/// The tensors of one safetensors file, by name.
fn tensors(path: &Path) -> Vec<(String, Vec<f32>)> {
    let mut named = tch::Tensor::read_safetensors(path).unwrap();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
        .into_iter()
        .map(|(n, t)| (n, Vec::<f32>::try_from(t.view(-1)).unwrap()))
        .collect()
}

fn checkpoint_name(update: usize) -> String {
    format!("update-{update:06}")
}

#[test]
fn a_run_killed_with_sigkill_resumes_where_its_checkpoint_left_off() {
    // The uninterrupted reference.
    let reference = fresh_dir("reference");
    let out = train_command(&reference).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same run, killed without warning after its second checkpoint.
    let killed = fresh_dir("killed");
    let mut child = train_command(&killed).spawn().unwrap();
    let second = killed.join("checkpoints").join(checkpoint_name(10));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !second.exists() {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    // A few updates past the checkpoint, so that there is logged work to drop.
    std::thread::sleep(Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the run finished before it could be killed"
    );

    // Its newest complete checkpoint matches the reference at the same update, tensor for
    // tensor: weights and Adam's moments.
    let latest = rapt_rundir::CheckpointDir::updates(killed.join("checkpoints"))
        .latest()
        .unwrap();
    let progress = rapt_ppo::read_progress(&latest).unwrap();
    let update = progress.update as usize;
    let logged = rows(&killed).len();
    eprintln!("killed after {logged} updates; resuming from the checkpoint at update {update}");
    assert!(
        (10..UPDATES).contains(&update),
        "checkpoint at update {update}"
    );
    let same = reference.join("checkpoints").join(checkpoint_name(update));
    assert_eq!(rapt_ppo::read_progress(&same).unwrap(), progress);
    for file in ["weights.safetensors", "optimizer.safetensors"] {
        assert_eq!(
            tensors(&latest.join(file)),
            tensors(&same.join(file)),
            "{file} at update {update}"
        );
    }

    // Resume and finish.
    let out = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["train", "--resume", killed.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("final evaluation"));

    // One metrics row per update, none twice, the same step counter and learning-rate
    // schedule as the reference, and identical losses up to the checkpoint.
    let (ours, theirs) = (rows(&killed), rows(&reference));
    assert_eq!(ours.len(), UPDATES, "one row per update");
    assert!(ours.windows(2).all(|w| w[0].0 < w[1].0), "steps increase");
    for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!((a.0, &a.1), (b.0, &b.1), "row {k}: step and learning rate");
        if k < update {
            assert_eq!(a, b, "row {k}, before the checkpoint");
        }
    }
    assert_eq!(
        rapt_ppo::read_progress(
            &rapt_rundir::CheckpointDir::updates(killed.join("checkpoints"))
                .latest()
                .unwrap()
        )
        .unwrap()
        .update,
        UPDATES as u64
    );
    tensorboard_has_one_point_per_update(&killed.join("tensorboard"));
    for dir in [reference, killed] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// TensorBoard's own reader, when a Python with `tensorboard` is around, sees each update
/// once: the purge event dropped what the killed process logged after its checkpoint.
fn tensorboard_has_one_point_per_update(dir: &Path) {
    let Some(python) = common::python_with_tensorboard() else {
        eprintln!("no Python with tensorboard: the purge is not checked");
        return;
    };
    let script = "import sys\n\
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n\
acc = EventAccumulator(sys.argv[1]); acc.Reload()\n\
steps = [e.step for e in acc.Scalars('charts/SPS')]\n\
assert steps == sorted(set(steps)), steps\n\
print(len(steps))\n";
    let stdout = common::run_python(&python, script, dir.to_str().unwrap());
    assert_eq!(stdout.as_str(), UPDATES.to_string());
}

#[test]
fn resuming_a_directory_without_checkpoints_says_so() {
    let dir = fresh_dir("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["train", "--resume", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.ron") && err.contains("cannot resume"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
