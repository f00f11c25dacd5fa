//! Call rates of the tenant's default tariff.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::call_rate::CallRate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Rows per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;

/// The list parameters of the rates page, as its URL holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateListArgs {
    pub search: Option<String>,
    pub orderby: Option<String>,
    pub skip: Option<String>,
    pub top: Option<String>,
    /// The list's cursor of the page to show.
    pub cursor: Option<String>,
    /// Rows before that page (what the pager shows; the cursor finds it).
    pub at: Option<String>,
}

/// One page of rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatePage {
    /// Rates matching the search, on all pages.
    pub count: i64,
    /// Rows before this page.
    pub skip: u64,
    /// Rows per page.
    pub top: u32,
    pub items: Vec<CallRate>,
    /// The cursor of the next page, if there is one.
    pub cursor: Option<String>,
    /// The cursor of the previous page, if there is one.
    pub previous_cursor: Option<String>,
}

/// A page of the tenant's rates, searched and sorted as the REST API's list;
/// `None` until a system administrator has chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "list_rates", input = Json, output = Json)]
pub async fn list_rates(
    tenant: Option<String>,
    args: RateListArgs,
) -> Result<Option<RatePage>, ServerFnError> {
    use crate::server::{chosen_scope, db, to_server_error};
    use ::billing::call_rates::CALL_RATE_SPEC;
    use model::query::{ListParams, ListQuery};

    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    super::managers_only(&scope, "see its call rates")?;
    let params = ListParams {
        filter: None,
        search: args.search,
        orderby: args.orderby,
        skip: args.skip,
        top: args.top.or_else(|| Some(PAGE_SIZE.to_string())),
        cursor: args.cursor,
    };

    let query = ListQuery::parse(&params, &CALL_RATE_SPEC)
        .map_err(|e| ServerFnError::new(format!("{}: {}", e.parameter, e.message)))?;
    let page = db()?
        .list_call_rates(&scope, &query)
        .await
        .map_err(to_server_error)?;
    // A page read by cursor is as far down as the URL's `at` says.
    let at = match &query.cursor {
        Some(_) => args
            .at
            .as_deref()
            .and_then(|at| at.trim().parse::<u64>().ok())
            .unwrap_or(0)
            .saturating_add(query.skip),
        None => query.skip,
    };
    Ok(Some(RatePage {
        count: page.count,
        skip: at,
        top: query.top,
        items: page.items,
        cursor: page.cursor,
        previous_cursor: page.previous_cursor,
    }))
}

/// Creates a rate (no `id`) or replaces every field of one; `body` holds the
/// fields as the REST API's body does (numbers may be strings).
#[server(prefix = "/portal/fn", endpoint = "save_rate", input = Json, output = Json)]
pub async fn save_rate(
    tenant: Option<String>,
    id: Option<String>,
    body: Map<String, Value>,
) -> Result<String, ServerFnError> {
    use crate::server::db;
    use model::call_rate::{CallRateFields, CallRatePatch};
    use model::ApiId;

    let scope = super::manager_scope(tenant).await?;
    let fields = super::read(CallRateFields::from_json(&body))?;
    let db = db()?;
    match id {
        None => super::answer(db.create_call_rate(&scope, fields).await.map(ApiId::encode)),
        Some(wire) => {
            let id = super::id_of(&wire, "call rate")?;
            let patch = CallRatePatch {
                prefix: Some(fields.prefix),
                rate_type: Some(fields.rate_type),
                free_seconds: Some(fields.free_seconds),
                grace_period: Some(fields.grace_period),
                interval_1: Some(fields.interval_1),
                interval_n: Some(fields.interval_n),
                connect_fee: Some(fields.connect_fee),
                postcall_surcharge: Some(fields.postcall_surcharge),
                price_1: Some(fields.price_1),
                price_n: Some(fields.price_n),
                description: Some(fields.description),
            };
            super::answer(db.update_call_rate(&scope, id, patch).await.map(|_| wire))
        }
    }
}

/// Deletes a rate.
#[server(prefix = "/portal/fn", endpoint = "delete_rate", input = Json, output = Json)]
pub async fn delete_rate(tenant: Option<String>, id: String) -> Result<(), ServerFnError> {
    use crate::server::{db, scope};
    let scope = scope(tenant).await?;
    let id = super::id_of(&id, "call rate")?;
    super::answer(db()?.delete_call_rate(&scope, id).await)
}
