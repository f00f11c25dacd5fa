//! Deep pages and search of a 1M-rate tariff: `skip=500000&top=100`, the same
//! page by `cursor`, the v22 `search`, and a walk of cursor pages, on each
//! database.
//!
//! `cargo bench -p billing --bench deep_pages` (SQLite in a temporary file,
//! then the local PostgreSQL); `RATEDECK_BENCH_BACKENDS=sqlite` (or
//! `postgres`) for one, `RATEDECK_BENCH_ROWS` to change the deck size.

use std::time::{Duration, Instant};

use billing::call_rates::CALL_RATE_SPEC;
use billing::testing::{new_tenant, TestDb};
use billing::{Backend, Db, Scope};
use model::query::{ListParams, ListQuery};

mod common;
use common::{deck, run_on_backends};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn measure(db: &Db, scope: &Scope, label: &str, params: ListParams) -> usize {
    let query = ListQuery::parse(&params, &CALL_RATE_SPEC).expect("query");
    let mut times = Vec::new();
    let mut shown = 0;
    // One untimed round warms the caches (and the prepared statements).
    db.list_call_rates(scope, &query).await.expect("list");
    for _ in 0..20 {
        let start = Instant::now();
        let page = db.list_call_rates(scope, &query).await.expect("list");
        times.push(start.elapsed());
        shown = page.items.len();
    }
    times.sort();
    println!(
        "  {label:<46} p50 {:>9.2?}  p90 {:>9.2?}  ({shown} rows)",
        percentile(&times, 0.5),
        percentile(&times, 0.9)
    );
    shown
}

fn list(
    skip: Option<u64>,
    cursor: Option<String>,
    search: Option<&str>,
    orderby: Option<&str>,
) -> ListParams {
    ListParams {
        skip: skip.map(|s| s.to_string()),
        top: Some("100".into()),
        cursor,
        search: search.map(str::to_string),
        orderby: orderby.map(str::to_string),
        ..Default::default()
    }
}

async fn cursor_at(db: &Db, scope: &Scope, row: u64, orderby: Option<&str>) -> String {
    let query = ListQuery::parse(&list(Some(row - 100), None, None, orderby), &CALL_RATE_SPEC)
        .expect("query");
    db.list_call_rates(scope, &query)
        .await
        .expect("list")
        .cursor
        .expect("a cursor")
}

async fn run(backend: Backend, rows: u64) {
    println!("== {backend:?}: a tariff of {rows} rates");
    let t = TestDb::new(backend).await.expect("database");
    let db = &t.db;
    let scope = new_tenant(db, "deep.example.com").await.expect("tenant");
    let start = Instant::now();
    db.import_call_rates(&scope, deck(rows))
        .await
        .expect("deck");
    println!("  import: {:.1?}", start.elapsed());
    if backend == Backend::Postgres {
        // What autovacuum does soon after a bulk load: statistics and the
        // visibility map that index-only scans rely on.
        sqlx::query("VACUUM ANALYZE call_rates")
            .execute(db.pool())
            .await
            .expect("vacuum");
    }
    let half = rows / 2;
    measure(
        db,
        &scope,
        "first page (top=100)",
        list(None, None, None, None),
    )
    .await;
    measure(
        db,
        &scope,
        &format!("skip={half} top=100"),
        list(Some(half), None, None, None),
    )
    .await;
    let cursor = cursor_at(db, &scope, half, None).await;
    measure(
        db,
        &scope,
        &format!("cursor at row {half} top=100"),
        list(None, Some(cursor), None, None),
    )
    .await;
    measure(
        db,
        &scope,
        &format!("orderby=price_1 desc skip={half}"),
        list(Some(half), None, None, Some("price_1 desc")),
    )
    .await;
    let cursor = cursor_at(db, &scope, half, Some("price_1 desc")).await;
    measure(
        db,
        &scope,
        &format!("orderby=price_1 desc cursor at row {half}"),
        list(None, Some(cursor), None, Some("price_1 desc")),
    )
    .await;
    measure(
        db,
        &scope,
        "search=Destination 4242",
        list(None, None, Some("Destination 4242"), None),
    )
    .await;
    measure(
        db,
        &scope,
        "search=0042424",
        list(None, None, Some("0042424"), None),
    )
    .await;
    measure(
        db,
        &scope,
        "search=zzz (nothing)",
        list(None, None, Some("zzz"), None),
    )
    .await;

    // A walk of 100 pages by cursor from the middle.
    let mut cursor = Some(cursor_at(db, &scope, half, None).await);
    let start = Instant::now();
    let mut pages = 0;
    while let Some(c) = cursor.take() {
        let query =
            ListQuery::parse(&list(None, Some(c), None, None), &CALL_RATE_SPEC).expect("query");
        let page = db.list_call_rates(&scope, &query).await.expect("page");
        pages += 1;
        if pages < 100 {
            cursor = page.cursor;
        }
    }
    println!(
        "  walk of {pages} cursor pages from row {half}: {:.2?} a page",
        start.elapsed() / pages
    );
}

fn main() {
    run_on_backends("RATEDECK_BENCH_ROWS", 1_000_000, run);
}
