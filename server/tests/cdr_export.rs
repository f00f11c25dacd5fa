//! `GET /api/cdrs/export`: the filtered list of calls as CSV, on SQLite and
//! on PostgreSQL.

mod common;

use axum::http::StatusCode;
use billing::Backend;
use common::{rate, TestApp};
use serde_json::{json, Value};

fn cdr(
    call_id: &str,
    direction: &str,
    caller: &str,
    callee: &str,
    day: u32,
    duration: i64,
) -> Value {
    json!({
        "call_id": call_id, "caller": caller, "callee": callee, "direction": direction,
        "started_at": format!("2026-01-{day:02}T10:00:00Z"),
        "answered_at": format!("2026-01-{day:02}T10:00:05Z"),
        "ended_at": format!("2026-01-{day:02}T10:05:00Z"), "duration": duration, "status_code": 200,
        "end_reason": "CALLER_DISCONNECTED", "trunk": "carrier-a"
    })
}

/// The CSV's lines after its header, split into cells (no quoted commas here).
fn lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

async fn the_export_has_the_filtered_calls_with_their_cost(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;
    app.post("/api/call_rates", &admin, rate("1")).await;
    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    app.post(
        &format!("/api/tenant/balance?tenant_id={tenant}"),
        &root,
        json!({"balance": 10}),
    )
    .await;
    let posted = app
        .post(
            "/api/cdrs",
            &admin,
            json!([
                cdr("c1", "OUTBOUND_CALL", "101", "+1234567", 3, 71),
                cdr("c2", "EXTENSION_CALL", "101", "102", 4, 300),
                cdr("c3", "OUTBOUND_CALL", "102", "999", 5, 60),
                cdr("c4", "OUTBOUND_CALL", "=cmd", "1555", 6, 30),
            ]),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    app.post(
        "/api/cdrs",
        &other_admin,
        cdr("x1", "OUTBOUND_CALL", "101", "1555", 3, 60),
    )
    .await;

    let all = app.get("/api/cdrs/export", &admin).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert!(all.headers["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/csv")));
    assert_eq!(
        all.headers["content-disposition"],
        "attachment; filename=\"cdrs.csv\""
    );
    assert_eq!(
        all.text.lines().next(),
        Some(billing::cdrs::EXPORT_COLUMNS.join(",").as_str())
    );
    let rows = lines(&all.text);
    let ids: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c3", "c4"], "the tenant's own calls only");
    // The rated call: its times, cost with five decimals and currency, its rate.
    let c1 = &rows[0];
    assert_eq!(c1[2], "2026-01-03T10:00:00Z");
    assert_eq!(c1[5], "OUTBOUND_CALL");
    assert_eq!(c1[10], "71");
    assert_eq!(c1[12], "RATED");
    assert_eq!((c1[13].as_str(), c1[14].as_str()), ("0.17930", "USD"));
    assert_eq!((c1[15].as_str(), c1[16].as_str()), ("1", "TENANT"));
    // The free call has a zero cost; the unrated one none, and its reason.
    assert_eq!(rows[1][12], "FREE");
    assert_eq!(rows[2][12], "UNRATED");
    assert_eq!(rows[2][13], "");
    assert_eq!(rows[2][17], "no rate matches 999");
    // A cell that a spreadsheet would run as a formula is written as text.
    assert_eq!(rows[3][6], "'=cmd");

    // The list's options: filter, search and order, all of the list.
    let filtered = app
        .get(
            "/api/cdrs/export?filter=rating_status%20eq%20'RATED'%20and%20started_at%20ge%20'2026-01-04T00:00:00Z'&orderby=call_id%20desc&top=1",
            &admin,
        )
        .await;
    assert_eq!(filtered.status, StatusCode::OK, "{}", filtered.text);
    let ids: Vec<String> = lines(&filtered.text)
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(ids, ["c4"], "top does not page the export");
    let searched = app
        .get("/api/cdrs/export?search=102&orderby=call_id%20desc", &admin)
        .await;
    let ids: Vec<String> = lines(&searched.text)
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(ids, ["c3", "c2"], "caller or callee");

    // Refusals: a bad filter names its parameter; a standard user may not export.
    let bad = app
        .get("/api/cdrs/export?filter=nope%20eq%201", &admin)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "VALIDATE_FAILED");
    let refused = app.get("/api/cdrs/export", &user).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let nobody = app.call("GET", "/api/cdrs/export", None, None).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
}

async fn a_large_export_streams_every_call(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    let total = 2500;
    let batch: Vec<Value> = (0..total)
        .map(|i| {
            cdr(
                &format!("call-{i:05}"),
                "INBOUND_CALL",
                "555",
                "101",
                1 + i % 28,
                10,
            )
        })
        .collect();
    let posted = app.post("/api/cdrs", &admin, Value::Array(batch)).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    let export = app
        .get("/api/cdrs/export?orderby=call_id%20desc", &admin)
        .await;
    assert_eq!(export.status, StatusCode::OK);
    let rows = lines(&export.text);
    assert_eq!(rows.len(), total as usize);
    assert_eq!(rows[0][1], "call-02499");
    assert_eq!(rows[total as usize - 1][1], "call-00000");
    // Compressed on the way, the answer is read to its end (its body is
    // polled once more after it has ended).
    let request = axum::http::Request::builder()
        .uri("/api/cdrs/export")
        .header("authorization", format!("Bearer {admin}"))
        .header("accept-encoding", "gzip")
        .body(axum::body::Body::empty())
        .expect("request");
    let gzipped = app.send(request).await;
    assert_eq!(gzipped.status, StatusCode::OK);
    assert_eq!(gzipped.headers["content-encoding"], "gzip");
}

on_both_databases!(
    the_export_has_the_filtered_calls_with_their_cost,
    a_large_export_streams_every_call,
);
