//! CDR batches bigger than one INSERT statement, with calls already stored
//! and call ids repeated, on SQLite and on PostgreSQL.

use billing::testing::{new_tenant, TestDb};
use billing::Backend;
use model::billing_settings::BillingSettingsPatch;
use model::cdr::{CallRecord, Direction, NewCdr};
use model::Money;
use sqlx::Row;

fn cdr(call_id: &str, duration: i64) -> NewCdr {
    NewCdr {
        call: CallRecord {
            call_id: call_id.into(),
            caller: "101".into(),
            caller_domain: "acme.example.com".into(),
            caller_display_name: String::new(),
            callee: "15551234".into(),
            callee_domain: String::new(),
            callee_display_name: String::new(),
            started_at: 1_800_000_000_000,
            rang_at: None,
            answered_at: Some(1_800_000_001_000),
            ended_at: Some(1_800_000_061_000),
            direction: Direction::Outbound,
            end_reason: None,
            reroute_reason: None,
            status_code: Some(200),
            destination: String::new(),
            outbound_caller_id: String::new(),
            did_cid: String::new(),
            trunk: String::new(),
            duration,
            user_data: String::new(),
        },
        extension: None,
    }
}

/// (CDRs stored, CALL_CHARGE ledger rows, their sum in units).
async fn stored(db: &billing::Db, tenant_id: i64) -> (i64, i64, i64) {
    let cdrs: i64 = sqlx::query("SELECT COUNT(*) FROM cdrs WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(db.pool())
        .await
        .expect("count")
        .get(0);
    let ledger = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM balance_transactions \
         WHERE tenant_id = $1 AND kind = 'CALL_CHARGE'",
    )
    .bind(tenant_id)
    .fetch_one(db.pool())
    .await
    .expect("ledger");
    (cdrs, ledger.get(0), ledger.get(1))
}

async fn batches(backend: Backend) {
    let t = TestDb::new(backend).await.expect("database");
    let db = &t.db;
    let scope = new_tenant(db, "acme.example.com").await.expect("tenant");
    let deck = "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,\
        postcall_surcharge,price_1,price_n,description\n\
        1,INTERNATIONAL,0,0,1,1,0,0,0.06,0.06,Everywhere\n";
    db.import_call_rates(
        &scope,
        futures::stream::iter([Ok::<_, std::io::Error>(deck.as_bytes().to_vec())]),
    )
    .await
    .expect("deck");
    db.update_billing_settings(
        &scope,
        BillingSettingsPatch {
            enabled: Some(true),
            ..Default::default()
        },
    )
    .await
    .expect("billing on");
    db.recharge_tenant(&scope, Money::from_units(1_000 * 100_000))
        .await
        .expect("recharge");
    let start = db.tenant_balance(&scope).await.expect("balance").balance;

    // More calls than one statement holds, so several statements of
    // different sizes; each call costs 0.001 a second, its duration.
    let first: Vec<NewCdr> = (0..1_203).map(|i| cdr(&format!("a{i}"), 60)).collect();
    let done = db.ingest_cdrs(&scope, first).await.expect("ingest");
    assert_eq!(
        (done.accepted, done.duplicates, done.rated),
        (1_203, 0, 1_203)
    );
    assert_eq!(
        stored(db, scope.tenant_id).await,
        (1_203, 1_203, -1_203 * 6_000)
    );

    // Calls already stored, new ones, and a new call id twice: the first
    // occurrence is stored and charged, the rest are duplicates.
    let mut mixed: Vec<NewCdr> = (1_000..1_300).map(|i| cdr(&format!("a{i}"), 60)).collect();
    mixed.push(cdr("b0", 10));
    mixed.push(cdr("b0", 20));
    let done = db.ingest_cdrs(&scope, mixed).await.expect("ingest");
    assert_eq!(
        (done.accepted, done.duplicates, done.rated),
        (98, 204, 98),
        "97 new a-calls and b0; 203 a-calls stored before and b0's repeat"
    );
    let charged = 1_300 * 6_000 + 1_000;
    assert_eq!(stored(db, scope.tenant_id).await, (1_301, 1_301, -charged));
    let b0: i64 = sqlx::query("SELECT duration FROM cdrs WHERE tenant_id = $1 AND call_id = 'b0'")
        .bind(scope.tenant_id)
        .fetch_one(db.pool())
        .await
        .expect("b0")
        .get(0);
    assert_eq!(b0, 10);

    // The ledger sums to the balance.
    let end = db.tenant_balance(&scope).await.expect("balance").balance;
    let units = |m: Money| m.to_units().expect("a stored balance");
    assert_eq!(units(start) - units(end), charged);
}

#[tokio::test]
async fn sqlite_batches() {
    batches(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_batches() {
    batches(Backend::Postgres).await;
}
