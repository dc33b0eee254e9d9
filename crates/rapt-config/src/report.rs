//! Turns ron errors and validation problems into located diagnostics.

use ron::error::Error as RonError;

use crate::error::{Diagnostic, Location};
use crate::load::ParseError;
use crate::locator::Locator;
use crate::overrides::{Origin, Override, Patched};
use crate::path;
use crate::position::{LineIndex, Position};
use crate::validate::Problem;

/// Longest excerpt of source text quoted in a message.
const MAX_EXCERPT: usize = 40;

/// Everything needed to point a problem in the patched text back at the
/// original file or at the override that wrote it.
pub(crate) struct Report<'a> {
    pub(crate) name: &'a str,
    pub(crate) original: &'a str,
    pub(crate) patched: &'a Patched,
    pub(crate) overrides: &'a [Override],
    original_lines: LineIndex,
    patched_lines: LineIndex,
    locator: Locator,
}

impl<'a> Report<'a> {
    pub(crate) fn new(
        name: &'a str,
        original: &'a str,
        patched: &'a Patched,
        overrides: &'a [Override],
    ) -> Self {
        Self {
            name,
            original,
            patched,
            overrides,
            original_lines: LineIndex::new(original),
            patched_lines: LineIndex::new(&patched.text),
            locator: Locator::scan(&patched.text),
        }
    }

    /// Where patched byte `offset` came from.
    fn location(&self, offset: usize) -> Location {
        match self.patched.map.origin(offset) {
            Origin::File(o) => Location::File {
                name: self.name.to_owned(),
                position: self.original_lines.position(self.original, o),
            },
            Origin::Override(i) => Location::Override {
                set: self.overrides[i].raw.clone(),
            },
        }
    }

    /// The patched offset `within` (relative line and column) from the value starting
    /// at `start`; `start` itself without one.
    fn offset_within(&self, start: usize, within: Option<Position>) -> usize {
        let Some(within) = within else {
            return start;
        };
        let text = self.patched.text.as_str();
        let base = self.patched_lines.position(text, start);
        let absolute = if within.line <= 1 {
            Position {
                line: base.line,
                column: base.column + within.column.saturating_sub(1),
            }
        } else {
            Position {
                line: base.line + within.line - 1,
                column: within.column,
            }
        };
        self.patched_lines.offset(text, absolute)
    }

    /// Locates a validation problem at the value of its field (or at the position inside
    /// it the problem names).
    pub(crate) fn problem(&self, problem: &Problem) -> Diagnostic {
        let field = Some(problem.path.clone()).filter(|p| !p.is_empty());
        let Some(path) = &field else {
            let location = Location::Source {
                name: self.name.to_owned(),
            };
            return Diagnostic {
                location,
                field,
                message: problem.describe(""),
            };
        };
        match self.locator.field(path) {
            // A problem with the whole value, part of which an override wrote: the
            // override's (a problem inside it at a position is located there).
            Some(f) if problem.within.is_none() => {
                let location = match self.patched.map.override_within(f.value.clone()) {
                    Some(i) => Location::Override {
                        set: self.overrides[i].raw.clone(),
                    },
                    None => self.location(f.value.start),
                };
                Diagnostic {
                    location,
                    field,
                    message: problem.to_string(),
                }
            }
            Some(f) => Diagnostic {
                location: self.location(self.offset_within(f.value.start, problem.within)),
                field,
                message: problem.to_string(),
            },
            None => Diagnostic {
                location: Location::Default {
                    name: self.name.to_owned(),
                },
                message: problem.describe(&format!("{path} (default)")),
                field,
            },
        }
    }

    /// Locates a ron error and rewords it around the field it concerns.
    pub(crate) fn ron_error(&self, error: &ParseError) -> Diagnostic {
        let text = self.patched.text.as_str();
        let start = Position {
            line: error.error.span.start.line,
            column: error.error.span.start.col,
        };
        let offset = self.patched_lines.offset(text, start);
        // ron's spans may start at the whitespace before the culprit.
        let offset = skip_trivia(text, offset);
        // Inside a scalar value (`4.5` read as an integer): point at the whole value
        // rather than somewhere in its middle.
        let scalar = self
            .locator
            .is_complete()
            .then(|| self.locator.scalar_at(offset))
            .flatten();
        let (offset, path, found) = match scalar {
            Some(f) => (
                f.value.start,
                f.path.as_str(),
                Found {
                    token: Some(excerpt(&text[f.value.clone()])),
                    inside: offset > f.value.start,
                },
            ),
            None => (
                offset,
                error.path.as_str(),
                Found {
                    token: token_at(text, offset),
                    inside: false,
                },
            ),
        };
        let (field, mut message) = describe(&error.error.code, path, &found);
        let location = self.location(offset);
        // `--set name=foo` where the shell ate the quotes of `"foo"`.
        if let (Location::Override { set }, RonError::ExpectedString) =
            (&location, &error.error.code)
            && let Some((path, value)) = set.split_once('=')
        {
            message.push_str(&crate::overrides::quote_hint(path.trim(), value.trim()));
        }
        Diagnostic {
            location,
            field,
            message,
        }
    }
}

/// The source text an error points at.
struct Found {
    /// The value at the error (the whole scalar, if the error is inside one).
    token: Option<String>,
    /// Whether the error is in the middle of that value.
    inside: bool,
}

/// The value starting at `offset`, including a sign just before it.
fn token_at(text: &str, offset: usize) -> Option<String> {
    let start = if offset > 0 && matches!(text.as_bytes()[offset - 1], b'-' | b'+') {
        offset - 1
    } else {
        offset
    };
    let mut de = ron::Deserializer::from_str(&text[start..]).ok()?;
    let value = <&ron::value::RawValue as serde::Deserialize>::deserialize(&mut de).ok()?;
    Some(excerpt(value.trim().get_ron()))
}

/// The offset of the first byte at or after `offset` that is not whitespace or a comment
/// (`offset` itself when only those follow).
fn skip_trivia(text: &str, offset: usize) -> usize {
    let mut at = offset;
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start();
        let skipped = if trimmed.starts_with("//") {
            trimmed.find('\n').unwrap_or(trimmed.len())
        } else if trimmed.starts_with("/*") {
            trimmed.find("*/").map_or(trimmed.len(), |i| i + 2)
        } else {
            0
        };
        at += rest.len() - trimmed.len() + skipped;
        if skipped == 0 {
            return if at >= text.len() { offset } else { at };
        }
    }
}

/// The first line of `text`, shortened to [`MAX_EXCERPT`] characters.
fn excerpt(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > MAX_EXCERPT || line.len() < text.trim_end().len() {
        let short: String = line.chars().take(MAX_EXCERPT).collect();
        format!("{short}…")
    } else {
        line.to_owned()
    }
}

/// `ppo` for `ppo.gamma`, `layers` for `layers[0]`, `""` at the top.
fn parent(path: &str) -> &str {
    let cut = if path.ends_with(']') {
        path.rfind('[')
    } else {
        path.rfind('.')
    };
    cut.map_or("", |i| &path[..i])
}

fn one_of(kind: &str, alternatives: &[&str]) -> String {
    let quoted: Vec<String> = alternatives.iter().map(|a| format!("`{a}`")).collect();
    match quoted.as_slice() {
        [] => format!("there are no {kind}"),
        [only] => format!("expected {only}"),
        all => format!("expected one of {}", all.join(", ")),
    }
}

/// ron's own message, starting in lower case.
fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

/// The field path and message for a ron error met while deserializing `path`.
fn describe(code: &RonError, path: &str, found: &Found) -> (Option<String>, String) {
    let at = |message: String| {
        if path.is_empty() {
            message
        } else {
            format!("{path}: {message}")
        }
    };
    // Errors about a key: `path` is the key's own path (unknown fields) or the struct
    // holding it (missing or duplicate fields).
    let within = |container: &str, what: String| {
        if container.is_empty() {
            what
        } else {
            format!("{what} in `{container}`")
        }
    };
    let message = match code {
        RonError::NoSuchStructField {
            expected, found, ..
        } => {
            format!(
                "{}, {}",
                within(parent(path), format!("unknown field `{found}`")),
                one_of("fields", expected)
            )
        }
        RonError::DuplicateStructField { field, .. } => {
            within(path, format!("duplicate field `{field}`"))
        }
        RonError::MissingStructField { field, .. } => {
            let message = within(path, format!("missing field `{field}`"));
            return (Some(path::join(path, field)), message);
        }
        RonError::NoSuchEnumVariant {
            expected, found, ..
        } => at(format!(
            "unknown variant `{found}`, {}",
            one_of("variants", expected)
        )),
        RonError::InvalidValueForType { expected, found } => {
            at(format!("invalid type: {found}, expected {expected}"))
        }
        RonError::ExpectedDifferentLength { expected, found } => {
            at(format!("invalid length {found}, expected {expected}"))
        }
        RonError::Message(message) => at(message.clone()),
        RonError::IntegerOutOfBounds => match &found.token {
            Some(token) => at(format!("integer `{token}` is out of bounds")),
            None => at("integer is out of bounds".to_owned()),
        },
        _ => {
            let message = lowercase_first(&code.to_string());
            match &found.token {
                Some(token) if found.inside => at(format!("cannot parse `{token}`: {message}")),
                Some(token) if wants_found(code) => at(format!("{message}, found `{token}`")),
                _ => at(message),
            }
        }
    };
    (Some(path.to_owned()).filter(|p| !p.is_empty()), message)
}

/// Errors whose message reads better with what was found instead.
fn wants_found(code: &RonError) -> bool {
    matches!(
        code,
        RonError::ExpectedArray
            | RonError::ExpectedArrayEnd
            | RonError::ExpectedComma
            | RonError::ExpectedMapColon
            | RonError::ExpectedMapEnd
            | RonError::ExpectedOptionEnd
            | RonError::ExpectedStructLikeEnd
            | RonError::ExpectedBoolean
            | RonError::ExpectedByteLiteral
            | RonError::ExpectedByteString
            | RonError::ExpectedChar
            | RonError::ExpectedFloat
            | RonError::ExpectedIdentifier
            | RonError::ExpectedInteger
            | RonError::ExpectedMap
            | RonError::ExpectedNamedStructLike(_)
            | RonError::ExpectedOption
            | RonError::ExpectedString
            | RonError::ExpectedStructLike
            | RonError::ExpectedUnit
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(parent("ppo.gamma"), "ppo");
        assert_eq!(parent("layers[0]"), "layers");
        assert_eq!(parent("gamma"), "");
        assert_eq!(one_of("fields", &["a", "b"]), "expected one of `a`, `b`");
        assert_eq!(one_of("fields", &[]), "there are no fields");
        assert_eq!(lowercase_first("Expected float"), "expected float");
        assert_eq!(excerpt("(a: 1,\n b: 2)"), "(a: 1,…");
    }
}
