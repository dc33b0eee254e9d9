//! Helpers shared by the integration tests.

use std::process::Command;

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
