//! What a number's text says about its size, read from the text itself, for
//! wording the error of a number too large or too precise to be kept (`1e300`,
//! `1e-300`, a whole number beyond 64 bits). No value passes through a float.

/// A number literal (`-12.5e3`) as sign, where its leading digit stands and
/// whether it is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Magnitude {
    pub negative: bool,
    /// The power of ten of the leading nonzero digit (`1234` is 3, `0.05`
    /// is -2); `None` for zero.
    pub leading: Option<i64>,
    /// No nonzero digit after the decimal point.
    pub whole: bool,
}

impl Magnitude {
    /// Reads a decimal literal: an optional sign, digits with an optional
    /// point, an optional exponent. `None` when the text is no number.
    pub fn of(text: &str) -> Option<Magnitude> {
        let text = text.trim();
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let int_len = i64::try_from(int.len()).ok()?;
        // Digit i (from 0) stands for 10^(int_len - 1 - i + exponent).
        let power = |i: usize| -> Option<i64> {
            int_len
                .checked_sub(1)?
                .checked_sub(i64::try_from(i).ok()?)?
                .checked_add(exponent)
        };
        let first = digits.iter().position(|&d| d != b'0');
        let leading = match first {
            Some(i) => Some(power(i)?),
            None => None,
        };
        let last = digits.iter().rposition(|&d| d != b'0');
        let whole = match last {
            Some(i) => power(i)? >= 0,
            None => true,
        };
        Some(Magnitude {
            negative,
            leading,
            whole,
        })
    }

    /// At least 1 in absolute value.
    pub fn at_least_one(&self) -> bool {
        self.leading.is_some_and(|p| p >= 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sign_size_and_wholeness_from_the_text() {
        let m = |t| Magnitude::of(t).expect("a number");
        assert_eq!(m("1e300").leading, Some(300));
        assert!(m("1e300").whole && m("1e300").at_least_one());
        assert_eq!(m("1e-300").leading, Some(-300));
        assert!(!m("1e-300").whole && !m("1e-300").at_least_one());
        assert!(m("-99999999999999999999").negative && m("-99999999999999999999").whole);
        assert_eq!(m("0.05").leading, Some(-2));
        assert!(!m("1.5").whole);
        assert!(m("1.50e1").whole);
        assert_eq!(m("0").leading, None);
        assert!(m("8e26").whole && m("8e26").at_least_one());
        for bad in ["", "-", "e5", "1e", "abc", "1.2.3", "0x10", "inf", "NaN"] {
            assert_eq!(Magnitude::of(bad), None, "{bad}");
        }
    }
}
