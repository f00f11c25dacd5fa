//! The older tariff API (`/api/tariff/...`): the seed's curl samples as
//! written (only host, port and token differ), on SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use billing::Backend;
use common::{rate, Answer, TestApp};
use serde_json::{json, Value};

/// A request as the seed's samples send it: `Content-Type: application/json`
/// and the token in an `access_token` header.
async fn legacy(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", "application/json")
        .header("access_token", token);
    let request = match body {
        Some(b) => request.body(Body::from(b.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("request");
    app.send(request).await
}

fn full(prefix: &str) -> Value {
    json!({
        "type": "OUTGOING", "interval1": 60, "grace_period": 5, "call_prefix": prefix,
        "intervaln": 6, "price1": 0.06, "free_seconds": 10, "connect_fee": 0.1,
        "pricen": 0.03, "postcall_surcharge": 0.1
    })
}

async fn the_older_login_answers_a_token_for_both_apis(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    app.tenant(&root, "acme.example.com").await;
    let answer = app
        .call(
            "POST",
            "/api/account/credentials/verify",
            None,
            Some(json!({"name": "boss", "password": "password-123", "domain": "acme.example.com"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let token = answer.body["access_token"].as_str().expect("token");
    assert_eq!(token.len(), 64, "the documented token length");
    assert_eq!(answer.body["expires"], 1800);
    assert_eq!(answer.body["role"], "Admin");
    assert_eq!(answer.body["api_version"], "22.0");
    // The same token works on the REST API, and a REST token here.
    assert_eq!(
        app.get("/api/call_rates", token).await.status,
        StatusCode::OK
    );
    let rest = app
        .login("boss", "password-123", Some("acme.example.com"))
        .await;
    let listed = legacy(&app, "GET", "/api/tariff/list", &rest, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    // As a query parameter too, as older clients send it.
    let by_query = app
        .call(
            "GET",
            &format!("/api/tariff/list?access_token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(by_query.status, StatusCode::OK);

    let wrong = app
        .call(
            "POST",
            "/api/account/credentials/verify",
            None,
            Some(json!({"name": "boss", "password": "nope", "domain": "acme.example.com"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "UNAUTHORIZED");
    let missing = app
        .call(
            "POST",
            "/api/account/credentials/verify",
            None,
            Some(json!({})),
        )
        .await;
    let mut fields = missing.fields();
    fields.sort();
    assert_eq!(fields, ["name", "password"]);
    let none = app.call("GET", "/api/tariff/list", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "UNAUTHORIZED");
}

async fn the_seed_samples_work_as_written(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;

    // create: `-d '{}'` is answered with every required field named.
    let empty = legacy(&app, "POST", "/api/tariff/create", &admin, Some(json!({}))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let mut fields = empty.fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "call_prefix",
            "connect_fee",
            "free_seconds",
            "grace_period",
            "interval1",
            "intervaln",
            "postcall_surcharge",
            "price1",
            "pricen",
            "type"
        ]
    );
    let created = legacy(
        &app,
        "POST",
        "/api/tariff/create",
        &admin,
        Some(full("4420")),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let id = created.body["id"].as_i64().expect("an integer id");

    // show: the documented fields, money as exact strings.
    let shown = legacy(
        &app,
        "GET",
        &format!("/api/tariff/show?id={id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert_eq!(
        shown.body,
        json!({
            "id": id, "type": "OUTGOING", "call_prefix": "4420", "grace_period": 5,
            "free_seconds": 10, "interval1": 60, "intervaln": 6, "price1": "0.06",
            "pricen": "0.03", "connect_fee": "0.1", "postcall_surcharge": "0.1"
        })
    );
    let no_id = legacy(&app, "GET", "/api/tariff/show", &admin, None).await;
    assert_eq!(no_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_id.fields(), ["id"]);

    // The same rate through v22 and the tariff REST API.
    let v22 = app.get("/api/call_rates", &admin).await;
    assert_eq!(v22.body["count"], 1);
    assert_eq!(v22.body["items"][0]["prefix"], "4420");
    let api_id = v22.body["items"][0]["id"].as_str().expect("id").to_string();
    assert_eq!(model::ApiId::decode(&api_id), Some(id));
    let default_tariff = app.get("/api/tariffs", &admin).await.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let via_tariff = app
        .get(
            &format!("/api/tariffs/{default_tariff}/rates/{api_id}"),
            &admin,
        )
        .await;
    assert_eq!(via_tariff.body["direction"], "OUTGOING");
    // And a v22 rate here.
    app.post("/api/call_rates", &admin, rate("33")).await;

    // update: `-d '{"id": 1234}'` names a rate and changes nothing else.
    let untouched = legacy(
        &app,
        "POST",
        "/api/tariff/update",
        &admin,
        Some(json!({"id": id})),
    )
    .await;
    assert_eq!(untouched.status, StatusCode::OK, "{}", untouched.text);
    let changed = legacy(
        &app,
        "POST",
        "/api/tariff/update",
        &admin,
        Some(json!({"id": id, "price1": 0.07, "type": "INCOMING", "intervaln": 1})),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let shown = legacy(
        &app,
        "GET",
        &format!("/api/tariff/show?id={id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(shown.body["price1"], "0.07");
    assert_eq!(shown.body["type"], "INCOMING");
    assert_eq!(shown.body["intervaln"], 1);
    assert_eq!(shown.body["pricen"], "0.03");
    let bad = legacy(
        &app,
        "POST",
        "/api/tariff/update",
        &admin,
        Some(json!({"id": id, "price1": "x", "type": "BOTH", "interval1": 0})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["interval1", "price1", "type"], "this API's names");
    let unknown = legacy(
        &app,
        "POST",
        "/api/tariff/update",
        &admin,
        Some(json!({"id": 1234})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // list: the documented answer, pagination 1-based.
    for p in ["44", "45", "46"] {
        legacy(&app, "POST", "/api/tariff/create", &admin, Some(full(p))).await;
    }
    let listed = legacy(&app, "GET", "/api/tariff/list", &admin, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["pagesize"], 10);
    assert_eq!(listed.body["pagination"], 1);
    assert_eq!(listed.body["sort_by"], "DEFAULT");
    assert_eq!(listed.body["count"], 5);
    assert_eq!(listed.body["call_rates"][0]["id"], id);
    let page = legacy(
        &app,
        "GET",
        "/api/tariff/list?pagination=2&pagesize=2&sort_by=OPTIONAL",
        &admin,
        None,
    )
    .await;
    let prefixes: Vec<&str> = page.body["call_rates"]
        .as_array()
        .expect("rates")
        .iter()
        .filter_map(|r| r["call_prefix"].as_str())
        .collect();
    assert_eq!(prefixes, ["4420", "45"], "page 2 of 33, 44, 4420, 45, 46");
    assert_eq!(page.body["count"], 5);
    assert_eq!(page.body["sort_by"], "OPTIONAL");
    let bad_page = legacy(
        &app,
        "GET",
        "/api/tariff/list?pagination=0&pagesize=1000&sort_by=NAME",
        &admin,
        None,
    )
    .await;
    let mut fields = bad_page.fields();
    fields.sort();
    assert_eq!(fields, ["pagesize", "pagination", "sort_by"]);

    // Another tenant sees nothing and changes nothing; a user only reads.
    let foreign = legacy(
        &app,
        "GET",
        &format!("/api/tariff/show?id={id}"),
        &other_admin,
        None,
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let foreign_gone = legacy(
        &app,
        "POST",
        "/api/tariff/destroy",
        &other_admin,
        Some(json!({"id": id})),
    )
    .await;
    assert_eq!(foreign_gone.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        legacy(&app, "GET", "/api/tariff/list", &other_admin, None)
            .await
            .body["count"],
        0
    );
    assert_eq!(
        legacy(&app, "GET", "/api/tariff/list", &user, None)
            .await
            .status,
        StatusCode::OK
    );
    let by_user = legacy(&app, "POST", "/api/tariff/create", &user, Some(full("47"))).await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN);

    // destroy: the sample's unknown id is "invalid" (400); a real one goes.
    let sample = legacy(
        &app,
        "POST",
        "/api/tariff/destroy",
        &admin,
        Some(json!({"id": 1234})),
    )
    .await;
    assert_eq!(sample.status, StatusCode::BAD_REQUEST);
    assert_eq!(sample.fields(), ["id"]);
    let gone = legacy(
        &app,
        "POST",
        "/api/tariff/destroy",
        &admin,
        Some(json!({"id": id})),
    )
    .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
    assert_eq!(
        app.get(&format!("/api/call_rates/{api_id}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let wrong_method = legacy(&app, "GET", "/api/tariff/destroy", &admin, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.code(), "METHOD_NOT_ALLOWED");
}

on_both_databases!(
    the_older_login_answers_a_token_for_both_apis,
    the_seed_samples_work_as_written,
);
