//! Webhooks: the events a tenant's endpoints take, and a change to an
//! endpoint as every surface (REST, the portal) reads it before the use
//! cases run. The browser checks a form with the same code.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fields::{FieldError, Fields, WireEnum};

/// Longest endpoint URL taken.
pub const URL_MAX: usize = 2048;
/// Longest description of an endpoint.
pub const DESCRIPTION_MAX: usize = 256;

crate::wire_enum! {
    /// What a webhook tells of.
    pub enum WebhookEvent {
        /// An account's available funds fell below its low-balance threshold.
        BalanceLow = "balance.low",
        /// A CDR was stored and rated (or found free).
        CallRated = "call.rated",
        /// A call-rate deck was imported into the default tariff.
        DeckImported = "deck.imported",
    }
}

impl WebhookEvent {
    /// What the event is, as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            WebhookEvent::BalanceLow => "Low balance",
            WebhookEvent::CallRated => "Call rated",
            WebhookEvent::DeckImported => "Deck imported",
        }
    }
}

/// A change to an endpoint; a new one needs `url` and `events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    /// Each event once, in the order of [`WebhookEvent::ALL`].
    pub events: Option<Vec<WebhookEvent>>,
    pub enabled: Option<bool>,
}

impl EndpointPatch {
    /// Reads `url`, `description`, `events` (an array of event names) and
    /// `enabled`; every problem names its field.
    pub fn from_json(body: &Map<String, Value>) -> Result<EndpointPatch, Vec<FieldError>> {
        let mut f = Fields::new(body);
        let url = f.text("url", URL_MAX).map(|u| u.trim().to_string());
        if let Some(problem) = url.as_deref().and_then(url_problem) {
            f.error("url", problem);
        }
        let description = f.text("description", DESCRIPTION_MAX);
        let events = match body.get("events") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut events = Vec::new();
                let mut bad = false;
                for item in items {
                    match item.as_str().and_then(WebhookEvent::from_wire) {
                        Some(event) => events.push(event),
                        None => bad = true,
                    }
                }
                if bad {
                    f.error(
                        "events",
                        format!(
                            "must list events among {}",
                            WebhookEvent::ALL_WIRE.join(", ")
                        ),
                    );
                    None
                } else if events.is_empty() {
                    f.error("events", "must name at least one event");
                    None
                } else {
                    Some(
                        WebhookEvent::ALL
                            .iter()
                            .copied()
                            .filter(|e| events.contains(e))
                            .collect(),
                    )
                }
            }
            Some(_) => {
                f.error("events", "must be an array of event names");
                None
            }
        };
        let enabled = f.bool("enabled");
        f.finish()?;
        Ok(EndpointPatch {
            url,
            description,
            events,
            enabled,
        })
    }

    /// The fields a new endpoint lacks.
    pub fn missing_for_new(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.url.is_none() {
            errors.push(FieldError::new("url", "is required"));
        }
        if self.events.is_none() {
            errors.push(FieldError::new("events", "is required"));
        }
        errors
    }
}

/// What is wrong with an endpoint URL: it must be `http://` or `https://`
/// with a host, without spaces, fragment or user name.
pub fn url_problem(url: &str) -> Option<&'static str> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some("must start with https:// or http://");
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must not hold spaces");
    }
    if url.contains('#') {
        return Some("must not have a fragment (#…)");
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Some("must not carry a user name or password");
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Some("must name a host");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn urls_are_http_with_a_host() {
        assert_eq!(url_problem("https://hooks.example.com/ratedeck"), None);
        assert_eq!(url_problem("http://127.0.0.1:9000/x?y=1"), None);
        assert_eq!(url_problem("http://[::1]:9000/"), None);
        assert!(url_problem("ftp://example.com").is_some());
        assert!(url_problem("https://").is_some());
        assert!(url_problem("https://:80/").is_some());
        assert!(url_problem("https://a b.example").is_some());
        assert!(url_problem("https://user:pw@example.com/").is_some());
        assert!(url_problem("https://example.com/#top").is_some());
    }

    #[test]
    fn events_are_read_once_each_in_order() {
        let patch = EndpointPatch::from_json(&object(json!({
            "url": " https://example.com/h ",
            "events": ["deck.imported", "balance.low", "deck.imported"],
        })))
        .expect("valid");
        assert_eq!(patch.url.as_deref(), Some("https://example.com/h"));
        assert_eq!(
            patch.events,
            Some(vec![WebhookEvent::BalanceLow, WebhookEvent::DeckImported])
        );
        assert!(patch.missing_for_new().is_empty());
    }

    #[test]
    fn bad_fields_are_named() {
        let errors = EndpointPatch::from_json(&object(json!({
            "url": "mailto:x", "events": ["balance.high"], "enabled": "yes"
        })))
        .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events", "enabled"]);
        let errors = EndpointPatch::from_json(&object(json!({"events": []}))).expect_err("empty");
        assert_eq!(errors[0].field, "events");
        let patch = EndpointPatch::from_json(&Map::new()).expect("empty patch");
        assert_eq!(patch.missing_for_new().len(), 2);
    }
}
