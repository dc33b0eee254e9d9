//! The `rapt` command line: train policies from RON configs, benchmark and list
//! environments. The binary (`main.rs`) only parses arguments and prints errors; the work
//! lives here so that end-to-end tests can call it too.
#![warn(missing_docs)]

pub mod cli;
mod commands;
pub mod config;
mod interrupt;
mod runs;

pub use commands::ppo::{
    EVAL_SEED_OFFSET, Evaluation, resume as resume_ppo, train as train_ppo, wilson_interval,
};
pub use commands::run;

use rapt_core::Registry;

/// Every environment rapt ships, by versioned id.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    // Registration only fails on a malformed or duplicate id: a bug caught by the tests.
    rapt_classic::register(&mut registry).expect("classic envs register");
    rapt_manip::register(&mut registry).expect("manipulation envs register");
    rapt_drive::register(&mut registry).expect("driving envs register");
    registry
}
