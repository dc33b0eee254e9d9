//! A small run config shared by the integration tests.

#![allow(dead_code)]

use rapt_config::{ConfigError, Loaded, Validate, Validator};
use serde::{Deserialize, Serialize};

/// Top-level test config: nested section, enum, option and list.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub name: String,
    pub ppo: Ppo,
    pub device: Device,
    pub seed: Option<u64>,
    pub layers: Vec<u32>,
}

/// Nested section.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ppo {
    pub learning_rate: f32,
    pub gamma: f32,
    pub num_envs: u32,
}

impl Default for Ppo {
    fn default() -> Self {
        Self {
            learning_rate: 3e-4,
            gamma: 0.99,
            num_envs: 8,
        }
    }
}

/// Enum field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum Device {
    #[default]
    Cpu,
    Cuda(u32),
}

impl Validate for RunConfig {
    fn validate(&self, v: &mut Validator) {
        v.check("name", !self.name.is_empty(), "must not be empty");
        v.nested("ppo", &self.ppo);
        for (i, &units) in self.layers.iter().enumerate() {
            v.positive(&format!("layers[{i}]"), units);
        }
    }
}

impl Validate for Ppo {
    fn validate(&self, v: &mut Validator) {
        v.range("learning_rate", self.learning_rate, 0.0..1.0);
        v.range("gamma", self.gamma, 0.0..=1.0);
        v.positive("num_envs", self.num_envs);
    }
}

/// A valid config in the layout most tests start from.
pub const GOOD: &str = r#"// A test run.
(
    name: "cartpole",
    ppo: (
        learning_rate: 0.001,
        gamma: 0.9,
        num_envs: 4,
    ),
    device: Cuda(0),
    seed: Some(7),
    layers: [64, 64],
)
"#;

/// Loads `text` as `configs/x.ron` with `overrides`.
pub fn parse(text: &str, overrides: &[&str]) -> Result<Loaded<RunConfig>, ConfigError> {
    let overrides: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
    rapt_config::from_str(text, "configs/x.ron", &overrides)
}

/// The error message of loading `text` with `overrides`, which must fail.
pub fn error(text: &str, overrides: &[&str]) -> String {
    match parse(text, overrides) {
        Ok(loaded) => panic!("expected an error, got {:?}", loaded.config),
        Err(e) => e.to_string(),
    }
}

/// Writes `text` to a fresh file `<tmp>/<dir>/x.ron` and returns its path.
pub fn write_config(dir: &str, text: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.ron");
    std::fs::write(&path, text).unwrap();
    path
}
