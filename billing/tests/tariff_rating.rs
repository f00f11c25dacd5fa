//! Which tariff rates a call, and how fresh the in-memory rate tables are when
//! another server process changes tariffs, rates or billing plans: two
//! handles on one database, on SQLite and on PostgreSQL.

use std::sync::Arc;

use billing::call_rates::TariffRef;
use billing::tenants::NewTenant;
use billing::testing::TestDb;
use billing::{Backend, Caller, Db};
use model::billing_plan::BillingPlanPatch;
use model::tariff::{RatePatch, TariffPatch};
use model::user::Role;
use serde_json::json;

fn rate(prefix: &str, price: &str) -> model::tariff::RateInput {
    let body = json!({
        "prefix": prefix, "interval_1": 60, "interval_n": 60, "price_1": price, "price_n": price,
    });
    RatePatch::from_json(body.as_object().expect("object"))
        .expect("valid")
        .into_new(0)
        .expect("complete")
}

/// Lets a change made on the other handle reach this one's quotes: they go
/// by the rates version read at most this long before.
async fn quotes_catch_up() {
    tokio::time::sleep(billing::resolver::QUOTES_SEE_CHANGES_WITHIN).await;
}

async fn price_of(db: &Db, scope: &billing::Scope, callee: &str) -> String {
    db.quote(scope, callee, 60, Some(1_800_000_000))
        .await
        .expect("a quote")
        .amount
        .to_wire()
}

async fn another_process_sees_every_change(backend: Backend) {
    let t = TestDb::new(backend).await.expect("database");
    let a = &t.db;
    let b = Db::connect(&t.url).await.expect("a second handle");
    let root = Caller {
        user_id: 0,
        username: "root".into(),
        role: Role::SystemAdmin,
        tenant_id: None,
        family: String::new(),
        expires_at: None,
        token_name: None,
        origin: billing::Origin::new(billing::Surface::Rest, None),
    };
    let tenant = a
        .create_tenant(
            &root,
            NewTenant {
                name: "Acme".into(),
                sip_domain: "acme.example.com".into(),
                currency: None,
            },
        )
        .await
        .expect("tenant");
    let scope = root.scope(model::ApiId::decode(&tenant.id)).expect("scope");
    a.create_rate(&scope, TariffRef::Default, rate("44", "0.01"))
        .await
        .expect("default rate");
    let premium = a
        .create_tariff(
            &scope,
            TariffPatch {
                name: Some("Premium".into()),
                ..TariffPatch::default()
            }
            .into_new()
            .expect("tariff"),
        )
        .await
        .expect("premium");
    let premium_rate = a
        .create_rate(&scope, TariffRef::Id(premium.id), rate("44", "0.5"))
        .await
        .expect("premium rate");
    assert_eq!(price_of(a, &scope, "4420").await, "0.01");
    let before = a.tenant_rating(scope.tenant_id).await.expect("rating");

    // A plan added elsewhere routes the next call; the default tariff's table
    // is reused, not rebuilt.
    b.create_billing_plan(
        &scope,
        BillingPlanPatch {
            prefix: Some("442".into()),
            tariff_id: Some(premium.id),
            ..BillingPlanPatch::default()
        },
    )
    .await
    .expect("plan");
    quotes_catch_up().await;
    assert_eq!(price_of(a, &scope, "4420").await, "0.5");
    assert_eq!(price_of(a, &scope, "4430").await, "0.01");
    let after = a.tenant_rating(scope.tenant_id).await.expect("rating");
    assert!(Arc::ptr_eq(&before.default, &after.default));

    // A rate changed elsewhere is charged by at once, and quoted by within
    // the bound.
    b.update_rate(
        &scope,
        TariffRef::Id(premium.id),
        premium_rate,
        RatePatch::from_json(json!({"price_1": "0.7"}).as_object().expect("object"))
            .expect("valid"),
    )
    .await
    .expect("update");
    let charging = a.tenant_rating(scope.tenant_id).await.expect("rating");
    let rate = charging
        .resolve("4420")
        .tariff
        .table
        .lookup("4420", 1_800_000_000)
        .expect("a rate")
        .clone();
    assert_eq!(rate.terms.price_1.normalize().to_string(), "0.7");
    quotes_catch_up().await;
    assert_eq!(price_of(a, &scope, "4420").await, "0.7");

    // A tariff moved to another currency stops charging its calls.
    b.update_tariff(
        &scope,
        premium.id,
        TariffPatch {
            currency: Some("EUR".into()),
            ..TariffPatch::default()
        },
    )
    .await
    .expect("currency");
    quotes_catch_up().await;
    let refused = a.quote(&scope, "4420", 60, Some(1_800_000_000)).await;
    assert!(
        matches!(
            refused,
            Err(billing::Error::Refused {
                code: "CURRENCY_MISMATCH",
                ..
            })
        ),
        "{refused:?}"
    );

    // The plan gone, the default tariff rates the call again.
    let plans = b
        .list_billing_plans(
            &scope,
            &model::query::ListQuery::parse(
                &model::query::ListParams::default(),
                &billing::billing_plans::BILLING_PLAN_SPEC,
            )
            .expect("query"),
        )
        .await
        .expect("plans");
    b.delete_billing_plan(&scope, plans.items[0].id)
        .await
        .expect("delete plan");
    quotes_catch_up().await;
    assert_eq!(price_of(a, &scope, "4420").await, "0.01");
    b.close().await;
}

#[tokio::test]
async fn another_process_sees_every_change_on_sqlite() {
    another_process_sees_every_change(Backend::Sqlite).await;
}

#[tokio::test]
async fn another_process_sees_every_change_on_postgres() {
    another_process_sees_every_change(Backend::Postgres).await;
}
