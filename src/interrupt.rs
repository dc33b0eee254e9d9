//! SIGINT (Ctrl-C), SIGTERM (`timeout`, `docker stop`, Slurm, `mpirun`) and SIGHUP (a
//! closed terminal or SSH session), one policy for all three: the first
//! signal sets the stop flag the training loop checks after each update (it saves a
//! checkpoint, evaluates and stops); a second one exits at once with `_exit`, which runs
//! no destructors, so libtorch is never torn down under a running update.
//!
//! The signals are read on a thread of their own (signal-hook's iterator), never in a
//! signal handler, so printing there is safe.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The first signal received, 0 if none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// What the first signal makes the command do, for the message printed (training's by
/// default; see [`on_stop_say`]).
static ON_STOP: std::sync::Mutex<&str> =
    std::sync::Mutex::new("saving a checkpoint after this update, then evaluating");

/// Say `what` (e.g. "finishing the requests in hand") when the first signal arrives.
pub fn on_stop_say(what: &'static str) {
    *ON_STOP.lock().unwrap_or_else(|e| e.into_inner()) = what;
}

/// A stop flag set by SIGINT, SIGTERM or SIGHUP (the listener is installed once per process;
/// later calls return the same flag).
pub fn stop_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let listener_flag = flag.clone();
        match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(mut signals) => {
                std::thread::spawn(move || {
                    for signal in signals.forever() {
                        on_signal(signal, &listener_flag);
                    }
                });
            }
            Err(e) => tracing::warn!("cannot listen for SIGINT/SIGTERM/SIGHUP: {e}"),
        }
        flag
    })
    .clone()
}

fn on_signal(signal: i32, flag: &AtomicBool) {
    let name = signal_name(signal);
    if RECEIVED.swap(signal, Ordering::SeqCst) != 0 {
        eprintln!("{name} again: exiting now, without a final checkpoint or evaluation");
        signal_hook::low_level::exit(exit_status(signal));
    }
    flag.store(true, Ordering::SeqCst);
    let what = *ON_STOP.lock().unwrap_or_else(|e| e.into_inner());
    eprintln!("{name}: {what} (send it again to quit at once)");
}

/// `Ok` unless a signal stopped the command: then [`Interrupted`], which `main` turns into
/// the signal's exit status once the command has wrapped up (saved, printed).
pub fn outcome() -> anyhow::Result<()> {
    match received() {
        Some(signal) => Err(Interrupted { signal }.into()),
        None => Ok(()),
    }
}

/// The signal that stopped this process's training, if one did.
pub fn received() -> Option<i32> {
    Some(RECEIVED.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

/// `SIGINT`, `SIGTERM`, or the number.
pub fn signal_name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".to_owned(),
        SIGTERM => "SIGTERM".to_owned(),
        SIGHUP => "SIGHUP".to_owned(),
        other => format!("signal {other}"),
    }
}

/// The exit status shells expect of a process a signal stopped: 128 + the signal
/// (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
pub fn exit_status(signal: i32) -> i32 {
    128 + signal
}

/// The error a command returns when a signal stopped it after it wrapped up (saved,
/// evaluated, printed): `main` exits with [`exit_status`] instead of 0.
#[derive(Debug, thiserror::Error)]
#[error("stopped by {}", signal_name(*.signal))]
pub struct Interrupted {
    /// The signal number.
    pub signal: i32,
}
