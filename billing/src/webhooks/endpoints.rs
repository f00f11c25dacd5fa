//! A tenant's webhook endpoints: where its events are posted, which events
//! each takes, and the secret its deliveries are signed with. Only the
//! tenant's administrators (or a system administrator naming the tenant)
//! see and change them; the secret is theirs to read, and to replace.

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::webhook::{EndpointPatch, WebhookEvent};
use model::{ApiId, WireEnum};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Entity};
use crate::auth::Scope;
use crate::db::{now_ms, Db, Tx};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};

/// Endpoints a tenant may have: each event is posted to every one of them.
pub const ENDPOINTS_MAX: i64 = 20;

/// An endpoint as its tenant's administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEvent>,
    pub enabled: bool,
    /// The key of the deliveries' signature.
    pub secret: String,
    pub created_at: String,
    pub updated_at: String,
}

pub static ENDPOINT_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("url", "url", FieldKind::Text),
        FieldSpec::new("description", "description", FieldKind::Text),
        FieldSpec::new("enabled", "enabled", FieldKind::Bool),
        FieldSpec::new("created_at", "created_at", FieldKind::Timestamp),
        FieldSpec::new("updated_at", "updated_at", FieldKind::Timestamp),
    ],
    search: &["url", "description"],
    default_order: "id",
    decode_id: ApiId::decode,
};

/// (Booleans are read as 0 or 1, which both backends answer alike.)
const COLUMNS: &str =
    "id, url, description, secret, CASE WHEN enabled THEN 1 ELSE 0 END AS enabled, \
     created_at, updated_at";

/// A new signing secret: `whsec_` and 32 random bytes in hex.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// Checks an URL the way a delivery will read it.
fn checked_url(url: &str) -> Result<String> {
    if let Some(problem) = model::webhook::url_problem(url) {
        return Err(Error::field("url", problem));
    }
    let parsed =
        url::Url::parse(url).map_err(|e| Error::field("url", format!("is not a URL ({e})")))?;
    if parsed.host().is_none() {
        return Err(Error::field("url", "must name a host"));
    }
    Ok(parsed.to_string())
}

fn endpoint_from_row(row: &AnyRow, events: Vec<WebhookEvent>) -> Result<Endpoint> {
    Ok(Endpoint {
        id: ApiId::encode(row.try_get("id")?),
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        events,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        secret: row.try_get("secret")?,
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
        updated_at: crate::time::rfc3339(row.try_get("updated_at")?),
    })
}

/// What the audit log keeps of an endpoint: everything but its secret.
fn audited(endpoint: &Endpoint) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("url".into(), json!(endpoint.url));
    fields.insert("description".into(), json!(endpoint.description));
    fields.insert("events".into(), json!(endpoint.events));
    fields.insert("enabled".into(), json!(endpoint.enabled));
    fields
}

/// The events each of `ids` takes, in the order of [`WebhookEvent::ALL`].
async fn events_of<'e, E>(executor: E, ids: &[i64]) -> Result<Vec<(i64, Vec<WebhookEvent>)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT endpoint_id, event FROM webhook_subscriptions WHERE endpoint_id IN ({list})"
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(executor).await?;
    let mut out: Vec<(i64, Vec<WebhookEvent>)> = ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in &rows {
        let id: i64 = row.try_get("endpoint_id")?;
        let event: String = row.try_get("event")?;
        let Some(event) = WebhookEvent::from_wire(&event) else {
            continue;
        };
        if let Some((_, events)) = out.iter_mut().find(|(e, _)| *e == id) {
            events.push(event);
        }
    }
    for (_, events) in &mut out {
        events.sort_by_key(|e| WebhookEvent::ALL.iter().position(|a| a == e));
    }
    Ok(out)
}

/// Replaces the events an endpoint takes, inside `tx`.
async fn set_events(
    tx: &mut Tx,
    tenant_id: i64,
    endpoint_id: i64,
    events: &[WebhookEvent],
) -> Result<()> {
    sqlx::query("DELETE FROM webhook_subscriptions WHERE endpoint_id = $1")
        .bind(endpoint_id)
        .execute(&mut **tx)
        .await?;
    for event in events {
        sqlx::query(
            "INSERT INTO webhook_subscriptions (endpoint_id, tenant_id, event) VALUES ($1, $2, $3)",
        )
        .bind(endpoint_id)
        .bind(tenant_id)
        .bind(event.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Db {
    /// The tenant's endpoints (its administrators), filtered and paged.
    pub async fn list_webhook_endpoints(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<Page<Endpoint>> {
        scope.require_manager()?;
        let rows = self
            .page(
                Listing {
                    columns: COLUMNS,
                    from: "webhook_endpoints",
                    scope: "tenant_id = $1",
                    scope_binds: vec![SqlValue::Int(scope.tenant_id)],
                    spec: &ENDPOINT_SPEC,
                    sqlite_search: None,
                    version: None,
                },
                query,
                |row| {
                    Ok((
                        row.try_get::<i64, _>("id")?,
                        endpoint_from_row(row, Vec::new())?,
                    ))
                },
            )
            .await?;
        let ids: Vec<i64> = rows.items.iter().map(|(id, _)| *id).collect();
        let mut events = events_of(self.pool(), &ids).await?.into_iter();
        Ok(rows.map(|(_, mut endpoint)| {
            if let Some((_, list)) = events.next() {
                endpoint.events = list;
            }
            endpoint
        }))
    }

    /// One endpoint of the tenant (its administrators).
    pub async fn get_webhook_endpoint(&self, scope: &Scope, id: i64) -> Result<Endpoint> {
        scope.require_manager()?;
        let sql =
            format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("webhook endpoint"))?;
        let events = events_of(self.pool(), &[id])
            .await?
            .pop()
            .map(|(_, e)| e)
            .unwrap_or_default();
        endpoint_from_row(&row, events)
    }

    /// Registers an endpoint (`url` and `events` required; enabled unless
    /// the patch says not) with a new secret.
    pub async fn create_webhook_endpoint(
        &self,
        scope: &Scope,
        patch: EndpointPatch,
    ) -> Result<Endpoint> {
        scope.require_manager()?;
        let missing = patch.missing_for_new();
        let (Some(url), Some(events)) = (patch.url, patch.events) else {
            return Err(Error::Validation(missing));
        };
        let url = checked_url(&url)?;
        let now = now_ms();
        let mut tx = self.write().await?;
        let count: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE tenant_id = $1")
                .bind(scope.tenant_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if count >= ENDPOINTS_MAX {
            return Err(Error::Conflict {
                code: "TOO_MANY_ENDPOINTS",
                message: format!("a tenant has at most {ENDPOINTS_MAX} webhook endpoints"),
            });
        }
        let id: i64 = sqlx::query(
            "INSERT INTO webhook_endpoints (tenant_id, url, description, secret, enabled, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(scope.tenant_id)
        .bind(&url)
        .bind(patch.description.unwrap_or_default())
        .bind(new_secret())
        .bind(patch.enabled.unwrap_or(true))
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        set_events(&mut tx, scope.tenant_id, id, &events).await?;
        let created = self.endpoint_in(&mut tx, scope, id).await?;
        audit::append(
            &mut tx,
            scope
                .change(Action::Create, Entity::WebhookEndpoint, id)
                .with(audit::created(audited(&created))),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Changes an endpoint's URL, description, events or whether it is
    /// enabled (a disabled endpoint is queued nothing, and what was queued
    /// for it is not sent: given up at once).
    pub async fn update_webhook_endpoint(
        &self,
        scope: &Scope,
        id: i64,
        patch: EndpointPatch,
    ) -> Result<Endpoint> {
        scope.require_manager()?;
        let url = patch.url.as_deref().map(checked_url).transpose()?;
        let mut tx = self.write().await?;
        let before = self.endpoint_in(&mut tx, scope, id).await?;
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, enabled = $3, updated_at = $4 \
             WHERE id = $5 AND tenant_id = $6",
        )
        .bind(url.unwrap_or_else(|| before.url.clone()))
        .bind(patch.description.unwrap_or_else(|| before.description.clone()))
        .bind(patch.enabled.unwrap_or(before.enabled))
        .bind(now_ms())
        .bind(id)
        .bind(scope.tenant_id)
        .execute(&mut *tx)
        .await?;
        if let Some(events) = &patch.events {
            set_events(&mut tx, scope.tenant_id, id, events).await?;
        }
        let after = self.endpoint_in(&mut tx, scope, id).await?;
        if before.enabled && !after.enabled {
            // What was queued for it is not sent.
            sqlx::query(
                "UPDATE webhook_deliveries SET status = 'FAILED', lease_owner = NULL, \
                 lease_until = NULL, last_answer = $1 WHERE endpoint_id = $2 AND status = 'PENDING'",
            )
            .bind("not sent: the endpoint was disabled")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        audit::append_if_changed(
            &mut tx,
            scope
                .change(Action::Update, Entity::WebhookEndpoint, id)
                .with(audit::diff(&audited(&before), &audited(&after))),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Replaces an endpoint's secret: deliveries from now on are signed with
    /// the new one.
    pub async fn rotate_webhook_secret(&self, scope: &Scope, id: i64) -> Result<Endpoint> {
        scope.require_manager()?;
        let mut tx = self.write().await?;
        self.endpoint_in(&mut tx, scope, id).await?;
        sqlx::query(
            "UPDATE webhook_endpoints SET secret = $1, updated_at = $2 WHERE id = $3 AND tenant_id = $4",
        )
        .bind(new_secret())
        .bind(now_ms())
        .bind(id)
        .bind(scope.tenant_id)
        .execute(&mut *tx)
        .await?;
        let mut changes = Map::new();
        // That it changed, never what it is.
        changes.insert(
            "secret".into(),
            json!({"before": "(replaced)", "after": "(new)"}),
        );
        audit::append(
            &mut tx,
            scope
                .change(Action::Update, Entity::WebhookEndpoint, id)
                .with(changes),
        )
        .await?;
        let after = self.endpoint_in(&mut tx, scope, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes an endpoint, with its deliveries (queued or done).
    pub async fn delete_webhook_endpoint(&self, scope: &Scope, id: i64) -> Result<()> {
        scope.require_manager()?;
        let mut tx = self.write().await?;
        let before = self.endpoint_in(&mut tx, scope, id).await?;
        for table in ["webhook_deliveries", "webhook_subscriptions"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE endpoint_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(scope.tenant_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            scope
                .change(Action::Delete, Entity::WebhookEndpoint, id)
                .with(audit::deleted(audited(&before))),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One endpoint of the scope's tenant, read inside `tx`.
    async fn endpoint_in(&self, tx: &mut Tx, scope: &Scope, id: i64) -> Result<Endpoint> {
        let sql =
            format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(scope.tenant_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(Error::NotFound("webhook endpoint"))?;
        let events = events_of(&mut **tx, &[id])
            .await?
            .pop()
            .map(|(_, e)| e)
            .unwrap_or_default();
        endpoint_from_row(&row, events)
    }
}
