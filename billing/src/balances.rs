//! Balances, credit limits and the ledger.
//!
//! A billed account is a tenant's own account or one of its users'. Every
//! change of a balance is written, in the same transaction, as a row of the
//! append-only `balance_transactions` ledger carrying the balance after it,
//! so the ledger always sums to the balance.

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec};
use model::user::Role;
use model::{ApiId, Money};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Action, Change, Entity};
use crate::auth::Scope;
use crate::db::{now_ms, Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::listing::Page;
use crate::sql::Insert;

/// The largest single recharge (and credit limit) taken: far above any real
/// one, far below what the stored integers hold (docs/rating.md "Bounds").
const MAX_AMOUNT_UNITS: i64 = model::bounds::units(model::bounds::AMOUNT_MAX);
/// The largest balance a recharge may lead to.
const MAX_BALANCE_UNITS: i64 = model::bounds::units(model::bounds::BALANCE_MAX);

/// Refuses a recharge that would take a balance above [`MAX_BALANCE_UNITS`]
/// (the caller's transaction is then rolled back).
fn within_balance_bound(balance_after: i64) -> Result<()> {
    if balance_after > MAX_BALANCE_UNITS {
        return Err(Error::field(
            "balance",
            format!(
                "would take the balance above {}",
                model::bounds::BALANCE_MAX
            ),
        ));
    }
    Ok(())
}

model::wire_enum! {
    /// Why a balance changed.
    pub enum TransactionKind {
        Recharge = "RECHARGE",
        CallCharge = "CALL_CHARGE",
        Hold = "HOLD",
        Release = "RELEASE",
        Rerate = "RERATE",
    }
}

/// An account's balance and how far below zero it may go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub balance: Money,
    pub credit_limit: Money,
}

/// One row of the ledger as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub id: String,
    /// `None` for the tenant's own account.
    pub user_id: Option<String>,
    pub kind: TransactionKind,
    pub amount: Money,
    pub balance_after: Money,
    pub call_id: Option<String>,
    pub description: String,
    pub created_at: String,
}

pub static TRANSACTION_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("id", "id", FieldKind::Id),
        FieldSpec::new("user_id", "user_id", FieldKind::Id),
        FieldSpec::new(
            "kind",
            "kind",
            FieldKind::Enum(&["RECHARGE", "CALL_CHARGE", "HOLD", "RELEASE", "RERATE"]),
        ),
        FieldSpec::new("amount", "amount", FieldKind::Money),
        FieldSpec::new("balance_after", "balance_after", FieldKind::Money),
        FieldSpec::new("call_id", "call_id", FieldKind::Text),
        FieldSpec::new("description", "description", FieldKind::Text),
        FieldSpec::new("created_at", "created_at", FieldKind::Timestamp),
    ],
    search: &["call_id", "description"],
    default_order: "id",
    decode_id: ApiId::decode,
};

pub(crate) fn transaction_from_row(row: &AnyRow) -> Result<Transaction> {
    Ok(Transaction {
        id: ApiId::encode(row.try_get("id")?),
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(ApiId::encode),
        kind: row
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(Error::internal)?,
        amount: Money::from_units(row.try_get("amount")?),
        balance_after: Money::from_units(row.try_get("balance_after")?),
        call_id: row.try_get("call_id")?,
        description: row.try_get("description")?,
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
    })
}

/// Checks an amount to add: more than zero, five decimals at most.
fn positive_units(field: &str, amount: Money) -> Result<i64> {
    let too_large = || {
        Error::field(
            field,
            format!("must be at most {}", model::bounds::AMOUNT_MAX),
        )
    };
    let units = amount.to_units().map_err(|e| match e {
        model::money::MoneyError::OutOfRange if !amount.is_negative() => too_large(),
        e => Error::field(field, e.to_string()),
    })?;
    if units <= 0 {
        return Err(Error::field(field, "must be more than 0"));
    }
    if units > MAX_AMOUNT_UNITS {
        return Err(too_large());
    }
    Ok(units)
}

fn limit_units(limit: Money) -> Result<i64> {
    let out_of_range = || {
        Error::field(
            "credit_limit",
            format!("must be between 0 and {}", model::bounds::AMOUNT_MAX),
        )
    };
    let units = limit.to_units().map_err(|e| match e {
        model::money::MoneyError::OutOfRange => out_of_range(),
        e => Error::field("credit_limit", e.to_string()),
    })?;
    if !(0..=MAX_AMOUNT_UNITS).contains(&units) {
        return Err(out_of_range());
    }
    Ok(units)
}

/// One entry for the ledger.
pub(crate) struct Entry<'a> {
    pub tenant_id: i64,
    pub user_id: Option<i64>,
    pub kind: TransactionKind,
    pub amount: i64,
    pub call_id: Option<&'a str>,
    pub description: &'a str,
    pub created_by: Option<i64>,
}

/// Changes an account's balance and writes the ledger row, inside `tx`.
/// Answers the balance after the change.
pub(crate) async fn post(tx: &mut Tx, entry: Entry<'_>) -> Result<i64> {
    let row = match entry.user_id {
        None => {
            sqlx::query("UPDATE tenants SET balance = balance + $1 WHERE id = $2 RETURNING balance")
                .bind(entry.amount)
                .bind(entry.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        Some(user) => {
            sqlx::query(
                "UPDATE users SET balance = balance + $1 WHERE id = $2 AND tenant_id = $3 RETURNING balance",
            )
            .bind(entry.amount)
            .bind(user)
            .bind(entry.tenant_id)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    let balance_after: i64 = row
        .ok_or(Error::NotFound(if entry.user_id.is_some() {
            "user"
        } else {
            "tenant"
        }))?
        .try_get("balance")?;
    record(tx, &entry, balance_after).await?;
    Ok(balance_after)
}

/// Writes the ledger row of a balance change already made inside `tx`.
pub(crate) async fn record(tx: &mut Tx, entry: &Entry<'_>, balance_after: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO balance_transactions (tenant_id, user_id, kind, amount, balance_after, call_id, \
         description, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entry.tenant_id)
    .bind(entry.user_id)
    .bind(entry.kind.to_string())
    .bind(entry.amount)
    .bind(balance_after)
    .bind(entry.call_id)
    .bind(entry.description)
    .bind(entry.created_by)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Debits (or credits) one account by many calls at once, inside `tx`: one
/// balance update, then one ledger row per call with the running balance,
/// many rows per statement. `calls` are (call id, amount to
/// take); answers the balance after.
pub(crate) async fn post_many(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: i64,
    user_id: Option<i64>,
    kind: TransactionKind,
    description: &str,
    calls: &[(&str, i64)],
) -> Result<i64> {
    let total: i64 = calls.iter().map(|(_, amount)| amount).sum();
    let row = match user_id {
        None => {
            sqlx::query("UPDATE tenants SET balance = balance - $1 WHERE id = $2 RETURNING balance")
                .bind(total)
                .bind(tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        Some(user) => {
            sqlx::query(
                "UPDATE users SET balance = balance - $1 WHERE id = $2 AND tenant_id = $3 RETURNING balance",
            )
            .bind(total)
            .bind(user)
            .bind(tenant_id)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    let balance_after: i64 = row
        .ok_or(Error::NotFound(if user_id.is_some() {
            "user"
        } else {
            "tenant"
        }))?
        .try_get("balance")?;
    record_calls(
        tx,
        backend,
        tenant_id,
        user_id,
        kind,
        description,
        calls,
        balance_after,
    )
    .await?;
    Ok(balance_after)
}

/// Writes the ledger rows of calls already debited (or credited) from one
/// account inside `tx`, many rows per statement: `calls` are (call id,
/// amount taken) in order, `balance_after` the balance after them all.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_calls(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: i64,
    user_id: Option<i64>,
    kind: TransactionKind,
    description: &str,
    calls: &[(&str, i64)],
    balance_after: i64,
) -> Result<()> {
    let now = now_ms();
    let kind = kind.to_string();
    let mut running = balance_after + calls.iter().map(|(_, amount)| amount).sum::<i64>();
    for chunk in LEDGER.chunks(calls) {
        let sql = LEDGER.sql(backend, chunk.len(), "");
        let mut query = LEDGER.binds(&sql, chunk.len());
        for (call_id, amount) in chunk {
            running -= amount;
            query = query
                .bind(tenant_id)
                .bind(user_id)
                .bind(kind.as_str())
                .bind(-amount)
                .bind(running)
                .bind(*call_id)
                .bind(description)
                .bind(None::<i64>)
                .bind(now);
        }
        query.query()?.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A ledger row.
const LEDGER: Insert = Insert {
    table: "balance_transactions",
    columns: &[
        "tenant_id",
        "user_id",
        "kind",
        "amount",
        "balance_after",
        "call_id",
        "description",
        "created_by",
        "created_at",
    ],
};

/// The audit entry of a balance or credit limit going from `before` to
/// `after` (units) on an account: the tenant's own (`user_id` None) or a user's.
async fn audit_account(
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
    audit::append(
        tx,
        Change::new(
            &scope.caller,
            Some(scope.tenant_id),
            action,
            entity,
            Some(id),
        )
        .with(changes),
    )
    .await
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
    .try_get::<i64, _>(0)?;
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
    .await
}

impl Db {
    /// A user account of the scope's tenant that the caller may see: any of
    /// them for an administrator, only one's own for a standard user.
    async fn visible_user(&self, scope: &Scope, user_id: i64) -> Result<()> {
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

    async fn read_balance(&self, scope: &Scope, user_id: Option<i64>) -> Result<Balance> {
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
            balance: Money::from_units(row.try_get(0)?),
            credit_limit: Money::from_units(row.try_get(1)?),
        })
    }

    /// The tenant's own balance (its administrators, or a system administrator).
    pub async fn tenant_balance(&self, scope: &Scope) -> Result<Balance> {
        scope.require_manager()?;
        self.read_balance(scope, None).await
    }

    /// Adds money to the tenant's account: the operator's (system
    /// administrator's) doing, not the tenant's own.
    pub async fn recharge_tenant(&self, scope: &Scope, amount: Money) -> Result<Balance> {
        scope.caller.require_system_admin()?;
        let units = positive_units("balance", amount)?;
        let mut tx = self.write().await?;
        let after = post(
            &mut tx,
            Entry {
                tenant_id: scope.tenant_id,
                user_id: None,
                kind: TransactionKind::Recharge,
                amount: units,
                call_id: None,
                description: "recharge",
                created_by: Some(scope.caller.user_id),
            },
        )
        .await?;
        within_balance_bound(after)?;
        audit_account(
            &mut tx,
            scope,
            None,
            Action::Recharge,
            "balance",
            after - units,
            after,
        )
        .await?;
        tx.commit().await?;
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

    /// Adds money to a user's account (the tenant's administrators).
    pub async fn recharge_user(
        &self,
        scope: &Scope,
        user_id: i64,
        amount: Money,
    ) -> Result<Balance> {
        scope.require_manager()?;
        let units = positive_units("balance", amount)?;
        self.visible_user(scope, user_id).await?;
        let mut tx = self.write().await?;
        let after = post(
            &mut tx,
            Entry {
                tenant_id: scope.tenant_id,
                user_id: Some(user_id),
                kind: TransactionKind::Recharge,
                amount: units,
                call_id: None,
                description: "recharge",
                created_by: Some(scope.caller.user_id),
            },
        )
        .await?;
        within_balance_bound(after)?;
        audit_account(
            &mut tx,
            scope,
            Some(user_id),
            Action::Recharge,
            "balance",
            after - units,
            after,
        )
        .await?;
        tx.commit().await?;
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

    /// The ledger: every account of the tenant for its administrators, one's
    /// own account for a standard user.
    pub async fn list_balance_transactions(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<Page<Transaction>> {
        let filter = crate::ledger::LedgerFilter::default();
        Ok(self
            .list_ledger(scope, &filter, query)
            .await?
            .map(|entry| entry.transaction))
    }
}
