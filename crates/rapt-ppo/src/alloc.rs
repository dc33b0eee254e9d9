//! Keep freed memory in the process: torch's CPU allocator caches nothing, so every
//! rollout tensor, minibatch gather and activation above glibc's mmap threshold (128 KiB,
//! rising to at most 32 MiB) is a fresh `mmap` that the kernel fills page by page — a
//! PPO update of the default MLP took ~125,000 minor page faults, CaRL-sized CNN updates
//! spent most of their time in the kernel. With mmap off for the heap's allocations and
//! trimming off, freed blocks are reused: 0 faults per update in steady state. (A 1 GiB
//! trim threshold was not enough: a CaRL-sized CNN minibatch frees more than that at the
//! top of the heap, which glibc then returned and faulted in again, 5 million faults in
//! two Drive-v0 updates.)

use std::sync::OnceLock;

/// Environment variable that turns the tuning off when set to `0` (e.g. to measure the
/// difference, or under another allocator).
pub const MALLOC_TUNING_VAR: &str = "RAPT_MALLOC_TUNING";

/// What [`keep_freed_memory`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MallocTuning {
    /// glibc now keeps freed memory for reuse.
    Applied,
    /// `RAPT_MALLOC_TUNING=0`: left as it was.
    Disabled,
    /// Not glibc on Linux, or glibc refused a setting: left as it was.
    Unsupported,
}

/// Make glibc's malloc keep and reuse freed memory instead of returning large blocks to
/// the OS after every use (`M_MMAP_MAX` = 0: large blocks come from the heap; threads'
/// arenas still fall back to mmap when their heaps cannot grow; `M_TRIM_THRESHOLD` = −1:
/// the heap is never trimmed). The process then holds on to its peak heap, as PyTorch's
/// CUDA caching allocator holds on to device memory. Idempotent; the first call decides.
/// `rapt` calls it at start-up; call it early in your own trainer's `main`.
pub fn keep_freed_memory() -> MallocTuning {
    static RESULT: OnceLock<MallocTuning> = OnceLock::new();
    *RESULT.get_or_init(|| {
        let result = if std::env::var(MALLOC_TUNING_VAR).is_ok_and(|v| v.trim() == "0") {
            MallocTuning::Disabled
        } else {
            tune()
        };
        tracing::debug!(?result, "malloc tuning");
        result
    })
}

// The one FFI call of the crate (the workspace denies unsafe code elsewhere).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune() -> MallocTuning {
    // glibc's mallopt parameter numbers (malloc.h).
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_MAX: i32 = -4;
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    // SAFETY: mallopt only changes allocator parameters; glibc serializes it with
    // allocation (it takes the main arena's lock), and 1 returns mean success. A trim
    // threshold of -1 turns trimming off (mallopt(3)).
    let ok = unsafe { mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1 };
    if ok {
        MallocTuning::Applied
    } else {
        MallocTuning::Unsupported
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune() -> MallocTuning {
    MallocTuning::Unsupported
}
