//! Dotted field paths such as `ppo.learning_rate` or `layers[2].units`.

/// One step of a field path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    /// A struct field or map key.
    Name(&'a str),
    /// A list or tuple element.
    Index(usize),
}

/// `parent.child`, or `parent[i]` when `child` is already an index step.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else if child.is_empty() {
        parent.to_owned()
    } else if child.starts_with('[') {
        format!("{parent}{child}")
    } else {
        format!("{parent}.{child}")
    }
}

/// `parent[i]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// The last step of `path` used as a short name in messages: `gamma` for
/// `ppo.gamma`, the whole path for list elements like `layers[2]`.
pub(crate) fn short_name(path: &str) -> &str {
    if path.ends_with(']') {
        return path;
    }
    path.rsplit('.').next().unwrap_or(path)
}

/// Parses a user-written path (from `--set`), rejecting empty steps.
pub(crate) fn parse(path: &str) -> Result<Vec<Segment<'_>>, String> {
    if path.is_empty() {
        return Err("empty field path".to_owned());
    }
    let invalid = || format!("invalid field path `{path}`");
    let mut segments = Vec::new();
    let mut rest = path;
    let mut expect_name = true;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or_else(invalid)?;
            let i = after[..close].parse().map_err(|_| invalid())?;
            segments.push(Segment::Index(i));
            rest = &after[close + 1..];
            expect_name = false;
        } else if let Some(after) = rest.strip_prefix('.') {
            if expect_name {
                return Err(invalid());
            }
            rest = after;
            expect_name = true;
            if rest.is_empty() {
                return Err(invalid());
            }
        } else {
            if !expect_name {
                return Err(invalid());
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let name = &rest[..end];
            if name.contains([']', '=']) || name.chars().any(char::is_whitespace) {
                return Err(invalid());
            }
            segments.push(Segment::Name(name));
            rest = &rest[end..];
            expect_name = false;
        }
    }
    match segments.first() {
        Some(Segment::Name(_)) => Ok(segments),
        _ => Err(invalid()),
    }
}

/// Renders segments back into the canonical path form.
pub(crate) fn render(segments: &[Segment<'_>]) -> String {
    segments.iter().fold(String::new(), |acc, s| match s {
        Segment::Name(name) => join(&acc, name),
        Segment::Index(i) => index(&acc, *i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let segments = parse("a.b[2][3].c").unwrap();
        assert_eq!(
            segments,
            [
                Segment::Name("a"),
                Segment::Name("b"),
                Segment::Index(2),
                Segment::Index(3),
                Segment::Name("c")
            ]
        );
        assert_eq!(render(&segments), "a.b[2][3].c");
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["", ".a", "a.", "a..b", "[0]", "a[x]", "a[1", "a b", "a]b"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(short_name("ppo.gamma"), "gamma");
        assert_eq!(short_name("gamma"), "gamma");
        assert_eq!(short_name("layers[2]"), "layers[2]");
    }
}
