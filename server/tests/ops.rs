//! What operators and load balancers ask: `/healthz`, `/readyz`, `/metrics`
//! (who may read it, what it counts) and the request id, on SQLite and on
//! PostgreSQL.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use billing::Backend;
use common::{rate, Answer, TestApp};
use serde_json::json;

fn get(path: &str) -> axum::http::request::Builder {
    Request::builder().method("GET").uri(path)
}

/// `GET path` from a client at `peer`.
async fn from_peer(app: &TestApp, path: &str, peer: &str) -> Answer {
    let mut request = get(path).body(Body::empty()).expect("request");
    let addr: SocketAddr = peer.parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(addr));
    app.send(request).await
}

/// The value of the sample `name{labels}` in a metrics text, 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
        .unwrap_or(0.0)
}

async fn health_and_readiness_need_no_login(backend: Backend) {
    let app = TestApp::new(backend).await;
    let health = app.call("GET", "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    assert_eq!(health.body["status"], "ok");
    let ready = app.call("GET", "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.body["status"], "ready");
}

async fn a_server_is_not_ready_while_a_migration_is_missing(backend: Backend) {
    let app = TestApp::new(backend).await;
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(app.db.db.pool())
    .await
    .expect("forget the last migration");
    let ready = app.call("GET", "/readyz", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    assert_eq!(ready.code(), "NOT_READY");
    let detail = ready.body["errors"][0]["detail"].as_str().unwrap_or("");
    assert!(detail.contains("migrations not applied"), "{detail}");
    // The process itself still answers.
    let health = app.call("GET", "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
}

async fn metrics_are_for_local_clients_or_the_token(backend: Backend) {
    let app = TestApp::new(backend).await;
    let local = from_peer(&app, "/metrics", "127.0.0.1:40000").await;
    assert_eq!(local.status, StatusCode::OK, "{}", local.text);
    assert!(local.headers[header::CONTENT_TYPE]
        .to_str()
        .expect("type")
        .starts_with("text/plain"));

    let remote = from_peer(&app, "/metrics", "192.0.2.7:40000").await;
    assert_eq!(remote.status, StatusCode::FORBIDDEN, "{}", remote.text);
    assert_eq!(remote.code(), "FORBIDDEN");

    // A local proxy forwarding someone else's request is not a local client.
    let mut forwarded = get("/metrics")
        .header("x-forwarded-for", "192.0.2.7")
        .body(Body::empty())
        .expect("request");
    forwarded.extensions_mut().insert(ConnectInfo(
        "127.0.0.1:40000".parse::<SocketAddr>().expect("address"),
    ));
    assert_eq!(app.send(forwarded).await.status, StatusCode::FORBIDDEN);

    // With a metrics token, its holders may ask from anywhere; nobody else.
    let guarded = TestApp {
        router: app
            .router
            .clone()
            .layer(axum::Extension(server::ops::MetricsAccess::new(Some(
                "metrics-secret".into(),
            )))),
        db: app.db,
    };
    let with = guarded
        .call("GET", "/metrics", Some("metrics-secret"), None)
        .await;
    assert_eq!(with.status, StatusCode::OK, "{}", with.text);
    let wrong = guarded
        .call("GET", "/metrics", Some("metrics-secre"), None)
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
}

async fn metrics_count_requests_authorisations_cdrs_and_holds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, _) = app.tenant(&root, "ops.example.com").await;
    assert_eq!(
        app.post("/api/call_rates", &admin, rate("1")).await.status,
        StatusCode::OK
    );
    let online = app
        .post(
            "/api/tenant/billing",
            &admin,
            json!({"enabled": true, "type": "ONLINE"}),
        )
        .await;
    assert_eq!(online.status, StatusCode::OK, "{}", online.text);
    let before = from_peer(&app, "/metrics", "127.0.0.1:1").await.text;

    // One refusal (no funds yet), then funds and one grant that stays live.
    let refused = app
        .post(
            "/api/charging/authorize",
            &admin,
            json!({"call_id": "m1", "caller": "101", "callee": "1555"}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let recharged = app
        .post(
            &format!("/api/tenant/balance?tenant_id={tenant}"),
            &root,
            json!({"balance": 10}),
        )
        .await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    let granted = app
        .post(
            "/api/charging/authorize",
            &admin,
            json!({"call_id": "m2", "caller": "101", "callee": "1555"}),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    let posted = app
        .post(
            "/api/cdrs",
            &admin,
            json!([{"call_id": "c1", "caller": "101", "callee": "1555", "direction": "OUTBOUND_CALL",
                    "started_at": "2026-01-01T10:00:00Z", "duration": 60, "status_code": 200},
                   {"call_id": "c2", "caller": "101", "callee": "999", "direction": "OUTBOUND_CALL",
                    "started_at": "2026-01-01T10:00:00Z", "duration": 60, "status_code": 200}]),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);

    let after = from_peer(&app, "/metrics", "127.0.0.1:1").await;
    assert_eq!(after.status, StatusCode::OK);
    let text = after.text;
    // The recorder is the process's: other tests count too, so compare.
    let grew = |series: &str, by: f64| {
        let (was, is) = (sample(&before, series), sample(&text, series));
        assert!(is - was >= by, "{series}: {was} -> {is}\n{text}");
    };
    grew(r#"ratedeck_authorizations_total{outcome="granted"}"#, 1.0);
    grew(
        r#"ratedeck_authorizations_total{outcome="INSUFFICIENT_FUNDS"}"#,
        1.0,
    );
    grew(r#"ratedeck_cdrs_total{outcome="rated"}"#, 1.0);
    grew(r#"ratedeck_cdrs_total{outcome="unrated"}"#, 1.0);
    grew(
        r#"ratedeck_http_requests_total{method="POST",route="/api/charging/authorize",status="200"}"#,
        1.0,
    );
    grew(
        r#"ratedeck_http_requests_total{method="POST",route="/api/charging/authorize",status="422"}"#,
        1.0,
    );
    assert!(
        text.contains(r#"ratedeck_http_request_duration_seconds_bucket{method="POST",route="/api/charging/authorize",status="200",le="#),
        "{text}"
    );
    // Read from this test's database: exactly its one live call.
    assert!(text.contains("\nratedeck_live_holds 1\n"), "{text}");
    assert!(
        text.contains(r#"ratedeck_held_amount{currency="USD"} "#),
        "{text}"
    );
    assert!(
        text.contains(r#"ratedeck_db_pool_connections{state="idle"}"#),
        "{text}"
    );
    assert!(
        text.contains("# TYPE ratedeck_rate_table_build_seconds histogram"),
        "{text}"
    );
}

async fn every_answer_carries_a_request_id(backend: Backend) {
    let app = TestApp::new(backend).await;
    let first = app.call("GET", "/healthz", None, None).await;
    let second = app.call("GET", "/healthz", None, None).await;
    let id = |a: &Answer| a.headers["x-request-id"].to_str().expect("id").to_string();
    assert_eq!(id(&first).len(), 16);
    assert_ne!(id(&first), id(&second));

    let sent = app
        .send(
            get("/api/openapi.json")
                .header("x-request-id", "lb-42")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(sent.headers["x-request-id"], "lb-42");
    // One that cannot be a header value or is too long is replaced.
    let long = "x".repeat(65);
    let replaced = app
        .send(
            get("/healthz")
                .header("x-request-id", long.as_str())
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(id(&replaced).len(), 16);
}

on_both_databases!(
    health_and_readiness_need_no_login,
    a_server_is_not_ready_while_a_migration_is_missing,
    metrics_are_for_local_clients_or_the_token,
    metrics_count_requests_authorisations_cdrs_and_holds,
    every_answer_carries_a_request_id,
);
