//! Low-balance alerts and webhooks, on SQLite and on PostgreSQL: an alert
//! once per crossing (re-armed when the funds rise again) with its
//! `balance.low` delivery; deliveries received by a server on 127.0.0.1 in
//! the test and checked by their signature; retries with backoff, then
//! given up; queued rows delivered by a new worker after a restart, leases
//! that keep two workers from posting one row twice; `call.rated` and
//! `deck.imported`; the endpoints' rights and validation.

mod common;

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use billing::webhooks::RetryPolicy;
use billing::{Backend, Db};
use common::TestApp;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use server::webhooks::{Worker, WorkerConfig};
use sha2::Sha256;

/// One request the receiver took.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Script {
    received: Arc<Mutex<Vec<Received>>>,
    /// The statuses to answer, in order; 200 once they are used up.
    answers: Arc<Mutex<VecDeque<u16>>>,
}

async fn hook(
    State(script): State<Script>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let status = script
        .answers
        .lock()
        .expect("answers")
        .pop_front()
        .unwrap_or(200);
    script
        .received
        .lock()
        .expect("received")
        .push(Received { headers, body });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, format!("answered {}", status.as_u16()))
}

/// An HTTP server on 127.0.0.1 that takes webhooks at `/hook`.
struct Receiver {
    url: String,
    script: Script,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Receiver {
        let script = Script::default();
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{address}/hook"),
            script,
            task,
        }
    }

    fn answer(&self, statuses: &[u16]) {
        self.script
            .answers
            .lock()
            .expect("answers")
            .extend(statuses.iter().copied());
    }

    fn received(&self) -> Vec<Received> {
        self.script.received.lock().expect("received").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Checks a delivery's `Ratedeck-Signature` as a receiver would, with its
/// own HMAC: `v1` is HMAC-SHA256(secret, "<t>.<body>"), `t` recent.
fn verify(received: &Received, secret: &str) -> Value {
    let header = received
        .headers
        .get("ratedeck-signature")
        .and_then(|v| v.to_str().ok())
        .expect("a signature header");
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_string()),
            Some(("v1", value)) => v1 = Some(value.to_string()),
            _ => {}
        }
    }
    let (t, v1) = (t.expect("t="), v1.expect("v1="));
    let at: i64 = t.parse().expect("t is unix seconds");
    let now = billing::db::now_ms() / 1000;
    assert!((now - at).abs() < 300, "the signature's time is now");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(received.body.as_bytes());
    let expected = hex::decode(&v1).expect("v1 is hex");
    mac.verify_slice(&expected)
        .expect("the signature is the endpoint's HMAC of t.body");
    // Another secret does not verify.
    let mut other = Hmac::<Sha256>::new_from_slice(b"whsec_other").expect("key");
    other.update(format!("{t}.").as_bytes());
    other.update(received.body.as_bytes());
    assert!(other.verify_slice(&expected).is_err());
    assert_eq!(
        received
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    serde_json::from_str(&received.body).expect("a JSON body")
}

/// A worker that posts to 127.0.0.1 (the receivers of these tests).
fn worker(db: &Db, retry: RetryPolicy) -> Worker {
    Worker::new(
        db.clone(),
        WorkerConfig {
            private_targets: true,
            timeout: Duration::from_secs(5),
            retry,
            ..WorkerConfig::default()
        },
    )
    .expect("worker")
}

/// A rate for 7…: 6 a minute, by the minute, nothing else.
fn pricey_rate() -> Value {
    json!({
        "prefix": "7", "type": "INTERNATIONAL", "free_seconds": 0, "grace_period": 0,
        "interval_1": 60, "interval_n": 60, "connect_fee": 0, "postcall_surcharge": 0,
        "price_1": 6, "price_n": 6, "description": "six a minute"
    })
}

fn call(id: &str, seconds: i64) -> Value {
    json!({
        "call_id": id, "caller": "101", "callee": "7100200", "direction": "OUTBOUND_CALL",
        "started_at": "2026-03-02T10:00:00Z", "answered_at": "2026-03-02T10:00:00Z",
        "duration": seconds, "status_code": 200
    })
}

/// A tenant billing its own account offline at six a minute: (tenant id,
/// admin token, user token).
async fn billing_tenant(app: &TestApp, root: &str, domain: &str) -> (String, String, String) {
    let (tenant, admin, user) = app.tenant(root, domain).await;
    let rate = app.post("/api/call_rates", &admin, pricey_rate()).await;
    assert_eq!(rate.status, StatusCode::OK, "{}", rate.text);
    let on = app
        .post("/api/tenant/billing", &admin, json!({"enabled": true}))
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    (tenant, admin, user)
}

async fn register(app: &TestApp, admin: &str, url: &str, events: &[&str]) -> (String, String) {
    let made = app
        .post(
            "/api/webhooks",
            admin,
            json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    assert!(made.body["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("whsec_") && s.len() == 70));
    (
        made.body["id"].as_str().expect("id").to_string(),
        made.body["secret"].as_str().expect("secret").to_string(),
    )
}

async fn post_calls(app: &TestApp, admin: &str, calls: Value) {
    let posted = app.post("/api/cdrs", admin, calls).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
}

async fn recharge_tenant(app: &TestApp, root: &str, tenant: &str, amount: i64) {
    let done = app
        .post(
            &format!("/api/tenant/balance?tenant_id={tenant}"),
            root,
            json!({"balance": amount}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
}

async fn deliveries(app: &TestApp, admin: &str, filter: &str) -> Value {
    let log = app
        .get(
            &format!("/api/webhooks/deliveries?orderby=id&{filter}"),
            admin,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    log.body
}

async fn an_alert_is_raised_once_per_crossing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = billing_tenant(&app, &root, "acme.example.com").await;
    let receiver = Receiver::start().await;
    let (_, secret) = register(&app, &admin, &receiver.url, &["balance.low"]).await;

    // The operator sets the tenant's threshold, as it sets its credit limit.
    let path = format!("/api/tenant/low_balance?tenant_id={tenant}");
    let refused = app
        .post("/api/tenant/low_balance", &admin, json!({"threshold": 10}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let bad = app.post(&path, &root, json!({"threshold": -1})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.fields(), ["threshold"]);
    let missing = app.post(&path, &root, json!({})).await;
    assert_eq!(missing.fields(), ["threshold"]);
    recharge_tenant(&app, &root, &tenant, 15).await;
    let set = app.post(&path, &root, json!({"threshold": 10})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(
        set.body,
        json!({"threshold": 10, "available": 15, "below": false})
    );

    // 15 - 6 = 9: below, the alert. 9 - 6 = 3: still below, no other.
    post_calls(&app, &admin, json!([call("a", 60)])).await;
    post_calls(&app, &admin, json!([call("b", 60)])).await;
    let state = app.get("/api/tenant/low_balance", &admin).await;
    assert_eq!(state.body["below"], true, "{}", state.text);
    // A recharge to 23 re-arms it; 23 - 12 = 11 is above; 11 - 6 = 5 below again.
    recharge_tenant(&app, &root, &tenant, 20).await;
    assert_eq!(
        app.get("/api/tenant/low_balance", &admin).await.body["below"],
        false
    );
    post_calls(&app, &admin, json!([call("c", 120)])).await;
    post_calls(&app, &admin, json!([call("d", 60)])).await;

    let alerts = app.get("/api/alerts", &admin).await;
    assert_eq!(alerts.status, StatusCode::OK, "{}", alerts.text);
    assert_eq!(alerts.body["count"], 2, "{}", alerts.text);
    // Newest first.
    let items = alerts.body["items"].as_array().expect("items");
    assert_eq!(items[0]["available"], json!(5));
    assert_eq!(items[1]["available"], json!(9));
    assert_eq!(items[1]["threshold"], json!(10));
    assert_eq!(items[1]["user_id"], Value::Null);
    // A standard user sees no alert of the tenant's account.
    let own = app.get("/api/alerts", &user).await;
    assert_eq!(own.body["count"], 0, "{}", own.text);

    // Queued, not posted: the charges did not wait for any endpoint.
    assert!(receiver.received().is_empty());
    let queued = deliveries(&app, &admin, "").await;
    assert_eq!(queued["count"], 2, "{queued}");
    assert_eq!(queued["items"][0]["status"], "PENDING");

    let worker = worker(&app.db.db, RetryPolicy::default());
    assert_eq!(worker.run_once().await.expect("delivered"), 2);
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let first = verify(&received[0], &secret);
    let second = verify(&received[1], &secret);
    assert_eq!(first["type"], "balance.low");
    assert_eq!(first["tenant_id"], tenant.as_str());
    assert_eq!(first["data"]["account"], "TENANT");
    assert_eq!(first["data"]["available"], json!(9));
    assert_eq!(first["data"]["threshold"], json!(10));
    assert_eq!(first["data"]["currency"], "USD");
    assert_eq!(first["data"]["alert_id"], items[1]["id"]);
    assert_eq!(second["data"]["available"], json!(5));
    assert_ne!(first["id"], second["id"]);
    assert_eq!(
        received[0]
            .headers
            .get("ratedeck-event")
            .and_then(|v| v.to_str().ok()),
        Some("balance.low")
    );
    let log = deliveries(&app, &admin, "").await;
    for item in log["items"].as_array().expect("items") {
        assert_eq!(item["status"], "DELIVERED", "{item}");
        assert_eq!(item["attempts"], 1);
        assert_eq!(item["last_status"], 200);
        assert_eq!(item["last_answer"], "answered 200");
        assert_eq!(item["next_attempt_at"], Value::Null);
        assert!(item["delivered_at"].is_string());
    }
    // Nothing more is due.
    assert_eq!(worker.run_once().await.expect("nothing"), 0);
    assert_eq!(receiver.received().len(), 2);
}

async fn holds_and_settlements_cross_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, _) = billing_tenant(&app, &root, "acme.example.com").await;
    let online = app
        .post("/api/tenant/billing", &admin, json!({"type": "ONLINE"}))
        .await;
    assert_eq!(online.status, StatusCode::OK, "{}", online.text);
    recharge_tenant(&app, &root, &tenant, 15).await;
    let path = format!("/api/tenant/low_balance?tenant_id={tenant}");
    app.post(&path, &root, json!({"threshold": 10})).await;
    let count = |answer: common::Answer| answer.body["count"].clone();
    // The hold takes what two whole minutes cost, 12: funds at 3, the alert.
    let authorize = |id: &'static str| json!({"call_id": id, "caller": "101", "callee": "7100200"});
    let granted = app
        .post("/api/charging/authorize", &admin, authorize("h1"))
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    assert_eq!(count(app.get("/api/alerts", &admin).await), 1);
    // Settled for a minute: the hold is released, six taken; still below,
    // and no second alert for what happened inside one settlement.
    let ended = app
        .post(
            "/api/charging/h1/terminate",
            &admin,
            json!({"duration": 60}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    let state = app.get("/api/tenant/low_balance", &admin).await;
    assert_eq!(state.body["available"], json!(9), "{}", state.text);
    assert_eq!(state.body["below"], true);
    assert_eq!(count(app.get("/api/alerts", &admin).await), 1);
    // Its CDR settles nothing more.
    post_calls(&app, &admin, json!([call("h1", 60)])).await;
    assert_eq!(count(app.get("/api/alerts", &admin).await), 1);
    // Back above, then a hold that takes it below again: the second alert.
    recharge_tenant(&app, &root, &tenant, 10).await;
    assert_eq!(
        app.get("/api/tenant/low_balance", &admin).await.body["below"],
        false
    );
    let granted = app
        .post("/api/charging/authorize", &admin, authorize("h2"))
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    assert_eq!(count(app.get("/api/alerts", &admin).await), 2);
    // A call that lasted nothing gives it all back: re-armed.
    app.post("/api/charging/h2/terminate", &admin, json!({"duration": 0}))
        .await;
    assert_eq!(
        app.get("/api/tenant/low_balance", &admin).await.body["below"],
        false
    );
    assert_eq!(count(app.get("/api/alerts", &admin).await), 2);
}

async fn a_rerating_that_takes_the_funds_below_alerts(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, _) = billing_tenant(&app, &root, "acme.example.com").await;
    recharge_tenant(&app, &root, &tenant, 20).await;
    let path = format!("/api/tenant/low_balance?tenant_id={tenant}");
    app.post(&path, &root, json!({"threshold": 10})).await;
    post_calls(&app, &admin, json!([call("x1", 60), call("x2", 60)])).await;
    // Two minutes at 6 take 12: 8 left, below, one alert.
    let alerts = app.get("/api/alerts", &admin).await;
    assert_eq!(alerts.body["count"], 1, "{}", alerts.text);
    // Cheaper now: re-rated at 1 a minute, the funds are 18 again: re-armed.
    let rates = app
        .get("/api/call_rates?filter=prefix%20eq%20'7'", &admin)
        .await;
    let id = rates.body["items"][0]["id"]
        .as_str()
        .expect("rate")
        .to_string();
    let mut cheaper = pricey_rate();
    cheaper["price_1"] = json!(1);
    cheaper["price_n"] = json!(1);
    let changed = app
        .post(&format!("/api/call_rates/{id}"), &admin, cheaper)
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let rerated = app
        .post("/api/cdrs/rerate", &admin, json!({"prefix": "7"}))
        .await;
    assert_eq!(rerated.status, StatusCode::OK, "{}", rerated.text);
    assert_eq!(rerated.body["rerated"], 2, "{}", rerated.text);
    let state = app.get("/api/tenant/low_balance", &admin).await;
    assert_eq!(state.body["available"], json!(18), "{}", state.text);
    assert_eq!(state.body["below"], false);
    // Dearer again, at 6: back to 8, and the second alert.
    let changed = app
        .post(&format!("/api/call_rates/{id}"), &admin, pricey_rate())
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    app.post("/api/cdrs/rerate", &admin, json!({"prefix": "7"}))
        .await;
    let alerts = app.get("/api/alerts", &admin).await;
    assert_eq!(alerts.body["count"], 2, "{}", alerts.text);
    assert_eq!(alerts.body["items"][0]["available"], json!(8));
}

async fn a_users_threshold_is_its_administrators(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, user) = billing_tenant(&app, &root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;
    let settings = app
        .post("/api/tenant/billing", &admin, json!({"account": "USER"}))
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text);
    let id = app.user_id(&admin, "101").await;
    let path = format!("/api/users/{id}/low_balance");
    let refused = app.post(&path, &user, json!({"threshold": 1})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let foreign = app.post(&path, &other_admin, json!({"threshold": 1})).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
    let recharged = app
        .post(
            &format!("/api/users/{id}/balance"),
            &admin,
            json!({"balance": 5}),
        )
        .await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    // A threshold the funds are already below raises its alert at once.
    let set = app.post(&path, &admin, json!({"threshold": 8})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.body["below"], true);
    // The same threshold again changes nothing and raises nothing.
    app.post(&path, &admin, json!({"threshold": 8})).await;
    let mine = app.get("/api/user/low_balance", &user).await;
    assert_eq!(
        mine.body,
        json!({"threshold": 8, "available": 5, "below": true})
    );
    let alerts = app.get("/api/alerts", &user).await;
    assert_eq!(alerts.body["count"], 1, "{}", alerts.text);
    assert_eq!(alerts.body["items"][0]["username"], "101");
    assert_eq!(alerts.body["items"][0]["user_id"], id.as_str());
    // The credit limit lifts the funds to 5 + 4 = 9: re-armed.
    let limit = app
        .post(
            &format!("/api/users/{id}/credit_limit"),
            &admin,
            json!({"credit_limit": 4}),
        )
        .await;
    assert_eq!(limit.status, StatusCode::OK, "{}", limit.text);
    assert_eq!(
        app.get("/api/user/low_balance", &user).await.body["below"],
        false
    );
    // A call of 101 billed to its account takes them to 3: the second alert.
    post_calls(&app, &admin, json!([call("u1", 60)])).await;
    let alerts = app
        .get(&format!("/api/alerts?filter=user_id%20eq%20'{id}'"), &admin)
        .await;
    assert_eq!(alerts.body["count"], 2, "{}", alerts.text);
    // Removed: no alert, nothing below.
    let removed = app.post(&path, &admin, json!({"threshold": null})).await;
    assert_eq!(
        removed.body,
        json!({"threshold": null, "available": 3, "below": false})
    );
    post_calls(&app, &admin, json!([call("u2", 60)])).await;
    let alerts = app.get("/api/alerts", &user).await;
    assert_eq!(alerts.body["count"], 2, "{}", alerts.text);
    // Each threshold change is in the audit log.
    let audit = app
        .get("/api/audit_log?filter=entity%20eq%20'USER_ACCOUNT'", &admin)
        .await;
    let thresholds = audit.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["changes"].get("low_balance_threshold").is_some())
        .count();
    assert_eq!(thresholds, 2, "{}", audit.text);
}

async fn failed_deliveries_are_retried_then_given_up(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    let receiver = Receiver::start().await;
    let (endpoint, secret) = register(&app, &admin, &receiver.url, &["deck.imported"]).await;
    let deck = "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description\n\
                44,INTERNATIONAL,0,0,60,60,0,0,0.1,0.1,UK\n";
    let imported = app
        .raw("POST", "/api/call_rates/import", &admin, "text/csv", deck)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);

    let retry = RetryPolicy {
        first_retry: Duration::from_millis(200),
        max_retry: Duration::from_millis(400),
        give_up_after: Duration::from_secs(30),
    };
    let worker = worker(&app.db.db, retry);
    receiver.answer(&[500, 503]);
    assert_eq!(worker.run_once().await.expect("attempt"), 1);
    let log = deliveries(&app, &admin, "").await;
    let item = &log["items"][0];
    assert_eq!(item["status"], "PENDING", "{log}");
    assert_eq!(item["attempts"], 1);
    assert_eq!(item["last_status"], 500);
    assert_eq!(item["last_answer"], "answered 500");
    assert!(item["next_attempt_at"].is_string());
    // Not due again before its backoff.
    assert_eq!(worker.run_once().await.expect("none due"), 0);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(worker.run_once().await.expect("second attempt"), 1);
    // The backoff doubled: 400 ms now.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(worker.run_once().await.expect("not yet"), 0);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(worker.run_once().await.expect("third attempt"), 1);
    let log = deliveries(&app, &admin, "").await;
    let item = &log["items"][0];
    assert_eq!(item["status"], "DELIVERED", "{log}");
    assert_eq!(item["attempts"], 3);
    assert_eq!(item["last_status"], 200);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    // Each attempt is the same delivery, signed afresh.
    let ids: HashSet<_> = received
        .iter()
        .map(|r| r.headers.get("ratedeck-delivery").cloned())
        .collect();
    assert_eq!(ids.len(), 1);
    let body = verify(&received[2], &secret);
    assert_eq!(body["type"], "deck.imported");
    assert_eq!(body["data"]["added"], 1);
    assert_eq!(body["data"]["mode"], "merge");

    // An endpoint that never answers well is given up after the day (here
    // a second); one that is not there says so.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let address = listener.local_addr().expect("address");
        drop(listener);
        format!("http://{address}/hook")
    };
    let update = app
        .post(
            &format!("/api/webhooks/{endpoint}"),
            &admin,
            json!({"url": closed}),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK, "{}", update.text);
    let retry = RetryPolicy {
        first_retry: Duration::from_millis(100),
        max_retry: Duration::from_millis(100),
        give_up_after: Duration::from_millis(600),
    };
    let worker = self::worker(&app.db.db, retry);
    app.raw("POST", "/api/call_rates/import", &admin, "text/csv", deck)
        .await;
    let mut attempts = 0;
    for _ in 0..40 {
        attempts += worker.run_once().await.expect("attempt");
        let log = deliveries(&app, &admin, "filter=status%20eq%20'FAILED'").await;
        if log["count"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed = deliveries(&app, &admin, "filter=status%20eq%20'FAILED'").await;
    assert_eq!(failed["count"], 1, "{failed}");
    let item = &failed["items"][0];
    assert!(attempts >= 3, "{attempts} attempts");
    assert_eq!(item["attempts"], attempts);
    assert_eq!(item["last_status"], Value::Null);
    assert!(
        item["last_answer"]
            .as_str()
            .is_some_and(|a| a.starts_with("could not connect")),
        "{item}"
    );
    assert_eq!(item["url"], closed.as_str());
    assert_eq!(worker.run_once().await.expect("given up"), 0);
}

async fn queued_deliveries_survive_a_restart(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = billing_tenant(&app, &root, "acme.example.com").await;
    let receiver = Receiver::start().await;
    let (_, secret) = register(&app, &admin, &receiver.url, &["call.rated"]).await;
    post_calls(&app, &admin, json!([call("r1", 60), call("r2", 30)])).await;

    // The server stops before any worker ran: a new process, a new pool
    // on the same database, a new worker.
    app.db.db.close().await;
    let restarted = Db::connect(&app.db.url).await.expect("the database again");
    let first = worker(&restarted, RetryPolicy::default());
    assert_eq!(first.run_once().await.expect("delivered"), 2);
    let mut calls: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| verify(r, &secret))
        .collect();
    calls.sort_by_key(|c| c["data"]["call_id"].as_str().unwrap_or("").to_string());
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["type"], "call.rated");
    assert_eq!(calls[0]["data"]["call_id"], "r1");
    assert_eq!(calls[0]["data"]["cost"], json!(6));
    assert_eq!(calls[0]["data"]["rating_status"], "RATED");
    assert_eq!(calls[0]["data"]["rate_prefix"], "7");
    assert_eq!(calls[0]["data"]["billed_account"], "TENANT");
    assert_eq!(calls[1]["data"]["call_id"], "r2");

    // A worker that claimed a row and stopped before posting it holds it
    // until its lease ends; then another worker posts it, once.
    // Queue one more and let a worker that dies claim it.
    let fresh = TestAppOn::new(&restarted);
    fresh.post_calls(&admin, json!([call("r3", 60)])).await;
    let claimed = restarted
        .claim_webhook_deliveries(
            "gone",
            10,
            Duration::from_millis(800),
            billing::db::now_ms(),
        )
        .await
        .expect("claimed");
    assert_eq!(claimed.len(), 1);
    let second = worker(&restarted, RetryPolicy::default());
    assert_eq!(second.run_once().await.expect("leased"), 0);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(second.run_once().await.expect("lease over"), 1);
    assert_eq!(receiver.received().len(), 3);
    // The worker that lost its lease cannot record an attempt any more.
    let late = restarted
        .record_webhook_attempt(
            "gone",
            &claimed[0],
            &billing::webhooks::Attempt {
                at: billing::db::now_ms(),
                status: Some(500),
                answer: String::new(),
            },
            &RetryPolicy::default(),
        )
        .await
        .expect("recorded or not");
    assert!(!late);
    restarted.close().await;
}

/// The router of a restarted server, on a database handle of its own.
struct TestAppOn {
    router: Router,
}

impl TestAppOn {
    fn new(db: &Db) -> TestAppOn {
        let state = server::AppState {
            db: db.clone(),
            leptos_options: leptos::config::LeptosOptions::builder()
                .output_name("ratedeck")
                .build(),
        };
        TestAppOn {
            router: server::web::router(state, false),
        }
    }

    async fn post_calls(&self, token: &str, calls: Value) {
        use tower::ServiceExt;
        let request = axum::http::Request::builder()
            .method("POST")
            .uri("/api/cdrs")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(calls.to_string()))
            .expect("request");
        let answer = self.router.clone().oneshot(request).await.expect("answer");
        assert_eq!(answer.status(), StatusCode::OK);
    }
}

async fn two_workers_post_each_delivery_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = billing_tenant(&app, &root, "acme.example.com").await;
    let receiver = Receiver::start().await;
    register(&app, &admin, &receiver.url, &["call.rated"]).await;
    let calls: Vec<Value> = (0..120).map(|i| call(&format!("w{i}"), 60)).collect();
    post_calls(&app, &admin, Value::Array(calls)).await;

    // Two servers sharing the database, each its own pool and worker.
    let other = Db::connect(&app.db.url).await.expect("a second pool");
    let config = |db: &Db| {
        Worker::new(
            db.clone(),
            WorkerConfig {
                private_targets: true,
                batch: 10,
                ..WorkerConfig::default()
            },
        )
        .expect("worker")
    };
    let (a, b) = (config(&app.db.db), config(&other));
    let run = |w: Worker| async move {
        let mut total = 0;
        loop {
            let n = w.run_once().await.expect("delivered");
            if n == 0 {
                return total;
            }
            total += n;
        }
    };
    let (from_a, from_b) = tokio::join!(run(a), run(b));
    assert_eq!(from_a + from_b, 120);
    let received = receiver.received();
    assert_eq!(received.len(), 120);
    let deliveries: HashSet<_> = received
        .iter()
        .map(|r| r.headers.get("ratedeck-delivery").cloned())
        .collect();
    assert_eq!(deliveries.len(), 120, "no delivery posted twice");
    let log = self::deliveries(&app, &admin, "filter=status%20eq%20'DELIVERED'&top=1").await;
    assert_eq!(log["count"], 120);
    other.close().await;
}

async fn call_rated_is_queued_only_when_wanted(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = billing_tenant(&app, &root, "acme.example.com").await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = register(&app, &admin, &receiver.url, &["balance.low"]).await;
    post_calls(&app, &admin, json!([call("n1", 60), call("n2", 0)])).await;
    assert_eq!(deliveries(&app, &admin, "").await["count"], 0);
    // Wanted: every new call rated or free, not a duplicate, not an unrated one.
    let changed = app
        .post(
            &format!("/api/webhooks/{endpoint}"),
            &admin,
            json!({"events": ["call.rated", "balance.low"]}),
        )
        .await;
    assert_eq!(changed.body["events"], json!(["balance.low", "call.rated"]));
    let mut unrated = call("n4", 60);
    unrated["callee"] = json!("999");
    post_calls(
        &app,
        &admin,
        json!([call("n1", 60), call("n3", 60), unrated]),
    )
    .await;
    let log = deliveries(&app, &admin, "").await;
    assert_eq!(log["count"], 1, "{log}");
    assert_eq!(log["items"][0]["event"], "call.rated");
    assert_eq!(log["items"][0]["payload"]["data"]["call_id"], "n3");
    // A disabled endpoint is queued nothing, and what waited is given up.
    let off = app
        .post(
            &format!("/api/webhooks/{endpoint}"),
            &admin,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(off.body["enabled"], false, "{}", off.text);
    post_calls(&app, &admin, json!([call("n5", 60)])).await;
    let log = deliveries(&app, &admin, "").await;
    assert_eq!(log["count"], 1, "{log}");
    assert_eq!(log["items"][0]["status"], "FAILED");
    assert_eq!(
        log["items"][0]["last_answer"],
        "not sent: the endpoint was disabled"
    );
}

async fn endpoints_are_the_tenant_administrators(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (_, other_admin, _) = app.tenant(&root, "globex.example.com").await;
    let body = json!({"url": "https://hooks.example.com/r", "events": ["balance.low"], "description": "ops"});
    let refused = app.post("/api/webhooks", &user, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(
        app.get("/api/webhooks", &user).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/webhooks/deliveries", &user).await.status,
        StatusCode::FORBIDDEN
    );
    for (bad, field) in [
        (json!({"events": ["balance.low"]}), "url"),
        (
            json!({"url": "ftp://x.example", "events": ["balance.low"]}),
            "url",
        ),
        (json!({"url": "https://x.example"}), "events"),
        (
            json!({"url": "https://x.example", "events": ["balance.high"]}),
            "events",
        ),
        (
            json!({"url": "https://x.example", "events": "balance.low"}),
            "events",
        ),
        (
            json!({"url": "https://x.example", "events": ["balance.low"], "enabled": 1}),
            "enabled",
        ),
    ] {
        let answer = app.post("/api/webhooks", &admin, bad.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            answer.text
        );
        assert_eq!(answer.code(), "VALIDATE_FAILED");
        assert_eq!(answer.fields(), [field], "{bad}");
    }
    let made = app.post("/api/webhooks", &admin, body).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let id = made.body["id"].as_str().expect("id").to_string();
    let secret = made.body["secret"].as_str().expect("secret").to_string();
    assert_eq!(made.body["enabled"], true);
    assert_eq!(made.body["description"], "ops");
    // The operator names the tenant; another tenant sees none of it.
    let listed = app
        .get(&format!("/api/webhooks?tenant_id={tenant}"), &root)
        .await;
    assert_eq!(listed.body["count"], 1, "{}", listed.text);
    assert_eq!(listed.body["items"][0]["secret"], secret.as_str());
    assert_eq!(listed.body["items"][0]["events"], json!(["balance.low"]));
    assert_eq!(
        app.get("/api/webhooks", &other_admin).await.body["count"],
        0
    );
    for path in [
        format!("/api/webhooks/{id}"),
        format!("/api/webhooks/{id}/secret"),
        format!("/api/webhooks/{id}/destroy"),
    ] {
        let answer = app.post(&path, &other_admin, json!({})).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            answer.text
        );
    }
    // A new secret.
    let rotated = app
        .post(&format!("/api/webhooks/{id}/secret"), &admin, json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_ne!(rotated.body["secret"], secret.as_str());
    let got = app.get(&format!("/api/webhooks/{id}"), &admin).await;
    assert_eq!(got.body["secret"], rotated.body["secret"]);
    // The audit log has the changes, never a secret.
    let audit = app
        .get(
            "/api/audit_log?filter=entity%20eq%20'WEBHOOK_ENDPOINT'",
            &admin,
        )
        .await;
    assert_eq!(audit.body["count"], 2, "{}", audit.text);
    assert!(!audit.text.contains("whsec_"), "{}", audit.text);
    // At most 20 endpoints.
    for i in 1..20 {
        let more = app
            .post(
                "/api/webhooks",
                &admin,
                json!({"url": format!("https://h{i}.example/"), "events": ["call.rated"]}),
            )
            .await;
        assert_eq!(more.status, StatusCode::OK, "{}", more.text);
    }
    let full = app
        .post(
            "/api/webhooks",
            &admin,
            json!({"url": "https://h21.example/", "events": ["call.rated"]}),
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{}", full.text);
    let gone = app
        .post(&format!("/api/webhooks/{id}/destroy"), &admin, json!({}))
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    assert_eq!(
        app.get(&format!("/api/webhooks/{id}"), &admin).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn private_addresses_are_not_posted_to_unless_allowed(backend: Backend) {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (_, admin, _) = app.tenant(&root, "acme.example.com").await;
    let receiver = Receiver::start().await;
    register(&app, &admin, &receiver.url, &["deck.imported"]).await;
    let deck = "prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description\n\
                44,INTERNATIONAL,0,0,60,60,0,0,0.1,0.1,UK\n";
    app.raw("POST", "/api/call_rates/import", &admin, "text/csv", deck)
        .await;
    let strict = Worker::new(app.db.db.clone(), WorkerConfig::default()).expect("worker");
    assert_eq!(strict.run_once().await.expect("attempt"), 1);
    assert!(receiver.received().is_empty());
    let log = deliveries(&app, &admin, "").await;
    assert!(
        log["items"][0]["last_answer"]
            .as_str()
            .is_some_and(|a| a.contains("127.0.0.1 is not a public address")),
        "{log}"
    );
    assert_eq!(log["items"][0]["status"], "PENDING");
}

on_both_databases!(
    an_alert_is_raised_once_per_crossing,
    holds_and_settlements_cross_once,
    a_rerating_that_takes_the_funds_below_alerts,
    a_users_threshold_is_its_administrators,
    failed_deliveries_are_retried_then_given_up,
    queued_deliveries_survive_a_restart,
    two_workers_post_each_delivery_once,
    call_rated_is_queued_only_when_wanted,
    endpoints_are_the_tenant_administrators,
    private_addresses_are_not_posted_to_unless_allowed,
);
