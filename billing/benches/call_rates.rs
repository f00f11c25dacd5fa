//! Call-rate storage figures: a page of 100 from a 100k-rate tenant, and the
//! import and export of a 1M-row deck (time and peak memory).
//!
//! `cargo bench -p billing --bench call_rates` (SQLite in a temporary file);
//! set `RATEDECK_BENCH_POSTGRES=1` to run on the local PostgreSQL as well,
//! `RATEDECK_BENCH_ROWS` to change the deck size.

use std::time::{Duration, Instant};

use billing::auth::Scope;
use billing::call_rates::CALL_RATE_SPEC;
use billing::testing::{new_tenant, TestDb};
use billing::{Backend, Db};
use futures::StreamExt;
use model::query::{ListParams, ListQuery};

mod common;
use common::{deck, deck_priced};

/// Resets the kernel's peak-RSS mark so the next reading is of what follows.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn list_pages(db: &Db, scope: &Scope, label: &str, params: ListParams) {
    let query = ListQuery::parse(&params, &CALL_RATE_SPEC).expect("query");
    let mut times = Vec::new();
    for _ in 0..50 {
        let start = Instant::now();
        let page = db.list_call_rates(scope, &query).await.expect("list");
        times.push(start.elapsed());
        assert!(!page.items.is_empty());
    }
    times.sort();
    println!(
        "  list {label:<42} p50 {:>8.2?}  p99 {:>8.2?}",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
}

async fn run(backend: Backend, rows: u64) {
    println!("== {backend:?}: deck of {rows} rates");
    let t = TestDb::new(backend).await.expect("database");
    let db = &t.db;

    let listing = new_tenant(db, "list.example.com").await.expect("tenant");
    db.import_call_rates(&listing, deck(100_000))
        .await
        .expect("100k deck");
    for (label, params) in [
        ("first page (top=100)", ListParams::default()),
        (
            "skip=50000 top=100",
            ListParams {
                skip: Some("50000".into()),
                ..Default::default()
            },
        ),
        (
            "orderby=price_1 desc top=100",
            ListParams {
                orderby: Some("price_1 desc".into()),
                ..Default::default()
            },
        ),
        (
            "filter=startswith(prefix,'1005')",
            ListParams {
                filter: Some("startswith(prefix,'1005')".into()),
                ..Default::default()
            },
        ),
        (
            "search=Destination 4242",
            ListParams {
                search: Some("Destination 4242".into()),
                ..Default::default()
            },
        ),
    ] {
        list_pages(db, &listing, label, params).await;
    }

    let scope = new_tenant(db, "deck.example.com").await.expect("tenant");
    let before = rss_mib();
    reset_peak();
    let start = Instant::now();
    let imported = db
        .import_call_rates(&scope, deck(rows))
        .await
        .expect("import");
    let took = start.elapsed();
    println!(
        "  import {} rows: {:.1?} ({:.0} rows/s), peak RSS {:.0} MiB (was {:.0} MiB before)",
        imported.imported,
        took,
        imported.imported as f64 / took.as_secs_f64(),
        peak_mib(),
        before
    );

    // The same deck again, one rate in ten with a new price.
    let before = rss_mib();
    reset_peak();
    let start = Instant::now();
    let imported = db
        .import_call_rates(&scope, deck_priced(rows, 10))
        .await
        .expect("re-import");
    let took = start.elapsed();
    println!(
        "  re-import {} rows (1 in 10 changed): {:.1?} ({:.0} rows/s), peak RSS {:.0} MiB (was {:.0} MiB before)",
        imported.imported,
        took,
        imported.imported as f64 / took.as_secs_f64(),
        peak_mib(),
        before
    );

    let before = rss_mib();
    reset_peak();
    let start = Instant::now();
    let mut stream = Box::pin(db.export_call_rates(&scope).await.expect("export"));
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        bytes += chunk.len();
        lines += chunk.matches('\n').count();
    }
    let took = start.elapsed();
    println!(
        "  export {} rows ({:.0} MiB of CSV): {:.1?} ({:.0} rows/s), peak RSS {:.0} MiB (was {:.0} MiB before)",
        lines - 1,
        bytes as f64 / 1048576.0,
        took,
        (lines - 1) as f64 / took.as_secs_f64(),
        peak_mib(),
        before
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` asks benches to list themselves: nothing to list.
        return;
    }
    let rows: u64 = std::env::var("RATEDECK_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(Backend::Sqlite, rows));
    if std::env::var("RATEDECK_BENCH_POSTGRES").is_ok() {
        runtime.block_on(run(Backend::Postgres, rows));
    }
}
