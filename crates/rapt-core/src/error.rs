use thiserror::Error;

/// Everything that can go wrong when making or driving an environment.
///
/// Misuse (stepping before reset, a wrong action shape, a NaN action) is reported here
/// instead of panicking or silently producing garbage.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EnvError {
    /// `step` was called before the first `reset`.
    #[error("step called before reset: call reset(seed) first")]
    NotReset,
    /// `step` was called on a single env whose episode has ended, without a reset.
    #[error("step called after the episode ended (terminated or truncated): call reset first")]
    NeedsReset,
    /// The action slice has the wrong number of elements.
    #[error("wrong action shape: expected {expected} f32 values, got {got}")]
    ActionShape {
        /// Elements expected (`num_envs × action dim` for a vector env).
        expected: usize,
        /// Elements received.
        got: usize,
    },
    /// An action element is NaN or infinite.
    #[error("action for env {env} has a non-finite value {value} at index {index}")]
    NonFiniteAction {
        /// Sub-environment index (0 for a single env).
        env: usize,
        /// Index inside that env's action.
        index: usize,
        /// The offending value.
        value: f32,
    },
    /// An action lies outside a discrete action space.
    #[error("action for env {env} is outside the action space {space}: {action:?}")]
    ActionOutOfSpace {
        /// Sub-environment index.
        env: usize,
        /// The action as given.
        action: Vec<f32>,
        /// The space, printed.
        space: String,
    },
    /// A mask or buffer given to the vector env has the wrong length.
    #[error("wrong {what} length: expected {expected}, got {got}")]
    BatchShape {
        /// Which argument.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// An environment id is not registered.
    #[error("unknown environment `{id}`; registered: {known}")]
    UnknownEnv {
        /// The id asked for.
        id: String,
        /// Comma-separated registered ids.
        known: String,
    },
    /// An environment id does not have the `Name-vN` form.
    #[error("bad environment id `{0}`: expected `Name-vN`, e.g. `CartPole-v1`")]
    BadId(String),
    /// An environment's parameters are invalid.
    #[error("invalid parameters for `{id}`: {message}")]
    InvalidParams {
        /// The env id.
        id: String,
        /// What was wrong, naming the parameter.
        message: String,
    },
    /// An environment's parameters are not valid RON for its parameter type (unknown
    /// field, wrong type, syntax); the position is inside the parameters' text.
    #[error(
        "invalid parameters for `{id}`: {message} (line {line}, column {column} of the parameters)"
    )]
    ParamsSyntax {
        /// The env id.
        id: String,
        /// What ron reported.
        message: String,
        /// 1-based line inside the parameters' text.
        line: usize,
        /// 1-based column (characters) inside the parameters' text.
        column: usize,
    },
    /// An environment's parameters parsed but are out of range: one (field path inside
    /// the parameters, message naming it) per problem.
    #[error(
        "invalid parameters for `{id}`: {}",
        problems.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("; ")
    )]
    ParamsOutOfRange {
        /// The env id.
        id: String,
        /// (field path such as `traffic.vehicles`, message) per problem.
        problems: Vec<(String, String)>,
    },
    /// Invalid vectorization options (zero envs, zero threads, ...).
    #[error("invalid vector env options: {0}")]
    InvalidOptions(String),
    /// A worker thread died (a panic inside an environment).
    #[error("env worker thread {worker} stopped: {message}")]
    WorkerFailed {
        /// Worker index.
        worker: usize,
        /// Panic message if any.
        message: String,
    },
}
