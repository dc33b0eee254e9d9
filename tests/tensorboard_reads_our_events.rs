//! The TensorBoard event files of a training run are valid: the record framing and CRCs
//! check out in Rust, and TensorBoard's own reader loads the scalars when a Python with
//! `tensorboard` is available (`.venv-bench/bin/python` or `python3`).

use std::path::Path;

mod common;
use common::python_with_tensorboard;

#[test]
fn a_training_run_writes_event_files_tensorboard_reads() {
    let dir = std::env::temp_dir().join(format!("rapt-tb-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/reach.ron");
    let sets = [
        "train.total_steps=3200",
        "env.num_envs=4",
        "train.final_eval_episodes=4",
    ]
    .map(String::from);
    let loaded = rapt::config::load(&config, &sets).unwrap();
    rapt_run::train_new(&loaded.config, &dir).unwrap();
    let tb_dir = dir.join("tensorboard");
    let file = std::fs::read_dir(&tb_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let records = rapt_rundir::tensorboard::read_records(&file).unwrap();
    // The version record plus 11-12 scalars per update, 16 updates.
    assert!(records.len() > 16 * 11, "{} records", records.len());
    let Some(python) = python_with_tensorboard() else {
        eprintln!("no Python with tensorboard: checked the file format in Rust only");
        return;
    };
    let script = "import sys\n\
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n\
acc = EventAccumulator(sys.argv[1]); acc.Reload()\n\
tags = acc.Tags()['scalars']\n\
assert 'charts/SPS' in tags and 'losses/approx_kl' in tags, tags\n\
print(len(acc.Scalars('charts/SPS')))\n";
    let stdout = common::run_python(&python, script, tb_dir.to_str().unwrap());
    let n: usize = stdout.as_str().parse().unwrap();
    assert_eq!(n, 16, "one SPS point per update");
}
