//! CDR ingestion: rated CDRs stored and charged per second, in batches of
//! 1,000 as the PBX posts them, on SQLite (a temporary file) and on
//! PostgreSQL (a fresh database on the local server).
//!
//! `cargo bench -p billing --bench ingest`; `RATEDECK_BENCH_BATCHES` changes
//! the number of timed batches (default 30), `RATEDECK_BENCH_BACKENDS` the
//! databases (`sqlite,postgres`). With `RATEDECK_BENCH_WEBHOOK=1` the tenant
//! has a webhook endpoint that takes `call.rated`, so every call stored also
//! queues its delivery (without, the default, ingestion only looks for one).

use std::time::{Duration, Instant};

use billing::Backend;
use model::cdr::{CallRecord, Direction, NewCdr};

mod common;
use common::{charging_tenant, run_on_backends};

const BATCH: usize = 1_000;
const DECK_ROWS: u64 = 100_000;

fn cdr(i: u64) -> NewCdr {
    // Nine calls in ten go out (rated); one in ten is between extensions.
    let direction = if i % 10 == 9 {
        Direction::Extension
    } else {
        Direction::Outbound
    };
    NewCdr {
        call: CallRecord {
            call_id: format!("bench-{i}"),
            caller: "101".into(),
            caller_domain: "deck.example.com".into(),
            caller_display_name: "Bench".into(),
            callee: format!("{}5551234", 10_000_000 + (i * 7_919) % DECK_ROWS),
            callee_domain: String::new(),
            callee_display_name: String::new(),
            started_at: 1_800_000_000_000 + i64::try_from(i).unwrap_or(0) * 1000,
            rang_at: None,
            answered_at: Some(1_800_000_002_000),
            ended_at: Some(1_800_000_100_000),
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

async fn run(backend: Backend, batches: u64) {
    let (t, scope) = charging_tenant(backend, DECK_ROWS).await;
    let db = &t.db;
    let webhook = std::env::var("RATEDECK_BENCH_WEBHOOK").is_ok_and(|v| v == "1");
    if webhook {
        let body = serde_json::json!({
            "url": "https://hooks.example.com/bench", "events": ["call.rated"]
        });
        let patch = model::webhook::EndpointPatch::from_json(body.as_object().expect("an object"))
            .expect("an endpoint");
        db.create_webhook_endpoint(&scope, patch)
            .await
            .expect("the endpoint");
    }
    let mode = if webhook {
        ", each queueing a call.rated delivery"
    } else {
        ""
    };

    let warmup = 2u64;
    let mut next = 0u64;
    let mut took = Duration::ZERO;
    let mut rated = 0u64;
    let mut slowest = Duration::ZERO;
    for round in 0..warmup + batches {
        let cdrs: Vec<NewCdr> = (next..next + BATCH as u64).map(cdr).collect();
        next += BATCH as u64;
        let start = Instant::now();
        let done = db.ingest_cdrs(&scope, cdrs).await.expect("ingest");
        let elapsed = start.elapsed();
        assert_eq!(done.accepted, BATCH as u64);
        if round >= warmup {
            took += elapsed;
            rated += done.rated;
            slowest = slowest.max(elapsed);
        }
    }
    let per_second = (batches * BATCH as u64) as f64 / took.as_secs_f64();
    println!(
        "{backend:?}: {per_second:.0} CDRs/s stored ({:.0} rated and charged/s), \
         {:.1} ms per batch of {BATCH} on average, slowest {:.1} ms ({batches} batches{mode})",
        rated as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / batches as f64,
        slowest.as_secs_f64() * 1000.0
    );

    // The same batch again is all duplicates and charges nothing.
    let before = db.tenant_balance(&scope).await.expect("balance");
    let again: Vec<NewCdr> = (0..BATCH as u64).map(cdr).collect();
    let start = Instant::now();
    let done = db.ingest_cdrs(&scope, again).await.expect("ingest");
    assert_eq!(done.duplicates, BATCH as u64);
    assert_eq!(db.tenant_balance(&scope).await.expect("balance"), before);
    println!(
        "{backend:?}: a batch of {BATCH} duplicates in {:.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
}

fn main() {
    run_on_backends("RATEDECK_BENCH_BATCHES", 30, run);
}
