//! Helpers shared by the integration tests (each test binary uses some of them).
#![allow(dead_code)]

use std::process::{Command, Output};

/// Run the `rapt` binary from the repository root with `args`.
pub fn rapt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("rapt runs")
}

/// The stdout of a `rapt` run that must have succeeded; a panic with its stderr and
/// stdout otherwise.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "rapt failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A Python that can `import tensorboard`: `.venv-bench/bin/python` or `python3`.
pub fn python_with_tensorboard() -> Option<String> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv-bench/bin/python");
    [venv, "python3"].into_iter().map(String::from).find(|py| {
        Command::new(py)
            .args(["-c", "import tensorboard"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Run Python `script` with `arg` as `sys.argv[1]`; its trimmed stdout, or a panic with
/// its stderr when it fails.
pub fn run_python(python: &str, script: &str, arg: &str) -> String {
    let out = Command::new(python)
        .args(["-c", script, arg])
        .output()
        .expect("python starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Train a tiny reward model (8/8 channels, 16 features) for `epochs` on the dataset in
/// `data` into run directory `run` on one CPU thread; the command's stdout.
pub fn train_tiny_reward_model(
    data: &std::path::Path,
    run: &std::path::Path,
    epochs: u32,
) -> String {
    let cfg = run.with_extension("ron");
    std::fs::write(
        &cfg,
        format!(
            "(epochs: {epochs}, batch_size: 32, net: (channels: [8, 8], features: 16, hidden: 16))"
        ),
    )
    .unwrap();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    ok(&rapt(&[
        "reward-model",
        "train",
        &path(data),
        "--config",
        &path(&cfg),
        "--run-dir",
        &path(run),
        "--device",
        "cpu",
        "--threads",
        "1",
    ]))
}

/// Send signal `name` (`INT`, `TERM`, `HUP`, `9`) to process `pid` with `kill`; whether
/// `kill` succeeded.
pub fn signal(name: &str, pid: u32) -> bool {
    Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}
