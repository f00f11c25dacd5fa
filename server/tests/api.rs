//! The REST API as an integrator uses it, on SQLite and on PostgreSQL.

mod common;

use axum::http::StatusCode;
use billing::Backend;
use common::{rate, TestApp, ADMIN_PASSWORD};
use serde_json::{json, Value};

async fn login_answers_tokens_and_status(backend: Backend) {
    let app = TestApp::new(backend).await;
    let answer = app
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "admin", "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = &answer.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["role"], "SystemAdmin");
    assert_eq!(body["expires_in"], 1800);
    assert_eq!(body["access_token"].as_str().map(str::len), Some(64));
    assert!(body["expires_at"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z')));
    let token = body["access_token"].as_str().expect("token").to_string();
    let refresh = body["refresh_token"].as_str().expect("refresh").to_string();

    let status = app.get("/api/login", &token).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body["role"], "SystemAdmin");
    assert_eq!(status.body["access_token"], token.as_str());

    let wrong = app
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "admin", "password": "nope"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "UNAUTHORIZED");
    let missing = app
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "admin"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.fields(), ["password"]);

    let renewed = app
        .call(
            "POST",
            "/api/login/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK);
    let new_token = renewed.body["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(
        app.get("/api/login", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "the old login ended"
    );
    let again = app
        .call(
            "POST",
            "/api/login/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "a refresh token works once"
    );

    let out = app
        .call("POST", "/api/logout", Some(&new_token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/login", &new_token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn requests_without_a_valid_token_are_refused(backend: Backend) {
    let app = TestApp::new(backend).await;
    let none = app.call("GET", "/api/call_rates", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "UNAUTHORIZED");
    assert_eq!(none.headers["www-authenticate"], "Bearer");
    let bad = app.get("/api/call_rates", &"0".repeat(64)).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let unknown = app.get("/api/no_such_thing", "x").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "NOT_FOUND");
}

async fn api_tokens_are_shown_once_and_can_be_revoked(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let created = app
        .post("/api/tokens", &root, json!({"name": "pbx-1"}))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let secret = created.body["token"].as_str().expect("secret").to_string();
    let id = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        app.get("/api/tenants", &secret).await.status,
        StatusCode::OK
    );
    let listed = app.get("/api/tokens", &root).await;
    assert_eq!(listed.body["count"], 1);
    assert_eq!(listed.body["items"][0]["name"], "pbx-1");
    assert!(
        listed.body["items"][0].get("token").is_none(),
        "the secret is not listed"
    );
    assert!(!listed.text.contains(&secret));
    let revoked = app
        .call(
            "POST",
            &format!("/api/tokens/{id}/destroy"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/tenants", &secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    let nameless = app.post("/api/tokens", &root, json!({})).await;
    assert_eq!(nameless.fields(), ["name"]);
}

async fn tenants_and_users_are_kept_apart(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (acme, acme_admin, acme_user) = app.tenant(&root, "acme.example.com").await;
    let (globex, globex_admin, _) = app.tenant(&root, "globex.example.com").await;

    let tenants = app.get("/api/tenants", &root).await;
    assert_eq!(tenants.body["count"], 2);
    assert_eq!(tenants.body["items"][0]["currency"], "USD");
    let dup = app
        .post(
            "/api/tenants",
            &root,
            json!({"name": "x", "sip_domain": "ACME.example.com"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert_eq!(dup.fields(), ["sip_domain"]);
    let bad_currency = app
        .post(
            "/api/tenants",
            &root,
            json!({"name": "x", "sip_domain": "x.example.com", "currency": "XYZ"}),
        )
        .await;
    assert_eq!(bad_currency.fields(), ["currency"]);

    // A tenant admin sees its own tenant only and may not create tenants.
    assert_eq!(
        app.get(&format!("/api/tenants/{acme}"), &acme_admin)
            .await
            .status,
        StatusCode::OK
    );
    let foreign = app
        .get(&format!("/api/tenants/{globex}"), &acme_admin)
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.code(), "NOT_FOUND");
    let create = app
        .post(
            "/api/tenants",
            &acme_admin,
            json!({"name": "y", "sip_domain": "y.example.com"}),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert_eq!(create.code(), "FORBIDDEN");

    // Users: each admin creates and sees its own tenant's users only.
    let made = app
        .post(
            "/api/users",
            &acme_admin,
            json!({"username": "102", "password": "password-123"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let user_id = made.body["id"].as_str().expect("id").to_string();
    let listed = app.get("/api/users", &acme_admin).await;
    assert_eq!(listed.body["count"], 3);
    assert!(listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|u| u["tenant_id"] == acme.as_str()));
    assert_eq!(
        app.get(&format!("/api/users/{user_id}"), &globex_admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let into_other = app
        .post(
            "/api/users",
            &acme_admin,
            json!({"username": "x1", "password": "password-123", "tenant_id": globex}),
        )
        .await;
    assert_eq!(into_other.status, StatusCode::NOT_FOUND);
    let by_user = app
        .post(
            "/api/users",
            &acme_user,
            json!({"username": "x2", "password": "password-123"}),
        )
        .await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN);
    let reserved = app
        .post(
            "/api/users",
            &acme_admin,
            json!({"username": "Admin", "password": "password-123"}),
        )
        .await;
    assert_eq!(reserved.fields(), ["username"]);
    let duplicate = app
        .post(
            "/api/users",
            &acme_admin,
            json!({"username": "102", "password": "password-123"}),
        )
        .await;
    assert_eq!(duplicate.fields(), ["username"]);
    let weak = app
        .post(
            "/api/users",
            &acme_admin,
            json!({"username": "103", "password": "short", "role": "Boss"}),
        )
        .await;
    let mut fields = weak.fields();
    fields.sort();
    assert_eq!(fields, ["password", "role"]);
}

async fn billing_settings_follow_the_document(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let got = app.get("/api/tenant/billing", &admin).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(
        got.body,
        json!({"enabled": false, "account": "TENANT", "type": "OFFLINE"})
    );

    let set = app
        .post("/api/tenant/billing", &admin, json!({"type": "ONLINE"}))
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let got = app.get("/api/tenant/billing", &admin).await;
    assert_eq!(
        got.body,
        json!({"enabled": false, "account": "TENANT", "type": "ONLINE"})
    );
    let set = app
        .post(
            "/api/tenant/billing",
            &admin,
            json!({"enabled": true, "account": "USER"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let got = app.get("/api/tenant/billing", &user).await;
    assert_eq!(
        got.body,
        json!({"enabled": true, "account": "USER", "type": "ONLINE"})
    );

    let bad = app
        .post(
            "/api/tenant/billing",
            &admin,
            json!({"account": "COMPANY", "enabled": 1}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "VALIDATE_FAILED");
    assert_eq!(bad.fields(), ["enabled", "account"]);
    let by_user = app
        .post("/api/tenant/billing", &user, json!({"enabled": false}))
        .await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/tenant/billing", &admin).await.body["enabled"],
        true
    );

    // A system administrator names the tenant it acts on.
    let unnamed = app.get("/api/tenant/billing", &root).await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
    assert_eq!(unnamed.fields(), ["tenant_id"]);
    let named = app
        .get(&format!("/api/tenant/billing?tenant_id={tenant}"), &root)
        .await;
    assert_eq!(named.body["account"], "USER");
}

async fn call_rates_round_trip_exactly(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, user) = app.tenant(&root, "acme.example.com").await;

    let mut body = rate("4420");
    body["price_1"] = json!(0.1);
    body["price_n"] = json!(0.12345);
    let created = app.post("/api/call_rates", &admin, body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let id = created.body["id"].as_str().expect("id").to_string();
    assert!(
        model::ApiId::decode(&id).is_some(),
        "ids are base64 of a decimal id"
    );

    let got = app.get(&format!("/api/call_rates/{id}"), &admin).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.text.contains("\"price_1\":0.1,"), "{}", got.text);
    assert!(got.text.contains("\"price_n\":0.12345"), "{}", got.text);
    assert_eq!(got.body["type"], "INTERNATIONAL");
    assert_eq!(got.body["interval_1"], 60);
    assert_eq!(got.body["description"], "test rate");

    let updated = app
        .post(
            &format!("/api/call_rates/{id}"),
            &admin,
            json!({"price_1": 0.07, "description": "London"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let got = app.get(&format!("/api/call_rates/{id}"), &user).await;
    assert!(got.text.contains("\"price_1\":0.07,"));
    assert_eq!(got.body["description"], "London");
    assert_eq!(got.body["prefix"], "4420", "fields not named stay");

    let by_user = app
        .post(
            &format!("/api/call_rates/{id}"),
            &user,
            json!({"price_1": 0}),
        )
        .await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN);
    let destroyed = app
        .call(
            "POST",
            &format!("/api/call_rates/{id}/destroy"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(destroyed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/call_rates/{id}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let again = app
        .call(
            "POST",
            &format!("/api/call_rates/{id}/destroy"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn call_rates_are_validated_field_by_field(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;

    let mut body = rate("");
    body["interval_1"] = json!(0);
    body["price_n"] = json!(0.123456);
    body["connect_fee"] = json!(-1);
    body["type"] = json!("PREMIUM");
    body["description"] = json!("d".repeat(1025));
    body.as_object_mut().expect("object").remove("grace_period");
    let answer = app.post("/api/call_rates", &admin, body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .all(|e| e["code"] == "VALIDATE_FAILED"));
    let mut fields = answer.fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "connect_fee",
            "description",
            "grace_period",
            "interval_1",
            "prefix",
            "price_n",
            "type"
        ]
    );

    assert_eq!(
        app.post("/api/call_rates", &admin, rate("44")).await.status,
        StatusCode::OK
    );
    let duplicate = app.post("/api/call_rates", &admin, rate("+44")).await;
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);
    assert_eq!(duplicate.fields(), ["prefix"]);

    let malformed = app
        .raw(
            "POST",
            "/api/call_rates",
            &admin,
            "application/json",
            "{\"prefix\": ",
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.code(), "VALIDATE_FAILED");
    let not_object = app
        .raw("POST", "/api/call_rates", &admin, "application/json", "[1]")
        .await;
    assert_eq!(not_object.code(), "VALIDATE_FAILED");
    let bad_id = app.get("/api/call_rates/not-an-id", &admin).await;
    assert_eq!(bad_id.status, StatusCode::NOT_FOUND);
}

async fn a_tenant_never_reaches_another_tenants_rates(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, acme, _) = app.tenant(&root, "acme.example.com").await;
    let (globex_id, globex, _) = app.tenant(&root, "globex.example.com").await;
    let created = app.post("/api/call_rates", &globex, rate("1")).await;
    let id = created.body["id"].as_str().expect("id").to_string();

    assert_eq!(
        app.get(&format!("/api/call_rates/{id}"), &acme)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let update = app
        .post(
            &format!("/api/call_rates/{id}"),
            &acme,
            json!({"price_1": 9}),
        )
        .await;
    assert_eq!(update.status, StatusCode::NOT_FOUND);
    let destroy = app
        .call(
            "POST",
            &format!("/api/call_rates/{id}/destroy"),
            Some(&acme),
            None,
        )
        .await;
    assert_eq!(destroy.status, StatusCode::NOT_FOUND);
    let listed = app
        .get(&format!("/api/call_rates?tenant_id={globex_id}"), &acme)
        .await;
    assert_eq!(
        listed.status,
        StatusCode::NOT_FOUND,
        "naming another tenant is not a way in"
    );
    assert_eq!(app.get("/api/call_rates", &acme).await.body["count"], 0);
    let still = app.get(&format!("/api/call_rates/{id}"), &globex).await;
    assert_eq!(still.body["price_1"], json!(0.06));
}

async fn call_rates_list_filters_sorts_and_pages(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    for (i, (prefix, kind, price, description)) in [
        ("1", "NATIONAL", 0.01, "USA"),
        ("44", "INTERNATIONAL", 0.02, "UK"),
        ("447", "MOBILE", 0.10, "UK mobile"),
        ("33", "INTERNATIONAL", 0.03, "France 100%"),
        ("49", "INTERNATIONAL", 0.04, "Germany_land"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = rate(prefix);
        body["type"] = json!(kind);
        body["price_1"] = json!(price);
        body["description"] = json!(description);
        body["interval_1"] = json!(i + 1);
        assert_eq!(
            app.post("/api/call_rates", &admin, body).await.status,
            StatusCode::OK
        );
    }
    let list = |query: &str| {
        let path = format!("/api/call_rates{query}");
        let admin = admin.clone();
        let app = &app;
        async move { app.get(&path, &admin).await }
    };
    let prefixes = |a: &common::Answer| -> Vec<String> {
        a.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|r| r["prefix"].as_str().expect("prefix").to_string())
            .collect()
    };

    let all = list("").await;
    assert_eq!(all.body["count"], 5);
    assert_eq!(prefixes(&all), ["1", "44", "447", "33", "49"]);

    let page = list("?orderby=prefix%20desc&skip=1&top=2").await;
    assert_eq!(
        page.body["count"], 5,
        "count is of all matches, not of the page"
    );
    assert_eq!(prefixes(&page), ["447", "44"]);

    let filtered =
        list("?filter=type%20eq%20'INTERNATIONAL'%20and%20price_1%20ge%200.03&orderby=price_1")
            .await;
    assert_eq!(prefixes(&filtered), ["33", "49"]);
    assert_eq!(filtered.body["count"], 2);

    let func = list("?filter=startswith(prefix,'44')%20or%20interval_1%20eq%201").await;
    assert_eq!(prefixes(&func), ["1", "44", "447"]);

    let search = list("?search=uk").await;
    assert_eq!(prefixes(&search), ["44", "447"]);
    let percent = list("?search=100%25").await;
    assert_eq!(prefixes(&percent), ["33"], "% is taken literally");
    let underscore = list("?search=y_l").await;
    assert_eq!(prefixes(&underscore), ["49"]);
    let no_wildcard = list("?search=_").await;
    assert_eq!(
        prefixes(&no_wildcard),
        ["49"],
        "_ matches only an underscore"
    );

    // Page by page by cursor: every rate once, in order, both ways.
    let first = list("?orderby=price_1%20desc&top=2").await;
    assert_eq!(first.body["count"], 5);
    assert_eq!(first.body.get("previous_cursor"), None, "the first page");
    let mut walked = prefixes(&first);
    let mut cursor = first.body["cursor"].as_str().expect("a cursor").to_string();
    let last = loop {
        let page = list(&format!("?orderby=price_1%20desc&top=2&cursor={cursor}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.body["count"], 5, "count is of all matches");
        walked.extend(prefixes(&page));
        match page.body["cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break page,
        }
    };
    assert_eq!(walked, ["447", "49", "33", "44", "1"]);
    let back = last.body["previous_cursor"]
        .as_str()
        .expect("a previous cursor");
    let before = list(&format!("?orderby=price_1%20desc&top=2&cursor={back}")).await;
    assert_eq!(prefixes(&before), ["33", "44"]);
    // A cursor of another order, altered or made up is refused.
    for query in [
        format!("?orderby=price_1&cursor={cursor}"),
        format!("?orderby=price_1%20desc&cursor={cursor}A"),
        "?cursor=bm9wZQ".to_string(),
        "?cursor=%00".to_string(),
    ] {
        let bad = list(&query).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(bad.code(), "VALIDATE_FAILED", "{query}");
        assert_eq!(bad.fields(), ["cursor"], "{query}");
        assert!(bad.body["errors"][0]["message"].is_string());
        assert!(bad.body["errors"][0]["detail"].is_string());
    }

    for (query, parameter) in [
        ("?top=0", "top"),
        ("?top=101", "top"),
        ("?skip=-1", "skip"),
        ("?skip=", "skip"),
        ("?top=", "top"),
        ("?filter=nope%20eq%201", "filter"),
        ("?filter=prefix%20eq", "filter"),
        ("?filter=type%20eq%20'CITY'", "filter"),
        ("?orderby=secret", "orderby"),
    ] {
        let bad = list(query).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(bad.code(), "VALIDATE_FAILED", "{query}");
        assert_eq!(bad.fields(), [parameter], "{query}");
    }
}

const HEADER: &str = "id,prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description";

async fn call_rates_export_and_import_round_trip(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, acme, user) = app.tenant(&root, "acme.example.com").await;
    let (_, globex, _) = app.tenant(&root, "globex.example.com").await;
    let mut body = rate("44");
    body["description"] = json!("UK, \"all\" networks");
    app.post("/api/call_rates", &acme, body).await;
    app.post("/api/call_rates", &acme, rate("1")).await;

    let export = app.get("/api/call_rates/export", &acme).await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(
        export.headers["content-disposition"],
        "attachment; filename=\"call_rates.csv\""
    );
    let lines: Vec<&str> = export.text.lines().collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1]
            .contains(",44,INTERNATIONAL,10,5,60,6,0.1,0.1,0.06,0.03,\"UK, \"\"all\"\" networks\""),
        "{}",
        lines[1]
    );

    // The export imports as it is into another tenant.
    let imported = app
        .raw(
            "POST",
            "/api/call_rates/import",
            &globex,
            "text/csv",
            export.text.clone(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(imported.body["imported"], 2);
    let again = app.get("/api/call_rates/export", &globex).await;
    let strip_ids = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| {
                l.split_once(',')
                    .map(|(_, rest)| rest.to_string())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(strip_ids(&again.text), strip_ids(&export.text));

    // Importing changes rates whose prefix exists and adds the others, as a multipart upload too.
    let csv = format!(
        "{HEADER}\n,44,MOBILE,0,0,30,6,0,0,0.5,0.5,changed\n,33,LOCAL,0,0,60,60,0,0,0.02,0.02,\n"
    );
    let boundary = "XyZ";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rates.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let imported = app
        .raw(
            "POST",
            "/api/call_rates/import",
            &acme,
            &format!("multipart/form-data; boundary={boundary}"),
            multipart,
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(imported.body["imported"], 2);
    let list = app.get("/api/call_rates?orderby=prefix", &acme).await;
    assert_eq!(list.body["count"], 3);
    assert_eq!(list.body["items"][2]["prefix"], "44");
    assert_eq!(list.body["items"][2]["type"], "MOBILE");
    assert_eq!(list.body["items"][2]["price_1"], json!(0.5));

    // A bad file is refused whole, every bad line named.
    let bad = format!("{HEADER}\n,7,LOCAL,0,0,60,60,0,0,0.1,0.1,ok\n,8,CITY,0,0,0,60,0,0,0.1,0.1,\n,7,LOCAL,0,0,60,60,0,0,x,0.1,\n");
    let refused = app
        .raw("POST", "/api/call_rates/import", &acme, "text/csv", bad)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let named: Vec<(u64, String)> = refused.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["field"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            (3, "type".to_string()),
            (3, "interval_1".into()),
            (4, "prefix".into()),
            (4, "price_1".into())
        ]
    );
    assert_eq!(
        app.get("/api/call_rates", &acme).await.body["count"],
        3,
        "nothing was written"
    );

    let wrong_header = app
        .raw(
            "POST",
            "/api/call_rates/import",
            &acme,
            "text/csv",
            "prefix,price\n1,2\n",
        )
        .await;
    assert_eq!(wrong_header.status, StatusCode::BAD_REQUEST);
    let empty = app
        .raw("POST", "/api/call_rates/import", &acme, "text/csv", "")
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let by_user = app
        .raw(
            "POST",
            "/api/call_rates/import",
            &user,
            "text/csv",
            export.text,
        )
        .await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN);
}

async fn exported_rates_cannot_carry_a_formula(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, acme, _) = app.tenant(&root, "acme.example.com").await;
    let (_, globex, _) = app.tenant(&root, "globex.example.com").await;
    let mut body = rate("+4420");
    body["description"] = json!("=HYPERLINK(\"http://evil\",\"x\")");
    let created = app.post("/api/call_rates", &acme, body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let mut body = rate("33");
    body["description"] = json!("'quoted' @home");
    app.post("/api/call_rates", &acme, body).await;

    let export = app.get("/api/call_rates/export", &acme).await;
    assert_eq!(export.status, StatusCode::OK);
    let cells: Vec<String> = export
        .text
        .lines()
        .skip(1)
        .flat_map(|line| line.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    for cell in &cells {
        let cell = cell.trim_start_matches('"');
        assert!(
            !cell.starts_with(['=', '+', '@', '\t', '\r']),
            "a cell starts a formula: {cell:?} in {}",
            export.text
        );
    }
    assert!(export.text.contains(",'+4420,"), "{}", export.text);
    assert!(
        export
            .text
            .contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""),
        "{}",
        export.text
    );
    assert!(export.text.contains(",''quoted' @home"), "{}", export.text);

    // The export imports back to exactly the same deck.
    let imported = app
        .raw(
            "POST",
            "/api/call_rates/import",
            &globex,
            "text/csv",
            export.text.clone(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let list = app.get("/api/call_rates?orderby=prefix", &globex).await;
    let described: Vec<(Value, Value)> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| (r["prefix"].clone(), r["description"].clone()))
        .collect();
    assert_eq!(
        described,
        [
            (json!("+4420"), json!("=HYPERLINK(\"http://evil\",\"x\")")),
            (json!("33"), json!("'quoted' @home")),
        ]
    );
}

async fn quotes_follow_the_rating_definition(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, user) = app.tenant(&root, "acme.example.com").await;
    // docs/rating.md's worked example: connect 0.10, 0.06/min for 60 s, then
    // 0.03/min in 6 s blocks, 10 free seconds, grace 5, surcharge 10%.
    let created = app.post("/api/call_rates", &admin, rate("1")).await;
    let id = created.body["id"].as_str().expect("id").to_string();
    for (duration, amount) in [
        (json!(4), "0"),
        (json!(5), "0.176"),
        (json!(70), "0.176"),
        (json!(71), "0.1793"),
        (json!(70.2), "0.1793"),
        (json!(130), "0.209"),
        (json!(3600), "2.1197"),
    ] {
        let quote = app
            .post(
                "/api/rating/quote",
                &user,
                json!({"callee": "1234567890", "duration": duration}),
            )
            .await;
        assert_eq!(quote.status, StatusCode::OK, "{}", quote.text);
        assert_eq!(quote.body["amount"].to_string(), amount, "{duration}s");
        assert_eq!(quote.body["currency"], "USD");
        assert_eq!(quote.body["rate"]["id"], id.as_str());
    }
    let quote = app
        .post(
            "/api/rating/quote",
            &user,
            json!({"callee": "+1234567890", "duration": 71}),
        )
        .await;
    assert_eq!(quote.body["breakdown"]["blocks"], 1);
    assert_eq!(quote.body["breakdown"]["billable_seconds"], 66);
    assert_eq!(quote.body["breakdown"]["connect_fee"], "0.1");

    // The longest prefix wins, and a change of rates is seen at once.
    let mut longer = rate("12");
    longer["price_1"] = json!(0.6);
    app.post("/api/call_rates", &admin, longer).await;
    let quote = app
        .post(
            "/api/rating/quote",
            &user,
            json!({"callee": "1234567890", "duration": 60}),
        )
        .await;
    assert_eq!(quote.body["rate"]["prefix"], "12");
    assert_eq!(quote.body["amount"].to_string(), "0.77");
    app.post(
        &format!("/api/call_rates/{id}"),
        &admin,
        json!({"connect_fee": 0}),
    )
    .await;
    let quote = app
        .post(
            "/api/rating/quote",
            &user,
            json!({"callee": "1999", "duration": 60}),
        )
        .await;
    assert_eq!(quote.body["amount"].to_string(), "0.066");

    let none = app
        .post(
            "/api/rating/quote",
            &user,
            json!({"callee": "999", "duration": 60}),
        )
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(none.code(), "NO_RATE");
    let bad = app
        .post(
            "/api/rating/quote",
            &user,
            json!({"callee": "", "duration": -1, "at": "yesterday"}),
        )
        .await;
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["at", "callee", "duration"]);
}

async fn balances_recharge_exactly_and_keep_a_ledger(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;

    // The operator recharges the tenant; the tenant cannot recharge itself.
    let path = format!("/api/tenant/balance?tenant_id={tenant}");
    assert_eq!(
        app.post(&path, &root, json!({"balance": 10.5}))
            .await
            .status,
        StatusCode::OK
    );
    let own = app
        .post("/api/tenant/balance", &admin, json!({"balance": 1}))
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    let got = app.get("/api/tenant/balance", &admin).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.text, r#"{"balance":10.5,"credit_limit":0}"#);
    for bad in [
        json!({"balance": 0}),
        json!({"balance": -1}),
        json!({"balance": 0.123456}),
        json!({}),
    ] {
        let refused = app.post(&path, &root, bad.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(refused.fields(), ["balance"], "{bad}");
    }

    // The tenant's administrator tops up a user, in exact decimals.
    let user_id = app.user_id(&admin, "101").await;
    let user_path = format!("/api/users/{user_id}/balance");
    for _ in 0..3 {
        let done = app.post(&user_path, &admin, json!({"balance": 0.1})).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    }
    let mine = app.get("/api/user/balance", &user).await;
    assert_eq!(mine.text, r#"{"balance":0.3,"credit_limit":0}"#);
    assert_eq!(
        app.post(&user_path, &user, json!({"balance": 5}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&user_path, &other_admin).await.status,
        StatusCode::NOT_FOUND
    );
    let limit = app
        .post(
            &format!("/api/users/{user_id}/credit_limit"),
            &admin,
            json!({"credit_limit": 2.5}),
        )
        .await;
    assert_eq!(limit.status, StatusCode::OK);
    assert_eq!(
        app.get(&user_path, &admin).await.body["credit_limit"],
        json!(2.5)
    );

    // The ledger sums to the balances; a user sees only its own account.
    let ledger = app.get("/api/balance_transactions", &admin).await;
    assert_eq!(ledger.body["count"], 4);
    let items = ledger.body["items"].as_array().expect("items");
    assert_eq!(items[0]["user_id"], json!(null));
    assert_eq!(items[0]["kind"], "RECHARGE");
    assert_eq!(items[3]["balance_after"], json!(0.3));
    let user_rows = app.get("/api/balance_transactions", &user).await;
    assert_eq!(user_rows.body["count"], 3);
    assert!(user_rows.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|t| t["user_id"] == user_id.as_str()));
    let filtered = app
        .get(
            "/api/balance_transactions?filter=user_id%20eq%20null&orderby=id%20desc",
            &admin,
        )
        .await;
    assert_eq!(filtered.body["count"], 1);
    assert_eq!(filtered.body["items"][0]["amount"], json!(10.5));
    assert_eq!(
        app.get("/api/balance_transactions", &other_admin)
            .await
            .body["count"],
        0
    );
}

fn cdr(
    call_id: &str,
    direction: &str,
    caller: &str,
    callee: &str,
    duration: i64,
) -> serde_json::Value {
    json!({
        "call_id": call_id, "caller": caller, "callee": callee, "direction": direction,
        "started_at": "2024-05-01T10:00:00Z", "answered_at": "2024-05-01T10:00:05Z",
        "ended_at": "2024-05-01T10:05:00Z", "duration": duration, "status_code": 200,
        "end_reason": "CALLER_DISCONNECTED", "trunk": "carrier-a"
    })
}

async fn cdrs_are_kept_rated_and_charged_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;
    app.post("/api/call_rates", &admin, rate("1")).await;

    // With billing off, a call is kept but not charged.
    let off = app
        .post(
            "/api/cdrs",
            &admin,
            cdr("c0", "OUTBOUND_CALL", "101", "1555", 71),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert_eq!(
        off.body,
        json!({"accepted": 1, "duplicates": 0, "rated": 0, "unrated": 1})
    );

    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    app.post(
        &format!("/api/tenant/balance?tenant_id={tenant}"),
        &root,
        json!({"balance": 10}),
    )
    .await;
    let batch = json!([
        cdr("c1", "OUTBOUND_CALL", "101", "+1234567", 71),
        cdr("c2", "EXTENSION_CALL", "101", "102", 300),
        cdr("c3", "OUTBOUND_CALL", "101", "999", 60),
    ]);
    let taken = app.post("/api/cdrs", &admin, batch.clone()).await;
    assert_eq!(
        taken.body,
        json!({"accepted": 3, "duplicates": 0, "rated": 1, "unrated": 1})
    );
    let balance = app.get("/api/tenant/balance", &admin).await;
    assert_eq!(
        balance.body["balance"],
        json!(9.8207),
        "10 - 0.1793 (docs/rating.md, 71 s)"
    );

    // Posting the same calls again changes nothing.
    let again = app.post("/api/cdrs", &admin, json!({"cdrs": batch})).await;
    assert_eq!(
        again.body,
        json!({"accepted": 0, "duplicates": 3, "rated": 0, "unrated": 0})
    );
    assert_eq!(
        app.get("/api/tenant/balance", &admin).await.body["balance"],
        json!(9.8207)
    );

    // A batch with one bad entry is refused whole, the entry named.
    let bad = app
        .post(
            "/api/cdrs",
            &admin,
            json!([
                cdr("c4", "OUTBOUND_CALL", "101", "1", 5),
                cdr("c5", "SIDEWAYS", "101", "1", -3)
            ]),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["cdrs[1].direction", "cdrs[1].duration"]);

    let list = app.get("/api/cdrs?orderby=call_id", &admin).await;
    assert_eq!(
        list.body["count"], 4,
        "nothing of the refused batch was stored"
    );
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items[0]["rating_status"], "UNRATED");
    assert_eq!(
        items[0]["unrated_reason"],
        "billing is disabled for the tenant"
    );
    assert_eq!(items[1]["cost"], json!(0.1793));
    assert_eq!(items[1]["billed_account"], "TENANT");
    assert_eq!(items[2]["rating_status"], "FREE");
    assert_eq!(items[3]["unrated_reason"], "no rate matches 999");
    let id = items[1]["id"].as_str().expect("id").to_string();
    let one = app.get(&format!("/api/cdrs/{id}"), &admin).await;
    assert_eq!(one.body["items"]["call_id"], "c1");
    assert_eq!(one.body["items"]["cost"], json!(0.1793));
    assert_eq!(
        app.get(&format!("/api/cdrs/{id}"), &other_admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let ledger = app
        .get(
            "/api/balance_transactions?filter=kind%20eq%20'CALL_CHARGE'",
            &admin,
        )
        .await;
    assert_eq!(ledger.body["count"], 1);
    assert_eq!(ledger.body["items"][0]["amount"], json!(-0.1793));
    assert_eq!(ledger.body["items"][0]["call_id"], "c1");

    // Billed to the user's own account; a user sees only its own calls.
    app.post("/api/tenant/billing", &admin, json!({"account": "USER"}))
        .await;
    app.post(
        "/api/cdrs",
        &admin,
        cdr("u1", "OUTBOUND_CALL", "101", "1999", 5),
    )
    .await;
    let nobody = app
        .post(
            "/api/cdrs",
            &admin,
            cdr("u2", "OUTBOUND_CALL", "555", "1999", 5),
        )
        .await;
    assert_eq!(nobody.body["unrated"], 1);
    assert_eq!(
        app.get("/api/user/balance", &user).await.body["balance"],
        json!(-0.176)
    );
    let own = app.get("/api/user/cdrs", &user).await;
    assert_eq!(own.body["count"], 5, "the calls 101 made");
    assert!(
        own.body["items"][0].get("cost").is_none(),
        "the v22 user list has no cost"
    );
    assert_eq!(
        app.get(&format!("/api/user/cdrs/{id}"), &user).await.body["items"]["call_id"],
        "c1"
    );
    let others = app
        .get("/api/cdrs?filter=call_id%20eq%20'u2'", &admin)
        .await;
    let other_id = others.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        app.get(&format!("/api/user/cdrs/{other_id}"), &user)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/api/cdrs", &user, cdr("x", "OUTBOUND_CALL", "101", "1", 5))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

on_both_databases!(
    cdrs_are_kept_rated_and_charged_once,
    balances_recharge_exactly_and_keep_a_ledger,
    quotes_follow_the_rating_definition,
    login_answers_tokens_and_status,
    requests_without_a_valid_token_are_refused,
    api_tokens_are_shown_once_and_can_be_revoked,
    tenants_and_users_are_kept_apart,
    billing_settings_follow_the_document,
    call_rates_round_trip_exactly,
    call_rates_are_validated_field_by_field,
    a_tenant_never_reaches_another_tenants_rates,
    call_rates_list_filters_sorts_and_pages,
    call_rates_export_and_import_round_trip,
    exported_rates_cannot_carry_a_formula,
);
