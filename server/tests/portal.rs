//! The portal's answers over HTTP: server-function refusals with their own
//! status, the security and cache headers, compressed answers.

mod common;

use std::io::Read;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use billing::Backend;
use common::{Answer, TestApp};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde_json::{json, Value};
use tower::ServiceExt;

const DOMAIN: &str = "acme.example.com";

/// Calls a portal server function the way the hydrated page does.
async fn server_fn(app: &TestApp, cookie: Option<&str>, name: &str, args: Value) -> Answer {
    let mut request = Request::builder()
        .method("POST")
        .uri(format!("/portal/fn/{name}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.send(request.body(Body::from(args.to_string())).expect("request"))
        .await
}

async fn refusals_answer_their_own_status(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, DOMAIN).await;
    let tariff = app
        .post(
            "/api/tariffs",
            &admin,
            json!({"name": "Premium", "currency": "USD"}),
        )
        .await;
    assert_eq!(tariff.status, StatusCode::OK, "{}", tariff.text);
    let tariff_id = tariff.body["id"].as_str().expect("id").to_string();
    let plan = app
        .post(
            "/api/billing_plans",
            &admin,
            json!({"prefix": "44", "tariff_id": tariff_id}),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);

    let boss = common::portal::session(&app, "boss", DOMAIN).await;
    // A tariff in use: 409, with the message the page shows.
    let in_use = server_fn(
        &app,
        Some(&boss),
        "delete_tariff",
        json!({"tenant": null, "id": tariff_id}),
    )
    .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT, "{}", in_use.text);
    assert!(
        in_use
            .text
            .contains("used by the billing plans for the prefixes 44"),
        "{}",
        in_use.text
    );
    // An unknown id: 404.
    let unknown = server_fn(
        &app,
        Some(&boss),
        "delete_tariff",
        json!({"tenant": null, "id": "no-such-id"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert!(
        unknown.text.contains("tariff not found"),
        "{}",
        unknown.text
    );
    // A bad field: 400, the problem named by its field for the form.
    let bad = server_fn(
        &app,
        Some(&boss),
        "save_tariff",
        json!({"tenant": null, "id": null, "body": {"name": "", "currency": "USD"}}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let error = <leptos::prelude::ServerFnError as leptos::server_fn::error::FromServerFnError>::de(
        bad.text.clone().into(),
    );
    let fields = app::functions::invalid_fields(&error).expect("field problems");
    assert_eq!(fields[0].field, "name", "{fields:?}");
    // Billing settings the same way (the form shows it at the field).
    let bad_settings = server_fn(
        &app,
        Some(&boss),
        "save_billing_settings",
        json!({"tenant": null, "body": {"type": "SOMETIMES"}}),
    )
    .await;
    assert_eq!(
        bad_settings.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_settings.text
    );
    // A good one is still done, 200.
    let saved = server_fn(
        &app,
        Some(&boss),
        "save_tariff",
        json!({"tenant": null, "id": null, "body": {"name": "Gold", "currency": "USD"}}),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);

    // A standard user may not change tariffs: 403.
    let user = common::portal::session(&app, "101", DOMAIN).await;
    let forbidden = server_fn(
        &app,
        Some(&user),
        "save_tariff",
        json!({"tenant": null, "id": null, "body": {"name": "Mine", "currency": "USD"}}),
    )
    .await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.text
    );
    // Nobody logged in: 401; asking who is logged in is no error.
    let anonymous = server_fn(
        &app,
        None,
        "delete_tariff",
        json!({"tenant": null, "id": tariff_id}),
    )
    .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.text
    );
    let nobody = server_fn(&app, None, "current_user", json!({})).await;
    assert_eq!(nobody.status, StatusCode::OK, "{}", nobody.text);
    assert_eq!(nobody.body, Value::Null);
    // A page rendered on the server keeps its own status whatever the calls
    // it makes while rendering answer (here: nobody is logged in).
    for page in ["/rates", "/tariffs", "/billing-plans", "/billing"] {
        let (status, _, _) = get_raw(&app.router, page, &[]).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "{page}: {status}"
        );
    }
}

/// The raw answer to a GET, body undecoded.
async fn get_raw(
    router: &axum::Router,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("answer");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn header_of(headers: &axum::http::HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn answers_carry_security_and_cache_headers(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (status, headers, body) = get_raw(&app.router, "/login", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8_lossy(&body);
    let policy = header_of(&headers, header::CONTENT_SECURITY_POLICY);
    assert!(
        policy.starts_with("default-src 'self'; script-src 'self' 'nonce-"),
        "{policy}"
    );
    assert!(policy.contains("'wasm-unsafe-eval'") && policy.contains("frame-ancestors 'none'"));
    // The page's inline hydration script carries that nonce.
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce");
    assert!(
        page.contains(&format!("<script type=\"module\" nonce=\"{nonce}\"")),
        "{page}"
    );
    // Each page its own nonce.
    let (_, again, _) = get_raw(&app.router, "/login", &[]).await;
    assert_ne!(header_of(&again, header::CONTENT_SECURITY_POLICY), policy);
    assert_eq!(header_of(&headers, header::REFERRER_POLICY), "same-origin");
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
    assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY));

    let (_, api, _) = get_raw(&app.router, "/api/openapi.json", &[]).await;
    assert_eq!(
        header_of(&api, header::CONTENT_SECURITY_POLICY),
        server::headers::DEFAULT_POLICY
    );
    assert_eq!(header_of(&api, header::REFERRER_POLICY), "same-origin");

    // Behind HTTPS (secure cookies on), HSTS too.
    let secure = server::web::router(
        server::AppState {
            db: app.db.db.clone(),
            leptos_options: LeptosOptions::builder().output_name("ratedeck").build(),
        },
        true,
    );
    let (_, https, _) = get_raw(&secure, "/api/openapi.json", &[]).await;
    assert_eq!(
        header_of(&https, header::STRICT_TRANSPORT_SECURITY),
        server::headers::HSTS
    );
}

async fn api_answers_are_compressed_when_asked(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, DOMAIN).await;
    for n in 0..30 {
        let created = app
            .post("/api/call_rates", &admin, common::rate(&format!("44{n}")))
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    }
    let auth = format!("Bearer {admin}");
    let (_, plain_headers, plain) = get_raw(
        &app.router,
        "/api/call_rates",
        &[(header::AUTHORIZATION, &auth)],
    )
    .await;
    assert!(!plain_headers.contains_key(header::CONTENT_ENCODING));
    let listed: Value = serde_json::from_slice(&plain).expect("json");
    assert_eq!(listed["count"], 30);

    let (status, headers, gzipped) = get_raw(
        &app.router,
        "/api/call_rates",
        &[
            (header::AUTHORIZATION, &auth),
            (header::ACCEPT_ENCODING, "gzip"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "gzip");
    assert!(
        gzipped.len() < plain.len() / 2,
        "{} of {}",
        gzipped.len(),
        plain.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut unzipped)
        .expect("gzip");
    assert_eq!(unzipped, plain);

    let (_, headers, brotli) = get_raw(
        &app.router,
        "/api/call_rates",
        &[
            (header::AUTHORIZATION, &auth),
            (header::ACCEPT_ENCODING, "br, gzip"),
        ],
    )
    .await;
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "br");
    let mut unbrotlied = Vec::new();
    brotli_decompressor::Decompressor::new(&brotli[..], 4096)
        .read_to_end(&mut unbrotlied)
        .expect("brotli");
    assert_eq!(unbrotlied, plain);
}

async fn site_files_are_precompressed_and_cached_by_fingerprint(backend: Backend) {
    let app = TestApp::new(backend).await;
    let site = tempfile::tempdir().expect("site folder");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    let wasm = vec![7u8; 4096];
    let name = "ratedeck.0123456789abcdef.wasm";
    std::fs::write(pkg.join(name), &wasm).expect("wasm");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &wasm).expect("gzip");
    std::fs::write(pkg.join(format!("{name}.gz")), gz.finish().expect("gzip")).expect("gz");
    std::fs::write(pkg.join("ratedeck.css"), "body { margin: 0 }").expect("css");
    let router = server::web::router(
        server::AppState {
            db: app.db.db.clone(),
            leptos_options: LeptosOptions::builder()
                .output_name("ratedeck")
                .site_root(site.path().to_string_lossy().into_owned())
                .build(),
        },
        false,
    );

    let path = format!("/pkg/{name}");
    let (status, headers, body) =
        get_raw(&router, &path, &[(header::ACCEPT_ENCODING, "gzip, br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "gzip");
    assert_eq!(
        header_of(&headers, header::CACHE_CONTROL),
        server::headers::IMMUTABLE
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut unzipped)
        .expect("gzip");
    assert_eq!(unzipped, wasm);
    // A client that accepts nothing gets the file itself.
    let (_, headers, body) = get_raw(&router, &path, &[]).await;
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(body, wasm);
    // A name without a content hash is asked for again each time.
    let (status, headers, _) = get_raw(&router, "/pkg/ratedeck.css", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
}

on_both_databases!(
    refusals_answer_their_own_status,
    answers_carry_security_and_cache_headers,
    api_answers_are_compressed_when_asked,
    site_files_are_precompressed_and_cached_by_fingerprint,
);
