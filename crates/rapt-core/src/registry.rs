use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;

use crate::{Checked, Env, EnvError, EpisodeStatistics, ThreadedVecEnv, TimeLimit};

/// A parsed versioned id `Name-vN`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EnvId {
    /// The name, e.g. `CartPole`.
    pub name: String,
    /// The version number, e.g. 1.
    pub version: u32,
}

impl EnvId {
    /// Parse `Name-vN`; the name is non-empty ASCII letters, digits, `_` or `-`.
    pub fn parse(id: &str) -> Result<Self, EnvError> {
        let bad = || EnvError::BadId(id.to_string());
        let (name, version) = id.rsplit_once("-v").ok_or_else(bad)?;
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name || version.is_empty() || !version.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(Self {
            name: name.to_string(),
            version: version.parse().map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for EnvId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-v{}", self.name, self.version)
    }
}

/// How to build one registered environment.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    /// Versioned id, `Name-vN`.
    pub id: &'static str,
    /// One line saying what the task is.
    pub summary: &'static str,
    /// Default episode length; the registry wraps the env in a [`TimeLimit`] of this.
    pub max_episode_steps: u32,
    /// The env's default parameters as RON text (what `rapt envs` prints).
    pub default_params: fn() -> String,
    /// Build the raw env from its parameters as RON text (empty = defaults), e.g.
    /// `(control: JointDelta, reward: Sparse)`.
    pub make: fn(&str) -> Result<Box<dyn Env>, EnvError>,
}

/// How to batch a registered env.
#[derive(Debug, Clone, PartialEq)]
pub struct VecEnvOptions {
    /// Number of sub-environments (default 8).
    pub num_envs: usize,
    /// Threads stepping them, the caller's included (default 1).
    pub threads: usize,
    /// Override of the spec's `max_episode_steps` (default: none).
    pub max_episode_steps: Option<u32>,
}

impl Default for VecEnvOptions {
    fn default() -> Self {
        Self {
            num_envs: 8,
            threads: 1,
            max_episode_steps: None,
        }
    }
}

/// The registered environments, by versioned id.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    specs: BTreeMap<EnvId, EnvSpec>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register `spec`; fails on a malformed or duplicate id.
    pub fn register(&mut self, spec: EnvSpec) -> Result<(), EnvError> {
        let id = EnvId::parse(spec.id)?;
        if self.specs.contains_key(&id) {
            return Err(EnvError::InvalidOptions(format!(
                "`{id}` is registered twice"
            )));
        }
        self.specs.insert(id, spec);
        Ok(())
    }

    /// All specs, sorted by id.
    pub fn specs(&self) -> impl Iterator<Item = &EnvSpec> {
        self.specs.values()
    }

    /// The spec of `id`; an unknown or unversioned id lists what is registered.
    pub fn spec(&self, id: &str) -> Result<&EnvSpec, EnvError> {
        let unknown = || EnvError::UnknownEnv {
            id: id.to_string(),
            known: self.ids().join(", "),
        };
        let parsed = EnvId::parse(id).map_err(|_| unknown())?;
        self.specs.get(&parsed).ok_or_else(unknown)
    }

    /// Registered ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.specs.keys().map(EnvId::to_string).collect()
    }

    /// Build one env, wrapped as `EpisodeStatistics(TimeLimit(Checked(env)))`.
    pub fn make(
        &self,
        id: &str,
        params: &str,
        max_episode_steps: Option<u32>,
    ) -> Result<Box<dyn Env>, EnvError> {
        let spec = self.spec(id)?;
        let steps = max_episode_steps.unwrap_or(spec.max_episode_steps);
        if steps == 0 {
            return Err(EnvError::InvalidOptions(
                "max_episode_steps must be at least 1".into(),
            ));
        }
        let raw = (spec.make)(params)?;
        Ok(Box::new(EpisodeStatistics::new(TimeLimit::new(
            Checked::new(raw),
            steps,
        ))))
    }

    /// Build the raw env, without wrappers (for tests and the conformance checker).
    pub fn make_raw(&self, id: &str, params: &str) -> Result<Box<dyn Env>, EnvError> {
        (self.spec(id)?.make)(params)
    }

    /// Build a threaded vector env of `options.num_envs` wrapped envs (1 to
    /// [`MAX_NUM_ENVS`]).
    pub fn make_vec(
        &self,
        id: &str,
        params: &str,
        options: &VecEnvOptions,
    ) -> Result<ThreadedVecEnv, EnvError> {
        if !(1..=MAX_NUM_ENVS).contains(&options.num_envs) {
            return Err(EnvError::InvalidOptions(format!(
                "num_envs = {} is out of range, expected 1 to {MAX_NUM_ENVS}",
                options.num_envs
            )));
        }
        let envs = (0..options.num_envs)
            .map(|_| self.make(id, params, options.max_episode_steps))
            .collect::<Result<Vec<_>, _>>()?;
        ThreadedVecEnv::new(envs, options.threads)
    }
}

/// Upper bound on the sub-envs of one vector env, so that a typo is an error rather than
/// an allocation that aborts.
pub const MAX_NUM_ENVS: usize = 1 << 14;

/// Deserialize an env's parameters from RON text (empty gives `T::default()`), naming the
/// env, and the line and column inside the parameters, in the error.
pub fn parse_params<T: DeserializeOwned + Default>(id: &str, text: &str) -> Result<T, EnvError> {
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    // `implicit_some`: optional parameters are written bare, `camera: (views: [..])`.
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let syntax = |e: ron::error::SpannedError, path: String| {
        let message = e.code.to_string();
        let mut chars = message.chars();
        let message: String = chars
            .next()
            .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect());
        EnvError::ParamsSyntax {
            id: id.to_string(),
            message: if path.is_empty() {
                message
            } else {
                format!("{path}: {message}")
            },
            line: e.span.start.line,
            column: e.span.start.col,
        }
    };
    let mut de = ron::Deserializer::from_str_with_options(text, &options)
        .map_err(|e| syntax(e, String::new()))?;
    let params = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = field_path(e.path());
        syntax(de.span_error(e.into_inner()), path)
    })?;
    de.end()
        .map_err(|code| syntax(de.span_error(code), String::new()))?;
    Ok(params)
}

/// The field path `serde_path_to_error` recorded, as `traffic.vehicles` or `layers[1]`:
/// enum variants left out (`device: Cuda(0)` gives `device`), stopping at a step it does
/// not know.
pub fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } if out.is_empty() => out.push_str(key),
            Segment::Map { key } => {
                out.push('.');
                out.push_str(key);
            }
            Segment::Enum { .. } => {}
            Segment::Unknown => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Params {
        force: f32,
        mode: Mode,
    }

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    enum Mode {
        #[default]
        A,
        B,
    }

    #[test]
    fn params_parse_from_ron_text_with_enums_and_located_errors() {
        assert_eq!(
            parse_params::<Params>("X-v0", " ").unwrap(),
            Params::default()
        );
        let p: Params = parse_params("X-v0", "(mode: B, force: 2.0)").unwrap();
        assert_eq!(
            p,
            Params {
                force: 2.0,
                mode: Mode::B
            }
        );
        let e = parse_params::<Params>("X-v0", "(\n  forc: 1.0)")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`X-v0`") && e.contains("forc") && e.contains("line 2"),
            "{e}"
        );
    }

    #[test]
    fn ids_parse_and_print() {
        let id = EnvId::parse("Pick-Place-v12").unwrap();
        assert_eq!((id.name.as_str(), id.version), ("Pick-Place", 12));
        assert_eq!(id.to_string(), "Pick-Place-v12");
        for bad in [
            "CartPole",
            "CartPole-v",
            "-v1",
            "Cart Pole-v1",
            "CartPole-vx",
        ] {
            assert!(EnvId::parse(bad).is_err(), "{bad}");
        }
    }
}
