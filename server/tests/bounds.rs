//! No input reaches a panic: every rate term, duration and amount is held to
//! its documented bound (docs/rating.md "Bounds") on every surface, answered
//! in that surface's own error format, on SQLite and PostgreSQL. And a panic
//! that slips through anyway answers 500 in the REST error format.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use billing::Backend;
use common::{rate, TestApp};
use serde_json::{json, Value};
use server::xmlrpc::codec::{self, XValue};
use tower::ServiceExt;

/// The first error of an answer as (code, field, message).
fn first_error(answer: &common::Answer) -> (String, String, String) {
    let e = &answer.body["errors"][0];
    (
        e["code"].as_str().unwrap_or("").into(),
        e["field"].as_str().unwrap_or("").into(),
        e["message"].as_str().unwrap_or("").into(),
    )
}

/// A body sent as it is written (JSON numbers beyond f64 and i64 included).
async fn post_text(app: &TestApp, path: &str, token: &str, body: &str) -> common::Answer {
    app.raw("POST", path, token, "application/json", body.to_string())
        .await
}

async fn rest_call_rates_refuse_values_beyond_the_bounds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;

    // The price that used to overflow: a 400 naming the field, not a dropped connection.
    let mut body = rate("44");
    body["price_1"] = json!(8e26);
    let refused = app.post("/api/call_rates", &admin, body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        first_error(&refused),
        (
            "VALIDATE_FAILED".into(),
            "price_1".into(),
            "price_1 must be at most 1000".into()
        )
    );

    for (field, value, message) in [
        ("price_n", "1000.00001", "must be at most 1000"),
        ("connect_fee", "1e300", "must be at most 1000"),
        ("postcall_surcharge", "10.5", "must be at most 10"),
        ("interval_1", "86401", "must be at most 86400"),
        (
            "interval_n",
            "99999999999999999999999",
            "must be at most 86400",
        ),
        ("free_seconds", "1e40", "must be at most 86400"),
        ("grace_period", "2147483648", "must be at most 86400"),
    ] {
        let text = rate("44").to_string().replacen(
            &format!("\"{field}\":{}", rate("44")[field]),
            &format!("\"{field}\":{value}"),
            1,
        );
        assert!(text.contains(value), "{text}");
        let refused = post_text(&app, "/api/call_rates", &admin, &text).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            refused.text
        );
        assert_eq!(refused.fields(), [field], "{}", refused.text);
        assert_eq!(first_error(&refused).2, format!("{field} {message}"));
    }

    // The bounds themselves are taken, and an update is held to them too.
    let mut body = rate("44");
    body["price_1"] = json!(1000);
    body["price_n"] = json!(1000);
    body["connect_fee"] = json!(1000);
    body["postcall_surcharge"] = json!(10);
    body["interval_1"] = json!(86_400);
    body["interval_n"] = json!(86_400);
    body["free_seconds"] = json!(86_400);
    body["grace_period"] = json!(86_400);
    let created = app.post("/api/call_rates", &admin, body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let id = created.body["id"].as_str().expect("id");
    let refused = post_text(
        &app,
        &format!("/api/call_rates/{id}"),
        &admin,
        r#"{"price_n": -8e26}"#,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error(&refused).2, "price_n must be at least 0");
    assert_eq!(
        app.get(&format!("/api/call_rates/{id}"), &admin).await.body["price_n"],
        json!(1000),
        "nothing was changed"
    );

    // A filter with a huge number is a 400 too, not a crash.
    let listed = app
        .get("/api/call_rates?filter=price_1%20le%208e26", &admin)
        .await;
    assert_eq!(listed.status, StatusCode::BAD_REQUEST, "{}", listed.text);
    assert_eq!(listed.code(), "VALIDATE_FAILED");
}

async fn tariffs_and_their_rates_refuse_values_beyond_the_bounds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    let refused = post_text(
        &app,
        "/api/tariffs",
        &admin,
        r#"{"name": "Retail", "connect_fee": 8e26, "grace_period": 86401}"#,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.fields(), ["connect_fee", "grace_period"]);

    let tariff = app
        .post("/api/tariffs", &admin, json!({"name": "Retail"}))
        .await;
    let tariff = tariff.body["id"].as_str().expect("tariff id").to_string();
    let refused = post_text(
        &app,
        &format!("/api/tariffs/{tariff}/rates"),
        &admin,
        r#"{"prefix": "44", "interval_1": 60, "interval_n": 6, "price_1": 8e26, "price_n": 0.1}"#,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(first_error(&refused).2, "price_1 must be at most 1000");
}

async fn the_older_tariff_api_refuses_values_beyond_the_bounds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    let request = Request::builder()
        .method("POST")
        .uri("/api/tariff/create")
        .header("Content-Type", "application/json")
        .header("access_token", &admin)
        .body(Body::from(
            r#"{"type": "OUTGOING", "interval1": 60, "grace_period": 5, "call_prefix": "44",
                "intervaln": 6, "price1": 8e26, "free_seconds": 10, "connect_fee": 0.1,
                "pricen": 0.03, "postcall_surcharge": 0.1}"#,
        ))
        .expect("request");
    let refused = app.send(request).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        first_error(&refused),
        (
            "VALIDATE_FAILED".into(),
            "price1".into(),
            "price1 must be at most 1000".into()
        ),
        "the error names this API's field"
    );
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

async fn xmlrpc(
    app: &TestApp,
    method: &str,
    members: Vec<(&str, XValue)>,
) -> Result<XValue, (i64, String)> {
    let members = members
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    let request = Request::builder()
        .method("POST")
        .uri("/xmlapi")
        .header(header::CONTENT_TYPE, "text/xml")
        .header(
            header::AUTHORIZATION,
            basic("boss@acme.example.com", "password-123"),
        )
        .body(Body::from(codec::call(method, &[XValue::Struct(members)])))
        .expect("request");
    let answer = app.send(request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    codec::parse_response(answer.text.as_bytes()).expect("an XML-RPC answer")
}

async fn xmlrpc_refuses_values_beyond_the_bounds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    app.tenant(&root, "acme.example.com").await;
    let (code, message) = xmlrpc(
        &app,
        "addTariff",
        vec![
            ("name", XValue::Str("Retail".into())),
            ("connect_fee", XValue::Double("8e26".into())),
        ],
    )
    .await
    .expect_err("a fault");
    assert_eq!(code, server::xmlrpc::INVALID_PARAMS);
    assert!(
        message.contains("connect_fee must be at most 1000"),
        "{message}"
    );

    let added = xmlrpc(
        &app,
        "addTariff",
        vec![("name", XValue::Str("Retail".into()))],
    )
    .await
    .expect("added");
    let XValue::Struct(members) = added else {
        panic!("a struct: {added:?}")
    };
    let tariff = members
        .into_iter()
        .find(|(name, _)| name == "i_tariff")
        .map(|(_, v)| v)
        .expect("i_tariff");
    let (code, message) = xmlrpc(
        &app,
        "addTariffRate",
        vec![
            ("i_tariff", tariff),
            ("prefix", XValue::Str("44".into())),
            ("interval_1", XValue::Int(60)),
            ("interval_n", XValue::Int(6)),
            ("price_1", XValue::Double("0.06".into())),
            (
                "price_n",
                XValue::Double("800000000000000000000000000".into()),
            ),
            ("post_call_surcharge", XValue::Double("11".into())),
        ],
    )
    .await
    .expect_err("a fault");
    assert_eq!(code, server::xmlrpc::INVALID_PARAMS);
    assert!(
        message.contains("price_n must be at most 1000"),
        "{message}"
    );
    assert!(
        message.contains("post_call_surcharge must be at most 10"),
        "the fault names the XML-RPC member: {message}"
    );
}

const HEADER: &str = "id,prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description";

async fn a_csv_import_names_each_value_beyond_the_bounds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    let file = format!(
        "{HEADER}\n,1,LOCAL,0,0,60,60,0,0,0.1,0.1,ok\n,2,LOCAL,0,0,60,60,0,0,8e26,0.1,\n,3,LOCAL,0,0,60,90000,0,0,0.1,0.1,\n"
    );
    let refused = app
        .raw("POST", "/api/call_rates/import", &admin, "text/csv", file)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let lines: Vec<(u64, String, String)> = refused.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["field"].as_str().unwrap_or("").to_string(),
                e["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                3,
                "price_1".into(),
                "line 3: price_1 must be at most 1000".into()
            ),
            (
                4,
                "interval_n".into(),
                "line 4: interval_n must be at most 86400".into()
            ),
        ]
    );
    assert_eq!(
        app.get("/api/call_rates", &admin).await.body["count"],
        0,
        "nothing was imported"
    );
}

fn cdr(call_id: &str, duration: &str) -> String {
    format!(
        r#"{{"call_id": "{call_id}", "caller": "101", "callee": "+4420", "direction": "OUTBOUND_CALL",
            "started_at": "2026-11-22T10:00:00Z", "duration": {duration}, "status_code": 200}}"#
    )
}

async fn durations_are_held_to_thirty_days(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    app.post("/api/call_rates", &admin, rate("44")).await;

    // CDR ingestion: the batch is refused, the entry and field named.
    for huge in ["2592001", "8e26", "18446744073709551616"] {
        let refused = post_text(
            &app,
            "/api/cdrs",
            &admin,
            &format!("[{}, {}]", cdr("a", "60"), cdr("b", huge)),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{huge}: {}",
            refused.text
        );
        assert_eq!(
            first_error(&refused),
            (
                "VALIDATE_FAILED".into(),
                "cdrs[1].duration".into(),
                "cdrs[1].duration must be at most 2592000".into()
            )
        );
    }
    let taken = post_text(&app, "/api/cdrs", &admin, &cdr("c", "2592000")).await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    assert_eq!(app.get("/api/cdrs", &admin).await.body["count"], 1);

    // A quote.
    for huge in ["2592001", "8e26", "1e400"] {
        let refused = post_text(
            &app,
            "/api/rating/quote",
            &admin,
            &format!(r#"{{"callee": "+442071234567", "duration": {huge}}}"#),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{huge}: {}",
            refused.text
        );
        assert_eq!(first_error(&refused).2, "duration must be at most 2592000");
    }
    let quoted = app
        .post(
            "/api/rating/quote",
            &admin,
            json!({"callee": "+442071234567", "duration": 2_592_000}),
        )
        .await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.text);

    // Online charging's reports of a call.
    for (path, field) in [
        ("/api/charging/c1/update", "used_seconds"),
        ("/api/charging/c1/terminate", "duration"),
    ] {
        let refused = post_text(&app, path, &admin, &format!(r#"{{"{field}": 8e26}}"#)).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            refused.text
        );
        assert_eq!(first_error(&refused).1, field);
    }
}

async fn recharges_and_credit_limits_have_bounds(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, _, _) = app.tenant(&root, "acme.example.com").await;
    let balance = format!("/api/tenant/balance?tenant_id={tenant}");
    let limit = format!("/api/tenant/credit_limit?tenant_id={tenant}");
    for (path, body, message) in [
        (
            &balance,
            r#"{"balance": 8e26}"#,
            "balance must be at most 1000000000",
        ),
        (
            &balance,
            r#"{"balance": 1000000000.00001}"#,
            "balance must be at most 1000000000",
        ),
        (
            &limit,
            r#"{"credit_limit": 8e26}"#,
            "credit_limit must be between 0 and 1000000000",
        ),
        (
            &limit,
            r#"{"credit_limit": -8e26}"#,
            "credit_limit must be between 0 and 1000000000",
        ),
    ] {
        let refused = post_text(&app, path, &root, body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            refused.text
        );
        assert_eq!(first_error(&refused).2, message, "{body}");
    }
    // A thousand of the largest recharges reach the largest balance; one more
    // is refused and leaves the balance and the ledger as they were.
    for _ in 0..1000 {
        let taken = app
            .post(&balance, &root, json!({"balance": 1_000_000_000}))
            .await;
        assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    }
    let refused = app.post(&balance, &root, json!({"balance": 0.00001})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        first_error(&refused).2,
        "balance would take the balance above 1000000000000"
    );
    let now = app.get(&balance, &root).await;
    assert_eq!(now.body["balance"], json!(1_000_000_000_000i64));
    let ledger = app
        .get(
            &format!("/api/balance_transactions?tenant_id={tenant}&top=1"),
            &root,
        )
        .await;
    assert_eq!(ledger.body["count"], json!(1000), "{}", ledger.text);
}

on_both_databases!(
    rest_call_rates_refuse_values_beyond_the_bounds,
    tariffs_and_their_rates_refuse_values_beyond_the_bounds,
    the_older_tariff_api_refuses_values_beyond_the_bounds,
    xmlrpc_refuses_values_beyond_the_bounds,
    a_csv_import_names_each_value_beyond_the_bounds,
    durations_are_held_to_thirty_days,
    recharges_and_credit_limits_have_bounds,
);

/// Collects what is logged, for the panic test.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_in_a_request_answers_500_in_the_error_format_and_is_logged_once() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let router = server::web::catch_panics(
        Router::new()
            .route(
                "/api/boom",
                get(|| async {
                    let items: Vec<u32> = Vec::new();
                    #[allow(clippy::indexing_slicing)]
                    let n = items[3];
                    n.to_string()
                }),
            )
            .route("/api/fine", get(|| async { "fine" })),
    );
    let response = router
        .clone()
        .oneshot(
            Request::builder()
                .uri("/api/boom?x=1")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(body["errors"][0]["code"], "INTERNAL_ERROR");
    assert_eq!(body["errors"][0]["message"], "internal error");

    // The next request is served as usual.
    let fine = router
        .oneshot(
            Request::builder()
                .uri("/api/fine")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(fine.status(), StatusCode::OK);

    let logged = String::from_utf8(log.0.lock().expect("log").clone()).expect("text");
    let panics: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("request panicked"))
        .collect();
    assert_eq!(panics.len(), 1, "logged once: {logged}");
    assert!(panics[0].contains("GET /api/boom"), "{}", panics[0]);
    assert!(panics[0].contains("index out of bounds"), "{}", panics[0]);
    assert!(
        panics[0].contains("bounds.rs"),
        "where it panicked: {}",
        panics[0]
    );
}
