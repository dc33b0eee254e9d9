//! `--set a.b.c=value` overrides, applied to the RON text before parsing.

use std::ops::Range;

use crate::error::ConfigError;
use crate::locator::{BodyKind, Locator};
use crate::path::{self, Segment};

/// One parsed `--set path=value` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Override {
    /// The override exactly as given, for messages.
    pub(crate) raw: String,
    /// The canonical field path.
    pub(crate) path: String,
    /// The RON value text.
    pub(crate) value: String,
}

impl Override {
    /// Parses `path=value`, checking the path and that the value is a
    /// single RON value.
    pub(crate) fn parse(raw: &str) -> Result<Self, ConfigError> {
        let fail = |reason: String| ConfigError::Override {
            set: raw.to_owned(),
            reason,
        };
        let Some((path, value)) = raw.split_once('=') else {
            return Err(fail(
                "expected `path=value`, e.g. `--set ppo.gamma=0.99`".to_owned(),
            ));
        };
        let segments = path::parse(path.trim()).map_err(fail)?;
        let value = value.trim();
        if value.is_empty() {
            return Err(fail("empty value".to_owned()));
        }
        if !is_single_value(value) {
            return Err(fail(format!(
                "`{value}` is not a single RON value{}",
                quote_hint(path.trim(), value)
            )));
        }
        Ok(Self {
            raw: raw.to_owned(),
            path: path::render(&segments),
            value: value.to_owned(),
        })
    }
}

/// For a value that reads like an unquoted string: how to write it for the shell.
pub(crate) fn quote_hint(path: &str, value: &str) -> String {
    let bare = value
        .chars()
        .all(|c| c.is_alphanumeric() || "-_./:".contains(c))
        && value.starts_with(char::is_alphabetic);
    if bare {
        format!(" (a RON string keeps its quotes: write --set '{path}=\"{value}\"' in a shell)")
    } else {
        String::new()
    }
}

fn is_single_value(value: &str) -> bool {
    ron::value::RawValue::from_ron(value).is_ok()
}

/// Where a byte of the patched text came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Byte offset in the original text.
    File(usize),
    /// Written by the override with this index.
    Override(usize),
}

#[derive(Clone, Copy, Debug)]
struct Piece {
    len: usize,
    origin: Origin,
}

/// Tracks which parts of the patched text came from where.
#[derive(Clone, Debug)]
pub(crate) struct SourceMap {
    pieces: Vec<Piece>,
}

impl SourceMap {
    /// The identity map over a text of `len` bytes.
    pub(crate) fn new(len: usize) -> Self {
        Self {
            pieces: vec![Piece {
                len,
                origin: Origin::File(0),
            }],
        }
    }

    /// Records that patched bytes `range` were replaced by `len` bytes
    /// written by override `index`.
    fn replace(&mut self, range: Range<usize>, len: usize, index: usize) {
        let mut out = Vec::with_capacity(self.pieces.len() + 2);
        let mut inserted = false;
        let mut pos = 0;
        for piece in &self.pieces {
            let (start, end) = (pos, pos + piece.len);
            pos = end;
            if start < range.start {
                out.push(piece.slice(0, end.min(range.start) - start));
            }
            if !inserted && end >= range.start {
                out.push(Piece {
                    len,
                    origin: Origin::Override(index),
                });
                inserted = true;
            }
            if end > range.end {
                let from = range.end.max(start) - start;
                out.push(piece.slice(from, piece.len));
            }
        }
        if !inserted {
            out.push(Piece {
                len,
                origin: Origin::Override(index),
            });
        }
        out.retain(|p| p.len > 0);
        self.pieces = out;
    }

    /// The override that wrote the last patched bytes within `range`, if any did: a value
    /// partly written by an override (`--set ppo.hidden[0]=0`) is that override's.
    pub(crate) fn override_within(&self, range: Range<usize>) -> Option<usize> {
        let mut pos = 0;
        let mut found = None;
        for piece in &self.pieces {
            let (start, end) = (pos, pos + piece.len);
            pos = end;
            if let Origin::Override(i) = piece.origin
                && start < range.end
                && end > range.start
            {
                found = Some(i);
            }
        }
        found
    }

    /// Where patched byte `offset` came from (the end of the text maps to
    /// the end of the original text, or to an override ending there).
    pub(crate) fn origin(&self, offset: usize) -> Origin {
        let mut pos = 0;
        for piece in &self.pieces {
            if offset < pos + piece.len {
                return piece.at(offset - pos);
            }
            pos += piece.len;
        }
        match self.pieces.last() {
            Some(last) => last.at(last.len),
            None => Origin::File(0),
        }
    }
}

impl Piece {
    fn slice(&self, from: usize, to: usize) -> Piece {
        let origin = match self.origin {
            Origin::File(start) => Origin::File(start + from),
            other => other,
        };
        Piece {
            len: to - from,
            origin,
        }
    }

    fn at(&self, delta: usize) -> Origin {
        match self.origin {
            Origin::File(start) => Origin::File(start + delta),
            other => other,
        }
    }
}

/// The text after applying overrides, plus where each part came from.
#[derive(Clone, Debug)]
pub(crate) struct Patched {
    pub(crate) text: String,
    pub(crate) map: SourceMap,
}

/// Applies `overrides` in order: replaces the value of an existing field,
/// or inserts the field (and any missing parent sections) into the
/// innermost enclosing struct or map.
pub(crate) fn apply(
    text: &str,
    name: &str,
    overrides: &[Override],
) -> Result<Patched, ConfigError> {
    let mut patched = Patched {
        text: text.to_owned(),
        map: SourceMap::new(text.len()),
    };
    for (index, o) in overrides.iter().enumerate() {
        let (range, new_text) = edit(&patched.text, name, o)?;
        patched.map.replace(range.clone(), new_text.len(), index);
        patched.text.replace_range(range, &new_text);
    }
    Ok(patched)
}

fn edit(text: &str, name: &str, o: &Override) -> Result<(Range<usize>, String), ConfigError> {
    let fail = |reason: String| ConfigError::Override {
        set: o.raw.clone(),
        reason,
    };
    let locator = Locator::scan(text);
    if let Some(field) = locator.field(&o.path) {
        return Ok((field.value.clone(), o.value.clone()));
    }
    let segments = path::parse(&o.path).map_err(&fail)?;
    for depth in (0..segments.len()).rev() {
        let parent = path::render(&segments[..depth]);
        let Some(body) = locator.body(&parent) else {
            if depth > 0 && locator.field(&parent).is_some() {
                if matches!(segments[depth], Segment::Index(_)) {
                    return Err(fail(no_element(&o.path, name)));
                }
                return Err(fail(format!(
                    "`{parent}` in {name} is not a struct or map, so `{}` cannot be set",
                    o.path
                )));
            }
            continue;
        };
        let entry = nested_entry(&segments[depth..], body.kind, &o.value)
            .ok_or_else(|| fail(no_element(&o.path, name)))?;
        // Right after the last entry's value (or the opening delimiter).
        let at = body.insert_at;
        let separator = if body.has_entries { ", " } else { "" };
        return Ok((at..at, format!("{separator}{entry}")));
    }
    Err(fail(format!(
        "{name} does not hold a struct `( ... )` to set `{}` in",
        o.path
    )))
}

fn no_element(path: &str, name: &str) -> String {
    format!("`{path}` does not exist in {name}, and list elements cannot be added")
}

/// `a: (b: (c: value))` for the missing tail `a.b.c` of a path.
fn nested_entry(missing: &[Segment<'_>], kind: BodyKind, value: &str) -> Option<String> {
    let mut text = value.to_owned();
    for (i, segment) in missing.iter().enumerate().rev() {
        let Segment::Name(key) = segment else {
            return None;
        };
        let key = if i == 0 && kind == BodyKind::Map {
            format!("{key:?}")
        } else {
            (*key).to_owned()
        };
        text = if i + 1 == missing.len() {
            format!("{key}: {text}")
        } else {
            format!("{key}: ({text})")
        };
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(text: &str, sets: &[&str]) -> Result<Patched, ConfigError> {
        let overrides: Vec<_> = sets
            .iter()
            .map(|s| Override::parse(s))
            .collect::<Result<_, _>>()?;
        apply(text, "t.ron", &overrides)
    }

    #[test]
    fn replaces_and_inserts() {
        let p = patch(
            "(\n  a: (b: 1),\n  c: 2\n)\n",
            &["a.b=Cuda(0)", "c=3", "a.d=4", "e.f.g=5"],
        )
        .unwrap();
        assert_eq!(
            p.text,
            "(\n  a: (b: Cuda(0), d: 4),\n  c: 3, e: (f: (g: 5))\n)\n"
        );
        let at = |needle: &str| p.map.origin(p.text.find(needle).unwrap());
        assert_eq!(at("Cuda"), Origin::Override(0));
        assert_eq!(at("3, e"), Origin::Override(1));
        assert_eq!(at(", d: 4"), Origin::Override(2));
        assert_eq!(at(", e: ("), Origin::Override(3));
        assert_eq!(at("c: 3"), Origin::File(17));
        assert_eq!(p.map.origin(p.text.len() - 2), Origin::File(22));
    }

    #[test]
    fn inserts_into_maps_and_after_comments() {
        let p = patch("Cfg(m: {\"x\": 1} // note\n)", &["m.y=2", "z=3"]).unwrap();
        assert_eq!(p.text, "Cfg(m: {\"x\": 1, \"y\": 2}, z: 3 // note\n)");
    }

    #[test]
    fn later_overrides_win() {
        let p = patch("(a: 1)", &["a=2", "a=3"]).unwrap();
        assert_eq!(p.text, "(a: 3)");
        assert_eq!(p.map.origin(4), Origin::Override(1));
        assert_eq!(p.map.origin(5), Origin::File(5));
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in ["gamma", "=1", "a..b=1", "a=", "a=1 2", "a=(", "a=b)"] {
            assert!(
                matches!(Override::parse(bad), Err(ConfigError::Override { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_to_descend_into_scalars() {
        let err = patch("(a: 1)", &["a.b=2"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--set a.b=2: `a` in t.ron is not a struct"),
            "{err}"
        );
    }
}
