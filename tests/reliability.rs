//! What survives what, end to end through the `rapt` binary: runs that cannot start
//! leave nothing behind, runs stopped before their first checkpoint start again, SIGTERM
//! and SIGINT save, evaluate and exit 143/130, and sizes a user can type are bounded.
//! `docs/reliability.md` lists these tests beside what each shows.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{ok, rapt};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rapt-rel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A short Reach-v0 run: 4 envs × 50 steps an update, 8 held-out final episodes.
const SMALL: [&str; 6] = [
    "--set",
    "env.num_envs=4",
    "--set",
    "train.final_eval_episodes=8",
    "--set",
    "train.eval_episodes=4",
];

fn train(config: &str, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["train", config, "--run-dir", s(dir)];
    args.extend(SMALL);
    args.extend(extra);
    rapt(&args)
}

#[test]
fn a_run_that_cannot_start_leaves_no_directory() {
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        // A Cnn encoder cannot read Reach-v0's vector observations.
        (
            "configs/reach.ron",
            vec!["--set", "ppo.encoder=Cnn(channels: [8], features: 16)"],
            "PPO learner",
        ),
        (
            "configs/reach.ron",
            vec!["--set", "ppo.ent_coef=NaN"],
            "ent_coef",
        ),
        (
            "configs/reach.ron",
            vec!["--set", "ppo.num_steps=4611686018427387904"],
            "num_steps",
        ),
        (
            "configs/reach.ron",
            vec!["--set", "train.total_steps=100"],
            "less than one update's batch",
        ),
        (
            "configs/reach.ron",
            vec!["--set", "ppo.num_minibatches=100000"],
            "num_minibatches",
        ),
        (
            "configs/drive.ron",
            vec![
                "--set",
                "env.params=(traffic: (pedestrians: 1000000000000))",
            ],
            "traffic.pedestrians",
        ),
        (
            "configs/drive.ron",
            vec!["--set", "env.params=(lights: (green: 0))"],
            "lights.green",
        ),
    ];
    let mut cases = cases;
    if !tch::Cuda::is_available() {
        cases.push(("configs/reach.ron", vec!["--set", "device=Cuda(0)"], "CUDA"));
    }
    for (i, (config, sets, expected)) in cases.iter().enumerate() {
        let dir = fresh_dir(&format!("nostart-{i}"));
        let out = train(config, &dir, sets);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{sets:?}: {err}");
        assert!(err.contains(expected), "{sets:?}: {err}");
        assert!(!dir.exists(), "{sets:?} left {}", dir.display());
    }
}

/// What a run killed before its first checkpoint leaves: its config, a lock file, a few
/// metrics rows and TensorBoard events, no checkpoint.
fn killed_before_first_checkpoint(name: &str) -> PathBuf {
    let dir = fresh_dir(name);
    let out = train(
        "configs/reach.ron",
        &dir,
        &["--set", "train.total_steps=400", "--no-final-eval"],
    );
    ok(&out);
    std::fs::remove_dir_all(dir.join("checkpoints")).unwrap();
    std::fs::write(dir.join("metrics.csv"), "global_step,x\n200,1\n300,").unwrap();
    dir
}

#[test]
fn a_run_stopped_before_its_first_checkpoint_starts_again() {
    // `rapt train --run-dir D` starts it over.
    let dir = killed_before_first_checkpoint("restart");
    let out = train(
        "configs/reach.ron",
        &dir,
        &["--set", "train.total_steps=400"],
    );
    let text = ok(&out);
    assert!(text.contains("final evaluation"), "{text}");
    assert!(
        stderr(&out).contains("saved no checkpoint"),
        "{}",
        stderr(&out)
    );
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("global_step,charts/"), "{csv}");

    // `rapt train --resume D` starts it from update 0.
    let dir = killed_before_first_checkpoint("resume0");
    let out = rapt(&["train", "--resume", s(&dir)]);
    let text = ok(&out);
    assert!(
        text.contains("final evaluation") && text.contains("400 steps"),
        "{text}"
    );
    assert!(stderr(&out).contains("starting the run over from update 0"));

    // A run that has a checkpoint is still refused.
    let out = train(
        "configs/reach.ron",
        &dir,
        &["--set", "train.total_steps=400"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("already holds a run"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn resume_takes_only_settings_that_keep_the_run_s_meaning() {
    let dir = fresh_dir("resume-set");
    ok(&train(
        "configs/reach.ron",
        &dir,
        &["--set", "train.total_steps=400", "--no-final-eval"],
    ));
    let out = rapt(&["train", "--resume", s(&dir), "--set", "ppo.gamma=0.5"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--set ppo.gamma=0.5") && err.contains("`device`"),
        "{err}"
    );
    let out = rapt(&[
        "train",
        "--resume",
        s(&dir),
        "--set",
        "device=Cpu",
        "--set",
        "train.final_eval_episodes=4",
    ]);
    let text = ok(&out);
    assert!(text.contains("over 4 held-out episodes"), "{text}");
    let saved = std::fs::read_to_string(dir.join("config.ron")).unwrap();
    assert!(saved.contains("device: Cpu"), "{saved}");
}

/// Start a long run, wait for its first metrics row, send `signal`, wait for the end.
fn stop_with(signal: &str, dir: &Path, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rapt"));
    cmd.args(["train", "configs/reach.ron", "--run-dir", s(dir)])
        .args(SMALL)
        .args([
            "--set",
            "train.total_steps=10000000",
            "--set",
            "train.log_every_steps=200",
        ])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let started = Instant::now();
    let metrics = dir.join("metrics.csv");
    while std::fs::read_to_string(&metrics).map_or(0, |t| t.lines().count()) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no metrics row"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(common::signal(signal, child.id()));
    child.wait_with_output().unwrap()
}

#[test]
fn sigterm_saves_a_checkpoint_evaluates_and_exits_143_then_resume_finishes() {
    let dir = fresh_dir("sigterm");
    let out = stop_with("TERM", &dir, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(143), "{}\n{text}", stderr(&out));
    assert!(text.contains("evaluation at interruption"), "{text}");
    assert!(
        stderr(&out).contains("stopped by SIGTERM"),
        "{}",
        stderr(&out)
    );
    let checkpoints: Vec<_> = std::fs::read_dir(dir.join("checkpoints"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("update-"))
        .collect();
    assert_eq!(checkpoints.len(), 1, "one checkpoint at the interruption");

    // The resumed run continues from that checkpoint; SIGINT stops it with 130.
    let out = stop_with_resume("INT", &dir);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming"), "{}", stderr(&out));
}

#[test]
fn a_second_signal_exits_at_once_without_a_crash() {
    let dir = fresh_dir("twice");
    let child = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["train", "configs/reach.ron", "--run-dir", s(&dir)])
        .args(SMALL)
        .args([
            "--set",
            "train.total_steps=10000000",
            "--set",
            "train.log_every_steps=200",
            // A long final evaluation after the first signal's stop, so that the second
            // signal lands while the process still runs, however loaded the machine (with
            // 8 episodes a loaded CI box once finished before the second kill).
            "--set",
            "train.final_eval_episodes=20000",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(dir.join("metrics.csv")).map_or(0, |t| t.lines().count()) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no metrics row"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The second signal ends the process at once. A second above the first: two SIGINTs
    // sent before the process is scheduled again coalesce into one pending signal (it
    // happened on a loaded machine), and a lone SIGINT starts the long final evaluation.
    for _ in 0..2 {
        common::signal("INT", child.id());
        std::thread::sleep(Duration::from_millis(1000));
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("SIGINT again: exiting now"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `rapt train --resume dir --no-final-eval`, stopped by `signal` once it has logged more.
fn stop_with_resume(signal: &str, dir: &Path) -> Output {
    let rows = |dir: &Path| {
        std::fs::read_to_string(dir.join("metrics.csv")).map_or(0, |t| t.lines().count())
    };
    let before = rows(dir);
    let child = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["train", "--resume", s(dir), "--no-final-eval"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while rows(dir) <= before {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no new metrics row"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    common::signal(signal, child.id());
    child.wait_with_output().unwrap()
}

#[test]
fn sizes_typed_on_the_command_line_are_bounded() {
    for args in [
        vec!["bench", "Pendulum-v1", "--seconds", "inf"],
        vec!["bench", "Pendulum-v1", "--seconds", "NaN"],
        vec!["bench", "Pendulum-v1", "--envs", "99999999999"],
        vec!["render", "Reach-v0", "--bench", "0"],
    ] {
        let out = rapt(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("out of range"), "{args:?}: {err}");
    }
}

/// A finished 4-update Reach-v0 run with a checkpoint after every update.
fn finished_run(name: &str) -> PathBuf {
    let dir = fresh_dir(name);
    ok(&train(
        "configs/reach.ron",
        &dir,
        &[
            "--set",
            "train.total_steps=800",
            "--set",
            "train.checkpoint_every_updates=1",
            "--set",
            "train.keep_checkpoints=10",
        ],
    ));
    dir
}

/// The summary line's numbers after "held-out episodes:" or "episodes,".
fn scores(text: &str) -> String {
    let at = text.find("success ").expect("a success rate");
    text[at..]
        .lines()
        .next()
        .unwrap()
        .replace(',', "")
        .split(" mean length")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_finished_run_resumed_reports_what_rapt_eval_of_its_checkpoint_reports() {
    let dir = finished_run("finished");
    let first = ok(&rapt(&["train", "--resume", s(&dir)]));
    let eval = ok(&rapt(&["eval", s(&dir), "--episodes", "8"]));
    assert_eq!(scores(&first), scores(&eval), "{first}\n{eval}");
}

#[test]
fn a_corrupted_checkpoint_is_named_and_resume_falls_back_to_an_intact_one() {
    let dir = finished_run("corrupt");
    // Zero the tensor data behind an intact safetensors header: it still loads as
    // safetensors, so only the SHA-256 in meta.json tells.
    let newest = dir.join("checkpoints/update-000004/weights.safetensors");
    let mut bytes = std::fs::read(&newest).unwrap();
    let header = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[header..].fill(0);
    std::fs::write(&newest, bytes).unwrap();
    // `rapt eval` of the run names the damaged file.
    let out = rapt(&["eval", s(&dir), "--episodes", "2"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("update-000004/weights.safetensors") && err.contains("SHA-256"),
        "{err}"
    );
    // `--resume` warns, naming both, and continues from update 3.
    let out = rapt(&["train", "--resume", s(&dir), "--no-final-eval"]);
    let err = stderr(&out);
    ok(&out);
    assert!(
        err.contains("skipping checkpoint")
            && err.contains("update-000004")
            && err.contains("update-000003"),
        "{err}"
    );
    // With every checkpoint damaged, resume fails naming the newest, and starts nothing.
    for entry in std::fs::read_dir(dir.join("checkpoints")).unwrap() {
        let weights = entry.unwrap().path().join("weights.safetensors");
        if weights.exists() {
            std::fs::write(&weights, b"garbage").unwrap();
        }
    }
    let out = rapt(&["train", "--resume", s(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("weights.safetensors"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_checkpoint_that_does_not_fit_the_env_is_an_error_before_any_step() {
    let dir = finished_run("misfit");
    for (set, expected) in [
        ("control=JointDelta", "takes 7"),
        (
            "camera=Some((views: [\"front\"], size: 16))",
            "[3, 16, 16] image",
        ),
    ] {
        let out = rapt(&["eval", s(&dir), "--episodes", "2", "--env-set", set]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{set}: {err}");
        assert!(
            err.contains("the policy was built for") && err.contains(expected),
            "{set}: {err}"
        );
    }
}
