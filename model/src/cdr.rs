//! Call detail records as the PBX posts them (`POST /api/cdrs`), in the v22
//! CDR shape.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fields::{FieldError, Fields};

crate::wire_enum! {
    /// Which way a call went.
    pub enum Direction {
        Inbound = "INBOUND_CALL",
        Outbound = "OUTBOUND_CALL",
        Extension = "EXTENSION_CALL",
        InboundOutbound = "INBOUND_OUTBOUND_CALL",
    }
}

crate::wire_enum! {
    /// How a call ended.
    pub enum EndReason {
        CallerDisconnected = "CALLER_DISCONNECTED",
        CalleeDisconnected = "CALLEE_DISCONNECTED",
        BlindTransferCompleted = "BLIND_TRANSFER_COMPLETED",
        ConsultTransferCompleted = "CONSULT_TRANSFER_COMPLETED",
        Replaced = "REPLACED",
        Referred = "REFERRED",
        Redirected = "REDIRECTED",
        Cancelled = "CANCELLED",
    }
}

crate::wire_enum! {
    /// Why a call was rerouted.
    pub enum RerouteReason {
        Transfer = "TRANSFER",
        Overflow = "OVERFLOW",
    }
}

impl Direction {
    /// Calls that leave the PBX to the outside world are the ones charged.
    pub fn is_charged(self) -> bool {
        matches!(self, Direction::Outbound | Direction::InboundOutbound)
    }
}

/// Most CDRs one request may carry.
pub const MAX_BATCH: usize = 10_000;

/// What a CDR says of its call: who called whom, when, which way, how it
/// ended and over what. A posted CDR ([`NewCdr`]) holds its times as unix
/// milliseconds (`Time = i64`); a stored one, as the API shows it, as RFC 3339
/// text (`Time = String`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord<Time> {
    pub call_id: String,
    pub caller: String,
    pub caller_domain: String,
    pub caller_display_name: String,
    pub callee: String,
    pub callee_domain: String,
    pub callee_display_name: String,
    pub started_at: Time,
    pub rang_at: Option<Time>,
    pub answered_at: Option<Time>,
    pub ended_at: Option<Time>,
    pub direction: Direction,
    pub end_reason: Option<EndReason>,
    pub reroute_reason: Option<RerouteReason>,
    pub status_code: Option<i64>,
    pub destination: String,
    pub outbound_caller_id: String,
    pub did_cid: String,
    pub trunk: String,
    /// Answered (talk) seconds.
    pub duration: i64,
    pub user_data: String,
}

impl<Time> CallRecord<Time> {
    /// The number an outbound call is rated against.
    pub fn rated_number(&self) -> &str {
        rated_number(&self.callee, &self.destination)
    }
}

/// One finished call, as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCdr {
    /// The call; its times in unix milliseconds.
    #[serde(flatten)]
    pub call: CallRecord<i64>,
    /// The user name of the extension that made the call.
    pub extension: Option<String>,
}

impl NewCdr {
    /// Reads one CDR, naming each bad or missing field.
    pub fn from_json(body: &Map<String, Value>) -> Result<NewCdr, Vec<FieldError>> {
        let mut f = Fields::new(body);
        let call_id = f.text("call_id", 256);
        let call_id = f.require("call_id", call_id);
        if call_id.as_deref().is_some_and(|c| c.trim().is_empty()) {
            f.error("call_id", "must not be empty");
        }
        let started_at = f.timestamp("started_at");
        let started_at = f.require("started_at", started_at);
        let direction = f.enumeration("direction");
        let direction = f.require("direction", direction);
        let duration = f.int("duration", 0, crate::bounds::DURATION_MAX);
        let duration = f.require("duration", duration);
        let text = |f: &mut Fields, name: &str, max: usize| f.text(name, max).unwrap_or_default();
        let caller = text(&mut f, "caller", 256);
        let caller_domain = text(&mut f, "caller_domain", 1024);
        let caller_display_name = text(&mut f, "caller_display_name", 1024);
        let callee = text(&mut f, "callee", 256);
        let callee_domain = text(&mut f, "callee_domain", 1024);
        let callee_display_name = text(&mut f, "callee_display_name", 1024);
        let destination = text(&mut f, "destination", 256);
        let outbound_caller_id = text(&mut f, "outbound_caller_id", 64);
        let did_cid = text(&mut f, "did_cid", 256);
        let trunk = text(&mut f, "trunk", 256);
        let user_data = text(&mut f, "user_data", 4096);
        let call = CallRecord {
            call_id: call_id.unwrap_or_default(),
            caller,
            caller_domain,
            caller_display_name,
            callee,
            callee_domain,
            callee_display_name,
            started_at: started_at.unwrap_or_default(),
            rang_at: f.timestamp("rang_at"),
            answered_at: f.timestamp("answered_at"),
            ended_at: f.timestamp("ended_at"),
            direction: direction.unwrap_or(Direction::Extension),
            end_reason: f.enumeration("end_reason"),
            reroute_reason: f.enumeration("reroute_reason"),
            status_code: f.int("status_code", 0, 999),
            destination,
            outbound_caller_id,
            did_cid,
            trunk,
            duration: duration.unwrap_or_default(),
            user_data,
        };
        let cdr = NewCdr {
            call,
            extension: f.text("extension", 64),
        };
        if cdr.call.direction.is_charged()
            && cdr.call.callee.trim().is_empty()
            && cdr.call.destination.trim().is_empty()
        {
            f.error("callee", "is required for an outbound call");
        }
        f.finish().map(|()| cdr)
    }

    /// The number an outbound call is rated against.
    pub fn rated_number(&self) -> &str {
        self.call.rated_number()
    }
}

/// The number a call to `callee` (else, when that is blank, to
/// `destination`) is rated against, trimmed.
pub fn rated_number<'a>(callee: &'a str, destination: &'a str) -> &'a str {
    if callee.trim().is_empty() {
        destination.trim()
    } else {
        callee.trim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_pbx_cdr() {
        let body = json!({
            "call_id": "abc-1", "caller": "101", "callee": "+4420123", "direction": "OUTBOUND_CALL",
            "started_at": "2024-05-01T10:00:00Z", "answered_at": "2024-05-01T10:00:05Z",
            "ended_at": "2024-05-01T10:01:15Z", "duration": 70, "status_code": 200,
            "end_reason": "CALLER_DISCONNECTED", "trunk": "carrier-a"
        });
        let cdr = NewCdr::from_json(body.as_object().expect("object")).expect("valid");
        assert_eq!(cdr.call.started_at, 1_714_557_600_000);
        assert_eq!(cdr.call.direction, Direction::Outbound);
        assert_eq!(cdr.rated_number(), "+4420123");
        assert_eq!(cdr.call.end_reason, Some(EndReason::CallerDisconnected));
    }

    #[test]
    fn a_duration_beyond_thirty_days_is_refused() {
        let mut body = json!({
            "call_id": "abc-1", "callee": "+4420123", "direction": "OUTBOUND_CALL",
            "started_at": "2024-05-01T10:00:00Z", "duration": 2_592_000
        });
        assert!(NewCdr::from_json(body.as_object().expect("object")).is_ok());
        for huge in [json!(2_592_001), json!(8e26), json!(u64::MAX)] {
            body["duration"] = huge;
            let errors = NewCdr::from_json(body.as_object().expect("object")).expect_err("invalid");
            assert_eq!(
                errors,
                [FieldError::new("duration", "must be at most 2592000")]
            );
        }
    }

    #[test]
    fn names_every_bad_field() {
        let body = json!({"direction": "SIDEWAYS", "started_at": "yesterday", "duration": -1});
        let errors = NewCdr::from_json(body.as_object().expect("object")).expect_err("invalid");
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["call_id", "direction", "duration", "started_at"]);
    }
}
