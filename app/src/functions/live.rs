//! The calls in progress (online charging): a page of them with what they
//! hold in all, and whether the tenant charges online at all. The same
//! `billing` use case as `GET /api/charging/sessions`, which decides whose
//! calls the caller sees.

use super::days::given;
use crate::functions::codec::Json;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;
/// How often the page asks again, in milliseconds.
pub const REFRESH_MS: u64 = 5_000;

/// The list's parameters, as the page's URL holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveArgs {
    /// Part of the call id, the caller's or the callee's number.
    pub search: Option<String>,
    pub orderby: Option<String>,
    pub skip: Option<String>,
    pub top: Option<String>,
}

/// A call in progress as the page shows it; amounts with five decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRow {
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub max_duration: u64,
    pub held: String,
    pub currency: String,
    pub started_at: String,
    pub seconds_left: u64,
    pub expires_at: String,
    /// The account held on: `TENANT` or the user's name.
    pub account: String,
    /// The billed user's id (none for the tenant's account).
    pub account_user: Option<String>,
}

/// A page of the calls in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePage {
    pub count: i64,
    pub skip: u64,
    pub top: u32,
    pub items: Vec<LiveRow>,
    /// `(currency, amount)`: what every matching call holds.
    pub held_totals: Vec<(String, String)>,
    /// Whether the tenant's calls are charged online (else none is ever live).
    pub online: bool,
    /// The caller sees only the calls billed to its own account.
    pub own_only: bool,
    /// The tenant bills its own account, so a standard user has none.
    pub tenant_pays: bool,
}

impl LiveArgs {
    /// The list options of these parameters (newest first unless sorted).
    pub fn list_params(&self) -> model::query::ListParams {
        model::query::ListParams {
            cursor: None,
            filter: None,
            search: given(&self.search).map(str::to_string),
            orderby: Some(
                given(&self.orderby)
                    .unwrap_or("started_at desc")
                    .to_string(),
            ),
            skip: given(&self.skip).map(str::to_string),
            top: Some(given(&self.top).map_or_else(|| PAGE_SIZE.to_string(), str::to_string)),
        }
    }
}

/// A page of the calls in progress of the tenant (its administrators), or
/// of those billed to one's own account (a standard user); `None` until a
/// system administrator has chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "list_live_calls", input = Json, output = Json)]
pub async fn list_live_calls(
    tenant: Option<String>,
    args: LiveArgs,
) -> Result<Option<LivePage>, ServerFnError> {
    use crate::server::{chosen_scope, db, to_server_error};
    use model::billing_settings::{BillingAccount, BillingType};

    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    let query = super::list_query(&args.list_params(), &::billing::charging::LIVE_CALL_SPEC)?;
    let db = db()?;
    let live = db
        .list_live_calls(&scope, &query)
        .await
        .map_err(to_server_error)?;
    let settings = db.billing_settings(&scope).await.map_err(to_server_error)?;
    Ok(Some(LivePage {
        count: live.count,
        skip: query.skip,
        top: query.top,
        items: live
            .items
            .into_iter()
            .map(|c| LiveRow {
                call_id: c.call_id,
                caller: c.caller,
                callee: c.callee,
                max_duration: c.max_duration,
                held: c.held.to_fixed(),
                currency: c.currency,
                started_at: c.started_at,
                seconds_left: c.seconds_left,
                expires_at: c.expires_at,
                account: c.billed_account,
                account_user: c.billed_user_id,
            })
            .collect(),
        held_totals: live
            .held_totals
            .into_iter()
            .map(|t| (t.currency, t.held.to_fixed()))
            .collect(),
        online: settings.enabled && settings.billing_type == BillingType::Online,
        own_only: !scope.caller.role.manages_tenant(),
        tenant_pays: settings.account == BillingAccount::Tenant,
    }))
}

/// Seconds as people read a short wait: `45 s`, `3 min 05 s`, `1 h 02 min`.
pub fn duration_text(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_the_largest_units() {
        assert_eq!(duration_text(0), "0 s");
        assert_eq!(duration_text(45), "45 s");
        assert_eq!(duration_text(185), "3 min 05 s");
        assert_eq!(duration_text(3720), "1 h 02 min");
    }

    #[test]
    fn the_newest_calls_come_first_unless_sorted() {
        let params = LiveArgs::default().list_params();
        assert_eq!(params.orderby.as_deref(), Some("started_at desc"));
        assert_eq!(params.top.as_deref(), Some("25"));
        let sorted = LiveArgs {
            orderby: Some("held desc".into()),
            search: Some("  ".into()),
            ..LiveArgs::default()
        }
        .list_params();
        assert_eq!(sorted.orderby.as_deref(), Some("held desc"));
        assert_eq!(sorted.search, None);
    }
}
