//! The outbox of webhook deliveries: claimed by a delivery worker, each
//! attempt recorded, retried with exponential backoff, and listed as the
//! tenant's delivery log.
//!
//! A worker claims due rows with a lease: in one transaction it marks up
//! to a batch of `PENDING` rows whose next attempt is due, and that no live
//! lease holds, as its own (`lease_owner`) until `lease_until`. On
//! PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so servers
//! sharing the database claim different rows at once; on SQLite writers
//! take turns. An attempt's outcome is recorded only while the lease is
//! still the worker's, and the lease is far longer than an attempt's
//! timeout: a row is posted twice only when its worker stopped between the
//! post and the record (deliveries are at least once; receivers tell them
//! apart by `Ratedeck-Delivery`).

use std::time::Duration;

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::webhook::WebhookEvent;
use model::ApiId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::auth::Scope;
use crate::db::{Backend, Db};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};

model::wire_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Queued, or failed and waiting for its next attempt.
        Pending = "PENDING",
        /// An attempt was answered with a 2xx status.
        Delivered = "DELIVERED",
        /// Given up: no attempt succeeded within a day, or its endpoint was
        /// disabled first.
        Failed = "FAILED",
    }
}

/// The most of an answer's body a delivery keeps.
pub const ANSWER_KEPT: usize = 512;

/// When a failed delivery is tried again: after `first_retry`, doubling
/// each time up to `max_retry`, until `give_up_after` from when it was
/// queued (the last attempt is at that moment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first_retry: Duration,
    pub max_retry: Duration,
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min, … up to every 2 hours, for a day: 20 attempts.
    fn default() -> Self {
        RetryPolicy {
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(2 * 3600),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl RetryPolicy {
    /// When to try again a delivery queued at `created_at` whose
    /// `attempts`-th attempt (counting from 1) failed at `now`; `None`:
    /// give up. All times unix ms.
    pub fn next_attempt(&self, created_at: i64, attempts: i64, now: i64) -> Option<i64> {
        let deadline = created_at.saturating_add(millis(self.give_up_after));
        if now >= deadline {
            return None;
        }
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
        let delay = millis(self.first_retry)
            .saturating_mul(2_i64.saturating_pow(doublings))
            .min(millis(self.max_retry));
        Some(now.saturating_add(delay.max(1)).min(deadline))
    }
}

/// A delivery as the tenant's log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    /// The endpoint's URL now.
    pub url: String,
    pub event: WebhookEvent,
    pub event_id: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// When it is tried next (`PENDING` only).
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The HTTP status of the last answer; `None` when none came.
    pub last_status: Option<i64>,
    /// The start of the last answer's body, or why none came.
    pub last_answer: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// The body posted.
    pub payload: Value,
}

pub static DELIVERY_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "d.id", FieldKind::Id),
        FieldSpec::new("endpoint_id", "d.endpoint_id", FieldKind::Id),
        FieldSpec::new(
            "event",
            "d.event",
            FieldKind::Enum(<WebhookEvent as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("event_id", "d.event_id", FieldKind::Text),
        FieldSpec::new(
            "status",
            "d.status",
            FieldKind::Enum(<DeliveryStatus as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("attempts", "d.attempts", FieldKind::Integer),
        FieldSpec::new("last_status", "d.last_status", FieldKind::Integer),
        FieldSpec::new("created_at", "d.created_at", FieldKind::Timestamp),
        FieldSpec::new("last_attempt_at", "d.last_attempt_at", FieldKind::Timestamp),
        FieldSpec::new("next_attempt_at", "d.next_attempt_at", FieldKind::Timestamp),
    ],
    search: &["e.url", "d.event_id"],
    default_order: "d.id",
    decode_id: ApiId::decode,
};

const LOG_COLUMNS: &str =
    "d.id AS id, d.endpoint_id AS endpoint_id, e.url AS url, d.event AS event, \
    d.event_id AS event_id, d.status AS status, d.attempts AS attempts, \
    d.next_attempt_at AS next_attempt_at, d.last_attempt_at AS last_attempt_at, \
    d.last_status AS last_status, d.last_answer AS last_answer, d.created_at AS created_at, \
    d.delivered_at AS delivered_at, d.payload AS payload";

fn delivery_from_row(row: &AnyRow) -> Result<Delivery> {
    let time = |column: &str| -> Result<Option<String>> {
        Ok(row
            .try_get::<Option<i64>, _>(column)?
            .map(crate::time::rfc3339))
    };
    let status: DeliveryStatus = row
        .try_get::<String, _>("status")?
        .parse()
        .map_err(Error::internal)?;
    let payload: String = row.try_get("payload")?;
    Ok(Delivery {
        id: ApiId::encode(row.try_get("id")?),
        endpoint_id: ApiId::encode(row.try_get("endpoint_id")?),
        url: row.try_get("url")?,
        event: row
            .try_get::<String, _>("event")?
            .parse()
            .map_err(Error::internal)?,
        event_id: row.try_get("event_id")?,
        status,
        attempts: row.try_get("attempts")?,
        next_attempt_at: if status == DeliveryStatus::Pending {
            time("next_attempt_at")?
        } else {
            None
        },
        last_attempt_at: time("last_attempt_at")?,
        last_status: row.try_get("last_status")?,
        last_answer: row.try_get("last_answer")?,
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
        delivered_at: time("delivered_at")?,
        payload: serde_json::from_str(&payload).map_err(Error::internal)?,
    })
}

/// A delivery claimed by a worker: what to post, where, and signed how.
#[derive(Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: i64,
    pub tenant_id: i64,
    pub endpoint_id: i64,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub event_id: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub created_at: i64,
}

impl std::fmt::Debug for DueDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueDelivery")
            .field("id", &self.id)
            .field("endpoint_id", &self.endpoint_id)
            .field("url", &self.url)
            .field("event", &self.event)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made (unix ms).
    pub at: i64,
    /// The answer's HTTP status; `None` when none came (refused, timed out).
    pub status: Option<u16>,
    /// The start of the answer's body, or why none came.
    pub answer: String,
}

impl Attempt {
    /// A 2xx answer delivers it.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// At most [`ANSWER_KEPT`] bytes of `text`, cut at a character boundary.
fn kept(text: &str) -> &str {
    if text.len() <= ANSWER_KEPT {
        return text;
    }
    let mut end = ANSWER_KEPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Db {
    /// The tenant's delivery log (its administrators), newest first unless
    /// `query` orders it.
    pub async fn list_webhook_deliveries(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<Page<Delivery>> {
        scope.require_manager()?;
        self.page(
            Listing {
                columns: LOG_COLUMNS,
                from: "webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id",
                scope: "d.tenant_id = $1",
                scope_binds: vec![SqlValue::Int(scope.tenant_id)],
                spec: &DELIVERY_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            delivery_from_row,
        )
        .await
    }

    /// One delivery of the tenant's log.
    pub async fn get_webhook_delivery(&self, scope: &Scope, id: i64) -> Result<Delivery> {
        scope.require_manager()?;
        let sql = format!(
            "SELECT {LOG_COLUMNS} FROM webhook_deliveries d JOIN webhook_endpoints e \
             ON e.id = d.endpoint_id WHERE d.id = $1 AND d.tenant_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("webhook delivery"))?;
        delivery_from_row(&row)
    }

    /// Claims up to `limit` due deliveries for `owner` until `now + lease`
    /// (all tenants; the delivery worker's). First a read, so that a worker
    /// finding nothing due writes nothing.
    pub async fn claim_webhook_deliveries(
        &self,
        owner: &str,
        limit: i64,
        lease: Duration,
        now: i64,
    ) -> Result<Vec<DueDelivery>> {
        const DUE: &str = "status = 'PENDING' AND next_attempt_at <= $1 \
                           AND (lease_until IS NULL OR lease_until <= $1)";
        let any = sqlx::query(&format!(
            "SELECT id FROM webhook_deliveries WHERE {DUE} LIMIT 1"
        ))
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let skip_locked = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_owner = $2, lease_until = $3 WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE {DUE} ORDER BY next_attempt_at, id \
             LIMIT $4{skip_locked}) \
             RETURNING id, tenant_id, endpoint_id, event, event_id, payload, attempts, created_at"
        );
        let _turn = self.write_turn().await;
        let mut tx = self.write().await?;
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(owner)
            .bind(now.saturating_add(millis(lease)))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let endpoint_id: i64 = row.try_get("endpoint_id")?;
            let endpoint = sqlx::query("SELECT url, secret FROM webhook_endpoints WHERE id = $1")
                .bind(endpoint_id)
                .fetch_one(&mut *tx)
                .await?;
            claimed.push(DueDelivery {
                id: row.try_get("id")?,
                tenant_id: row.try_get("tenant_id")?,
                endpoint_id,
                url: endpoint.try_get("url")?,
                secret: endpoint.try_get("secret")?,
                event: row.try_get("event")?,
                event_id: row.try_get("event_id")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get("attempts")?,
                created_at: row.try_get("created_at")?,
            });
        }
        tx.commit().await?;
        claimed.sort_by_key(|d| d.id);
        Ok(claimed)
    }

    /// Records an attempt at a delivery `owner` claimed, and ends the lease:
    /// delivered, or due again by `policy`, or given up. False when the
    /// lease was no longer `owner`'s (nothing is recorded then).
    pub async fn record_webhook_attempt(
        &self,
        owner: &str,
        delivery: &DueDelivery,
        attempt: &Attempt,
        policy: &RetryPolicy,
    ) -> Result<bool> {
        let attempts = delivery.attempts.saturating_add(1);
        let (status, next, delivered_at) = if attempt.delivered() {
            (DeliveryStatus::Delivered, attempt.at, Some(attempt.at))
        } else {
            match policy.next_attempt(delivery.created_at, attempts, attempt.at) {
                Some(next) => (DeliveryStatus::Pending, next, None),
                None => (DeliveryStatus::Failed, attempt.at, None),
            }
        };
        let _turn = self.write_turn().await;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, \
             last_attempt_at = $4, last_status = $5, last_answer = $6, delivered_at = $7, \
             lease_owner = NULL, lease_until = NULL \
             WHERE id = $8 AND lease_owner = $9 AND status = 'PENDING'",
        )
        .bind(status.to_string())
        .bind(attempts)
        .bind(next)
        .bind(attempt.at)
        .bind(attempt.status.map(i64::from))
        .bind(kept(&attempt.answer))
        .bind(delivered_at)
        .bind(delivery.id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets the deliveries that are done (delivered or given up) and
    /// were queued before `before` (unix ms); answers how many.
    pub async fn prune_webhook_deliveries(&self, before: i64) -> Result<u64> {
        let _turn = self.write_turn().await;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE status <> 'PENDING' AND created_at < $1",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_the_cap_and_end_after_a_day() {
        let policy = RetryPolicy::default();
        let start = 1_000_000;
        let mut at = start;
        let mut delays = Vec::new();
        let mut attempts = 0;
        while let Some(next) = policy.next_attempt(start, attempts + 1, at) {
            attempts += 1;
            delays.push((next - at) / 1000);
            at = next;
        }
        attempts += 1;
        assert_eq!(&delays[..5], &[30, 60, 120, 240, 480]);
        assert!(delays.iter().all(|d| *d <= 7200));
        // The last attempt is a day after the delivery was queued.
        assert_eq!(at, start + 24 * 3600 * 1000);
        assert_eq!(attempts, 20);
        assert_eq!(policy.next_attempt(start, 99, at), None);
    }

    #[test]
    fn answers_are_cut_at_a_character() {
        let long = "é".repeat(400);
        let cut = kept(&long);
        assert!(cut.len() <= ANSWER_KEPT && cut.chars().all(|c| c == 'é'));
        assert_eq!(kept("ok"), "ok");
    }
}
