//! The tenant's calls: the list with its filters, one call's rating, the
//! re-rating of the filtered calls. The filters are checked by the same
//! [`CdrListArgs::check`] in the browser and on the server, and become the
//! REST list's options by [`CdrListArgs::list_params`] (which the CSV export
//! of the portal takes too).

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::query::ListParams;
use model::FieldError;
use serde::{Deserialize, Serialize};

/// Rows per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;

/// Rating statuses the filter offers, as the API names them.
pub const STATUSES: [(&str, &str); 3] =
    [("RATED", "Rated"), ("UNRATED", "Unrated"), ("FREE", "Free")];

/// Directions the filter offers, as the API names them.
pub const DIRECTIONS: [(&str, &str); 4] = [
    ("OUTBOUND_CALL", "Outbound"),
    ("INBOUND_CALL", "Inbound"),
    ("EXTENSION_CALL", "Extension"),
    ("INBOUND_OUTBOUND_CALL", "Inbound to outbound"),
];

/// The list's parameters, as the page's URL holds them: every one optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrListArgs {
    /// First day of calls (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Last day of calls, included.
    pub to: Option<String>,
    /// Part of the caller's or the callee's number.
    pub search: Option<String>,
    /// RATED, UNRATED or FREE.
    pub status: Option<String>,
    pub direction: Option<String>,
    pub orderby: Option<String>,
    pub skip: Option<String>,
    pub top: Option<String>,
}

use super::days::{check_day_range, given, midnight};
pub use super::days::{day_start_ms, next_day, parse_day};

impl CdrListArgs {
    /// What is wrong with the filters, field by field.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_day_range(&self.from, &self.to, &mut errors);
        if let Some(status) = given(&self.status) {
            if !STATUSES.iter().any(|(v, _)| *v == status) {
                errors.push(FieldError::new("status", "must be RATED, UNRATED or FREE"));
            }
        }
        if let Some(direction) = given(&self.direction) {
            if !DIRECTIONS.iter().any(|(v, _)| *v == direction) {
                errors.push(FieldError::new("direction", "is not a call direction"));
            }
        }
        if given(&self.search).is_some_and(|s| s.chars().count() > 64) {
            errors.push(FieldError::new("search", "must be at most 64 characters"));
        }
        errors
    }

    /// The REST list's options for these filters (assumes [`Self::check`]
    /// found nothing; what does not parse is left out).
    pub fn list_params(&self) -> ListParams {
        let mut conditions = Vec::new();
        if let Some(day) = given(&self.from).and_then(parse_day) {
            conditions.push(format!("started_at ge {}", midnight(day)));
        }
        if let Some(day) = given(&self.to).and_then(parse_day) {
            conditions.push(format!("started_at lt {}", midnight(next_day(day))));
        }
        if let Some(status) = given(&self.status) {
            conditions.push(format!("rating_status eq '{}'", status.replace('\'', "''")));
        }
        if let Some(direction) = given(&self.direction) {
            conditions.push(format!("direction eq '{}'", direction.replace('\'', "''")));
        }
        ListParams {
            cursor: None,
            filter: (!conditions.is_empty()).then(|| conditions.join(" and ")),
            search: given(&self.search).map(str::to_string),
            orderby: given(&self.orderby).map(str::to_string),
            skip: given(&self.skip).map(str::to_string),
            top: given(&self.top)
                .map(str::to_string)
                .or_else(|| Some(PAGE_SIZE.to_string())),
        }
    }

    /// The filters (not the page) as query pairs, for links to the export.
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("search", &self.search),
            ("status", &self.status),
            ("direction", &self.direction),
            ("orderby", &self.orderby),
        ]
        .into_iter()
        .filter_map(|(k, v)| given(v).map(|v| (k, v.to_string())))
        .collect()
    }
}

/// One call as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrRow {
    pub id: String,
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub started_at: String,
    pub direction: String,
    pub duration: i64,
    pub rating_status: String,
    /// Five decimals; none for a call not charged.
    pub cost: Option<String>,
    pub unrated_reason: Option<String>,
}

/// One page of calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrPage {
    pub count: i64,
    pub skip: u64,
    pub top: u32,
    /// The tenant's currency: every cost is in it.
    pub currency: String,
    pub items: Vec<CdrRow>,
}

/// One call with how its cost was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrDetail {
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub destination: String,
    pub direction: String,
    pub started_at: String,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration: i64,
    pub trunk: String,
    pub rating_status: String,
    pub unrated_reason: Option<String>,
    pub billed_account: Option<String>,
    pub cost: Option<String>,
    pub currency: String,
    /// (label, value) lines of the rating; empty for a call not charged.
    pub rating: Vec<(String, String)>,
    /// A note about the rating (the rate changed or was removed since).
    pub rating_note: Option<String>,
}

/// What re-rating the filtered calls did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RerateOutcome {
    pub matched: u64,
    pub rerated: u64,
    pub unchanged: u64,
    pub unrated: u64,
    pub delta: String,
    pub currency: String,
}

/// The list options of the filters, checked; a refusal at the fields.
#[cfg(feature = "ssr")]
fn checked_query(args: &CdrListArgs) -> Result<model::query::ListQuery, ServerFnError> {
    let errors = args.check();
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    model::query::ListQuery::parse(&args.list_params(), &::billing::cdrs::CDR_SPEC).map_err(|e| {
        super::invalid(vec![FieldError::new(
            if e.parameter == "search" {
                "search"
            } else {
                "filter"
            },
            e.message,
        )])
    })
}

/// The tenant's currency.
#[cfg(feature = "ssr")]
async fn currency(db: &::billing::Db, scope: &::billing::Scope) -> Result<String, ServerFnError> {
    Ok(db
        .get_tenant(&scope.caller, scope.tenant_id)
        .await
        .map_err(crate::server::to_server_error)?
        .currency)
}

/// A page of the tenant's calls (its administrators), or a standard
/// user's own calls; `None` until a system administrator has chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "list_cdrs", input = Json, output = Json)]
pub async fn list_cdrs(
    tenant: Option<String>,
    args: CdrListArgs,
) -> Result<Option<CdrPage>, ServerFnError> {
    use crate::server::{db, reading_scope, to_server_error};

    let Some(scope) = reading_scope(tenant).await? else {
        return Ok(None);
    };
    super::own_or_managers(&scope, "see its calls")?;
    let query = checked_query(&args)?;
    let db = db()?;
    let page = db
        .list_cdrs(&scope, &query)
        .await
        .map_err(to_server_error)?;
    Ok(Some(CdrPage {
        count: page.count,
        skip: query.skip,
        top: query.top,
        currency: currency(&db, &scope).await?,
        items: page
            .items
            .into_iter()
            .map(|c| CdrRow {
                id: c.id,
                call_id: c.call.call_id,
                caller: c.call.caller,
                callee: c.call.callee,
                started_at: c.call.started_at,
                direction: c.call.direction.to_string(),
                duration: c.call.duration,
                rating_status: c.rating_status.to_string(),
                cost: c.cost.map(|m| m.to_fixed()),
                unrated_reason: c.unrated_reason,
            })
            .collect(),
    }))
}

/// One of the tenant's calls with its rating (its administrators), or one
/// of a standard user's own.
#[server(prefix = "/portal/fn", endpoint = "get_cdr_detail", input = Json, output = Json)]
pub async fn get_cdr_detail(
    tenant: Option<String>,
    id: String,
) -> Result<CdrDetail, ServerFnError> {
    use crate::server::{db, read_scope, to_server_error};

    let scope = read_scope(tenant).await?;
    super::own_or_managers(&scope, "see its calls")?;
    let id = model::ApiId::decode(&id)
        .ok_or_else(|| to_server_error(::billing::Error::NotFound("CDR")))?;
    let db = db()?;
    let cdr = db.get_cdr(&scope, id).await.map_err(to_server_error)?;
    let rated = db.cdr_rating(&scope, id).await.map_err(to_server_error)?;
    let currency = match &rated {
        Some(r) => r.currency.clone(),
        None => currency(&db, &scope).await?,
    };
    let mut rating = Vec::new();
    let mut rating_note = None;
    if let Some(r) = rated {
        let line = |label: &str, value: String| (label.to_string(), value);
        rating.push(line("Matched prefix", r.prefix.clone()));
        if let Some(t) = &r.terms {
            rating.push(line(
                "Rate",
                format!(
                    "{} {c}/min first {} s, then {} {c}/min per {} s",
                    t.price_1,
                    t.interval_1,
                    t.price_n,
                    t.interval_n,
                    c = r.currency
                ),
            ));
            rating.push(line(
                "Free seconds · grace period",
                format!("{} s · {} s", t.free_seconds, t.grace_period),
            ));
        }
        if let Some(b) = &r.breakdown {
            rating.extend(super::prices::breakdown_lines(b, &r.currency));
        }
        if let Some(amount) = r.amount {
            rating.push(line(
                "Amount",
                format!("{} {}", amount.to_fixed(), r.currency),
            ));
        }
        rating_note = match (&r.breakdown, r.matches_cost) {
            (None, _) => Some(
                "The matched rate has been removed since; the cost stays as charged.".to_string(),
            ),
            (Some(_), false) => Some(
                "The rate has changed since the call was rated: a re-rating would charge the amount above."
                    .to_string(),
            ),
            _ => None,
        };
    }
    Ok(CdrDetail {
        call_id: cdr.call.call_id,
        caller: cdr.call.caller,
        callee: cdr.call.callee,
        destination: cdr.call.destination,
        direction: cdr.call.direction.to_string(),
        started_at: cdr.call.started_at,
        answered_at: cdr.call.answered_at,
        ended_at: cdr.call.ended_at,
        duration: cdr.call.duration,
        trunk: cdr.call.trunk,
        rating_status: cdr.rating_status.to_string(),
        unrated_reason: cdr.unrated_reason,
        billed_account: cdr.billed_account,
        cost: cdr.cost.map(|m| m.to_fixed()),
        currency,
        rating,
        rating_note,
    })
}

/// Re-rates the calls the filters match with the current rates (the
/// tenant's administrators).
#[server(prefix = "/portal/fn", endpoint = "rerate_cdrs", input = Json, output = Json)]
pub async fn rerate_cdrs(
    tenant: Option<String>,
    args: CdrListArgs,
) -> Result<RerateOutcome, ServerFnError> {
    use crate::server::{db, scope, to_server_error};

    let scope = scope(tenant).await?;
    super::managers_only(&scope, "re-rate its calls")?;
    let query = checked_query(&args)?;
    let db = db()?;
    let done = db
        .rerate_matching(&scope, &query)
        .await
        .map_err(to_server_error)?;
    Ok(RerateOutcome {
        matched: done.matched,
        rerated: done.rerated,
        unchanged: done.unchanged,
        unrated: done.unrated,
        delta: done.delta.to_fixed(),
        currency: currency(&db, &scope).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(from: &str, to: &str) -> CdrListArgs {
        CdrListArgs {
            from: Some(from.into()),
            to: Some(to.into()),
            ..CdrListArgs::default()
        }
    }

    #[test]
    fn days_are_checked_and_the_last_one_is_included() {
        assert_eq!(parse_day("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_day("2023-02-29"), None);
        assert_eq!(parse_day("2024-2-1"), None);
        assert_eq!(day_start_ms((1970, 1, 1)), 0);
        assert_eq!(day_start_ms((2026, 1, 1)), 1_767_225_600_000);
        assert_eq!(day_start_ms(next_day((2024, 2, 29))), 1_709_251_200_000);
        let fields: Vec<_> = args("2026-01-05", "2026-01-04")
            .check()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["to"]);
        assert_eq!(args("x", "").check()[0].field, "from");
        let params = CdrListArgs {
            status: Some("RATED".into()),
            direction: Some("OUTBOUND_CALL".into()),
            ..args("2025-12-01", "2025-12-31")
        }
        .list_params();
        assert_eq!(
            params.filter.as_deref(),
            Some(
                "started_at ge '2025-12-01T00:00:00Z' and started_at lt '2026-01-01T00:00:00Z' \
                 and rating_status eq 'RATED' and direction eq 'OUTBOUND_CALL'"
            )
        );
    }
}
