//! XML-RPC tariff rates: `addTariffRate`, `listTariffRates`,
//! `updateTariffRate`, `deleteTariffRate`.

use billing::call_rates::{TariffRef, TARIFF_RATE_SPEC};
use billing::{Db, Scope};
use model::tariff::{RatePatch, StoredRate};

use super::args::Call;
use super::codec::XValue;
use super::{dates, money, ok, page, Answer, RATES_PAGE_MAX};
use crate::aliases::{Aliases, XMLRPC_RATE};

/// A rate as XML-RPC shows it.
fn view(r: StoredRate) -> XValue {
    let f = r.fields;
    XValue::object([
        ("i_tariff_rate", XValue::Int(r.id)),
        ("i_tariff", XValue::Int(r.tariff_id)),
        ("prefix", XValue::Str(f.prefix)),
        ("interval_1", XValue::Int(f.interval_1)),
        ("interval_n", XValue::Int(f.interval_n)),
        ("price_1", money(f.price_1)),
        ("price_n", money(f.price_n)),
        ("free_seconds", XValue::Int(f.free_seconds)),
        ("grace_period", XValue::Int(f.grace_period)),
        ("connect_fee", money(f.connect_fee)),
        ("post_call_surcharge", money(f.postcall_surcharge)),
        ("description", XValue::Str(f.description)),
        ("direction", XValue::Str(r.direction.to_string())),
        (
            "activation_date",
            XValue::DateTime(dates::iso8601(r.activation_at)),
        ),
        (
            "expiration_date",
            r.expiration_at
                .map_or(XValue::Nil, |e| XValue::DateTime(dates::iso8601(e))),
        ),
        ("forbidden", XValue::Bool(r.forbidden)),
        ("grace_period_enable", XValue::Bool(r.grace_period_enable)),
    ])
}

/// `addTariffRate`: in force from now unless `activation_date` says; an
/// `iso_4217` must be the tariff's currency (checked with the insert).
pub async fn add(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(XMLRPC_RATE, &["i_tariff"])?;
    let tariff_id = a.required_id("i_tariff")?;
    let activation = a.date("activation_date")?;
    a.date("expiration_date")?;
    a.currency()?;
    let now = billing::db::now_ms();
    let mut patch = RatePatch::from_json(&a.json()?).map_err(|e| a.fault(e))?;
    if activation.is_none() {
        patch.activation_at = Some(now);
    }
    let rate = patch.into_new(now).map_err(|e| a.fault(e))?;
    let id = db
        .create_rate(scope, TariffRef::Id(tariff_id), rate)
        .await
        .map_err(|e| a.error(e))?;
    Ok(ok([
        ("i_tariff", XValue::Int(tariff_id)),
        ("i_tariff_rate", XValue::Int(id)),
    ]))
}

/// `listTariffRates`: a page (`offset`, `limit`) in id order, and the total.
pub async fn list(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(Aliases::NONE, &["i_tariff", "offset", "limit"])?;
    let tariff_id = a.required_id("i_tariff")?;
    let offset = a.int("offset", 0, i64::MAX)?.unwrap_or(0);
    let limit = a.int("limit", 1, RATES_PAGE_MAX)?.unwrap_or(RATES_PAGE_MAX);
    let query = page(offset, limit, &TARIFF_RATE_SPEC)?;
    let found = db
        .list_rates(scope, TariffRef::Id(tariff_id), &query)
        .await?;
    Ok(ok([
        ("i_tariff", XValue::Int(tariff_id)),
        ("total", XValue::Int(found.count)),
        (
            "list",
            XValue::Array(found.items.into_iter().map(view).collect()),
        ),
    ]))
}

/// `updateTariffRate`: changes the members named (of a rate of `i_tariff`,
/// when given).
pub async fn update(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(XMLRPC_RATE, &["i_tariff_rate", "i_tariff"])?;
    let id = a.required_id("i_tariff_rate")?;
    let tariff = match a.id("i_tariff")? {
        Some(t) => TariffRef::Id(t),
        None => TariffRef::Any,
    };
    a.date("activation_date")?;
    a.date("expiration_date")?;
    a.currency()?;
    let patch = RatePatch::from_json(&a.json()?).map_err(|e| a.fault(e))?;
    let rate = db
        .update_rate(scope, tariff, id, patch)
        .await
        .map_err(|e| a.error(e))?;
    Ok(ok([
        ("i_tariff", XValue::Int(rate.tariff_id)),
        ("i_tariff_rate", XValue::Int(id)),
    ]))
}

pub async fn delete(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(Aliases::NONE, &["i_tariff_rate"])?;
    let id = a.required_id("i_tariff_rate")?;
    db.delete_rate(scope, TariffRef::Any, id).await?;
    Ok(ok([("i_tariff_rate", XValue::Int(id))]))
}
