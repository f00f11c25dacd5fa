//! Low-balance alerts: a threshold per account (the tenant's own, or a
//! user's), and an alert each time the account's available funds (balance
//! plus credit limit) fall below it.
//!
//! The alert is raised once per crossing. Each account row carries
//! `low_balance_alerted`, true while its funds are below its threshold:
//! every use case that changes an account's funds calls [`watch`] on it
//! inside its transaction, once all its changes are made, and before it
//! commits. The first that finds the funds below turns the flag on and, in
//! the same transaction, writes the account's alert row and queues the
//! `balance.low` webhook of the tenant's endpoints; the first that finds
//! them at or above the threshold again turns it off (re-armed). So a
//! committed change below the threshold always has its alert, a rolled-back
//! one never, and nothing but the database's own rows is written on the
//! charge's path: the deliveries are posted by a worker afterwards.

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::user::Role;
use model::webhook::WebhookEvent;
use model::{ApiId, Money};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::ledger::LedgerAccount;
use crate::audit::{self, Action, Entity};
use crate::auth::{Caller, Scope};
use crate::db::{now_ms, Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};

/// Whether an account's funds are below its low-balance threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowBalance {
    /// `None`: no alert is set.
    pub threshold: Option<Money>,
    /// Balance plus credit limit.
    pub available: Money,
    /// The available funds are below the threshold (an alert was raised
    /// when they fell there).
    pub below: bool,
}

/// An alert: when the account's funds fell below its threshold, and where
/// they stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceAlert {
    pub id: String,
    /// `None` for the tenant's own account.
    pub user_id: Option<String>,
    /// The user's name; `None` for the tenant's own account.
    pub username: Option<String>,
    pub threshold: Money,
    pub available: Money,
    pub balance: Money,
    pub credit_limit: Money,
    pub created_at: String,
}

/// An account of the caller's whose funds are below its threshold now:
/// what the portal's banner tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowAccount {
    /// `None` for the tenant's own account.
    pub user_id: Option<String>,
    /// The user's name, or the tenant's.
    pub name: String,
    pub threshold: Money,
    pub available: Money,
    pub currency: String,
}

/// The alerts as a list.
pub static ALERT_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "a.id", FieldKind::Id),
        FieldSpec::new("user_id", "a.user_id", FieldKind::Id),
        FieldSpec::new("username", "u.username", FieldKind::Text),
        FieldSpec::new("threshold", "a.threshold", FieldKind::Money),
        FieldSpec::new("available", "a.available", FieldKind::Money),
        FieldSpec::new("created_at", "a.created_at", FieldKind::Timestamp),
    ],
    search: &["u.username"],
    default_order: "a.id",
    decode_id: ApiId::decode,
};

/// A threshold as stored: 0 to [`model::bounds::AMOUNT_MAX`], or none.
fn threshold_units(threshold: Option<Money>) -> Result<Option<i64>> {
    threshold
        .map(|threshold| super::bounded_units("threshold", threshold))
        .transpose()
}

/// The table and condition of an account's row: `$1` the tenant, `$2` the
/// user when there is one.
fn account_row(user_id: Option<i64>) -> (&'static str, &'static str) {
    match user_id {
        None => ("tenants", "id = $1"),
        Some(_) => ("users", "tenant_id = $1 AND id = $2"),
    }
}

/// Raises or re-arms the low-balance alert of an account whose funds may
/// have changed inside `tx`: call it once the use case's changes to the
/// account are all made. Costs one UPDATE that changes nothing while the
/// account's state stays as it was.
pub(crate) async fn watch(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: i64,
    user_id: Option<i64>,
) -> Result<()> {
    let (table, condition) = account_row(user_id);
    let below = "(balance + credit_limit < low_balance_threshold)";
    let sql = format!(
        "UPDATE {table} SET low_balance_alerted = {below} WHERE {condition} \
         AND low_balance_threshold IS NOT NULL AND low_balance_alerted <> {below} \
         RETURNING balance, credit_limit, low_balance_threshold"
    );
    let mut query = sqlx::query(&sql).bind(tenant_id);
    if let Some(user) = user_id {
        query = query.bind(user);
    }
    let Some(row) = query.fetch_optional(&mut **tx).await? else {
        return Ok(());
    };
    alert_if_below(tx, backend, tenant_id, user_id, &row).await
}

/// [`watch`] of the own accounts of the tenants `tenant_ids` at once: on
/// PostgreSQL one UPDATE for them all.
pub(crate) async fn watch_tenants(tx: &mut Tx, backend: Backend, tenant_ids: &[i64]) -> Result<()> {
    if backend == Backend::Sqlite {
        for &tenant_id in tenant_ids {
            watch(tx, backend, tenant_id, None).await?;
        }
        return Ok(());
    }
    if tenant_ids.is_empty() {
        return Ok(());
    }
    let below = "(balance + credit_limit < low_balance_threshold)";
    let sql = format!(
        "UPDATE tenants SET low_balance_alerted = {below} WHERE id = ANY(CAST($1 AS BIGINT[])) \
         AND low_balance_threshold IS NOT NULL AND low_balance_alerted <> {below} \
         RETURNING id, balance, credit_limit, low_balance_threshold"
    );
    let rows = sqlx::query(&sql)
        .bind(crate::sql::bigint_array(tenant_ids))
        .fetch_all(&mut **tx)
        .await?;
    for row in &rows {
        alert_if_below(tx, backend, row.try_get("id")?, None, row).await?;
    }
    Ok(())
}

/// After [`watch`]'s UPDATE changed an account's alert state (`row`): the
/// alert raised when it went below its threshold.
async fn alert_if_below(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: i64,
    user_id: Option<i64>,
    row: &AnyRow,
) -> Result<()> {
    let balance: i64 = row.try_get("balance")?;
    let credit_limit: i64 = row.try_get("credit_limit")?;
    let threshold: i64 = row.try_get("low_balance_threshold")?;
    let available = balance.saturating_add(credit_limit);
    if available >= threshold {
        // Back at or above it: re-armed, nothing to tell.
        return Ok(());
    }
    raise(
        tx,
        backend,
        Raised {
            tenant_id,
            user_id,
            threshold,
            available,
            balance,
            credit_limit,
        },
    )
    .await
}

/// An account found below its threshold.
struct Raised {
    tenant_id: i64,
    user_id: Option<i64>,
    threshold: i64,
    available: i64,
    balance: i64,
    credit_limit: i64,
}

/// Writes the alert row and queues the `balance.low` deliveries, inside `tx`.
async fn raise(tx: &mut Tx, backend: Backend, alert: Raised) -> Result<()> {
    let now = now_ms();
    let id: i64 = sqlx::query(
        "INSERT INTO balance_alerts (tenant_id, user_id, threshold, available, balance, \
         credit_limit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(alert.tenant_id)
    .bind(alert.user_id)
    .bind(alert.threshold)
    .bind(alert.available)
    .bind(alert.balance)
    .bind(alert.credit_limit)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    let endpoints =
        crate::webhooks::subscribers(tx, alert.tenant_id, WebhookEvent::BalanceLow).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let tenant = sqlx::query("SELECT currency FROM tenants WHERE id = $1")
        .bind(alert.tenant_id)
        .fetch_one(&mut **tx)
        .await?;
    let currency: String = tenant.try_get("currency")?;
    let username: Option<String> = match alert.user_id {
        None => None,
        Some(user) => Some(
            sqlx::query("SELECT username FROM users WHERE id = $1")
                .bind(user)
                .fetch_one(&mut **tx)
                .await?
                .try_get("username")?,
        ),
    };
    let data = json!({
        "alert_id": ApiId::encode(id),
        "account": if alert.user_id.is_some() { "USER" } else { "TENANT" },
        "user_id": alert.user_id.map(ApiId::encode),
        "username": username,
        "threshold": Money::from_units(alert.threshold),
        "available": Money::from_units(alert.available),
        "balance": Money::from_units(alert.balance),
        "credit_limit": Money::from_units(alert.credit_limit),
        "currency": currency,
    });
    let event = crate::webhooks::Event::new(WebhookEvent::BalanceLow, alert.tenant_id, now, data);
    crate::webhooks::enqueue(tx, backend, &endpoints, &[event]).await
}

fn alert_from_row(row: &AnyRow) -> Result<BalanceAlert> {
    Ok(BalanceAlert {
        id: ApiId::encode(row.try_get("id")?),
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(ApiId::encode),
        username: row.try_get("username")?,
        threshold: Money::from_units(row.try_get("threshold")?),
        available: Money::from_units(row.try_get("available")?),
        balance: Money::from_units(row.try_get("balance")?),
        credit_limit: Money::from_units(row.try_get("credit_limit")?),
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
    })
}

impl Db {
    /// An account's threshold and whether its funds are below it: the
    /// tenant's own (its administrators), or a user's (its administrators,
    /// or the user itself).
    pub async fn low_balance(&self, scope: &Scope, user_id: Option<i64>) -> Result<LowBalance> {
        match user_id {
            None => scope.require_manager()?,
            Some(user) => self.visible_user(scope, user).await?,
        }
        let (table, condition) = account_row(user_id);
        let sql = format!(
            "SELECT balance, credit_limit, low_balance_threshold FROM {table} WHERE {condition}"
        );
        let mut query = sqlx::query(&sql).bind(scope.tenant_id);
        if let Some(user) = user_id {
            query = query.bind(user);
        }
        let row = query
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound(if user_id.is_some() {
                "user"
            } else {
                "tenant"
            }))?;
        let balance: i64 = row.try_get("balance")?;
        let credit_limit: i64 = row.try_get("credit_limit")?;
        let threshold: Option<i64> = row.try_get("low_balance_threshold")?;
        let available = balance.saturating_add(credit_limit);
        Ok(LowBalance {
            threshold: threshold.map(Money::from_units),
            available: Money::from_units(available),
            below: threshold.is_some_and(|t| available < t),
        })
    }

    /// Sets (or, with `None`, removes) an account's low-balance threshold:
    /// whoever may set its credit limit (the operator the tenant's own, the
    /// tenant's administrators its users'). A new threshold the funds are
    /// already below raises its alert at once.
    pub async fn set_low_balance_threshold(
        &self,
        scope: &Scope,
        user_id: Option<i64>,
        threshold: Option<Money>,
    ) -> Result<LowBalance> {
        match user_id {
            None => scope.caller.require_system_admin()?,
            Some(user) => {
                scope.require_manager()?;
                self.visible_user(scope, user).await?;
            }
        }
        let units = threshold_units(threshold)?;
        let (table, condition) = account_row(user_id);
        let lock = crate::sql::for_update(self.backend());
        let _turn = self.write_turn().await;
        let mut tx = self.write().await?;
        let sql = format!("SELECT low_balance_threshold FROM {table} WHERE {condition}{lock}");
        let mut query = sqlx::query(&sql).bind(scope.tenant_id);
        if let Some(user) = user_id {
            query = query.bind(user);
        }
        let before: Option<i64> = query
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound(if user_id.is_some() {
                "user"
            } else {
                "tenant"
            }))?
            .try_get("low_balance_threshold")?;
        if before != units {
            // Armed afresh against the new threshold.
            match user_id {
                None => {
                    sqlx::query(
                        "UPDATE tenants SET low_balance_threshold = $2, low_balance_alerted = FALSE \
                         WHERE id = $1",
                    )
                    .bind(scope.tenant_id)
                    .bind(units)
                    .execute(&mut *tx)
                    .await?;
                }
                Some(user) => {
                    sqlx::query(
                        "UPDATE users SET low_balance_threshold = $3, low_balance_alerted = FALSE \
                         WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(scope.tenant_id)
                    .bind(user)
                    .bind(units)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let (entity, id) = match user_id {
                None => (Entity::TenantAccount, scope.tenant_id),
                Some(user) => (Entity::UserAccount, user),
            };
            let mut changes = serde_json::Map::new();
            changes.insert(
                "low_balance_threshold".into(),
                json!({
                    "before": before.map(Money::from_units),
                    "after": units.map(Money::from_units),
                }),
            );
            audit::append(
                &mut tx,
                scope.change(Action::Update, entity, id).with(changes),
            )
            .await?;
            watch(&mut tx, self.backend(), scope.tenant_id, user_id).await?;
        }
        tx.commit().await?;
        self.low_balance(scope, user_id).await
    }

    /// The low-balance alerts, newest first unless `query` orders them:
    /// every account of the tenant for its administrators (or the one
    /// `account` names), one's own for a standard user or a scope of one's
    /// own account (an account named cannot widen that).
    pub async fn list_balance_alerts(
        &self,
        scope: &Scope,
        account: Option<LedgerAccount>,
        query: &ListQuery,
    ) -> Result<Page<BalanceAlert>> {
        let mut conditions = vec!["a.tenant_id = $1".to_string()];
        let mut binds = vec![SqlValue::Int(scope.tenant_id)];
        if scope.only_own() || !scope.caller.role.manages_tenant() {
            binds.push(SqlValue::Int(scope.caller.user_id));
            conditions.push(format!("a.user_id = ${}", binds.len()));
        }
        match account {
            None => {}
            Some(LedgerAccount::Tenant) => conditions.push("a.user_id IS NULL".into()),
            Some(LedgerAccount::User(user)) => {
                binds.push(SqlValue::Int(user));
                conditions.push(format!("a.user_id = ${}", binds.len()));
            }
        }
        let condition = conditions.join(" AND ");
        self.page(
            Listing {
                columns: "a.id AS id, a.user_id AS user_id, u.username AS username, \
                          a.threshold AS threshold, a.available AS available, a.balance AS balance, \
                          a.credit_limit AS credit_limit, a.created_at AS created_at",
                from: "balance_alerts a LEFT JOIN users u ON u.id = a.user_id",
                scope: &condition,
                scope_binds: binds,
                spec: &ALERT_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            alert_from_row,
        )
        .await
    }

    /// The caller's accounts whose funds are below their threshold now: its
    /// own user account, and for a tenant administrator the tenant's too.
    /// None for a system administrator, who has no account.
    pub async fn low_accounts(&self, caller: &Caller) -> Result<Vec<LowAccount>> {
        let Some(tenant_id) = caller.tenant_id else {
            return Ok(Vec::new());
        };
        let mut sql = String::from(
            "SELECT u.id AS user_id, u.username AS name, u.balance AS balance, \
             u.credit_limit AS credit_limit, u.low_balance_threshold AS threshold, \
             t.currency AS currency FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE u.id = $1 AND u.tenant_id = $2 AND u.low_balance_threshold IS NOT NULL \
             AND u.balance + u.credit_limit < u.low_balance_threshold",
        );
        if caller.role == Role::Admin {
            sql.push_str(
                " UNION ALL SELECT NULL AS user_id, name, balance, credit_limit, \
                 low_balance_threshold AS threshold, currency FROM tenants WHERE id = $2 \
                 AND low_balance_threshold IS NOT NULL \
                 AND balance + credit_limit < low_balance_threshold",
            );
        }
        let rows = sqlx::query(&sql)
            .bind(caller.user_id)
            .bind(tenant_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let balance: i64 = row.try_get("balance")?;
                let credit_limit: i64 = row.try_get("credit_limit")?;
                Ok(LowAccount {
                    user_id: row.try_get::<Option<i64>, _>("user_id")?.map(ApiId::encode),
                    name: row.try_get("name")?,
                    threshold: Money::from_units(row.try_get("threshold")?),
                    available: Money::from_units(balance.saturating_add(credit_limit)),
                    currency: row.try_get("currency")?,
                })
            })
            .collect()
    }
}
