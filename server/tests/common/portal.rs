//! The portal driven as the browser does: a session cookie, server functions.

use axum::body::Body;
use axum::http::{header, Request};
use serde_json::Value;

use super::{Answer, TestApp};

/// Logs in to the portal as a user of `domain` (password `password-123`,
/// as [`TestApp::tenant`] makes them); answers the session cookie.
pub async fn session(app: &TestApp, username: &str, domain: &str) -> String {
    session_of(app, username, "password-123", domain).await
}

/// Logs in to the portal with a password; answers the session cookie.
pub async fn session_of(app: &TestApp, username: &str, password: &str, domain: &str) -> String {
    let form = format!("username={username}&password={password}&domain={domain}");
    let request = Request::builder()
        .method("POST")
        .uri("/portal/fn/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .expect("request");
    let answer = app.send(request).await;
    let cookie = answer
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no session cookie: {} {}", answer.status, answer.text));
    cookie.split(';').next().unwrap_or_default().to_string()
}

/// Calls a portal server function the way the hydrated page does.
pub async fn call(app: &TestApp, cookie: &str, name: &str, args: Value) -> Answer {
    let request = Request::builder()
        .method("POST")
        .uri(format!("/portal/fn/{name}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(args.to_string()))
        .expect("request");
    app.send(request).await
}

/// A GET of one of the portal's own routes with the session.
pub async fn get(app: &TestApp, cookie: &str, path: &str) -> Answer {
    let request = Request::builder()
        .method("GET")
        .uri(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    app.send(request).await
}

/// The field names of a server function's refusal field by field.
pub fn refused_fields(answer: &Answer) -> Vec<String> {
    let error = <leptos::prelude::ServerFnError as leptos::server_fn::error::FromServerFnError>::de(
        answer.text.clone().into(),
    );
    app::functions::invalid_fields(&error)
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect()
}
