//! The `rapt` command line: train policies from RON configs, benchmark and list
//! environments. The binary (`main.rs`) only parses arguments and prints errors; the work
//! lives here so that end-to-end tests can call it too.
#![warn(missing_docs)]

pub mod cli;
mod commands;
pub mod interrupt;

pub use commands::run;
pub use rapt_registry::registry;
pub use rapt_run::config;
pub use rapt_run::reward_recipe;
