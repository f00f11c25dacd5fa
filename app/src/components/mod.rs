//! Pieces shared by pages.

pub mod banner;
pub mod chart;
pub mod form;
pub mod layout;
pub mod list_page;
pub mod tenant;
pub mod upload;

use leptos::prelude::ServerFnError;

/// A server function's error as a person reads it.
pub fn error_text(e: &ServerFnError) -> String {
    if let Some(fields) = crate::functions::invalid_fields(e) {
        return fields
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = e.to_string();
    text.trim_start_matches("error running server function: ")
        .to_string()
}

/// A count with its thousands grouped: `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
    }
}
