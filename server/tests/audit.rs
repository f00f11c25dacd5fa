//! The audit log: every change leaves exactly one entry naming who made it,
//! through which surface and from where, with the fields before and after;
//! refused changes leave none; failed logins are listed; each administrator
//! sees only its own tenant's entries. On SQLite and on PostgreSQL.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use billing::Backend;
use common::{rate, Answer, TestApp, ADMIN_PASSWORD};
use serde_json::{json, Value};
use server::xmlrpc::codec::{self, XValue};

const CLIENT: &str = "192.0.2.7:40000";

/// The entries a token sees, with `query` (already URL-encoded) added.
async fn entries(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let answer = app
        .get(&format!("/api/audit_log?top=100&{query}"), token)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let items = answer.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        answer.body["count"].as_u64(),
        Some(items.len() as u64),
        "fewer than 100 entries in these tests"
    );
    items
}

/// The entries about one entity.
async fn about(app: &TestApp, token: &str, entity: &str, id: &str) -> Vec<Value> {
    let filter = format!("entity eq '{entity}' and entity_id eq '{id}'");
    entries(app, token, &format!("filter={}", encode(&filter))).await
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A JSON POST from the client address [`CLIENT`], as a served router sees it.
async fn post_from_client(app: &TestApp, path: &str, token: &str, body: Value) -> Answer {
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let address: SocketAddr = CLIENT.parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(address));
    app.send(request).await
}

fn id_of(answer: &Answer) -> String {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["id"].as_str().expect("an id").to_string()
}

/// The one entry of a list, checked to be the only one.
fn only(list: Vec<Value>, what: &str) -> Value {
    assert_eq!(list.len(), 1, "{what}: {list:#?}");
    list.into_iter().next().unwrap_or(Value::Null)
}

async fn rest_changes_are_audited_once_with_before_and_after(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, _) = app.tenant(&root, "acme.example.com").await;

    // A call rate created, changed and deleted: three entries.
    let id = id_of(&post_from_client(&app, "/api/call_rates", &admin, rate("44")).await);
    let mut changed = rate("44");
    changed["price_1"] = json!(0.07);
    changed["description"] = json!("UK");
    let updated = app
        .post(&format!("/api/call_rates/{id}"), &admin, changed)
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let destroyed = app
        .post(&format!("/api/call_rates/{id}/destroy"), &admin, json!({}))
        .await;
    assert!(destroyed.status.is_success(), "{}", destroyed.text);

    let log = about(&app, &admin, "CALL_RATE", &id).await;
    assert_eq!(log.len(), 3, "{log:#?}");
    let created = &log[0];
    assert_eq!(created["action"], "CREATE");
    assert_eq!(created["surface"], "REST");
    assert_eq!(created["actor_name"], "boss");
    assert!(created["actor_id"].is_string());
    assert_eq!(created["token_name"], Value::Null);
    assert_eq!(created["tenant_id"], tenant.as_str());
    assert_eq!(created["client_addr"], "192.0.2.7");
    assert_eq!(created["changes"]["prefix"], json!({"after": "44"}));
    assert_eq!(created["changes"]["price_1"], json!({"after": 0.06}));
    let update = &log[1];
    assert_eq!(update["action"], "UPDATE");
    assert_eq!(
        update["client_addr"],
        Value::Null,
        "no address without a socket"
    );
    assert_eq!(
        update["changes"],
        json!({
            "price_1": {"before": 0.06, "after": 0.07},
            "description": {"before": "test rate", "after": "UK"},
        })
    );
    let delete = &log[2];
    assert_eq!(delete["action"], "DELETE");
    assert_eq!(delete["changes"]["prefix"], json!({"before": "44"}));
    assert_eq!(delete["changes"]["price_1"], json!({"before": 0.07}));
    assert!(delete["changes"]["price_1"].get("after").is_none());

    // An import: one entry with its counts.
    app.post("/api/call_rates", &admin, rate("33")).await;
    let csv = "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,\
               postcall_surcharge,price_1,price_n,description\n\
               33,INTERNATIONAL,0,0,60,6,0,0,0.05,0.02,France\n\
               49,INTERNATIONAL,0,0,60,6,0,0,0.05,0.02,Germany\n\
               39,INTERNATIONAL,0,0,60,6,0,0,0.05,0.02,Italy\n";
    let imported = app
        .raw("POST", "/api/call_rates/import", &admin, "text/csv", csv)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let import = only(
        entries(&app, &admin, "filter=action%20eq%20%27IMPORT%27").await,
        "one import entry",
    );
    assert_eq!(import["entity"], "CALL_RATE");
    assert_eq!(import["changes"]["added"], json!({"after": 2}));
    assert_eq!(import["changes"]["updated"], json!({"after": 1}));

    // Tariffs, their rates and billing plans.
    let tariff = id_of(
        &app.post("/api/tariffs", &admin, json!({"name": "Premium"}))
            .await,
    );
    app.post(
        &format!("/api/tariffs/{tariff}"),
        &admin,
        json!({"name": "Gold", "connect_fee": 0.2}),
    )
    .await;
    let tariff_rate = id_of(
        &app.post(
            &format!("/api/tariffs/{tariff}/rates"),
            &admin,
            json!({"prefix": "1", "interval_1": 60, "interval_n": 6, "price_1": 0.01, "price_n": 0.01}),
        )
        .await,
    );
    let plan = id_of(
        &app.post(
            "/api/billing_plans",
            &admin,
            json!({"prefix": "1", "tariff_id": tariff}),
        )
        .await,
    );
    app.post(
        &format!("/api/billing_plans/{plan}"),
        &admin,
        json!({"round_up": true}),
    )
    .await;
    app.post(
        &format!("/api/billing_plans/{plan}/destroy"),
        &admin,
        json!({}),
    )
    .await;
    app.post(&format!("/api/tariffs/{tariff}/destroy"), &admin, json!({}))
        .await;
    let log = about(&app, &admin, "TARIFF", &tariff).await;
    let actions: Vec<&str> = log.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["CREATE", "UPDATE", "DELETE"]);
    assert_eq!(
        log[1]["changes"],
        json!({
            "name": {"before": "Premium", "after": "Gold"},
            "connect_fee": {"before": 0, "after": 0.2},
        })
    );
    assert_eq!(log[2]["changes"]["rates"], json!({"before": 1}));
    let rate_log = about(&app, &admin, "CALL_RATE", &tariff_rate).await;
    assert_eq!(
        only(rate_log, "the tariff rate's creation")["action"],
        "CREATE"
    );
    let plan_log = about(&app, &admin, "BILLING_PLAN", &plan).await;
    let actions: Vec<&str> = plan_log
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["CREATE", "UPDATE", "DELETE"]);
    assert_eq!(
        plan_log[0]["changes"]["tariff_id"],
        json!({"after": tariff})
    );
    assert_eq!(
        plan_log[1]["changes"],
        json!({"round_up": {"before": false, "after": true}})
    );

    // Billing settings, balances and credit limits.
    app.post(
        "/api/tenant/billing",
        &admin,
        json!({"enabled": true, "type": "ONLINE"}),
    )
    .await;
    let settings = only(
        about(&app, &admin, "BILLING_SETTINGS", &tenant).await,
        "settings",
    );
    assert_eq!(
        settings["changes"],
        json!({
            "enabled": {"before": false, "after": true},
            "type": {"before": "OFFLINE", "after": "ONLINE"},
        })
    );
    let recharged = app
        .post(
            &format!("/api/tenant/balance?tenant_id={tenant}"),
            &root,
            json!({"balance": 50}),
        )
        .await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    app.post(
        &format!("/api/tenant/credit_limit?tenant_id={tenant}"),
        &root,
        json!({"credit_limit": 10}),
    )
    .await;
    let account = about(&app, &admin, "TENANT_ACCOUNT", &tenant).await;
    assert_eq!(account.len(), 2, "{account:#?}");
    assert_eq!(account[0]["action"], "RECHARGE");
    assert_eq!(account[0]["actor_name"], "admin");
    assert_eq!(
        account[0]["changes"],
        json!({"balance": {"before": 0, "after": 50}})
    );
    assert_eq!(account[1]["action"], "UPDATE");
    assert_eq!(
        account[1]["changes"],
        json!({"credit_limit": {"before": 0, "after": 10}})
    );
    let users = app.get("/api/users", &admin).await;
    let user = users.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|u| u["username"] == "101"))
        .and_then(|u| u["id"].as_str())
        .expect("the standard user")
        .to_string();
    app.post(
        &format!("/api/users/{user}/balance"),
        &admin,
        json!({"balance": 5.5}),
    )
    .await;
    app.post(
        &format!("/api/users/{user}/credit_limit"),
        &admin,
        json!({"credit_limit": 1}),
    )
    .await;
    let account = about(&app, &admin, "USER_ACCOUNT", &user).await;
    assert_eq!(account.len(), 2, "{account:#?}");
    assert_eq!(
        account[0]["changes"],
        json!({"balance": {"before": 0, "after": 5.5}})
    );
    assert_eq!(
        account[1]["changes"],
        json!({"credit_limit": {"before": 0, "after": 1}})
    );

    // The tenant and its users, created by the system administrator.
    let created = only(about(&app, &root, "TENANT", &tenant).await, "tenant");
    assert_eq!(created["action"], "CREATE");
    assert_eq!(
        created["changes"]["sip_domain"],
        json!({"after": "acme.example.com"})
    );
    let created = only(about(&app, &root, "USER", &user).await, "user");
    assert_eq!(
        created["changes"],
        json!({
            "username": {"after": "101"},
            "role": {"after": "StandardUser"},
            "tenant_id": {"after": tenant},
        })
    );

    // An API token: created, used (its name is the actor's), revoked.
    let token = app
        .post("/api/tokens", &admin, json!({"name": "pbx-1"}))
        .await;
    let token_id = id_of(&token);
    let secret = token.body["token"].as_str().expect("secret").to_string();
    let by_token = id_of(&app.post("/api/call_rates", &secret, rate("7")).await);
    let entry = only(
        about(&app, &admin, "CALL_RATE", &by_token).await,
        "by token",
    );
    assert_eq!(entry["token_name"], "pbx-1");
    assert_eq!(entry["actor_name"], "boss");
    app.post(
        &format!("/api/tokens/{token_id}/destroy"),
        &admin,
        json!({}),
    )
    .await;
    let log = about(&app, &admin, "API_TOKEN", &token_id).await;
    let actions: Vec<&str> = log.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["CREATE", "DELETE"]);
    assert_eq!(log[0]["changes"]["name"], json!({"after": "pbx-1"}));

    // No secret anywhere in the log.
    let everything = app.get("/api/audit_log?top=100", &root).await.text;
    for secret in ["password-123", ADMIN_PASSWORD, secret.as_str()] {
        assert!(!everything.contains(secret), "a secret in the log");
    }
    assert!(!everything.contains("argon2"), "a password hash in the log");
}

async fn refused_changes_leave_no_entry(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, user) = app.tenant(&root, "acme.example.com").await;
    let id = id_of(&app.post("/api/call_rates", &admin, rate("44")).await);
    let tariff = id_of(
        &app.post("/api/tariffs", &admin, json!({"name": "Premium"}))
            .await,
    );
    let tariff_rate = id_of(
        &app.post(
            &format!("/api/tariffs/{tariff}/rates"),
            &admin,
            json!({"prefix": "1", "interval_1": 60, "interval_n": 6, "price_1": 0.01, "price_n": 0.01,
                   "activation_at": "2030-01-01T00:00:00Z"}),
        )
        .await,
    );
    app.post(
        "/api/billing_plans",
        &admin,
        json!({"prefix": "1", "tariff_id": tariff}),
    )
    .await;
    let before = entries(&app, &admin, "").await;

    let mut bad = rate("45");
    bad["interval_1"] = json!(0);
    let refused = [
        // Invalid input.
        app.post("/api/call_rates", &admin, bad).await,
        // A duplicate prefix: the database refuses the insert.
        app.post("/api/call_rates", &admin, rate("44")).await,
        // An expiry before the activation, found after the row was changed.
        app.post(
            &format!("/api/tariffs/{tariff}/rates/{tariff_rate}"),
            &admin,
            json!({"expiration_at": "2001-01-01T00:00:00Z"}),
        )
        .await,
        // A tariff a billing plan uses.
        app.post(&format!("/api/tariffs/{tariff}/destroy"), &admin, json!({}))
            .await,
        // A standard user may not change rates.
        app.post(&format!("/api/call_rates/{id}"), &user, rate("46"))
            .await,
        // An import with one bad line writes nothing.
        app.raw(
            "POST",
            "/api/call_rates/import",
            &admin,
            "text/csv",
            "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,\
             postcall_surcharge,price_1,price_n,description\n\
             33,INTERNATIONAL,0,0,60,6,0,0,0.05,0.02,France\n\
             49,INTERNATIONAL,0,0,0,6,0,0,0.05,0.02,Germany\n",
        )
        .await,
        // Billing settings of a type that does not exist.
        app.post("/api/tenant/billing", &admin, json!({"type": "SOMETIMES"}))
            .await,
    ];
    for answer in &refused {
        assert!(
            answer.status.is_client_error(),
            "{}: {}",
            answer.status,
            answer.text
        );
    }
    let after = entries(&app, &admin, "").await;
    assert_eq!(after, before, "refused changes left entries");
    let rate_now = app
        .get(
            &format!("/api/tariffs/{tariff}/rates/{tariff_rate}"),
            &admin,
        )
        .await;
    assert_eq!(
        rate_now.body["expiration_at"],
        Value::Null,
        "the refused update rolled back"
    );
}

async fn failed_logins_are_listed_without_the_password(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, _) = app.tenant(&root, "acme.example.com").await;
    let tried = "not-the-password-9";

    // REST, from a known address.
    let mut request = Request::builder()
        .method("POST")
        .uri("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": "boss", "password": tried, "domain": "acme.example.com"})
                .to_string(),
        ))
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(CLIENT.parse::<SocketAddr>().expect("address")));
    assert_eq!(app.send(request).await.status, StatusCode::UNAUTHORIZED);
    // The older tariff API's login.
    let legacy = app
        .call(
            "POST",
            "/api/account/credentials/verify",
            None,
            Some(json!({"name": "boss", "password": tried, "domain": "acme.example.com"})),
        )
        .await;
    assert_eq!(legacy.status, StatusCode::UNAUTHORIZED);
    // XML-RPC's HTTP Basic credentials.
    let basic = {
        use base64::Engine;
        let pair = format!("boss@acme.example.com:{tried}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let xml = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/xmlapi")
                .header(header::AUTHORIZATION, basic)
                .body(Body::from(codec::call(
                    "listTariffs",
                    &[XValue::Struct(vec![])],
                )))
                .expect("request"),
        )
        .await;
    assert!(xml.text.contains("faultCode"), "{}", xml.text);
    // The portal's login form.
    let portal = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/portal/fn/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "username=boss&password={tried}&domain=acme.example.com"
                )))
                .expect("request"),
        )
        .await;
    assert_eq!(portal.status, StatusCode::UNAUTHORIZED, "{}", portal.text);
    // A domain nobody has: in no tenant.
    let unknown = app
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "mallory", "password": tried, "domain": "nowhere.example"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    let failed = entries(&app, &admin, "filter=action%20eq%20%27LOGIN_FAILED%27").await;
    let surfaces: Vec<&str> = failed
        .iter()
        .filter_map(|e| e["surface"].as_str())
        .collect();
    assert_eq!(surfaces, ["REST", "TARIFF_API", "XMLRPC", "PORTAL"]);
    for entry in &failed {
        assert_eq!(entry["entity"], "LOGIN");
        assert_eq!(entry["actor_name"], "boss@acme.example.com");
        assert_eq!(entry["actor_id"], Value::Null);
        assert_eq!(entry["tenant_id"], tenant.as_str());
    }
    assert_eq!(failed[0]["client_addr"], "192.0.2.7");

    let all = entries(&app, &root, "filter=action%20eq%20%27LOGIN_FAILED%27").await;
    assert_eq!(all.len(), 5, "the system administrator sees every one");
    let stranger = &all[4];
    assert_eq!(stranger["actor_name"], "mallory@nowhere.example");
    assert_eq!(stranger["tenant_id"], Value::Null);
    let everything = app.get("/api/audit_log?top=100", &root).await.text;
    assert!(!everything.contains(tried), "a tried password in the log");
}

async fn each_surface_names_itself(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;

    // The older tariff API.
    let request = Request::builder()
        .method("POST")
        .uri("/api/tariff/create")
        .header(header::CONTENT_TYPE, "application/json")
        .header("access_token", &admin)
        .body(Body::from(
            json!({
                "type": "OUTGOING", "interval1": 60, "grace_period": 5, "call_prefix": "49",
                "intervaln": 6, "price1": 0.06, "free_seconds": 10, "connect_fee": 0.1,
                "pricen": 0.03, "postcall_surcharge": 0.1
            })
            .to_string(),
        ))
        .expect("request");
    let created = app.send(request).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let legacy_id = model::ApiId::encode(created.body["id"].as_i64().expect("an integer id"));
    let entry = only(about(&app, &admin, "CALL_RATE", &legacy_id).await, "legacy");
    assert_eq!(entry["surface"], "TARIFF_API");
    assert_eq!(entry["changes"]["direction"], json!({"after": "OUTGOING"}));

    // XML-RPC, with the user's password.
    let basic = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("boss@acme.example.com:password-123")
        )
    };
    let call = codec::call(
        "addTariff",
        &[XValue::Struct(vec![
            ("name".into(), XValue::Str("Wholesale".into())),
            ("free_seconds".into(), XValue::Int(0)),
            ("connect_fee".into(), XValue::Double("0".into())),
            ("post_call_surcharge".into(), XValue::Double("0".into())),
            ("grace_period".into(), XValue::Int(0)),
        ])],
    );
    let mut request = Request::builder()
        .method("POST")
        .uri("/xmlapi")
        .header(header::AUTHORIZATION, basic)
        .body(Body::from(call))
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(CLIENT.parse::<SocketAddr>().expect("address")));
    let answer = app.send(request).await;
    assert!(!answer.text.contains("faultCode"), "{}", answer.text);
    let tariffs = entries(&app, &admin, "filter=entity%20eq%20%27TARIFF%27").await;
    let entry = only(tariffs, "the XML-RPC tariff");
    assert_eq!(entry["surface"], "XMLRPC");
    assert_eq!(entry["actor_name"], "boss");
    assert_eq!(entry["client_addr"], "192.0.2.7");
    assert_eq!(entry["changes"]["name"], json!({"after": "Wholesale"}));

    // The portal: log in, then save a rate.
    let login = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/portal/fn/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(
                    "username=boss&password=password-123&domain=acme.example.com",
                ))
                .expect("request"),
        )
        .await;
    assert!(
        login.status.is_success() || login.status.is_redirection(),
        "{}: {}",
        login.status,
        login.text
    );
    let cookie = login
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ratedeck_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let mut body = rate("61");
    body["description"] = json!("Australia");
    let saved = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/portal/fn/save_rate")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, &cookie)
                .body(Body::from(
                    json!({"tenant": null, "id": null, "body": body}).to_string(),
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let filter = encode("entity eq 'CALL_RATE' and surface eq 'PORTAL'");
    let entry = only(
        entries(&app, &admin, &format!("filter={filter}")).await,
        "the portal's rate",
    );
    assert_eq!(entry["action"], "CREATE");
    assert_eq!(entry["actor_name"], "boss");
    assert_eq!(
        entry["changes"]["description"],
        json!({"after": "Australia"})
    );
}

async fn only_administrators_read_their_own_tenants_log(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (acme, acme_admin, acme_user) = app.tenant(&root, "acme.example.com").await;
    let (globex, globex_admin, _) = app.tenant(&root, "globex.example.com").await;
    app.post("/api/call_rates", &acme_admin, rate("44")).await;
    app.post("/api/call_rates", &globex_admin, rate("33")).await;

    let seen = entries(&app, &acme_admin, "").await;
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|e| e["tenant_id"] == acme.as_str()),
        "an administrator sees only its own tenant's entries"
    );
    let foreign = app
        .get(&format!("/api/audit_log?tenant_id={globex}"), &acme_admin)
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let refused = app.get("/api/audit_log", &acme_user).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "FORBIDDEN");

    let all = entries(&app, &root, "").await;
    assert!(all.iter().any(|e| e["tenant_id"] == acme.as_str()));
    assert!(all.iter().any(|e| e["tenant_id"] == globex.as_str()));
    let one = entries(&app, &root, &format!("tenant_id={globex}")).await;
    assert!(!one.is_empty());
    assert!(one.iter().all(|e| e["tenant_id"] == globex.as_str()));
    let newest = app
        .get("/api/audit_log?orderby=id%20desc&top=1", &root)
        .await;
    assert_eq!(newest.status, StatusCode::OK);
    assert_eq!(newest.body["count"].as_u64(), Some(all.len() as u64));
    assert_eq!(newest.body["items"][0], all[all.len() - 1]);
    let bad = app
        .get("/api/audit_log?filter=password%20eq%20%27x%27", &root)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn the_log_cannot_be_rewritten(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    app.tenant(&root, "acme.example.com").await;
    let pool = app.db.db.pool();
    assert!(
        sqlx::query("UPDATE audit_log SET actor_name = 'nobody'")
            .execute(pool)
            .await
            .is_err(),
        "an update was taken"
    );
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .is_err(),
        "a delete was taken"
    );
    assert!(!entries(&app, &root, "").await.is_empty());
}

async fn a_rerating_is_one_entry_with_counts(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    let rate_id = id_of(&app.post("/api/call_rates", &admin, rate("1")).await);
    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    let posted = app
        .post(
            "/api/cdrs",
            &admin,
            json!([{"call_id": "a1", "caller": "101", "callee": "+15551234567",
                    "direction": "OUTBOUND_CALL", "started_at": "2026-11-22T10:00:00Z",
                    "duration": 71, "status_code": 200}]),
        )
        .await;
    assert_eq!(posted.body["rated"], 1, "{}", posted.text);
    let none = entries(&app, &admin, "filter=entity%20eq%20%27CDRS%27").await;
    assert!(none.is_empty(), "calls are not in the audit log");
    let same = app.post("/api/cdrs/rerate", &admin, json!({})).await;
    assert_eq!(same.body["rerated"], 0, "{}", same.text);
    app.post(
        &format!("/api/call_rates/{rate_id}"),
        &admin,
        json!({"connect_fee": 0}),
    )
    .await;
    let rerated = app.post("/api/cdrs/rerate", &admin, json!({})).await;
    assert_eq!(rerated.body["rerated"], 1, "{}", rerated.text);
    let entry = only(
        entries(&app, &admin, "filter=entity%20eq%20%27CDRS%27").await,
        "one entry for the run that changed something",
    );
    assert_eq!(entry["action"], "RERATE");
    assert_eq!(entry["changes"]["rerated"], json!({"after": 1}));
    assert_eq!(entry["changes"]["delta"]["after"], rerated.body["delta"]);
    assert_eq!(entry["changes"]["delta"], json!({"after": -0.11}));
}

on_both_databases!(
    a_rerating_is_one_entry_with_counts,
    rest_changes_are_audited_once_with_before_and_after,
    refused_changes_leave_no_entry,
    failed_logins_are_listed_without_the_password,
    each_surface_names_itself,
    only_administrators_read_their_own_tenants_log,
    the_log_cannot_be_rewritten,
);
