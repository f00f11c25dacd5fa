//! The ledger: one row for every change of a balance, written in the same
//! transaction as the change, and its listing, filtered by account, kind and
//! time, with who made each row.

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::{ApiId, FieldError, Money};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::auth::Scope;
use crate::db::{now_ms, Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};
use crate::sql::Insert;

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
            FieldKind::Enum(<TransactionKind as model::WireEnum>::ALL_WIRE),
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

/// Whose ledger rows to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerAccount {
    /// The tenant's own account.
    Tenant,
    /// A user's account.
    User(i64),
}

/// Which ledger rows to list; every part optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerFilter {
    pub account: Option<LedgerAccount>,
    pub kind: Option<TransactionKind>,
    /// Rows written at or after (unix ms).
    pub from: Option<i64>,
    /// Rows written before (unix ms).
    pub to: Option<i64>,
}

impl LedgerFilter {
    fn validate(&self) -> Result<()> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if to <= from {
                return Err(Error::Validation(vec![FieldError::new(
                    "to",
                    "must be after from",
                )]));
            }
        }
        Ok(())
    }
}

/// A ledger row with the name of who made it (none for the system's own:
/// a call charged from its CDR, a hold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    #[serde(flatten)]
    pub transaction: Transaction,
    pub created_by: Option<String>,
}

fn transaction_from_row(row: &AnyRow) -> Result<Transaction> {
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

/// Adds `amount` (negative: takes it) to an account's balance inside `tx`:
/// the tenant's own account (`user_id` None) or a user's. Answers the
/// balance after.
async fn add_to_balance(
    tx: &mut Tx,
    tenant_id: i64,
    user_id: Option<i64>,
    amount: i64,
) -> Result<i64> {
    let row = match user_id {
        None => {
            sqlx::query("UPDATE tenants SET balance = balance + $1 WHERE id = $2 RETURNING balance")
                .bind(amount)
                .bind(tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        Some(user) => {
            sqlx::query(
                "UPDATE users SET balance = balance + $1 WHERE id = $2 AND tenant_id = $3 RETURNING balance",
            )
            .bind(amount)
            .bind(user)
            .bind(tenant_id)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    Ok(row
        .ok_or(Error::NotFound(if user_id.is_some() {
            "user"
        } else {
            "tenant"
        }))?
        .try_get("balance")?)
}

/// Changes an account's balance and writes the ledger row, inside `tx`.
/// Answers the balance after the change.
pub(crate) async fn post(tx: &mut Tx, entry: Entry<'_>) -> Result<i64> {
    let balance_after = add_to_balance(tx, entry.tenant_id, entry.user_id, entry.amount).await?;
    record(tx, &entry, balance_after).await?;
    Ok(balance_after)
}

/// Writes the ledger row of a balance change already made inside `tx`.
pub(crate) async fn record(tx: &mut Tx, entry: &Entry<'_>, balance_after: i64) -> Result<()> {
    record_at(tx, entry, balance_after, now_ms()).await
}

/// Changes an account's balance and writes the ledger row as posted at
/// `at` (unix ms), inside `tx`: what tests use to lay out a ledger over
/// past periods.
#[cfg(any(test, feature = "testing"))]
pub(crate) async fn post_at(tx: &mut Tx, entry: Entry<'_>, at: i64) -> Result<i64> {
    let balance_after = add_to_balance(tx, entry.tenant_id, entry.user_id, entry.amount).await?;
    record_at(tx, &entry, balance_after, at).await?;
    Ok(balance_after)
}

async fn record_at(tx: &mut Tx, entry: &Entry<'_>, balance_after: i64, at: i64) -> Result<()> {
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
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Calls charged to one account together: their ledger rows differ only by
/// the call and its amount.
pub(crate) struct Calls<'a> {
    pub tenant_id: i64,
    pub user_id: Option<i64>,
    pub kind: TransactionKind,
    pub description: &'a str,
    /// (call id, amount to take), in order.
    pub calls: &'a [(&'a str, i64)],
}

/// Debits (or credits) one account by many calls at once, inside `tx`: one
/// balance update, then one ledger row per call with the running balance,
/// many rows per statement; answers the balance after.
pub(crate) async fn post_many(tx: &mut Tx, backend: Backend, calls: &Calls<'_>) -> Result<i64> {
    let total: i64 = calls.calls.iter().map(|(_, amount)| amount).sum();
    let balance_after = add_to_balance(tx, calls.tenant_id, calls.user_id, -total).await?;
    record_calls(tx, backend, calls, balance_after).await?;
    Ok(balance_after)
}

/// Writes the ledger rows of calls already debited (or credited) from one
/// account inside `tx`, many rows per statement: `balance_after` is the
/// balance after them all.
pub(crate) async fn record_calls(
    tx: &mut Tx,
    backend: Backend,
    calls: &Calls<'_>,
    balance_after: i64,
) -> Result<()> {
    let Calls {
        tenant_id,
        user_id,
        kind,
        description,
        calls,
    } = *calls;
    let now = now_ms();
    let kind = kind.to_string();
    let mut running = balance_after + calls.iter().map(|(_, amount)| amount).sum::<i64>();
    if backend == Backend::Postgres {
        // One statement, the rows in one JSON parameter.
        let rows: Vec<LedgerRow> = calls
            .iter()
            .map(|(call_id, amount)| {
                running -= amount;
                LedgerRow {
                    tenant_id,
                    user_id,
                    kind: &kind,
                    amount: -amount,
                    balance_after: running,
                    call_id,
                    description,
                    created_by: None,
                    created_at: now,
                }
            })
            .collect();
        sqlx::query(&LEDGER.json_sql(1, ""))
            .bind(crate::sql::json_rows(&rows)?)
            .execute(&mut **tx)
            .await?;
        return Ok(());
    }
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

/// A ledger row keyed by column, as PostgreSQL reads many of them.
#[derive(serde::Serialize)]
struct LedgerRow<'a> {
    tenant_id: i64,
    user_id: Option<i64>,
    kind: &'a str,
    amount: i64,
    balance_after: i64,
    call_id: &'a str,
    description: &'a str,
    created_by: Option<i64>,
    created_at: i64,
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

fn entry_from_row(row: &AnyRow) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        transaction: transaction_from_row(row)?,
        created_by: row.try_get("created_by_name")?,
    })
}

impl Db {
    /// The ledger, narrowed by `filter` and then by `query`: every account
    /// of the tenant for its administrators, one's own for a standard user
    /// or a scope of one's own account (an account `filter` names cannot
    /// widen that).
    pub async fn list_ledger(
        &self,
        scope: &Scope,
        filter: &LedgerFilter,
        query: &ListQuery,
    ) -> Result<Page<LedgerEntry>> {
        filter.validate()?;
        let mut conditions = vec!["tenant_id = $1".to_string()];
        let mut binds = vec![SqlValue::Int(scope.tenant_id)];
        let next = |binds: &mut Vec<SqlValue>, value: SqlValue| {
            binds.push(value);
            format!("${}", binds.len())
        };
        if scope.only_own() || !scope.caller.role.manages_tenant() {
            let p = next(&mut binds, SqlValue::Int(scope.caller.user_id));
            conditions.push(format!("user_id = {p}"));
        }
        match filter.account {
            None => {}
            Some(LedgerAccount::Tenant) => conditions.push("user_id IS NULL".into()),
            Some(LedgerAccount::User(user)) => {
                let p = next(&mut binds, SqlValue::Int(user));
                conditions.push(format!("user_id = {p}"));
            }
        }
        if let Some(kind) = filter.kind {
            let p = next(&mut binds, SqlValue::Text(kind.to_string()));
            conditions.push(format!("kind = {p}"));
        }
        if let Some(from) = filter.from {
            let p = next(&mut binds, SqlValue::Int(from));
            conditions.push(format!("created_at >= {p}"));
        }
        if let Some(to) = filter.to {
            let p = next(&mut binds, SqlValue::Int(to));
            conditions.push(format!("created_at < {p}"));
        }
        let condition = conditions.join(" AND ");
        self.page(
            Listing {
                columns:
                    "id, user_id, kind, amount, balance_after, call_id, description, created_at, \
                    (SELECT u.username FROM users u WHERE u.id = balance_transactions.created_by) \
                    AS created_by_name",
                from: "balance_transactions",
                scope: &condition,
                scope_binds: binds,
                spec: &TRANSACTION_SPEC,
                sqlite_search: None,
                version: None,
            },
            query,
            entry_from_row,
        )
        .await
    }

    /// The ledger: every account of the tenant for its administrators, one's
    /// own account for a standard user.
    pub async fn list_balance_transactions(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<Page<Transaction>> {
        let filter = LedgerFilter::default();
        Ok(self
            .list_ledger(scope, &filter, query)
            .await?
            .map(|entry| entry.transaction))
    }
}
