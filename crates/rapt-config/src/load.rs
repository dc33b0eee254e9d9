//! The loading pipeline: read, apply overrides, parse, validate, resolve.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ConfigError;
use crate::locator::Locator;
use crate::overrides::{self, Override, Patched, SourceMap};
use crate::report::Report;
use crate::validate::{Validate, Validator};

/// A successfully loaded config.
#[derive(Clone, Debug)]
pub struct Loaded<T> {
    /// The typed, validated config (overrides applied).
    pub config: T,
    /// The final config re-serialized with [`ron::ser::to_string_pretty`],
    /// suitable for saving next to a run and loading back.
    pub resolved_ron: String,
}

/// A ron error and the path of the field serde was deserializing when it happened.
pub(crate) struct ParseError {
    pub(crate) error: ron::error::SpannedError,
    /// e.g. `ppo.gamma`, `layers[1]`; `""` at the top level.
    pub(crate) path: String,
}

/// The RON dialect of rapt's configs: `implicit_some` (an optional field takes a bare
/// value) and `unwrap_variant_newtypes` (`Remote(url: "…")` for a variant wrapping a
/// struct). For other readers of the same texts, such as the Python package's shaping.
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(
        ron::extensions::Extensions::IMPLICIT_SOME
            | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
    )
}

/// `value` as RON in rapt's dialect ([`ron_options`]), pretty-printed: what a run
/// directory's `config.ron` holds. The text is read back by [`load`] and
/// [`ron_options`] (a variant wrapping a struct is written unwrapped, as users write it,
/// where ron's default would write `Remote((…))`, which this dialect does not read).
pub fn to_ron<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, ron::Error> {
    let extensions = ron::extensions::Extensions::IMPLICIT_SOME
        | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES;
    ron::ser::to_string_pretty(
        value,
        ron::ser::PrettyConfig::default().extensions(extensions),
    )
}

/// Parse RON `text` with `implicit_some` on, so an optional field takes a bare value
/// (`target_kl: 0.02`, or `--set ppo.target_kl=0.02`) as well as `Some(0.02)`, and
/// `unwrap_variant_newtypes`, so a variant wrapping a struct takes its fields directly
/// (`Remote(url: "…", …)` rather than `Remote((url: "…", …))`); errors carry ron's span
/// and `serde_path_to_error`'s field path.
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, Box<ParseError>> {
    let failed = |error, path| Box::new(ParseError { error, path });
    let options = ron_options();
    let mut de = ron::Deserializer::from_str_with_options(text, &options)
        .map_err(|e| failed(e, String::new()))?;
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = rapt_core::field_path(e.path());
        failed(de.span_error(e.into_inner()), path)
    })?;
    de.end()
        .map_err(|code| failed(de.span_error(code), String::new()))?;
    Ok(value)
}

/// Reads the RON config at `path`, applies `overrides` (each
/// `field.path=value`), deserializes and validates it.
///
/// Errors name `path:line:column` and the field concerned, or the
/// offending `--set` override.
pub fn load<T>(path: &Path, overrides: &[String]) -> Result<Loaded<T>, ConfigError>
where
    T: DeserializeOwned + Serialize + Validate,
{
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    from_str(&text, &path.display().to_string(), overrides)
}

/// Like [`load`], for config `text` shown in messages as `name`.
///
/// ```
/// use rapt_config::{Validate, Validator};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Default, Deserialize, Serialize)]
/// #[serde(deny_unknown_fields, default)]
/// struct Config { gamma: f32, steps: u32 }
///
/// impl Validate for Config {
///     fn validate(&self, v: &mut Validator) {
///         v.range("gamma", self.gamma, 0.0..=1.0);
///     }
/// }
///
/// let text = "(\n    gamma: 0.9,\n)\n";
/// let loaded: rapt_config::Loaded<Config> =
///     rapt_config::from_str(text, "run.ron", &["steps=100".to_owned()]).unwrap();
/// assert_eq!(loaded.config.steps, 100);
///
/// let err = rapt_config::from_str::<Config>(text, "run.ron", &["gamma=2".to_owned()]).unwrap_err();
/// assert_eq!(err.to_string(), "--set gamma=2: gamma = 2 is out of range, expected 0 ≤ gamma ≤ 1");
///
/// let err = rapt_config::from_str::<Config>("(gama: 0.9)", "run.ron", &[]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "run.ron:1:2: unknown field `gama`, expected one of `gamma`, `steps`",
/// );
/// ```
pub fn from_str<T>(text: &str, name: &str, overrides: &[String]) -> Result<Loaded<T>, ConfigError>
where
    T: DeserializeOwned + Serialize + Validate,
{
    let overrides = overrides
        .iter()
        .map(|o| Override::parse(o))
        .collect::<Result<Vec<_>, _>>()?;
    if !overrides.is_empty() && !Locator::scan(text).is_complete() {
        // Report a broken file as such, not as an override that cannot apply.
        if let Err(e) = parse::<T>(text) {
            let unpatched = Patched {
                text: text.to_owned(),
                map: SourceMap::new(text.len()),
            };
            return Err(ConfigError::Parse(
                Report::new(name, text, &unpatched, &[]).ron_error(&e),
            ));
        }
    }
    let patched = overrides::apply(text, name, &overrides)?;
    let report = Report::new(name, text, &patched, &overrides);
    let config: T = parse(&patched.text).map_err(|e| ConfigError::Parse(report.ron_error(&e)))?;
    let mut validator = Validator::new();
    config.validate(&mut validator);
    if !validator.is_empty() {
        let problems = validator
            .problems()
            .iter()
            .map(|p| report.problem(p))
            .collect();
        return Err(ConfigError::Invalid(problems));
    }
    let resolved_ron = to_ron(&config).map_err(|e| ConfigError::Serialize {
        name: name.to_owned(),
        message: e.to_string(),
    })?;
    Ok(Loaded {
        config,
        resolved_ron,
    })
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use crate::{Validate, Validator};

    #[derive(Debug, Default, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, default)]
    struct Config {
        target_kl: Option<f64>,
    }

    impl Validate for Config {
        fn validate(&self, _: &mut Validator) {}
    }

    fn kl(text: &str, sets: &[&str]) -> Option<f64> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        super::from_str::<Config>(text, "run.ron", &sets)
            .unwrap()
            .config
            .target_kl
    }

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Remote {
        url: String,
        retries: Option<u32>,
    }

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    enum Model {
        Oracle,
        Remote(Remote),
    }

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Shaped {
        model: Model,
        gamma: Option<f32>,
    }

    impl Validate for Shaped {
        fn validate(&self, _: &mut Validator) {}
    }

    #[test]
    fn the_resolved_text_reads_back_as_the_config_it_came_from() {
        let text = "(model: Remote(url: \"http://h/v1\", retries: 2), gamma: 0.9)";
        let loaded = super::from_str::<Shaped>(text, "run.ron", &[]).unwrap();
        let back = super::from_str::<Shaped>(&loaded.resolved_ron, "config.ron", &[]).unwrap();
        assert_eq!(back.config, loaded.config);
        let mut de =
            ron::Deserializer::from_str_with_options(&loaded.resolved_ron, &super::ron_options())
                .unwrap();
        let direct: Shaped = serde::Deserialize::deserialize(&mut de).unwrap();
        assert_eq!(direct, loaded.config);
        let oracle = Shaped {
            model: Model::Oracle,
            gamma: None,
        };
        let text = super::to_ron(&oracle).unwrap();
        assert_eq!(
            super::from_str::<Shaped>(&text, "x", &[]).unwrap().config,
            oracle
        );
    }

    #[test]
    fn optional_fields_take_bare_values_and_some() {
        assert_eq!(kl("(target_kl: 0.02)", &[]), Some(0.02));
        assert_eq!(kl("(target_kl: Some(0.02))", &[]), Some(0.02));
        assert_eq!(kl("(target_kl: None)", &[]), None);
        assert_eq!(kl("()", &["target_kl=0.03"]), Some(0.03));
        assert_eq!(kl("(target_kl: 0.02)", &["target_kl=None"]), None);
    }
}
