//! Token-level helpers for walking RON text: trivia, strings, chars, names.

/// The scanner hit text it cannot make sense of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stop;

/// A byte cursor over RON source text. It only ever stops on ASCII bytes,
/// so its position is always a char boundary.
#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    pub(crate) src: &'a str,
    pub(crate) pos: usize,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl<'a> Cursor<'a> {
    /// A cursor at `pos` in `src`.
    pub(crate) fn new(src: &'a str, pos: usize) -> Self {
        Self { src, pos }
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    /// The byte at the cursor.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    /// The byte `n` bytes ahead of the cursor.
    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.bytes().get(self.pos + n).copied()
    }

    /// Whether the cursor is at the end of the text.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Consumes `b` or stops.
    pub(crate) fn expect(&mut self, b: u8) -> Result<(), Stop> {
        if self.eat(b) { Ok(()) } else { Err(Stop) }
    }

    /// Skips whitespace, `//` comments and (nested) `/* */` comments.
    pub(crate) fn skip_trivia(&mut self) -> Result<(), Stop> {
        loop {
            let rest = &self.src[self.pos..];
            let Some(c) = rest.chars().next() else {
                return Ok(());
            };
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                self.block_comment()?;
            } else {
                return Ok(());
            }
        }
    }

    fn block_comment(&mut self) -> Result<(), Stop> {
        self.pos += 2;
        let mut level = 1;
        while level > 0 {
            let rest = &self.bytes()[self.pos..];
            if rest.is_empty() {
                return Err(Stop);
            } else if rest.starts_with(b"/*") {
                level += 1;
                self.pos += 2;
            } else if rest.starts_with(b"*/") {
                level -= 1;
                self.pos += 2;
            } else {
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// Skips a `"..."` string (the cursor is on the opening quote).
    pub(crate) fn string(&mut self) -> Result<(), Stop> {
        self.expect(b'"')?;
        loop {
            match self.peek() {
                None => return Err(Stop),
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Skips a raw string `r#"..."#` (the cursor is on the `r`).
    pub(crate) fn raw_string(&mut self) -> Result<(), Stop> {
        self.expect(b'r')?;
        let mut hashes = 0;
        while self.eat(b'#') {
            hashes += 1;
        }
        self.expect(b'"')?;
        let closing = format!("\"{}", "#".repeat(hashes));
        let end = self.src[self.pos..].find(&closing).ok_or(Stop)?;
        self.pos += end + closing.len();
        Ok(())
    }

    /// Whether a raw string (`r"` or `r#..."`) starts at the cursor.
    pub(crate) fn at_raw_string(&self) -> bool {
        if self.peek() != Some(b'r') {
            return false;
        }
        let mut n = 1;
        while self.peek_at(n) == Some(b'#') {
            n += 1;
        }
        self.peek_at(n) == Some(b'"')
    }

    /// Skips a char literal `'x'`, `'\n'`, `'\u{1F600}'` (cursor on the quote).
    pub(crate) fn char_literal(&mut self) -> Result<(), Stop> {
        self.expect(b'\'')?;
        if self.eat(b'\\') {
            self.pos += 1;
        } else {
            let c = self.src[self.pos..].chars().next().ok_or(Stop)?;
            self.pos += c.len_utf8();
        }
        let end = self.src[self.pos..].find('\'').ok_or(Stop)?;
        self.pos += end + 1;
        Ok(())
    }

    /// Reads an identifier (also a raw `r#name`) and returns it without the
    /// `r#` prefix, or `None` (cursor unmoved) if none starts here.
    pub(crate) fn identifier(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let raw = self.peek() == Some(b'r') && self.peek_at(1) == Some(b'#');
        let first = if raw { self.peek_at(2) } else { self.peek() };
        let first = first?;
        if !(first.is_ascii_alphabetic() || first == b'_' || first >= 0x80) {
            return None;
        }
        if raw {
            self.pos += 2;
        }
        let name_start = self.pos;
        while let Some(b) = self.peek() {
            let extra = raw && matches!(b, b'.' | b'+' | b'-');
            if is_name_byte(b) || extra {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos == name_start {
            self.pos = start;
            return None;
        }
        Some(&self.src[name_start..self.pos])
    }

    /// Skips a number-like token: `-1.5e-3`, `0x1F`, `1_000`, `+inf`.
    pub(crate) fn number(&mut self) -> Result<(), Stop> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        let hex = self.src[self.pos..].starts_with("0x");
        while let Some(b) = self.peek() {
            let prev = if self.pos > start {
                self.bytes()[self.pos - 1]
            } else {
                0
            };
            let exponent_sign = matches!(b, b'+' | b'-') && !hex && matches!(prev, b'e' | b'E');
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos == start { Err(Stop) } else { Ok(()) }
    }

    /// Skips a bracketed group (e.g. an attribute body) up to its matching
    /// closing delimiter, respecting strings, chars and comments.
    pub(crate) fn balanced(&mut self) -> Result<(), Stop> {
        let mut stack = Vec::new();
        loop {
            self.skip_trivia()?;
            match self.peek().ok_or(Stop)? {
                b'(' => stack.push(b')'),
                b'[' => stack.push(b']'),
                b'{' => stack.push(b'}'),
                b @ (b')' | b']' | b'}') => {
                    stack.pop().filter(|&open| open == b).ok_or(Stop)?;
                }
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'\'' => {
                    self.char_literal()?;
                    continue;
                }
                b'r' if self.at_raw_string() => {
                    self.raw_string()?;
                    continue;
                }
                _ => {}
            }
            self.pos += 1;
            if stack.is_empty() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after<'a>(
        src: &'a str,
        f: impl FnOnce(&mut Cursor<'a>) -> Result<(), Stop>,
    ) -> Result<usize, Stop> {
        let mut c = Cursor::new(src, 0);
        f(&mut c).map(|()| c.pos)
    }

    #[test]
    fn skips_trivia_and_nested_comments() {
        assert_eq!(
            after(" // x\n /* a /* b */ c */ z", Cursor::skip_trivia),
            Ok(25)
        );
        assert_eq!(after("/* open", Cursor::skip_trivia), Err(Stop));
    }

    #[test]
    fn skips_strings_and_chars() {
        assert_eq!(after(r#""a\"b" x"#, Cursor::string), Ok(6));
        assert_eq!(after(r###"r##"a"#b"## x"###, Cursor::raw_string), Ok(11));
        assert_eq!(after(r"'\'' x", Cursor::char_literal), Ok(4));
        assert_eq!(after("'γ' x", Cursor::char_literal), Ok(4));
        assert_eq!(after(r"'\u{1F600}' x", Cursor::char_literal), Ok(11));
    }

    #[test]
    fn reads_identifiers_and_numbers() {
        let mut c = Cursor::new("r#a.b-c: 1", 0);
        assert_eq!(c.identifier(), Some("a.b-c"));
        assert_eq!(after("-1.5e-3,", Cursor::number), Ok(7));
        assert_eq!(after("0x1F-2", Cursor::number), Ok(4));
        assert_eq!(after("([\")\"], {})x", Cursor::balanced), Ok(11));
    }
}
