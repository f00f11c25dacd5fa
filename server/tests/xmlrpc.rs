//! XML-RPC through a real client: Python's standard `xmlrpc.client` runs
//! `tests/xmlrpc_client.py` against the router served on a local port, on
//! SQLite and PostgreSQL. Plus the answers to what no client library sends.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use billing::Backend;
use common::TestApp;
use server::xmlrpc::codec::{self, XValue};

async fn python_xmlrpc_client_drives_every_method(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    app.tenant(&root, "acme.example.com").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a local port");
    let address = listener.local_addr().expect("address");
    let router = app.router.clone();
    let served = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/xmlrpc_client.py");
    let url = format!("http://{address}");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(script)
            .arg(url)
            .arg("boss@acme.example.com")
            .arg("password-123")
            .output()
    })
    .await
    .expect("joined")
    .expect("python3 runs");
    served.abort();
    assert!(
        output.status.success()
            && String::from_utf8_lossy(&output.stdout).contains("every method and fault behaved"),
        "the Python client failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn post_xml(app: &TestApp, body: &str, auth: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::builder()
        .method("POST")
        .uri("/xmlapi")
        .header(header::CONTENT_TYPE, "text/xml");
    if let Some(auth) = auth {
        request = request.header(header::AUTHORIZATION, auth);
    }
    let answer = app
        .send(request.body(Body::from(body.to_string())).expect("request"))
        .await;
    (answer.status, answer.text)
}

async fn bad_bodies_and_credentials_are_faults(backend: Backend) {
    let app = TestApp::new(backend).await;
    let fault_code = |text: &str| match codec::parse_response(text.as_bytes()) {
        Ok(Err((code, _))) => code,
        other => panic!("not a fault: {other:?} in {text}"),
    };
    for (body, code) in [
        ("", server::xmlrpc::PARSE_ERROR),
        ("<methodCall><methodName>x</methodName>", server::xmlrpc::PARSE_ERROR),
        ("\u{0}\u{1}garbage", server::xmlrpc::PARSE_ERROR),
        ("<html><body/></html>", server::xmlrpc::INVALID_REQUEST),
        (
            "<methodCall><methodName>listTariffs</methodName><params><param><value><int>nan</int></value></param></params></methodCall>",
            server::xmlrpc::INVALID_REQUEST,
        ),
    ] {
        let (status, text) = post_xml(&app, body, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(fault_code(&text), code, "{body}: {text}");
    }
    let call = codec::call("listTariffs", &[XValue::Struct(vec![])]);
    let (status, text) = post_xml(&app, &call, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fault_code(&text), server::xmlrpc::UNAUTHORIZED);
    let (_, text) = post_xml(&app, &call, Some("Basic !!!")).await;
    assert_eq!(fault_code(&text), server::xmlrpc::UNAUTHORIZED);
    // A system administrator has no tenant of its own to act on.
    let admin = base64_basic("admin", common::ADMIN_PASSWORD);
    let (_, text) = post_xml(&app, &call, Some(&admin)).await;
    assert_eq!(fault_code(&text), server::xmlrpc::FORBIDDEN);
}

/// A database that fails while the credentials are checked is a server
/// fault (logged, no detail), not "invalid password": an API token as the
/// password is not tried as a user's password when its own lookup failed.
async fn a_database_error_while_authenticating_is_a_server_fault(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, boss, _) = app.tenant(&root, "acme.example.com").await;
    let created = app
        .post(
            "/api/tokens",
            &boss,
            serde_json::json!({"name": "softswitch"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let secret = created.body["token"].as_str().expect("secret").to_string();
    let call = codec::call("listTariffs", &[XValue::Struct(vec![])]);
    sqlx::query("DROP TABLE tokens")
        .execute(app.db.db.pool())
        .await
        .expect("drop");
    let (status, text) = post_xml(&app, &call, Some(&base64_basic("softswitch", &secret))).await;
    assert_eq!(status, StatusCode::OK);
    match codec::parse_response(text.as_bytes()) {
        Ok(Err((code, message))) => {
            assert_eq!(code, server::xmlrpc::INTERNAL, "{message}");
            assert_eq!(message, "internal error");
        }
        other => panic!("not a fault: {other:?}"),
    }
    assert!(!text.contains(&secret));
    // Nothing was counted as a failed login of "softswitch".
    let failures = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'LOGIN_FAILED'",
    )
    .fetch_one(app.db.db.pool())
    .await
    .expect("count");
    assert_eq!(failures, 0);
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

on_both_databases!(
    python_xmlrpc_client_drives_every_method,
    bad_bodies_and_credentials_are_faults,
    a_database_error_while_authenticating_is_a_server_fault,
);
