//! Online charging and re-rating through the REST API, on SQLite and on
//! PostgreSQL.

mod common;

use std::str::FromStr;

use axum::http::StatusCode;
use billing::Backend;
use common::{money, rate, TestApp};
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn authorization(call_id: &str, callee: &str) -> Value {
    json!({"call_id": call_id, "caller": "101", "callee": callee})
}

fn cdr(call_id: &str, callee: &str, duration: i64) -> Value {
    json!({
        "call_id": call_id, "caller": "101", "callee": callee, "direction": "OUTBOUND_CALL",
        "started_at": "2024-05-01T10:00:00Z", "answered_at": "2024-05-01T10:00:05Z",
        "ended_at": "2024-05-01T10:05:00Z", "duration": duration, "status_code": 200,
        "end_reason": "CALLER_DISCONNECTED", "trunk": "carrier-a"
    })
}

async fn balance(app: &TestApp, admin: &str) -> Decimal {
    let answer = app.get("/api/tenant/balance", admin).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    money(&answer.body["balance"])
}

/// Every ledger row of the tenant's account, oldest first.
async fn ledger(app: &TestApp, admin: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    loop {
        let page = app
            .get(
                &format!(
                    "/api/balance_transactions?orderby=id&top=100&skip={}",
                    rows.len()
                ),
                admin,
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let items = page.body["items"].as_array().expect("items").clone();
        if items.is_empty() {
            return rows;
        }
        rows.extend(items);
    }
}

/// The ledger sums to the balance, and each row's `balance_after` follows.
async fn assert_ledger_sums_to_balance(app: &TestApp, admin: &str) {
    let mut running = Decimal::ZERO;
    for row in ledger(app, admin).await {
        running += money(&row["amount"]);
        assert_eq!(money(&row["balance_after"]), running, "{row}");
    }
    assert_eq!(running, balance(app, admin).await);
}

/// A tenant with ONLINE billing on its own account and docs/rating.md's example
/// rate on prefix 1; answers (root, tenant id, admin token).
async fn online_tenant(app: &TestApp) -> (String, String, String) {
    let root = app.admin().await;
    let (tenant, admin, _) = app.tenant(&root, "acme.example.com").await;
    let created = app.post("/api/call_rates", &admin, rate("1")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let set = app
        .post(
            "/api/tenant/billing",
            &admin,
            json!({"enabled": true, "type": "ONLINE"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    (root, tenant, admin)
}

async fn recharge(app: &TestApp, root: &str, tenant: &str, amount: Value) {
    let done = app
        .post(
            &format!("/api/tenant/balance?tenant_id={tenant}"),
            root,
            json!({ "balance": amount }),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
}

async fn calls_are_granted_what_funds_cover_and_charged_exactly(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;
    app.post("/api/call_rates", &admin, rate("1")).await;

    // Billing off, then OFFLINE: no online authorisation.
    let off = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("a1", "1555"),
        )
        .await;
    assert_eq!(off.status, StatusCode::CONFLICT, "{}", off.text);
    assert_eq!(off.code(), "BILLING_NOT_ONLINE");
    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    let offline = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("a1", "1555"),
        )
        .await;
    assert_eq!(offline.code(), "BILLING_NOT_ONLINE");
    app.post("/api/tenant/billing", &admin, json!({"type": "ONLINE"}))
        .await;

    // Bad input and who may ask.
    let bad = app
        .post("/api/charging/authorize", &admin, json!({"callee": 5}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["call_id", "callee", "caller"]);
    let by_user = app
        .post(
            "/api/charging/authorize",
            &user,
            authorization("a1", "1555"),
        )
        .await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN);

    // Nothing on the account: even the first interval is not covered.
    let broke = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("a1", "1555"),
        )
        .await;
    assert_eq!(broke.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(broke.code(), "INSUFFICIENT_FUNDS");

    recharge(&app, &root, &tenant, json!(10)).await;
    let no_rate = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("n1", "999"),
        )
        .await;
    assert_eq!(no_rate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_rate.code(), "NO_RATE");
    let created = app.post("/api/call_rates", &admin, rate("19")).await;
    let rate_id = created.body["id"].as_str().expect("id").to_string();
    let tariffs = app.get("/api/tariffs", &admin).await;
    let default = tariffs.body["items"][0]["id"]
        .as_str()
        .expect("default tariff");
    let forbid = app
        .post(
            &format!("/api/tariffs/{default}/rates/{rate_id}"),
            &admin,
            json!({"forbidden": true}),
        )
        .await;
    assert_eq!(forbid.status, StatusCode::OK, "{}", forbid.text);
    let forbidden = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("f1", "1900"),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(forbidden.code(), "FORBIDDEN_DESTINATION");
    assert_eq!(balance(&app, &admin).await, Decimal::from(10));

    // 10 covers the longest call (4 h: 2389 blocks after 70 s, 8.0597).
    let a1 = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("a1", "1555"),
        )
        .await;
    assert_eq!(a1.status, StatusCode::OK, "{}", a1.text);
    assert_eq!(a1.body["max_duration"], 14400);
    assert_eq!(a1.body["held"].to_string(), "8.0597");
    assert_eq!(a1.body["currency"], "USD");
    assert_eq!(a1.body["rate"]["prefix"], "1");
    assert!(a1.body["expires_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(balance(&app, &admin).await.to_string(), "1.9403");

    // The same call again holds nothing more.
    let again = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("a1", "1555"),
        )
        .await;
    assert_eq!(again.body, a1.body);
    assert_eq!(balance(&app, &admin).await.to_string(), "1.9403");

    // What is left covers 534 blocks: 70 + 534 * 6 = 3274 s for 1.9382.
    let a2 = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("a2", "1555"),
        )
        .await;
    assert_eq!(a2.body["max_duration"], 3274, "{}", a2.text);
    assert_eq!(a2.body["held"].to_string(), "1.9382");
    let a3 = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("a3", "1555"),
        )
        .await;
    assert_eq!(a3.code(), "INSUFFICIENT_FUNDS");

    // Terminate debits docs/rating.md's 71 s amount once and releases the rest.
    let end = app
        .post(
            "/api/charging/a1/terminate",
            &admin,
            json!({"duration": 71}),
        )
        .await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.text);
    assert_eq!(end.body["cost"].to_string(), "0.1793");
    assert_eq!(end.body["released"].to_string(), "8.0597");
    assert_eq!(end.body["duration"], 71);
    assert_eq!(balance(&app, &admin).await.to_string(), "7.8825");
    let end_again = app
        .post(
            "/api/charging/a1/terminate",
            &admin,
            json!({"duration": 3000}),
        )
        .await;
    assert_eq!(end_again.body, end.body, "the same answer");
    assert_eq!(balance(&app, &admin).await.to_string(), "7.8825");
    let ended = app
        .post(
            "/api/charging/a1/update",
            &admin,
            json!({"used_seconds": 5}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::CONFLICT);
    assert_eq!(ended.code(), "CALL_ENDED");

    // Funds came back: an update extends the live call's grant.
    let update = app
        .post(
            "/api/charging/a2/update",
            &admin,
            json!({"used_seconds": 100}),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK, "{}", update.text);
    assert_eq!(update.body["max_duration"], 14400);
    assert_eq!(update.body["remaining"], 14300);
    assert_eq!(update.body["held"].to_string(), "8.0597");
    assert_eq!(balance(&app, &admin).await.to_string(), "1.761");

    // Another tenant reaches none of it; unknown calls are not found.
    for path in ["/api/charging/a2/terminate", "/api/charging/zz/terminate"] {
        let foreign = app.post(path, &other_admin, json!({"duration": 1})).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{path}");
    }
    let missing = app
        .post("/api/charging/a2/terminate", &admin, json!({}))
        .await;
    assert_eq!(missing.fields(), ["duration"]);

    // The CDR of a live call settles it; a later terminate changes nothing.
    let a4 = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("a4", "1555"),
        )
        .await;
    assert_eq!(a4.body["held"].to_string(), "1.76", "{}", a4.text);
    let posted = app.post("/api/cdrs", &admin, cdr("a4", "1555", 130)).await;
    assert_eq!(
        posted.body,
        json!({"accepted": 1, "duplicates": 0, "rated": 1, "unrated": 0})
    );
    assert_eq!(balance(&app, &admin).await.to_string(), "1.552");
    let late = app
        .post(
            "/api/charging/a4/terminate",
            &admin,
            json!({"duration": 500}),
        )
        .await;
    assert_eq!(late.body["cost"].to_string(), "0.209");
    assert_eq!(late.body["duration"], 130);
    assert_eq!(balance(&app, &admin).await.to_string(), "1.552");

    // The CDR of a terminated call is kept with its cost, not charged again.
    let posted = app.post("/api/cdrs", &admin, cdr("a1", "1555", 71)).await;
    assert_eq!(posted.body["rated"], 1);
    assert_eq!(balance(&app, &admin).await.to_string(), "1.552");
    let stored = app
        .get("/api/cdrs?filter=call_id%20eq%20'a1'", &admin)
        .await;
    assert_eq!(stored.body["items"][0]["cost"].to_string(), "0.1793");
    assert_eq!(stored.body["items"][0]["billed_account"], "TENANT");
    let charges = app
        .get(
            "/api/balance_transactions?filter=kind%20eq%20'CALL_CHARGE'",
            &admin,
        )
        .await;
    assert_eq!(charges.body["count"], 2, "a1 and a4, once each");

    assert_ledger_sums_to_balance(&app, &admin).await;
}

async fn user_accounts_pay_for_their_own_calls(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (root, tenant, admin) = online_tenant(&app).await;
    app.post("/api/tenant/billing", &admin, json!({"account": "USER"}))
        .await;
    let user_id = app.user_id(&admin, "101").await;
    let recharged = app
        .post(
            &format!("/api/users/{user_id}/balance"),
            &admin,
            json!({"balance": 1}),
        )
        .await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    recharge(&app, &root, &tenant, json!(100)).await;

    let nobody = app
        .post(
            "/api/charging/authorize",
            &admin,
            json!({"call_id": "x", "caller": "555", "callee": "1555"}),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST);
    assert_eq!(nobody.fields(), ["caller"]);
    // 1 covers 249 blocks: 70 + 249 * 6 = 1564 s for 0.9977.
    let granted = app
        .post(
            "/api/charging/authorize",
            &admin,
            json!({"call_id": "u1", "caller": "+15550101", "callee": "1555", "extension": "101"}),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    assert_eq!(granted.body["max_duration"], 1564);
    assert_eq!(granted.body["held"].to_string(), "0.9977");
    let own = app
        .get(&format!("/api/users/{user_id}/balance"), &admin)
        .await;
    assert_eq!(own.body["balance"].to_string(), "0.0023");
    assert_eq!(
        balance(&app, &admin).await,
        Decimal::from(100),
        "the tenant's account is not touched"
    );
    let end = app
        .post("/api/charging/u1/terminate", &admin, json!({"duration": 5}))
        .await;
    assert_eq!(end.body["cost"].to_string(), "0.176");
    let own = app
        .get(&format!("/api/users/{user_id}/balance"), &admin)
        .await;
    assert_eq!(own.body["balance"].to_string(), "0.824");
}

async fn expired_holds_are_released(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (root, tenant, admin) = online_tenant(&app).await;
    recharge(&app, &root, &tenant, json!(10)).await;
    let past = billing::db::now_ms() - 1000;

    // The periodic sweep releases a hold whose call was never reported.
    let e1 = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("e1", "1555"),
        )
        .await;
    assert_eq!(e1.body["held"].to_string(), "8.0597");
    assert_eq!(app.db.db.expire_holds().await.expect("sweep"), 0, "not yet");
    sqlx::query("UPDATE charging_sessions SET expires_at = $1 WHERE call_id = 'e1'")
        .bind(past)
        .execute(app.db.db.pool())
        .await
        .expect("age the hold");
    assert_eq!(app.db.db.expire_holds().await.expect("sweep"), 1);
    assert_eq!(balance(&app, &admin).await, Decimal::from(10));
    let releases = app
        .get(
            "/api/balance_transactions?filter=kind%20eq%20'RELEASE'",
            &admin,
        )
        .await;
    assert_eq!(releases.body["count"], 1);
    assert_eq!(releases.body["items"][0]["call_id"], "e1");
    let update = app
        .post(
            "/api/charging/e1/update",
            &admin,
            json!({"used_seconds": 1}),
        )
        .await;
    assert_eq!(update.code(), "CALL_ENDED");

    // The account's next authorisation releases an expired hold itself.
    let e2 = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("e2", "1555"),
        )
        .await;
    assert_eq!(e2.body["held"].to_string(), "8.0597");
    let short = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("e3", "1555"),
        )
        .await;
    assert_eq!(short.body["max_duration"], 3274, "{}", short.text);
    sqlx::query("UPDATE charging_sessions SET expires_at = $1 WHERE call_id IN ('e2', 'e3')")
        .bind(past)
        .execute(app.db.db.pool())
        .await
        .expect("age the holds");
    let e4 = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("e4", "1555"),
        )
        .await;
    assert_eq!(e4.status, StatusCode::OK, "{}", e4.text);
    assert_eq!(e4.body["held"].to_string(), "8.0597");

    // A call reported after its hold expired is still charged, once.
    let posted = app.post("/api/cdrs", &admin, cdr("e1", "1555", 71)).await;
    assert_eq!(posted.body["rated"], 1);
    let end = app
        .post(
            "/api/charging/e2/terminate",
            &admin,
            json!({"duration": 71}),
        )
        .await;
    assert_eq!(end.body["cost"].to_string(), "0.1793");
    assert_eq!(end.body["released"].to_string(), "0");
    // 10 - e4's hold - two calls of 71 s.
    assert_eq!(balance(&app, &admin).await.to_string(), "1.5817");
    assert_ledger_sums_to_balance(&app, &admin).await;
}

/// `count` authorisations sent at once through the router; answers how many
/// were granted and what they hold. Any answer but a grant or
/// INSUFFICIENT_FUNDS fails the test.
/// Sends every authorisation at once; answers (status, body) in order.
async fn authorize_all(app: &TestApp, admin: &str, bodies: Vec<Value>) -> Vec<(StatusCode, Value)> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let router = app.router.clone();
            let admin = admin.to_string();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let request = axum::http::Request::builder()
                    .method("POST")
                    .uri("/api/charging/authorize")
                    .header("authorization", format!("Bearer {admin}"))
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body.to_string()))
                    .expect("request");
                let response = router.oneshot(request).await.expect("answer");
                let status = response.status();
                let bytes = http_body_util::BodyExt::collect(response.into_body())
                    .await
                    .expect("body")
                    .to_bytes();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                (status, body)
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    answers
}

async fn authorize_at_once(
    app: &TestApp,
    admin: &str,
    prefix: &str,
    callee: &str,
    count: usize,
) -> (u64, Decimal) {
    let bodies = (0..count)
        .map(|i| authorization(&format!("{prefix}{i}"), callee))
        .collect();
    let answers = authorize_all(app, admin, bodies).await;
    let mut held = Decimal::ZERO;
    let mut granted = 0;
    for (status, body) in answers {
        match status {
            StatusCode::OK => {
                granted += 1;
                held += money(&body["held"]);
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(body["errors"][0]["code"], "INSUFFICIENT_FUNDS");
            }
            other => panic!("{other}: {body}"),
        }
    }
    (granted, held)
}

async fn concurrent_authorisations_never_take_the_same_funds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (root, tenant, admin) = online_tenant(&app).await;
    // A flat rate: every call holds 0.176 (connect fee and first interval,
    // nothing per block), whatever its length.
    let mut flat = rate("44");
    flat["price_n"] = json!(0);
    app.post("/api/call_rates", &admin, flat).await;
    recharge(&app, &root, &tenant, json!(50)).await;
    let limit = app
        .post(
            &format!("/api/tenant/credit_limit?tenant_id={tenant}"),
            &root,
            json!({"credit_limit": 10}),
        )
        .await;
    assert_eq!(limit.status, StatusCode::OK, "{}", limit.text);

    let (granted, held) = authorize_at_once(&app, &admin, "c", "4420", 1000).await;
    // 60 of funds hold 340 calls of 0.176 (59.84): none more, none fewer.
    assert_eq!(granted, 340);
    assert!(held <= Decimal::from(60));
    assert_eq!(held, Decimal::from_str("59.84").expect("decimal"));
    let left = balance(&app, &admin).await;
    assert_eq!(left, Decimal::from(50) - held);
    assert!(left >= Decimal::from(-10));
    assert_ledger_sums_to_balance(&app, &admin).await;

    // Holds of every size: docs/rating.md's rate grants 4 h (8.0597) while the
    // funds last, then what is left; whatever the interleaving, the funds
    // are used up to less than one first interval (0.176), never beyond.
    let root = app.admin().await;
    let (other, other_admin, _) = app.tenant(&root, "globex.example.com").await;
    app.post("/api/call_rates", &other_admin, rate("1")).await;
    app.post(
        "/api/tenant/billing",
        &other_admin,
        json!({"enabled": true, "type": "ONLINE"}),
    )
    .await;
    recharge(&app, &root, &other, json!(100)).await;
    let (granted, held) = authorize_at_once(&app, &other_admin, "g", "1555", 200).await;
    assert!(granted >= 13, "{granted}");
    let left = balance(&app, &other_admin).await;
    assert_eq!(left, Decimal::from(100) - held);
    assert!(left >= Decimal::ZERO, "{left}");
    assert!(
        left < Decimal::from_str("0.176").expect("decimal"),
        "{left}"
    );
    assert_ledger_sums_to_balance(&app, &other_admin).await;
}

async fn rerating_corrects_balances_by_the_difference_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let created = app.post("/api/call_rates", &admin, rate("1")).await;
    let rate_id = created.body["id"].as_str().expect("id").to_string();
    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    recharge(&app, &root, &tenant, json!(10)).await;
    let mut extension = cdr("r4", "202", 300);
    extension["direction"] = json!("EXTENSION_CALL");
    let posted = app
        .post(
            "/api/cdrs",
            &admin,
            json!([
                cdr("r1", "1555", 71),
                cdr("r2", "+1555", 130),
                cdr("r3", "999", 60),
                extension,
                cdr("r5", "4420", 60)
            ]),
        )
        .await;
    assert_eq!(posted.body["rated"], 2, "{}", posted.text);
    assert_eq!(balance(&app, &admin).await.to_string(), "9.6117");

    // Nothing changed: nothing moves.
    let same = app.post("/api/cdrs/rerate", &admin, json!({})).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    assert_eq!(
        same.body,
        json!({"matched": 5, "rerated": 0, "unchanged": 3, "unrated": 2, "delta": 0})
    );

    // Cheaper calls on 1 (no connect fee), and a rate for 44 at last.
    let changed = app
        .post(
            &format!("/api/call_rates/{rate_id}"),
            &admin,
            json!({"connect_fee": 0}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    app.post("/api/call_rates", &admin, rate("44")).await;

    // 71 s: 0.1793 -> 0.0693; 130 s: 0.209 -> 0.099.
    let ones = app
        .post("/api/cdrs/rerate", &admin, json!({"prefix": "+1"}))
        .await;
    assert_eq!(
        ones.body,
        json!({"matched": 2, "rerated": 2, "unchanged": 0, "unrated": 0, "delta": -0.22})
    );
    assert_eq!(balance(&app, &admin).await.to_string(), "9.8317");
    let unrated = app
        .post(
            "/api/cdrs/rerate",
            &admin,
            json!({"status": "UNRATED", "from": "2024-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        unrated.body,
        json!({"matched": 2, "rerated": 1, "unchanged": 0, "unrated": 1, "delta": 0.176})
    );
    assert_eq!(balance(&app, &admin).await.to_string(), "9.6557");
    let stored = app
        .get("/api/cdrs?filter=call_id%20eq%20'r5'", &admin)
        .await;
    assert_eq!(stored.body["items"][0]["rating_status"], "RATED");
    assert_eq!(stored.body["items"][0]["cost"].to_string(), "0.176");
    assert_eq!(stored.body["items"][0]["billed_account"], "TENANT");

    // Again: nothing changes, the ledger has one row per changed call.
    let again = app.post("/api/cdrs/rerate", &admin, json!({})).await;
    assert_eq!(
        again.body,
        json!({"matched": 5, "rerated": 0, "unchanged": 4, "unrated": 1, "delta": 0})
    );
    let by_id = app
        .post(
            "/api/cdrs/rerate",
            &admin,
            json!({"call_ids": ["r1", "nope"]}),
        )
        .await;
    assert_eq!(by_id.body["matched"], 1);
    assert_eq!(balance(&app, &admin).await.to_string(), "9.6557");
    let rows = app
        .get(
            "/api/balance_transactions?filter=kind%20eq%20'RERATE'&orderby=call_id",
            &admin,
        )
        .await;
    assert_eq!(rows.body["count"], 3);
    assert_eq!(rows.body["items"][0]["amount"].to_string(), "0.11");
    assert_eq!(rows.body["items"][2]["amount"].to_string(), "-0.176");
    assert_ledger_sums_to_balance(&app, &admin).await;

    // Administrators only; a bad filter is named.
    let by_user = app.post("/api/cdrs/rerate", &user, json!({})).await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN);
    let bad = app
        .post(
            "/api/cdrs/rerate",
            &admin,
            json!({"status": "MAYBE", "from": "yesterday", "call_ids": [1]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["call_ids", "from"]);
}

async fn calls_authorised_together_get_their_own_answers(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (root, tenant, admin) = online_tenant(&app).await;
    recharge(&app, &root, &tenant, json!(1000)).await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;

    // One call asked for 50 times, 50 calls with no rate and 50 that can be
    // granted, all at once, beside another tenant whose billing is offline.
    let mut bodies = Vec::new();
    for i in 0..50 {
        bodies.push(authorization("same", "1555"));
        bodies.push(authorization(&format!("n{i}"), "4420"));
        bodies.push(authorization(&format!("ok{i}"), "1555"));
    }
    let offline = (0..20)
        .map(|i| authorization(&format!("x{i}"), "1555"))
        .collect();
    let (answers, refused) = tokio::join!(
        authorize_all(&app, &admin, bodies),
        authorize_all(&app, &other_admin, offline)
    );

    let same: Vec<&Value> = answers.iter().step_by(3).map(|(_, body)| body).collect();
    for (status, body) in answers.iter().step_by(3) {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body, same[0], "every ask of one call answers its one grant");
    }
    for (status, body) in answers.iter().skip(1).step_by(3) {
        assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["code"], "NO_RATE");
    }
    let mut held = money(&same[0]["held"]);
    for (status, body) in answers.iter().skip(2).step_by(3) {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["max_duration"], 4 * 3600);
        held += money(&body["held"]);
    }
    for (status, body) in &refused {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["errors"][0]["code"], "BILLING_NOT_ONLINE");
    }

    let holds = app
        .get(
            "/api/balance_transactions?filter=kind%20eq%20'HOLD'&top=100",
            &admin,
        )
        .await;
    assert_eq!(holds.body["count"], 51, "one hold per call: {}", holds.text);
    assert_eq!(balance(&app, &admin).await, Decimal::from(1000) - held);
    assert_ledger_sums_to_balance(&app, &admin).await;
}

async fn an_authorised_call_is_charged_by_its_cdr_after_billing_is_turned_off(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (root, tenant, admin) = online_tenant(&app).await;
    recharge(&app, &root, &tenant, json!(10)).await;
    let granted = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("off1", "1555"),
        )
        .await;
    assert_eq!(
        granted.body["held"].to_string(),
        "8.0597",
        "{}",
        granted.text
    );
    let off = app
        .post("/api/tenant/billing", &admin, json!({"enabled": false}))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);

    // The call was granted while billing was on: its CDR settles it at the
    // granted price (docs/rating.md's 71 s) and gives the rest of the hold back.
    let posted = app.post("/api/cdrs", &admin, cdr("off1", "1555", 71)).await;
    assert_eq!(posted.body["rated"], 1, "{}", posted.text);
    assert_eq!(balance(&app, &admin).await.to_string(), "9.8207");
    let stored = app
        .get("/api/cdrs?filter=call_id%20eq%20'off1'", &admin)
        .await;
    assert_eq!(stored.body["items"][0]["cost"].to_string(), "0.1793");
    assert_eq!(stored.body["items"][0]["billed_account"], "TENANT");
    // A call never authorised stays uncharged while billing is off.
    let posted = app.post("/api/cdrs", &admin, cdr("off2", "1555", 71)).await;
    assert_eq!(posted.body["unrated"], 1, "{}", posted.text);
    assert_eq!(balance(&app, &admin).await.to_string(), "9.8207");
    assert_ledger_sums_to_balance(&app, &admin).await;
}

async fn a_rate_change_is_seen_by_the_next_authorisation(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (root, tenant, admin) = online_tenant(&app).await;
    recharge(&app, &root, &tenant, json!(100)).await;
    // A flat rate: a call holds its connect fee, first interval and
    // surcharge, whatever its length.
    let mut flat = rate("44");
    flat["price_n"] = json!(0);
    let created = app.post("/api/call_rates", &admin, flat).await;
    let id = created.body["id"].as_str().expect("id").to_string();
    let first = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("r1", "4420"),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);

    let changed = app
        .post(
            &format!("/api/call_rates/{id}"),
            &admin,
            json!({"price_1": 0.16}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let second = app
        .post(
            "/api/charging/authorize",
            &admin,
            authorization("r2", "4420"),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let quote = app
        .post(
            "/api/rating/quote",
            &admin,
            json!({"callee": "4420", "duration": second.body["max_duration"]}),
        )
        .await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.text);
    assert_eq!(second.body["held"], quote.body["amount"], "the new price");
    assert!(money(&second.body["held"]) > money(&first.body["held"]));
    assert_ledger_sums_to_balance(&app, &admin).await;
}

/// A stored CDR's `rating_status` and `unrated_reason`.
async fn rating_of(app: &TestApp, admin: &str, call_id: &str) -> (Value, Value) {
    let stored = app
        .get(
            &format!("/api/cdrs?filter=call_id%20eq%20'{call_id}'"),
            admin,
        )
        .await;
    let item = &stored.body["items"][0];
    (
        item["rating_status"].clone(),
        item["unrated_reason"].clone(),
    )
}

async fn a_rerated_call_that_stays_unrated_says_why_now(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    app.post("/api/call_rates", &admin, rate("1")).await;
    let posted = app
        .post(
            "/api/cdrs",
            &admin,
            json!([cdr("u1", "1555", 60), cdr("u2", "999", 60)]),
        )
        .await;
    assert_eq!(posted.body["unrated"], 2, "{}", posted.text);
    assert_eq!(
        rating_of(&app, &admin, "u2").await,
        (
            json!("UNRATED"),
            json!("billing is disabled for the tenant")
        )
    );

    // Billing on: one call is rated now, the other is still unrated, and
    // says why it still is.
    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    let rerated = app.post("/api/cdrs/rerate", &admin, json!({})).await;
    assert_eq!(
        rerated.body,
        json!({"matched": 2, "rerated": 1, "unchanged": 0, "unrated": 1, "delta": 0.176}),
        "{}",
        rerated.text
    );
    assert_eq!(
        rating_of(&app, &admin, "u1").await,
        (json!("RATED"), Value::Null)
    );
    assert_eq!(
        rating_of(&app, &admin, "u2").await,
        (json!("UNRATED"), json!("no rate matches 999"))
    );
}

on_both_databases!(
    calls_are_granted_what_funds_cover_and_charged_exactly,
    user_accounts_pay_for_their_own_calls,
    expired_holds_are_released,
    concurrent_authorisations_never_take_the_same_funds,
    calls_authorised_together_get_their_own_answers,
    a_rate_change_is_seen_by_the_next_authorisation,
    an_authorised_call_is_charged_by_its_cdr_after_billing_is_turned_off,
    rerating_corrects_balances_by_the_difference_once,
    a_rerated_call_that_stays_unrated_says_why_now,
);
