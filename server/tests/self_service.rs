//! A tenant's user on its own: its calls, their CSV, its ledger, its
//! balance and what a call would cost it, in the REST API (`/api/user/...`)
//! and the portal's server functions, on SQLite and on PostgreSQL. Nothing a
//! request names (a tenant, a user, a call) widens what it reads.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use billing::Backend;
use common::{portal, rate, Answer, TestApp};
use serde_json::{json, Value};

const DOMAIN: &str = "acme.example.com";
const OTHER: &str = "other.example.com";

fn cdr(call_id: &str, caller: &str, callee: &str, day: u32, duration: i64) -> Value {
    json!({
        "call_id": call_id, "caller": caller, "callee": callee, "direction": "OUTBOUND_CALL",
        "started_at": format!("2026-01-{day:02}T10:00:00Z"), "duration": duration,
        "status_code": 200
    })
}

fn call_ids(answer: &Answer) -> Vec<String> {
    let mut ids: Vec<String> = answer.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["call_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// An amount (a JSON number of the API, or the portal's text) with its
/// five decimals, as the CSV writes it.
fn fixed(v: &Value) -> String {
    let n = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|t| t.parse().ok()))
        .unwrap_or_else(|| panic!("not an amount: {v}"));
    format!("{n:.5}")
}

/// The callers of a `/api/user/cdrs` page (its v22 fields have no call id).
fn callers(answer: &Answer) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["caller"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn csv_calls(answer: &Answer) -> Vec<String> {
    let mut ids: Vec<String> = answer
        .text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1).map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// A GET with the token and a tenant named by `X-Tenant-Id`.
async fn get_naming(app: &TestApp, path: &str, token: &str, tenant: &str) -> Answer {
    let request = Request::builder()
        .method("GET")
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("x-tenant-id", tenant)
        .body(Body::empty())
        .expect("request");
    app.send(request).await
}

struct World {
    app: TestApp,
    root: String,
    admin: String,
    user: String,
    other_tenant: String,
    other_admin: String,
    /// The user's and its neighbour's ids.
    user_id: String,
    neighbour_id: String,
    /// The CDR id of the neighbour's call.
    neighbours_call: String,
}

/// Two tenants with their rates; in the first, billing on the users'
/// accounts, the users 101 and 102 recharged, and calls by both.
async fn world(backend: Backend) -> World {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, user) = app.tenant(&root, DOMAIN).await;
    let (other_tenant, other_admin, _) = app.tenant(&root, OTHER).await;
    let made = app
        .post(
            "/api/users",
            &admin,
            json!({"username": "102", "password": "password-123", "role": "StandardUser"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let neighbour_id = made.body["id"].as_str().expect("id").to_string();
    let users = app.get("/api/users?search=101", &admin).await;
    let user_id = users.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|u| u["username"] == "101"))
        .and_then(|u| u["id"].as_str())
        .expect("the user's id")
        .to_string();

    // The same prefix costs more in the other tenant.
    let created = app.post("/api/call_rates", &admin, rate("44")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let mut other_rate = rate("44");
    other_rate["price_1"] = json!(0.6);
    other_rate["price_n"] = json!(0.3);
    let created = app.post("/api/call_rates", &other_admin, other_rate).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);

    let on = app
        .post(
            "/api/tenant/billing",
            &admin,
            json!({"enabled": true, "account": "USER"}),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    for id in [&user_id, &neighbour_id] {
        let done = app
            .post(
                &format!("/api/users/{id}/balance"),
                &admin,
                json!({"balance": 10}),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    }
    let posted = app
        .post(
            "/api/cdrs",
            &admin,
            json!([
                cdr("mine-1", "101", "442071234567", 3, 120),
                cdr("theirs", "102", "442071234567", 4, 120),
                cdr("mine-2", "101", "449999", 5, 60),
            ]),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    assert_eq!(posted.body["rated"], 3, "{}", posted.text);
    let theirs = app.get("/api/cdrs?search=theirs", &admin).await;
    let neighbours_call = theirs.body["items"][0]["id"]
        .as_str()
        .expect("the call's id")
        .to_string();
    World {
        app,
        root,
        admin,
        user,
        other_tenant,
        other_admin,
        user_id,
        neighbour_id,
        neighbours_call,
    }
}

async fn a_user_reads_only_its_own_through_the_api(backend: Backend) {
    let w = world(backend).await;
    let (app, user) = (&w.app, w.user.as_str());

    // Its calls, whatever tenant the request names.
    let mine = app.get("/api/user/cdrs", user).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert_eq!(callers(&mine), ["101", "101"]);
    let naming = app
        .get(
            &format!("/api/user/cdrs?tenant_id={}", w.other_tenant),
            user,
        )
        .await;
    assert_eq!(callers(&naming), ["101", "101"]);
    let naming = get_naming(app, "/api/user/cdrs", user, &w.other_tenant).await;
    assert_eq!(callers(&naming), ["101", "101"]);
    let theirs = app
        .get(&format!("/api/user/cdrs/{}", w.neighbours_call), user)
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    // An administrator's own calls are its own too: it made none.
    let admins = app.get("/api/user/cdrs", &w.admin).await;
    assert_eq!(admins.body["count"], 0);

    // The CSV: its calls with their cost, filtered like the list.
    let csv = app.get("/api/user/cdrs/export", user).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert_eq!(
        csv.headers
            .get(header::CONTENT_DISPOSITION)
            .map(|v| v.to_str().unwrap_or("")),
        Some("attachment; filename=\"cdrs.csv\"")
    );
    assert_eq!(csv_calls(&csv), ["mine-1", "mine-2"]);
    let first = csv
        .text
        .lines()
        .find(|l| l.contains("mine-1"))
        .expect("the first call");
    // Charged what a quote of the same call says.
    let quote = app
        .post(
            "/api/user/quote",
            user,
            json!({"callee": "442071234567", "duration": 120}),
        )
        .await;
    let amount = fixed(&quote.body["amount"]);
    assert!(
        first.contains(&format!(",RATED,{amount},USD,44,101,")),
        "{first}"
    );
    let naming = get_naming(
        app,
        "/api/user/cdrs/export?search=mine-2",
        user,
        &w.other_tenant,
    )
    .await;
    assert_eq!(csv_calls(&naming), ["mine-2"]);
    let bad = app.get("/api/user/cdrs/export?filter=nope", user).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);

    // Its ledger: its recharge and its two charges, nobody else's.
    let ledger = app.get("/api/user/balance_transactions", user).await;
    assert_eq!(ledger.status, StatusCode::OK, "{}", ledger.text);
    assert_eq!(ledger.body["count"], 3, "{}", ledger.text);
    let items = ledger.body["items"].as_array().cloned().unwrap_or_default();
    assert!(items.iter().all(|t| t["user_id"] == json!(w.user_id)));
    let kinds: Vec<&str> = items.iter().filter_map(|t| t["kind"].as_str()).collect();
    assert_eq!(kinds, ["RECHARGE", "CALL_CHARGE", "CALL_CHARGE"]);
    let charges = app
        .get("/api/user/balance_transactions?kind=CALL_CHARGE", user)
        .await;
    assert_eq!(charges.body["count"], 2);
    let neighbours = app
        .get(
            &format!(
                "/api/user/balance_transactions?filter=user_id%20eq%20%27{}%27",
                w.neighbour_id
            ),
            user,
        )
        .await;
    assert_eq!(neighbours.status, StatusCode::OK, "{}", neighbours.text);
    assert_eq!(neighbours.body["count"], 0);
    let naming = get_naming(app, "/api/user/balance_transactions", user, &w.other_tenant).await;
    assert_eq!(naming.body["count"], 3);
    let bad = app
        .get("/api/user/balance_transactions?kind=GIFT", user)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.fields(), ["kind"]);

    // Its balance: the recharge less what its calls cost.
    let balance = app.get("/api/user/balance", user).await;
    assert_eq!(balance.status, StatusCode::OK, "{}", balance.text);
    let after = ledger.body["items"][2]["balance_after"].clone();
    assert_eq!(balance.body["balance"], after);
    assert_ne!(balance.body["balance"], json!(10));

    // The system administrator has no account of its own.
    for path in [
        "/api/user/cdrs",
        "/api/user/cdrs/export",
        "/api/user/balance",
        "/api/user/balance_transactions",
    ] {
        let refused = app.get(path, &w.root).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.text
        );
    }
}

async fn a_user_is_quoted_by_the_rates_that_apply_to_it(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let call = json!({"callee": "442071234567", "duration": 120});
    let tenants = app.post("/api/rating/quote", &w.admin, call.clone()).await;
    assert_eq!(tenants.status, StatusCode::OK, "{}", tenants.text);
    let mine = app.post("/api/user/quote", &w.user, call.clone()).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    // The same answer as its tenant's: the rate of its calls, with the parts.
    assert_eq!(mine.body, tenants.body);
    assert_eq!(mine.body["rate"]["prefix"], "44");
    assert_eq!(mine.body["duration"], 120);
    assert!(mine.body["breakdown"]["billable_seconds"].as_u64() > Some(0));

    // Naming the other tenant changes nothing: its rates are dearer.
    let others = app
        .post("/api/rating/quote", &w.other_admin, call.clone())
        .await;
    assert_ne!(others.body["amount"], mine.body["amount"]);
    let request = Request::builder()
        .method("POST")
        .uri(format!("/api/user/quote?tenant_id={}", w.other_tenant))
        .header(header::AUTHORIZATION, format!("Bearer {}", w.user))
        .header("x-tenant-id", &w.other_tenant)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(call.to_string()))
        .expect("request");
    let naming = app.send(request).await;
    assert_eq!(naming.status, StatusCode::OK, "{}", naming.text);
    assert_eq!(naming.body["amount"], mine.body["amount"]);

    // Bad input names its field; a number no rate matches is refused.
    let bad = app
        .post(
            "/api/user/quote",
            &w.user,
            json!({"callee": "", "duration": -1}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["callee", "duration"]);
    let none = app
        .post(
            "/api/user/quote",
            &w.user,
            json!({"callee": "3312345", "duration": 60}),
        )
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(none.code(), "NO_RATE");
    let refused = app.post("/api/user/quote", &w.root, call).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
}

async fn the_portal_shows_a_user_only_its_own(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let clerk = portal::session(app, "101", DOMAIN).await;
    let call = |name: &'static str, args: Value| {
        let clerk = clerk.clone();
        async move { portal::call(app, &clerk, name, args).await }
    };

    // Its calls, whatever tenant the page names.
    let list = call("list_cdrs", json!({"tenant": null, "args": {}})).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(call_ids(&list), ["mine-1", "mine-2"]);
    assert_eq!(
        list.body["items"][0]["cost"].as_str().map(str::len),
        Some(7)
    );
    let naming = call(
        "list_cdrs",
        json!({"tenant": w.other_tenant, "args": {"search": "mine-1"}}),
    )
    .await;
    assert_eq!(call_ids(&naming), ["mine-1"]);
    let theirs = call(
        "get_cdr_detail",
        json!({"tenant": null, "id": w.neighbours_call}),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    let own_id = list.body["items"][0]["id"].clone();
    let detail = call("get_cdr_detail", json!({"tenant": null, "id": own_id})).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert!(detail.text.contains("Billable seconds"), "{}", detail.text);
    let csv = portal::get(
        app,
        &clerk,
        &format!("/portal/export/cdrs.csv?tenant={}", w.other_tenant),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert_eq!(csv_calls(&csv), ["mine-1", "mine-2"]);

    // Its account and its ledger, whatever account the page names.
    let accounts = call("list_accounts", json!({"tenant": null})).await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.text);
    assert_eq!(accounts.body["own"], true);
    assert_eq!(accounts.body["tenant"]["name"], "101");
    assert_eq!(accounts.body["tenant"]["user"], json!(w.user_id));
    assert_eq!(accounts.body["users"], json!([]));
    assert_eq!(accounts.body["operator"], false);
    let balance = app.get("/api/user/balance", &w.user).await;
    let amount = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    assert_eq!(
        amount(&accounts.body["tenant"]["balance"])
            .parse::<f64>()
            .ok(),
        amount(&balance.body["balance"]).parse::<f64>().ok()
    );
    assert_eq!(accounts.body["tenant"]["held"], "0.00000");
    let ledger = call(
        "list_ledger",
        json!({"tenant": null, "args": {"account": w.neighbour_id}}),
    )
    .await;
    assert_eq!(ledger.status, StatusCode::OK, "{}", ledger.text);
    assert_eq!(ledger.body["count"], 3, "{}", ledger.text);

    // What a call costs it, with the breakdown; bad input at its field.
    let quote = call(
        "quote_call",
        json!({"tenant": w.other_tenant, "args": {"callee": "442071234567", "duration": "120"}}),
    )
    .await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.text);
    let api = app
        .post(
            "/api/user/quote",
            &w.user,
            json!({"callee": "442071234567", "duration": 120}),
        )
        .await;
    assert_eq!(quote.body["amount"], json!(fixed(&api.body["amount"])));
    assert_eq!(quote.body["currency"], "USD");
    assert!(quote.text.contains("Billable seconds"), "{}", quote.text);
    let bad = call(
        "quote_call",
        json!({"tenant": null, "args": {"callee": "4420", "duration": "two"}}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(portal::refused_fields(&bad), ["duration"]);

    // Nothing of the tenant's own: refused whatever the page sends.
    for (name, args) in [
        ("list_rates", json!({"tenant": null, "args": {}})),
        ("list_tariffs", json!({"tenant": null})),
        ("list_billing_plans", json!({"tenant": null})),
        ("billing_settings", json!({"tenant": null})),
        ("rerate_cdrs", json!({"tenant": null, "args": {}})),
        (
            "recharge_account",
            json!({"tenant": null, "account": w.user_id, "amount": "5"}),
        ),
        ("list_audit", json!({"args": {}})),
    ] {
        let refused = call(name, args).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{name}: {}",
            refused.text
        );
    }

    // The tenant's administrator still reads the tenant's calls and accounts.
    let boss = portal::session(app, "boss", DOMAIN).await;
    let all = portal::call(app, &boss, "list_cdrs", json!({"tenant": null, "args": {}})).await;
    assert_eq!(all.body["count"], 3);
    let accounts = portal::call(app, &boss, "list_accounts", json!({"tenant": null})).await;
    assert_eq!(accounts.body["own"], false);
    assert_eq!(accounts.body["users_count"], 3);
}

on_both_databases!(
    a_user_reads_only_its_own_through_the_api,
    a_user_is_quoted_by_the_rates_that_apply_to_it,
    the_portal_shows_a_user_only_its_own,
);
