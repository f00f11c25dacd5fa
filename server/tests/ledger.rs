//! The ledger's own filters on `GET /api/balance_transactions` and the
//! accounts' figures of the portal, on SQLite and on PostgreSQL.

mod common;

use axum::http::StatusCode;
use billing::Backend;
use common::{portal, TestApp};
use serde_json::json;

async fn the_ledger_filters_by_kind_and_time(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    for amount in [10, 5] {
        let done = app
            .post(
                &format!("/api/tenant/balance?tenant_id={tenant}"),
                &root,
                json!({"balance": amount}),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    }
    let all = app.get("/api/balance_transactions", &admin).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["count"], 2);
    let recharges = app
        .get("/api/balance_transactions?kind=RECHARGE", &admin)
        .await;
    assert_eq!(recharges.body["count"], 2);
    let charges = app
        .get("/api/balance_transactions?kind=CALL_CHARGE", &admin)
        .await;
    assert_eq!(charges.body["count"], 0);
    let past = app
        .get(
            "/api/balance_transactions?from=2000-01-01T00:00:00Z&to=2000-02-01T00:00:00Z",
            &admin,
        )
        .await;
    assert_eq!(past.body["count"], 0);
    let since = app
        .get(
            "/api/balance_transactions?from=2000-01-01T00:00:00Z",
            &admin,
        )
        .await;
    assert_eq!(since.body["count"], 2);
    // Bad values name their parameter.
    let bad = app.get("/api/balance_transactions?kind=GIFT", &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.fields(), ["kind"]);
    let backwards = app
        .get(
            "/api/balance_transactions?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            &admin,
        )
        .await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);
    assert_eq!(backwards.fields(), ["to"]);
    // A standard user still sees its own account's rows only.
    let own = app
        .get("/api/balance_transactions?kind=RECHARGE", &user)
        .await;
    assert_eq!(own.body["count"], 0);

    // The portal: the tenant's account, its ledger with who recharged it.
    let boss = portal::session(&app, "boss", "acme.example.com").await;
    let accounts = portal::call(&app, &boss, "list_accounts", json!({"tenant": null})).await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.text);
    assert_eq!(accounts.body["currency"], "USD");
    assert_eq!(accounts.body["tenant"]["balance"], "15.00000");
    assert_eq!(accounts.body["tenant"]["available"], "15.00000");
    assert_eq!(accounts.body["tenant"]["held"], "0.00000");
    assert_eq!(accounts.body["users_count"], 2);
    let ledger = portal::call(
        &app,
        &boss,
        "list_ledger",
        json!({"tenant": null, "args": {"kind": "RECHARGE"}}),
    )
    .await;
    assert_eq!(ledger.status, StatusCode::OK, "{}", ledger.text);
    assert_eq!(ledger.body["count"], 2);
    assert_eq!(ledger.body["items"][0]["created_by"], "admin");
    assert_eq!(ledger.body["items"][0]["amount"], "5.00000");
    // The tenant's administrator does not recharge the tenant: 403.
    let refused = portal::call(
        &app,
        &boss,
        "recharge_account",
        json!({"tenant": null, "account": null, "amount": "5"}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    // A user's account: recharged by the administrator, refused at the field.
    let clerk_id = accounts.body["users"]
        .as_array()
        .and_then(|u| u.iter().find(|a| a["name"] == "101"))
        .and_then(|a| a["user"].as_str())
        .expect("the user's account")
        .to_string();
    let bad = portal::call(
        &app,
        &boss,
        "recharge_account",
        json!({"tenant": null, "account": clerk_id, "amount": "-1"}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(portal::refused_fields(&bad), ["balance"]);
    let done = portal::call(
        &app,
        &boss,
        "recharge_account",
        json!({"tenant": null, "account": clerk_id, "amount": "2.5"}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let own = app.get("/api/user/balance", &user).await;
    assert_eq!(own.body["balance"], json!(2.5));
}

on_both_databases!(the_ledger_filters_by_kind_and_time);
