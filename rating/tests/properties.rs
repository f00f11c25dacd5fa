//! Property tests: the rating engine against straightforward reference
//! implementations of docs/rating.md.

use proptest::prelude::*;
use rating::{
    AmountQuote, Call, Decimal, Quote, RateEntry, RateTable, RateTerms, Rounding, MAX_AMOUNT,
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
            let amount = t.amount(d, r);
            prop_assert_eq!(amount, reference_amount(&t, d, r));
            prop_assert_eq!(amount.scale(), 5);
            let b = t.rate(d, r);
            prop_assert_eq!(b.amount, amount);
            prop_assert_eq!(b.amount.scale(), 5);
            prop_assert_eq!(b.rounding, r);
            prop_assert_eq!(b.duration, d);
        }
    }

    #[test]
    fn breakdown_is_consistent(t in terms(), d in 0u64..20_000) {
        let b = t.rate(d, Rounding::HalfAwayFromZero);
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
            prop_assert!(t.amount(d, r) <= t.amount(d + 1, r));
            prop_assert!(t.amount(d, r) <= t.amount(d + step, r));
        }
    }

    #[test]
    fn up_is_at_most_one_unit_above_half(t in terms(), d in 0u64..20_000) {
        let half = t.amount(d, Rounding::HalfAwayFromZero);
        let up = t.amount(d, Rounding::Up);
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
                prop_assert!(t.amount(grace - 1, r).is_zero());
                prop_assert!(t.amount(0, r).is_zero());
            } else {
                prop_assert_eq!(t.amount(0, r), first);
            }
            if grace <= edge {
                // From the end of grace to the end of the free seconds: the first interval.
                prop_assert_eq!(t.amount(grace, r), first);
                prop_assert_eq!(t.amount(edge, r), first);
                prop_assert_eq!(t.amount(edge + 1, r), reference_blocks(&t, 1, r));
            }
            // The last second of block k costs the same as its first second, and the
            // next second starts block k + 1.
            let start = edge + (k - 1) * i_n + 1;
            let end = edge + k * i_n;
            if start >= grace {
                prop_assert_eq!(t.amount(start, r), reference_blocks(&t, k, r));
                prop_assert_eq!(t.amount(end, r), reference_blocks(&t, k, r));
                prop_assert_eq!(t.amount(end + 1, r), reference_blocks(&t, k + 1, r));
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
                    prop_assert!(t.amount(d, r) <= funds, "amount({}) = {} > {}", d, t.amount(d, r), funds);
                    if d < cap {
                        prop_assert!(t.amount(d + 1, r) > funds, "amount({}) = {} <= {}", d + 1, t.amount(d + 1, r), funds);
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
            let funds = t.amount(d, r);
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
                    prop_assert_eq!(amount, deck[i].terms.amount(d, r));
                }
                (other, expected) => prop_assert!(false, "{:?} vs {:?}", other, expected),
            }
            match table.quote(&number, at, d, r) {
                Quote::Rated { rate, breakdown } => {
                    prop_assert_eq!(&breakdown, &deck[rate.id as usize].terms.rate(d, r));
                }
                Quote::Forbidden { rate } => prop_assert!(rate.forbidden),
                Quote::NoRate => prop_assert!(expected.is_none()),
            }
        }
    }
}

#[test]
fn amounts_saturate_at_max_amount() {
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
    assert_eq!(t.amount(1, Rounding::Up), MAX_AMOUNT);
}
