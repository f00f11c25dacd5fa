//! The rate table's lookups: the longest prefix, activation and expiry
//! windows, default routes, forbidden rates, each rate's own terms.

use super::*;
use rust_decimal_macros::dec;

use crate::test_terms::flat as terms;

fn rate(id: i64, prefix: &str) -> RateEntry {
    RateEntry {
        id,
        prefix: prefix.to_string(),
        activation: 0,
        expiration: None,
        forbidden: false,
        terms: terms(dec!(0.01)),
    }
}

fn id(table: &RateTable, number: &str, at: i64) -> Option<i64> {
    table.lookup(number, at).map(|e| e.id)
}

#[test]
fn longest_prefix_wins() {
    let t = RateTable::new(vec![rate(1, "1"), rate(12, "12")]);
    assert_eq!(id(&t, "1234567890", 0), Some(12));
    assert_eq!(id(&t, "1334567890", 0), Some(1));
    assert_eq!(id(&t, "2", 0), None);
    assert_eq!(id(&t, "", 0), None);
    // Order of insertion does not matter.
    let t = RateTable::new(vec![rate(12, "12"), rate(1, "1")]);
    assert_eq!(id(&t, "1234567890", 0), Some(12));
    assert_eq!(t.len(), 2);
    assert!(!t.is_empty());
    assert!(RateTable::new(vec![]).is_empty());
    assert_eq!(id(&RateTable::new(vec![]), "1", 0), None);
}

#[test]
fn plus_is_ignored_on_both_sides() {
    let t = RateTable::new(vec![rate(1, "+1"), rate(44, "44")]);
    assert_eq!(id(&t, "1234", 0), Some(1));
    assert_eq!(id(&t, "+1234", 0), Some(1));
    assert_eq!(id(&t, "+4420", 0), Some(44));
    assert_eq!(id(&t, "4420", 0), Some(44));
    // Only one leading '+' is a formatting character.
    assert_eq!(id(&t, "++1234", 0), None);
}

#[test]
fn activation_and_expiration_windows() {
    let old = RateEntry {
        activation: 100,
        expiration: Some(200),
        ..rate(1, "49")
    };
    let newer = RateEntry {
        activation: 150,
        expiration: None,
        ..rate(2, "49")
    };
    let future = RateEntry {
        activation: 300,
        ..rate(3, "49")
    };
    let t = RateTable::new(vec![old, newer, future]);
    assert_eq!(id(&t, "4930", 99), None);
    assert_eq!(id(&t, "4930", 100), Some(1));
    assert_eq!(id(&t, "4930", 149), Some(1));
    // Latest activation that has started wins, even while the older is in force.
    assert_eq!(id(&t, "4930", 150), Some(2));
    assert_eq!(id(&t, "4930", 299), Some(2));
    assert_eq!(id(&t, "4930", 300), Some(3));
    assert_eq!(id(&t, "4930", i64::MAX), Some(3));
}

#[test]
fn expired_longer_prefix_falls_back_to_shorter() {
    let long = RateEntry {
        expiration: Some(50),
        ..rate(491, "491")
    };
    let t = RateTable::new(vec![rate(49, "49"), long]);
    assert_eq!(id(&t, "4915", 49), Some(491));
    assert_eq!(id(&t, "4915", 50), Some(49));
    // Expiration is exclusive, activation inclusive; an expired latest rate lets
    // an older one of the same prefix apply.
    let a = RateEntry {
        activation: 10,
        expiration: Some(20),
        ..rate(2, "7")
    };
    let t = RateTable::new(vec![rate(1, "7"), a]);
    assert_eq!(id(&t, "7", 9), Some(1));
    assert_eq!(id(&t, "7", 10), Some(2));
    assert_eq!(id(&t, "7", 20), Some(1));
}

#[test]
fn equal_activations_keep_input_order() {
    let t = RateTable::new(vec![rate(1, "5"), rate(2, "5")]);
    assert_eq!(id(&t, "55", 0), Some(1));
}

#[test]
fn empty_prefix_is_a_default_route() {
    let t = RateTable::new(vec![rate(0, ""), rate(1, "1")]);
    assert_eq!(id(&t, "99", 0), Some(0));
    assert_eq!(id(&t, "", 0), Some(0));
    assert_eq!(id(&t, "+", 0), Some(0));
    assert_eq!(id(&t, "12", 0), Some(1));
    let t = RateTable::new(vec![rate(0, "+")]);
    assert_eq!(id(&t, "99", 0), Some(0));
}

#[test]
fn non_digit_prefixes() {
    let t = RateTable::new(vec![
        rate(1, "*"),
        rate(2, "*72"),
        rate(3, "#31#"),
        rate(4, "sip"),
        rate(5, "si"),
        rate(6, "3"),
        rate(7, "3a"),
        rate(8, "é"),
    ]);
    assert_eq!(id(&t, "*7", 0), Some(1));
    assert_eq!(id(&t, "*721", 0), Some(2));
    assert_eq!(id(&t, "#31#0049", 0), Some(3));
    assert_eq!(id(&t, "#31", 0), None);
    assert_eq!(id(&t, "sip:alice", 0), Some(4));
    assert_eq!(id(&t, "six", 0), Some(5));
    assert_eq!(id(&t, "3b", 0), Some(6));
    assert_eq!(id(&t, "3a", 0), Some(7));
    assert_eq!(id(&t, "é1", 0), Some(8));
    assert_eq!(id(&t, "e", 0), None);
}

#[test]
fn forbidden_rates_match_then_refuse() {
    let forbidden = RateEntry {
        forbidden: true,
        ..rate(900, "1900")
    };
    let t = RateTable::new(vec![rate(1, "1"), forbidden]);
    assert_eq!(id(&t, "19005551234", 0), Some(900));
    match t.quote("19005551234", 0, 60, Rounding::HalfAwayFromZero) {
        Quote::Forbidden { rate } => assert_eq!(rate.id, 900),
        other => panic!("expected forbidden, got {other:?}"),
    }
    match t.quote_amount("19005551234", 0, 60, Rounding::HalfAwayFromZero) {
        AmountQuote::Forbidden { rate } => assert_eq!(rate.id, 900),
        other => panic!("expected forbidden, got {other:?}"),
    }
    match t.quote("12125551234", 0, 61, Rounding::HalfAwayFromZero) {
        Quote::Rated { rate, breakdown } => {
            assert_eq!(rate.id, 1);
            assert_eq!(breakdown.amount, dec!(0.02000));
            assert_eq!(breakdown.blocks, 1);
        }
        other => panic!("expected rated, got {other:?}"),
    }
    assert_eq!(
        t.quote("44", 0, 61, Rounding::HalfAwayFromZero),
        Quote::NoRate
    );
    assert_eq!(
        t.quote_amount("44", 0, 61, Rounding::HalfAwayFromZero),
        AmountQuote::NoRate
    );
}

#[test]
fn quotes_use_each_rate_s_own_terms() {
    let cheap = RateEntry {
        terms: terms(dec!(0.006)),
        ..rate(1, "1")
    };
    let dear = RateEntry {
        terms: terms(dec!(0.60)),
        ..rate(2, "12")
    };
    let same = RateEntry {
        terms: terms(dec!(0.0060)),
        ..rate(3, "13")
    };
    let twin = RateEntry {
        terms: terms(dec!(0.006)),
        ..rate(4, "14")
    };
    let t = RateTable::new(vec![cheap, dear, same, twin]);
    // 0.006 twice shares one pricing; 0.0060 is written differently.
    assert_eq!(t.distinct_pricings(), 3);
    assert_eq!(
        t.lookup_priced("14", 0).map(|p| p.pricing),
        t.lookup_priced("1", 0).map(|p| p.pricing)
    );
    let amount = |n: &str| match t.quote_amount(n, 0, 90, Rounding::Up) {
        AmountQuote::Rated { amount, .. } => amount,
        other => panic!("{other:?}"),
    };
    assert_eq!(amount("1999"), dec!(0.01200));
    assert_eq!(amount("1299"), dec!(1.20000));
    assert_eq!(amount("1399"), dec!(0.01200));
    // The breakdown shows the entry's own terms as written.
    match t.quote("1399", 0, 90, Rounding::Up) {
        Quote::Rated { breakdown, .. } => {
            assert_eq!(breakdown.first_interval.to_string(), "0.0060");
        }
        other => panic!("{other:?}"),
    }
    let priced = t.lookup_priced("1299", 0).map(|p| {
        (
            p.rate.id,
            p.pricing.max_duration(dec!(1.2), Rounding::Up, 10_000),
        )
    });
    assert_eq!(priced, Some((2, Some(120))));
}

mod jump_table {
    use super::*;
    use proptest::prelude::*;

    fn deck() -> impl Strategy<Value = Vec<RateEntry>> {
        let entry = (
            "[+]?[0-2]{0,7}",
            0i64..4,
            proptest::option::of(1i64..4),
            any::<bool>(),
        );
        proptest::collection::vec(entry, 0..120).prop_map(|entries| {
            entries
                .into_iter()
                .enumerate()
                .map(|(i, (prefix, activation, length, forbidden))| RateEntry {
                    id: i as i64,
                    prefix,
                    activation,
                    expiration: length.map(|l| activation + l),
                    forbidden,
                    terms: terms(Decimal::new(i as i64, 3)),
                })
                .collect()
        })
    }

    proptest! {
        /// The jump table only changes where a walk starts, never its answer.
        #[test]
        fn answers_as_the_plain_walk(
            entries in deck(),
            numbers in proptest::collection::vec("[+]?[0-2]{0,9}[*]?[0-2]{0,3}", 1..30),
            at in 0i64..8,
        ) {
            let plain = RateTable::build(entries.clone(), false);
            let jump = RateTable::build(entries, true);
            prop_assert!(jump.index_bytes() > plain.index_bytes());
            let calls: Vec<Call> = numbers
                .iter()
                .map(|n| Call { number: n, at, duration: 61 })
                .collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            plain.quote_amounts(&calls, Rounding::Up, &mut a);
            jump.quote_amounts(&calls, Rounding::Up, &mut b);
            for (i, n) in numbers.iter().enumerate() {
                let expected = plain.lookup(n, at).map(|e| e.id);
                prop_assert_eq!(jump.lookup(n, at).map(|e| e.id), expected, "{}", n);
                prop_assert_eq!(&a[i], &b[i]);
                prop_assert_eq!(&b[i], &jump.quote_amount(n, at, 61, Rounding::Up));
            }
        }
    }
}

mod changes {
    use super::*;
    use proptest::prelude::*;

    fn entry(id: i64) -> impl Strategy<Value = RateEntry> {
        (
            "[+]?[0-2]{0,6}",
            0i64..4,
            proptest::option::of(1i64..4),
            proptest::bool::weighted(0.1),
            0i64..50,
        )
            .prop_map(
                move |(prefix, activation, length, forbidden, price)| RateEntry {
                    id,
                    prefix,
                    activation,
                    expiration: length.map(|l| activation + l),
                    forbidden,
                    terms: terms(Decimal::new(price, 3)),
                },
            )
    }

    fn deck() -> impl Strategy<Value = Vec<RateEntry>> {
        (0usize..60).prop_flat_map(|n| (0..n).map(|i| entry(i as i64 * 3 % 61)).collect::<Vec<_>>())
    }

    /// Rounds of changes: rates upserted (ids old and new) and ids removed.
    fn rounds() -> impl Strategy<Value = Vec<(Vec<RateEntry>, Vec<i64>)>> {
        let round = (
            proptest::collection::vec((0i64..80).prop_flat_map(entry), 0..6),
            proptest::collection::vec(0i64..80, 0..4),
        );
        proptest::collection::vec(round, 1..6)
    }

    proptest! {
        /// A table with changes answers as a table built from scratch over the
        /// same rates in the same order.
        #[test]
        fn answer_as_a_table_built_afresh(
            base in deck(),
            rounds in rounds(),
            numbers in proptest::collection::vec("[+]?[0-2]{0,8}", 1..25),
            at in 0i64..8,
            jump in any::<bool>(),
        ) {
            let mut table = RateTable::build(base.clone(), jump);
            let mut reference = base;
            for (upserts, removed) in rounds {
                reference.retain(|e| {
                    !removed.contains(&e.id) && !upserts.iter().any(|u| u.id == e.id)
                });
                reference.extend(upserts.iter().cloned());
                table = table.with_changes(upserts, &removed);
            }
            let fresh = RateTable::new(reference.clone());
            prop_assert_eq!(table.len(), reference.len());
            prop_assert_eq!(table.entries().cloned().collect::<Vec<_>>(), reference.clone());
            for e in &reference {
                let first = reference.iter().find(|r| r.id == e.id);
                prop_assert_eq!(table.get(e.id), first);
            }
            prop_assert_eq!(table.get(1000), None);
            let compacted = table.compacted();
            prop_assert_eq!(compacted.pending_changes(), 0);
            let calls: Vec<Call> = numbers
                .iter()
                .enumerate()
                .map(|(i, n)| Call { number: n, at: at + (i as i64 % 3) - 1, duration: 61 })
                .collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            table.quote_amounts(&calls, Rounding::Up, &mut a);
            fresh.quote_amounts(&calls, Rounding::Up, &mut b);
            prop_assert_eq!(&a, &b);
            for n in &numbers {
                let expected = fresh.lookup(n, at);
                prop_assert_eq!(table.lookup(n, at), expected, "{}", n);
                prop_assert_eq!(compacted.lookup(n, at), expected, "{}", n);
                prop_assert_eq!(
                    table.quote(n, at, 61, Rounding::Up),
                    fresh.quote(n, at, 61, Rounding::Up)
                );
                prop_assert_eq!(
                    table.lookup_priced(n, at).map(|p| p.pricing.clone()),
                    fresh.lookup_priced(n, at).map(|p| p.pricing.clone())
                );
            }
        }
    }

    #[test]
    fn a_change_replaces_its_rate_and_leaves_the_index_shared() {
        let base = RateTable::new(vec![rate(1, "44"), rate(2, "4420"), rate(3, "1")]);
        let dear = RateEntry {
            terms: terms(dec!(0.5)),
            ..rate(2, "4420")
        };
        let changed = base.with_changes(vec![dear, rate(4, "44207")], &[3]);
        assert!(base.shares_index_with(&changed));
        assert!(!changed.compacted().shares_index_with(&changed));
        assert_eq!(changed.pending_changes(), 4);
        assert_eq!(changed.len(), 3);
        assert_eq!(id(&changed, "442071", 0), Some(4));
        assert_eq!(id(&changed, "442081", 0), Some(2));
        assert_eq!(changed.get(2).map(|e| e.terms.price_1), Some(dec!(0.5)));
        assert_eq!(id(&changed, "1555", 0), None);
        assert_eq!(changed.get(3), None);
        // The table it came from is as it was.
        assert_eq!(id(&base, "1555", 0), Some(3));
        assert_eq!(base.get(2).map(|e| e.terms.price_1), Some(dec!(0.01)));
        // Removing an added rate again.
        let again = changed.with_changes(vec![], &[4]);
        assert_eq!(id(&again, "442071", 0), Some(2));
        assert_eq!(again.len(), 2);
    }
}

#[test]
fn table_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<RateTable>();
}
