//! Maps RON source text to field paths and back.

use std::ops::Range;

use crate::position::Position;
use crate::scan::Scan;

/// Where one struct field, map entry or list element sits in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLocation {
    /// Dotted path, e.g. `ppo.learning_rate`, `env.params.gravity`, `layers[1]`.
    pub path: String,
    /// Position of the key (of the element itself, for list elements).
    pub key: Position,
    /// Byte span of the key (equal to `value` for list elements).
    pub key_span: Range<usize>,
    /// Byte span of the value, e.g. `Cuda(0)` or `(gamma: 0.9)`.
    pub value: Range<usize>,
}

/// What kind of `key: value` body a [`BodyLocation`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// A struct body `( name: value, ... )`, possibly named: `Ppo( ... )`.
    Struct,
    /// A map body `{ "key": value, ... }`.
    Map,
}

/// Where the inside of a struct or map sits in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyLocation {
    /// Path of the struct or map (empty for the top level).
    pub path: String,
    /// Struct or map.
    pub kind: BodyKind,
    /// Byte span between the delimiters: `span.end` is the closing delimiter.
    pub span: Range<usize>,
    /// Whether the last entry lacks a trailing comma (so appending an entry
    /// needs one first).
    pub(crate) needs_comma: bool,
}

/// An index of every field path in a RON text.
///
/// Built by a forgiving scan: on malformed text it keeps what it found
/// before the problem and [`Locator::is_complete`] returns `false`.
#[derive(Clone, Debug)]
pub struct Locator {
    fields: Vec<FieldLocation>,
    /// Fields whose value the scan stopped in (only used by `field_at`).
    unfinished: Vec<FieldLocation>,
    bodies: Vec<BodyLocation>,
    complete: bool,
}

impl Locator {
    /// Scans `text`, recording every struct field, identifier- or
    /// string-keyed map entry and list element.
    pub fn scan(text: &str) -> Self {
        let mut scan = Scan::new(text, 0);
        let complete = scan.document().is_ok();
        Self {
            fields: scan.fields,
            unfinished: scan.unfinished,
            bodies: scan.bodies,
            complete,
        }
    }

    /// Whether the whole text scanned as one well-formed RON value.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// All recorded fields, in order of their end in the text.
    pub fn fields(&self) -> &[FieldLocation] {
        &self.fields
    }

    /// All recorded struct and map bodies.
    pub fn bodies(&self) -> &[BodyLocation] {
        &self.bodies
    }

    /// The field at `path` (the first one, if the key is duplicated).
    pub fn field(&self, path: &str) -> Option<&FieldLocation> {
        self.fields.iter().find(|f| f.path == path)
    }

    /// The struct or map body at `path` (`""` for the top level).
    pub fn body(&self, path: &str) -> Option<&BodyLocation> {
        self.bodies.iter().find(|b| b.path == path)
    }

    /// Line and column of the key of the field at `path`.
    pub fn position_of(&self, path: &str) -> Option<Position> {
        self.field(path).map(|f| f.key)
    }

    /// The innermost field whose key or value contains byte `offset`
    /// (in malformed text, this includes fields whose value is cut short).
    pub fn field_at(&self, offset: usize) -> Option<&FieldLocation> {
        let complete = self.fields.iter().filter(|f| offset < f.value.end);
        let cut_short = self.unfinished.iter().filter(|f| offset <= f.value.end);
        complete
            .chain(cut_short)
            .filter(|f| f.key_span.start <= offset)
            .max_by_key(|f| f.key_span.start)
    }

    /// Path of the innermost field whose key or value contains byte `offset`.
    pub fn path_at(&self, offset: usize) -> Option<&str> {
        self.field_at(offset).map(|f| f.path.as_str())
    }

    /// Whether some recorded field lies strictly inside the field at `path`.
    pub(crate) fn has_children(&self, path: &str) -> bool {
        self.fields.iter().any(|f| {
            f.path.len() > path.len()
                && f.path.starts_with(path)
                && matches!(f.path.as_bytes()[path.len()], b'.' | b'[')
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"#![enable(implicit_some)]
Config( // top
    name: "a(b", /* ) */
    ppo: (gamma: 0.99, lr: r"x)"),
    device: Cuda(0),
    seed: Some((a: 'c')),
    layers: [(units: 4), (units: 8)],
    env: { "params": { gravity: -9.8 }, 3: (x: 1) },
    pair: (1, (y: 2)),
    empty: ()
)"#;

    fn paths(l: &Locator) -> Vec<&str> {
        l.fields().iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn records_nested_paths() {
        let l = Locator::scan(TEXT);
        assert!(l.is_complete());
        let mut found = paths(&l);
        found.sort_unstable();
        assert_eq!(
            found,
            [
                "device",
                "empty",
                "env",
                "env.params",
                "env.params.gravity",
                "layers",
                "layers[0]",
                "layers[0].units",
                "layers[1]",
                "layers[1].units",
                "name",
                "pair",
                "pair[0]",
                "pair[1]",
                "pair[1].y",
                "ppo",
                "ppo.gamma",
                "ppo.lr",
                "seed",
                "seed.a",
            ]
        );
        let gamma = l.field("ppo.gamma").unwrap();
        assert_eq!(&TEXT[gamma.value.clone()], "0.99");
        assert_eq!(
            l.position_of("ppo.gamma"),
            Some(Position {
                line: 4,
                column: 11
            })
        );
        assert_eq!(&TEXT[l.field("device").unwrap().value.clone()], "Cuda(0)");
        assert_eq!(
            &TEXT[l.body("env.params").unwrap().span.clone()],
            " gravity: -9.8 "
        );
        assert_eq!(l.body("").map(|b| b.kind), Some(BodyKind::Struct));
        assert_eq!(l.body("env").map(|b| b.kind), Some(BodyKind::Map));
        assert!(l.body("").unwrap().needs_comma);
        assert!(l.body("empty").is_some_and(|b| !b.needs_comma));
    }

    #[test]
    fn answers_path_at_offsets() {
        let l = Locator::scan(TEXT);
        let at = |needle: &str| l.path_at(TEXT.find(needle).unwrap());
        assert_eq!(at("0.99"), Some("ppo.gamma"));
        assert_eq!(at("gamma"), Some("ppo.gamma"));
        assert_eq!(at("(gamma"), Some("ppo"));
        assert_eq!(at("units: 8"), Some("layers[1].units"));
        assert_eq!(at("-9.8"), Some("env.params.gravity"));
        assert_eq!(at("x: 1"), Some("env"));
        assert_eq!(at("// top"), None);
    }

    #[test]
    fn keeps_what_it_found_in_broken_text() {
        let l = Locator::scan("(a: 1, b: (c: 2, d: ), e: 3)");
        assert!(!l.is_complete());
        assert_eq!(paths(&l), ["a", "b.c"]);
        let stop = "(a: 1, b: (c: 2, d: ".len();
        assert_eq!(l.path_at(stop), Some("b.d"));
    }
}
