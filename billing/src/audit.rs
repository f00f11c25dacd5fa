//! The audit log: who changed what, when, through which surface and from
//! which address.
//!
//! Every use case that changes something appends its entry with [`append`]
//! inside the transaction of the change, so a change that rolls back leaves
//! no entry and a committed change always has one. The log is append-only:
//! nothing here updates or deletes an entry, and the database refuses it.
//! Secrets never reach it: a user's entry holds no password or hash, a
//! token's entry no token, a failed login's entry only the name tried.

use std::net::IpAddr;

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::user::Role;
use model::ApiId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::auth::{Caller, Scope};
use crate::db::{now_ms, Db, Tx};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};

model::wire_enum! {
    /// The way a request came in.
    pub enum Surface {
        /// The REST API under `/api`.
        Rest = "REST",
        /// The older tariff API (`/api/tariff/*`, `/api/account/credentials/verify`).
        TariffApi = "TARIFF_API",
        /// XML-RPC at `/xmlapi`.
        Xmlrpc = "XMLRPC",
        /// The web portal.
        Portal = "PORTAL",
    }
}

model::wire_enum! {
    /// What was done.
    pub enum Action {
        Create = "CREATE",
        Update = "UPDATE",
        Delete = "DELETE",
        /// A call-rate import: one entry with the counts.
        Import = "IMPORT",
        /// Money added to an account.
        Recharge = "RECHARGE",
        /// CDRs rated again: one entry with the counts.
        Rerate = "RERATE",
        /// A login with a wrong name, password or domain.
        LoginFailed = "LOGIN_FAILED",
    }
}

model::wire_enum! {
    /// What it was done to.
    pub enum Entity {
        CallRate = "CALL_RATE",
        Tariff = "TARIFF",
        BillingPlan = "BILLING_PLAN",
        /// A tenant's billing settings (the entity id is the tenant's).
        BillingSettings = "BILLING_SETTINGS",
        /// A tenant's statement settings: cycle and tax (the tenant's id).
        StatementSettings = "STATEMENT_SETTINGS",
        /// A tenant's own account: balance and credit limit (the tenant's id).
        TenantAccount = "TENANT_ACCOUNT",
        /// A user's account: balance and credit limit (the user's id).
        UserAccount = "USER_ACCOUNT",
        Tenant = "TENANT",
        User = "USER",
        ApiToken = "API_TOKEN",
        /// A login attempt (no entity id).
        Login = "LOGIN",
        /// Stored CDRs (a re-rating; no entity id).
        Cdrs = "CDRS",
        /// A webhook endpoint of the tenant.
        WebhookEndpoint = "WEBHOOK_ENDPOINT",
    }
}

/// Where one request came from: set once per request by the surface that
/// authenticated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub surface: Surface,
    /// The client's address, when the server knows it.
    pub client: Option<IpAddr>,
}

impl Origin {
    pub fn new(surface: Surface, client: Option<IpAddr>) -> Origin {
        Origin { surface, client }
    }
}

/// One change to append: who (the caller and its origin), what, and the
/// fields before and after.
#[derive(Debug, Clone)]
pub(crate) struct Change<'a> {
    pub caller: &'a Caller,
    /// The tenant the change belongs to (`None`: system-wide).
    pub tenant_id: Option<i64>,
    pub action: Action,
    pub entity: Entity,
    pub entity_id: Option<i64>,
    /// `{"field": {"before": …, "after": …}}`, see [`diff`].
    pub changes: Map<String, Value>,
}

impl<'a> Change<'a> {
    pub fn new(
        caller: &'a Caller,
        tenant_id: Option<i64>,
        action: Action,
        entity: Entity,
        entity_id: Option<i64>,
    ) -> Change<'a> {
        Change {
            caller,
            tenant_id,
            action,
            entity,
            entity_id,
            changes: Map::new(),
        }
    }

    pub fn with(mut self, changes: Map<String, Value>) -> Change<'a> {
        self.changes = changes;
        self
    }
}

impl Scope {
    /// The change the scope's caller makes to `entity` (by id, or `None`)
    /// of the scope's tenant; its fields are added with [`Change::with`].
    pub(crate) fn change(
        &self,
        action: Action,
        entity: Entity,
        entity_id: impl Into<Option<i64>>,
    ) -> Change<'_> {
        Change::new(
            &self.caller,
            Some(self.tenant_id),
            action,
            entity,
            entity_id.into(),
        )
    }
}

const INSERT: &str = "INSERT INTO audit_log (created_at, tenant_id, actor_id, actor_name, \
     token_name, surface, client_addr, action, entity, entity_id, changes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Appends the entry of a change that may have changed nothing (an update
/// whose fields are the [`diff`] of before and after): no fields, no entry.
pub(crate) async fn append_if_changed(tx: &mut Tx, change: Change<'_>) -> Result<()> {
    if change.changes.is_empty() {
        return Ok(());
    }
    append(tx, change).await
}

/// Appends the entry of a change inside the change's own transaction.
pub(crate) async fn append(tx: &mut Tx, change: Change<'_>) -> Result<()> {
    let caller = change.caller;
    sqlx::query(INSERT)
        .bind(now_ms())
        .bind(change.tenant_id)
        .bind(Some(caller.user_id))
        .bind(&caller.username)
        .bind(caller.token_name.as_deref())
        .bind(caller.origin.surface.to_string())
        .bind(caller.origin.client.map(|a| a.to_string()))
        .bind(change.action.to_string())
        .bind(change.entity.to_string())
        .bind(change.entity_id)
        .bind(Value::Object(change.changes).to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The longest user name kept for a failed login (the rest is cut).
const TRIED_NAME_MAX: usize = 128;

impl Db {
    /// Records a failed login: the name tried (never the password), and the
    /// tenant when the domain named a known one.
    pub(crate) async fn audit_failed_login(
        &self,
        origin: Origin,
        username: &str,
        domain: Option<&str>,
        tenant_id: Option<i64>,
    ) -> Result<()> {
        let mut tried: String = username.chars().take(TRIED_NAME_MAX).collect();
        if let Some(domain) = domain {
            tried.push('@');
            tried.extend(domain.chars().take(TRIED_NAME_MAX));
        }
        sqlx::query(INSERT)
            .bind(now_ms())
            .bind(tenant_id)
            .bind(None::<i64>)
            .bind(tried)
            .bind(None::<String>)
            .bind(origin.surface.to_string())
            .bind(origin.client.map(|a| a.to_string()))
            .bind(Action::LoginFailed.to_string())
            .bind(Entity::Login.to_string())
            .bind(None::<i64>)
            .bind("{}")
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// The fields of a snapshot as a JSON object (anything else: empty).
pub(crate) fn snapshot(value: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// A created entity: every field, after only.
pub(crate) fn created(after: Map<String, Value>) -> Map<String, Value> {
    after
        .into_iter()
        .map(|(k, v)| (k, serde_json::json!({ "after": v })))
        .collect()
}

/// A deleted entity: every field, before only.
pub(crate) fn deleted(before: Map<String, Value>) -> Map<String, Value> {
    before
        .into_iter()
        .map(|(k, v)| (k, serde_json::json!({ "before": v })))
        .collect()
}

/// The fields that differ between two snapshots, before and after.
pub(crate) fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Map<String, Value> {
    let mut changes = Map::new();
    for (field, new) in after {
        let old = before.get(field).unwrap_or(&Value::Null);
        if old != new {
            changes.insert(
                field.clone(),
                serde_json::json!({ "before": old, "after": new }),
            );
        }
    }
    for (field, old) in before {
        if !after.contains_key(field) {
            changes.insert(
                field.clone(),
                serde_json::json!({ "before": old, "after": Value::Null }),
            );
        }
    }
    changes
}

/// Counts of a bulk operation (an import, a re-rating), after only.
pub(crate) fn counts(counts: &[(&str, Value)]) -> Map<String, Value> {
    counts
        .iter()
        .map(|(k, v)| ((*k).to_string(), serde_json::json!({ "after": v })))
        .collect()
}

/// An entry of the log as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub created_at: String,
    pub tenant_id: Option<String>,
    /// The acting user; `None` for a failed login.
    pub actor_id: Option<String>,
    /// The acting user's name (the name tried, for a failed login).
    pub actor_name: String,
    /// The API token's name, when the change was made with one.
    pub token_name: Option<String>,
    pub surface: Surface,
    pub client_addr: Option<String>,
    pub action: Action,
    pub entity: Entity,
    pub entity_id: Option<String>,
    /// `{"field": {"before": …, "after": …}}` for the fields that changed
    /// (a creation has `after` only, a deletion `before` only; an import or
    /// re-rating its counts as `after`).
    pub changes: Value,
}

pub static AUDIT_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("created_at", "created_at", FieldKind::Timestamp),
        FieldSpec::new("tenant_id", "tenant_id", FieldKind::Id),
        FieldSpec::new("actor_id", "actor_id", FieldKind::Id),
        FieldSpec::new("actor_name", "actor_name", FieldKind::Text),
        FieldSpec::new("token_name", "token_name", FieldKind::Text),
        FieldSpec::new(
            "surface",
            "surface",
            FieldKind::Enum(<Surface as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("client_addr", "client_addr", FieldKind::Text),
        FieldSpec::new(
            "action",
            "action",
            FieldKind::Enum(<Action as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new(
            "entity",
            "entity",
            FieldKind::Enum(<Entity as model::WireEnum>::ALL_WIRE),
        ),
        FieldSpec::new("entity_id", "entity_id", FieldKind::Id),
    ],
    search: &["actor_name", "token_name", "client_addr", "changes"],
    default_order: "id",
    decode_id: ApiId::decode,
};

const COLUMNS: &str = "id, created_at, tenant_id, actor_id, actor_name, token_name, surface, \
     client_addr, action, entity, entity_id, changes";

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry> {
    let changes: String = row.try_get("changes")?;
    Ok(AuditEntry {
        id: ApiId::encode(row.try_get("id")?),
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
        tenant_id: row
            .try_get::<Option<i64>, _>("tenant_id")?
            .map(ApiId::encode),
        actor_id: row
            .try_get::<Option<i64>, _>("actor_id")?
            .map(ApiId::encode),
        actor_name: row.try_get("actor_name")?,
        token_name: row.try_get("token_name")?,
        surface: row
            .try_get::<String, _>("surface")?
            .parse()
            .map_err(Error::internal)?,
        client_addr: row.try_get("client_addr")?,
        action: row
            .try_get::<String, _>("action")?
            .parse()
            .map_err(Error::internal)?,
        entity: row
            .try_get::<String, _>("entity")?
            .parse()
            .map_err(Error::internal)?,
        entity_id: row
            .try_get::<Option<i64>, _>("entity_id")?
            .map(ApiId::encode),
        changes: serde_json::from_str(&changes).map_err(Error::internal)?,
    })
}

/// Only administrators read the audit log.
pub fn require_reader(caller: &Caller) -> Result<()> {
    if caller.role.manages_tenant() {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "the role {} may not read the audit log",
            caller.role
        )))
    }
}

impl Db {
    /// A page of the audit log: a tenant administrator's own tenant's
    /// entries; a system administrator's every entry, or one tenant's when it
    /// names one. Standard users may not read it.
    pub async fn list_audit_log(
        &self,
        caller: &Caller,
        tenant: Option<i64>,
        query: &ListQuery,
    ) -> Result<Page<AuditEntry>> {
        require_reader(caller)?;
        let (scope, binds) = match caller.role {
            Role::StandardUser | Role::Admin => {
                let own = caller.scope(tenant)?.tenant_id;
                ("tenant_id = $1", vec![SqlValue::Int(own)])
            }
            Role::SystemAdmin => match tenant {
                Some(t) => ("tenant_id = $1", vec![SqlValue::Int(t)]),
                None => ("1 = 1", vec![]),
            },
        };
        self.page(
            Listing {
                columns: COLUMNS,
                from: "audit_log",
                scope,
                scope_binds: binds,
                spec: &AUDIT_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            entry_from_row,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::fields::WireEnum;
    use serde_json::json;

    fn wire_list<T: WireEnum>() -> &'static [&'static str] {
        T::ALL_WIRE
    }

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_diff_names_only_the_fields_that_changed() {
        let before = object(json!({"prefix": "44", "price_1": 0.06, "description": "UK"}));
        let after = object(json!({"prefix": "44", "price_1": 0.07, "description": "UK"}));
        assert_eq!(
            Value::Object(diff(&before, &after)),
            json!({"price_1": {"before": 0.06, "after": 0.07}})
        );
        assert!(diff(&before, &before).is_empty());
    }

    #[test]
    fn creations_and_deletions_carry_one_side() {
        let fields = object(json!({"name": "Gold"}));
        assert_eq!(
            Value::Object(created(fields.clone())),
            json!({"name": {"after": "Gold"}})
        );
        assert_eq!(
            Value::Object(deleted(fields)),
            json!({"name": {"before": "Gold"}})
        );
    }

    #[test]
    fn the_listing_offers_every_wire_value() {
        let enum_values = |name: &str| {
            AUDIT_SPEC
                .fields
                .iter()
                .find(|f| f.name == name)
                .and_then(|f| match f.kind {
                    FieldKind::Enum(values) => Some(values),
                    _ => None,
                })
                .unwrap_or_default()
        };
        assert_eq!(enum_values("surface"), wire_list::<Surface>());
        assert_eq!(enum_values("action"), wire_list::<Action>());
        assert_eq!(enum_values("entity"), wire_list::<Entity>());
    }
}
