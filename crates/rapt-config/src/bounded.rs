//! Numbers typed on a command line (or anywhere outside a config file), parsed and
//! bounded: every count a user types has a documented range, so a typo is a clear error
//! rather than an allocation that aborts. The `rapt` CLI's value parsers.

/// A count typed on the command line, between `MIN` and `MAX` (a documented bound, so
/// that a typo is an error rather than an allocation that aborts).
pub fn count<const MIN: u64, const MAX: u64, T: TryFrom<u64>>(text: &str) -> Result<T, String> {
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if !(MIN..=MAX).contains(&n) {
        return Err(format!("{n} is out of range, expected {MIN} to {MAX}"));
    }
    T::try_from(n).map_err(|_| format!("{n} is too large"))
}

/// A fraction in [0, 1].
pub fn fraction(text: &str) -> Result<f64, String> {
    let p: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is out of range, expected 0 to 1"))
    }
}

/// A duration in seconds: finite, more than 0 and at most a day.
pub fn seconds(text: &str) -> Result<f64, String> {
    let s: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if s.is_finite() && s > 0.0 && s <= 86_400.0 {
        Ok(s)
    } else {
        Err(format!(
            "{s} is out of range, expected more than 0 and at most 86400 s"
        ))
    }
}

/// `WxH` in px, each 100 to 4096.
pub fn dimensions(text: &str) -> Result<(u32, u32), String> {
    let parse = |s: &str| -> Result<u32, String> { count::<100, 4096, u32>(s) };
    match text.split_once(['x', 'X']) {
        Some((w, h)) => Ok((parse(w)?, parse(h)?)),
        None => Err(format!("`{text}`: expected WIDTHxHEIGHT, e.g. 720x420")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_numbers_are_bounded_with_clear_errors() {
        assert_eq!(count::<1, 10, usize>(" 7 "), Ok(7));
        assert!(
            count::<1, 10, usize>("0")
                .unwrap_err()
                .contains("expected 1 to 10")
        );
        assert!(
            count::<1, 10, usize>("x")
                .unwrap_err()
                .contains("not a whole number")
        );
        assert_eq!(fraction("0.25"), Ok(0.25));
        assert!(fraction("NaN").is_err() && fraction("1.5").is_err());
        assert!(seconds("0").is_err() && seconds("inf").is_err());
        assert_eq!(dimensions("720x420"), Ok((720, 420)));
        assert!(dimensions("720").unwrap_err().contains("WIDTHxHEIGHT"));
    }
}
