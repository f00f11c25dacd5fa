//! The compiled terms against docs/rating.md: the fast path, its fallbacks
//! and their bounds.

use super::*;
use rust_decimal_macros::dec;

use crate::test_terms::example as terms;

#[test]
fn value_equal_terms_compile_equal() {
    let t2 = RateTerms {
        connect_fee: dec!(0.1000),
        postcall_surcharge: dec!(0.10),
        ..terms()
    };
    assert_eq!(terms().compile(), t2.compile());
}

#[test]
fn quick_round_trips_through_words() {
    let mut q = terms().compile().quick;
    assert_eq!(Quick::from_words(&q.to_words()), q);
    q.small = Small {
        am: -1,
        bm: i64::MIN,
        div: i64::MAX,
    };
    q.grace = u32::MAX;
    assert_eq!(Quick::from_words(&q.to_words()), q);
}

#[test]
fn rounding_of_integer_quotients() {
    for (num, div) in [
        (0, 1),
        (7, 2),
        (5, 2),
        (1, 3),
        (2, 3),
        (u32::MAX, 2),
        (u32::MAX, u32::MAX),
    ] {
        for r in [Rounding::HalfAwayFromZero, Rounding::Up] {
            let wide = div_round_64(i64::from(num), i64::from(div), r);
            assert_eq!(
                i64::from(div_round_32(num, div, r)),
                wide,
                "{num} / {div} {r:?}"
            );
        }
    }
    for (num, div, half, up) in [
        (7, 2, 4, 4),
        (5, 2, 3, 3),
        (4, 2, 2, 2),
        (-5, 2, -3, -2),
        (-7, 3, -2, -2),
        (1, 3, 0, 1),
        (-1, 3, 0, 0),
        (0, 7, 0, 0),
    ] {
        assert_eq!(div_round_64(num, div, Rounding::HalfAwayFromZero), half);
        assert_eq!(div_round_64(num, div, Rounding::Up), up);
        let (n, d) = (i128::from(num), i128::from(div));
        assert_eq!(
            div_round_128(n, d, Rounding::HalfAwayFromZero),
            i128::from(half)
        );
        assert_eq!(div_round_128(n, d, Rounding::Up), i128::from(up));
    }
}

#[test]
fn floor_units_rounds_down() {
    assert_eq!(floor_units(dec!(1.234567)), 123456);
    assert_eq!(floor_units(dec!(-1.234561)), -123457);
    assert_eq!(floor_units(dec!(2)), 200000);
    assert_eq!(floor_units(dec!(0.00001)), 1);
}

#[test]
fn fallback_agrees_with_exact_path() {
    // Force the Decimal path and compare on ordinary terms.
    let exact = terms().compile();
    let no_small = Quick {
        small: Small::NONE,
        ..exact.quick
    };
    let fallback = Pricing {
        quick: no_small,
        exact: None,
        ..exact.clone()
    };
    let wide = Pricing {
        quick: no_small,
        ..exact.clone()
    };
    assert_ne!(exact.quick.small, Small::NONE);
    assert_eq!(no_small.amount(100, Rounding::Up), None);
    for d in [0, 4, 5, 70, 71, 130, 3600, 1_000_000] {
        for r in [Rounding::HalfAwayFromZero, Rounding::Up] {
            assert_eq!(
                exact.amount(d, r).expect("representable"),
                fallback.amount(d, r).expect("representable"),
                "{d} {r:?}"
            );
            assert_eq!(
                exact.amount(d, r).expect("representable"),
                wide.amount(d, r).expect("representable"),
                "{d} {r:?}"
            );
            assert_eq!(fallback.amount(d, r).expect("representable").scale(), 5);
        }
    }
    for funds in [dec!(0.176), dec!(0.1793), dec!(2.1197), dec!(57.3)] {
        let r = Rounding::Up;
        assert_eq!(
            exact.max_duration(funds, r, 1 << 40),
            fallback.max_duration(funds, r, 1 << 40)
        );
    }
}

#[test]
fn absurd_values_are_an_error_value_not_a_panic() {
    let t = RateTerms {
        connect_fee: Decimal::MAX,
        price_1: Decimal::MAX,
        price_n: Decimal::MAX,
        interval_1: u32::MAX,
        interval_n: u32::MAX,
        free_seconds: u32::MAX,
        grace_period: 0,
        postcall_surcharge: Decimal::MAX,
    };
    assert_eq!(t.amount(u64::MAX, Rounding::Up), Err(AmountTooLarge));
    assert_eq!(t.amount(0, Rounding::Up), Err(AmountTooLarge));
    assert_eq!(
        t.rate(u64::MAX, Rounding::HalfAwayFromZero),
        Err(AmountTooLarge)
    );
    assert_eq!(t.max_duration(dec!(1000), Rounding::Up, u64::MAX), None);
    // Just past what 5 decimal places hold: an error, not a clipped amount.
    let t = RateTerms {
        connect_fee: MAX_AMOUNT,
        price_1: dec!(0),
        price_n: dec!(60),
        interval_1: 1,
        interval_n: 1,
        free_seconds: 0,
        grace_period: 0,
        postcall_surcharge: dec!(0),
    };
    assert_eq!(t.amount(1, Rounding::Up), Ok(MAX_AMOUNT));
    assert_eq!(t.amount(2, Rounding::Up), Err(AmountTooLarge));
    assert_eq!(t.rate(2, Rounding::Up), Err(AmountTooLarge));

    // Tiny prices at full precision and huge block counts.
    let t = RateTerms {
        connect_fee: dec!(0.0000000000000000000000000001),
        price_1: dec!(0.0000000000000000000000000007),
        price_n: dec!(1234567.0000000000000000000001),
        interval_1: 1,
        interval_n: 1,
        free_seconds: 0,
        grace_period: 0,
        postcall_surcharge: dec!(0.0000000000000000000000000003),
    };
    let mut last = Decimal::MIN;
    for d in [0, 1, 2, 1000, 1 << 40] {
        let a = t
            .amount(d, Rounding::HalfAwayFromZero)
            .expect("representable");
        assert!(a >= last);
        last = a;
    }
    for d in [u64::MAX / 2, u64::MAX] {
        // Representable and still growing, or past what 5 decimals hold.
        match t.amount(d, Rounding::HalfAwayFromZero) {
            Ok(a) => {
                assert!(a >= last);
                last = a;
            }
            Err(e) => assert_eq!(e, AmountTooLarge),
        }
    }
    let funds = dec!(1000000000);
    for r in [Rounding::HalfAwayFromZero, Rounding::Up] {
        let d = t.max_duration(funds, r, u64::MAX);
        assert_eq!(d, Some(48601));
        assert!(
            t.amount(48601, r).expect("representable") <= funds
                && t.amount(48602, r).expect("representable") > funds
        );
    }
}
