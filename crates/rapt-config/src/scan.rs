//! The recursive walk over RON text that builds a [`crate::Locator`].

use std::ops::Range;

use crate::lexer::{Cursor, Stop};
use crate::locator::{BodyKind, BodyLocation, FieldLocation};
use crate::path;
use crate::position::LineIndex;

/// Nesting deeper than this is not tracked (the scan stops, incomplete).
const MAX_DEPTH: usize = 128;

/// End of the single RON value starting at byte `offset`, if one does.
pub(crate) fn value_end(text: &str, offset: usize) -> Option<usize> {
    Scan::new(text, offset)
        .value(None)
        .ok()
        .map(|span| span.end)
}

/// The recursive walk behind [`crate::Locator::scan`].
pub(crate) struct Scan<'a> {
    cursor: Cursor<'a>,
    lines: LineIndex,
    /// Completely scanned fields.
    pub(crate) fields: Vec<FieldLocation>,
    /// Fields whose value the scan stopped in.
    pub(crate) unfinished: Vec<FieldLocation>,
    /// Completely scanned struct and map bodies.
    pub(crate) bodies: Vec<BodyLocation>,
    depth: usize,
}

impl<'a> Scan<'a> {
    /// A scan of `text` starting at byte `offset`.
    pub(crate) fn new(text: &'a str, offset: usize) -> Self {
        Self {
            cursor: Cursor::new(text, offset),
            lines: LineIndex::new(text),
            fields: Vec::new(),
            unfinished: Vec::new(),
            bodies: Vec::new(),
            depth: 0,
        }
    }

    /// Scans a whole document: attributes, one value, nothing after it.
    pub(crate) fn document(&mut self) -> Result<(), Stop> {
        self.cursor.skip_trivia()?;
        while self.cursor.eat(b'#') {
            self.cursor.expect(b'!')?;
            self.cursor.skip_trivia()?;
            if self.cursor.peek() != Some(b'[') {
                return Err(Stop);
            }
            self.cursor.balanced()?;
            self.cursor.skip_trivia()?;
        }
        self.value(Some(""))?;
        self.cursor.skip_trivia()?;
        if self.cursor.at_end() {
            Ok(())
        } else {
            Err(Stop)
        }
    }

    fn location(&self, path: &str, key_span: Range<usize>, value: Range<usize>) -> FieldLocation {
        let key = self.lines.position(self.cursor.src, key_span.start);
        FieldLocation {
            path: path.to_owned(),
            key,
            key_span,
            value,
        }
    }

    /// Scans the value of a field (or list element, if `key_span` is
    /// `None`) and records it, even if it is cut short by malformed text.
    fn field(
        &mut self,
        path: Option<&str>,
        key_span: Option<Range<usize>>,
    ) -> Result<Range<usize>, Stop> {
        let start = self.cursor.pos;
        let result = self.value(path);
        if let Some(path) = path {
            match &result {
                Ok(value) => {
                    let key_span = key_span.unwrap_or_else(|| value.clone());
                    let field = self.location(path, key_span, value.clone());
                    self.fields.push(field);
                }
                Err(Stop) => {
                    // Covers the byte the scan stopped at, where ron will
                    // most likely report its error too.
                    let value = start..(self.cursor.pos + 1).min(self.cursor.src.len());
                    let key_span = key_span.unwrap_or_else(|| value.clone());
                    let field = self.location(path, key_span, value);
                    self.unfinished.push(field);
                }
            }
        }
        result
    }

    /// Scans one value; `path` is `None` where paths are not tracked.
    pub(crate) fn value(&mut self, path: Option<&str>) -> Result<Range<usize>, Stop> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Stop);
        }
        self.cursor.skip_trivia()?;
        let start = self.cursor.pos;
        let c = &mut self.cursor;
        match c.peek().ok_or(Stop)? {
            b'(' => self.group(path)?,
            b'[' => self.list(path)?,
            b'{' => self.map(path)?,
            b'"' => c.string()?,
            b'\'' => c.char_literal()?,
            b'r' if c.at_raw_string() => c.raw_string()?,
            b'b' if c.peek_at(1) == Some(b'"') => {
                c.pos += 1;
                c.string()?;
            }
            b'b' if c.peek_at(1) == Some(b'\'') => {
                c.pos += 1;
                c.char_literal()?;
            }
            b'b' if c.peek_at(1) == Some(b'r') && matches!(c.peek_at(2), Some(b'"' | b'#')) => {
                c.pos += 1;
                c.raw_string()?;
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => c.number()?,
            _ => {
                c.identifier().ok_or(Stop)?;
                let after_name = c.pos;
                c.skip_trivia()?;
                if c.peek() == Some(b'(') {
                    self.group(path)?;
                } else {
                    self.cursor.pos = after_name;
                }
            }
        }
        self.depth -= 1;
        Ok(start..self.cursor.pos)
    }

    /// `( ... )`: a struct body if it starts with `name:`, else a tuple.
    fn group(&mut self, path: Option<&str>) -> Result<(), Stop> {
        self.cursor.expect(b'(')?;
        let open = self.cursor.pos;
        self.cursor.skip_trivia()?;
        let is_struct = {
            let mut probe = self.cursor.clone();
            probe.identifier().is_some()
                && probe.skip_trivia().is_ok()
                && probe.peek() == Some(b':')
        };
        if is_struct || self.cursor.peek() == Some(b')') {
            self.entries(path, BodyKind::Struct, open, b')')
        } else {
            self.tuple(path)
        }
    }

    fn tuple(&mut self, path: Option<&str>) -> Result<(), Stop> {
        let (first_field, first_body) = (self.fields.len(), self.bodies.len());
        let mut count = 0;
        loop {
            self.cursor.skip_trivia()?;
            if self.cursor.eat(b')') {
                break;
            }
            let element = path.map(|p| path::index(p, count));
            self.field(element.as_deref(), None)?;
            count += 1;
            self.cursor.skip_trivia()?;
            if !self.cursor.eat(b',') {
                self.cursor.expect(b')')?;
                break;
            }
        }
        if let (Some(p), 1) = (path, count) {
            // One-element tuples (`Some(x)`, `Cuda(0)`, newtypes) are
            // transparent: `seed: Some((a: 1))` gives `seed.a`.
            self.unwrap_single(p, first_field, first_body);
        }
        Ok(())
    }

    fn unwrap_single(&mut self, path: &str, first_field: usize, first_body: usize) {
        let element = path::index(path, 0);
        let rename = |p: &mut String| {
            if let Some(rest) = p.strip_prefix(&element)
                && (rest.is_empty() || rest.starts_with(['.', '[']))
            {
                *p = format!("{path}{rest}");
            }
        };
        let mut fields = self.fields.split_off(first_field);
        fields.retain(|f| f.path != element);
        fields.iter_mut().for_each(|f| rename(&mut f.path));
        self.fields.append(&mut fields);
        self.bodies[first_body..]
            .iter_mut()
            .for_each(|b| rename(&mut b.path));
    }

    fn list(&mut self, path: Option<&str>) -> Result<(), Stop> {
        self.cursor.expect(b'[')?;
        let mut i = 0;
        loop {
            self.cursor.skip_trivia()?;
            if self.cursor.eat(b']') {
                return Ok(());
            }
            let element = path.map(|p| path::index(p, i));
            self.field(element.as_deref(), None)?;
            i += 1;
            self.cursor.skip_trivia()?;
            if !self.cursor.eat(b',') {
                self.cursor.skip_trivia()?;
                return self.cursor.expect(b']');
            }
        }
    }

    fn map(&mut self, path: Option<&str>) -> Result<(), Stop> {
        self.cursor.expect(b'{')?;
        let open = self.cursor.pos;
        self.entries(path, BodyKind::Map, open, b'}')
    }

    /// `key: value, ...` up to `close`; the opening delimiter is consumed.
    fn entries(
        &mut self,
        path: Option<&str>,
        kind: BodyKind,
        open: usize,
        close: u8,
    ) -> Result<(), Stop> {
        let mut needs_comma = false;
        loop {
            self.cursor.skip_trivia()?;
            if self.cursor.peek() == Some(close) {
                break;
            }
            let (key_span, key) = self.key(kind)?;
            self.cursor.skip_trivia()?;
            self.cursor.expect(b':')?;
            let child = match (path, key) {
                (Some(p), Some(k)) => Some(path::join(p, &k)),
                _ => None,
            };
            self.field(child.as_deref(), Some(key_span))?;
            self.cursor.skip_trivia()?;
            needs_comma = !self.cursor.eat(b',');
            if needs_comma {
                self.cursor.skip_trivia()?;
                if self.cursor.peek() != Some(close) {
                    return Err(Stop);
                }
            }
        }
        let span = open..self.cursor.pos;
        self.cursor.pos += 1;
        if let Some(p) = path {
            self.bodies.push(BodyLocation {
                path: p.to_owned(),
                kind,
                span,
                needs_comma,
            });
        }
        Ok(())
    }

    /// A struct field name, or a map key (named if it is a string or a name).
    fn key(&mut self, kind: BodyKind) -> Result<(Range<usize>, Option<String>), Stop> {
        let start = self.cursor.pos;
        if let Some(name) = self.cursor.identifier() {
            let name = name.to_owned();
            if kind == BodyKind::Struct || self.cursor.peek() != Some(b'(') {
                return Ok((start..self.cursor.pos, Some(name)));
            }
            self.cursor.pos = start;
        }
        if kind == BodyKind::Struct {
            return Err(Stop);
        }
        let span = self.value(None)?;
        let text = &self.cursor.src[span.clone()];
        let name = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| !t.contains('\\'))
            .map(str::to_owned);
        Ok((span, name))
    }
}
