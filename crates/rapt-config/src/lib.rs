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
//! The [`Locator`] behind this is usable on its own: it maps field paths
//! such as `env.params.gravity` or `layers[1]` to source positions and back.

#![warn(missing_docs)]

mod error;
mod lexer;
mod load;
mod locator;
mod overrides;
mod path;
mod position;
mod report;
mod scan;
mod validate;

pub use error::{ConfigError, Diagnostic, Location};
pub use load::{Loaded, from_str, load};
pub use locator::{BodyKind, BodyLocation, FieldLocation, Locator};
pub use position::Position;
pub use validate::{Problem, Validate, Validator};
