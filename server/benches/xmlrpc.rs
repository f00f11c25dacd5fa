//! XML-RPC throughput: a 100k-rate tariff added one `addTariffRate` call at a
//! time, then listed back with `listTariffRates` pages of 100, each call a
//! full HTTP request through the server's router (XML parsing, API-token
//! authentication, validation, the write transaction, the XML answer).
//!
//! `cargo bench -p server --bench xmlrpc` (SQLite in a temporary file);
//! `RATEDECK_BENCH_RATES` changes the number of rates,
//! `RATEDECK_BENCH_DATABASE=postgres` runs it on the local PostgreSQL.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use base64::Engine;
use billing::testing::{new_tenant, system_admin, TestDb};
use billing::users::NewUser;
use billing::Backend;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use model::user::Role;
use server::xmlrpc::codec::{self, XValue};
use server::AppState;
use tower::ServiceExt;

async fn call(router: &Router, auth: &str, method: &str, args: XValue) -> XValue {
    let request = Request::builder()
        .method("POST")
        .uri("/xmlapi")
        .header(header::CONTENT_TYPE, "text/xml")
        .header(header::AUTHORIZATION, auth)
        .body(Body::from(codec::call(method, &[args])))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("answer");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    match codec::parse_response(&bytes).expect("an XML-RPC response") {
        Ok(v) => v,
        Err((code, message)) => panic!("{method}: fault {code}: {message}"),
    }
}

fn member(v: &XValue, name: &str) -> XValue {
    match v {
        XValue::Struct(members) => members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or(XValue::Nil),
        _ => XValue::Nil,
    }
}

fn report(what: &str, calls: u64, took: Duration) {
    println!(
        "{what}: {calls} calls in {:.2?}: {:.0} µs per call, {:.0} calls/s",
        took,
        took.as_secs_f64() * 1e6 / calls as f64,
        calls as f64 / took.as_secs_f64()
    );
}

async fn run(backend: Backend, rates: u64) {
    let t = TestDb::new(backend).await.expect("database");
    let db = t.db.clone();
    let scope = new_tenant(&db, "deck.example.com").await.expect("tenant");
    let tenant_id = scope.tenant_id;
    let user = db
        .create_user(
            &system_admin(),
            NewUser {
                username: "softswitch".into(),
                password: "password-123".into(),
                role: Some(Role::Admin),
                tenant_id: Some(tenant_id),
            },
        )
        .await
        .expect("user");
    let caller = db
        .caller_for_user(
            model::ApiId::decode(&user.id).expect("id"),
            billing::Origin::new(billing::Surface::Xmlrpc, None),
        )
        .await
        .expect("caller");
    let (_, token) = db
        .create_api_token(&caller, "bench", None)
        .await
        .expect("token");
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("softswitch:{token}"))
    );
    let router = server::web::router(
        AppState {
            db: db.clone(),
            leptos_options: LeptosOptions::builder().output_name("ratedeck").build(),
        },
        false,
    );

    let added = call(
        &router,
        &auth,
        "addTariff",
        XValue::object([("name", XValue::Str("Wholesale".into()))]),
    )
    .await;
    let tariff = member(&added, "i_tariff");

    let start = Instant::now();
    for i in 0..rates {
        let answer = call(
            &router,
            &auth,
            "addTariffRate",
            XValue::object([
                ("i_tariff", tariff.clone()),
                ("prefix", XValue::Str(format!("{}", 10_000_000 + i))),
                ("interval_1", XValue::Int(60)),
                ("interval_n", XValue::Int(6)),
                ("price_1", XValue::Double("0.06".into())),
                ("price_n", XValue::Double("0.03".into())),
                (
                    "activation_date",
                    XValue::Str("09:57:29.000 GMT Mon May 29 2017".into()),
                ),
            ]),
        )
        .await;
        assert!(matches!(member(&answer, "i_tariff_rate"), XValue::Int(_)));
    }
    report("addTariffRate", rates, start.elapsed());

    let start = Instant::now();
    let mut listed = 0u64;
    let mut calls = 0u64;
    loop {
        let answer = call(
            &router,
            &auth,
            "listTariffRates",
            XValue::object([
                ("i_tariff", tariff.clone()),
                ("offset", XValue::Int(listed as i64)),
                ("limit", XValue::Int(100)),
            ]),
        )
        .await;
        calls += 1;
        let XValue::Array(page) = member(&answer, "list") else {
            panic!("no list");
        };
        if page.is_empty() {
            break;
        }
        listed += page.len() as u64;
    }
    assert_eq!(listed, rates, "every rate is listed back");
    report("listTariffRates (pages of 100)", calls, start.elapsed());
}

fn main() {
    let rates = std::env::var("RATEDECK_BENCH_RATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let backend = match std::env::var("RATEDECK_BENCH_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!("XML-RPC on {backend:?}, a tariff of {rates} rates");
    runtime.block_on(run(backend, rates));
}
