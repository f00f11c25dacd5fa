//! What a quote request carries (`{callee, duration, at?}`), read from a
//! request body and checked here once for every surface; the quote itself
//! is [`Db::quote`](crate::Db::quote).

use model::Fields;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::quote::validate_callee;

/// A call to price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    pub callee: String,
    /// Seconds (a fraction was rounded up to the next second).
    pub duration: u64,
    /// The call's start, unix seconds (default: now).
    pub at: Option<i64>,
}

impl QuoteRequest {
    /// Reads `{callee, duration, at?}`: `duration` in seconds (0 to
    /// [`model::bounds::DURATION_MAX`], a fraction rounded up), `at` in
    /// RFC 3339; every bad or missing field is named.
    pub fn from_json(body: &Map<String, Value>) -> Result<QuoteRequest> {
        let mut f = Fields::new(body);
        let callee = f.string("callee");
        let callee = f.require("callee", callee);
        if let Some(Err(message)) = callee.as_deref().map(validate_callee) {
            f.error("callee", message);
        }
        let duration = f.seconds("duration");
        let at = match f.string("at") {
            Some(text) => match OffsetDateTime::parse(&text, &Rfc3339) {
                Ok(t) => Some(t.unix_timestamp()),
                Err(_) => {
                    f.error(
                        "at",
                        "must be an RFC 3339 time such as 2017-07-21T17:32:28Z",
                    );
                    None
                }
            },
            None => None,
        };
        f.finish().map_err(Error::Validation)?;
        let (Some(callee), Some(duration)) = (callee, duration) else {
            return Err(Error::field("callee", "is required"));
        };
        Ok(QuoteRequest {
            callee,
            duration,
            at,
        })
    }
}
