//! What the storage benchmarks share: a synthetic rate deck, and a tenant
//! that rates and charges with it.

use futures::StreamExt;

/// A deterministic deck of `rows` distinct prefixes, as CSV chunks.
pub fn deck(rows: u64) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Unpin {
    deck_priced(rows, 0)
}

/// [`deck`] with every `every`-th rate's prices raised (none when 0): the
/// same prefixes, some of them changed.
#[allow(dead_code)]
pub fn deck_priced(
    rows: u64,
    every: u64,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Unpin {
    let header = futures::stream::iter([Ok(
        b"prefix,type,free_seconds,grace_period,interval_1,interval_n,connect_fee,postcall_surcharge,price_1,price_n,description\n"
            .to_vec(),
    )]);
    let body = futures::stream::iter((0..rows).step_by(10_000)).map(move |start| {
        let mut chunk = String::with_capacity(10_000 * 64);
        for i in start..(start + 10_000).min(rows) {
            let mut price = 100 + (i * 7919) % 90_000;
            if every > 0 && i % every == 0 {
                price += 1;
            }
            chunk.push_str(&format!(
                "{},INTERNATIONAL,0,0,60,6,0,0,0.{:05},0.{:05},Destination {}\n",
                10_000_000 + i,
                price,
                price / 2 + 1,
                i
            ));
        }
        Ok(chunk.into_bytes())
    });
    header.chain(body)
}

/// A fresh database with a tenant `deck.example.com` that rates with a
/// [`deck`] of `rows` prefixes, charges its calls and has funds for a
/// million of them.
#[allow(dead_code)]
pub async fn charging_tenant(
    backend: billing::Backend,
    rows: u64,
) -> (billing::testing::TestDb, billing::Scope) {
    use billing::testing::{new_tenant, TestDb};
    use model::billing_settings::BillingSettingsPatch;

    let t = TestDb::new(backend).await.expect("database");
    let scope = new_tenant(&t.db, "deck.example.com").await.expect("tenant");
    t.db.import_call_rates(&scope, deck(rows))
        .await
        .expect("deck");
    t.db.update_billing_settings(
        &scope,
        BillingSettingsPatch {
            enabled: Some(true),
            ..Default::default()
        },
    )
    .await
    .expect("billing on");
    t.db.recharge_tenant(&scope, model::Money::from_units(1_000_000 * 100_000))
        .await
        .expect("recharge");
    (t, scope)
}

/// A benchmark's `main`: reads the count `var` (else `default`), then runs
/// `run` on each database `RATEDECK_BENCH_BACKENDS` names (`sqlite,postgres`
/// unless set). `--list` (cargo's probe) runs nothing.
#[allow(dead_code)]
pub fn run_on_backends<F, Fut>(var: &str, default: u64, run: F)
where
    F: Fn(billing::Backend, u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count: u64 = std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let backends =
        std::env::var("RATEDECK_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_string());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for name in backends.split(',') {
        let backend = match name.trim() {
            "sqlite" => billing::Backend::Sqlite,
            "postgres" => billing::Backend::Postgres,
            other => panic!("unknown backend {other}"),
        };
        runtime.block_on(run(backend, count));
    }
}
