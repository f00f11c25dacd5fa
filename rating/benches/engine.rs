//! Rating engine benchmarks on a synthetic deck of 1,000,000 prefixes.
//!
//! Target: at least 2,000,000 quotes (lookup + amount) per second per core.
//! Run with short settings, e.g.
//! `cargo bench -p rating --bench engine -- --warm-up-time 1 --measurement-time 3`.
//!
//! Times are the benchmarking thread's on-CPU time (Linux schedstat) when available,
//! so the figures are per core even when other processes share the machine; cache
//! pollution by those processes still counts. Set `RATING_BENCH_WALL=1` for
//! wall-clock time instead.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{black_box, BatchSize, Criterion, Throughput};
use rating::{AmountQuote, Call, Decimal, RateEntry, RateTable, RateTerms, Rounding};
use std::collections::HashSet;
use std::time::Instant;

/// On-CPU nanoseconds of the calling thread. The kernel only brings the running
/// thread's counter up to date at a tick or a reschedule, so yield first (a yield
/// reschedules, and time spent waiting for the CPU is not counted anyway).
fn thread_cpu_ns() -> Option<u64> {
    std::thread::yield_now();
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Criterion measurement: the benchmarking thread's on-CPU time.
struct CpuTime;

static WALL: WallTime = WallTime;

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns().unwrap_or(0)
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().unwrap_or(0).saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

const PREFIXES: usize = 1_000_000;
const NUMBERS: usize = 200_000;
const BATCH: usize = 1_000;
/// 2025-06-15: every current rate is in force, superseded ones have expired.
const NOW: i64 = 1_750_000_000;

/// SplitMix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Skewed towards small values: the minimum of two uniform draws.
    fn skewed(&mut self, n: u64) -> u64 {
        self.below(n).min(self.below(n))
    }

    fn digits(&mut self, out: &mut String, count: usize) {
        for _ in 0..count {
            out.push(char::from(b'0' + self.below(10) as u8));
        }
    }
}

/// ITU country codes, roughly by traffic: the earlier, the more prefixes.
const COUNTRIES: &[&str] = &[
    "1", "44", "49", "33", "7", "86", "91", "39", "34", "55", "52", "81", "61", "234", "62", "63",
    "66", "84", "90", "48", "31", "32", "41", "43", "45", "46", "47", "358", "353", "351", "30",
    "36", "40", "420", "421", "380", "375", "370", "371", "372", "373", "374", "994", "995", "998",
    "996", "992", "993", "20", "27", "212", "213", "216", "218", "220", "221", "222", "223", "224",
    "225", "226", "227", "228", "229", "230", "231", "232", "233", "235", "236", "237", "238",
    "239", "240", "241", "242", "243", "244", "245", "246", "248", "249", "250", "251", "252",
    "253", "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265", "266",
    "267", "268", "269", "290", "291", "297", "298", "299", "350", "352", "354", "355", "356",
    "357", "359", "376", "377", "378", "381", "382", "383", "385", "386", "387", "389", "423",
    "500", "501", "502", "503", "504", "505", "506", "507", "508", "509", "51", "53", "54", "56",
    "57", "58", "590", "591", "592", "593", "594", "595", "596", "597", "598", "599", "60", "64",
    "65", "670", "672", "673", "674", "675", "676", "677", "678", "679", "680", "681", "682",
    "683", "685", "686", "687", "688", "689", "690", "691", "692", "82", "850", "852", "853",
    "855", "856", "880", "886", "92", "93", "94", "95", "960", "961", "962", "963", "964", "965",
    "966", "967", "968", "970", "971", "972", "973", "974", "975", "976", "977", "98",
];

/// Terms shared by a country's rates: billing increments, fees, surcharge.
#[derive(Clone)]
struct CountryTerms {
    interval_1: u32,
    interval_n: u32,
    connect_fee: Decimal,
    free_seconds: u32,
    grace_period: u32,
    postcall_surcharge: Decimal,
}

impl CountryTerms {
    fn new(rng: &mut Rng) -> Self {
        let (interval_1, interval_n) =
            [(1, 1), (30, 6), (60, 60), (60, 1), (30, 30)][rng.below(5) as usize];
        CountryTerms {
            interval_1,
            interval_n,
            connect_fee: if rng.below(4) == 0 {
                Decimal::new(rng.below(50) as i64, 3)
            } else {
                Decimal::ZERO
            },
            free_seconds: if rng.below(10) == 0 { 10 } else { 0 },
            grace_period: if rng.below(3) == 0 { 3 } else { 0 },
            postcall_surcharge: if rng.below(5) == 0 {
                Decimal::new(5, 2)
            } else {
                Decimal::ZERO
            },
        }
    }

    fn with_price(&self, price: Decimal) -> RateTerms {
        RateTerms {
            connect_fee: self.connect_fee,
            price_1: price,
            price_n: price,
            interval_1: self.interval_1,
            interval_n: self.interval_n,
            free_seconds: self.free_seconds,
            grace_period: self.grace_period,
            postcall_surcharge: self.postcall_surcharge,
        }
    }
}

/// A price per minute at 5 dp, skewed towards cheap destinations.
fn price(rng: &mut Rng) -> Decimal {
    Decimal::new(50 + rng.skewed(400_000) as i64, 5)
}

/// Country codes, then area codes under each (more for busier countries), then
/// number ranges under the areas, all 1..12 digits; ~5% of prefixes also carry a
/// superseded (expired) rate and ~1% are forbidden.
fn deck() -> (Vec<RateEntry>, Vec<String>) {
    let mut rng = Rng(0x5EED_CAFE);
    let countries: Vec<CountryTerms> = COUNTRIES
        .iter()
        .map(|_| CountryTerms::new(&mut rng))
        .collect();
    let mut seen: HashSet<String> = HashSet::with_capacity(PREFIXES);
    // (prefix, country, area price)
    let mut prefixes: Vec<(String, usize, Decimal)> = Vec::with_capacity(PREFIXES);
    for (c, cc) in COUNTRIES.iter().enumerate() {
        if seen.insert(cc.to_string()) {
            prefixes.push((cc.to_string(), c, price(&mut rng)));
        }
    }
    // Area codes per country (more for busier countries), each with its price.
    let areas: Vec<Vec<(String, Decimal)>> = (0..COUNTRIES.len())
        .map(|rank| {
            let count = 20 + 4000 / (rank + 1);
            (0..count)
                .map(|_| {
                    let mut a = String::new();
                    let len = 1 + rng.below(4) as usize;
                    rng.digits(&mut a, len);
                    (a, price(&mut rng))
                })
                .collect()
        })
        .collect();
    while prefixes.len() < PREFIXES {
        let c = rng.skewed(COUNTRIES.len() as u64) as usize;
        let (area, area_price) = &areas[c][rng.skewed(areas[c].len() as u64) as usize];
        let mut p = String::with_capacity(12);
        p.push_str(COUNTRIES[c]);
        p.push_str(area);
        let room = 12usize.saturating_sub(p.len());
        let extra = (rng.below(room as u64 + 1) as usize).min(1 + rng.below(5) as usize);
        rng.digits(&mut p, extra);
        p.truncate(12);
        if seen.insert(p.clone()) {
            prefixes.push((p, c, *area_price));
        }
    }

    let mut entries = Vec::with_capacity(PREFIXES + PREFIXES / 16);
    for (p, c, area_price) in &prefixes {
        let plus = if rng.below(10) == 0 { "+" } else { "" };
        // Most ranges bill at their area's price; some (premium, mobile) differ.
        let terms = |rng: &mut Rng| {
            let own = if rng.below(6) == 0 {
                price(rng)
            } else {
                *area_price
            };
            countries[*c].with_price(own)
        };
        if rng.below(20) == 0 {
            entries.push(RateEntry {
                id: entries.len() as i64,
                prefix: format!("{plus}{p}"),
                activation: NOW - 400 * 86_400,
                expiration: Some(NOW - 30 * 86_400),
                forbidden: false,
                terms: terms(&mut rng),
            });
        }
        let terms = terms(&mut rng);
        entries.push(RateEntry {
            id: entries.len() as i64,
            prefix: format!("{plus}{p}"),
            activation: NOW - 30 * 86_400,
            expiration: None,
            forbidden: rng.below(100) == 0,
            terms,
        });
    }

    // Dialled numbers: a deck prefix padded to a full number, some unknown ones.
    let numbers = (0..NUMBERS)
        .map(|_| {
            let mut n = String::with_capacity(16);
            if rng.below(2) == 0 {
                n.push('+');
            }
            if rng.below(20) == 0 {
                rng.digits(&mut n, 11);
            } else {
                let p = &prefixes[rng.below(prefixes.len() as u64) as usize].0;
                n.push_str(p);
                let len = 11 + rng.below(3) as usize;
                let pad = len.saturating_sub(p.len()).max(1);
                rng.digits(&mut n, pad);
            }
            n
        })
        .collect();
    (entries, numbers)
}

fn benches<M: Measurement>(c: &mut Criterion<M>) {
    let started = Instant::now();
    let (entries, numbers) = deck();
    eprintln!(
        "deck: {} rates over {} prefixes generated in {:?}",
        entries.len(),
        PREFIXES,
        started.elapsed()
    );
    let started = Instant::now();
    let cpu = thread_cpu_ns();
    let table = RateTable::new(entries.clone());
    let cpu = thread_cpu_ns().zip(cpu).map(|(b, a)| (b - a) / 1_000_000);
    let mib = |bytes: usize| bytes as f64 / 1048576.0;
    let pricing_bytes = table.distinct_pricings() * std::mem::size_of::<rating::Pricing>();
    eprintln!(
        "table built in {:?} (cpu {cpu:?} ms): index {:.1} MiB (trie and rates {:.1} MiB, \
         {} distinct pricings {:.1} MiB), with the entries {:.1} MiB",
        started.elapsed(),
        mib(table.index_bytes()),
        mib(table.index_bytes() - pricing_bytes),
        table.distinct_pricings(),
        mib(pricing_bytes),
        mib(table.heap_bytes()),
    );
    let rated = numbers
        .iter()
        .filter(|n| {
            matches!(
                table.quote_amount(n, NOW, 90, Rounding::HalfAwayFromZero),
                AmountQuote::Rated { .. }
            )
        })
        .count();
    eprintln!("{rated} of {} numbers rated", numbers.len());

    let mut group = c.benchmark_group("table_1m");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut offset = 0;
    group.bench_function("quote_amount", |b| {
        b.iter(|| {
            offset = (offset + BATCH) % (NUMBERS - BATCH);
            for (i, n) in numbers[offset..offset + BATCH].iter().enumerate() {
                black_box(table.quote_amount(
                    black_box(n),
                    NOW,
                    30 + i as u64,
                    Rounding::HalfAwayFromZero,
                ));
            }
        })
    });
    let calls: Vec<Call> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| Call {
            number: n,
            at: NOW,
            duration: 30 + (i % BATCH) as u64,
        })
        .collect();
    let mut out = Vec::with_capacity(BATCH);
    group.bench_function("quote_amounts_batched", |b| {
        b.iter(|| {
            offset = (offset + BATCH) % (NUMBERS - BATCH);
            out.clear();
            table.quote_amounts(
                black_box(&calls[offset..offset + BATCH]),
                Rounding::HalfAwayFromZero,
                &mut out,
            );
            black_box(&out);
        })
    });
    group.bench_function("lookup", |b| {
        b.iter(|| {
            offset = (offset + BATCH) % (NUMBERS - BATCH);
            for n in &numbers[offset..offset + BATCH] {
                black_box(table.lookup(black_box(n), NOW));
            }
        })
    });
    group.bench_function("quote_breakdown", |b| {
        b.iter(|| {
            offset = (offset + BATCH) % (NUMBERS - BATCH);
            for (i, n) in numbers[offset..offset + BATCH].iter().enumerate() {
                black_box(table.quote(black_box(n), NOW, 30 + i as u64, Rounding::Up));
            }
        })
    });
    group.finish();

    // Rating and authorising against one rate.
    let terms = RateTerms {
        connect_fee: Decimal::new(10, 2),
        price_1: Decimal::new(6, 2),
        price_n: Decimal::new(3, 2),
        interval_1: 60,
        interval_n: 6,
        free_seconds: 10,
        grace_period: 5,
        postcall_surcharge: Decimal::new(1, 1),
    };
    let pricing = terms.compile();
    let funds: Vec<Decimal> = (0..BATCH as i64)
        .map(|i| Decimal::new(17_600 + i * 9_973, 5))
        .collect();
    let mut group = c.benchmark_group("single_rate");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("pricing_amount", |b| {
        b.iter(|| {
            for d in 0..BATCH as u64 {
                let _ = black_box(pricing.amount(black_box(d * 7), Rounding::HalfAwayFromZero));
            }
        })
    });
    group.bench_function("terms_amount", |b| {
        b.iter(|| {
            for d in 0..BATCH as u64 {
                let _ = black_box(terms.amount(black_box(d * 7), Rounding::HalfAwayFromZero));
            }
        })
    });
    group.bench_function("terms_rate", |b| {
        b.iter(|| {
            for d in 0..BATCH as u64 {
                let _ = black_box(terms.rate(black_box(d * 7), Rounding::HalfAwayFromZero));
            }
        })
    });
    group.bench_function("pricing_max_duration", |b| {
        b.iter(|| {
            for f in &funds {
                black_box(pricing.max_duration(black_box(*f), Rounding::HalfAwayFromZero, 86_400));
            }
        })
    });
    group.bench_function("terms_max_duration", |b| {
        b.iter(|| {
            for f in &funds {
                black_box(terms.max_duration(black_box(*f), Rounding::Up, 86_400));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("table_1m", |b| {
        b.iter_batched(|| entries.clone(), RateTable::new, BatchSize::LargeInput)
    });
    group.finish();
}

fn main() {
    let wall = std::env::var_os("RATING_BENCH_WALL").is_some_and(|v| v != "0");
    if !wall && thread_cpu_ns().is_some() {
        let mut c = Criterion::default()
            .with_measurement(CpuTime)
            .configure_from_args();
        benches(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c);
        c.final_summary();
    }
}
