//! Tariffs, their rates and billing plans through the REST API, and how they
//! choose what a call costs, on SQLite and on PostgreSQL.

mod common;

use axum::http::StatusCode;
use billing::Backend;
use common::{rate, TestApp};
use serde_json::json;

async fn tariffs_are_managed_per_tenant(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;

    let listed = app.get("/api/tariffs", &admin).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(
        listed.body["count"], 1,
        "a tenant starts with its default tariff"
    );
    assert_eq!(listed.body["items"][0]["is_default"], true);
    assert_eq!(listed.body["items"][0]["currency"], "USD");
    let default_id = listed.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();

    let created = app
        .post(
            "/api/tariffs",
            &admin,
            json!({"name": "Premium", "currency": "eur", "connect_fee": 0.12345, "grace_period": 7}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(created.body["currency"], "EUR");
    assert_eq!(created.body["connect_fee"].to_string(), "0.12345");
    assert_eq!(created.body["is_default"], false);
    let id = created.body["id"].as_str().expect("id").to_string();

    let bad = app
        .post(
            "/api/tariffs",
            &admin,
            json!({"name": "Premium", "currency": "EUX", "free_seconds": -1}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["currency", "free_seconds"]);
    let twice = app
        .post("/api/tariffs", &admin, json!({"name": "Premium"}))
        .await;
    assert_eq!(twice.fields(), ["name"], "names are unique in a tenant");
    let nameless = app.post("/api/tariffs", &admin, json!({})).await;
    assert_eq!(nameless.fields(), ["name"]);

    let found = app
        .get("/api/tariffs?filter=currency%20eq%20'EUR'&top=10", &admin)
        .await;
    assert_eq!(found.body["count"], 1);
    assert_eq!(found.body["items"][0]["name"], "Premium");
    let searched = app
        .get("/api/tariffs?search=prem&orderby=name", &admin)
        .await;
    assert_eq!(searched.body["count"], 1);

    let updated = app
        .post(
            &format!("/api/tariffs/{id}"),
            &admin,
            json!({"name": "Gold", "currency": "USD"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["name"], "Gold");
    assert_eq!(updated.body["grace_period"], 7, "unnamed fields are kept");
    assert_eq!(
        app.get(&format!("/api/tariffs/{id}"), &admin).await.body["name"],
        "Gold"
    );

    // Another tenant sees none of it, whatever id it sends.
    assert_eq!(
        app.get(&format!("/api/tariffs/{id}"), &other_admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let foreign = app
        .post(
            &format!("/api/tariffs/{id}"),
            &other_admin,
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let foreign_rate = app
        .post(
            &format!("/api/tariffs/{id}/rates"),
            &other_admin,
            rate("44"),
        )
        .await;
    assert_eq!(foreign_rate.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/tariffs", &other_admin).await.body["count"], 1);
    // A standard user reads but does not write.
    assert_eq!(app.get("/api/tariffs", &user).await.status, StatusCode::OK);
    assert_eq!(
        app.post("/api/tariffs", &user, json!({"name": "Mine"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // The default tariff and a tariff in use are not deleted.
    let default_gone = app
        .call(
            "POST",
            &format!("/api/tariffs/{default_id}/destroy"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(default_gone.status, StatusCode::CONFLICT);
    assert_eq!(default_gone.code(), "DEFAULT_TARIFF");
    let plan = app
        .post(
            "/api/billing_plans",
            &admin,
            json!({"prefix": "44", "tariff_id": id}),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    let plan_id = plan.body["id"].as_str().expect("id").to_string();
    let in_use = app
        .call(
            "POST",
            &format!("/api/tariffs/{id}/destroy"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert_eq!(in_use.code(), "TARIFF_IN_USE");
    assert!(in_use.body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("44")));
    let plan_gone = app
        .call(
            "POST",
            &format!("/api/billing_plans/{plan_id}/destroy"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(plan_gone.status, StatusCode::NO_CONTENT);
    let gone = app
        .call(
            "POST",
            &format!("/api/tariffs/{id}/destroy"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/tariffs/{id}"), &admin).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn rates_of_any_tariff_share_the_v22_rules(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    let default_id = app.get("/api/tariffs", &admin).await.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let tariff = app
        .post(
            "/api/tariffs",
            &admin,
            json!({"name": "Wholesale", "free_seconds": 3, "connect_fee": 0.2, "grace_period": 4}),
        )
        .await;
    let tariff_id = tariff.body["id"].as_str().expect("id").to_string();
    let rates = format!("/api/tariffs/{tariff_id}/rates");

    let created = app
        .post(
            &rates,
            &admin,
            json!({
                "prefix": "4420", "interval_1": 60, "interval_n": 6, "price_1": 0.06,
                "price_n": 0.03, "direction": "OUTGOING", "forbidden": false,
                "grace_period_enable": true,
                "activation_at": "2024-01-01T00:00:00Z", "expiration_at": "2030-01-01T00:00:00Z"
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let body = &created.body;
    assert_eq!(body["direction"], "OUTGOING");
    assert_eq!(body["tariff_id"], tariff_id.as_str());
    assert_eq!(body["activation_at"], "2024-01-01T00:00:00Z");
    assert_eq!(body["expiration_at"], "2030-01-01T00:00:00Z");
    assert_eq!(body["free_seconds"], 3, "the tariff's value applies");
    assert_eq!(
        body["grace_period"], 4,
        "enabled: the tariff's grace period"
    );
    assert_eq!(body["connect_fee"].to_string(), "0.2");
    assert_eq!(body["type"], "LOCAL");
    let rate_id = body["id"].as_str().expect("id").to_string();

    // The same checks as v22, every bad field named.
    let bad = app
        .post(
            &rates,
            &admin,
            json!({"prefix": "44 20", "interval_1": 0, "price_1": 0.123456, "direction": "UP"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["direction", "interval_1", "prefix", "price_1"]);
    let backwards = app
        .post(
            &rates,
            &admin,
            json!({"prefix": "1", "interval_1": 1, "interval_n": 1, "price_1": 0, "price_n": 0,
                   "activation_at": "2030-01-01T00:00:00Z", "expiration_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(backwards.fields(), ["expiration_at"]);

    // Tariff-wide values reach rates that set none, at once.
    app.post(
        &format!("/api/tariffs/{tariff_id}"),
        &admin,
        json!({"connect_fee": 0.3}),
    )
    .await;
    let got = app.get(&format!("{rates}/{rate_id}"), &admin).await;
    assert_eq!(got.body["connect_fee"].to_string(), "0.3");

    let changed = app
        .post(
            &format!("{rates}/{rate_id}"),
            &admin,
            json!({"forbidden": true, "expiration_at": null, "direction": "NONE"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["forbidden"], true);
    assert_eq!(changed.body["expiration_at"], json!(null));
    assert_eq!(changed.body["price_1"].to_string(), "0.06");

    let listed = app
        .get(&format!("{rates}?filter=forbidden%20eq%20true"), &admin)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["count"], 1);

    // The tariff's rates are not the v22 call rates; the default tariff's are.
    assert_eq!(app.get("/api/call_rates", &admin).await.body["count"], 0);
    assert_eq!(
        app.get(&format!("/api/call_rates/{rate_id}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let v22 = app.post("/api/call_rates", &admin, rate("33")).await;
    let v22_id = v22.body["id"].as_str().expect("id").to_string();
    let seen = app
        .get(&format!("/api/tariffs/{default_id}/rates/{v22_id}"), &admin)
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.body["direction"], "NONE");
    assert_eq!(seen.body["forbidden"], false);
    let edited = app
        .post(
            &format!("/api/tariffs/{default_id}/rates/{v22_id}"),
            &admin,
            json!({"price_1": 0.5}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/call_rates/{v22_id}"), &admin)
            .await
            .body["price_1"]
            .to_string(),
        "0.5"
    );
    // A rate is reached through its own tariff only.
    assert_eq!(
        app.get(&format!("{rates}/{v22_id}"), &admin).await.status,
        StatusCode::NOT_FOUND
    );

    let removed = app
        .call(
            "POST",
            &format!("{rates}/{rate_id}/destroy"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&rates, &admin).await.body["count"], 0);
}

async fn billing_plans_choose_the_tariff_of_a_call(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    app.post("/api/call_rates", &admin, rate("44")).await;
    let premium = app
        .post("/api/tariffs", &admin, json!({"name": "Premium"}))
        .await;
    let premium_id = premium.body["id"].as_str().expect("id").to_string();
    let mut dear = rate("44");
    dear["price_1"] = json!(0.5);
    let dear = app
        .post(&format!("/api/tariffs/{premium_id}/rates"), &admin, dear)
        .await;
    assert_eq!(dear.status, StatusCode::OK, "{}", dear.text);
    let dear_id = dear.body["id"].as_str().expect("id").to_string();
    let euro = app
        .post(
            "/api/tariffs",
            &admin,
            json!({"name": "Euro", "currency": "EUR"}),
        )
        .await;
    let euro_id = euro.body["id"].as_str().expect("id").to_string();
    app.post(
        &format!("/api/tariffs/{euro_id}/rates"),
        &admin,
        rate("4477"),
    )
    .await;

    let quote = |callee: &'static str| {
        let app = &app;
        let user = user.clone();
        async move {
            app.post(
                "/api/rating/quote",
                &user,
                json!({"callee": callee, "duration": 60}),
            )
            .await
        }
    };
    let before = quote("442012").await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(
        before.body["amount"].to_string(),
        "0.176",
        "the default tariff"
    );

    let plan = app
        .post(
            "/api/billing_plans",
            &admin,
            json!({"prefix": "+4420", "tariff_id": premium_id, "round_up": true,
                   "billing_cycle": 1, "billing_day": 5, "description": "London"}),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    assert_eq!(plan.body["currency"], "USD", "the tariff's currency");
    assert_eq!(plan.body["prepaid"], true);
    assert_eq!(plan.body["billing_cycle"], 1);
    let by_plan = quote("442012").await;
    assert_eq!(by_plan.body["rate"]["id"], dear_id.as_str());
    assert_eq!(by_plan.body["breakdown"]["rounding"], "UP");
    assert_eq!(by_plan.body["amount"].to_string(), "0.66");
    let outside = quote("4430").await;
    assert_eq!(outside.body["amount"].to_string(), "0.176");
    assert_eq!(outside.body["breakdown"]["rounding"], "HALF_AWAY_FROM_ZERO");

    // A longer plan prefix wins; a tariff in another currency is not charged.
    let euro_plan = app
        .post(
            "/api/billing_plans",
            &admin,
            json!({"prefix": "4477", "tariff_id": euro_id}),
        )
        .await;
    assert_eq!(euro_plan.status, StatusCode::OK, "{}", euro_plan.text);
    assert_eq!(euro_plan.body["currency"], "EUR");
    let mismatch = quote("447712").await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(mismatch.code(), "CURRENCY_MISMATCH");

    app.post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    app.post(
        &format!("/api/tenant/balance?tenant_id={tenant}"),
        &root,
        json!({"balance": 10}),
    )
    .await;
    let cdr = |call_id: &str, callee: &str| {
        json!({
            "call_id": call_id, "caller": "101", "callee": callee, "direction": "OUTBOUND_CALL",
            "started_at": "2024-05-01T10:00:00Z", "ended_at": "2024-05-01T10:01:00Z",
            "duration": 60, "status_code": 200
        })
    };
    let taken = app
        .post(
            "/api/cdrs",
            &admin,
            json!([cdr("a", "442012"), cdr("b", "447712"), cdr("c", "4430")]),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    assert_eq!(
        taken.body,
        json!({"accepted": 3, "duplicates": 0, "rated": 2, "unrated": 1})
    );
    let list = app.get("/api/cdrs?orderby=call_id", &admin).await;
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items[0]["cost"].to_string(), "0.66");
    assert_eq!(items[1]["rating_status"], "UNRATED");
    assert!(items[1]["unrated_reason"]
        .as_str()
        .is_some_and(|r| r.contains("EUR") && r.contains("USD")));
    assert_eq!(items[2]["cost"].to_string(), "0.176");
    assert_eq!(
        app.get("/api/tenant/balance", &admin).await.body["balance"],
        json!(9.164)
    );

    // Plans are listed, changed and checked like everything else.
    let plans = app.get("/api/billing_plans?orderby=prefix", &admin).await;
    assert_eq!(plans.body["count"], 2);
    assert_eq!(plans.body["items"][0]["prefix"], "+4420");
    let plan_id = plans.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let moved = app
        .post(
            &format!("/api/billing_plans/{plan_id}"),
            &admin,
            json!({"round_up": false, "billing_cycle": 3, "billing_day": 28}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(
        quote("442012").await.body["breakdown"]["rounding"],
        "HALF_AWAY_FROM_ZERO"
    );
    let bad = app
        .post(
            "/api/billing_plans",
            &admin,
            json!({"prefix": "4420", "tariff_id": premium_id, "billing_cycle": 4, "currency": "ABC"}),
        )
        .await;
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["billing_cycle", "currency"]);
    let taken_prefix = app
        .post(
            "/api/billing_plans",
            &admin,
            json!({"prefix": "4420", "tariff_id": premium_id}),
        )
        .await;
    assert_eq!(taken_prefix.fields(), ["prefix"]);
    let weekly_day = app
        .post(
            "/api/billing_plans",
            &admin,
            json!({"prefix": "49", "tariff_id": premium_id, "billing_cycle": 2, "billing_day": 9}),
        )
        .await;
    assert_eq!(weekly_day.fields(), ["billing_day"]);
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;
    let foreign_tariff = app
        .post(
            "/api/billing_plans",
            &other_admin,
            json!({"prefix": "1", "tariff_id": premium_id}),
        )
        .await;
    assert_eq!(foreign_tariff.fields(), ["tariff_id"]);
    assert_eq!(
        app.get(&format!("/api/billing_plans/{plan_id}"), &other_admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// An XML-RPC call as the tenant's administrator: the fault, if any.
async fn xmlrpc_fault(
    app: &TestApp,
    method: &str,
    members: Vec<(&str, server::xmlrpc::codec::XValue)>,
) -> Option<(i64, String)> {
    use base64::Engine;
    use server::xmlrpc::codec::{self, XValue};
    let members = members
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let basic =
        base64::engine::general_purpose::STANDARD.encode("boss@acme.example.com:password-123");
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/xmlapi")
        .header("Content-Type", "text/xml")
        .header("Authorization", format!("Basic {basic}"))
        .body(axum::body::Body::from(codec::call(
            method,
            &[XValue::Struct(members)],
        )))
        .expect("request");
    let answer = app.send(request).await;
    match codec::parse_response(answer.text.as_bytes()) {
        Ok(Ok(_)) => None,
        Ok(Err(fault)) => Some(fault),
        Err(e) => panic!("not an XML-RPC answer: {e:?} {}", answer.text),
    }
}

/// A rate meant in another currency than its tariff's is refused by the one
/// rule every surface goes through: REST, the older tariff API, XML-RPC.
async fn a_rate_in_another_currency_than_its_tariff_is_refused_everywhere(backend: Backend) {
    use server::xmlrpc::codec::XValue;
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, boss, _) = app.tenant(&root, "acme.example.com").await;
    let euro = app
        .post(
            "/api/tariffs",
            &boss,
            json!({"name": "Euro", "currency": "EUR"}),
        )
        .await;
    assert_eq!(euro.status, StatusCode::OK, "{}", euro.text);
    let euro_id = euro.body["id"].as_str().expect("id").to_string();
    let body = |currency: &str| {
        json!({"prefix": "44", "interval_1": 60, "interval_n": 6, "price_1": 0.06,
               "price_n": 0.03, "currency": currency})
    };

    // REST
    let path = format!("/api/tariffs/{euro_id}/rates");
    let refused = app.post(&path, &boss, body("USD")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.code(), "VALIDATE_FAILED");
    assert_eq!(refused.fields(), ["currency"]);
    let created = app.post(&path, &boss, body("eur")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let rate_id = created.body["id"].as_str().expect("id").to_string();
    let changed = app
        .post(
            &format!("{path}/{rate_id}"),
            &boss,
            json!({"currency": "GBP"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::BAD_REQUEST, "{}", changed.text);
    assert_eq!(changed.fields(), ["currency"]);

    // The older tariff API: its rates are the default tariff's, in USD.
    let mut legacy = json!({
        "type": "OUTGOING", "interval1": 60, "grace_period": 5, "call_prefix": "49",
        "intervaln": 6, "price1": 0.06, "free_seconds": 10, "connect_fee": 0.1,
        "pricen": 0.03, "postcall_surcharge": 0.1, "currency": "EUR"
    });
    let refused = app.post("/api/tariff/create", &boss, legacy.clone()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.fields(), ["currency"]);
    legacy["currency"] = json!("USD");
    let created = app.post("/api/tariff/create", &boss, legacy).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);

    // XML-RPC, with its own fault text.
    let euro_int = model::ApiId::decode(&euro_id).expect("an id");
    let rate = |currency: &str| {
        vec![
            ("i_tariff", XValue::Int(euro_int)),
            ("prefix", XValue::Str("33".into())),
            ("interval_1", XValue::Int(60)),
            ("interval_n", XValue::Int(6)),
            ("price_1", XValue::Double("0.06".into())),
            ("price_n", XValue::Double("0.03".into())),
            ("iso_4217", XValue::Str(currency.into())),
        ]
    };
    let fault = xmlrpc_fault(&app, "addTariffRate", rate("USD")).await;
    assert_eq!(
        fault,
        Some((
            server::xmlrpc::INVALID_PARAMS,
            format!("iso_4217 USD is not the currency of tariff {euro_int} (EUR)")
        ))
    );
    assert_eq!(xmlrpc_fault(&app, "addTariffRate", rate("EUR")).await, None);

    // Nothing refused was written.
    let rates = app.get(&path, &boss).await;
    assert_eq!(rates.body["count"], 2, "{}", rates.text);
    let defaults = app.get("/api/call_rates", &boss).await;
    assert_eq!(defaults.body["count"], 1, "{}", defaults.text);
}

on_both_databases!(
    a_rate_in_another_currency_than_its_tariff_is_refused_everywhere,
    tariffs_are_managed_per_tenant,
    rates_of_any_tariff_share_the_v22_rules,
    billing_plans_choose_the_tariff_of_a_call,
);
