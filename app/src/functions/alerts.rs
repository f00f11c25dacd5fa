//! Low-balance alerts, for the balances page (an account's threshold and
//! its alerts) and the banner of every page (the caller's accounts whose
//! funds are below their threshold now). A threshold is set by whoever sets
//! the account's credit limit: the operator the tenant's own, the tenant's
//! administrators its users'.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::FieldError;
use serde::{Deserialize, Serialize};

/// Alerts of an account the balances page shows.
pub const ALERTS_SHOWN: u32 = 10;

/// An account of the caller's below its threshold, as the banner tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowAccountView {
    /// The user's name, or the tenant's.
    pub name: String,
    /// The tenant's own account (rather than the caller's).
    pub tenant: bool,
    pub available: String,
    pub threshold: String,
    pub currency: String,
}

/// One alert of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub id: String,
    pub created_at: String,
    pub threshold: String,
    pub available: String,
}

/// An account's threshold and its latest alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    /// `None`: no alert is set.
    pub threshold: Option<String>,
    /// The available funds are below the threshold now.
    pub below: bool,
    /// Whether the caller sets this account's threshold.
    pub may_set: bool,
    /// Alerts of the account, in all.
    pub count: i64,
    /// The latest [`ALERTS_SHOWN`], newest first.
    pub items: Vec<AlertRow>,
}

/// What the browser finds wrong with a threshold typed in: blank (no
/// alert), or an amount from 0 with at most five decimals.
pub fn check_threshold(text: &str) -> Vec<FieldError> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    super::balances::check_amount("threshold", text, true)
}

/// The caller's accounts whose funds are below their threshold now: its
/// own, and for a tenant administrator the tenant's. Nothing for a visitor
/// not logged in, or a system administrator.
#[server(prefix = "/portal/fn", endpoint = "low_balance_banner", input = Json, output = Json)]
pub async fn low_balance_banner() -> Result<Vec<LowAccountView>, ServerFnError> {
    use crate::server::{caller_if_any, db, to_server_error};

    let Some(caller) = caller_if_any().await? else {
        return Ok(Vec::new());
    };
    let low = db()?.low_accounts(&caller).await.map_err(to_server_error)?;
    Ok(low
        .into_iter()
        .map(|a| LowAccountView {
            name: a.name,
            tenant: a.user_id.is_none(),
            available: a.available.to_fixed(),
            threshold: a.threshold.to_fixed(),
            currency: a.currency,
        })
        .collect())
}

/// The user account a page names (`None`: the tenant's own), or for a
/// scope of one's own account, one's own whatever it names.
#[cfg(feature = "ssr")]
fn account_in(
    scope: &::billing::Scope,
    account: Option<&str>,
) -> Result<Option<i64>, ServerFnError> {
    if scope.own {
        return Ok(Some(scope.caller.user_id));
    }
    match account.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(None),
        Some(text) => super::id_of(text, "user").map(Some),
    }
}

/// An account's threshold and latest alerts (the tenant's administrators,
/// or a standard user its own); `None` until a system administrator has
/// chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "account_alerts", input = Json, output = Json)]
pub async fn account_alerts(
    tenant: Option<String>,
    account: Option<String>,
) -> Result<Option<AlertState>, ServerFnError> {
    use crate::server::{db, reading_scope, to_server_error};
    use ::billing::balances::{LedgerAccount, ALERT_SPEC};
    use model::query::{ListParams, ListQuery};

    let Some(scope) = reading_scope(tenant).await? else {
        return Ok(None);
    };
    super::own_or_managers(&scope, "see its accounts")?;
    let user = account_in(&scope, account.as_deref())?;
    let db = db()?;
    let state = db
        .low_balance(&scope, user)
        .await
        .map_err(to_server_error)?;
    let params = ListParams {
        orderby: Some("id desc".into()),
        top: Some(ALERTS_SHOWN.to_string()),
        ..ListParams::default()
    };
    let query =
        ListQuery::parse(&params, &ALERT_SPEC).map_err(|e| ServerFnError::new(e.message))?;
    let which = match user {
        None => LedgerAccount::Tenant,
        Some(id) => LedgerAccount::User(id),
    };
    let alerts = db
        .list_balance_alerts(&scope, Some(which), &query)
        .await
        .map_err(to_server_error)?;
    let may_set = !scope.own
        && match user {
            None => scope.caller.role == model::user::Role::SystemAdmin,
            Some(_) => scope.caller.role.manages_tenant(),
        };
    Ok(Some(AlertState {
        threshold: state.threshold.map(|t| t.to_fixed()),
        below: state.below,
        may_set,
        count: alerts.count,
        items: alerts
            .items
            .into_iter()
            .map(|a| AlertRow {
                id: a.id,
                created_at: a.created_at,
                threshold: a.threshold.to_fixed(),
                available: a.available.to_fixed(),
            })
            .collect(),
    }))
}

/// Sets an account's low-balance threshold (`account`: a user's id, none
/// for the tenant's own); blank removes it. The same rights as credit limits.
#[server(prefix = "/portal/fn", endpoint = "set_account_threshold", input = Json, output = Json)]
pub async fn set_account_threshold(
    tenant: Option<String>,
    account: Option<String>,
    threshold: String,
) -> Result<(), ServerFnError> {
    use crate::server::{db, scope};

    let scope = scope(tenant).await?;
    let errors = check_threshold(&threshold);
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    let amount = match threshold.trim() {
        "" => None,
        text => Some(
            text.parse::<model::Money>()
                .map_err(|e| super::invalid(vec![FieldError::new("threshold", e.to_string())]))?,
        ),
    };
    let user = account_in(&scope, account.as_deref())?;
    super::answer(
        db()?
            .set_low_balance_threshold(&scope, user, amount)
            .await
            .map(|_| ()),
    )
}
