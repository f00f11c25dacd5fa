//! Deck imports with a preview: a dry run that writes nothing, merge and
//! replace commits, a refused file, over the REST API and the portal's route.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use billing::Backend;
use common::{rate, Answer, TestApp};
use serde_json::{json, Value};

const HEADER: &str = "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description";
const DOMAIN: &str = "acme.example.com";

/// The tenant's rates as (prefix, price_1), by prefix.
async fn prices(app: &TestApp, token: &str) -> Vec<(String, Value)> {
    let list = app.get("/api/call_rates?orderby=prefix", token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| {
            (
                r["prefix"].as_str().unwrap_or("").to_string(),
                r["price_1"].clone(),
            )
        })
        .collect()
}

/// A tenant with the rates 1, 33 and 44 (as [`rate`] makes them); answers
/// its admin's and its user's tokens.
async fn tenant_with_rates(app: &TestApp) -> (String, String) {
    let root = app.admin().await;
    let (_, admin, user) = app.tenant(&root, DOMAIN).await;
    for prefix in ["1", "33", "44"] {
        let created = app.post("/api/call_rates", &admin, rate(prefix)).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    }
    (admin, user)
}

/// 44 with a new price, 33 as it is, 49 new (lines 2, 3, 4).
fn deck() -> String {
    format!(
        "{HEADER}\n44,INTERNATIONAL,10,5,60,6,0.1,0.1,0.08,0.03,test rate\n\
         33,INTERNATIONAL,10,5,60,6,0.1,0.1,0.06,0.03,test rate\n\
         49,MOBILE,0,0,60,60,0,0,0.2,0.2,Germany mobile\n"
    )
}

async fn import(app: &TestApp, token: &str, query: &str, csv: String) -> Answer {
    app.raw(
        "POST",
        &format!("/api/call_rates/import{query}"),
        token,
        "text/csv",
        csv,
    )
    .await
}

async fn a_dry_run_previews_and_writes_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (admin, _) = tenant_with_rates(&app).await;
    let before = app.get("/api/call_rates/export", &admin).await.text;

    let preview = import(&app, &admin, "?dry_run=true", deck()).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let p = &preview.body;
    assert_eq!(
        (&p["mode"], &p["dry_run"], &p["imported"]),
        (&json!("merge"), &json!(true), &json!(3))
    );
    assert_eq!(
        (&p["new"], &p["changed"], &p["unchanged"], &p["removed"]),
        (&json!(1), &json!(1), &json!(1), &json!(0))
    );
    assert_eq!(
        p["preview"]["new"],
        json!([{"line": 4, "prefix": "49", "price_1": 0.2, "price_n": 0.2, "description": "Germany mobile"}])
    );
    assert_eq!(
        p["preview"]["changed"],
        json!([{"line": 2, "prefix": "44", "changes": [{"field": "price_1", "old": "0.06", "new": "0.08"}]}])
    );
    assert_eq!(p["preview"]["unchanged"][0]["prefix"], "33");
    assert_eq!(p["preview"]["removed"], json!([]));

    // Replace mode would also remove the rate the file does not name.
    let preview = import(&app, &admin, "?dry_run=true&mode=replace", deck()).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(preview.body["mode"], "replace");
    assert_eq!(preview.body["removed"], 1);
    assert_eq!(preview.body["preview"]["removed"][0]["prefix"], "1");
    assert!(preview.body["preview"]["removed"][0].get("line").is_none());

    // Neither dry run wrote anything, nor logged an import.
    assert_eq!(app.get("/api/call_rates/export", &admin).await.text, before);
    let log = app
        .get("/api/audit_log?filter=action%20eq%20%27IMPORT%27", &admin)
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert_eq!(log.body["count"], 0, "{}", log.text);
}

async fn merge_and_replace_commit(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (admin, user) = tenant_with_rates(&app).await;

    // Merge (the default) answers the v22 shape.
    let merged = import(&app, &admin, "?mode=merge&dry_run=false", deck()).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text);
    assert_eq!(merged.body, json!({"imported": 3}));
    assert_eq!(
        prices(&app, &admin).await,
        [
            ("1".to_string(), json!(0.06)),
            ("33".into(), json!(0.06)),
            ("44".into(), json!(0.08)),
            ("49".into(), json!(0.2)),
        ]
    );
    // The same file again changes nothing.
    let again = import(&app, &admin, "?dry_run=true", deck()).await;
    assert_eq!(
        (
            &again.body["new"],
            &again.body["changed"],
            &again.body["unchanged"]
        ),
        (&json!(0), &json!(0), &json!(3))
    );

    // Replace keeps only the file's rates, in the same import.
    let small = format!("{HEADER}\n44,INTERNATIONAL,10,5,60,6,0.1,0.1,0.09,0.03,test rate\n");
    let replaced = import(&app, &admin, "?mode=replace", small.clone()).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.body, json!({"imported": 1}));
    assert_eq!(
        prices(&app, &admin).await,
        [("44".to_string(), json!(0.09))]
    );
    let log = app
        .get("/api/audit_log?filter=action%20eq%20%27IMPORT%27", &admin)
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert_eq!(log.body["count"], 2, "{}", log.text);

    // Only a tenant administrator imports, dry runs included.
    let by_user = import(&app, &user, "?dry_run=true", small).await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN, "{}", by_user.text);
}

async fn a_bad_line_refuses_the_file(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (admin, _) = tenant_with_rates(&app).await;
    let before = app.get("/api/call_rates/export", &admin).await.text;
    let bad = format!(
        "{HEADER}\n44,INTERNATIONAL,10,5,60,6,0.1,0.1,0.08,0.03,ok\n\
         50,LOCAL,0,0,0,60,0,0,0.1,0.1,bad interval\n"
    );
    for query in [
        "?dry_run=true",
        "?mode=replace",
        "?dry_run=true&mode=replace",
    ] {
        let refused = import(&app, &admin, query, bad.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            refused.body["errors"],
            json!([{
                "code": "VALIDATE_FAILED",
                "message": "line 3: interval_1 must be at least 1",
                "detail": "line 3: interval_1 must be at least 1",
                "field": "interval_1",
                "line": 3
            }]),
            "{query}"
        );
    }
    assert_eq!(
        app.get("/api/call_rates/export", &admin).await.text,
        before,
        "nothing was written or removed"
    );

    for (query, field) in [
        ("?dry_run=yes", "dry_run"),
        ("?mode=wipe", "mode"),
        ("?mode=REPLACE", "mode"),
    ] {
        let refused = import(&app, &admin, query, deck()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(refused.fields(), [field], "{query}: {}", refused.text);
    }
}

async fn portal_import(app: &TestApp, cookie: Option<&str>, query: &str, csv: String) -> Answer {
    let mut request = Request::builder()
        .method("POST")
        .uri(format!("/portal/import/call_rates{query}"))
        .header(header::CONTENT_TYPE, "text/csv");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.send(request.body(Body::from(csv)).expect("request"))
        .await
}

async fn the_portal_previews_and_commits_with_its_session(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (admin, _) = tenant_with_rates(&app).await;
    let boss = common::portal::session(&app, "boss", DOMAIN).await;

    let preview = portal_import(&app, Some(&boss), "?dry_run=true&mode=replace", deck()).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(
        (
            &preview.body["dry_run"],
            &preview.body["new"],
            &preview.body["removed"]
        ),
        (&json!(true), &json!(1), &json!(1))
    );
    assert_eq!(
        prices(&app, &admin).await.len(),
        3,
        "a dry run writes nothing"
    );

    // The commit answers its counts too.
    let done = portal_import(&app, Some(&boss), "?dry_run=false&mode=replace", deck()).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(
        (
            &done.body["dry_run"],
            &done.body["imported"],
            &done.body["new"],
            &done.body["changed"],
            &done.body["unchanged"],
            &done.body["removed"]
        ),
        (
            &json!(false),
            &json!(3),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(1)
        )
    );
    let left: Vec<String> = prices(&app, &admin)
        .await
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(left, ["33", "44", "49"]);

    // A bad line is named in the REST error format.
    let bad = format!("{HEADER}\n7,CITY,0,0,60,60,0,0,0.1,0.1,\n");
    let refused = portal_import(&app, Some(&boss), "?dry_run=true", bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["errors"][0]["line"], 2);
    assert_eq!(refused.body["errors"][0]["field"], "type");

    // Without a session, or as a standard user, nothing is read.
    let anonymous = portal_import(&app, None, "?dry_run=true", deck()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let clerk = common::portal::session(&app, "101", DOMAIN).await;
    let by_user = portal_import(&app, Some(&clerk), "?dry_run=true", deck()).await;
    assert_eq!(by_user.status, StatusCode::FORBIDDEN, "{}", by_user.text);
    let wrong = portal_import(&app, Some(&boss), "?mode=all", deck()).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.fields(), ["mode"]);
}

on_both_databases!(
    a_dry_run_previews_and_writes_nothing,
    merge_and_replace_commit,
    a_bad_line_refuses_the_file,
    the_portal_previews_and_commits_with_its_session,
);
