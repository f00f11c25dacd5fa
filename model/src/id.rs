//! Opaque API ids.
//!
//! The v22 API shows ids such as `NzAwNTUxOTA5NzczMTQ4MTYw`: the base64 of the
//! decimal text of a 64-bit id (`700551909773148160`). Inside, ids are `i64`.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;

/// Encoding and decoding of the opaque ids on the wire.
pub struct ApiId;

impl ApiId {
    /// The wire form of an internal id.
    pub fn encode(id: i64) -> String {
        STANDARD.encode(id.to_string())
    }

    /// The internal id of a wire id; `None` for anything that is not one.
    /// Padding is optional, as clients often strip it.
    pub fn decode(text: &str) -> Option<i64> {
        let text = text.trim();
        if text.is_empty() || text.len() > 32 {
            return None;
        }
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD.decode(text.trim_end_matches('=')))
            .ok()?;
        let digits = std::str::from_utf8(&bytes).ok()?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id: i64 = digits.parse().ok()?;
        (id > 0).then_some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_documented_example() {
        assert_eq!(
            ApiId::encode(700551909773148160),
            "NzAwNTUxOTA5NzczMTQ4MTYw"
        );
        assert_eq!(
            ApiId::decode("NzAwNTUxOTA5NzczMTQ4MTYw"),
            Some(700551909773148160)
        );
    }

    #[test]
    fn round_trips_small_ids_with_or_without_padding() {
        for id in [1, 42, 123, 9_999_999, i64::MAX] {
            let wire = ApiId::encode(id);
            assert_eq!(ApiId::decode(&wire), Some(id));
            assert_eq!(ApiId::decode(wire.trim_end_matches('=')), Some(id));
        }
    }

    #[test]
    fn refuses_what_is_not_an_id() {
        for bad in [
            "",
            "x",
            "!!!!",
            "YWJj",
            "MA==",
            "LTE=",
            "OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
        ] {
            assert_eq!(ApiId::decode(bad), None, "{bad}");
        }
    }
}
