//! Rate tables that never stall a rating: the time to build a tenant's
//! table from a 1M-rate deck in the database, and quote latency (p50, p99,
//! max) while a 1M-row import and its new table's build run, the import made
//! on the quoting server and on another one sharing the database; then a
//! single-rate change applied to the table in service.
//!
//! `cargo bench -p billing --bench rate_tables` (SQLite in a temporary file,
//! then the local PostgreSQL); `RATEDECK_BENCH_ROWS` changes the deck size,
//! `RATEDECK_BENCH_BACKENDS=sqlite` (or `postgres`) runs one database,
//! `RATEDECK_BENCH_BUILD_ONLY=1` only the table builds (three, each on a
//! fresh handle).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use billing::call_rates::TariffRef;
use billing::{Backend, Db, Scope};
use model::query::{ListParams, ListQuery};
use model::tariff::RatePatch;
use rating::RateTable;

mod common;
use common::{deck, deck_priced, run_on_backends};

/// A dialled number for deck row `i`.
fn number(i: u64) -> String {
    format!("{}5551234", 10_000_000 + i)
}

const AT: i64 = 1_800_000_000;

/// CPU time this process has used (user and system), from /proc: on a
/// machine shared with other work, what a step costs beside how long it took.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's closing parenthesis; utime and stime
    // are the 14th and 15th of the line, in clock ticks of 10 ms.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn price(db: &Db, scope: &Scope, callee: &str) -> String {
    db.quote(scope, callee, 60, Some(AT))
        .await
        .expect("quote")
        .amount
        .to_wire()
}

/// Quotes one after another on `db` until `done`, each timed.
fn quoting(
    db: Db,
    scope: Scope,
    rows: u64,
    done: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Duration>> {
    tokio::spawn(async move {
        let mut times = Vec::new();
        let mut k = 0u64;
        while !done.load(Ordering::Relaxed) {
            let callee = number((k * 7_919) % rows);
            k += 1;
            let start = Instant::now();
            db.quote(&scope, &callee, 60, Some(AT))
                .await
                .expect("quote");
            times.push(start.elapsed());
            // A steady stream of calls, not a busy loop that starves the import.
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        times.sort();
        times
    })
}

fn report(label: &str, times: &[Duration]) {
    println!(
        "  {label}: {} quotes, p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        times.len(),
        percentile(times, 0.5),
        percentile(times, 0.99),
        times.last().copied().unwrap_or_default()
    );
}

async fn run(backend: Backend, rows: u64) {
    println!("== {backend:?}: {rows} rates");
    let (t, scope) = common::charging_tenant(backend, rows).await;
    let a = t.db.clone();

    if backend == Backend::Postgres {
        // As autovacuum soon would: the planner's figures of the fresh deck,
        // without which the import's look-ups scan the table.
        sqlx::query("ANALYZE call_rates")
            .execute(t.db.pool())
            .await
            .expect("analyze");
    }
    if std::env::var_os("RATEDECK_BENCH_BUILD_ONLY").is_some() {
        for _ in 0..3 {
            let (start, cpu) = (Instant::now(), cpu_time());
            let b = Db::connect(&t.url).await.expect("a second server");
            let rating = b.tenant_rating(scope.tenant_id).await.expect("rating");
            println!(
                "  table of {} stored rates built in {:.2?} ({:.2?} CPU)",
                rating.default.table.len(),
                start.elapsed(),
                cpu_time() - cpu
            );
            b.close().await;
        }
        return;
    }

    // The table built from the stored rates (no table in memory yet).
    let (start, cpu) = (Instant::now(), cpu_time());
    let rating = a.tenant_rating(scope.tenant_id).await.expect("rating");
    let (built, built_cpu) = (start.elapsed(), cpu_time() - cpu);
    let entries: Vec<_> = rating.default.table.entries().cloned().collect();
    let (start, cpu) = (Instant::now(), cpu_time());
    let index = RateTable::new(entries);
    let (indexed, indexed_cpu) = (start.elapsed(), cpu_time() - cpu);
    println!(
        "  table of {} stored rates built in {built:.2?} ({built_cpu:.2?} CPU); \
         the index alone of the rates read: {indexed:.2?} ({indexed_cpu:.2?} CPU)",
        index.len()
    );
    drop(index);
    drop(rating);

    // Quotes with nothing else running, to compare with.
    let done = Arc::new(AtomicBool::new(false));
    let quotes = quoting(a.clone(), scope.clone(), rows, done.clone());
    tokio::time::sleep(Duration::from_secs(3)).await;
    done.store(true, Ordering::Relaxed);
    report("quotes at rest", &quotes.await.expect("quotes"));

    // An import on this server while it quotes: the quotes go on with the
    // table in service; the import answers once the new table is in.
    let changed = number(0);
    let before = price(&a, &scope, &changed).await;
    let done = Arc::new(AtomicBool::new(false));
    let quotes = quoting(a.clone(), scope.clone(), rows, done.clone());
    let start = Instant::now();
    a.import_call_rates(&scope, deck_priced(rows, 1))
        .await
        .expect("import");
    let imported = start.elapsed();
    let after = price(&a, &scope, &changed).await;
    done.store(true, Ordering::Relaxed);
    let times = quotes.await.expect("quotes");
    assert_ne!(
        before, after,
        "the next quote after the import's answer uses the new deck"
    );
    println!("  import on this server answered in {imported:.2?} (new table included); the next quote used the new deck");
    report("quotes meanwhile", &times);

    // The same from another server: this one keeps quoting with its table
    // until its own new table is ready.
    let b = Db::connect(&t.url).await.expect("a second server");
    let done = Arc::new(AtomicBool::new(false));
    let quotes = quoting(a.clone(), scope.clone(), rows, done.clone());
    let start = Instant::now();
    b.import_call_rates(&scope, deck(rows))
        .await
        .expect("import");
    let imported = start.elapsed();
    let answered = Instant::now();
    while price(&a, &scope, &changed).await != before {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let caught_up = answered.elapsed();
    done.store(true, Ordering::Relaxed);
    let times = quotes.await.expect("quotes");
    println!(
        "  import on another server answered in {imported:.2?}; this server rated with the new deck {caught_up:.2?} after the answer"
    );
    report("quotes meanwhile, on this server", &times);

    // A single-rate change made elsewhere: applied to the table in service.
    let query = ListQuery::parse(
        &ListParams {
            filter: Some(format!("prefix eq '{}'", 10_000_000u64)),
            ..ListParams::default()
        },
        &billing::call_rates::CALL_RATE_SPEC,
    )
    .expect("query");
    let page = b.list_call_rates(&scope, &query).await.expect("list");
    let id = model::ApiId::decode(&page.items[0].id).expect("id");
    let patch = RatePatch::from_json(
        serde_json::json!({"price_1": "0.9"})
            .as_object()
            .expect("object"),
    )
    .expect("patch");
    let start = Instant::now();
    b.update_rate(&scope, TariffRef::Default, id, patch)
        .await
        .expect("update");
    let changed_in = start.elapsed();
    // Quotes go by a rates version read at most QUOTES_SEE_CHANGES_WITHIN
    // before: quoted by within that bound.
    let start = Instant::now();
    let mut quotes = 0;
    while price(&a, &scope, &changed).await != "0.9" {
        quotes += 1;
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the change is quoted by"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let applied = start.elapsed();
    let rating = a.tenant_rating(scope.tenant_id).await.expect("rating");
    println!(
        "  a single-rate change on another server took {changed_in:.2?}; quotes here had it {applied:.2?} after its answer ({quotes} quotes before; {} change pending on the table in service)",
        rating.default.table.pending_changes()
    );
    b.close().await;
}

fn main() {
    run_on_backends("RATEDECK_BENCH_ROWS", 1_000_000, run);
}
