//! Every environment rapt ships, by versioned id: what the `rapt` CLI, the Python package
//! and user programs build environments from. Environments only: this crate links no
//! libtorch, so a program that wants rapt's envs and not its learner stays small.
//!
//! ```no_run
//! use rapt_core::{VecEnv, VecEnvOptions};
//!
//! let registry = rapt_registry::registry();
//! let options = VecEnvOptions { num_envs: 16, threads: 2, ..VecEnvOptions::default() };
//! let mut envs = registry.make_vec("Push-v0", "(reward: Sparse)", &options)?;
//! let batch = envs.reset(Some(1))?;
//! assert_eq!(batch.num_envs, 16);
//! # Ok::<(), rapt_core::EnvError>(())
//! ```
#![warn(missing_docs)]

pub use rapt_core::{EnvSpec, Registry, VecEnvOptions};

/// Every environment rapt ships, by versioned id (`rapt envs` lists them).
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    // Registration only fails on a malformed or duplicate id: a bug the tests catch.
    rapt_classic::register(&mut registry).expect("classic envs register");
    rapt_manip::register(&mut registry).expect("manipulation envs register");
    rapt_drive::register(&mut registry).expect("driving envs register");
    registry
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_family_is_registered_once() {
        let ids = super::registry().ids();
        for id in [
            "CartPole-v1",
            "Reach-v0",
            "Push-v0",
            "Push-v1",
            "Push-v2",
            "PickPlace-v2",
            "Drive-v0",
            "DriveDense-v0",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
        }
    }
}
