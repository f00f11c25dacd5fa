//! The portal's calls page on the server: its list with filters, a call's
//! rating, the re-rating of the filtered calls and their CSV, on SQLite and
//! on PostgreSQL.

mod common;

use axum::http::StatusCode;
use billing::Backend;
use common::{portal, rate, TestApp};
use serde_json::{json, Value};

const DOMAIN: &str = "acme.example.com";

fn cdr(call_id: &str, direction: &str, callee: &str, day: u32, duration: i64) -> Value {
    json!({
        "call_id": call_id, "caller": "101", "callee": callee, "direction": direction,
        "started_at": format!("2026-01-{day:02}T10:00:00Z"), "duration": duration,
        "status_code": 200
    })
}

async fn the_calls_page_lists_rates_and_rerates_what_it_shows(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, _) = app.tenant(&root, DOMAIN).await;
    let created = app.post("/api/call_rates", &admin, rate("1")).await;
    let rate_id = created.body["id"].as_str().expect("rate id").to_string();
    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    app.post(
        &format!("/api/tenant/balance?tenant_id={tenant}"),
        &root,
        json!({"balance": 10}),
    )
    .await;
    app.post(
        "/api/cdrs",
        &admin,
        json!([
            cdr("c1", "OUTBOUND_CALL", "1234567", 3, 71),
            cdr("c2", "OUTBOUND_CALL", "1555", 4, 120),
            cdr("c3", "INBOUND_CALL", "101", 4, 60),
            cdr("c4", "OUTBOUND_CALL", "999", 5, 60),
        ]),
    )
    .await;
    let boss = portal::session(&app, "boss", DOMAIN).await;

    // Filters: days (the last one included), status, direction, number.
    let list = |args: Value| {
        let boss = boss.clone();
        let app = &app;
        async move {
            portal::call(
                app,
                &boss,
                "list_cdrs",
                json!({"tenant": null, "args": args}),
            )
            .await
        }
    };
    let ids = |answer: &common::Answer| -> Vec<String> {
        answer.body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["call_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let all = list(json!({})).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["count"], 4);
    assert_eq!(all.body["currency"], "USD");
    let days = list(json!({"from": "2026-01-04", "to": "2026-01-04", "orderby": "call_id"})).await;
    assert_eq!(ids(&days), ["c2", "c3"]);
    let rated =
        list(json!({"status": "RATED", "direction": "OUTBOUND_CALL", "orderby": "call_id"})).await;
    assert_eq!(ids(&rated), ["c1", "c2"]);
    let number = list(json!({"search": "155"})).await;
    assert_eq!(ids(&number), ["c2"]);
    // A refusal names its field, with 400.
    let backwards = list(json!({"from": "2026-01-05", "to": "2026-01-04"})).await;
    assert_eq!(
        backwards.status,
        StatusCode::BAD_REQUEST,
        "{}",
        backwards.text
    );
    assert_eq!(portal::refused_fields(&backwards), ["to"]);

    // A rated call's breakdown.
    let c1 = all.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["call_id"] == "c1"))
        .expect("c1")
        .clone();
    assert_eq!(c1["cost"], "0.17930");
    let detail = portal::call(
        &app,
        &boss,
        "get_cdr_detail",
        json!({"tenant": null, "id": c1["id"]}),
    )
    .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    let rating: Vec<(String, String)> =
        serde_json::from_value(detail.body["rating"].clone()).expect("rating lines");
    let line = |label: &str| {
        rating
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {label} in {rating:?}"))
    };
    assert_eq!(line("Matched prefix"), "1");
    // 71 s: 60 s first interval, 10 free seconds, then one 6 s block (docs/rating.md).
    assert_eq!(line("Billable seconds"), "66");
    assert_eq!(line("Connect fee"), "0.1 USD");
    assert_eq!(line("First interval"), "0.06 USD");
    assert_eq!(line("Blocks"), "1 · 0.003 USD");
    assert_eq!(line("Amount"), "0.17930 USD");
    assert_eq!(detail.body["rating_note"], Value::Null);

    // The rate goes up; the breakdown says so, the re-rating of the calls
    // shown (rated outbound ones) applies it.
    let mut dearer = rate("1");
    dearer["price_1"] = json!(0.12);
    let changed = app
        .post(&format!("/api/call_rates/{rate_id}"), &admin, dearer)
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let detail = portal::call(
        &app,
        &boss,
        "get_cdr_detail",
        json!({"tenant": null, "id": c1["id"]}),
    )
    .await;
    assert!(detail.body["rating_note"]
        .as_str()
        .is_some_and(|n| n.contains("changed")));
    let rerated = portal::call(
        &app,
        &boss,
        "rerate_cdrs",
        json!({"tenant": null, "args": {"status": "RATED", "direction": "OUTBOUND_CALL"}}),
    )
    .await;
    assert_eq!(rerated.status, StatusCode::OK, "{}", rerated.text);
    // Each of the two calls' first minute costs 0.06 more, plus 10%.
    assert_eq!(
        rerated.body,
        json!({"matched": 2, "rerated": 2, "unchanged": 0, "unrated": 0,
               "delta": "0.13200", "currency": "USD"})
    );

    // The filtered CSV with the session.
    let csv = portal::get(
        &app,
        &boss,
        "/portal/export/cdrs.csv?status=RATED&orderby=call_id",
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let calls: Vec<&str> = csv
        .text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    assert_eq!(calls, ["c1", "c2"]);
    let bad = portal::get(&app, &boss, "/portal/export/cdrs.csv?from=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.fields(), ["from"]);

    // A standard user's calls page lists its own calls (all of these are
    // 101's) and exports them; it re-rates nothing.
    let clerk = portal::session(&app, "101", DOMAIN).await;
    let own = portal::call(
        &app,
        &clerk,
        "list_cdrs",
        json!({"tenant": null, "args": {}}),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["count"], 4);
    let refused = portal::call(
        &app,
        &clerk,
        "rerate_cdrs",
        json!({"tenant": null, "args": {}}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let csv = portal::get(&app, &clerk, "/portal/export/cdrs.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.text.lines().count(), 5);
}

on_both_databases!(the_calls_page_lists_rates_and_rerates_what_it_shows);
