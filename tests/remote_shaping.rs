//! A PPO run shaped through `Remote(protocol: Progress)` against `rapt reward-serve`, at
//! tiny scale: the run logs the remote model's latency, and when the server is killed in
//! the middle of the run, the run still finishes with every update logged, its failures
//! counted, no NaN and its checkpoints written. A bad URL stops a run before any training.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{ok, rapt, signal, train_tiny_reward_model};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rapt-remote-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A tiny learned Push model (3 views at 16 px), trained on 3 recorded episodes.
fn tiny_model(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    ok(&rapt(&[
        "record",
        "Push-v0",
        "--episodes",
        "3",
        "--size",
        "16",
        "--max-steps",
        "20",
        "--out",
        s(&data),
    ]));
    let run = dir.join("rm");
    train_tiny_reward_model(&data, &run, 1);
    run.join("model")
}

/// `rapt reward-serve MODEL` on a free port: the process and its base URL.
fn serve(model: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args([
            "reward-serve",
            s(model),
            "--addr",
            "127.0.0.1:0",
            "--name",
            "rm",
            "--device",
            "cpu",
            "--threads",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split(" on ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url)
}

fn config(dir: &Path, url: &str, updates: u64) -> PathBuf {
    let cfg = dir.join(format!("run-{updates}.ron"));
    fs::write(
        &cfg,
        format!(
            "(
    name: \"remote-shaped\",
    seed: 3,
    env: (id: \"Push-v0\", num_envs: 2, threads: 1, params: (reward: Sparse)),
    train: (total_steps: {}, log_every_steps: 32, eval_every_updates: 0, final_eval_episodes: 2,
            checkpoint_every_updates: 1),
    ppo: (num_steps: 16, num_minibatches: 2, update_epochs: 1, hidden: [16, 16], gamma: 0.98),
    shaping: Potential(model: Remote(url: \"{url}\", model: \"rm\", protocol: Progress,
        views: [\"front\", \"side\", \"wrist\"], image_size: 16, timeout_ms: 2000, retries: 1),
        scale: 10.0),
)",
            32 * updates
        ),
    )
    .unwrap();
    cfg
}

/// `metrics.csv` as (header, rows).
fn metrics(run: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = fs::read_to_string(run.join("metrics.csv")).unwrap_or_default();
    let mut lines = text.lines();
    let header = lines
        .next()
        .map(|h| h.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let k = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.iter()
        .map(|r| r[k].parse().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn remote_shaping_survives_the_server_dying_mid_run() {
    let dir = scratch("kill");
    let model = tiny_model(&dir);
    let (mut server, url) = serve(&model);

    let run = dir.join("run");
    let mut train = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["train", s(&config(&dir, &url, 12)), "--run-dir", s(&run)])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the server once the first update is logged.
    let t = Instant::now();
    while metrics(&run).1.len() < 2 {
        assert!(t.elapsed() < Duration::from_secs(300), "no update logged");
        assert!(
            train.try_wait().unwrap().is_none(),
            "the run ended before any update was logged"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let out = train.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the run failed: {stderr}");
    assert!(stderr.contains("holding the last Φ"), "{stderr}");

    let (header, rows) = metrics(&run);
    assert_eq!(rows.len(), 12, "every update logged");
    let failures = column(&header, &rows, "reward/remote_failures");
    let latency = column(&header, &rows, "reward/remote_latency_ms");
    let phi = column(&header, &rows, "reward/phi");
    let shaping = column(&header, &rows, "reward/shaping");
    assert_eq!(failures[0], 0.0, "the server answered the first update");
    assert!(latency[0] > 0.0, "{latency:?}");
    assert!(failures.iter().sum::<f64>() > 0.0, "{failures:?}");
    assert!(
        phi.iter().chain(&shaping).all(|v| v.is_finite()),
        "{phi:?} {shaping:?}"
    );
    assert!(run.join("checkpoints").read_dir().unwrap().count() > 0);

    // With its server gone, the run still evaluates (the shaping terms are opt-in) …
    let eval = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["eval", s(&run), "--episodes", "2", "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&eval.stderr);
    assert!(eval.status.success(), "eval without its server: {err}");
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(json["episodes"], 2);
    // … and asking for them says the server is what is missing.
    let eval = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["eval", s(&run), "--episodes", "2", "--shaping"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&eval.stderr);
    assert_eq!(eval.status.code(), Some(1), "{err}");
    assert!(err.contains("127.0.0.1"), "{err}");
}

#[test]
fn a_run_shaped_by_a_hung_server_stops_on_sigterm_within_10_s_with_its_checkpoint() {
    let dir = scratch("hung");
    let model = tiny_model(&dir);
    let (mut server, url) = serve(&model);
    // The default timeouts (30 s a call, 3 retries), and no periodic checkpoint: the one
    // found afterwards is the stop's.
    let cfg = config(&dir, &url, 100_000);
    let text = fs::read_to_string(&cfg)
        .unwrap()
        .replace(
            "timeout_ms: 2000, retries: 1",
            "timeout_ms: 30000, retries: 3",
        )
        .replace(
            "checkpoint_every_updates: 1",
            "checkpoint_every_updates: 100000",
        );
    fs::write(&cfg, text).unwrap();
    let run = dir.join("run");
    let mut train = Command::new(env!("CARGO_BIN_EXE_rapt"))
        .args(["train", s(&cfg), "--run-dir", s(&run)])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("stderr.txt")).unwrap())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while metrics(&run).1.len() < 2 {
        assert!(t.elapsed() < Duration::from_secs(300), "no update logged");
        assert!(train.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The server hangs: it accepts connections (the kernel does) and never answers.
    assert!(signal("STOP", server.id()));
    std::thread::sleep(Duration::from_secs(2));
    let logged = metrics(&run).1.len();
    let t = Instant::now();
    assert!(signal("TERM", train.id()));
    let status = loop {
        if let Some(status) = train.try_wait().unwrap() {
            break status;
        }
        if t.elapsed() > Duration::from_secs(60) {
            let _ = train.kill();
            break train.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stopped_in = t.elapsed();
    signal("CONT", server.id());
    server.kill().unwrap();
    server.wait().unwrap();
    let stderr = fs::read_to_string(dir.join("stderr.txt")).unwrap();
    assert!(
        stopped_in < Duration::from_secs(10),
        "stopped {stopped_in:?} after SIGTERM: {stderr}"
    );
    assert_eq!(status.code(), Some(143), "{stderr}");
    let checkpoints: Vec<String> = fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("update-"))
        .collect();
    assert_eq!(checkpoints.len(), 1, "{checkpoints:?}");
    let saved: usize = checkpoints[0]["update-".len()..].parse().unwrap();
    assert!(
        saved >= logged,
        "checkpoint {saved} of {logged} updates logged"
    );
    eprintln!("stopped {stopped_in:?} after SIGTERM at update {saved}");
}

#[test]
fn a_bad_remote_url_stops_the_run_before_training() {
    let dir = scratch("bad-url");
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{free}/v1");
    let run = dir.join("run");
    let out = rapt(&["train", s(&config(&dir, &url, 2)), "--run-dir", s(&run)]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("remote progress model: start-up check of {url}")),
        "{stderr}"
    );
    assert!(metrics(&run).1.is_empty(), "no training happened");
}
