//! Ctrl-C: the first press sets the stop flag the training loop checks after each update
//! (it saves a checkpoint and stops cleanly); a second press exits at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A stop flag set by Ctrl-C (the handler is installed once per process; later calls
/// return the same flag).
pub fn stop_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if handler_flag.swap(true, Ordering::SeqCst) {
                eprintln!("interrupted again: exiting without a final checkpoint");
                std::process::exit(130);
            }
            eprintln!(
                "interrupt: saving a checkpoint after this update (Ctrl-C again to quit now)"
            );
        });
        flag
    })
    .clone()
}
