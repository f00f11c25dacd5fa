//! XML-RPC tariffs: `addTariff`, `getTariffInfo`, `updateTariff`,
//! `deleteTariff`, `listTariffs`.

use billing::tariffs::{Tariff, TARIFF_SPEC};
use billing::{Db, Scope};
use model::tariff::TariffPatch;

use super::args::Call;
use super::codec::XValue;
use super::{every, money, ok, Answer};
use crate::aliases::{Aliases, XMLRPC_TARIFF};

/// A tariff as XML-RPC shows it.
fn view(t: Tariff) -> XValue {
    XValue::object([
        ("i_tariff", XValue::Int(t.id)),
        ("name", XValue::Str(t.name)),
        ("iso_4217", XValue::Str(t.currency)),
        ("free_seconds", XValue::Int(t.free_seconds)),
        ("connect_fee", money(t.connect_fee)),
        ("post_call_surcharge", money(t.post_call_surcharge)),
        ("grace_period", XValue::Int(t.grace_period)),
        ("is_default", XValue::Bool(t.is_default)),
    ])
}

/// `addTariff`: in USD unless `iso_4217` names another currency.
pub async fn add(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(XMLRPC_TARIFF, &[])?;
    let currency = a.currency()?.unwrap_or_else(|| "USD".into());
    let mut new = TariffPatch::from_json(&a.json()?)
        .and_then(TariffPatch::into_new)
        .map_err(|e| a.fault(e))?;
    new.currency = Some(currency);
    let t = db.create_tariff(scope, new).await.map_err(|e| a.error(e))?;
    Ok(ok([("i_tariff", XValue::Int(t.id))]))
}

pub async fn get(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(Aliases::NONE, &["i_tariff"])?;
    let t = db.get_tariff(scope, a.required_id("i_tariff")?).await?;
    Ok(ok([("tariff_info", view(t))]))
}

pub async fn update(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(XMLRPC_TARIFF, &["i_tariff"])?;
    let id = a.required_id("i_tariff")?;
    a.currency()?;
    let patch = TariffPatch::from_json(&a.json()?).map_err(|e| a.fault(e))?;
    db.update_tariff(scope, id, patch)
        .await
        .map_err(|e| a.error(e))?;
    Ok(ok([("i_tariff", XValue::Int(id))]))
}

pub async fn delete(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(Aliases::NONE, &["i_tariff"])?;
    db.delete_tariff(scope, a.required_id("i_tariff")?).await?;
    Ok(ok([]))
}

/// `listTariffs`: every tariff of the tenant, in id order.
pub async fn list(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    call.args(Aliases::NONE, &[])?;
    let list = every(
        &TARIFF_SPEC,
        |query| async move { db.list_tariffs(scope, &query).await },
        view,
    )
    .await?;
    Ok(ok([("list", XValue::Array(list))]))
}
