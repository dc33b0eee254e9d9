//! Typed RON run configs whose every mistake names `file:line:column` and
//! the field.
//!
//! [`load`] reads a RON file, applies `--set path=value` overrides at the
//! text level (so enum values like `Cuda(0)` and whole sections work),
//! deserializes it into your config type and runs its [`Validate`] checks.
//! Every error is located:
//!
//! ```text
//! configs/x.ron:12:5: unknown field `lerning_rate` in `ppo`, expected one of `learning_rate`, `gamma`
//! configs/x.ron:7:18: ppo.gamma: expected float, found `"a"`
//! configs/x.ron:9:12: ppo.gamma = 1.5 is out of range, expected 0 ≤ gamma ≤ 1
//! --set ppo.gamma=2: ppo.gamma = 2 is out of range, expected 0 ≤ gamma ≤ 1
//! configs/x.ron: ppo.num_envs (default) = 0 is out of range, expected num_envs > 0
//! ```
//!
//! `ron` has no per-value spans, so a small scan of the text maps field paths such as
//! `env.params.gravity` or `layers[1]` to positions (for problems found after
//! deserialization, and to patch `--set` overrides in); errors during deserialization
//! take ron's own span and `serde_path_to_error`'s field path.

#![warn(missing_docs)]

pub mod bounded;
mod error;
mod load;
mod locator;
use locator::Locator;
mod overrides;
mod path;
mod position;
mod report;
mod validate;

pub use error::{ConfigError, Diagnostic, Location};
pub use load::{Loaded, from_str, load, ron_options, to_ron};
pub use position::Position;
pub use validate::{Problem, Validate, Validator};

/// Check an environment's parameters with their [`Validate`] impl: every problem, with
/// its field path inside the parameters, in one
/// [`rapt_core::EnvError::ParamsOutOfRange`] naming the env `id`.
pub fn check_params<T: Validate + ?Sized>(id: &str, params: &T) -> Result<(), rapt_core::EnvError> {
    let mut v = Validator::new();
    params.validate(&mut v);
    if v.is_empty() {
        return Ok(());
    }
    Err(rapt_core::EnvError::ParamsOutOfRange {
        id: id.to_string(),
        problems: v
            .problems()
            .iter()
            .map(|p| (p.path.clone(), p.to_string()))
            .collect(),
    })
}

/// The position (1-based line and column) of the value of field `path` in RON `text`, if
/// the text sets it: e.g. where `traffic.vehicles` is written inside an env's parameters.
pub fn value_position(text: &str, path: &str) -> Option<Position> {
    let field = Locator::scan(text).field(path)?.value.start;
    Some(position::LineIndex::new(text).position(text, field))
}
