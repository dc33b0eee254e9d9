//! Errors and the located diagnostics they carry.

use std::fmt;
use std::path::PathBuf;

use crate::position::Position;

/// Where a diagnostic points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A position in the config source: shown as `name:line:column`.
    File {
        /// Display name of the source (usually its path).
        name: String,
        /// Line and column in the original source.
        position: Position,
    },
    /// Text written by a `--set` override: shown as `--set path=value`.
    Override {
        /// The override as given, e.g. `ppo.gamma=2`.
        set: String,
    },
    /// A field that is absent from the source and kept its default value:
    /// shown as `name`, with the message saying `(default)`.
    Default {
        /// Display name of the source.
        name: String,
    },
    /// Somewhere in the source, without a known position: shown as `name`.
    Source {
        /// Display name of the source.
        name: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { name, position } => write!(f, "{name}:{position}"),
            Location::Override { set } => write!(f, "--set {}", one_line(set)),
            Location::Default { name } | Location::Source { name } => f.write_str(name),
        }
    }
}

/// One problem with a config, displayed as `location: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// Dotted path of the field concerned, where it could be determined.
    pub field: Option<String>,
    /// What is wrong, already naming the field where known.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, one_line(&self.message))
    }
}

/// Everything that can go wrong while loading a config.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("{}: cannot read config file: {source}", path.display())]
    Read {
        /// The path that was asked for.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A `--set` override is malformed or cannot be applied.
    #[error("--set {}: {reason}", one_line(set))]
    Override {
        /// The override as given.
        set: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The text is not valid RON, or does not match the config type.
    #[error("{0}")]
    Parse(Diagnostic),
    /// The config parsed but failed validation; one diagnostic per problem.
    #[error("{}", Lines(.0))]
    Invalid(Vec<Diagnostic>),
    /// The resolved config could not be written back as RON.
    #[error("{name}: cannot serialize the resolved config: {message}")]
    Serialize {
        /// Display name of the source.
        name: String,
        /// The serializer's message.
        message: String,
    },
}

impl ConfigError {
    /// The located diagnostics carried by this error (empty for errors that
    /// are not about the config's content).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Parse(d) => std::slice::from_ref(d),
            ConfigError::Invalid(ds) => ds,
            _ => &[],
        }
    }

    /// Blame overrides by another name: `label(set)` (e.g. `--env-set substeps=4` for the
    /// override `env.params.substeps=4` a tool made of its own flag) replaces `--set set`
    /// wherever it returns `Some`.
    pub fn relabel_overrides(self, label: impl Fn(&str) -> Option<String>) -> Self {
        let relabel = |d: Diagnostic| match &d.location {
            Location::Override { set } => match label(set) {
                Some(name) => Diagnostic {
                    location: Location::Source { name },
                    ..d
                },
                None => d,
            },
            _ => d,
        };
        match self {
            ConfigError::Override { set, reason } => match label(&set) {
                Some(name) => ConfigError::Parse(Diagnostic {
                    location: Location::Source { name },
                    field: None,
                    message: reason,
                }),
                None => ConfigError::Override { set, reason },
            },
            ConfigError::Parse(d) => ConfigError::Parse(relabel(d)),
            ConfigError::Invalid(ds) => ConfigError::Invalid(ds.into_iter().map(relabel).collect()),
            other => other,
        }
    }
}

/// `text` with line breaks shown as `\n`, so that a message stays on one line.
fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

struct Lines<'a>(&'a [Diagnostic]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}
