//! Rate tables never stall a rating, on SQLite and on PostgreSQL: a
//! single-rate change is applied to the table in service (not rebuilt), an
//! import answers once its server's new table rates, and while a table is
//! being built the one in service goes on rating, on the server that built
//! it as on another sharing the database.

use std::time::Duration;

use billing::call_rates::TariffRef;
use billing::charging::Authorization;
use billing::resolver::QUOTES_SEE_CHANGES_WITHIN;
use billing::testing::{new_tenant, TestDb};
use billing::{Backend, Db, Scope};
use model::billing_settings::{BillingSettingsPatch, BillingType};
use model::tariff::RatePatch;
use serde_json::json;

const AT: i64 = 1_800_000_000;

/// A deck of `rows` prefixes 4400000… priced `cents` (per minute) plus the
/// row's number of tenths of a cent.
fn deck(rows: u64, cents: u64) -> Vec<Result<Vec<u8>, std::io::Error>> {
    let mut csv = String::from(
        "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description\n",
    );
    for i in 0..rows {
        let price = format!("0.{:02}{:03}", cents, i % 1000);
        csv.push_str(&format!(
            "{},INTERNATIONAL,0,0,60,60,0,0,{price},{price},Row {i}\n",
            4_400_000 + i
        ));
    }
    vec![Ok(csv.into_bytes())]
}

async fn price(db: &Db, scope: &Scope, callee: &str) -> String {
    db.quote(scope, callee, 60, Some(AT))
        .await
        .expect("a quote")
        .amount
        .to_wire()
}

/// A quote that must not wait for a table to be built.
async fn price_now(db: &Db, scope: &Scope, callee: &str) -> String {
    tokio::time::timeout(Duration::from_secs(10), price(db, scope, callee))
        .await
        .expect("the quote answers while a table is being built")
}

async fn rate_id(db: &Db, scope: &Scope, prefix: &str) -> i64 {
    let query = model::query::ListQuery::parse(
        &model::query::ListParams {
            filter: Some(format!("prefix eq '{prefix}'")),
            ..Default::default()
        },
        &billing::call_rates::CALL_RATE_SPEC,
    )
    .expect("query");
    let page = db.list_call_rates(scope, &query).await.expect("list");
    model::ApiId::decode(&page.items[0].id).expect("id")
}

fn patch(body: serde_json::Value) -> RatePatch {
    RatePatch::from_json(body.as_object().expect("object")).expect("patch")
}

async fn tenant(backend: Backend, rows: u64) -> (TestDb, Scope) {
    let t = TestDb::new(backend).await.expect("database");
    let scope = new_tenant(&t.db, "acme.example.com").await.expect("tenant");
    t.db.import_call_rates(&scope, futures::stream::iter(deck(rows, 1)))
        .await
        .expect("deck");
    (t, scope)
}

async fn single_rate_changes_are_applied_to_the_table_in_service(backend: Backend) {
    let (t, scope) = tenant(backend, 3000).await;
    let a = &t.db;
    let b = Db::connect(&t.url).await.expect("a second server");
    assert_eq!(price(a, &scope, "44000071234").await, "0.01007");
    let built = a.tenant_rating(scope.tenant_id).await.expect("rating");
    assert_eq!(built.default.table.pending_changes(), 0);

    // Changed here: the next rating has it, on the same index.
    let id = rate_id(a, &scope, "4400007").await;
    a.update_rate(
        &scope,
        TariffRef::Default,
        id,
        patch(json!({"price_1": "0.5"})),
    )
    .await
    .expect("update");
    assert_eq!(price(a, &scope, "44000071234").await, "0.5");
    // Added and removed here.
    let added = a
        .create_rate(
            &scope,
            TariffRef::Default,
            patch(
                json!({"prefix": "44000071", "interval_1": 60, "interval_n": 60,
                         "price_1": "0.25", "price_n": "0.25"}),
            )
            .into_new(0)
            .expect("complete"),
        )
        .await
        .expect("create");
    assert_eq!(price(a, &scope, "44000071234").await, "0.25");
    assert_eq!(price(a, &scope, "44000072234").await, "0.5");
    a.delete_rate(&scope, TariffRef::Default, added)
        .await
        .expect("delete");
    assert_eq!(price(a, &scope, "44000071234").await, "0.5");

    // Changed on another server: this one's quotes have it within the
    // bound, applied to the table in service.
    let other = rate_id(&b, &scope, "4400008").await;
    b.update_rate(
        &scope,
        TariffRef::Default,
        other,
        patch(json!({"price_1": "0.75"})),
    )
    .await
    .expect("update elsewhere");
    tokio::time::sleep(QUOTES_SEE_CHANGES_WITHIN).await;
    assert_eq!(price_now(a, &scope, "44000081234").await, "0.75");
    b.delete_rate(&scope, TariffRef::Default, id)
        .await
        .expect("delete elsewhere");
    tokio::time::sleep(QUOTES_SEE_CHANGES_WITHIN).await;
    let gone = tokio::time::timeout(
        Duration::from_secs(10),
        a.quote(&scope, "44000071234", 60, Some(AT)),
    )
    .await
    .expect("the quote answers");
    assert!(
        matches!(
            gone,
            Err(billing::Error::Refused {
                code: "NO_RATE",
                ..
            })
        ),
        "{gone:?}"
    );

    // None of it rebuilt the table: the changes sit beside the same index.
    let now = a.tenant_rating(scope.tenant_id).await.expect("rating");
    assert!(now.default.table.shares_index_with(&built.default.table));
    assert!(now.default.table.pending_changes() > 0);
    assert_eq!(now.default.table.len(), 2999);
    b.close().await;
}

async fn an_import_answers_once_its_table_rates(backend: Backend) {
    let (t, scope) = tenant(backend, 3000).await;
    let a = &t.db;
    assert_eq!(price(a, &scope, "44000071234").await, "0.01007");
    let before = a.tenant_rating(scope.tenant_id).await.expect("rating");
    a.import_call_rates(&scope, futures::stream::iter(deck(3000, 2)))
        .await
        .expect("import");
    // The very next quote after the answer: the new deck, without waiting.
    assert_eq!(price_now(a, &scope, "44000071234").await, "0.02007");
    let after = a.tenant_rating(scope.tenant_id).await.expect("rating");
    assert!(!after.default.table.shares_index_with(&before.default.table));
    assert_eq!(after.default.table.pending_changes(), 0);
    assert!(!after.stale);
}

async fn ratings_go_on_while_a_table_is_built(backend: Backend) {
    let (t, scope) = tenant(backend, 3000).await;
    let a = &t.db;
    let b = Db::connect(&t.url).await.expect("a second server");
    a.update_billing_settings(
        &scope,
        BillingSettingsPatch {
            enabled: Some(true),
            billing_type: Some(BillingType::Online),
            ..Default::default()
        },
    )
    .await
    .expect("online charging");
    a.recharge_tenant(&scope, model::Money::from_units(100 * 100_000))
        .await
        .expect("recharge");
    assert_eq!(price(a, &scope, "44000071234").await, "0.01007");
    // What that quote may read again in the background is read before the
    // other server's import.
    tokio::time::sleep(QUOTES_SEE_CHANGES_WITHIN).await;

    // Another server imports a deck while this one cannot build its new
    // table: its calls are rated and authorised with the table in service.
    let paused = a.pause_rate_table_builds().await;
    b.import_call_rates(&scope, futures::stream::iter(deck(3000, 3)))
        .await
        .expect("import elsewhere");
    assert_eq!(price_now(a, &scope, "44000071234").await, "0.01007");
    assert!(
        a.tenant_rating(scope.tenant_id)
            .await
            .expect("rating")
            .stale
    );
    let call = |id: &str| Authorization {
        call_id: id.into(),
        caller: "101".into(),
        callee: "44000071234".into(),
        extension: None,
    };
    let grant = tokio::time::timeout(
        Duration::from_secs(10),
        a.authorize_call(&scope, call("c1")),
    )
    .await
    .expect("the authorisation answers while a table is being built")
    .expect("granted");
    assert_eq!(grant.rate.prefix, "4400007");
    assert_eq!(price_now(a, &scope, "44000071234").await, "0.01007");

    // Once the build may run, the new table replaces the one in service.
    drop(paused);
    let mut rated = String::new();
    for _ in 0..600 {
        rated = price_now(a, &scope, "44000071234").await;
        if rated != "0.01007" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rated, "0.03007");
    assert!(
        !a.tenant_rating(scope.tenant_id)
            .await
            .expect("rating")
            .stale
    );
    // A re-rating waits for the current tables rather than use older ones.
    let fresh = a.fresh_tenant_rating(scope.tenant_id).await.expect("fresh");
    assert!(!fresh.stale);
    b.close().await;
}

async fn quotes_need_no_connection_while_their_table_is_in_memory(backend: Backend) {
    let (t, scope) = tenant(backend, 3000).await;
    let a = &t.db;
    let b = Db::connect(&t.url).await.expect("a second server");
    assert_eq!(price(a, &scope, "44000071234").await, "0.01007");
    // A change made elsewhere is quoted by within the bound, also when every
    // connection of this server's pool is taken.
    b.import_call_rates(&scope, futures::stream::iter(deck(3000, 4)))
        .await
        .expect("import elsewhere");
    let mut rated = String::new();
    for _ in 0..600 {
        rated = price_now(a, &scope, "44000071234").await;
        if rated != "0.01007" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rated, "0.04007");

    // Every connection taken (as by a long import): the next quote is
    // answered from memory. The last connection is taken right after a
    // rating read the rates version; on a machine so loaded that the read
    // grew too old meanwhile, the round is tried again.
    let max = a.pool().options().get_max_connections() as usize;
    let mut held = Vec::new();
    while held.len() + 1 < max {
        held.push(a.pool().acquire().await.expect("a connection"));
    }
    let mut answered = None;
    for _ in 0..10 {
        // A rating that reads the rates version (as a charge does).
        a.tenant_rating(scope.tenant_id).await.expect("rating");
        let last = a.pool().acquire().await.expect("the last connection");
        answered = tokio::time::timeout(
            Duration::from_secs(2),
            a.quote(&scope, "44000072234", 60, Some(AT)),
        )
        .await
        .ok();
        drop(last);
        if answered.is_some() {
            break;
        }
    }
    let quote = answered
        .expect("a quote answers while every connection is taken")
        .expect("a quote");
    assert_eq!(quote.amount.to_wire(), "0.04007");
    drop(held);
    b.close().await;
}

async fn a_rate_without_its_own_values_takes_its_tariffs(backend: Backend) {
    let (t, scope) = tenant(backend, 3000).await;
    let a = &t.db;
    // A rate that leaves its connect fee unset.
    a.create_rate(
        &scope,
        TariffRef::Default,
        patch(
            json!({"prefix": "44000071", "interval_1": 60, "interval_n": 60,
                     "price_1": "0.25", "price_n": "0.25"}),
        )
        .into_new(0)
        .expect("complete"),
    )
    .await
    .expect("create");
    assert_eq!(price(a, &scope, "44000071234").await, "0.25");
    let tariff = a
        .tenant_rating(scope.tenant_id)
        .await
        .expect("rating")
        .default
        .tariff_id;
    a.update_tariff(
        &scope,
        tariff,
        model::tariff::TariffPatch {
            connect_fee: Some(model::Money::from_units(10_000)),
            ..Default::default()
        },
    )
    .await
    .expect("tariff-wide connect fee");
    // The rate without one takes the tariff's; the deck's own 0 stays.
    assert_eq!(price_now(a, &scope, "44000071234").await, "0.35");
    assert_eq!(price_now(a, &scope, "44000072234").await, "0.01007");
    // The same in a table built afresh, on another server.
    let b = Db::connect(&t.url).await.expect("a second server");
    assert_eq!(price_now(&b, &scope, "44000071234").await, "0.35");
    assert_eq!(price_now(&b, &scope, "44000072234").await, "0.01007");
    b.close().await;
}

#[tokio::test]
async fn a_rate_without_its_own_values_takes_its_tariffs_on_sqlite() {
    a_rate_without_its_own_values_takes_its_tariffs(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_rate_without_its_own_values_takes_its_tariffs_on_postgres() {
    a_rate_without_its_own_values_takes_its_tariffs(Backend::Postgres).await;
}

#[tokio::test]
async fn quotes_need_no_connection_while_their_table_is_in_memory_on_sqlite() {
    quotes_need_no_connection_while_their_table_is_in_memory(Backend::Sqlite).await;
}

#[tokio::test]
async fn quotes_need_no_connection_while_their_table_is_in_memory_on_postgres() {
    quotes_need_no_connection_while_their_table_is_in_memory(Backend::Postgres).await;
}

#[tokio::test]
async fn single_rate_changes_are_applied_to_the_table_in_service_on_sqlite() {
    single_rate_changes_are_applied_to_the_table_in_service(Backend::Sqlite).await;
}

#[tokio::test]
async fn single_rate_changes_are_applied_to_the_table_in_service_on_postgres() {
    single_rate_changes_are_applied_to_the_table_in_service(Backend::Postgres).await;
}

#[tokio::test]
async fn an_import_answers_once_its_table_rates_on_sqlite() {
    an_import_answers_once_its_table_rates(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_import_answers_once_its_table_rates_on_postgres() {
    an_import_answers_once_its_table_rates(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ratings_go_on_while_a_table_is_built_on_sqlite() {
    ratings_go_on_while_a_table_is_built(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ratings_go_on_while_a_table_is_built_on_postgres() {
    ratings_go_on_while_a_table_is_built(Backend::Postgres).await;
}
