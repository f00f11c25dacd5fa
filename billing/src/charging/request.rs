//! What the charging requests carry, read from a request body and checked
//! here once for every surface: an authorisation (`call_id`, `caller`,
//! `callee`, `extension`), an update (`used_seconds`) and a termination
//! (`duration`, bounded by [`model::bounds::DURATION_MAX`]).

use model::{FieldError, Fields};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::quote::validate_callee;

/// What an authorisation asks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    /// The user name of the extension that makes the call (default: `caller`).
    pub extension: Option<String>,
}

impl Authorization {
    /// Reads `{call_id, caller, callee, extension?}`, naming each bad or
    /// missing field; the request is then checked as [`Authorization::validate`] does.
    pub fn from_json(body: &Map<String, Value>) -> Result<Authorization> {
        let mut f = Fields::new(body);
        let call_id = f.text("call_id", 256);
        let call_id = f.require("call_id", call_id);
        let caller = f.text("caller", 256);
        let caller = f.require("caller", caller);
        let callee = f.text("callee", 256);
        let callee = f.require("callee", callee);
        let extension = f.text("extension", 64);
        f.finish().map_err(Error::Validation)?;
        let (Some(call_id), Some(caller), Some(callee)) = (call_id, caller, callee) else {
            return Err(Error::field("call_id", "is required"));
        };
        Ok(Authorization {
            call_id,
            caller,
            callee,
            extension,
        })
    }

    /// The rules every authorisation meets, whoever asks: a call id of 1 to
    /// 256 characters, a callee to rate, a caller of at most 256 characters.
    pub fn validate(&self) -> Result<()> {
        let call_id = self.call_id.trim();
        let mut errors = Vec::new();
        if call_id.is_empty() || call_id.chars().count() > 256 {
            errors.push(FieldError::new("call_id", "must be 1 to 256 characters"));
        }
        if let Err(message) = validate_callee(self.callee.trim()) {
            errors.push(FieldError::new("callee", message));
        }
        if self.caller.chars().count() > 256 {
            errors.push(FieldError::new("caller", "must be at most 256 characters"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }
}

/// Reads the seconds of a charging request (`used_seconds` of an update,
/// `duration` of a termination): required, 0 to
/// [`model::bounds::DURATION_MAX`], a fraction rounded up.
pub fn seconds_from_json(body: &Map<String, Value>, field: &str) -> Result<u64> {
    let mut f = Fields::new(body);
    let seconds = f.seconds(field);
    f.finish().map_err(Error::Validation)?;
    seconds.ok_or_else(|| Error::field(field, "is required"))
}

/// The rule [`seconds_from_json`] reads with, for a caller that has the
/// seconds already: at most [`model::bounds::DURATION_MAX`].
pub(super) fn check_seconds(field: &str, seconds: u64) -> Result<()> {
    let max = model::bounds::DURATION_MAX;
    if seconds > max.unsigned_abs() {
        return Err(Error::field(field, format!("must be at most {max}")));
    }
    Ok(())
}
