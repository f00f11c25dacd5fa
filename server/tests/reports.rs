//! `GET /api/reports/spend`: spend by day, hour, hour of the day,
//! destination, user and type, from the rollups kept with the CDRs, on
//! SQLite and on PostgreSQL. After every ingestion, duplicate and re-rating
//! the rollups are checked against the CDRs themselves, and each report
//! against a scan of them; so are the totals of `/api/reports/summary`.
//! `/api/reports/balance` is checked against the ledger, day by day; the
//! portal's report (`get_report`) against the same figures, for each role.

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use billing::{Backend, Db};
use common::{rate, Answer, TestApp};
use model::{ApiId, Money};
use serde_json::{json, Value};
use sqlx::Row;

const JANUARY: &str = "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z";

fn cdr(
    call_id: &str,
    caller: &str,
    callee: &str,
    direction: &str,
    at: &str,
    duration: i64,
) -> Value {
    let mut cdr = json!({
        "call_id": call_id, "caller": caller, "callee": callee, "direction": direction,
        "started_at": format!("2026-01-{at}Z"), "duration": duration, "status_code": 200
    });
    if duration > 0 {
        cdr["answered_at"] = json!(format!("2026-01-{at}Z"));
    }
    cdr
}

/// Acme's calls: two users' and one from no user, rated, unrated (no rate
/// for 999), unanswered, between extensions, over three days.
fn acme_calls() -> Value {
    json!([
        cdr("a1", "101", "1555000", "OUTBOUND_CALL", "03T10:00:00", 120),
        cdr("a2", "101", "44207000", "OUTBOUND_CALL", "03T11:30:00", 60),
        cdr("a3", "102", "1555111", "OUTBOUND_CALL", "04T09:15:00", 0),
        cdr("a4", "102", "103", "EXTENSION_CALL", "04T09:20:00", 30),
        cdr("a5", "555", "1666", "OUTBOUND_CALL", "05T23:59:59", 45),
        cdr("a6", "101", "999", "OUTBOUND_CALL", "05T12:00:00", 10),
    ])
}

struct Acme {
    app: TestApp,
    root: String,
    tenant: String,
    admin: String,
    user: String,
    other_tenant: String,
    other_admin: String,
    rate_1: String,
}

async fn acme(backend: Backend) -> Acme {
    let app = TestApp::new(backend).await;
    let root = app.admin().await;
    let (tenant, admin, user) = app.tenant(&root, "acme.example.com").await;
    let (other_tenant, other_admin, _) = app.tenant(&root, "globex.example.com").await;
    let made = app
        .post(
            "/api/users",
            &root,
            json!({"username": "102", "password": "password-123", "role": "StandardUser", "tenant_id": tenant}),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let one = app.post("/api/call_rates", &admin, rate("1")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    let rate_1 = one.body["id"].as_str().expect("rate id").to_string();
    let mut uk = rate("44");
    uk["description"] = json!("United Kingdom");
    app.post("/api/call_rates", &admin, uk).await;
    for token in [&admin, &other_admin] {
        app.post("/api/call_rates", token, rate("1")).await;
        let on = app
            .post("/api/tenant/billing", token, json!({"enabled": true}))
            .await;
        assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    }
    let posted = app.post("/api/cdrs", &admin, acme_calls()).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    assert_eq!(posted.body["accepted"], 6, "{}", posted.text);
    let other = app
        .post(
            "/api/cdrs",
            &other_admin,
            json!([cdr(
                "x1",
                "101",
                "1555000",
                "OUTBOUND_CALL",
                "03T10:00:00",
                600
            )]),
        )
        .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
    Acme {
        app,
        root,
        tenant,
        admin,
        user,
        other_tenant,
        other_admin,
        rate_1,
    }
}

/// The key columns of the rollups, as the CDRs give them.
const KEY: &str = "tenant_id, started_at - ((started_at % 3600000) + 3600000) % 3600000, \
    COALESCE(user_id, 0), COALESCE(billed_user_id, 0), direction, COALESCE(rate_id, 0), \
    COALESCE(rate_prefix, '')";

type Rows = Vec<(String, [i64; 4])>;

async fn rows(db: &Db, sql: &str) -> Rows {
    sqlx::query(sql)
        .fetch_all(db.pool())
        .await
        .expect("rows")
        .iter()
        .map(|r| {
            let key = (0..7)
                .map(|i| {
                    r.try_get::<i64, _>(i)
                        .map(|v| v.to_string())
                        .or_else(|_| r.try_get::<String, _>(i))
                        .expect("key column")
                })
                .collect::<Vec<_>>()
                .join("|");
            let sums = [7, 8, 9, 10].map(|i| r.try_get::<i64, _>(i).expect("sum"));
            (key, sums)
        })
        .collect()
}

/// Asserts that the rollups hold exactly the CDRs' sums, row by row.
async fn assert_rollups_match_the_cdrs(db: &Db) {
    let from_cdrs = rows(
        db,
        &format!(
            "SELECT {KEY}, CAST(COUNT(*) AS BIGINT), \
             CAST(SUM(CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END) AS BIGINT), \
             CAST(SUM(duration) AS BIGINT), CAST(SUM(COALESCE(cost, 0)) AS BIGINT) \
             FROM cdrs GROUP BY {KEY} ORDER BY 1, 2, 3, 4, 5, 6, 7"
        ),
    )
    .await;
    let from_rollups = rows(
        db,
        "SELECT tenant_id, hour, user_id, billed_user_id, direction, rate_id, rate_prefix, \
         calls, answered, seconds, cost FROM spend_rollups WHERE calls <> 0 \
         ORDER BY 1, 2, 3, 4, 5, 6, 7",
    )
    .await;
    assert!(!from_cdrs.is_empty());
    assert_eq!(from_rollups, from_cdrs);
}

/// One item of a report: key (with the description), calls, answered,
/// seconds and cost in units.
type Item = (String, [i64; 4]);

fn units(v: &Value) -> i64 {
    serde_json::from_value::<Money>(v.clone())
        .expect("an amount")
        .to_units()
        .expect("units")
}

fn items(answer: &Answer) -> Vec<Item> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            let mut key = i["key"].as_str().expect("key").to_string();
            if let Some(d) = i["description"].as_str() {
                key = format!("{key} {d}");
            }
            let n = |f: &str| i[f].as_i64().expect("a count");
            (
                key,
                [n("calls"), n("answered"), n("seconds"), units(&i["cost"])],
            )
        })
        .collect()
}

/// The report a scan of the tenant's CDRs gives, for `group_by`, ordered as
/// the API orders it (time groups by time, the others by cost then key).
async fn scanned(db: &Db, tenant: &str, group_by: &str, only_user: Option<&str>) -> Vec<Item> {
    let tenant = ApiId::decode(tenant).expect("tenant id");
    let own = match only_user {
        Some(name) => format!(" AND u.username = '{name}'"),
        None => String::new(),
    };
    let found = sqlx::query(&format!(
        "SELECT c.started_at, c.direction, COALESCE(c.rate_prefix, '') AS prefix, \
         COALESCE(r.description, '') AS description, COALESCE(u.username, '') AS username, \
         c.answered_at, c.duration, COALESCE(c.cost, 0) AS cost FROM cdrs c \
         LEFT JOIN users u ON u.id = c.user_id LEFT JOIN call_rates r ON r.id = c.rate_id \
         WHERE c.tenant_id = $1{own}"
    ))
    .bind(tenant)
    .fetch_all(db.pool())
    .await
    .expect("cdrs");
    let mut groups: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    for row in &found {
        let at = billing::time::rfc3339(row.get("started_at"));
        let key = match group_by {
            "day" => at[..10].to_string(),
            "hour" => format!("{}:00:00Z", &at[..13]),
            "hour_of_day" => at[11..13].to_string(),
            "destination" => format!(
                "{} {}",
                row.get::<String, _>("prefix"),
                row.get::<String, _>("description")
            ),
            "user" => row.get("username"),
            _ => row.get("direction"),
        };
        let sums = groups.entry(key).or_default();
        sums[0] += 1;
        sums[1] += i64::from(row.get::<Option<i64>, _>("answered_at").is_some());
        sums[2] += row.get::<i64, _>("duration");
        sums[3] += row.get::<i64, _>("cost");
    }
    let mut items: Vec<Item> = groups.into_iter().collect();
    if !matches!(group_by, "day" | "hour" | "hour_of_day") {
        items.sort_by(|a, b| b.1[3].cmp(&a.1[3]).then_with(|| a.0.cmp(&b.0)));
    }
    items
}

async fn report(app: &TestApp, token: &str, query: &str) -> Answer {
    app.get(&format!("/api/reports/spend?{query}"), token).await
}

async fn assert_reports_match_a_scan(a: &Acme) {
    for group_by in ["day", "hour", "hour_of_day", "destination", "user", "type"] {
        let answer = report(&a.app, &a.admin, &format!("{JANUARY}&group_by={group_by}")).await;
        assert_eq!(
            items(&answer),
            scanned(&a.app.db.db, &a.tenant, group_by, None).await,
            "group_by={group_by}"
        );
    }
}

async fn each_grouping_sums_the_tenants_calls(backend: Backend) {
    let a = acme(backend).await;
    assert_rollups_match_the_cdrs(&a.app.db.db).await;
    assert_reports_match_a_scan(&a).await;

    let by_day = report(&a.app, &a.admin, &format!("{JANUARY}&group_by=day")).await;
    assert_eq!(by_day.body["currency"], "USD", "{}", by_day.text);
    let days: Vec<(String, i64, i64, i64)> = items(&by_day)
        .into_iter()
        .map(|(k, s)| (k, s[0], s[1], s[2]))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-01-03".to_string(), 2, 2, 180),
            ("2026-01-04".to_string(), 2, 1, 30),
            ("2026-01-05".to_string(), 2, 2, 55),
        ]
    );
    let day_3 = items(&by_day)[0].1[3];
    assert!(day_3 > 0, "the rated calls of the 3rd cost something");

    let by_hour = items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=hour")).await);
    let hours: Vec<&str> = by_hour.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        hours,
        [
            "2026-01-03T10:00:00Z",
            "2026-01-03T11:00:00Z",
            "2026-01-04T09:00:00Z",
            "2026-01-05T12:00:00Z",
            "2026-01-05T23:00:00Z",
        ]
    );
    assert_eq!(by_hour[2].1[..3], [2, 1, 30]);

    let by_hour_of_day =
        items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=hour_of_day")).await);
    let hours: Vec<(&str, i64)> = by_hour_of_day
        .iter()
        .map(|(k, s)| (k.as_str(), s[0]))
        .collect();
    assert_eq!(
        hours,
        [("09", 2), ("10", 1), ("11", 1), ("12", 1), ("23", 1)]
    );

    let by_user = items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=user")).await);
    let users: BTreeMap<&str, i64> = by_user.iter().map(|(k, s)| (k.as_str(), s[0])).collect();
    assert_eq!(users, BTreeMap::from([("", 1), ("101", 3), ("102", 2)]));

    let by_type = items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=type")).await);
    let types: BTreeMap<&str, i64> = by_type.iter().map(|(k, s)| (k.as_str(), s[0])).collect();
    assert_eq!(
        types,
        BTreeMap::from([("EXTENSION_CALL", 1), ("OUTBOUND_CALL", 5)])
    );

    let by_destination = report(&a.app, &a.admin, &format!("{JANUARY}&group_by=destination")).await;
    let uk = by_destination.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["key"] == "44"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        uk["description"], "United Kingdom",
        "{}",
        by_destination.text
    );
    assert_eq!(
        (uk["calls"].as_i64(), uk["seconds"].as_i64()),
        (Some(1), Some(60))
    );

    // A range holds the calls started in it: the 4th alone.
    let fourth = report(
        &a.app,
        &a.admin,
        "from=2026-01-04T00:00:00Z&to=2026-01-05T00:00:00Z&group_by=type",
    )
    .await;
    let total: i64 = items(&fourth).iter().map(|(_, s)| s[0]).sum();
    assert_eq!(total, 2);
    // Nothing in February.
    let empty = report(
        &a.app,
        &a.admin,
        "from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z&group_by=day",
    )
    .await;
    assert_eq!(items(&empty), []);
}

async fn duplicates_and_reratings_keep_the_sums_right(backend: Backend) {
    let a = acme(backend).await;
    let before = items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=day")).await);

    // The same calls again, with one new: only the new one counts.
    let mut again = acme_calls();
    again.as_array_mut().expect("array").push(cdr(
        "a7",
        "102",
        "1555222",
        "OUTBOUND_CALL",
        "06T08:00:00",
        30,
    ));
    let posted = a.app.post("/api/cdrs", &a.admin, again).await;
    assert_eq!(
        (
            posted.body["accepted"].as_i64(),
            posted.body["duplicates"].as_i64()
        ),
        (Some(1), Some(6)),
        "{}",
        posted.text
    );
    assert_rollups_match_the_cdrs(&a.app.db.db).await;
    let after = items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=day")).await);
    assert_eq!(after[..3], before[..]);
    assert_eq!(after[3].0, "2026-01-06");
    assert_eq!(after[3].1[0], 1);

    // Prefix 1 costs ten times as much, and 999 gets a rate: a re-rating
    // moves the costs, and a6 from no destination to 999.
    let changed = a
        .app
        .post(
            &format!("/api/call_rates/{}", a.rate_1),
            &a.admin,
            json!({"price_1": 0.6, "price_n": 0.3}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let mut nines = rate("999");
    nines["description"] = json!("Premium");
    a.app.post("/api/call_rates", &a.admin, nines).await;
    let destinations_before =
        items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=destination")).await);
    let rerated = a.app.post("/api/cdrs/rerate", &a.admin, json!({})).await;
    assert_eq!(rerated.status, StatusCode::OK, "{}", rerated.text);
    assert!(
        rerated.body["rerated"].as_i64() >= Some(2),
        "{}",
        rerated.text
    );
    let delta = units(&rerated.body["delta"]);
    assert!(delta > 0);
    assert_rollups_match_the_cdrs(&a.app.db.db).await;
    assert_reports_match_a_scan(&a).await;

    let total = |items: &[Item]| items.iter().map(|(_, s)| s[3]).sum::<i64>();
    let destinations =
        items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=destination")).await);
    assert_eq!(total(&destinations), total(&destinations_before) + delta);
    let keys: Vec<&str> = destinations.iter().map(|(k, _)| k.as_str()).collect();
    assert!(keys.contains(&"999 Premium"), "{keys:?}");
    let calls: i64 = destinations.iter().map(|(_, s)| s[0]).sum();
    assert_eq!(calls, 7);

    // Re-rating again changes nothing.
    let again = a.app.post("/api/cdrs/rerate", &a.admin, json!({})).await;
    assert_eq!(again.body["rerated"], 0, "{}", again.text);
    assert_eq!(
        items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=destination")).await),
        destinations
    );
    assert_rollups_match_the_cdrs(&a.app.db.db).await;
}

async fn each_caller_sees_its_own_scope(backend: Backend) {
    let a = acme(backend).await;
    let query = format!("{JANUARY}&group_by=user");
    // The administrator: the tenant's calls, never globex's 600 seconds.
    let tenant = items(&report(&a.app, &a.admin, &query).await);
    let seconds: i64 = tenant.iter().map(|(_, s)| s[2]).sum();
    assert_eq!(seconds, 265);

    // The standard user 101: its own three calls, whatever it names.
    let own = items(&report(&a.app, &a.user, &query).await);
    assert_eq!(
        own,
        scanned(&a.app.db.db, &a.tenant, "user", Some("101")).await
    );
    assert_eq!(own.len(), 1);
    assert_eq!((own[0].0.as_str(), own[0].1[0]), ("101", 3));
    for named in [&a.other_tenant, &a.tenant] {
        let widened = report(&a.app, &a.user, &format!("{query}&tenant_id={named}")).await;
        assert_eq!(items(&widened), own);
    }

    // An administrator naming another tenant finds nothing.
    let other = report(
        &a.app,
        &a.admin,
        &format!("{query}&tenant_id={}", a.other_tenant),
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    // Globex's administrator sees only globex's call.
    let globex = items(&report(&a.app, &a.other_admin, &query).await);
    assert_eq!(globex.iter().map(|(_, s)| s[2]).sum::<i64>(), 600);

    // The system administrator names the tenant, by query or header.
    let unnamed = report(&a.app, &a.root, &query).await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST, "{}", unnamed.text);
    assert_eq!(unnamed.fields(), ["tenant_id"]);
    let named = report(&a.app, &a.root, &format!("{query}&tenant_id={}", a.tenant)).await;
    assert_eq!(items(&named), tenant);
    let request = axum::http::Request::builder()
        .uri(format!("/api/reports/spend?{query}"))
        .header("authorization", format!("Bearer {}", a.root))
        .header("x-tenant-id", &a.other_tenant)
        .body(axum::body::Body::empty())
        .expect("request");
    assert_eq!(items(&a.app.send(request).await), globex);
    let missing = report(
        &a.app,
        &a.root,
        &format!("{query}&tenant_id={}", ApiId::encode(999_999)),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);

    let anonymous = a
        .app
        .call("GET", &format!("/api/reports/spend?{query}"), None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn bad_parameters_are_named(backend: Backend) {
    let a = acme(backend).await;
    let month = format!("{JANUARY}&group_by=month");
    for (query, fields) in [
        ("group_by=day", vec!["from", "to"]),
        (
            "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
            vec!["group_by"],
        ),
        (month.as_str(), vec!["group_by"]),
        (
            "from=yesterday&to=2026-02-01T00:00:00Z&group_by=day",
            vec!["from"],
        ),
        (
            "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z&group_by=day",
            vec!["to"],
        ),
        (
            "from=2026-01-01T00:30:00Z&to=2026-02-01T00:00:00Z&group_by=day",
            vec!["from"],
        ),
        (
            "from=2025-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&group_by=day",
            vec!["to"],
        ),
    ] {
        let answer = report(&a.app, &a.admin, query).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.text
        );
        assert_eq!(answer.code(), "VALIDATE_FAILED");
        assert_eq!(answer.fields(), fields, "{query}");
        assert!(answer.body["errors"][0]["message"].is_string());
        assert!(answer.body["errors"][0]["detail"].is_string());
    }
}

async fn the_migration_backfills_the_stored_calls(backend: Backend) {
    let a = acme(backend).await;
    let db = &a.app.db.db;
    let before = items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=hour")).await);
    sqlx::query("DELETE FROM spend_rollups")
        .execute(db.pool())
        .await
        .expect("emptied");
    assert_eq!(
        items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=hour")).await),
        []
    );
    let migration = match backend {
        Backend::Sqlite => include_str!("../../migrations/sqlite/0009_spend_rollups.sql"),
        Backend::Postgres => include_str!("../../migrations/postgres/0009_spend_rollups.sql"),
    };
    let backfill = &migration[migration.find("INSERT INTO").expect("the backfill")..];
    sqlx::query(backfill)
        .execute(db.pool())
        .await
        .expect("backfilled");
    assert_rollups_match_the_cdrs(db).await;
    assert_eq!(
        items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=hour")).await),
        before
    );
}

/// The totals a scan of the tenant's CDRs gives: calls, answered, seconds
/// and cost in units.
async fn scanned_totals(db: &Db, tenant: &str, only_user: Option<&str>) -> [i64; 4] {
    let mut totals = [0; 4];
    for (_, sums) in scanned(db, tenant, "type", only_user).await {
        for (t, s) in totals.iter_mut().zip(sums) {
            *t += s;
        }
    }
    totals
}

fn decimal(v: &Value) -> Option<rust_decimal::Decimal> {
    v.as_number()
        .map(|n| n.to_string().parse().expect("a decimal"))
}

async fn the_summary_adds_up_the_calls(backend: Backend) {
    let a = acme(backend).await;
    let db = &a.app.db.db;
    for (token, user) in [(&a.admin, None), (&a.user, Some("101"))] {
        let answer = a
            .app
            .get(&format!("/api/reports/summary?{JANUARY}"), token)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let b = &answer.body;
        let [calls, answered, seconds, cost] = scanned_totals(db, &a.tenant, user).await;
        assert_eq!(
            [
                b["calls"].as_i64(),
                b["answered"].as_i64(),
                b["seconds"].as_i64()
            ],
            [Some(calls), Some(answered), Some(seconds)],
            "{}",
            answer.text
        );
        assert_eq!(units(&b["cost"]), cost);
        assert_eq!(b["currency"], "USD");
        let rate = rust_decimal::Decimal::from(answered) / rust_decimal::Decimal::from(calls);
        assert_eq!(decimal(&b["answer_rate"]), Some(rate.round_dp(4)));
        let average = rust_decimal::Decimal::from(seconds) / rust_decimal::Decimal::from(answered);
        assert_eq!(decimal(&b["average_duration"]), Some(average.round_dp(1)));
    }
    // The tenant's: 6 calls, 5 answered (a3 was not), 265 seconds.
    let tenant = a
        .app
        .get(&format!("/api/reports/summary?{JANUARY}"), &a.admin)
        .await;
    assert_eq!(
        (
            decimal(&tenant.body["answer_rate"]),
            decimal(&tenant.body["average_duration"])
        ),
        (
            Some(rust_decimal::Decimal::new(8333, 4)),
            Some(rust_decimal::Decimal::new(530, 1))
        ),
        "{}",
        tenant.text
    );
    // No calls: nothing to divide.
    let february = a
        .app
        .get(
            "/api/reports/summary?from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z",
            &a.admin,
        )
        .await;
    assert_eq!(february.status, StatusCode::OK, "{}", february.text);
    assert_eq!(february.body["calls"], 0);
    assert!(february.body["answer_rate"].is_null(), "{}", february.text);
    assert!(february.body["average_duration"].is_null());
    let bad = a
        .app
        .get("/api/reports/summary?from=2026-01-01T00:30:00Z", &a.admin)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.fields(), ["to"]);
    let unnamed = a
        .app
        .get(&format!("/api/reports/summary?{JANUARY}"), &a.root)
        .await;
    assert_eq!(unnamed.fields(), ["tenant_id"]);
}

const DAY: i64 = 86_400_000;

/// The balance at the end of each day from a scan of the ledger: the
/// last entry (by id) written before the day's end.
async fn scanned_balances(
    db: &Db,
    tenant: &str,
    user: Option<i64>,
    from: i64,
    days: i64,
) -> Vec<i64> {
    let tenant = ApiId::decode(tenant).expect("tenant id");
    let rows = sqlx::query(
        "SELECT user_id, balance_after, created_at FROM balance_transactions \
         WHERE tenant_id = $1 ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(db.pool())
    .await
    .expect("ledger");
    (0..days)
        .map(|d| {
            let end = from + (d + 1) * DAY;
            rows.iter()
                .filter(|r| r.get::<Option<i64>, _>("user_id") == user)
                .map(|r| {
                    (
                        r.get::<i64, _>("balance_after"),
                        r.get::<i64, _>("created_at"),
                    )
                })
                .rfind(|(_, at)| *at < end)
                .map_or(0, |(b, _)| b)
        })
        .collect()
}

fn balances(answer: &Answer) -> Vec<i64> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| units(&p["balance"]))
        .collect()
}

async fn the_balance_follows_the_ledger_day_by_day(backend: Backend) {
    let a = acme(backend).await;
    let db = &a.app.db.db;
    let tenant_id = ApiId::decode(&a.tenant).expect("tenant id");
    // The tenant is recharged, and the user 101 too; then the tenant's
    // ledger is spread over the week before, as if written then.
    let recharged = a
        .app
        .post(
            &format!("/api/tenant/balance?tenant_id={}", a.tenant),
            &a.root,
            json!({"balance": 50}),
        )
        .await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    let user_id = a.app.user_id(&a.admin, "101").await;
    let user_recharged = a
        .app
        .post(
            &format!("/api/users/{user_id}/balance"),
            &a.admin,
            json!({"balance": 5}),
        )
        .await;
    assert_eq!(
        user_recharged.status,
        StatusCode::OK,
        "{}",
        user_recharged.text
    );
    let now = billing::db::now_ms();
    let today = now - now.rem_euclid(DAY);
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM balance_transactions WHERE tenant_id = $1 AND user_id IS NULL ORDER BY id",
    )
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await
    .expect("ids")
    .iter()
    .map(|r| r.get("id"))
    .collect();
    assert!(ids.len() >= 4, "{ids:?}");
    // Two entries 5 days ago, one 3 days ago, the rest today.
    for (id, at) in ids.iter().zip([
        today - 5 * DAY + 1_000,
        today - 5 * DAY + 2_000,
        today - 3 * DAY + 10,
    ]) {
        sqlx::query("UPDATE balance_transactions SET created_at = $1 WHERE id = $2")
            .bind(at)
            .bind(*id)
            .execute(db.pool())
            .await
            .expect("moved");
    }

    let from = today - 7 * DAY;
    let range = |to: i64| {
        format!(
            "from={}&to={}",
            billing::time::rfc3339(from),
            billing::time::rfc3339(to)
        )
    };
    // Tomorrow has not begun: eight days, today's last.
    let answer = a
        .app
        .get(
            &format!("/api/reports/balance?{}", range(today + 2 * DAY)),
            &a.admin,
        )
        .await;
    let got = balances(&answer);
    assert_eq!(got, scanned_balances(db, &a.tenant, None, from, 8).await);
    assert_eq!(got[0], 0);
    assert_ne!(got[2], 0, "two entries 5 days ago");
    assert_eq!(got[3], got[2], "a day without entries keeps the balance");
    let account = a.app.get("/api/tenant/balance", &a.admin).await;
    assert_eq!(got[7], units(&account.body["balance"]), "{}", account.text);
    assert!(answer.body["user_id"].is_null());
    assert_eq!(answer.body["account"], "acme.example.com");
    assert_eq!(
        answer.body["items"][7]["day"],
        billing::time::rfc3339(today)[..10]
    );

    // The standard user: its own account, whatever it names.
    let own = a
        .app
        .get(
            &format!(
                "/api/reports/balance?{}&tenant_id={}",
                range(today + DAY),
                a.other_tenant
            ),
            &a.user,
        )
        .await;
    let user = ApiId::decode(&user_id).expect("user id");
    assert_eq!(
        balances(&own),
        scanned_balances(db, &a.tenant, Some(user), from, 8).await
    );
    assert_eq!(balances(&own)[7], 500_000);
    assert_eq!(own.body["user_id"], user_id.as_str());
    assert_eq!(own.body["account"], "101");

    // The system administrator names the tenant; others' tenants are not found.
    let named = a
        .app
        .get(
            &format!(
                "/api/reports/balance?{}&tenant_id={}",
                range(today + DAY),
                a.tenant
            ),
            &a.root,
        )
        .await;
    assert_eq!(balances(&named), got);
    let other = a
        .app
        .get(
            &format!(
                "/api/reports/balance?{}&tenant_id={}",
                range(today + DAY),
                a.other_tenant
            ),
            &a.admin,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);

    for (query, fields) in [
        (String::new(), vec!["from", "to"]),
        (
            format!(
                "from={}&to={}",
                billing::time::rfc3339(from + 3_600_000),
                billing::time::rfc3339(today)
            ),
            vec!["from"],
        ),
        (range(from), vec!["to"]),
        (range(from + 367 * DAY), vec!["to"]),
    ] {
        let bad = a
            .app
            .get(&format!("/api/reports/balance?{query}"), &a.admin)
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}: {}", bad.text);
        assert_eq!(bad.fields(), fields, "{query}");
    }
}

/// The chart of a portal report with `key`.
fn chart<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["charts"]
        .as_array()
        .and_then(|charts| charts.iter().find(|c| c["key"] == key))
        .unwrap_or_else(|| panic!("no chart {key}: {report}"))
}

/// The portal's report of `args` (its `part`, "Full" or "Home") through
/// the session `cookie`, for `tenant` as a system administrator names it.
async fn get_report(
    app: &TestApp,
    cookie: &str,
    tenant: Option<&str>,
    args: &Value,
    part: &str,
) -> Answer {
    common::portal::call(
        app,
        cookie,
        "get_report",
        json!({"tenant": tenant, "args": args, "part": part}),
    )
    .await
}

async fn the_portal_report_draws_the_rollups_for_each_role(backend: Backend) {
    use common::portal::{refused_fields, session};

    let a = acme(backend).await;
    let january = json!({"from": "2026-01-01", "to": "2026-01-31"});
    let boss = session(&a.app, "boss", "acme.example.com").await;
    let answer = get_report(&a.app, &boss, None, &january, "Full").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let r = &answer.body;
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some("2026-01-01"), Some("2026-01-31"))
    );
    let keys: Vec<&str> = r["charts"]
        .as_array()
        .expect("charts")
        .iter()
        .filter_map(|c| c["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "spend-per-day",
            "top-cost",
            "top-minutes",
            "calls-per-hour",
            "balance"
        ]
    );
    // Every day of January has its column and row; the 3rd's title carries
    // the figures of the API's day report.
    let days = chart(r, "spend-per-day");
    assert_eq!(days["table"]["rows"].as_array().map(Vec::len), Some(31));
    let by_day = items(&report(&a.app, &a.admin, &format!("{JANUARY}&group_by=day")).await);
    let third = &by_day[0];
    let cost = Money::from_units(third.1[3]).to_fixed();
    let svg = days["svg"].as_str().expect("svg");
    assert!(
        svg.contains(&format!(
            "<title>2026-01-03: {cost} USD · 2 calls, 2 answered, 3 min</title>"
        )),
        "{svg}"
    );
    assert_eq!(svg.matches("<rect class=\"chart-bar\"").count(), 31);
    let hours = chart(r, "calls-per-hour");
    assert_eq!(hours["table"]["rows"][9][1], "2");
    let calls: i64 = r["figures"][0]["sub"]
        .as_str()
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("calls in the spend figure");
    assert_eq!(calls, 6);

    // The standard user 101: its own three calls only.
    let clerk = session(&a.app, "101", "acme.example.com").await;
    let own = get_report(&a.app, &clerk, Some(&a.other_tenant), &january, "Home").await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["own"], true);
    assert_eq!(own.body["charts"].as_array().map(Vec::len), Some(2));
    let rows = chart(&own.body, "spend-per-day")["table"]["rows"]
        .as_array()
        .expect("rows")
        .clone();
    let own_calls: i64 = rows
        .iter()
        .map(|row| {
            row[1]
                .as_str()
                .and_then(|n| n.parse::<i64>().ok())
                .expect("calls")
        })
        .sum();
    assert_eq!(own_calls, 3);
    let destinations: Vec<&str> = chart(&own.body, "top-cost")["table"]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| row[0].as_str())
        .collect();
    assert!(
        !destinations.iter().any(|d| d.contains("1666")),
        "{destinations:?}"
    );

    // Days checked at their fields.
    for (args, fields) in [
        (json!({"from": "2026-01-32"}), vec!["from"]),
        (
            json!({"from": "2026-02-01", "to": "2026-01-01"}),
            vec!["to"],
        ),
        (
            json!({"from": "2024-01-01", "to": "2026-01-01"}),
            vec!["to"],
        ),
    ] {
        let refused = get_report(&a.app, &boss, None, &args, "Full").await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        assert_eq!(refused_fields(&refused), fields);
    }

    // The system administrator chooses the tenant first.
    let root = session_of_root(&a.app).await;
    let none = get_report(&a.app, &root, None, &json!({}), "Home").await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.text);
    assert!(none.body.is_null(), "{}", none.text);
    let named = get_report(&a.app, &root, Some(&a.tenant), &january, "Home").await;
    assert_eq!(
        chart(&named.body, "spend-per-day")["svg"],
        chart(r, "spend-per-day")["svg"]
    );
}

async fn session_of_root(app: &TestApp) -> String {
    common::portal::session_of(app, "admin", common::ADMIN_PASSWORD, "").await
}

on_both_databases!(
    each_grouping_sums_the_tenants_calls,
    duplicates_and_reratings_keep_the_sums_right,
    each_caller_sees_its_own_scope,
    bad_parameters_are_named,
    the_migration_backfills_the_stored_calls,
    the_summary_adds_up_the_calls,
    the_balance_follows_the_ledger_day_by_day,
    the_portal_report_draws_the_rollups_for_each_role,
);
