//! The calls in progress (`GET /api/charging/sessions`, the portal's live
//! calls page) and the home page's overview, on SQLite and on PostgreSQL.

mod common;

use std::collections::BTreeSet;
use std::str::FromStr;

use axum::http::StatusCode;
use billing::Backend;
use common::{money, portal, rate, Answer, TestApp};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const ACME: &str = "acme.example.com";
const GLOBEX: &str = "globex.example.com";

/// A tenant charging online on its own account, with docs/rating.md's
/// example rate on prefix 1 and 10 of funds; answers (tenant id, admin
/// token, standard user token).
async fn online_tenant(app: &TestApp, root: &str, domain: &str) -> (String, String, String) {
    let (tenant, admin, user) = app.tenant(root, domain).await;
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
    let recharged = app
        .post(
            &format!("/api/tenant/balance?tenant_id={tenant}"),
            root,
            json!({"balance": 10}),
        )
        .await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    (tenant, admin, user)
}

async fn authorize(app: &TestApp, admin: &str, body: Value) -> Answer {
    let granted = app.post("/api/charging/authorize", admin, body).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    granted
}

fn call_ids(answer: &Answer) -> BTreeSet<String> {
    answer.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["call_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The held totals of a list: (currency, amount).
fn totals(answer: &Answer) -> Vec<(String, Decimal)> {
    answer.body["held_totals"]
        .as_array()
        .expect("held_totals")
        .iter()
        .map(|t| {
            (
                t["currency"].as_str().expect("currency").to_string(),
                money(&t["held"]),
            )
        })
        .collect()
}

fn sum_of_items(answer: &Answer) -> Decimal {
    answer.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| money(&i["held"]))
        .sum()
}

async fn live_calls_are_listed_within_their_scope(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (acme, admin, clerk) = online_tenant(&app, &root, ACME).await;
    let (globex, other_admin, _) = online_tenant(&app, &root, GLOBEX).await;
    let a1 = authorize(
        &app,
        &admin,
        json!({"call_id": "a1", "caller": "101", "callee": "1555"}),
    )
    .await;
    authorize(
        &app,
        &admin,
        json!({"call_id": "a2", "caller": "101", "callee": "1234"}),
    )
    .await;
    authorize(
        &app,
        &other_admin,
        json!({"call_id": "g1", "caller": "101", "callee": "1999"}),
    )
    .await;

    // The tenant's administrator sees its two calls, and what they hold.
    let listed = app.get("/api/charging/sessions", &admin).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["count"], 2);
    assert_eq!(
        call_ids(&listed),
        BTreeSet::from(["a1".into(), "a2".into()])
    );
    assert_eq!(
        totals(&listed),
        [("USD".to_string(), sum_of_items(&listed))]
    );
    assert!(sum_of_items(&listed) > Decimal::ZERO);
    let row = listed.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["call_id"] == "a1"))
        .expect("a1")
        .clone();
    assert_eq!(row["caller"], "101");
    assert_eq!(row["callee"], "1555");
    assert_eq!(row["max_duration"], a1.body["max_duration"]);
    assert_eq!(money(&row["held"]), money(&a1.body["held"]));
    assert_eq!(row["currency"], "USD");
    assert_eq!(row["expires_at"], a1.body["expires_at"]);
    assert_eq!(row["billed_account"], "TENANT");
    assert_eq!(row["billed_user_id"], Value::Null);
    let left = row["seconds_left"].as_u64().expect("seconds_left");
    assert!(
        left > 0 && left <= row["max_duration"].as_u64().unwrap_or(0),
        "{row}"
    );

    // Naming another tenant does not widen the scope, however it is named.
    let named = app
        .get(
            &format!("/api/charging/sessions?tenant_id={globex}"),
            &admin,
        )
        .await;
    assert_eq!(named.status, StatusCode::NOT_FOUND, "{}", named.text);
    assert_eq!(named.code(), "NOT_FOUND");
    let filtered = app
        .get("/api/charging/sessions?filter=call_id%20eq%20'g1'", &admin)
        .await;
    assert_eq!(filtered.body["count"], 0, "{}", filtered.text);
    assert_eq!(totals(&filtered), []);
    // The operator names the tenant, and sees only that one's calls.
    let operator = app
        .get(&format!("/api/charging/sessions?tenant_id={globex}"), &root)
        .await;
    assert_eq!(call_ids(&operator), BTreeSet::from(["g1".into()]));
    let unnamed = app.get("/api/charging/sessions", &root).await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST, "{}", unnamed.text);
    assert_eq!(unnamed.fields(), ["tenant_id"]);

    // Filters, search and paging as every list; the totals follow the filter.
    let one = app.get("/api/charging/sessions?search=1234", &admin).await;
    assert_eq!(call_ids(&one), BTreeSet::from(["a2".into()]));
    assert_eq!(totals(&one), [("USD".to_string(), sum_of_items(&one))]);
    let page = app
        .get(
            "/api/charging/sessions?top=1&orderby=call_id%20desc",
            &admin,
        )
        .await;
    assert_eq!(page.body["count"], 2);
    assert_eq!(call_ids(&page), BTreeSet::from(["a2".into()]));
    assert_eq!(totals(&page), totals(&listed), "totals are of every match");
    let bad = app
        .get("/api/charging/sessions?filter=price%20gt%201", &admin)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.body["errors"][0]["message"].is_string());

    // The tenant's account pays: a standard user has no call billed to it.
    let own = app.get("/api/charging/sessions", &clerk).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["count"], 0);
    let own_named = app
        .get(&format!("/api/charging/sessions?tenant_id={acme}"), &clerk)
        .await;
    assert_eq!(own_named.body["count"], 0);

    // A settled call is no longer listed; the total is the rest's.
    let ended = app
        .post(
            "/api/charging/a1/terminate",
            &admin,
            json!({"duration": 30}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    let after = app.get("/api/charging/sessions", &admin).await;
    assert_eq!(call_ids(&after), BTreeSet::from(["a2".into()]));
    assert_eq!(totals(&after), [("USD".to_string(), sum_of_items(&after))]);
    // The call's CDR settles it too.
    let cdr = app
        .post(
            "/api/cdrs",
            &admin,
            json!({"call_id": "a2", "caller": "101", "callee": "1234", "direction": "OUTBOUND_CALL",
                   "started_at": "2024-05-01T10:00:00Z", "duration": 20, "status_code": 200}),
        )
        .await;
    assert_eq!(cdr.status, StatusCode::OK, "{}", cdr.text);
    let none = app.get("/api/charging/sessions", &admin).await;
    assert_eq!(
        none.body,
        json!({"count": 0, "items": [], "held_totals": []})
    );
}

async fn a_standard_user_sees_the_calls_billed_to_it(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, clerk) = online_tenant(&app, &root, ACME).await;
    app.post("/api/tenant/billing", &admin, json!({"account": "USER"}))
        .await;
    for name in ["101", "boss"] {
        let id = app.user_id(&admin, name).await;
        let recharged = app
            .post(
                &format!("/api/users/{id}/balance"),
                &admin,
                json!({"balance": 5}),
            )
            .await;
        assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    }
    authorize(
        &app,
        &admin,
        json!({"call_id": "mine", "caller": "+1555", "callee": "1555", "extension": "101"}),
    )
    .await;
    authorize(
        &app,
        &admin,
        json!({"call_id": "theirs", "caller": "boss", "callee": "1555"}),
    )
    .await;

    let own = app.get("/api/charging/sessions", &clerk).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(call_ids(&own), BTreeSet::from(["mine".into()]));
    assert_eq!(own.body["items"][0]["billed_account"], "101");
    assert!(own.body["items"][0]["billed_user_id"].is_string());
    assert_eq!(totals(&own), [("USD".to_string(), sum_of_items(&own))]);
    // Its filter cannot reach the other account's call.
    let widened = app
        .get(
            "/api/charging/sessions?filter=call_id%20eq%20'theirs'",
            &clerk,
        )
        .await;
    assert_eq!(widened.body["count"], 0);
    let all = app.get("/api/charging/sessions", &admin).await;
    assert_eq!(all.body["count"], 2);

    // The portal's page answers the same, and says whose calls they are.
    let boss = portal::session(&app, "boss", ACME).await;
    let page = portal::call(
        &app,
        &boss,
        "list_live_calls",
        json!({"tenant": null, "args": {}}),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["count"], 2);
    assert_eq!(page.body["online"], true);
    assert_eq!(page.body["own_only"], false);
    let user = portal::session(&app, "101", ACME).await;
    let page = portal::call(
        &app,
        &user,
        "list_live_calls",
        json!({"tenant": null, "args": {}}),
    )
    .await;
    assert_eq!(page.body["count"], 1, "{}", page.text);
    assert_eq!(page.body["items"][0]["call_id"], "mine");
    assert_eq!(page.body["own_only"], true);
    let bad = portal::call(
        &app,
        &user,
        "list_live_calls",
        json!({"tenant": null, "args": {"orderby": "nothing"}}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(portal::refused_fields(&bad), ["orderby"]);
}

fn cdr_now(call_id: &str, caller: &str, started_at: &str) -> Value {
    json!({
        "call_id": call_id, "caller": caller, "callee": "1234567", "direction": "OUTBOUND_CALL",
        "started_at": started_at, "duration": 71, "status_code": 200
    })
}

async fn home_shows_the_overview_of_the_role(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (acme, admin, _) = online_tenant(&app, &root, ACME).await;
    let (globex, _, _) = app.tenant(&root, GLOBEX).await;
    let boss = portal::session(&app, "boss", ACME).await;
    let clerk = portal::session(&app, "101", ACME).await;
    let overview = |cookie: String, tenant: Value| {
        let app = &app;
        async move { portal::call(app, &cookie, "overview", json!({ "tenant": tenant })).await }
    };

    let before = overview(boss.clone(), Value::Null).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(
        before.body["balance"],
        json!({"amount": "10.00000", "currency": "USD"})
    );
    assert_eq!(before.body["calls_today"], 0);
    assert_eq!(before.body["spend_today"], json!([]));
    assert_eq!(before.body["live_calls"], 0);
    assert_eq!(before.body["last_import"], Value::Null);
    assert_eq!(before.body["online"], true);

    // Today's calls (one by the standard user, one by the administrator),
    // one of yesterday, a live call, a deck import.
    let now = billing::db::now_ms();
    let today = billing::time::rfc3339(now - 1000);
    let yesterday = billing::time::rfc3339(now - 86_400_000 - 1000);
    let posted = app
        .post(
            "/api/cdrs",
            &admin,
            json!([
                cdr_now("t1", "101", &today),
                cdr_now("t2", "boss", &today),
                cdr_now("y1", "101", &yesterday),
            ]),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    let granted = authorize(
        &app,
        &admin,
        json!({"call_id": "live", "caller": "101", "callee": "1555"}),
    )
    .await;
    let imported = app
        .raw(
            "POST",
            "/api/call_rates/import?mode=merge",
            &admin,
            "text/csv",
            "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description\n\
             1,INTERNATIONAL,10,5,60,6,0.1,0.1,0.06,0.03,test rate\n\
             49,MOBILE,0,0,60,60,0,0,0.2,0.2,Germany mobile\n",
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);

    let after = overview(boss.clone(), Value::Null).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    let body = &after.body;
    assert_eq!(body["tenant_account"], true);
    assert_eq!(body["calls_today"], 2);
    // Each 71 s call costs 0.17930 (see portal_cdrs.rs).
    assert_eq!(
        body["spend_today"],
        json!([{"amount": "0.35860", "currency": "USD"}])
    );
    assert_eq!(body["live_calls"], 1);
    let held = money(&granted.body["held"]);
    assert_eq!(
        Decimal::from_str(body["live_held"][0]["amount"].as_str().unwrap_or("")).ok(),
        Some(held)
    );
    // The balance lost three calls and the hold.
    let three = Decimal::from_str("0.53790").expect("decimal");
    let balance = Decimal::from_str(body["balance"]["amount"].as_str().unwrap_or("")).ok();
    assert_eq!(balance, Some(Decimal::from(10) - three - held));
    assert_eq!(
        Decimal::from_str(body["held"]["amount"].as_str().unwrap_or("")).ok(),
        Some(held)
    );
    let import = &body["last_import"];
    assert_eq!(import["rates"], 2, "{import}");
    assert_eq!(import["added"], 1);
    assert_eq!(import["by"], "boss");
    assert_eq!(import["mode"], "merge");

    // The standard user: its own account and calls, no imports.
    let own = overview(clerk.clone(), Value::Null).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["tenant_account"], false);
    assert_eq!(own.body["account_name"], "101");
    assert_eq!(own.body["balance"]["amount"], "0.00000");
    assert_eq!(own.body["calls_today"], 1);
    assert_eq!(
        own.body["spend_today"],
        json!([{"amount": "0.17930", "currency": "USD"}])
    );
    // The live call is held on the tenant's account, not the user's.
    assert_eq!(own.body["live_calls"], 0);
    assert_eq!(own.body["last_import"], Value::Null);
    // Naming another tenant does not widen its scope.
    let other = overview(clerk, json!(globex)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);

    // The operator chooses the tenant first.
    let operator = portal::session_of(&app, "admin", common::ADMIN_PASSWORD, "").await;
    let unchosen = overview(operator.clone(), Value::Null).await;
    assert_eq!(unchosen.status, StatusCode::OK, "{}", unchosen.text);
    assert_eq!(unchosen.body, Value::Null);
    let chosen = overview(operator, json!(acme)).await;
    assert_eq!(chosen.body["calls_today"], 2);
    assert_eq!(chosen.body["balance"], after.body["balance"]);
}

on_both_databases!(
    live_calls_are_listed_within_their_scope,
    a_standard_user_sees_the_calls_billed_to_it,
    home_shows_the_overview_of_the_role,
);
