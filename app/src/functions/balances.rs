//! The tenant's accounts and their ledger: balances, credit limits, what
//! live calls hold, recharges. A tenant's own account is recharged and
//! given its credit limit by the operator (a system administrator); its
//! users' accounts by the tenant's administrators.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::FieldError;
use serde::{Deserialize, Serialize};

use super::days::{check_day_range, given};

/// Rows of the ledger per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;
/// Users' accounts the page shows at most.
pub const ACCOUNTS_SHOWN: u32 = 100;

/// Kinds of ledger rows, as the API names them, with their label.
pub const KINDS: [(&str, &str); 5] = [
    ("RECHARGE", "Recharge"),
    ("CALL_CHARGE", "Call charge"),
    ("HOLD", "Hold"),
    ("RELEASE", "Release"),
    ("RERATE", "Re-rating"),
];

/// An account as the page shows it; amounts with five decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The user's opaque id; `None` for the tenant's own account.
    pub user: Option<String>,
    /// The user's name, or the tenant's.
    pub name: String,
    pub balance: String,
    pub credit_limit: String,
    pub held: String,
    pub available: String,
}

/// The tenant's accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    /// Every amount is in it.
    pub currency: String,
    pub tenant: AccountView,
    /// The first [`ACCOUNTS_SHOWN`] users' accounts, by name.
    pub users: Vec<AccountView>,
    /// All the users' accounts.
    pub users_count: i64,
    /// Whether the caller recharges the tenant's own account (the operator).
    pub operator: bool,
    /// Only the caller's own account (a standard user's page): it is in
    /// `tenant`, and `users` is empty.
    pub own: bool,
}

/// The ledger's parameters, as the page's URL holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerArgs {
    /// The user whose account it is; none: the tenant's own.
    pub account: Option<String>,
    pub kind: Option<String>,
    /// First day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    pub skip: Option<String>,
    pub top: Option<String>,
}

impl LedgerArgs {
    /// What is wrong with the filters, field by field.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_day_range(&self.from, &self.to, &mut errors);
        if let Some(kind) = given(&self.kind) {
            if !KINDS.iter().any(|(v, _)| *v == kind) {
                errors.push(FieldError::new("kind", "is not a kind of ledger row"));
            }
        }
        errors
    }
}

/// An amount typed in a form: a number of at most five decimals, above zero
/// (`zero_ok` for a credit limit).
pub fn check_amount(field: &str, text: &str, zero_ok: bool) -> Vec<FieldError> {
    match text.trim().parse::<model::Money>() {
        Err(e) => vec![FieldError::new(field, e.to_string())],
        Ok(m) if m.is_negative() => vec![FieldError::new(field, "must not be negative")],
        Ok(m) if !zero_ok && m == model::Money::ZERO => {
            vec![FieldError::new(field, "must be more than 0")]
        }
        Ok(_) => Vec::new(),
    }
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    pub id: String,
    pub kind: String,
    pub amount: String,
    pub balance_after: String,
    pub call_id: Option<String>,
    pub description: String,
    /// Who made it: a user's name, or none for the system (a call's charge).
    pub created_by: Option<String>,
    pub created_at: String,
}

/// One page of a ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPage {
    pub count: i64,
    pub skip: u64,
    pub top: u32,
    pub currency: String,
    pub items: Vec<LedgerRow>,
}

#[cfg(feature = "ssr")]
fn account_view(a: ::billing::balances::AccountSummary, tenant_name: &str) -> AccountView {
    AccountView {
        user: a.user_id,
        name: a.username.unwrap_or_else(|| tenant_name.to_string()),
        balance: a.balance.to_fixed(),
        credit_limit: a.credit_limit.to_fixed(),
        held: a.held.to_fixed(),
        available: a.available.to_fixed(),
    }
}

/// The account a page names: the tenant's own, or one of its users'.
#[cfg(feature = "ssr")]
fn account_of(account: Option<&str>) -> Result<Option<i64>, ServerFnError> {
    match account.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(None),
        Some(text) => model::ApiId::decode(text)
            .map(Some)
            .ok_or_else(|| crate::server::to_server_error(::billing::Error::NotFound("user"))),
    }
}

/// The tenant's account and its users' (its administrators), or a
/// standard user's own account; `None` until a system administrator has
/// chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "list_accounts", input = Json, output = Json)]
pub async fn list_accounts(tenant: Option<String>) -> Result<Option<Accounts>, ServerFnError> {
    use crate::server::{db, reading_scope, to_server_error};
    use model::query::{ListParams, ListQuery};

    let Some(scope) = reading_scope(tenant).await? else {
        return Ok(None);
    };
    super::own_or_managers(&scope, "see its accounts")?;
    let db = db()?;
    let own = db
        .get_tenant(&scope.caller, scope.tenant_id)
        .await
        .map_err(to_server_error)?;
    if scope.own {
        let mine = db.own_account(&scope).await.map_err(to_server_error)?;
        return Ok(Some(Accounts {
            currency: own.currency,
            tenant: account_view(mine, &own.name),
            users: Vec::new(),
            users_count: 0,
            operator: false,
            own: true,
        }));
    }
    let tenant_account = db.tenant_account(&scope).await.map_err(to_server_error)?;
    let params = ListParams {
        orderby: Some("username asc".into()),
        top: Some(ACCOUNTS_SHOWN.to_string()),
        ..ListParams::default()
    };
    let query = ListQuery::parse(&params, &::billing::balances::ACCOUNT_SPEC)
        .map_err(|e| ServerFnError::new(e.message))?;
    let users = db
        .list_user_accounts(&scope, &query)
        .await
        .map_err(to_server_error)?;
    Ok(Some(Accounts {
        currency: own.currency,
        tenant: account_view(tenant_account, &own.name),
        users_count: users.count,
        users: users
            .items
            .into_iter()
            .map(|a| account_view(a, &own.name))
            .collect(),
        operator: scope.caller.role == model::user::Role::SystemAdmin,
        own: false,
    }))
}

/// A page of one account's ledger, filtered (the tenant's administrators;
/// a standard user's own, whatever account it names).
#[server(prefix = "/portal/fn", endpoint = "list_ledger", input = Json, output = Json)]
pub async fn list_ledger(
    tenant: Option<String>,
    args: LedgerArgs,
) -> Result<Option<LedgerPage>, ServerFnError> {
    use super::days::{day_start_ms, next_day, parse_day};
    use crate::server::{db, reading_scope, to_server_error};
    use ::billing::balances::{LedgerAccount, LedgerFilter};
    use model::query::ListParams;

    let Some(scope) = reading_scope(tenant).await? else {
        return Ok(None);
    };
    super::own_or_managers(&scope, "see its accounts")?;
    let errors = args.check();
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    let day = |v: &Option<String>| given(v).and_then(parse_day);
    let filter = LedgerFilter {
        // One's own ledger is the whole of what the scope reads.
        account: if scope.own {
            None
        } else {
            Some(match account_of(args.account.as_deref())? {
                None => LedgerAccount::Tenant,
                Some(user) => LedgerAccount::User(user),
            })
        },
        kind: given(&args.kind).and_then(|k| k.parse().ok()),
        from: day(&args.from).map(day_start_ms),
        to: day(&args.to).map(|d| day_start_ms(next_day(d))),
    };
    let params = ListParams {
        orderby: Some("id desc".into()),
        skip: given(&args.skip).map(str::to_string),
        top: Some(given(&args.top).map_or_else(|| PAGE_SIZE.to_string(), str::to_string)),
        ..ListParams::default()
    };
    let query = super::list_query(&params, &::billing::balances::TRANSACTION_SPEC)?;
    let db = db()?;
    let page = db
        .list_ledger(&scope, &filter, &query)
        .await
        .map_err(to_server_error)?;
    let currency = db
        .get_tenant(&scope.caller, scope.tenant_id)
        .await
        .map_err(to_server_error)?
        .currency;
    Ok(Some(LedgerPage {
        count: page.count,
        skip: query.skip,
        top: query.top,
        currency,
        items: page
            .items
            .into_iter()
            .map(|e| LedgerRow {
                id: e.transaction.id,
                kind: e.transaction.kind.to_string(),
                amount: e.transaction.amount.to_fixed(),
                balance_after: e.transaction.balance_after.to_fixed(),
                call_id: e.transaction.call_id,
                description: e.transaction.description,
                created_by: e.created_by,
                created_at: e.transaction.created_at,
            })
            .collect(),
    }))
}

/// Adds `amount` to an account (`account`: a user's id, none for the
/// tenant's own): the operator recharges tenants, a tenant's administrators
/// its users.
#[server(prefix = "/portal/fn", endpoint = "recharge_account", input = Json, output = Json)]
pub async fn recharge_account(
    tenant: Option<String>,
    account: Option<String>,
    amount: String,
) -> Result<(), ServerFnError> {
    use crate::server::{db, scope, to_server_error};

    let scope = scope(tenant).await?;
    let errors = check_amount("balance", &amount, false);
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    let amount = amount
        .trim()
        .parse::<model::Money>()
        .map_err(|e| super::invalid(vec![FieldError::new("balance", e.to_string())]))?;
    let db = db()?;
    match account_of(account.as_deref())? {
        None => db.recharge_tenant(&scope, amount).await,
        Some(user) => db.recharge_user(&scope, user, amount).await,
    }
    .map(|_| ())
    .map_err(to_server_error)
}

/// Sets how far below zero an account may go (same rights as recharges).
#[server(prefix = "/portal/fn", endpoint = "set_account_credit_limit", input = Json, output = Json)]
pub async fn set_account_credit_limit(
    tenant: Option<String>,
    account: Option<String>,
    amount: String,
) -> Result<(), ServerFnError> {
    use crate::server::{db, scope, to_server_error};

    let scope = scope(tenant).await?;
    let errors = check_amount("credit_limit", &amount, true);
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    let amount = amount
        .trim()
        .parse::<model::Money>()
        .map_err(|e| super::invalid(vec![FieldError::new("credit_limit", e.to_string())]))?;
    let db = db()?;
    match account_of(account.as_deref())? {
        None => db.set_tenant_credit_limit(&scope, amount).await,
        Some(user) => db.set_user_credit_limit(&scope, user, amount).await,
    }
    .map(|_| ())
    .map_err(to_server_error)
}
