//! Statements per billing cycle, for the statements pages: the list of an
//! account's (or every account's) statements, one statement with its lines
//! as the printable page shows it, and the tenant's statement settings. The
//! same `billing` use cases as `/api/statements` and
//! `/api/tenant/statement_settings`; a standard user reads only its own.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::statement::StatementSettings;
use model::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::days::given;

/// Statements per page unless the page asks for another size.
pub const PAGE_SIZE: u32 = 25;

/// The statuses the filter offers.
pub const STATUSES: [(&str, &str); 2] = [("OPEN", "Open"), ("CLOSED", "Closed")];

/// The cycles the settings offer, with their labels.
pub const CYCLES: [(&str, &str); 3] = [
    ("MONTHLY", "Monthly"),
    ("BIWEEKLY", "Every two weeks"),
    ("WEEKLY", "Weekly"),
];

/// What the account filter names for the tenant's own account.
pub const TENANT_ACCOUNT: &str = "tenant";

/// The list's parameters, as the page's URL holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementArgs {
    /// `tenant` for the tenant's own account, a user's id, or none for all.
    pub account: Option<String>,
    pub status: Option<String>,
    pub skip: Option<String>,
    pub top: Option<String>,
}

impl StatementArgs {
    /// What is wrong with the filters, field by field.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(status) = given(&self.status) {
            if !STATUSES.iter().any(|(v, _)| *v == status) {
                errors.push(FieldError::new("status", "is not a statement status"));
            }
        }
        if let Some(account) = given(&self.account) {
            if account != TENANT_ACCOUNT && model::ApiId::decode(account).is_none() {
                errors.push(FieldError::new(
                    "account",
                    "is not an account of the tenant",
                ));
            }
        }
        errors
    }
}

/// One statement as the list shows it; amounts with five decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRow {
    pub id: String,
    pub number: i64,
    /// The user's name, or the tenant's for its own account.
    pub account: String,
    /// Whether it is the tenant's own account.
    pub tenant_account: bool,
    pub first_day: String,
    pub last_day: String,
    pub status: String,
    pub opening: String,
    pub closing: String,
    pub charges: String,
    pub tax: String,
}

/// One page of statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementPage {
    pub count: i64,
    pub skip: u64,
    pub top: u32,
    pub currency: String,
    pub items: Vec<StatementRow>,
}

/// One line of a statement as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    pub section: String,
    pub item: String,
    pub description: String,
    /// `2026-01-05 10:00` (UTC), or the day of a day's corrections.
    pub at: Option<String>,
    pub calls: i64,
    pub seconds: i64,
    pub amount: String,
    pub credit_limit: Option<String>,
}

/// One statement as its printable page shows it; amounts with five decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementView {
    pub id: String,
    pub number: i64,
    pub tenant_name: String,
    /// The user's name, or "the tenant's account".
    pub account: String,
    pub tenant_account: bool,
    pub status: String,
    pub first_day: String,
    pub last_day: String,
    pub currency: String,
    pub opening: String,
    pub recharges: String,
    pub call_charges: String,
    pub adjustments: String,
    pub held: String,
    pub closing: String,
    pub calls: i64,
    pub charges: String,
    /// "VAT 20%" (and "included"), or none without a tax.
    pub tax_label: Option<String>,
    pub tax_included: bool,
    pub tax: String,
    pub total: String,
    /// When it closed (`2026-02-01 00:01`, UTC).
    pub closed_at: Option<String>,
    pub lines: Vec<LineView>,
}

/// `2026-01-05T10:00:00Z` as `2026-01-05 10:00`.
pub fn short_time(text: &str) -> String {
    let text = text.trim_end_matches('Z').replacen('T', " ", 1);
    match text.rsplit_once(':') {
        Some((minutes, _)) if text.len() > 16 => minutes.to_string(),
        _ => text,
    }
}

#[cfg(feature = "ssr")]
fn days(s: &::billing::statements::Statement) -> (String, String) {
    model::statement::period_days(&s.period_start, &s.period_end)
        .unwrap_or_else(|| (s.period_start.clone(), s.period_end.clone()))
}

/// A page of the statements the caller reads: every account's of the
/// tenant for its administrators (or one account's), a standard user's own;
/// `None` until a system administrator has chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "list_statements", input = Json, output = Json)]
pub async fn list_statements(
    tenant: Option<String>,
    args: StatementArgs,
) -> Result<Option<StatementPage>, ServerFnError> {
    use crate::server::{db, reading_scope, to_server_error};
    use model::query::ListParams;

    let Some(scope) = reading_scope(tenant).await? else {
        return Ok(None);
    };
    super::own_or_managers(&scope, "see every account's statements")?;
    let errors = args.check();
    if !errors.is_empty() {
        return Err(super::invalid(errors));
    }
    let mut filter = Vec::new();
    if !scope.own {
        match given(&args.account) {
            None => {}
            Some(TENANT_ACCOUNT) => filter.push("user_id eq null".to_string()),
            Some(user) => filter.push(format!("user_id eq '{user}'")),
        }
    }
    if let Some(status) = given(&args.status) {
        filter.push(format!("status eq '{status}'"));
    }
    let params = ListParams {
        filter: (!filter.is_empty()).then(|| filter.join(" and ")),
        orderby: Some("number desc".into()),
        skip: given(&args.skip).map(str::to_string),
        top: Some(given(&args.top).map_or_else(|| PAGE_SIZE.to_string(), str::to_string)),
        ..ListParams::default()
    };
    let query = super::list_query(&params, &::billing::statements::STATEMENT_SPEC)?;
    let db = db()?;
    let own = db
        .get_tenant(&scope.caller, scope.tenant_id)
        .await
        .map_err(to_server_error)?;
    let page = db
        .list_statements(&scope, &query)
        .await
        .map_err(to_server_error)?;
    Ok(Some(StatementPage {
        count: page.count,
        skip: query.skip,
        top: query.top,
        currency: own.currency,
        items: page
            .items
            .into_iter()
            .map(|s| {
                let (first_day, last_day) = days(&s);
                StatementRow {
                    id: s.id,
                    number: s.number,
                    tenant_account: s.user_id.is_none(),
                    account: s.username.unwrap_or_else(|| own.name.clone()),
                    first_day,
                    last_day,
                    status: s.status.to_string(),
                    opening: s.opening_balance.to_fixed(),
                    closing: s.closing_balance.to_fixed(),
                    charges: s.charges.to_fixed(),
                    tax: s.tax.to_fixed(),
                }
            })
            .collect(),
    }))
}

/// One statement with its lines (the tenant's administrators; a standard
/// user its own).
#[server(prefix = "/portal/fn", endpoint = "get_statement", input = Json, output = Json)]
pub async fn get_statement(
    tenant: Option<String>,
    id: String,
) -> Result<StatementView, ServerFnError> {
    use crate::server::{db, read_scope, to_server_error};

    let scope = read_scope(tenant).await?;
    super::own_or_managers(&scope, "see every account's statements")?;
    let id = super::id_of(&id, "statement")?;
    let d = db()?
        .get_statement(&scope, id)
        .await
        .map_err(to_server_error)?;
    let s = &d.statement;
    let (first_day, last_day) = days(s);
    let tax_label = (s.tax_rate != model::Money::ZERO || !s.tax_name.is_empty()).then(|| {
        format!(
            "{} {}%{}",
            s.tax_name,
            s.tax_rate,
            if s.tax_included { ", included" } else { "" }
        )
    });
    Ok(StatementView {
        id: s.id.clone(),
        number: s.number,
        tenant_name: d.tenant_name.clone(),
        account: s
            .username
            .clone()
            .unwrap_or_else(|| "the tenant's account".into()),
        tenant_account: s.user_id.is_none(),
        status: s.status.to_string(),
        first_day,
        last_day,
        currency: s.currency.clone(),
        opening: s.opening_balance.to_fixed(),
        recharges: s.recharges.to_fixed(),
        call_charges: s.call_charges.to_fixed(),
        adjustments: s.adjustments.to_fixed(),
        held: s.held.to_fixed(),
        closing: s.closing_balance.to_fixed(),
        calls: s.calls,
        charges: s.charges.to_fixed(),
        tax_label,
        tax_included: s.tax_included,
        tax: s.tax.to_fixed(),
        total: s.total.to_fixed(),
        closed_at: s.closed_at.as_deref().map(short_time),
        lines: d
            .lines
            .into_iter()
            .map(|l| LineView {
                section: l.section.to_string(),
                at: l.at.as_deref().map(|t| {
                    if l.item == "RERATE" {
                        t.split('T').next().unwrap_or_default().to_string()
                    } else {
                        short_time(t)
                    }
                }),
                item: l.item,
                description: l.description,
                calls: l.calls,
                seconds: l.seconds,
                amount: l.amount.to_fixed(),
                credit_limit: l.credit_limit.map(|m| m.to_fixed()),
            })
            .collect(),
    })
}

/// The statement settings of the tenant acted on (its administrators);
/// `None` until a system administrator has chosen one.
#[server(prefix = "/portal/fn", endpoint = "statement_settings", input = Json, output = Json)]
pub async fn get_statement_settings(
    tenant: Option<String>,
) -> Result<Option<StatementSettings>, ServerFnError> {
    use crate::server::{chosen_scope, db};
    let Some(scope) = chosen_scope(tenant).await? else {
        return Ok(None);
    };
    super::managers_only(&scope, "see its statement settings")?;
    super::answer(db()?.statement_settings(&scope).await).map(Some)
}

/// Changes the statement settings (the REST API's body: `cycle`,
/// `cycle_day`, `tax_name`, `tax_rate`, `tax_included`); answers them as
/// saved.
#[server(prefix = "/portal/fn", endpoint = "save_statement_settings", input = Json, output = Json)]
pub async fn save_statement_settings(
    tenant: Option<String>,
    body: Map<String, Value>,
) -> Result<StatementSettings, ServerFnError> {
    use crate::server::db;
    use model::statement::StatementSettingsPatch;

    let scope = super::manager_scope(tenant).await?;
    let patch = super::read(StatementSettingsPatch::from_json(&body))?;
    super::answer(db()?.update_statement_settings(&scope, patch).await)
}
