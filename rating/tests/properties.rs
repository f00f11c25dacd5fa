//! Property tests: the rating engine against straightforward reference
//! implementations of docs/rating.md.

use model::bounds::{
    CONNECT_FEE_MAX, DURATION_MAX, FREE_SECONDS_MAX, GRACE_PERIOD_MAX, INTERVAL_MAX, PRICE_MAX,
    SURCHARGE_MAX,
};
use proptest::prelude::*;
use rating::{
    AmountQuote, AmountTooLarge, Call, Decimal, Quote, RateEntry, RateTable, RateTerms, Rounding,
    MAX_AMOUNT,
};
use rust_decimal::RoundingStrategy;

const ROUNDINGS: [Rounding; 2] = [Rounding::HalfAwayFromZero, Rounding::Up];

fn money(max_mantissa: i64, max_scale: u32) -> impl Strategy<Value = Decimal> {
    (0..=max_mantissa, 0..=max_scale).prop_map(|(m, s)| Decimal::new(m, s))
}

/// Valid terms (RateTerms::validate passes), with prices whose per-second value
/// often does not terminate, and surcharges from -100% to +300%.
fn terms() -> impl Strategy<Value = RateTerms> {
    (
        money(5_000, 5),
        money(100_000, 7),
        money(100_000, 7),
        1u32..=120,
        1u32..=120,
        0u32..=120,
        0u32..=150,
        (-100i64..=300, 0u32..=3),
    )
        .prop_map(
            |(connect_fee, price_1, price_n, i1, i_n, free, grace, (s, ss))| {
                // -100..=300 at scale 2 is -1..=3; higher scales shrink towards 0.
                let surcharge = Decimal::new(s, 2 + ss);
                RateTerms {
                    connect_fee,
                    price_1,
                    price_n,
                    interval_1: i1,
                    interval_n: i_n,
                    free_seconds: free,
                    grace_period: grace,
                    postcall_surcharge: surcharge,
                }
            },
        )
}

fn strategy(r: Rounding) -> RoundingStrategy {
    match r {
        Rounding::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
        Rounding::Up => RoundingStrategy::ToPositiveInfinity,
    }
}

/// docs/rating.md's formula with plain `Decimal` arithmetic: every product is exact for
/// these small inputs and the single division by 60 cannot land on a rounding tie
/// unless the exact value does.
fn reference_blocks(t: &RateTerms, n: u64, r: Rounding) -> Decimal {
    let sixty = Decimal::from(60);
    let numerator = (t.connect_fee * sixty
        + Decimal::from(t.interval_1) * t.price_1
        + Decimal::from(n) * Decimal::from(t.interval_n) * t.price_n)
        * (Decimal::ONE + t.postcall_surcharge);
    (numerator / sixty).round_dp_with_strategy(5, strategy(r))
}

fn reference_blocks_for(t: &RateTerms, d: u64) -> u64 {
    let after = d.saturating_sub(u64::from(t.interval_1) + u64::from(t.free_seconds));
    after.div_ceil(u64::from(t.interval_n))
}

fn reference_amount(t: &RateTerms, d: u64, r: Rounding) -> Decimal {
    if d < u64::from(t.grace_period) {
        return Decimal::ZERO;
    }
    reference_blocks(t, reference_blocks_for(t, d), r)
}

/// Longest d <= cap whose amount fits, scanning second by second.
fn reference_max_duration(t: &RateTerms, funds: Decimal, r: Rounding, cap: u64) -> Option<u64> {
    if reference_blocks(t, 0, r) > funds {
        return None;
    }
    let mut best = None;
    for d in 0..=cap {
        if reference_amount(t, d, r) <= funds {
            best = Some(d);
        } else {
            break;
        }
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn amount_matches_reference(t in terms(), d in 0u64..20_000) {
        prop_assert!(t.validate().is_ok());
        for r in ROUNDINGS {
            let amount = t.amount(d, r).expect("representable");
            prop_assert_eq!(amount, reference_amount(&t, d, r));
            prop_assert_eq!(amount.scale(), 5);
            let b = t.rate(d, r).expect("representable");
            prop_assert_eq!(b.amount, amount);
            prop_assert_eq!(b.amount.scale(), 5);
            prop_assert_eq!(b.rounding, r);
            prop_assert_eq!(b.duration, d);
        }
    }

    #[test]
    fn breakdown_is_consistent(t in terms(), d in 0u64..20_000) {
        let b = t.rate(d, Rounding::HalfAwayFromZero).expect("representable");
        if d < u64::from(t.grace_period) {
            prop_assert!(b.within_grace);
            prop_assert_eq!(b.billable_seconds, 0);
            prop_assert_eq!(b.blocks, 0);
            prop_assert!(b.unrounded.is_zero() && b.connect_fee.is_zero());
        } else {
            prop_assert!(!b.within_grace);
            let n = reference_blocks_for(&t, d);
            prop_assert_eq!(b.blocks, n);
            prop_assert_eq!(b.billable_seconds, u64::from(t.interval_1) + n * u64::from(t.interval_n));
            prop_assert_eq!(b.connect_fee, t.connect_fee);
            let parts = b.connect_fee + b.first_interval + b.blocks_cost + b.surcharge;
            prop_assert!((parts - b.unrounded).abs() < Decimal::new(1, 18), "{} vs {}", parts, b.unrounded);
            prop_assert_eq!(b.unrounded.round_dp_with_strategy(5, RoundingStrategy::MidpointAwayFromZero), b.amount);
        }
    }

    #[test]
    fn amount_never_decreases(t in terms(), d in 0u64..20_000, step in 1u64..500) {
        for r in ROUNDINGS {
            prop_assert!(t.amount(d, r).expect("representable") <= t.amount(d + 1, r).expect("representable"));
            prop_assert!(t.amount(d, r).expect("representable") <= t.amount(d + step, r).expect("representable"));
        }
    }

    #[test]
    fn up_is_at_most_one_unit_above_half(t in terms(), d in 0u64..20_000) {
        let half = t.amount(d, Rounding::HalfAwayFromZero).expect("representable");
        let up = t.amount(d, Rounding::Up).expect("representable");
        prop_assert!(up >= half);
        prop_assert!(up - half <= Decimal::new(1, 5));
    }

    #[test]
    fn grace_free_and_block_boundaries(t in terms(), k in 1u64..50) {
        let grace = u64::from(t.grace_period);
        let edge = u64::from(t.interval_1) + u64::from(t.free_seconds);
        let i_n = u64::from(t.interval_n);
        for r in ROUNDINGS {
            let first = reference_blocks(&t, 0, r);
            if grace > 0 {
                // Under grace nothing is charged, not even the connect fee.
                prop_assert!(t.amount(grace - 1, r).expect("representable").is_zero());
                prop_assert!(t.amount(0, r).expect("representable").is_zero());
            } else {
                prop_assert_eq!(t.amount(0, r).expect("representable"), first);
            }
            if grace <= edge {
                // From the end of grace to the end of the free seconds: the first interval.
                prop_assert_eq!(t.amount(grace, r).expect("representable"), first);
                prop_assert_eq!(t.amount(edge, r).expect("representable"), first);
                prop_assert_eq!(t.amount(edge + 1, r).expect("representable"), reference_blocks(&t, 1, r));
            }
            // The last second of block k costs the same as its first second, and the
            // next second starts block k + 1.
            let start = edge + (k - 1) * i_n + 1;
            let end = edge + k * i_n;
            if start >= grace {
                prop_assert_eq!(t.amount(start, r).expect("representable"), reference_blocks(&t, k, r));
                prop_assert_eq!(t.amount(end, r).expect("representable"), reference_blocks(&t, k, r));
                prop_assert_eq!(t.amount(end + 1, r).expect("representable"), reference_blocks(&t, k + 1, r));
            }
        }
    }

    #[test]
    fn max_duration_is_exact(
        t in terms(),
        funds in money(5_000_000, 6),
        cap in 0u64..1_000_000,
    ) {
        for r in ROUNDINGS {
            match t.max_duration(funds, r, cap) {
                None => prop_assert!(reference_blocks(&t, 0, r) > funds),
                Some(d) => {
                    prop_assert!(reference_blocks(&t, 0, r) <= funds);
                    prop_assert!(d <= cap);
                    prop_assert!(t.amount(d, r).expect("representable") <= funds, "amount({}) = {} > {}", d, t.amount(d, r).expect("representable"), funds);
                    if d < cap {
                        prop_assert!(t.amount(d + 1, r).expect("representable") > funds, "amount({}) = {} <= {}", d + 1, t.amount(d + 1, r).expect("representable"), funds);
                    }
                }
            }
        }
    }

    #[test]
    fn max_duration_matches_a_scan(
        t in terms(),
        funds in money(100_000, 5),
        cap in 0u64..3_000,
    ) {
        for r in ROUNDINGS {
            prop_assert_eq!(t.max_duration(funds, r, cap), reference_max_duration(&t, funds, r, cap));
        }
    }

    #[test]
    fn max_duration_near_each_amount(t in terms(), d in 0u64..50_000) {
        // Funds of exactly amount(d) must allow at least d seconds; one unit less must
        // allow fewer (or refuse).
        for r in ROUNDINGS {
            let funds = t.amount(d, r).expect("representable");
            if let Some(m) = t.max_duration(funds, r, u64::MAX) {
                prop_assert!(m >= d || funds < reference_blocks(&t, 0, r));
            }
            let less = funds - Decimal::new(1, 5);
            if let Some(m) = t.max_duration(less, r, u64::MAX) {
                prop_assert!(m < d);
            }
        }
    }

    #[test]
    fn zero_block_price_is_unbounded(mut t in terms(), cap in 0u64..u64::MAX) {
        t.price_n = Decimal::ZERO;
        let first = reference_blocks(&t, 0, Rounding::Up);
        prop_assert_eq!(t.max_duration(first, Rounding::Up, cap), Some(cap));
    }
}

fn key(s: &str) -> &str {
    s.strip_prefix('+').unwrap_or(s)
}

/// Scan every entry: longest prefix in force, then latest activation, then the
/// earliest entry.
fn reference_lookup(entries: &[RateEntry], number: &str, at: i64) -> Option<usize> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.activation <= at
                && e.expiration.is_none_or(|x| at < x)
                && key(number)
                    .as_bytes()
                    .starts_with(key(&e.prefix).as_bytes())
        })
        .max_by(|(i, a), (j, b)| {
            key(&a.prefix)
                .len()
                .cmp(&key(&b.prefix).len())
                .then(a.activation.cmp(&b.activation))
                .then(j.cmp(i))
        })
        .map(|(i, _)| i)
}

fn label() -> impl Strategy<Value = String> {
    // Mostly digits, some other bytes (including a multi-byte character).
    let byte = prop_oneof![
        8 => "[0-3]",
        1 => "[*#a]",
        1 => Just("é".to_string()),
    ];
    (any::<bool>(), proptest::collection::vec(byte, 0..5)).prop_map(|(plus, parts)| {
        let body: String = parts.concat();
        if plus {
            format!("+{body}")
        } else {
            body
        }
    })
}

fn entry() -> impl Strategy<Value = RateEntry> {
    (
        label(),
        0i64..10,
        proptest::option::of(1i64..10),
        proptest::bool::weighted(0.1),
        money(1000, 3),
    )
        .prop_map(|(prefix, activation, length, forbidden, price)| RateEntry {
            id: 0,
            prefix,
            activation,
            expiration: length.map(|l| activation + l),
            forbidden,
            terms: RateTerms {
                connect_fee: Decimal::ZERO,
                price_1: price,
                price_n: price,
                interval_1: 30,
                interval_n: 6,
                free_seconds: 0,
                grace_period: 0,
                postcall_surcharge: Decimal::ZERO,
            },
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn lookup_matches_brute_force(
        deck in proptest::collection::vec(entry(), 0..80),
        numbers in proptest::collection::vec((label(), label()), 1..20),
        at in -1i64..22,
    ) {
        let deck: Vec<RateEntry> = deck
            .into_iter()
            .enumerate()
            .map(|(i, e)| RateEntry { id: i as i64, ..e })
            .collect();
        let table = RateTable::new(deck.clone());
        prop_assert_eq!(table.len(), deck.len());
        let numbers: Vec<String> = numbers
            .into_iter()
            .map(|(a, b)| format!("{a}{}", key(&b)))
            .collect();
        // The batched path gives the same answers, with calls at different times.
        let calls: Vec<Call> = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| Call { number: n, at: at + (i as i64 % 3) - 1, duration: 25 + i as u64 * 7 })
            .collect();
        let mut batch = Vec::new();
        table.quote_amounts(&calls, Rounding::HalfAwayFromZero, &mut batch);
        prop_assert_eq!(batch.len(), calls.len());
        for (call, quote) in calls.iter().zip(&batch) {
            prop_assert_eq!(quote, &table.quote_amount(call.number, call.at, call.duration, Rounding::HalfAwayFromZero));
        }
        for number in numbers {
            let expected = reference_lookup(&deck, &number, at);
            let found = table.lookup(&number, at).map(|e| e.id as usize);
            prop_assert_eq!(found, expected, "number {:?} at {}", number, at);

            let d = 47;
            let r = Rounding::Up;
            match (table.quote_amount(&number, at, d, r), expected) {
                (AmountQuote::NoRate, None) => {}
                (AmountQuote::Forbidden { rate }, Some(i)) => {
                    prop_assert!(deck[i].forbidden);
                    prop_assert_eq!(rate.id as usize, i);
                }
                (AmountQuote::Rated { rate, amount }, Some(i)) => {
                    prop_assert!(!deck[i].forbidden);
                    prop_assert_eq!(rate.id as usize, i);
                    prop_assert_eq!(amount, deck[i].terms.amount(d, r).expect("representable"));
                }
                (other, expected) => prop_assert!(false, "{:?} vs {:?}", other, expected),
            }
            match table.quote(&number, at, d, r) {
                Quote::Rated { rate, breakdown } => {
                    prop_assert_eq!(&breakdown, &deck[rate.id as usize].terms.rate(d, r).expect("representable"));
                }
                Quote::Forbidden { rate } => prop_assert!(rate.forbidden),
                Quote::NoRate => prop_assert!(expected.is_none()),
                Quote::TooLarge { rate } => prop_assert!(false, "{:?} is small", rate),
            }
        }
    }
}

/// Any decimal at all: every magnitude and precision a `Decimal` holds, either sign.
fn any_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        3 => (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s)),
        2 => (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0u32..=28)
            .prop_map(|(lo, mid, hi, negative, s)| Decimal::from_parts(lo, mid, hi, negative, s)),
        1 => prop_oneof![
            Just(Decimal::MAX),
            Just(Decimal::MIN),
            Just(MAX_AMOUNT),
            Just(Decimal::ZERO),
            Just(Decimal::new(1, 28)),
        ],
    ]
}

fn any_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        any::<u32>(),
        Just(0u32),
        Just(1u32),
        Just(u32::MAX),
        0u32..200
    ]
}

fn any_duration() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), Just(u64::MAX), Just(0u64), 0u64..100_000]
}

/// Terms with any value of every field, far outside docs/rating.md's bounds.
fn extreme_terms() -> impl Strategy<Value = RateTerms> {
    (
        any_decimal(),
        any_decimal(),
        any_decimal(),
        any_u32(),
        any_u32(),
        any_u32(),
        any_u32(),
        any_decimal(),
    )
        .prop_map(
            |(
                connect_fee,
                price_1,
                price_n,
                interval_1,
                interval_n,
                free_seconds,
                grace_period,
                s,
            )| {
                RateTerms {
                    connect_fee,
                    price_1,
                    price_n,
                    interval_1,
                    interval_n,
                    free_seconds,
                    grace_period,
                    postcall_surcharge: s,
                }
            },
        )
}

/// Bounded money: a mantissa up to `max` whole units at 5 decimal places.
fn bounded_money(max: i64) -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (0..=max * 100_000).prop_map(|m| Decimal::new(m, 5)),
        Just(Decimal::from(max)),
        Just(Decimal::ZERO),
    ]
}

fn up_to(max: i64, min: u32) -> impl Strategy<Value = u32> {
    let max = u32::try_from(max).expect("a bound fits in 32 bits");
    prop_oneof![min..=max, Just(max), Just(min)]
}

/// Terms anywhere within the bounds every surface enforces (model::bounds).
fn bounded_terms() -> impl Strategy<Value = RateTerms> {
    (
        bounded_money(CONNECT_FEE_MAX),
        bounded_money(PRICE_MAX),
        bounded_money(PRICE_MAX),
        up_to(INTERVAL_MAX, 1),
        up_to(INTERVAL_MAX, 1),
        up_to(FREE_SECONDS_MAX, 0),
        up_to(GRACE_PERIOD_MAX, 0),
        bounded_money(SURCHARGE_MAX),
    )
        .prop_map(
            |(
                connect_fee,
                price_1,
                price_n,
                interval_1,
                interval_n,
                free_seconds,
                grace_period,
                s,
            )| {
                RateTerms {
                    connect_fee,
                    price_1,
                    price_n,
                    interval_1,
                    interval_n,
                    free_seconds,
                    grace_period,
                    postcall_surcharge: s,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Whatever the terms and duration, rating answers an amount it can stand
    /// behind or the error value; it never panics and never clips.
    #[test]
    fn extreme_inputs_give_an_amount_or_an_error_value(
        t in extreme_terms(),
        d in any_duration(),
        funds in any_decimal(),
        cap in any_duration(),
    ) {
        for r in ROUNDINGS {
            match t.amount(d, r) {
                Ok(amount) => {
                    prop_assert_eq!(amount.scale(), 5);
                    prop_assert!(amount <= MAX_AMOUNT && amount >= -MAX_AMOUNT);
                }
                Err(e) => prop_assert_eq!(e, AmountTooLarge),
            }
            if let Ok(b) = t.rate(d, r) {
                prop_assert_eq!(Ok(b.amount), t.amount(d, r));
            }
            let compiled = t.compile();
            prop_assert_eq!(compiled.amount(d, r), t.amount(d, r));
            let max = compiled.max_duration(funds, r, cap);
            if let (Some(m), true) = (max, t.validate().is_ok()) {
                prop_assert!(m <= cap);
                if let Ok(amount) = t.amount(m, r) {
                    prop_assert!(amount <= funds || m < u64::from(t.grace_period));
                }
            }
            let table = RateTable::new(vec![RateEntry {
                id: 7,
                prefix: "44".into(),
                activation: 0,
                expiration: None,
                forbidden: false,
                terms: t.clone(),
            }]);
            match (table.quote_amount("4420", 0, d, r), t.amount(d, r)) {
                (AmountQuote::Rated { amount, .. }, Ok(expected)) => prop_assert_eq!(amount, expected),
                (AmountQuote::TooLarge { rate }, Err(_)) => prop_assert_eq!(rate.id, 7),
                (quote, amount) => prop_assert!(false, "{:?} vs {:?}", quote, amount),
            }
            match (table.quote("4420", 0, d, r), t.rate(d, r)) {
                (Quote::Rated { breakdown, .. }, Ok(expected)) => prop_assert_eq!(breakdown, expected),
                (Quote::TooLarge { .. }, Err(_)) => {}
                (quote, breakdown) => prop_assert!(false, "{:?} vs {:?}", quote, breakdown),
            }
        }
    }

    /// Within the documented bounds every call is priced, exactly as the
    /// reference formula says, and below docs/rating.md's worst case.
    #[test]
    fn bounded_inputs_always_have_an_amount(
        t in bounded_terms(),
        d in prop_oneof![0..=DURATION_MAX.unsigned_abs(), Just(DURATION_MAX.unsigned_abs())],
    ) {
        prop_assert!(t.validate().is_ok());
        let worst = Decimal::from(491_051_000u32);
        for r in ROUNDINGS {
            let amount = t.amount(d, r).expect("within the bounds an amount is representable");
            prop_assert!(amount <= worst, "{} > {}", amount, worst);
            prop_assert_eq!(amount, reference_amount(&t, d, r));
            let b = t.rate(d, r).expect("within the bounds a breakdown is representable");
            prop_assert_eq!(b.amount, amount);
        }
    }
}

#[test]
fn the_worst_call_within_the_bounds() {
    // A 30-day call whose last second starts a block of almost a day: 31 blocks
    // of 86,399 s after a first interval of 1 s, 2,678,370 s billed in all.
    let t = RateTerms {
        connect_fee: Decimal::from(CONNECT_FEE_MAX),
        price_1: Decimal::from(PRICE_MAX),
        price_n: Decimal::from(PRICE_MAX),
        interval_1: 1,
        interval_n: u32::try_from(INTERVAL_MAX - 1).expect("fits"),
        free_seconds: 0,
        grace_period: 0,
        postcall_surcharge: Decimal::from(SURCHARGE_MAX),
    };
    let b = t
        .rate(DURATION_MAX.unsigned_abs(), Rounding::Up)
        .expect("representable");
    assert_eq!(b.billable_seconds, 2_678_370);
    // (1000 + 1000 * 2678370 / 60) * 11
    assert_eq!(b.amount, Decimal::new(49_104_550_000_000, 5));
    assert!(b.amount <= Decimal::from(491_051_000u32));
}

#[test]
fn an_amount_beyond_five_decimal_places_is_an_error_value() {
    let t = RateTerms {
        connect_fee: Decimal::MAX,
        price_1: Decimal::ZERO,
        price_n: Decimal::ZERO,
        interval_1: 1,
        interval_n: 1,
        free_seconds: 0,
        grace_period: 0,
        postcall_surcharge: Decimal::ZERO,
    };
    assert_eq!(t.amount(1, Rounding::Up), Err(AmountTooLarge));
    assert_eq!(t.rate(1, Rounding::Up), Err(AmountTooLarge));
}
