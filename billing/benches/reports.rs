//! Spend reports: a 30-day report of a tenant with many CDRs, for each
//! grouping, the range's totals, and the tenant account's balance per day
//! (from its ledger: one entry per charged call, all written today), on SQLite (a temporary file) and on
//! PostgreSQL (a fresh database on the local server). The CDRs are ingested
//! first (timed too: the rollups are written with them), spread over 30
//! days and a 10,000-prefix deck.
//!
//! `cargo bench -p billing --bench reports`; `RATEDECK_BENCH_CDRS` changes
//! the number of CDRs (default 100,000), `RATEDECK_BENCH_BACKENDS` the
//! databases (`sqlite,postgres`).

use std::future::Future;
use std::time::{Duration, Instant};

use billing::reports::GroupBy;
use billing::Backend;
use model::cdr::{CallRecord, Direction, NewCdr};

mod common;
use common::{charging_tenant, run_on_backends};

const BATCH: u64 = 1_000;
const DECK_ROWS: u64 = 10_000;
/// 2027-01-15T00:00:00Z, the first of the 30 days.
const START: i64 = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000;
const DAYS: i64 = 30;

fn cdr(i: u64, total: u64) -> NewCdr {
    let direction = if i % 10 == 9 {
        Direction::Extension
    } else {
        Direction::Outbound
    };
    let spread = DAYS * 86_400_000 / i64::try_from(total).unwrap_or(1).max(1);
    let started_at = START + i64::try_from(i).unwrap_or(0) * spread;
    NewCdr {
        call: CallRecord {
            call_id: format!("bench-{i}"),
            caller: format!("{}", 100 + i % 50),
            caller_domain: "deck.example.com".into(),
            caller_display_name: String::new(),
            callee: format!("{}5551234", 10_000_000 + (i * 7_919) % DECK_ROWS),
            callee_domain: String::new(),
            callee_display_name: String::new(),
            started_at,
            rang_at: None,
            answered_at: (!i.is_multiple_of(4)).then_some(started_at + 2_000),
            ended_at: Some(started_at + 100_000),
            direction,
            end_reason: None,
            reroute_reason: None,
            status_code: Some(200),
            destination: String::new(),
            outbound_caller_id: String::new(),
            did_cid: String::new(),
            trunk: "carrier-a".into(),
            duration: 30 + i64::try_from(i % 300).unwrap_or(0),
            user_data: String::new(),
        },
        extension: None,
    }
}

async fn run(backend: Backend, total: u64) {
    let (t, scope) = charging_tenant(backend, DECK_ROWS).await;
    let db = &t.db;

    let start = Instant::now();
    let mut next = 0;
    while next < total {
        let end = (next + BATCH).min(total);
        let cdrs: Vec<NewCdr> = (next..end).map(|i| cdr(i, total)).collect();
        db.ingest_cdrs(&scope, cdrs).await.expect("ingest");
        next = end;
    }
    let took = start.elapsed();
    println!(
        "{backend:?}: {total} CDRs over {DAYS} days ingested at {:.0} CDRs/s (rollups included)",
        total as f64 / took.as_secs_f64()
    );

    let to = START + DAYS * 86_400_000;
    for group_by in [
        GroupBy::Day,
        GroupBy::Hour,
        GroupBy::HourOfDay,
        GroupBy::Destination,
        GroupBy::User,
        GroupBy::Type,
    ] {
        let (median, slowest, report) =
            timed(|| async { db.spend_report(&scope, START, to, group_by).await }).await;
        let report = report.expect("report");
        let calls: i64 = report.items.iter().map(|i| i.calls).sum();
        assert_eq!(calls, i64::try_from(total).unwrap_or(0));
        println!(
            "{backend:?}: 30-day report by {group_by:?}: {} groups, median {median:.2} ms, slowest {slowest:.2} ms",
            report.items.len()
        );
    }

    let (median, slowest, summary) =
        timed(|| async { db.spend_summary(&scope, START, to).await }).await;
    assert_eq!(
        summary.expect("summary").calls,
        i64::try_from(total).unwrap_or(0)
    );
    println!("{backend:?}: 30-day summary: median {median:.2} ms, slowest {slowest:.2} ms");

    let now = billing::db::now_ms();
    let today = now - now % 86_400_000;
    let (from, until) = (today - (DAYS - 1) * 86_400_000, today + 86_400_000);
    let (median, slowest, history) =
        timed(|| async { db.balance_history(&scope, from, until).await }).await;
    let history = history.expect("history");
    assert_eq!(history.items.len(), usize::try_from(DAYS).unwrap_or(0));
    let entries: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM balance_transactions")
            .fetch_one(db.pool())
            .await
            .expect("ledger entries");
    println!(
        "{backend:?}: 30-day balance per day over {entries} ledger entries: median {median:.2} ms, slowest {slowest:.2} ms"
    );
}

/// The median and slowest of 21 runs of `run`, in milliseconds, and what
/// the last run answered.
async fn timed<T, F, Fut>(mut run: F) -> (f64, f64, T)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let mut times: Vec<Duration> = Vec::new();
    let start = Instant::now();
    let mut last = run().await;
    times.push(start.elapsed());
    for _ in 1..21 {
        let start = Instant::now();
        last = run().await;
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(times[times.len() / 2]), ms(times[times.len() - 1]), last)
}

fn main() {
    run_on_backends("RATEDECK_BENCH_CDRS", 100_000, run);
}
