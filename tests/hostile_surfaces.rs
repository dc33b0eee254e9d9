//! Issue 29's reproductions, each a class: files rapt writes never follow a path
//! somewhere it was not asked to go, and a policy never runs on an env it does not fit.

use std::path::{Path, PathBuf};

mod common;

use common::{ok, rapt};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rapt-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A Reach-v0 run of one update into `run`.
fn tiny_reach_run(run: &Path) {
    ok(&rapt(&[
        "train",
        "configs/reach.ron",
        "--set",
        "train.total_steps=800",
        "--set",
        "train.final_eval_episodes=2",
        "--run-dir",
        s(run),
    ]));
}

fn fails(args: &[&str]) -> String {
    let out = rapt(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a clear error (exit 1), got {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[cfg(unix)]
#[test]
fn a_trace_never_replaces_a_link_target_a_fifo_or_a_device() {
    let dir = scratch("trace");
    let important = dir.join("important.txt");
    std::fs::write(&important, b"keep me").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&important, &link).unwrap();
    let trace_to = |trace: &str| {
        rapt(&[
            "rollout",
            "Push-v0",
            "--policy",
            "random",
            "--episodes",
            "1",
            "--quiet",
            "--trace",
            trace,
        ])
    };
    let rollout = |trace: &str| {
        let out = trace_to(trace);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(1),
            "expected a clear error (exit 1): {err}"
        );
        err
    };
    let err = rollout(s(&link));
    assert!(
        err.contains("symbolic link") && err.contains("link.json"),
        "{err}"
    );
    assert_eq!(std::fs::read(&important).unwrap(), b"keep me");
    let err = rollout("/dev/null");
    assert!(err.contains("not a regular file"), "{err}");
    let fifo = dir.join("fifo");
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let err = rollout(s(&fifo));
        assert!(err.contains("not a regular file"), "{err}");
    }
    // A regular path is written.
    let trace = dir.join("t.json");
    ok(&trace_to(s(&trace)));
    assert!(std::fs::metadata(&trace).unwrap().len() > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_policy_meets_only_an_env_it_fits() {
    let dir = scratch("pairing");
    // The shipped driving policy reads measurements, not Drive-v0's default raster.
    let err = fails(&[
        "render",
        "Drive-v0",
        "--policy",
        "assets/policies/Drive-v0",
        "--max-steps",
        "3",
        "--out",
        s(&dir.join("x")),
    ]);
    assert!(
        err.contains("the policy was built for observations"),
        "{err}"
    );
    // A Reach-v0 policy in Push-v0: refused naming both envs, before any frame is written.
    let run = dir.join("reach");
    tiny_reach_run(&run);
    for cmd in ["render", "record"] {
        let out = dir.join(cmd);
        let err = fails(&[
            cmd,
            "Push-v0",
            "--policy",
            s(&run),
            "--episodes",
            "1",
            "--out",
            s(&out),
        ]);
        assert!(
            err.contains("Reach-v0") && err.contains("Push-v0"),
            "{cmd}: {err}"
        );
        assert!(!out.join("front").exists(), "{cmd} wrote frames");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn map_files_with_non_finite_or_huge_numbers_are_refused_at_their_line() {
    let dir = scratch("maps");
    let cross = std::fs::read_to_string("assets/maps/cross.ron").unwrap();
    for (name, from, to, field) in [
        (
            "nan.ron",
            "(id: 1, x: 120, y: 0)",
            "(id: 1, x: NaN, y: 0)",
            "nodes[1].x",
        ),
        (
            "inf.ron",
            "(id: 2, x: 240, y: 0)",
            "(id: 2, x: 240, y: inf)",
            "nodes[2].y",
        ),
        (
            "huge.ron",
            "(id: 8, x: 240, y: 240)",
            "(id: 8, x: 3e9, y: 240)",
            "nodes[8].x",
        ),
    ] {
        assert!(cross.contains(from));
        let path = dir.join(name);
        std::fs::write(&path, cross.replace(from, to)).unwrap();
        let params = format!("(map: File(\"{}\"))", path.display());
        let err = fails(&[
            "rollout",
            "Drive-v0",
            "--episodes",
            "1",
            "--quiet",
            "--params",
            &params,
        ]);
        assert!(
            err.contains(field) && err.contains(&format!("{name}:")),
            "{err}"
        );
        // `rapt train`'s check before any run directory is written says the same.
        let run = dir.join(format!("run-{name}"));
        let set = format!("env.params={params}");
        let err = fails(&[
            "train",
            "configs/drive-vector.ron",
            "--set",
            &set,
            "--run-dir",
            s(&run),
        ]);
        assert!(err.contains(field), "{err}");
        assert!(!run.exists(), "a run that cannot start claims no directory");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_is_the_same_run_or_a_clear_refusal() {
    let dir = scratch("resume");
    let run = dir.join("run");
    ok(&rapt(&[
        "train",
        "configs/reach.ron",
        "--set",
        "train.total_steps=3200",
        "--set",
        "env.num_envs=4",
        "--set",
        "train.final_eval_episodes=2",
        "--set",
        "train.eval_every_updates=1",
        "--set",
        "train.eval_episodes=2",
        "--no-final-eval",
        "--run-dir",
        s(&run),
    ]));
    let config = run.join("config.ron");
    let saved = std::fs::read_to_string(&config).unwrap();
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    for (from, to) in [
        ("num_envs: 4,", "num_envs: 8,"),
        ("seed: 1,", "seed: 2,"),
        ("max_episode_steps: None,", "max_episode_steps: Some(10),"),
    ] {
        assert!(saved.contains(from), "{from} in {saved}");
        std::fs::write(&config, saved.replace(from, to)).unwrap();
        let err = fails(&["train", "--resume", s(&run)]);
        assert!(
            err.contains("config.ron differs") && err.contains("device"),
            "{to}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(run.join("metrics.csv")).unwrap(),
            metrics
        );
    }
    // Restored, it resumes; the settings `--set` may change still change.
    std::fs::write(&config, &saved).unwrap();
    ok(&rapt(&[
        "train",
        "--resume",
        s(&run),
        "--set",
        "train.final_eval_episodes=3",
    ]));
    // A policy exported alone evaluates but does not train on.
    let export = dir.join("export");
    ok(&rapt(&["export", s(&run), s(&export)]));
    ok(&rapt(&["eval", s(&export), "--episodes", "2"]));
    let err = fails(&["train", "--resume", s(&export)]);
    assert!(
        err.contains("without optimizer state") && err.contains("rapt eval"),
        "{err}"
    );
    // The best checkpoint exports into a directory `rapt eval` loads, as the export says.
    let best = dir.join("best");
    let said = ok(&rapt(&[
        "export",
        s(&run.join("checkpoints/best")),
        s(&best),
    ]));
    assert!(said.contains("rapt eval"), "{said}");
    ok(&rapt(&["eval", s(&best), "--episodes", "2"]));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Start `rapt train` on Reach-v0 (`extra` settings) into `dir`, wait until `ready(dir)`,
/// send `signal`; the output and how long the process took to end after the signal.
fn signal_when(
    signal: &str,
    dir: &Path,
    extra: &[&str],
    ready: impl Fn(&Path) -> bool,
) -> (std::process::Output, std::time::Duration) {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let child = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args([
            "train",
            "configs/reach.ron",
            "--run-dir",
            s(dir),
            "--set",
            "device=Cpu",
        ])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !ready(dir) {
        assert!(started.elapsed() < Duration::from_secs(300), "never ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    assert!(common::signal(signal, child.id()));
    let out = child.wait_with_output().unwrap();
    (out, sent.elapsed())
}

#[test]
fn sighup_saves_like_sigterm_and_a_final_evaluation_stops_at_a_signal() {
    let dir = scratch("signals");
    // SIGHUP (a closed terminal) during training: checkpoint, evaluation, exit 129.
    let hup = dir.join("hup");
    let (out, _) = signal_when("HUP", &hup, &["--set", "train.total_steps=10000000"], |d| {
        std::fs::read_to_string(d.join("metrics.csv")).is_ok_and(|t| t.lines().count() >= 2)
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(129), "{err}");
    assert!(err.contains("stopped by SIGHUP"), "{err}");
    assert!(
        rapt_rundir::CheckpointDir::updates(hup.join("checkpoints"))
            .latest()
            .is_some()
    );
    // SIGTERM during a long final evaluation of a finished run: given up at once.
    let term = dir.join("term");
    let extra = [
        "--set",
        "train.total_steps=1600",
        "--set",
        "train.final_eval_episodes=1000000",
    ];
    let (out, took) = signal_when("TERM", &term, &extra, |d| {
        rapt_rundir::CheckpointDir::updates(d.join("checkpoints"))
            .latest()
            .is_some_and(|c| c.ends_with("update-000002"))
    });
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert!(
        text.contains("final evaluation stopped by a signal"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn seeds_that_would_wrap_around_are_refused() {
    let out = rapt(&[
        "rollout",
        "Push-v0",
        "--episodes",
        "2",
        "--seed",
        "18446744073709551615",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--seed") && err.contains("out of range"),
        "{err}"
    );
    let dir = scratch("seed");
    let err = fails(&[
        "train",
        "configs/reach.ron",
        "--set",
        "seed=18446744073709551615",
        "--run-dir",
        s(&dir.join("run")),
    ]);
    assert!(
        err.contains("seed") && err.contains("out of range"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_dataset_is_never_recorded_into_a_run_directory() {
    let dir = scratch("record-into-run");
    let run = dir.join("run");
    tiny_reach_run(&run);
    let err = fails(&[
        "record",
        "Reach-v0",
        "--episodes",
        "1",
        "--size",
        "8",
        "--out",
        s(&run),
    ]);
    assert!(err.contains("is a run directory"), "{err}");
    assert!(!run.join("episodes").exists() && !run.join("dataset.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_write_that_fails_midway_is_reported_and_leaves_no_empty_or_temporary_file() {
    // The file-size limit stands in for a full disk: writes past 8 KiB fail with EFBIG
    // (SIGXFSZ ignored, as the shell's trap leaves it for the exec'd rapt).
    let dir = scratch("full");
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_rapt"),
            "render",
            "Push-v0",
            "--max-steps",
            "4",
            "--size",
            "64",
            "--out",
            s(&dir.join("frames")),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("File too large") && stderr.contains(".gif") && !stderr.contains(".tmp"),
        "the error names the file and the OS's reason: {stderr}"
    );
    assert!(!stderr.contains("Os {"), "no raw debug output: {stderr}");
    for file in files_under(&dir) {
        let name = file.to_string_lossy();
        assert!(!name.ends_with(".tmp"), "temporary left: {name}");
        assert!(
            file.metadata().unwrap().len() > 0,
            "empty file left: {name}"
        );
    }
}
