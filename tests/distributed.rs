//! Data-parallel training under `mpirun -np 2` (the `mpi` feature; `make test` builds it):
//! two ranks of E envs take exactly the updates one process with 2E envs takes, and a job
//! that loses a rank ends promptly, with a checkpoint `--resume` completes.
#![cfg(feature = "mpi")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `mpirun` for `ranks` processes of the test's `rapt` (root allowed, more ranks than
/// cores allowed: CI runs as root on 2 cores).
fn mpirun(ranks: usize) -> Command {
    let mut cmd = Command::new("mpirun");
    cmd.args(["--allow-run-as-root", "--oversubscribe", "-np"])
        .arg(ranks.to_string())
        .arg(env!("CARGO_BIN_EXE_rapt"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn rapt() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rapt"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rapt-dist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn check(out: &Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

/// `rapt train configs/reach.ron` into `dir` with `num_envs` envs per process and `sets`.
fn train_args<'a>(
    cmd: &'a mut Command,
    dir: &Path,
    num_envs: usize,
    sets: &[&str],
) -> &'a mut Command {
    cmd.args(["train", "configs/reach.ron", "--no-final-eval", "--run-dir"])
        .arg(dir)
        .args(["--set", &format!("env.num_envs={num_envs}")]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd
}

/// Every parameter of the newest checkpoint, by name.
fn weights(run: &Path) -> Vec<(String, Vec<f32>)> {
    let newest = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("update-")
        })
        .max()
        .expect("a checkpoint");
    let mut named = tch::Tensor::read_safetensors(newest.join("weights.safetensors")).unwrap();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
        .into_iter()
        .map(|(n, t)| (n, Vec::<f32>::try_from(t.view(-1)).unwrap()))
        .collect()
}

fn max_diff(a: &[(String, Vec<f32>)], b: &[(String, Vec<f32>)]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|((na, x), (nb, y))| {
            assert_eq!(na, nb);
            x.iter().zip(y).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f32::max)
}

/// Two updates with one minibatch per epoch (so an update's gradient is the mean over
/// the global batch) and reward scaling on, no evaluation.
const EQUIVALENCE: [&str; 6] = [
    "train.total_steps=800",
    "ppo.num_steps=50",
    "ppo.num_minibatches=1",
    "ppo.update_epochs=4",
    "ppo.norm_reward=true",
    "train.eval_every_updates=0",
];

#[test]
fn two_ranks_of_e_envs_update_as_one_process_of_2e_envs() {
    let two = fresh_dir("two-ranks");
    let one = fresh_dir("one-process");
    let half = fresh_dir("half");
    check(
        &train_args(&mut mpirun(2), &two, 4, &EQUIVALENCE)
            .output()
            .unwrap(),
        "mpirun -np 2 rapt train",
    );
    check(
        &train_args(&mut rapt(), &one, 8, &EQUIVALENCE)
            .output()
            .unwrap(),
        "rapt train with 8 envs",
    );
    // One process with only rank 0's envs: what training without the all-reduce would be.
    check(
        &train_args(
            &mut rapt(),
            &half,
            4,
            &["train.total_steps=400"]
                .iter()
                .chain(&EQUIVALENCE[1..])
                .copied()
                .collect::<Vec<_>>(),
        )
        .output()
        .unwrap(),
        "rapt train with 4 envs",
    );
    let saved = std::fs::read_to_string(two.join("config.ron")).unwrap();
    assert!(
        saved.contains("ranks: 2"),
        "the saved config states the ranks:\n{saved}"
    );
    let metrics = std::fs::read_to_string(two.join("metrics.csv")).unwrap();
    let steps: Vec<&str> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(steps, ["400", "800"], "global steps count both ranks' envs");

    let (w2, w1, wh) = (weights(&two), weights(&one), weights(&half));
    let same = max_diff(&w2, &w1);
    let other = max_diff(&w2, &wh);
    eprintln!("max |Δw|: 2 ranks vs 1 process {same:e}; vs rank 0's envs alone {other:e}");
    assert!(
        same < 1e-4,
        "2 ranks × 4 envs and 1 process × 8 envs differ by {same} after two updates"
    );
    assert!(
        other > 100.0 * same.max(1e-6),
        "the comparison is not sensitive: without rank 1's data the weights differ by only {other}"
    );
    for d in [two, one, half] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The PID of rank `rank` among `mpirun`'s children (Open MPI starts local ranks as
/// children of mpirun, with `OMPI_COMM_WORLD_RANK` in their environment).
fn rank_pid(mpirun: &Child, rank: usize) -> Option<u32> {
    let children =
        std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", mpirun.id())).ok()?;
    children.split_whitespace().find_map(|pid| {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let wanted = format!("OMPI_COMM_WORLD_RANK={rank}");
        environ
            .split(|&b| b == 0)
            .any(|kv| kv == wanted.as_bytes())
            .then(|| pid.parse().ok())
            .flatten()
    })
}

fn checkpoints(run: &Path) -> usize {
    std::fs::read_dir(run.join("checkpoints"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn a_job_that_loses_a_rank_ends_and_resume_completes_it() {
    let dir = fresh_dir("kill");
    // 40 updates of 2 × 4 envs × 50 steps, a checkpoint every 2.
    let sets = [
        "train.total_steps=16000",
        "train.checkpoint_every_updates=2",
        "train.eval_every_updates=0",
        "train.keep_checkpoints=100",
    ];
    let mut job = train_args(&mut mpirun(2), &dir, 4, &sets).spawn().unwrap();
    let start = Instant::now();
    while checkpoints(&dir) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no checkpoint after 300 s"
        );
        assert!(job.try_wait().unwrap().is_none(), "the job ended early");
        std::thread::sleep(Duration::from_millis(100));
    }
    let victim = rank_pid(&job, 1).expect("rank 1's PID among mpirun's children");
    let killed = Instant::now();
    Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status()
        .unwrap();
    let out = loop {
        if job.try_wait().unwrap().is_some() {
            break job.wait_with_output().unwrap();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(60),
            "the job still runs 60 s after rank 1 was killed"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the job reported success after losing a rank"
    );
    assert!(
        stderr.contains("rank 1") && stderr.contains("signal 9"),
        "mpirun names the rank that died and why:\n{stderr}"
    );
    let kept = checkpoints(&dir);
    assert!(kept >= 2, "the checkpoints survive the kill ({kept})");

    // Resuming with another number of ranks is refused, naming the right one.
    let wrong = rapt()
        .args(["train", "--no-final-eval", "--resume"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        !wrong.status.success() && text.contains("mpirun -np 2"),
        "resuming a 2-rank run in one process: {text}"
    );

    let resumed = mpirun(2)
        .args(["train", "--no-final-eval", "--resume"])
        .arg(&dir)
        .output()
        .unwrap();
    check(&resumed, "mpirun -np 2 rapt train --resume");
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let steps: Vec<u64> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        steps.last(),
        Some(&16000),
        "the resumed run finishes its budget"
    );
    assert_eq!(
        steps,
        (1..=40).map(|u| u * 400).collect::<Vec<_>>(),
        "every update logged once, in order"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `mpirun -np 2 rapt train configs/reach.ron` as it ships (16 envs per rank, so 62
/// updates of 1,600 steps within the single-process default's 100,000): ≥ 95% success on
/// 200 held-out episodes. About 2 min on 2 cores in a release build (`make test-long`).
#[test]
#[ignore = "learning test: make test-long"]
fn two_ranks_learn_reach_within_the_single_process_budget() {
    let dir = fresh_dir("reach");
    let out = mpirun(2)
        .args(["train", "configs/reach.ron", "--run-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = check(&out, "mpirun -np 2 rapt train configs/reach.ron");
    let line = text
        .lines()
        .find(|l| l.contains("final evaluation over 200 held-out episodes"))
        .unwrap_or_else(|| panic!("no final evaluation in:\n{text}"));
    let success: f64 = line
        .split("success ")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no success rate in: {line}"));
    let steps: u64 = line
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    eprintln!("{line}");
    assert!(
        steps <= 100_000,
        "{steps} steps, more than the single-process default"
    );
    assert!(
        success >= 95.0,
        "2 ranks reached only {success}% on Reach-v0"
    );
    let _ = std::fs::remove_dir_all(dir);
}
