//! API tokens in the API and the portal: the secret once, the last use,
//! revoking (one's own, an administrator its tenant's), refused at once
//! after; the audit log as the portal's audit page reads it.

mod common;

use axum::http::StatusCode;
use billing::Backend;
use common::{portal, Answer, TestApp};
use serde_json::{json, Value};

const DOMAIN: &str = "acme.example.com";
const OTHER: &str = "other.example.com";

async fn make_token(app: &TestApp, login: &str, name: &str) -> (String, String) {
    let made = app.post("/api/tokens", login, json!({"name": name})).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    (
        made.body["id"].as_str().expect("id").to_string(),
        made.body["token"].as_str().expect("secret").to_string(),
    )
}

async fn works(app: &TestApp, token: &str) -> bool {
    let answer = app.get("/api/tokens", token).await;
    match answer.status {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => false,
        other => panic!("unexpected {other}: {}", answer.text),
    }
}

fn names(answer: &Answer) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn a_token_works_until_revoked_and_its_last_use_is_kept(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, boss, _) = app.tenant(&root, DOMAIN).await;
    let (id, secret) = make_token(&app, &boss, "PBX").await;

    let listed = app.get("/api/tokens", &boss).await;
    assert_eq!(listed.body["items"][0]["last_used_at"], Value::Null);
    assert!(
        !listed.text.contains(&secret),
        "a list never holds a secret"
    );

    assert!(works(&app, &secret).await);
    let listed = app.get("/api/tokens", &boss).await;
    let used = listed.body["items"][0]["last_used_at"]
        .as_str()
        .expect("the token's use is recorded");
    assert!(used.starts_with("20"), "{used}");

    let revoked = app
        .call(
            "POST",
            &format!("/api/tokens/{id}/destroy"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    assert!(!works(&app, &secret).await, "refused at once, cache or not");
}

async fn administrators_revoke_their_tenants_tokens_only(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, boss, clerk) = app.tenant(&root, DOMAIN).await;
    let (_, other_boss, _) = app.tenant(&root, OTHER).await;
    let (clerk_id, clerk_secret) = make_token(&app, &clerk, "softphone").await;
    let (boss_id, boss_secret) = make_token(&app, &boss, "PBX").await;

    // A standard user may not revoke the administrator's; another tenant's
    // administrator sees neither: both "not found".
    for (who, id) in [(&clerk, &boss_id), (&other_boss, &clerk_id)] {
        let refused = app
            .call(
                "POST",
                &format!("/api/tokens/{id}/destroy"),
                Some(who),
                None,
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    }
    assert!(works(&app, &boss_secret).await && works(&app, &clerk_secret).await);

    // The tenant's administrator revokes its user's token.
    let revoked = app
        .call(
            "POST",
            &format!("/api/tokens/{clerk_id}/destroy"),
            Some(&boss),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    assert!(!works(&app, &clerk_secret).await);
    let audit = app
        .get(
            "/api/audit_log?filter=entity%20eq%20%27API_TOKEN%27%20and%20action%20eq%20%27DELETE%27",
            &boss,
        )
        .await;
    assert_eq!(audit.body["count"], 1, "{}", audit.text);
    assert_eq!(audit.body["items"][0]["actor_name"], "boss");
    assert_eq!(
        audit.body["items"][0]["changes"]["owner"]["before"], "101",
        "the entry names whose token it was"
    );
    // The system administrator revokes any.
    let revoked = app
        .call(
            "POST",
            &format!("/api/tokens/{boss_id}/destroy"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    assert!(!works(&app, &boss_secret).await);
}

async fn the_portal_lists_makes_and_revokes_tokens(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, _, clerk) = app.tenant(&root, DOMAIN).await;
    let (_, _, _) = app.tenant(&root, OTHER).await;
    let (_, clerk_secret) = make_token(&app, &clerk, "softphone").await;
    let boss = portal::session(&app, "boss", DOMAIN).await;
    let standard = portal::session(&app, "101", DOMAIN).await;
    let stranger = portal::session(&app, "boss", OTHER).await;

    let bad = portal::call(&app, &boss, "create_token", json!({"name": "  "})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(portal::refused_fields(&bad), ["name"]);

    let made = portal::call(&app, &boss, "create_token", json!({"name": "PBX"})).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let secret = made.body["secret"].as_str().expect("secret").to_string();
    assert_eq!(secret.len(), 64);
    assert!(works(&app, &secret).await);

    let list = |cookie: String| {
        let app = &app;
        async move { portal::call(app, &cookie, "list_token_rows", json!({"args": {}})).await }
    };
    // The administrator sees its own and its users' tokens, newest first;
    // the standard user only its own; another tenant's administrator none.
    let seen = list(boss.clone()).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    assert_eq!(names(&seen), ["PBX", "softphone"]);
    assert_eq!(seen.body["items"][0]["mine"], true);
    assert_eq!(seen.body["items"][1]["owner"], "101");
    assert_eq!(
        seen.body["items"][0]["last_used_at"]
            .as_str()
            .map(|s| s.len()),
        Some(20)
    );
    assert_eq!(seen.body["items"][1]["last_used_at"], Value::Null);
    assert!(!seen.text.contains(&secret) && !seen.text.contains(&clerk_secret));
    assert_eq!(names(&list(standard.clone()).await), ["softphone"]);
    assert_eq!(list(stranger.clone()).await.body["count"], 0);
    let searched = portal::call(
        &app,
        &boss,
        "list_token_rows",
        json!({"args": {"search": "101"}}),
    )
    .await;
    assert_eq!(names(&searched), ["softphone"], "searched by owner");

    let clerks = seen.body["items"][1]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let refused = portal::call(&app, &stranger, "revoke_token", json!({"id": clerks})).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    let revoked = portal::call(&app, &boss, "revoke_token", json!({"id": clerks})).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert!(revoked.text.contains("softphone"), "{}", revoked.text);
    assert!(!works(&app, &clerk_secret).await);
    assert_eq!(names(&list(boss).await), ["PBX"]);
}

async fn the_audit_page_filters_by_entity_actor_and_days(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, boss, _) = app.tenant(&root, DOMAIN).await;
    let (_, secret) = make_token(&app, &boss, "PBX").await;
    let tariff = app
        .post(
            "/api/tariffs",
            &secret,
            json!({"name": "Gold", "currency": "EUR"}),
        )
        .await;
    assert_eq!(tariff.status, StatusCode::OK, "{}", tariff.text);
    let recharge = app
        .post(
            &format!("/api/tenant/balance?tenant_id={tenant}"),
            &root,
            json!({"balance": 10}),
        )
        .await;
    assert_eq!(recharge.status, StatusCode::OK, "{}", recharge.text);
    let cookie = portal::session(&app, "boss", DOMAIN).await;
    let audit = |args: Value| {
        let app = &app;
        let cookie = cookie.clone();
        async move { portal::call(app, &cookie, "list_audit", json!({ "args": args })).await }
    };

    let all = audit(json!({})).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let entities: Vec<&str> = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["entity"].as_str())
        .collect();
    // Newest first: the recharge, the tariff made with the token, the token.
    let tariff_at = entities
        .iter()
        .position(|e| *e == "TARIFF")
        .expect("tariff");
    let token_at = entities
        .iter()
        .position(|e| *e == "API_TOKEN")
        .expect("token");
    assert!(tariff_at < token_at, "{entities:?}");
    assert_eq!(entities[0], "TENANT_ACCOUNT", "the recharge is the newest");

    let tariffs = audit(json!({"entity": "TARIFF"})).await;
    assert_eq!(tariffs.body["count"], 1, "{}", tariffs.text);
    let entry = &tariffs.body["items"][0];
    assert_eq!(entry["token_name"], "PBX");
    assert_eq!(entry["surface"], "REST");
    let name = entry["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["field"] == "name")
        .expect("the name's change");
    assert_eq!(name["before"], Value::Null);
    assert_eq!(name["after"], "Gold");

    // The actor is the user's name or the token's.
    assert_eq!(audit(json!({"actor": "PB"})).await.body["count"], 1);
    assert_eq!(audit(json!({"actor": "nobody"})).await.body["count"], 0);
    let today = &entry["created_at"].as_str().expect("time")[..10];
    let by_day = audit(json!({"entity": "TARIFF", "from": today, "to": today})).await;
    assert_eq!(by_day.body["count"], 1, "{}", by_day.text);
    let before = audit(json!({"to": "2001-01-01"})).await;
    assert_eq!(before.body["count"], 0, "{}", before.text);

    let bad = audit(json!({"from": "2026-02-30", "entity": "PASSWORD"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(portal::refused_fields(&bad), ["from", "entity"]);

    let standard = portal::session(&app, "101", DOMAIN).await;
    let refused = portal::call(&app, &standard, "list_audit", json!({"args": {}})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
}

on_both_databases!(
    a_token_works_until_revoked_and_its_last_use_is_kept,
    administrators_revoke_their_tenants_tokens_only,
    the_portal_lists_makes_and_revokes_tokens,
    the_audit_page_filters_by_entity_actor_and_days,
);
