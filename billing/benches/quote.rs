//! The rating engine beside the SQL way, on the same 1M-prefix deck in the
//! same run: quotes per second on one core from the in-memory rate table,
//! against a longest-prefix query per call as PHP billers run it (`LIKE`
//! over every prefix) and its indexed variant (`IN` the number's prefixes).
//!
//! `cargo bench -p billing --bench quote` (SQLite in a temporary file);
//! `RATEDECK_BENCH_ROWS` changes the deck size.

use std::hint::black_box;
use std::time::{Duration, Instant};

use billing::testing::{new_tenant, TestDb};
use billing::Backend;
use rating::{AmountQuote, Rounding};
use sqlx::Row;

mod common;
use common::deck;

/// A dialled number for deck row `i`: its prefix and a subscriber part.
fn number(i: u64) -> String {
    format!("{}5551234", 10_000_000 + i)
}

fn rate_per_second(count: u64, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64()
}

async fn run(rows: u64) {
    let t = TestDb::new(Backend::Sqlite).await.expect("database");
    let db = &t.db;
    let scope = new_tenant(db, "deck.example.com").await.expect("tenant");
    let tenant_id = scope.tenant_id;
    db.import_call_rates(&scope, deck(rows))
        .await
        .expect("deck");

    let start = Instant::now();
    let rating = db.tenant_rating(tenant_id).await.expect("rate table");
    let rates = &rating.default;
    println!(
        "rate table of {} rates built in {:.2?}",
        rates.table.len(),
        start.elapsed()
    );

    // The engine: lookup and amount, one core.
    let numbers: Vec<String> = (0..200_000u64)
        .map(|k| number((k * 7_919) % rows))
        .collect();
    let at = 1_800_000_000;
    let rounds = 10u64;
    let start = Instant::now();
    let mut rated = 0u64;
    for _ in 0..rounds {
        for n in &numbers {
            if let AmountQuote::Rated { amount, .. } =
                rates
                    .table
                    .quote_amount(black_box(n), at, 125, Rounding::HalfAwayFromZero)
            {
                black_box(amount);
                rated += 1;
            }
        }
    }
    let engine_took = start.elapsed();
    let engine = rate_per_second(rounds * numbers.len() as u64, engine_took);
    assert_eq!(
        rated,
        rounds * numbers.len() as u64,
        "every number has a rate"
    );
    println!(
        "engine: {:.0} quotes/s on one core ({:.0} ns per quote)",
        engine,
        engine_took.as_nanos() as f64 / (rounds * numbers.len() as u64) as f64
    );

    let tariff: i64 =
        sqlx::query("SELECT id FROM tariffs WHERE tenant_id = $1 AND is_default = TRUE")
            .bind(tenant_id)
            .fetch_one(db.pool())
            .await
            .expect("tariff")
            .try_get(0)
            .expect("id");

    // SQL, the classic way: the number LIKE each prefix, longest first.
    let like_count = 20u64;
    let start = Instant::now();
    for k in 0..like_count {
        let row = sqlx::query(
            "SELECT id, price_1 FROM call_rates WHERE tariff_id = $1 AND $2 LIKE prefix_key || '%' \
             ORDER BY LENGTH(prefix_key) DESC LIMIT 1",
        )
        .bind(tariff)
        .bind(number((k * 104_729) % rows))
        .fetch_optional(db.pool())
        .await
        .expect("query");
        assert!(row.is_some());
    }
    let like = rate_per_second(like_count, start.elapsed());
    println!(
        "SQL LIKE prefix || '%': {like:.1} lookups/s ({:.0}x slower than the engine)",
        engine / like
    );

    // SQL, indexed: the number's own prefixes IN the unique index.
    let in_count = 5_000u64;
    let start = Instant::now();
    for k in 0..in_count {
        let n = number((k * 104_729) % rows);
        let prefixes: Vec<String> = (1..=n.len()).map(|l| n[..l].to_string()).collect();
        let placeholders: Vec<String> =
            (0..prefixes.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id, price_1 FROM call_rates WHERE tariff_id = $1 AND prefix_key IN ({}) \
             ORDER BY LENGTH(prefix_key) DESC LIMIT 1",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(tariff);
        for p in &prefixes {
            query = query.bind(p.as_str());
        }
        assert!(query
            .fetch_optional(db.pool())
            .await
            .expect("query")
            .is_some());
    }
    let indexed = rate_per_second(in_count, start.elapsed());
    println!(
        "SQL prefix_key IN (the number's prefixes): {indexed:.0} lookups/s ({:.0}x slower than the engine)",
        engine / indexed
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rows: u64 = std::env::var("RATEDECK_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run(rows));
}
