//! Tenants and users after they are created: suspending a tenant, changing
//! its name and currency; a user's role, disabling, removal and passwords;
//! on SQLite and on PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use billing::Backend;
use common::{rate, Answer, TestApp};
use serde_json::{json, Value};
use server::xmlrpc::codec::{self, XValue};

const DOMAIN: &str = "acme.example.com";
const PASSWORD: &str = "password-123";

fn cdr(call_id: &str, callee: &str) -> Value {
    json!({
        "call_id": call_id, "caller": "101", "callee": callee, "direction": "OUTBOUND_CALL",
        "started_at": "2024-05-01T10:00:00Z", "answered_at": "2024-05-01T10:00:05Z",
        "ended_at": "2024-05-01T10:05:00Z", "duration": 71, "status_code": 200,
        "end_reason": "CALLER_DISCONNECTED", "trunk": "carrier-a"
    })
}

fn login_body(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password, "domain": DOMAIN})
}

async fn rest_login(app: &TestApp, username: &str, password: &str) -> Answer {
    app.call(
        "POST",
        "/api/login",
        None,
        Some(login_body(username, password)),
    )
    .await
}

/// An XML-RPC call with HTTP Basic credentials: its fault, if any.
async fn xmlrpc_fault(app: &TestApp, user: &str, password: &str) -> Option<(i64, String)> {
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
    let answer = app.send(request).await;
    codec::parse_response(answer.text.as_bytes())
        .expect("an XML-RPC answer")
        .err()
}

async fn portal_login(app: &TestApp, username: &str, password: &str) -> Answer {
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
    app.send(request).await
}

async fn audit_entries(app: &TestApp, root: &str, entity: &str, id: &str) -> Vec<Value> {
    let filter: String = form_urlencoded::byte_serialize(
        format!("entity eq '{entity}' and entity_id eq '{id}'").as_bytes(),
    )
    .collect();
    let answer = app
        .get(&format!("/api/audit_log?top=100&filter={filter}"), root)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["items"].as_array().cloned().unwrap_or_default()
}

async fn a_suspended_tenant_cannot_log_in_but_its_pbx_still_posts_calls(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, DOMAIN).await;
    let (_, globex_admin, _) = app.tenant(&root, "globex.example.com").await;
    let made = app
        .post("/api/tokens", &admin, json!({"name": "pbx"}))
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let pbx = made.body["token"].as_str().expect("secret").to_string();
    app.post("/api/call_rates", &admin, rate("1")).await;
    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    app.post(
        &format!("/api/tenant/balance?tenant_id={tenant}"),
        &root,
        json!({"balance": 10}),
    )
    .await;

    // Only a system administrator suspends.
    let path = format!("/api/tenants/{tenant}");
    let refused = app
        .post(&path, &admin, json!({"status": "SUSPENDED"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let bad = app.post(&path, &root, json!({"status": "PAUSED"})).await;
    assert_eq!(bad.fields(), ["status"]);
    let suspended = app.post(&path, &root, json!({"status": "SUSPENDED"})).await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.text);
    assert_eq!(suspended.body["status"], "SUSPENDED");
    assert_eq!(app.get(&path, &root).await.body["status"], "SUSPENDED");
    let listed = app
        .get("/api/tenants?filter=status%20eq%20'SUSPENDED'", &root)
        .await;
    assert_eq!(listed.body["count"], 1, "{}", listed.text);

    // No way in for its users: the right password is refused with the code.
    let login = rest_login(&app, "boss", PASSWORD).await;
    assert_eq!(login.status, StatusCode::FORBIDDEN, "{}", login.text);
    assert_eq!(login.code(), "TENANT_SUSPENDED");
    let wrong = rest_login(&app, "boss", "wrong-password").await;
    assert_eq!(
        wrong.status,
        StatusCode::UNAUTHORIZED,
        "a wrong password tells nothing"
    );
    for token in [&admin, &user, &pbx] {
        let read = app.get("/api/call_rates", token).await;
        assert_eq!(read.status, StatusCode::FORBIDDEN, "{}", read.text);
        assert_eq!(read.code(), "TENANT_SUSPENDED");
    }
    let legacy = app
        .call(
            "POST",
            "/api/account/credentials/verify",
            None,
            Some(json!({"name": "boss", "password": PASSWORD, "domain": DOMAIN})),
        )
        .await;
    assert_eq!(legacy.status, StatusCode::FORBIDDEN, "{}", legacy.text);
    assert_eq!(legacy.code(), "TENANT_SUSPENDED");
    for (name, password) in [
        (format!("boss@{DOMAIN}"), PASSWORD),
        ("pbx".into(), pbx.as_str()),
    ] {
        let (code, message) = xmlrpc_fault(&app, &name, password).await.expect("a fault");
        assert_eq!(code, server::xmlrpc::FORBIDDEN, "{message}");
        assert!(message.starts_with("TENANT_SUSPENDED"), "{message}");
    }
    let portal = portal_login(&app, "boss", PASSWORD).await;
    assert_eq!(portal.status, StatusCode::FORBIDDEN, "{}", portal.text);
    assert!(portal.text.contains("TENANT_SUSPENDED"), "{}", portal.text);

    // Its online authorisations are refused, even asked by the operator.
    let authorisation = json!({"call_id": "a1", "caller": "101", "callee": "1555"});
    let by_pbx = app
        .post("/api/charging/authorize", &pbx, authorisation.clone())
        .await;
    assert_eq!(by_pbx.code(), "TENANT_SUSPENDED", "{}", by_pbx.text);
    let by_root = app
        .post(
            &format!("/api/charging/authorize?tenant_id={tenant}"),
            &root,
            authorisation,
        )
        .await;
    assert_eq!(by_root.status, StatusCode::FORBIDDEN, "{}", by_root.text);
    assert_eq!(by_root.code(), "TENANT_SUSPENDED");

    // The calls its PBX has carried are still taken and rated.
    let posted = app.post("/api/cdrs", &pbx, cdr("c1", "+1234567")).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    assert_eq!(
        posted.body,
        json!({"accepted": 1, "duplicates": 0, "rated": 1, "unrated": 0})
    );
    // A login's token is not the PBX's: it stays refused there too.
    assert_eq!(
        app.post("/api/cdrs", &admin, cdr("c2", "+1234567"))
            .await
            .code(),
        "TENANT_SUSPENDED"
    );
    let stored = app
        .get(&format!("/api/cdrs?tenant_id={tenant}"), &root)
        .await;
    assert_eq!(stored.body["count"], 1, "{}", stored.text);
    assert_eq!(stored.body["items"][0]["rating_status"], "RATED");

    // Other tenants are untouched.
    assert_eq!(
        app.get("/api/call_rates", &globex_admin).await.status,
        StatusCode::OK
    );

    // Resumed, the same logins and tokens work again.
    let resumed = app.post(&path, &root, json!({"status": "ACTIVE"})).await;
    assert_eq!(resumed.body["status"], "ACTIVE", "{}", resumed.text);
    assert_eq!(
        app.get("/api/call_rates", &admin).await.status,
        StatusCode::OK
    );
    assert_eq!(
        rest_login(&app, "boss", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        xmlrpc_fault(&app, &format!("boss@{DOMAIN}"), PASSWORD).await,
        None
    );

    let audited = audit_entries(&app, &root, "TENANT", &tenant).await;
    let statuses: Vec<_> = audited
        .iter()
        .filter(|e| e["action"] == "UPDATE")
        .map(|e| e["changes"]["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [
            json!({"before": "ACTIVE", "after": "SUSPENDED"}),
            json!({"before": "SUSPENDED", "after": "ACTIVE"})
        ],
        "{audited:?}"
    );
}

async fn a_tenants_currency_changes_only_before_money_moves(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (acme, acme_admin, _) = app.tenant(&root, DOMAIN).await;
    let (globex, _, _) = app.tenant(&root, "globex.example.com").await;

    let acme_path = format!("/api/tenants/{acme}");
    let renamed = app
        .post(
            &acme_path,
            &root,
            json!({"name": " Acme Ltd ", "currency": "eur"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "Acme Ltd");
    assert_eq!(renamed.body["currency"], "EUR");
    assert_eq!(renamed.body["sip_domain"], DOMAIN);
    let tariffs = app.get("/api/tariffs", &acme_admin).await;
    assert_eq!(
        tariffs.body["items"][0]["currency"], "EUR",
        "{}",
        tariffs.text
    );

    let bad = app
        .post(&acme_path, &root, json!({"name": "", "currency": "EURO"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["currency", "name"]);

    // A rate priced in euros keeps the tenant in euros.
    app.post("/api/call_rates", &acme_admin, rate("1")).await;
    let priced = app
        .post(&acme_path, &root, json!({"currency": "GBP"}))
        .await;
    assert_eq!(priced.fields(), ["currency"], "{}", priced.text);
    assert_eq!(
        app.post(
            &acme_path,
            &root,
            json!({"currency": "EUR", "name": "Acme"})
        )
        .await
        .status,
        StatusCode::OK,
        "the same currency is no change"
    );

    // Money moved: the currency stays.
    app.post(
        &format!("/api/tenant/balance?tenant_id={globex}"),
        &root,
        json!({"balance": 5}),
    )
    .await;
    let charged = app
        .post(
            &format!("/api/tenants/{globex}"),
            &root,
            json!({"currency": "EUR"}),
        )
        .await;
    assert_eq!(charged.fields(), ["currency"], "{}", charged.text);
    assert_eq!(
        app.get(&format!("/api/tenants/{globex}"), &root).await.body["currency"],
        "USD"
    );
    assert_eq!(
        app.post("/api/tenants/nope", &root, json!({"name": "x"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let audited = audit_entries(&app, &root, "TENANT", &acme).await;
    assert!(
        audited.iter().any(|e| e["action"] == "UPDATE"
            && e["changes"]["currency"] == json!({"before": "USD", "after": "EUR"})),
        "{audited:?}"
    );
}

async fn users_are_administered_within_their_tenant(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, boss, user) = app.tenant(&root, DOMAIN).await;
    let (_, globex_boss, _) = app.tenant(&root, "globex.example.com").await;
    let extension = app.user_id(&boss, "101").await;
    let globex_extension = app.user_id(&globex_boss, "101").await;
    let me = app.user_id(&boss, "boss").await;
    let path = format!("/api/users/{extension}");

    // Role changes, within the tenant's roles.
    let promoted = app.post(&path, &boss, json!({"role": "Admin"})).await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.text);
    assert_eq!(promoted.body["role"], "Admin");
    assert_eq!(promoted.body["enabled"], true);
    let back = app
        .post(&path, &boss, json!({"role": "StandardUser"}))
        .await;
    assert_eq!(back.body["role"], "StandardUser");
    let system = app.post(&path, &root, json!({"role": "SystemAdmin"})).await;
    assert_eq!(system.fields(), ["role"], "{}", system.text);
    let myself = app
        .post(
            &format!("/api/users/{me}"),
            &boss,
            json!({"role": "StandardUser", "enabled": false}),
        )
        .await;
    let mut fields = myself.fields();
    fields.sort();
    assert_eq!(fields, ["enabled", "role"], "{}", myself.text);

    // Another tenant's user is not found; a standard user may not.
    let foreign = format!("/api/users/{globex_extension}");
    for (url, body) in [
        (foreign.clone(), json!({"enabled": false})),
        (format!("{foreign}/destroy"), json!({})),
        (
            format!("{foreign}/password"),
            json!({"password": "new-password-1"}),
        ),
    ] {
        let answer = app.post(&url, &boss, body).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{url}: {}",
            answer.text
        );
    }
    let by_user = app.post(&path, &user, json!({"enabled": false})).await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN, "{}", by_user.text);

    // Disabled: no login, no token; enabled again, both work.
    let disabled = app.post(&path, &boss, json!({"enabled": false})).await;
    assert_eq!(disabled.body["enabled"], false, "{}", disabled.text);
    let read = app.get("/api/user/balance", &user).await;
    assert_eq!(read.status, StatusCode::FORBIDDEN, "{}", read.text);
    assert_eq!(read.code(), "USER_DISABLED");
    assert_eq!(
        rest_login(&app, "101", PASSWORD).await.code(),
        "USER_DISABLED"
    );
    let portal = portal_login(&app, "101", PASSWORD).await;
    assert_eq!(portal.status, StatusCode::FORBIDDEN, "{}", portal.text);
    let listed = app.get("/api/users?orderby=username", &boss).await;
    assert_eq!(listed.body["items"][0]["username"], "101");
    assert_eq!(listed.body["items"][0]["enabled"], false);
    app.post(&path, &boss, json!({"enabled": true})).await;
    assert_eq!(
        app.get("/api/user/balance", &user).await.status,
        StatusCode::OK
    );

    // A reset password ends the user's logins.
    let short = app
        .post(
            &format!("{path}/password"),
            &boss,
            json!({"password": "short"}),
        )
        .await;
    assert_eq!(short.fields(), ["password"]);
    let reset = app
        .post(
            &format!("{path}/password"),
            &boss,
            json!({"password": "reset-password-1"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(
        app.get("/api/user/balance", &user).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        rest_login(&app, "101", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The user changes it again, knowing the current one.
    let user = app.login("101", "reset-password-1", Some(DOMAIN)).await;
    let wrong = app
        .post(
            "/api/user/password",
            &user,
            json!({"current_password": "guess-guess", "new_password": "mine-password-1"}),
        )
        .await;
    assert_eq!(wrong.fields(), ["current_password"], "{}", wrong.text);
    let weak = app
        .post(
            "/api/user/password",
            &user,
            json!({"current_password": "reset-password-1", "new_password": "short"}),
        )
        .await;
    assert_eq!(weak.fields(), ["new_password"], "{}", weak.text);
    let changed = app
        .post(
            "/api/user/password",
            &user,
            json!({"current_password": "reset-password-1", "new_password": "mine-password-1"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(
        app.get("/api/user/balance", &user).await.status,
        StatusCode::OK,
        "the login that changed it goes on"
    );
    app.login("101", "mine-password-1", Some(DOMAIN)).await;

    // Removal: a user the ledger names is disabled instead.
    app.post(&format!("{path}/balance"), &boss, json!({"balance": 1}))
        .await;
    let kept = app.post(&format!("{path}/destroy"), &boss, json!({})).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    assert_eq!(kept.body["deleted"], false);
    assert_eq!(kept.body["disabled"], true);
    assert!(kept.body["message"]
        .as_str()
        .is_some_and(|m| m.contains("disabled instead")));
    assert_eq!(app.get(&path, &boss).await.body["enabled"], false);
    let created = app
        .post(
            "/api/users",
            &boss,
            json!({"username": "102", "password": PASSWORD}),
        )
        .await;
    let fresh = created.body["id"].as_str().expect("id").to_string();
    let gone = app
        .post(&format!("/api/users/{fresh}/destroy"), &boss, json!({}))
        .await;
    assert_eq!(gone.body["deleted"], true, "{}", gone.text);
    assert_eq!(
        app.get(&format!("/api/users/{fresh}"), &boss).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&format!("/api/users/{me}/destroy"), &boss, json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "nobody removes themself"
    );

    let audited = audit_entries(&app, &root, "USER", &extension).await;
    assert!(audited
        .iter()
        .any(|e| e["changes"]["password"] == json!({"after": "changed"})));
    assert!(!audited
        .iter()
        .any(|e| e.to_string().contains("reset-password-1")));
    assert!(audited
        .iter()
        .any(|e| e["changes"]["role"] == json!({"before": "StandardUser", "after": "Admin"})));
    let removed = audit_entries(&app, &root, "USER", &fresh).await;
    assert!(
        removed.iter().any(|e| e["action"] == "DELETE"),
        "{removed:?}"
    );
}

on_both_databases!(
    a_suspended_tenant_cannot_log_in_but_its_pbx_still_posts_calls,
    a_tenants_currency_changes_only_before_money_moves,
    users_are_administered_within_their_tenant,
);
