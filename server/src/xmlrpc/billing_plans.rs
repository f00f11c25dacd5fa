//! XML-RPC billing plans: `addBillingPlan`, `listBillingPlans`,
//! `deleteBillingPlan`.

use billing::billing_plans::{BillingPlan, BILLING_PLAN_SPEC};
use billing::{Db, Scope};
use model::billing_plan::BillingPlanPatch;
use model::ApiId;
use serde_json::Value;

use super::args::Call;
use super::codec::XValue;
use super::{every, ok, Answer};
use crate::aliases::{Aliases, XMLRPC_PLAN};

/// A billing plan as XML-RPC shows it.
fn view(p: BillingPlan) -> XValue {
    XValue::object([
        ("i_billing_plan", XValue::Int(p.id)),
        ("prefix", XValue::Str(p.prefix)),
        ("i_tariff", XValue::Int(p.tariff_id)),
        ("description", XValue::Str(p.description)),
        ("i_billing_plan_suspend_mode", XValue::Int(p.suspend_mode)),
        ("iso_4217", XValue::Str(p.currency)),
        ("billing_cycle", XValue::Int(p.billing_cycle.number())),
        ("i_billing_day", XValue::Int(p.billing_day)),
        ("round_up", XValue::Bool(p.round_up)),
        ("prepaid", XValue::Bool(p.prepaid)),
    ])
}

/// `addBillingPlan`: `i_tariff` and `prefix` are required (the use case
/// says which is missing).
pub async fn add(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(XMLRPC_PLAN, &[])?;
    let tariff_id = a.required_id("i_tariff")?;
    let mut body = a.json()?;
    body.insert("tariff_id".into(), Value::String(ApiId::encode(tariff_id)));
    let plan = BillingPlanPatch::from_json(&body).map_err(|e| a.fault(e))?;
    let created = db
        .create_billing_plan(scope, plan)
        .await
        .map_err(|e| a.error(e))?;
    Ok(ok([
        ("i_tariff", XValue::Int(created.tariff_id)),
        ("i_billing_plan", XValue::Int(created.id)),
    ]))
}

/// `listBillingPlans`: every plan of the tenant, in id order.
pub async fn list(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    call.args(Aliases::NONE, &[])?;
    let list = every(
        &BILLING_PLAN_SPEC,
        |query| async move { db.list_billing_plans(scope, &query).await },
        view,
    )
    .await?;
    Ok(ok([("list", XValue::Array(list))]))
}

pub async fn delete(db: &Db, scope: &Scope, call: Call<'_>) -> Answer {
    let a = call.args(Aliases::NONE, &["i_billing_plan"])?;
    db.delete_billing_plan(scope, a.required_id("i_billing_plan")?)
        .await?;
    Ok(ok([]))
}
