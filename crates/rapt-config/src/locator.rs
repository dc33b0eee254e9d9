//! Maps field paths in RON source text to byte spans.
//!
//! `ron` 0.12 keeps no spans for values, but it reads any value as a borrowed
//! [`RawValue`] whose text is a slice of the source: the walk below reads every value
//! that way, so a value's span is its slice's offset in the source, and descends by
//! reading the slice again.

use std::ops::Range;

use ron::value::RawValue;
use serde::Deserializer as _;
use serde::de::{self, Deserialize, MapAccess, SeqAccess, Visitor};

use crate::path;

/// Where one struct field, map entry or list element's value sits in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldLocation {
    /// Dotted path, e.g. `ppo.learning_rate`, `env.params.gravity`, `layers[1]`.
    pub(crate) path: String,
    /// Byte span of the value, e.g. `Cuda(0)` or `(gamma: 0.9)`.
    pub(crate) value: Range<usize>,
    /// Whether the value is a single token (a number, string, name), not a group.
    pub(crate) scalar: bool,
}

/// What kind of `key: value` body a [`BodyLocation`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// A struct body `( name: value, ... )`, possibly named: `Ppo( ... )`.
    Struct,
    /// A map body `{ "key": value, ... }`.
    Map,
}

/// Where a struct or map can take one more entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BodyLocation {
    /// Path of the struct or map (empty for the top level).
    pub(crate) path: String,
    /// Struct or map.
    pub(crate) kind: BodyKind,
    /// Byte offset right after the last entry's value (or the opening delimiter).
    pub(crate) insert_at: usize,
    /// Whether an entry precedes `insert_at` (so a new one needs a comma first).
    pub(crate) has_entries: bool,
}

/// An index of every field path in a RON text.
#[derive(Clone, Debug, Default)]
pub(crate) struct Locator {
    fields: Vec<FieldLocation>,
    bodies: Vec<BodyLocation>,
    complete: bool,
}

impl Locator {
    /// Indexes `text`: every struct field, identifier- or string-keyed map entry and
    /// list element. Malformed text gives an empty, incomplete index.
    pub(crate) fn scan(text: &str) -> Self {
        let mut locator = Self::default();
        locator.complete = locator.document(text).is_ok();
        if !locator.complete {
            locator.fields.clear();
            locator.bodies.clear();
        }
        locator
    }

    /// Whether the whole text is one well-formed RON value.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// The field at `path` (the first one, if the key is duplicated).
    pub(crate) fn field(&self, path: &str) -> Option<&FieldLocation> {
        self.fields.iter().find(|f| f.path == path)
    }

    /// The struct or map body at `path` (`""` for the top level).
    pub(crate) fn body(&self, path: &str) -> Option<&BodyLocation> {
        self.bodies.iter().find(|b| b.path == path)
    }

    /// The scalar field whose value contains byte `offset`.
    pub(crate) fn scalar_at(&self, offset: usize) -> Option<&FieldLocation> {
        self.fields
            .iter()
            .find(|f| f.scalar && f.value.contains(&offset))
    }

    fn document(&mut self, text: &str) -> Result<(), ron::Error> {
        let mut de = ron::Deserializer::from_str(text).map_err(|e| e.code)?;
        let root = <&RawValue>::deserialize(&mut de)?.trim();
        de.end()?;
        self.value(text, root.get_ron(), "")?;
        Ok(())
    }

    /// Reads `value` (a slice of `src`) at `path`, recording what lies inside it;
    /// returns whether it is a scalar.
    fn value(&mut self, src: &str, value: &str, path: &str) -> Result<bool, ron::Error> {
        // A group opens at its first delimiter, after an optional name: `Ppo(`, `[`.
        let Some(open) = value.find(['(', '[', '{']).filter(|&i| {
            let name = value[..i].trim_end();
            name.is_empty() || is_name(name)
        }) else {
            return Ok(true);
        };
        let delimiter = value.as_bytes()[open];
        let kind = match delimiter {
            b'{' => BodyKind::Map,
            _ => BodyKind::Struct,
        };
        let body_start = value.as_ptr() as usize - src.as_ptr() as usize + open + 1;
        let mut de = ron::Deserializer::from_str(value).map_err(|e| e.code)?;
        match de.deserialize_any(NodeVisitor { kind })? {
            Node::Some(inner) => {
                self.value(src, inner.trim().get_ron(), path)?;
            }
            // One-element tuples (`Cuda(0)`, newtypes) are transparent; `()` is an empty struct.
            Node::Seq(items) if items.len() == 1 && delimiter == b'(' => {
                self.value(src, items[0].trim().get_ron(), path)?;
            }
            Node::Seq(items) if items.is_empty() && delimiter == b'(' => {
                self.record_body(path, kind, body_start, &[]);
            }
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.record_field(src, item, &path::index(path, i))?;
                }
            }
            Node::Map(entries) => {
                let mut ends = Vec::with_capacity(entries.len());
                for (key, item) in entries {
                    let end = match key {
                        Some(key) => self.record_field(src, item, &path::join(path, &key))?,
                        None => offset_end(src, item),
                    };
                    ends.push(end);
                }
                self.record_body(path, kind, body_start, &ends);
            }
        }
        Ok(false)
    }

    /// Records the field at `path` whose value is `item`; returns the value's end.
    fn record_field(
        &mut self,
        src: &str,
        item: &RawValue,
        path: &str,
    ) -> Result<usize, ron::Error> {
        let text = item.trim().get_ron();
        let scalar = self.value(src, text, path)?;
        let end = offset_end(src, item);
        self.fields.push(FieldLocation {
            path: path.to_owned(),
            value: end - text.len()..end,
            scalar,
        });
        Ok(end)
    }

    fn record_body(&mut self, path: &str, kind: BodyKind, open: usize, ends: &[usize]) {
        self.bodies.push(BodyLocation {
            path: path.to_owned(),
            kind,
            insert_at: ends.last().copied().unwrap_or(open),
            has_entries: !ends.is_empty(),
        });
    }
}

/// The byte offset in `src` where `item`, a slice of it, ends.
fn offset_end(src: &str, item: &RawValue) -> usize {
    let text = item.trim().get_ron();
    text.as_ptr() as usize - src.as_ptr() as usize + text.len()
}

/// Whether `text` is a RON name such as `gamma` or `Ppo`.
fn is_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// A group, one level deep.
enum Node<'a> {
    Some(&'a RawValue),
    Seq(Vec<&'a RawValue>),
    /// Entries, keyed by name where the key is a name or a plain string.
    Map(Vec<(Option<String>, &'a RawValue)>),
}

/// Reads a value one level deep; map keys are read raw, struct keys as names.
struct NodeVisitor {
    kind: BodyKind,
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a struct, map, list, tuple or option")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node<'de>, E> {
        Ok(Node::Seq(Vec::new()))
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        <&RawValue>::deserialize(d).map(Node::Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<&RawValue>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut entries = Vec::new();
        loop {
            let key = match self.kind {
                BodyKind::Struct => map.next_key::<String>()?.map(Some),
                BodyKind::Map => map.next_key::<&RawValue>()?.map(|k| key_name(k.get_ron())),
            };
            let Some(key) = key else { break };
            entries.push((key, map.next_value::<&RawValue>()?));
        }
        Ok(Node::Map(entries))
    }
}

/// The name a map key gives a path: its text if it is a name or a plain string.
fn key_name(key: &str) -> Option<String> {
    if let Some(text) = key.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        return (!text.contains('\\')).then(|| text.to_owned());
    }
    is_name(key).then(|| key.to_owned())
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

    #[test]
    fn records_nested_paths() {
        let l = Locator::scan(TEXT);
        assert!(l.is_complete());
        let mut found: Vec<&str> = l.fields.iter().map(|f| f.path.as_str()).collect();
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
        let value = |path: &str| &TEXT[l.field(path).unwrap().value.clone()];
        assert_eq!(value("ppo.gamma"), "0.99");
        assert_eq!(value("device"), "Cuda(0)");
        assert_eq!(value("env.params.gravity"), "-9.8");
        let insert_at = |path: &str| &TEXT[l.body(path).unwrap().insert_at..][..2];
        assert_eq!(insert_at("env.params"), " }");
        assert_eq!(insert_at("empty"), ")\n");
        assert_eq!(insert_at(""), "\n)");
        assert_eq!(l.body("").map(|b| b.kind), Some(BodyKind::Struct));
        assert_eq!(l.body("env").map(|b| b.kind), Some(BodyKind::Map));
        assert!(l.body("").unwrap().has_entries);
        assert!(l.body("empty").is_some_and(|b| !b.has_entries));
    }

    #[test]
    fn finds_the_scalar_at_an_offset() {
        let l = Locator::scan(TEXT);
        let at = |needle: &str| {
            l.scalar_at(TEXT.find(needle).unwrap())
                .map(|f| f.path.as_str())
        };
        assert_eq!(at("0.99"), Some("ppo.gamma"));
        assert_eq!(at(".99"), Some("ppo.gamma"));
        assert_eq!(at("units: 8"), None);
        assert_eq!(at("8)"), Some("layers[1].units"));
        assert_eq!(at("-9.8"), Some("env.params.gravity"));
        assert_eq!(at("// top"), None);
    }

    #[test]
    fn broken_text_is_incomplete() {
        let l = Locator::scan("(a: 1, b: (c: 2, d: ), e: 3)");
        assert!(!l.is_complete());
        assert!(l.field("a").is_none());
    }
}
