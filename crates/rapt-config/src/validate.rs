//! Semantic checks that run after a config has been deserialized.

use std::fmt::{self, Display};
use std::ops::{Bound, RangeBounds};

use crate::path;

/// A config (or config section) that can check its own values.
///
/// Paths given to the [`Validator`] are relative to the section being
/// validated; [`Validator::nested`] adds the section's prefix.
///
/// ```
/// use rapt_config::{Validate, Validator};
///
/// struct Ppo { gamma: f32, num_envs: usize }
///
/// impl Validate for Ppo {
///     fn validate(&self, v: &mut Validator) {
///         v.range("gamma", self.gamma, 0.0..=1.0);
///         v.positive("num_envs", self.num_envs);
///     }
/// }
///
/// let mut v = Validator::new();
/// v.nested("ppo", &Ppo { gamma: 1.5, num_envs: 0 });
/// let problems: Vec<String> = v.problems().iter().map(|p| p.to_string()).collect();
/// assert_eq!(problems, [
///     "ppo.gamma = 1.5 is out of range, expected 0 ≤ gamma ≤ 1",
///     "ppo.num_envs = 0 is out of range, expected num_envs > 0",
/// ]);
/// ```
pub trait Validate {
    /// Records every problem with `self` in `v`. The default accepts anything.
    fn validate(&self, v: &mut Validator) {
        let _ = v;
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate(&self, v: &mut Validator) {
        (**self).validate(v);
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self, v: &mut Validator) {
        if let Some(inner) = self {
            inner.validate(v);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self, v: &mut Validator) {
        for (i, item) in self.iter().enumerate() {
            v.nested(&format!("[{i}]"), item);
        }
    }
}

/// One failed check, e.g. `ppo.gamma = 1.5 is out of range, expected 0 ≤ gamma ≤ 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Full dotted path of the offending field (`""` for the whole config).
    pub path: String,
    /// The offending value, when the check knows it.
    pub value: Option<String>,
    /// What is wrong, without the path and value.
    pub message: String,
    /// Where inside the field's value the problem is (1-based line and column relative to
    /// the value's first character), when the check knows it: e.g. a syntax error inside
    /// an embedded RON text such as `env.params`.
    pub within: Option<crate::Position>,
}

impl Problem {
    /// Renders the problem with `label` standing in for the path.
    pub fn describe(&self, label: &str) -> String {
        match (&self.value, label.is_empty()) {
            (Some(value), false) => format!("{label} = {value} {}", self.message),
            (None, false) => format!("{label}: {}", self.message),
            (_, true) => self.message.clone(),
        }
    }
}

impl Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(&self.path))
    }
}

/// Collects [`Problem`]s so that all of them can be reported at once.
#[derive(Clone, Debug, Default)]
pub struct Validator {
    prefix: String,
    problems: Vec<Problem>,
}

impl Validator {
    /// An empty validator at the top level of the config.
    pub fn new() -> Self {
        Self::default()
    }

    fn full_path(&self, path: &str) -> String {
        path::join(&self.prefix, path)
    }

    /// Records a problem with the field at `path` unconditionally.
    pub fn problem(&mut self, path: &str, message: impl Display) {
        let path = self.full_path(path);
        self.problems.push(Problem {
            path,
            value: None,
            message: message.to_string(),
            within: None,
        });
    }

    /// Records a problem at `within` (line and column relative to the start of the
    /// field's value) inside the field at `path`, so that the report names the file
    /// position of the culprit itself.
    pub fn problem_within(&mut self, path: &str, within: crate::Position, message: impl Display) {
        let path = self.full_path(path);
        self.problems.push(Problem {
            path,
            value: None,
            message: message.to_string(),
            within: Some(within),
        });
    }

    /// Records `message` about `value` for `path` unless `ok` holds, shown as
    /// `path = value message`.
    pub fn check_value(
        &mut self,
        path: &str,
        ok: bool,
        value: impl Display,
        message: impl Display,
    ) {
        if !ok {
            let path = self.full_path(path);
            self.problems.push(Problem {
                path,
                value: Some(value.to_string()),
                message: message.to_string(),
                within: None,
            });
        }
    }

    /// Records `message` for `path` unless `ok` holds.
    pub fn check(&mut self, path: &str, ok: bool, message: impl Display) {
        if !ok {
            self.problem(path, message);
        }
    }

    /// Requires `value` to lie in `range`, e.g. `0.0..=1.0` or `1..`
    /// (NaN is never in range).
    pub fn range<N, R>(&mut self, path: &str, value: N, range: R)
    where
        N: PartialOrd + Display,
        R: RangeBounds<N>,
    {
        if range.contains(&value) {
            return;
        }
        let path = self.full_path(path);
        let name = path::short_name(&path);
        let expected = describe_range(name, range.start_bound(), range.end_bound());
        let message = format!("is out of range, expected {expected}");
        self.problems.push(Problem {
            value: Some(value.to_string()),
            path,
            message,
            within: None,
        });
    }

    /// Requires `value > 0` (where `0` is `N::default()`).
    pub fn positive<N>(&mut self, path: &str, value: N)
    where
        N: PartialOrd + Default + Display,
    {
        self.range(
            path,
            value,
            (Bound::Excluded(N::default()), Bound::Unbounded),
        );
    }

    /// Validates a section, prefixing its paths with `prefix`
    /// (`"ppo"`, or `"[3]"` for a list element).
    pub fn nested<V: Validate + ?Sized>(&mut self, prefix: &str, section: &V) {
        self.scope(prefix, |v| section.validate(v));
    }

    /// Runs `f` with every path it records prefixed by `prefix`.
    pub fn scope(&mut self, prefix: &str, f: impl FnOnce(&mut Validator)) {
        let outer = std::mem::take(&mut self.prefix);
        self.prefix = path::join(&outer, prefix);
        f(self);
        self.prefix = outer;
    }

    /// The problems recorded so far, in order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Whether no problem was recorded.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Takes the recorded problems.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }
}

/// `0 ≤ gamma ≤ 1`, `num_envs > 0`, `lr < 1`, ...
fn describe_range<N: Display>(name: &str, start: Bound<&N>, end: Bound<&N>) -> String {
    let lower = match start {
        Bound::Included(lo) => Some(format!("{lo} ≤ ")),
        Bound::Excluded(lo) => Some(format!("{lo} < ")),
        Bound::Unbounded => None,
    };
    let upper = match end {
        Bound::Included(hi) => Some(format!(" ≤ {hi}")),
        Bound::Excluded(hi) => Some(format!(" < {hi}")),
        Bound::Unbounded => None,
    };
    match (lower, upper, start) {
        (_, None, Bound::Included(lo)) => format!("{name} ≥ {lo}"),
        (_, None, Bound::Excluded(lo)) => format!("{name} > {lo}"),
        (lower, upper, _) => {
            format!(
                "{}{name}{}",
                lower.unwrap_or_default(),
                upper.unwrap_or_default()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Layer {
        units: u32,
    }

    impl Validate for Layer {
        fn validate(&self, v: &mut Validator) {
            v.positive("units", self.units);
        }
    }

    #[test]
    fn prefixes_nested_sections_and_list_elements() {
        let mut v = Validator::new();
        v.nested("layers", &vec![Layer { units: 1 }, Layer { units: 0 }]);
        v.scope("ppo", |v| {
            v.range("lr", f32::NAN, 0.0..1.0);
            v.check("batch", false, "must divide num_envs");
        });
        v.range("seed", 3, ..3);
        let shown: Vec<String> = v.problems().iter().map(Problem::to_string).collect();
        assert_eq!(
            shown,
            [
                "layers[1].units = 0 is out of range, expected units > 0",
                "ppo.lr = NaN is out of range, expected 0 ≤ lr < 1",
                "ppo.batch: must divide num_envs",
                "seed = 3 is out of range, expected seed < 3",
            ]
        );
    }
}
