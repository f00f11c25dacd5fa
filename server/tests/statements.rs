//! Statements through the REST API, on SQLite and on PostgreSQL: the
//! statement settings, each account's statements (a standard user's own
//! only), one statement with its lines and its CSV, and a re-rating of a
//! call of a closed period landing in the open statement.

mod common;

use axum::http::StatusCode;
use billing::Backend;
use common::{portal, rate, TestApp};
use model::Money;
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

fn money(v: &Value) -> Money {
    serde_json::from_value(v.clone()).expect("an amount")
}

fn cdr(call_id: &str, callee: &str, duration: i64) -> Value {
    json!({
        "call_id": call_id, "caller": "101", "callee": callee, "direction": "OUTBOUND_CALL",
        "started_at": "2026-11-20T10:00:00Z", "answered_at": "2026-11-20T10:00:02Z",
        "duration": duration, "status_code": 200
    })
}

/// A tenant billing calls to its own account, with rates for 44 (United
/// Kingdom) and 1, 50 recharged by the operator; answers (tenant id,
/// admin token, user token).
async fn billed_tenant(app: &TestApp, root: &str, domain: &str) -> (String, String, String) {
    let (tenant, admin, user) = app.tenant(root, domain).await;
    let mut uk = rate("44");
    uk["description"] = json!("United Kingdom");
    for body in [uk, rate("1")] {
        let made = app.post("/api/call_rates", &admin, body).await;
        assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    }
    let on = app
        .post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    let recharged = app
        .post(
            &format!("/api/tenant/balance?tenant_id={tenant}"),
            root,
            json!({"balance": 50}),
        )
        .await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    (tenant, admin, user)
}

async fn settings_are_read_by_all_and_set_by_administrators(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;

    let defaults = app.get("/api/tenant/statement_settings", &user).await;
    assert_eq!(defaults.status, StatusCode::OK, "{}", defaults.text);
    assert_eq!(
        defaults.body,
        json!({"cycle": "MONTHLY", "cycle_day": 1, "tax_name": "", "tax_rate": 0, "tax_included": false})
    );
    let saved = app
        .post(
            "/api/tenant/statement_settings",
            &admin,
            json!({"cycle": "WEEKLY", "cycle_day": 3, "tax_name": "VAT", "tax_rate": 20.5, "tax_included": true}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(
        saved.body,
        json!({"cycle": "WEEKLY", "cycle_day": 3, "tax_name": "VAT", "tax_rate": 20.5, "tax_included": true})
    );
    // A partial change keeps the rest; the day is checked against the cycle.
    let part = app
        .post(
            "/api/tenant/statement_settings",
            &admin,
            json!({"cycle": "MONTHLY"}),
        )
        .await;
    assert_eq!(part.body["cycle_day"], 3, "{}", part.text);
    assert_eq!(part.body["tax_name"], "VAT");
    let bad = app
        .post(
            "/api/tenant/statement_settings",
            &admin,
            json!({"cycle": "WEEKLY", "cycle_day": 12}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.code(), "VALIDATE_FAILED");
    assert_eq!(bad.fields(), ["cycle_day"]);
    let bad = app
        .post(
            "/api/tenant/statement_settings",
            &admin,
            json!({"cycle": "DAILY", "tax_rate": 101, "tax_name": 5, "tax_included": "no"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(
        bad.fields(),
        ["cycle", "tax_name", "tax_rate", "tax_included"]
    );
    let unnamed = app
        .post(
            "/api/tenant/statement_settings",
            &admin,
            json!({"tax_name": "", "tax_rate": 7}),
        )
        .await;
    assert_eq!(unnamed.fields(), ["tax_name"], "{}", unnamed.text);
    // A standard user may not change them; another tenant's administrator
    // does not find the tenant.
    let refused = app
        .post(
            "/api/tenant/statement_settings",
            &user,
            json!({"cycle": "WEEKLY"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let foreign = app
        .get(
            &format!("/api/tenant/statement_settings?tenant_id={tenant}"),
            &other_admin,
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
    // The operator names the tenant; the change is in the audit log.
    let operator = app
        .get(
            &format!("/api/tenant/statement_settings?tenant_id={tenant}"),
            &root,
        )
        .await;
    assert_eq!(operator.body["cycle"], "MONTHLY", "{}", operator.text);
    let audit = app
        .get(
            "/api/audit_log?filter=entity%20eq%20'STATEMENT_SETTINGS'",
            &admin,
        )
        .await;
    assert_eq!(audit.body["count"], 2, "{}", audit.text);
    assert_eq!(
        audit.body["items"][0]["changes"]["cycle"]["after"],
        "WEEKLY"
    );
}

async fn statements_show_the_ledger_of_each_account(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = billed_tenant(&app, &root, "acme.example.com").await;
    let (_, other_admin, other_user) = billed_tenant(&app, &root, "globex.example.com").await;
    let user_id = app.user_id(&admin, "101").await;
    let done = app
        .post(
            &format!("/api/users/{user_id}/balance"),
            &admin,
            json!({"balance": 5}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let limit = app
        .post(
            &format!("/api/users/{user_id}/credit_limit"),
            &admin,
            json!({"credit_limit": 2.5}),
        )
        .await;
    assert_eq!(limit.status, StatusCode::OK, "{}", limit.text);
    app.post(
        "/api/tenant/statement_settings",
        &admin,
        json!({"tax_name": "VAT", "tax_rate": 20}),
    )
    .await;
    let posted = app
        .post(
            "/api/cdrs",
            &admin,
            json!([
                cdr("c1", "442071234567", 71),
                cdr("c2", "442071234568", 30),
                cdr("c3", "15550001", 125)
            ]),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    let cdrs = app.get("/api/cdrs", &admin).await;
    let cost_of = |id: &str| -> Money {
        cdrs.body["items"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["call_id"] == id))
            .map(|c| money(&c["cost"]))
            .expect("a rated call")
    };
    let (uk, us) = (
        cost_of("c1").decimal() + cost_of("c2").decimal(),
        cost_of("c3").decimal(),
    );

    // The administrator sees both accounts' open statements, numbered.
    let list = app.get("/api/statements?orderby=number", &admin).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["count"], 2, "{}", list.text);
    let items = list.body["items"].as_array().expect("items").clone();
    let mut numbers: Vec<i64> = items
        .iter()
        .map(|s| s["number"].as_i64().expect("a number"))
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    let tenant_statement = items
        .iter()
        .find(|s| s["user_id"].is_null())
        .expect("the tenant's statement")
        .clone();
    assert_eq!(tenant_statement["status"], "OPEN");
    assert_eq!(tenant_statement["currency"], "USD");
    assert_eq!(money(&tenant_statement["opening_balance"]), Money::ZERO);
    assert_eq!(money(&tenant_statement["recharges"]).decimal(), 50.into());
    let charged = uk + us;
    assert_eq!(money(&tenant_statement["call_charges"]).decimal(), -charged);
    assert_eq!(tenant_statement["calls"], 3);
    // The closing balance is the account's balance, to the last digit.
    let balance = app.get("/api/tenant/balance", &admin).await;
    assert_eq!(tenant_statement["closing_balance"], balance.body["balance"]);
    // The tax on the charges, on top of them: 20%, rounded once.
    assert_eq!(money(&tenant_statement["charges"]).decimal(), charged);
    let tax = Money::rounded(charged * rust_decimal::Decimal::new(20, 2));
    assert_eq!(money(&tenant_statement["tax"]), tax);
    assert_eq!(
        money(&tenant_statement["total"]).decimal(),
        charged + tax.decimal()
    );
    // Filters and search.
    let own_account = app
        .get("/api/statements?filter=user_id%20eq%20null", &admin)
        .await;
    assert_eq!(own_account.body["count"], 1, "{}", own_account.text);
    let searched = app.get("/api/statements?search=10", &admin).await;
    assert_eq!(searched.body["count"], 1, "{}", searched.text);
    assert_eq!(searched.body["items"][0]["username"], "101");
    let bad = app
        .get("/api/statements?filter=colour%20eq%201", &admin)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.fields(), ["filter"]);

    // One statement with its lines: recharges, calls by type and destination.
    let id = tenant_statement["id"].as_str().expect("an id");
    let detail = app.get(&format!("/api/statements/{id}"), &admin).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.body["tenant_name"], "acme.example.com");
    assert_eq!(detail.body["closing_balance"], balance.body["balance"]);
    let lines = detail.body["lines"].as_array().expect("lines").clone();
    let of = |section: &str| -> Vec<Value> {
        lines
            .iter()
            .filter(|l| l["section"] == section)
            .cloned()
            .collect()
    };
    let recharges = of("RECHARGE");
    assert_eq!(recharges.len(), 1);
    assert_eq!(recharges[0]["description"], "recharge by admin");
    let types = of("CALL_TYPE");
    assert_eq!(types.len(), 1, "{lines:?}");
    assert_eq!(types[0]["item"], "OUTBOUND_CALL");
    assert_eq!(types[0]["calls"], 3);
    assert_eq!(types[0]["seconds"], 226);
    let destinations = of("DESTINATION");
    assert_eq!(destinations.len(), 2);
    let uk_line = destinations.iter().find(|l| l["item"] == "44").expect("44");
    assert_eq!(uk_line["description"], "United Kingdom");
    assert_eq!(uk_line["calls"], 2);
    assert_eq!(money(&uk_line["amount"]).decimal(), -uk);

    // The user's account: its recharge and its credit-limit change.
    let mine = app.get("/api/statements", &user).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert_eq!(
        mine.body["count"], 1,
        "a standard user sees only its own: {}",
        mine.text
    );
    assert_eq!(mine.body["items"][0]["user_id"], user_id.as_str());
    assert_eq!(
        money(&mine.body["items"][0]["closing_balance"]).decimal(),
        5.into()
    );
    let mine_id = mine.body["items"][0]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let own = app.get(&format!("/api/statements/{mine_id}"), &user).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let credit = own.body["lines"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["item"] == "CREDIT_LIMIT"))
        .expect("the credit-limit change")
        .clone();
    assert_eq!(credit["section"], "ADJUSTMENT");
    assert_eq!(credit["amount"], 0);
    assert_eq!(credit["credit_limit"], 2.5);
    // Not the tenant's, not another tenant's.
    let refused = app.get(&format!("/api/statements/{id}"), &user).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    for token in [&other_admin, &other_user] {
        let foreign = app.get(&format!("/api/statements/{id}"), token).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
        let foreign = app.get(&format!("/api/statements/{id}/csv"), token).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
    }
    let garbage = app.get("/api/statements/not-an-id", &admin).await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND, "{}", garbage.text);
    // The operator names the tenant.
    let operator = app
        .get(&format!("/api/statements?tenant_id={tenant}"), &root)
        .await;
    assert_eq!(operator.body["count"], 2, "{}", operator.text);

    // Its CSV: the totals, then the lines.
    let csv = app.get(&format!("/api/statements/{id}/csv"), &admin).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(csv.headers["content-type"]
        .to_str()
        .expect("text")
        .starts_with("text/csv"));
    let number = tenant_statement["number"].as_i64().expect("a number");
    assert_eq!(
        csv.headers["content-disposition"],
        format!("attachment; filename=\"statement-{number}.csv\"").as_str()
    );
    let rows: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        rows[0],
        "number,account,period_start,period_end,status,currency,section,item,description,at,calls,seconds,amount,credit_limit"
    );
    assert!(
        rows[1].contains(",TOTAL,OPENING_BALANCE,opening balance,,0,0,0.00000,"),
        "{}",
        rows[1]
    );
    let closing = format!(
        ",TOTAL,CLOSING_BALANCE,closing balance,,0,0,{},",
        money(&balance.body["balance"]).to_fixed()
    );
    assert!(rows.iter().any(|r| r.contains(&closing)), "{}", csv.text);
    assert!(
        rows.iter().any(|r| r.contains(",TOTAL,TAX,VAT 20%,")),
        "{}",
        csv.text
    );
    assert!(
        rows.iter()
            .any(|r| r.contains(",DESTINATION,44,United Kingdom,,2,101,")),
        "{}",
        csv.text
    );
    assert_eq!(rows.len(), 1 + 9 + lines.len());
}

/// Moves every ledger row of a tenant back by `days`, as if posted then
/// (the statements are read only afterwards).
async fn backdate(app: &TestApp, tenant: &str, days: i64) {
    let id = model::ApiId::decode(tenant).expect("a tenant id");
    sqlx::query(
        "UPDATE balance_transactions SET created_at = created_at - $1 WHERE tenant_id = $2",
    )
    .bind(days * DAY_MS)
    .bind(id)
    .execute(app.db.db.pool())
    .await
    .expect("backdated");
}

async fn a_rerate_of_a_closed_period_is_an_adjustment_now(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, _) = billed_tenant(&app, &root, "acme.example.com").await;
    let posted = app
        .post("/api/cdrs", &admin, json!([cdr("c1", "442071234567", 71)]))
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    // The recharge and the call were posted two months ago.
    backdate(&app, &tenant, 62).await;
    let list = app
        .get(
            "/api/statements?filter=user_id%20eq%20null&orderby=period_start",
            &admin,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let items = list.body["items"].as_array().expect("items").clone();
    assert!(items.len() >= 3, "{}", list.text);
    let (first, open) = (&items[0], &items[items.len() - 1]);
    assert_eq!(first["status"], "CLOSED");
    assert!(first["closed_at"].is_string());
    assert_eq!(first["calls"], 1);
    assert_eq!(open["status"], "OPEN");
    for pair in items.windows(2) {
        assert_eq!(pair[0]["closing_balance"], pair[1]["opening_balance"]);
        assert_eq!(pair[0]["period_end"], pair[1]["period_start"]);
        assert_eq!(pair[0]["status"], "CLOSED");
    }
    let first_id = first["id"].as_str().expect("an id").to_string();
    let before = app
        .get(&format!("/api/statements/{first_id}"), &admin)
        .await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);

    // The rate goes up and the call is re-rated now.
    let rates = app
        .get("/api/call_rates?filter=prefix%20eq%20'44'", &admin)
        .await;
    let rate_id = rates.body["items"][0]["id"]
        .as_str()
        .expect("a rate")
        .to_string();
    let changed = app
        .post(
            &format!("/api/call_rates/{rate_id}"),
            &admin,
            json!({"price_1": 0.6}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let rerated = app.post("/api/cdrs/rerate", &admin, json!({})).await;
    assert_eq!(rerated.status, StatusCode::OK, "{}", rerated.text);
    assert_eq!(rerated.body["rerated"], 1, "{}", rerated.text);
    let delta = money(&rerated.body["delta"]).decimal();
    assert!(delta > 0.into());

    // The closed statement is as it was; the open one has the correction.
    let after = app
        .get(&format!("/api/statements/{first_id}"), &admin)
        .await;
    assert_eq!(after.body, before.body);
    let open_id = open["id"].as_str().expect("an id");
    let now = app.get(&format!("/api/statements/{open_id}"), &admin).await;
    assert_eq!(
        money(&now.body["adjustments"]).decimal(),
        -delta,
        "{}",
        now.text
    );
    let balance = app.get("/api/tenant/balance", &admin).await;
    assert_eq!(now.body["closing_balance"], balance.body["balance"]);
    let correction = now.body["lines"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["item"] == "RERATE"))
        .expect("the correction's line")
        .clone();
    assert_eq!(correction["section"], "ADJUSTMENT");
    assert_eq!(correction["calls"], 1);
    assert_eq!(money(&now.body["charges"]).decimal(), delta);
}

/// The portal's statements: the server functions of the list, the sheet
/// and the settings form, and the CSV download, each with the session's
/// rights whatever the browser sends.
async fn the_portal_reads_statements_with_the_sessions_rights(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = billed_tenant(&app, &root, "acme.example.com").await;
    let user_id = app.user_id(&admin, "101").await;
    app.post(
        &format!("/api/users/{user_id}/balance"),
        &admin,
        json!({"balance": 5}),
    )
    .await;
    let boss = portal::session(&app, "boss", "acme.example.com").await;
    let clerk = portal::session(&app, "101", "acme.example.com").await;

    // Settings: refused at the field, saved, refused to a standard user.
    let bad = portal::call(
        &app,
        &boss,
        "save_statement_settings",
        json!({"tenant": null, "body": {"cycle": "WEEKLY", "cycle_day": "9", "tax_rate": "x"}}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(portal::refused_fields(&bad), ["tax_rate"]);
    let bad = portal::call(
        &app,
        &boss,
        "save_statement_settings",
        json!({"tenant": null, "body": {"cycle": "WEEKLY", "cycle_day": "9"}}),
    )
    .await;
    assert_eq!(portal::refused_fields(&bad), ["cycle_day"], "{}", bad.text);
    let saved = portal::call(
        &app,
        &boss,
        "save_statement_settings",
        json!({"tenant": null, "body": {"tax_name": "VAT", "tax_rate": "7.5", "tax_included": true}}),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(saved.body["tax_rate"], 7.5);
    let refused = portal::call(
        &app,
        &clerk,
        "save_statement_settings",
        json!({"tenant": null, "body": {"tax_rate": "0"}}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let hidden = portal::call(&app, &clerk, "statement_settings", json!({"tenant": null})).await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN, "{}", hidden.text);

    // The list: every account for the administrator, by account; one's own.
    let all = portal::call(
        &app,
        &boss,
        "list_statements",
        json!({"tenant": null, "args": {}}),
    )
    .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["count"], 2, "{}", all.text);
    assert_eq!(all.body["currency"], "USD");
    let tenant_only = portal::call(
        &app,
        &boss,
        "list_statements",
        json!({"tenant": null, "args": {"account": "tenant"}}),
    )
    .await;
    assert_eq!(tenant_only.body["count"], 1, "{}", tenant_only.text);
    assert_eq!(tenant_only.body["items"][0]["tenant_account"], true);
    assert_eq!(tenant_only.body["items"][0]["closing"], "50.00000");
    let bad = portal::call(
        &app,
        &boss,
        "list_statements",
        json!({"tenant": null, "args": {"status": "LOST"}}),
    )
    .await;
    assert_eq!(portal::refused_fields(&bad), ["status"], "{}", bad.text);
    // A standard user's list is its own, whatever account it names.
    let own = portal::call(
        &app,
        &clerk,
        "list_statements",
        json!({"tenant": null, "args": {"account": "tenant"}}),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["count"], 1, "{}", own.text);
    assert_eq!(own.body["items"][0]["account"], "101");
    assert_eq!(own.body["items"][0]["closing"], "5.00000");

    // The sheet: the tenant's for the administrator, not for the user.
    let id = tenant_only.body["items"][0]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let sheet = portal::call(
        &app,
        &boss,
        "get_statement",
        json!({"tenant": null, "id": id}),
    )
    .await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.text);
    assert_eq!(sheet.body["tenant_name"], "acme.example.com");
    assert_eq!(sheet.body["recharges"], "50.00000");
    assert_eq!(sheet.body["tax_label"], "VAT 7.5%, included");
    assert_eq!(sheet.body["lines"][0]["section"], "RECHARGE");
    let theirs = portal::call(
        &app,
        &clerk,
        "get_statement",
        json!({"tenant": null, "id": id}),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);

    // The CSV download, with the session.
    let csv = portal::get(&app, &boss, &format!("/portal/export/statements/{id}.csv")).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(csv.text.starts_with("number,account,"), "{}", csv.text);
    assert!(
        csv.text.contains(",TOTAL,TAX,VAT 7.5% included,"),
        "{}",
        csv.text
    );
    let theirs = portal::get(&app, &clerk, &format!("/portal/export/statements/{id}.csv")).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    let nobody = app
        .call(
            "GET",
            &format!("/portal/export/statements/{id}.csv"),
            None,
            None,
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED, "{}", nobody.text);
}

on_both_databases!(
    settings_are_read_by_all_and_set_by_administrators,
    statements_show_the_ledger_of_each_account,
    a_rerate_of_a_closed_period_is_an_adjustment_now,
    the_portal_reads_statements_with_the_sessions_rights,
);
