//! Line/column bookkeeping for source texts.

use std::fmt;

/// A 1-based line and column (counted in characters, like ron's own spans).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Byte offsets of line starts, for converting between offsets and positions.
#[derive(Clone, Debug)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// The position of byte `offset` in `text` (clamped to the text).
    pub(crate) fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let column = text[start..offset].chars().count() + 1;
        Position { line, column }
    }

    /// The byte offset of `pos` in `text`, clamped to the end of its line.
    pub(crate) fn offset(&self, text: &str, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line.saturating_sub(1)) else {
            return text.len();
        };
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        text[start..line_end]
            .char_indices()
            .nth(pos.column.saturating_sub(1))
            .map_or(line_end, |(i, _)| start + i)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_round_trip() {
        let text = "ab\nγd\n\nx";
        let index = LineIndex::new(text);
        for (offset, _) in text.char_indices() {
            let pos = index.position(text, offset);
            assert_eq!(index.offset(text, pos), offset, "{pos}");
        }
        assert_eq!(index.position(text, 3), Position { line: 2, column: 1 });
        assert_eq!(index.position(text, 5), Position { line: 2, column: 2 });
        assert_eq!(
            index.position(text, text.len()),
            Position { line: 4, column: 2 }
        );
    }
}
