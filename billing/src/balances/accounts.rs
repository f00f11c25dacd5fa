//! An account's balance and credit limit: reading them, setting how far
//! below zero the account may go, and the tenant's accounts as its
//! administrators oversee them (balance, credit limit, what live calls hold,
//! what is available).

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::user::Role;
use model::{ApiId, Money};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Entity};
use crate::auth::Scope;
use crate::db::{Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};

/// An account's balance and how far below zero it may go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub balance: Money,
    pub credit_limit: Money,
}

fn limit_units(limit: Money) -> Result<i64> {
    super::bounded_units("credit_limit", limit)
}

/// The audit entry of a balance or credit limit going from `before` to
/// `after` (units) on an account: the tenant's own (`user_id` None) or a user's.
pub(super) async fn audit_account(
    tx: &mut Tx,
    scope: &Scope,
    user_id: Option<i64>,
    action: Action,
    field: &str,
    before: i64,
    after: i64,
) -> Result<()> {
    if before == after {
        return Ok(());
    }
    let (entity, id) = match user_id {
        None => (Entity::TenantAccount, scope.tenant_id),
        Some(user) => (Entity::UserAccount, user),
    };
    let mut changes = serde_json::Map::new();
    changes.insert(
        field.to_string(),
        serde_json::json!({
            "before": Money::from_units(before),
            "after": Money::from_units(after),
        }),
    );
    audit::append(tx, scope.change(action, entity, id).with(changes)).await
}

/// Sets an account's credit limit inside `tx` and writes its audit entry.
async fn set_credit_limit(
    tx: &mut Tx,
    backend: Backend,
    scope: &Scope,
    user_id: Option<i64>,
    units: i64,
) -> Result<()> {
    let lock = crate::sql::for_update(backend);
    let before = match user_id {
        None => {
            let sql = format!("SELECT credit_limit FROM tenants WHERE id = $1{lock}");
            sqlx::query(&sql)
                .bind(scope.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        Some(user) => {
            let sql =
                format!("SELECT credit_limit FROM users WHERE id = $1 AND tenant_id = $2{lock}");
            sqlx::query(&sql)
                .bind(user)
                .bind(scope.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
    }
    .ok_or(Error::NotFound(if user_id.is_some() {
        "user"
    } else {
        "tenant"
    }))?
    .try_get::<i64, _>("credit_limit")?;
    match user_id {
        None => {
            sqlx::query("UPDATE tenants SET credit_limit = $1 WHERE id = $2")
                .bind(units)
                .bind(scope.tenant_id)
                .execute(&mut **tx)
                .await?;
        }
        Some(user) => {
            sqlx::query("UPDATE users SET credit_limit = $1 WHERE id = $2 AND tenant_id = $3")
                .bind(units)
                .bind(user)
                .bind(scope.tenant_id)
                .execute(&mut **tx)
                .await?;
        }
    }
    audit_account(
        tx,
        scope,
        user_id,
        Action::Update,
        "credit_limit",
        before,
        units,
    )
    .await?;
    super::alerts::watch(tx, backend, scope.tenant_id, user_id).await
}

impl Db {
    /// A user account of the scope's tenant that the caller may see: any of
    /// them for an administrator, only one's own for a standard user.
    pub(super) async fn visible_user(&self, scope: &Scope, user_id: i64) -> Result<()> {
        if scope.caller.role == Role::StandardUser && scope.caller.user_id != user_id {
            return Err(Error::NotFound("user"));
        }
        let found = sqlx::query("SELECT id FROM users WHERE id = $1 AND tenant_id = $2")
            .bind(user_id)
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?;
        found.map(|_| ()).ok_or(Error::NotFound("user"))
    }

    pub(super) async fn read_balance(
        &self,
        scope: &Scope,
        user_id: Option<i64>,
    ) -> Result<Balance> {
        let row = match user_id {
            None => {
                sqlx::query("SELECT balance, credit_limit FROM tenants WHERE id = $1")
                    .bind(scope.tenant_id)
                    .fetch_optional(self.pool())
                    .await?
            }
            Some(user) => {
                sqlx::query(
                    "SELECT balance, credit_limit FROM users WHERE id = $1 AND tenant_id = $2",
                )
                .bind(user)
                .bind(scope.tenant_id)
                .fetch_optional(self.pool())
                .await?
            }
        }
        .ok_or(Error::NotFound(if user_id.is_some() {
            "user"
        } else {
            "tenant"
        }))?;
        Ok(Balance {
            balance: Money::from_units(row.try_get("balance")?),
            credit_limit: Money::from_units(row.try_get("credit_limit")?),
        })
    }

    /// The tenant's own balance (its administrators, or a system administrator).
    pub async fn tenant_balance(&self, scope: &Scope) -> Result<Balance> {
        scope.require_manager()?;
        self.read_balance(scope, None).await
    }

    /// How far below zero the tenant's account may go (system administrators).
    pub async fn set_tenant_credit_limit(&self, scope: &Scope, limit: Money) -> Result<Balance> {
        scope.caller.require_system_admin()?;
        let units = limit_units(limit)?;
        let mut tx = self.write().await?;
        set_credit_limit(&mut tx, self.backend(), scope, None, units).await?;
        tx.commit().await?;
        self.read_balance(scope, None).await
    }

    /// A user's balance: its tenant's administrators, or the user itself.
    pub async fn user_balance(&self, scope: &Scope, user_id: i64) -> Result<Balance> {
        self.visible_user(scope, user_id).await?;
        self.read_balance(scope, Some(user_id)).await
    }

    /// How far below zero a user's account may go (the tenant's administrators).
    pub async fn set_user_credit_limit(
        &self,
        scope: &Scope,
        user_id: i64,
        limit: Money,
    ) -> Result<Balance> {
        scope.require_manager()?;
        let units = limit_units(limit)?;
        self.visible_user(scope, user_id).await?;
        let mut tx = self.write().await?;
        set_credit_limit(&mut tx, self.backend(), scope, Some(user_id), units).await?;
        tx.commit().await?;
        self.read_balance(scope, Some(user_id)).await
    }
}

/// An account as its tenant's administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    /// `None` for the tenant's own account.
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub balance: Money,
    pub credit_limit: Money,
    /// What the calls in progress hold (already taken from the balance).
    pub held: Money,
    /// What calls may still spend: balance plus credit limit.
    pub available: Money,
}

/// The users' accounts as a list: searched by user name.
pub static ACCOUNT_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("username", "username", FieldKind::Text),
        FieldSpec::new("balance", "balance", FieldKind::Money),
        FieldSpec::new("credit_limit", "credit_limit", FieldKind::Money),
    ],
    search: &["username"],
    default_order: "id",
    decode_id: ApiId::decode,
};

/// What the live calls of an account hold, as a column of its row.
const HELD: &str = "(SELECT CAST(COALESCE(SUM(s.held), 0) AS BIGINT) FROM charging_sessions s \
    WHERE s.tenant_id = {tenant} AND s.state = 'LIVE' AND {account}) AS held";

fn summary_from_row(row: &AnyRow, user: bool) -> Result<AccountSummary> {
    let balance: i64 = row.try_get("balance")?;
    let credit_limit: i64 = row.try_get("credit_limit")?;
    let available = balance
        .checked_add(credit_limit)
        .ok_or_else(|| Error::internal("an account's funds are beyond the bounds"))?;
    Ok(AccountSummary {
        user_id: if user {
            Some(ApiId::encode(row.try_get("id")?))
        } else {
            None
        },
        username: if user {
            Some(row.try_get("username")?)
        } else {
            None
        },
        balance: Money::from_units(balance),
        credit_limit: Money::from_units(credit_limit),
        held: Money::from_units(row.try_get("held")?),
        available: Money::from_units(available),
    })
}

impl Db {
    /// The tenant's own account (its administrators).
    pub async fn tenant_account(&self, scope: &Scope) -> Result<AccountSummary> {
        scope.require_manager()?;
        let held = HELD
            .replace("{tenant}", "tenants.id")
            .replace("{account}", "s.user_id IS NULL");
        let sql = format!("SELECT balance, credit_limit, {held} FROM tenants WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        summary_from_row(&row, false)
    }

    /// The caller's own account (a scope of its own account, any role, or a
    /// standard user's scope).
    pub async fn own_account(&self, scope: &Scope) -> Result<AccountSummary> {
        if !scope.only_own() {
            return Err(Error::Forbidden(
                "only one's own account is read here".into(),
            ));
        }
        let held = HELD
            .replace("{tenant}", "users.tenant_id")
            .replace("{account}", "s.user_id = users.id");
        let sql = format!(
            "SELECT id, username, balance, credit_limit, {held} FROM users \
             WHERE id = $1 AND tenant_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(scope.caller.user_id)
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("user"))?;
        summary_from_row(&row, true)
    }

    /// The tenant's users' accounts (its administrators), searched and paged.
    pub async fn list_user_accounts(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<Page<AccountSummary>> {
        scope.require_manager()?;
        let held = HELD
            .replace("{tenant}", "users.tenant_id")
            .replace("{account}", "s.user_id = users.id");
        let columns = format!("id, username, balance, credit_limit, {held}");
        self.page(
            Listing {
                columns: &columns,
                from: "users",
                scope: "tenant_id = $1",
                scope_binds: vec![SqlValue::Int(scope.tenant_id)],
                spec: &ACCOUNT_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            |row| summary_from_row(row, true),
        )
        .await
    }
}
