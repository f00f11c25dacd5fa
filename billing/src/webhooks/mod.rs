//! Webhooks: a tenant's endpoints, the events they take, and the outbox of
//! deliveries.
//!
//! A tenant's administrators register endpoint URLs ([`endpoints`]) for
//! the events `balance.low`, `call.rated` and `deck.imported`. The use case
//! an event tells of queues one delivery per enabled endpoint that takes
//! it, as rows of `webhook_deliveries` written inside its own transaction
//! ([`enqueue`]): a change that rolls back queues nothing, a committed one
//! always has its deliveries, and a restart loses none. Nothing is posted on
//! the change's path. A delivery worker (the server's) claims due rows by
//! a lease, posts them and records each attempt ([`outbox`]): a failed one
//! is tried again with exponential backoff until a day after it was queued,
//! then marked `FAILED`.
//!
//! Every delivery is a JSON object `{"id", "type", "created_at",
//! "tenant_id", "data"}` (`id` the event's, the same for every endpoint),
//! POSTed with `Content-Type: application/json`, `Ratedeck-Event`,
//! `Ratedeck-Delivery` (the delivery's id: the same on every attempt) and
//! `Ratedeck-Signature: t=<unix seconds>,v1=<hex>`, where `v1` is the
//! HMAC-SHA256, keyed by the endpoint's secret (its text as shown, as
//! bytes), of `<t>.<body>`: the attempt's time, a full stop, and the body's
//! exact bytes ([`signature`]). A receiver recomputes it, compares in
//! constant time, and refuses a `t` too far from its clock (replays).

mod endpoints;
mod outbox;

use hmac::{Hmac, Mac};
use model::webhook::WebhookEvent;
use model::ApiId;
use rand::RngCore;
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::Row;

use crate::db::{Backend, Tx};
use crate::error::Result;
use crate::sql::Insert;

pub use endpoints::{Endpoint, ENDPOINTS_MAX, ENDPOINT_SPEC};
pub use outbox::{
    Attempt, Delivery, DeliveryStatus, DueDelivery, RetryPolicy, ANSWER_KEPT, DELIVERY_SPEC,
};

/// The name of the signature header.
pub const SIGNATURE_HEADER: &str = "Ratedeck-Signature";

/// `v1` of a delivery's signature: the hex HMAC-SHA256 of `<t>.<body>`
/// keyed by the endpoint's secret.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Ratedeck-Signature` header of a delivery posted at `timestamp`
/// (unix seconds).
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

/// One event to deliver: its id and its JSON body.
pub(crate) struct Event {
    pub tenant_id: i64,
    pub event: WebhookEvent,
    pub id: String,
    pub payload: String,
}

impl Event {
    /// The event `event` of a tenant at `at` (unix ms), `data` its details.
    pub fn new(event: WebhookEvent, tenant_id: i64, at: i64, data: Value) -> Event {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        let id = format!("evt_{}", hex::encode(bytes));
        let payload = json!({
            "id": id,
            "type": event.to_string(),
            "created_at": crate::time::rfc3339(at),
            "tenant_id": ApiId::encode(tenant_id),
            "data": data,
        })
        .to_string();
        Event {
            tenant_id,
            event,
            id,
            payload,
        }
    }
}

/// The enabled endpoints of a tenant that take `event`, inside `tx`: one
/// indexed read, whatever the tenant's traffic.
pub(crate) async fn subscribers(
    tx: &mut Tx,
    tenant_id: i64,
    event: WebhookEvent,
) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT s.endpoint_id AS endpoint_id FROM webhook_subscriptions s \
         JOIN webhook_endpoints e ON e.id = s.endpoint_id \
         WHERE s.tenant_id = $1 AND s.event = $2 AND e.enabled ORDER BY s.endpoint_id",
    )
    .bind(tenant_id)
    .bind(event.to_string())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| r.try_get("endpoint_id").map_err(Into::into))
        .collect()
}

/// A delivery's row, as queued.
const DELIVERY: Insert = Insert {
    table: "webhook_deliveries",
    columns: &[
        "tenant_id",
        "endpoint_id",
        "event",
        "event_id",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ],
};

/// Queues every event for every endpoint of `endpoints`, inside `tx`: due
/// at once, many rows per statement.
pub(crate) async fn enqueue(
    tx: &mut Tx,
    backend: Backend,
    endpoints: &[i64],
    events: &[Event],
) -> Result<()> {
    if endpoints.is_empty() || events.is_empty() {
        return Ok(());
    }
    let now = crate::db::now_ms();
    let rows: Vec<(i64, &Event)> = endpoints
        .iter()
        .flat_map(|endpoint| events.iter().map(move |event| (*endpoint, event)))
        .collect();
    for chunk in DELIVERY.chunks(&rows) {
        let sql = DELIVERY.sql(backend, chunk.len(), "");
        let mut query = DELIVERY.binds(&sql, chunk.len());
        for (endpoint, event) in chunk {
            query = query
                .bind(event.tenant_id)
                .bind(*endpoint)
                .bind(event.event.to_string())
                .bind(event.id.as_str())
                .bind(event.payload.as_str())
                .bind(DeliveryStatus::Pending.to_string())
                .bind(0_i64)
                .bind(now)
                .bind(now);
        }
        query.query()?.execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_time_and_the_body() {
        // The primitive: RFC 4231, test case 2.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // What it signs: the time, a full stop, the body.
        let expected = {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_1").expect("key");
            mac.update(b"1700000000.{\"a\":1}");
            hex::encode(mac.finalize().into_bytes())
        };
        assert_eq!(signature("whsec_1", 1_700_000_000, b"{\"a\":1}"), expected);
        assert_eq!(
            signature_header("whsec_1", 1_700_000_000, b"{\"a\":1}"),
            format!("t=1700000000,v1={expected}")
        );
        assert_ne!(signature("whsec_2", 1_700_000_000, b"{\"a\":1}"), expected);
        assert_ne!(signature("whsec_1", 1_700_000_001, b"{\"a\":1}"), expected);
    }

    #[test]
    fn an_event_carries_its_type_tenant_and_data() {
        let event = Event::new(
            WebhookEvent::DeckImported,
            7,
            1_700_000_000_000,
            json!({"added": 2}),
        );
        let body: Value = serde_json::from_str(&event.payload).expect("json");
        assert_eq!(body["type"], "deck.imported");
        assert_eq!(body["id"], event.id.as_str());
        assert_eq!(body["tenant_id"], ApiId::encode(7).as_str());
        assert_eq!(body["created_at"], "2023-11-14T22:13:20Z");
        assert_eq!(body["data"]["added"], 2);
        assert!(event.id.starts_with("evt_") && event.id.len() == 36);
    }
}
