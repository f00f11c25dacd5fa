//! The login throttle on every way in: the REST login, the older tariff
//! API's login, XML-RPC's Basic credentials and the portal's login form.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use billing::Backend;
use common::{Answer, TestApp};
use serde_json::{json, Value};
use server::xmlrpc::codec::{self, XValue};

const DOMAIN: &str = "acme.example.com";
const PASSWORD: &str = "password-123";

/// A request as if it came over a connection from `client`.
fn from(client: &str, mut request: Request<Body>) -> Request<Body> {
    let address: SocketAddr = client.parse().expect("socket address");
    request.extensions_mut().insert(ConnectInfo(address));
    request
}

fn json_post(path: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

async fn rest_login(app: &TestApp, client: &str, username: &str, password: &str) -> Answer {
    let body = json!({"username": username, "password": password, "domain": DOMAIN});
    app.send(from(client, json_post("/api/login", body))).await
}

async fn legacy_login(app: &TestApp, client: &str, name: &str, password: &str) -> Answer {
    let body = json!({"name": name, "password": password, "domain": DOMAIN});
    app.send(from(
        client,
        json_post("/api/account/credentials/verify", body),
    ))
    .await
}

async fn xmlrpc_call(app: &TestApp, client: &str, user: &str, password: &str) -> Answer {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let request = Request::builder()
        .method("POST")
        .uri("/xmlapi")
        .header(header::CONTENT_TYPE, "text/xml")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::from(codec::call(
            "listTariffs",
            &[XValue::Struct(vec![])],
        )))
        .expect("request");
    app.send(from(client, request)).await
}

fn fault_code(answer: &Answer) -> Option<i64> {
    match codec::parse_response(answer.text.as_bytes()) {
        Ok(Err((code, _))) => Some(code),
        _ => None,
    }
}

async fn portal_login(app: &TestApp, client: &str, username: &str, password: &str) -> Answer {
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", username)
        .append_pair("password", password)
        .append_pair("domain", DOMAIN)
        .finish();
    let request = Request::builder()
        .method("POST")
        .uri("/portal/fn/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .expect("request");
    app.send(from(client, request)).await
}

/// The seconds of a 429 answer's `Retry-After`, checked to be within the window.
fn retry_after(answer: &Answer) -> u64 {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.text
    );
    let seconds: u64 = answer
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After of whole seconds");
    assert!((1..=300).contains(&seconds), "Retry-After {seconds}");
    seconds
}

async fn five_failures_lock_an_account_everywhere(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, boss_token, _) = app.tenant(&root, DOMAIN).await;
    let client = "192.0.2.10:40000";

    for _ in 0..5 {
        let wrong = rest_login(&app, client, "boss", "wrong-password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text);
    }
    // The correct password is refused too while the account is locked, and
    // the lock follows the account to another address.
    let locked = rest_login(&app, client, "boss", PASSWORD).await;
    retry_after(&locked);
    assert_eq!(locked.code(), "TOO_MANY_REQUESTS");
    let elsewhere = rest_login(&app, "198.51.100.7:5000", "boss", PASSWORD).await;
    retry_after(&elsewhere);
    // The name is compared without case, as typed in a hurry.
    retry_after(&rest_login(&app, client, "BOSS", PASSWORD).await);

    let legacy = legacy_login(&app, client, "boss", PASSWORD).await;
    retry_after(&legacy);
    assert_eq!(legacy.code(), "TOO_MANY_REQUESTS");

    let xml = xmlrpc_call(&app, client, &format!("boss@{DOMAIN}"), PASSWORD).await;
    assert_eq!(
        xml.status,
        StatusCode::OK,
        "a fault, as every XML-RPC error"
    );
    assert_eq!(fault_code(&xml), Some(server::xmlrpc::TOO_MANY_REQUESTS));
    let wait: u64 = xml
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After on the fault");
    assert!((1..=300).contains(&wait));
    // A valid token as the Basic password is not a password guess.
    let by_token = xmlrpc_call(&app, client, &format!("boss@{DOMAIN}"), &boss_token).await;
    assert_eq!(fault_code(&by_token), None, "{}", by_token.text);

    let portal = portal_login(&app, client, "boss", PASSWORD).await;
    retry_after(&portal);
    assert!(
        portal.text.contains("Too many failed logins: try again in"),
        "{}",
        portal.text
    );

    // Another account of the same tenant logs in meanwhile, on every surface.
    assert_eq!(
        rest_login(&app, client, "101", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        legacy_login(&app, client, "101", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        fault_code(&xmlrpc_call(&app, client, &format!("101@{DOMAIN}"), PASSWORD).await),
        None
    );

    // Once the window has passed, the password works again ...
    app.db
        .db
        .throttle_clock()
        .advance(billing::throttle::WINDOW + Duration::from_secs(1));
    assert!(app.db.db.prune_login_throttle().await.expect("prune") >= 1);
    let again = rest_login(&app, client, "boss", PASSWORD).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    // ... and a success clears the account's count: four failures after
    // three others and a success do not lock it.
    for _ in 0..3 {
        rest_login(&app, client, "boss", "wrong-password").await;
    }
    assert_eq!(
        rest_login(&app, client, "boss", PASSWORD).await.status,
        StatusCode::OK
    );
    for _ in 0..4 {
        let wrong = legacy_login(&app, client, "boss", "wrong-password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let portal = portal_login(&app, client, "boss", PASSWORD).await;
    assert!(
        portal.status.is_success() || portal.status.is_redirection(),
        "{}: {}",
        portal.status,
        portal.text
    );
    assert!(portal.headers.contains_key(header::SET_COOKIE));
}

async fn failed_xmlrpc_and_portal_logins_count_too(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    app.tenant(&root, DOMAIN).await;
    let client = "192.0.2.20:1234";
    for round in 0..5 {
        if round % 2 == 0 {
            let xml = xmlrpc_call(&app, client, &format!("boss@{DOMAIN}"), "wrong-pass").await;
            assert_eq!(fault_code(&xml), Some(server::xmlrpc::UNAUTHORIZED));
        } else {
            let portal = portal_login(&app, client, "boss", "wrong-pass").await;
            assert_eq!(portal.status, StatusCode::UNAUTHORIZED, "{}", portal.text);
            assert!(portal.text.contains("Wrong user name, password or domain."));
        }
    }
    retry_after(&rest_login(&app, client, "boss", PASSWORD).await);
}

async fn fifty_failures_lock_an_address(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    app.tenant(&root, DOMAIN).await;
    let guesser = "203.0.113.5:6000";
    // One failure each for fifty accounts (none locked on its own).
    for n in 0..50 {
        let wrong = rest_login(&app, guesser, &format!("user{n}"), "guess-123").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    // The address is locked now, whatever the account and password.
    let locked = rest_login(&app, guesser, "boss", PASSWORD).await;
    retry_after(&locked);
    retry_after(&legacy_login(&app, guesser, "101", PASSWORD).await);
    let xml = xmlrpc_call(&app, guesser, &format!("boss@{DOMAIN}"), PASSWORD).await;
    assert_eq!(fault_code(&xml), Some(server::xmlrpc::TOO_MANY_REQUESTS));
    // Another address logs in as usual, the same accounts included.
    let other = "203.0.113.6:6000";
    assert_eq!(
        rest_login(&app, other, "boss", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        rest_login(&app, other, "user7", "guess-123").await.status,
        StatusCode::UNAUTHORIZED
    );
    // After the window the address may try again.
    app.db
        .db
        .throttle_clock()
        .advance(billing::throttle::WINDOW);
    assert_eq!(
        rest_login(&app, guesser, "boss", PASSWORD).await.status,
        StatusCode::OK
    );
}

async fn concurrent_failures_are_each_counted(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let root = app.admin().await;
    app.tenant(&root, DOMAIN).await;
    let client = "198.51.100.99:7000";
    let attempts: Vec<_> = (0..20)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                let who = if n % 2 == 0 {
                    "boss".to_string()
                } else {
                    format!("user{n}")
                };
                rest_login(&app, client, &who, "wrong-password")
                    .await
                    .status
            })
        })
        .collect();
    let mut refused = 0;
    for attempt in attempts {
        let status = attempt.await.expect("joined");
        match status {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
    }
    // Every failed password check is counted once, for its account and for
    // the address, none lost to a race (the boss's later attempts may meet
    // the lock instead).
    let counts = sqlx::query_scalar::<_, i64>(
        "SELECT failures FROM login_throttle WHERE subject LIKE 'address:%'",
    )
    .fetch_all(app.db.db.pool())
    .await
    .expect("counters");
    assert_eq!(counts.len(), 1);
    let boss_count = sqlx::query_scalar::<_, i64>(
        "SELECT MAX(failures) FROM login_throttle WHERE subject LIKE 'account:%'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .expect("counter");
    assert!((5..=10).contains(&boss_count), "{boss_count}");
    assert_eq!(
        counts[0],
        boss_count + 10,
        "the address counts every account's"
    );
    assert_eq!(counts[0], refused, "one count per 401");
    retry_after(&rest_login(&app, client, "boss", PASSWORD).await);
}

async fn wrong_current_passwords_count_as_failed_logins(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, boss, _) = app.tenant(&root, DOMAIN).await;
    let change = |current: &'static str| {
        let app = &app;
        let boss = boss.clone();
        async move {
            app.post(
                "/api/user/password",
                &boss,
                json!({"current_password": current, "new_password": "new-password-456"}),
            )
            .await
        }
    };
    for _ in 0..5 {
        let wrong = change("wrong-password").await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);
        assert_eq!(wrong.fields(), ["current_password"]);
    }
    // Locked: the right current password is refused too, and so is a login.
    let locked = change(PASSWORD).await;
    retry_after(&locked);
    assert_eq!(locked.code(), "TOO_MANY_REQUESTS");
    retry_after(&rest_login(&app, "192.0.2.40:4000", "boss", PASSWORD).await);
    let failed = app
        .get(
            "/api/audit_log?filter=action%20eq%20%27LOGIN_FAILED%27%20and%20actor_name%20eq%20%27boss@acme.example.com%27",
            &root,
        )
        .await;
    assert_eq!(failed.body["count"], 5, "{}", failed.text);

    // The portal's form is throttled the same way, and says how long to wait.
    app.db.db.throttle_clock().advance(Duration::from_secs(301));
    let cookie = common::portal::session(&app, "101", DOMAIN).await;
    let portal_change = |current: &'static str| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            common::portal::call(
                app,
                &cookie,
                "change_my_password",
                json!({"current_password": current, "new_password": "new-password-456"}),
            )
            .await
        }
    };
    for _ in 0..5 {
        let wrong = portal_change("wrong-password").await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);
        assert_eq!(common::portal::refused_fields(&wrong), ["current_password"]);
    }
    let locked = portal_change(PASSWORD).await;
    retry_after(&locked);
    assert!(locked.text.contains("try again in"), "{}", locked.text);
    // Once the window has passed, the right password changes it.
    app.db.db.throttle_clock().advance(Duration::from_secs(301));
    let done = portal_change(PASSWORD).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
}

on_both_databases!(
    wrong_current_passwords_count_as_failed_logins,
    concurrent_failures_are_each_counted,
    five_failures_lock_an_account_everywhere,
    failed_xmlrpc_and_portal_logins_count_too,
    fifty_failures_lock_an_address,
);
