//! Ctrl-C: the first press asks the training loop to save a checkpoint and stop cleanly;
//! a second press exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Install the handler (once per process; later calls are no-ops).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            eprintln!("interrupted again: exiting without a final checkpoint");
            std::process::exit(130);
        }
        eprintln!("interrupt: saving a checkpoint after this update (Ctrl-C again to quit now)");
    });
}

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
