//! The tenant's accounts as its administrators oversee them (balance,
//! credit limit, what live calls hold, what is available) and the ledger
//! filtered by account, kind and time, with who made each change.

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::{ApiId, FieldError, Money};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::auth::Scope;
use crate::balances::{Transaction, TransactionKind, TRANSACTION_SPEC};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::listing::{Listing, Page};

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

fn entry_from_row(row: &AnyRow) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        transaction: crate::balances::transaction_from_row(row)?,
        created_by: row.try_get("created_by_name")?,
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

    /// The caller's own account (a scope of its own account, any role, or a standard user's scope).
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
            },
            query,
            |row| summary_from_row(row, true),
        )
        .await
    }

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
            },
            query,
            entry_from_row,
        )
        .await
    }
}
