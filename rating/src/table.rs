//! Longest-prefix rate tables (docs/rating.md "Which rate applies").
//!
//! [`RateTable`] owns the caller's entries, one compiled [`Pricing`] per distinct
//! terms, and the lookup structure in [`crate::trie`], which is where the
//! performance work lives.

use crate::intern::intern;
use crate::pricing::Pricing;
use crate::terms::{Breakdown, RateTerms, Rounding};
use crate::trie::{Item, Slot, SlotData, Trie, MAX_ENTRIES, MAX_PREFIX_BYTES};
use rust_decimal::Decimal;

/// One rate of a deck.
#[derive(Debug, Clone, PartialEq)]
pub struct RateEntry {
    /// Caller's identifier (e.g. the rate's database id); not interpreted.
    pub id: i64,
    /// The prefix as stored; a leading `+` is ignored. Any bytes are allowed. An empty
    /// prefix matches every number (a default route).
    pub prefix: String,
    /// Unix seconds; the rate applies when `activation <= at`...
    pub activation: i64,
    /// ...and `at < expiration`; `None` never expires (as does `Some(i64::MAX)`).
    pub expiration: Option<i64>,
    /// A forbidden rate matches like any other and then refuses the call.
    pub forbidden: bool,
    /// What a call on this rate costs.
    pub terms: RateTerms,
}

/// Outcome of rating a call against a table, with the full breakdown.
#[derive(Debug, Clone, PartialEq)]
pub enum Quote<'a> {
    /// The rate that applies and what the call costs.
    Rated {
        rate: &'a RateEntry,
        breakdown: Breakdown,
    },
    /// The rate that applies forbids the call.
    Forbidden { rate: &'a RateEntry },
    /// The rate that applies gives an amount that cannot be represented
    /// ([`crate::AmountTooLarge`]): terms or a duration beyond the documented bounds.
    TooLarge { rate: &'a RateEntry },
    /// No rate in force matches the number.
    NoRate,
}

/// Outcome of rating a call against a table, amount only (the fast path).
#[derive(Debug, Clone, PartialEq)]
pub enum AmountQuote<'a> {
    /// The rate that applies and the billed amount (scale 5).
    Rated {
        rate: &'a RateEntry,
        amount: Decimal,
    },
    /// The rate that applies forbids the call.
    Forbidden { rate: &'a RateEntry },
    /// The rate that applies gives an amount that cannot be represented
    /// ([`crate::AmountTooLarge`]): terms or a duration beyond the documented bounds.
    TooLarge { rate: &'a RateEntry },
    /// No rate in force matches the number.
    NoRate,
}

/// Number of lookups [`RateTable::quote_amounts`] walks in lockstep.
pub const BATCH_LANES: usize = 8;

/// One call of a batch for [`RateTable::quote_amounts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call<'n> {
    /// The callee number.
    pub number: &'n str,
    /// Start of the call, unix seconds.
    pub at: i64,
    /// Answered seconds.
    pub duration: u64,
}

/// A matched rate with its compiled pricing, e.g. to compute
/// [`Pricing::max_duration`] for an online authorisation without recompiling.
/// The caller still has to honour `rate.forbidden`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priced<'a> {
    pub rate: &'a RateEntry,
    pub pricing: &'a Pricing,
}

/// Immutable longest-prefix index over a deck of rates. Build once with
/// [`RateTable::new`] and share (it is `Send + Sync`); lookups do not allocate.
#[derive(Debug, Clone)]
pub struct RateTable {
    entries: Vec<RateEntry>,
    /// Distinct compiled terms; decks repeat the same prices across many prefixes.
    pricings: Vec<Pricing>,
    trie: Trie,
}

/// Decks from this size get the trie's jump table (1.6 MiB); smaller ones stay in
/// cache without it.
const JUMP_MIN_RATES: usize = 20_000;

/// The prefix or number without its leading `+`.
#[inline]
fn key(s: &str) -> &[u8] {
    s.strip_prefix('+').unwrap_or(s).as_bytes()
}

impl RateTable {
    /// Builds the index. Rates sharing a prefix are ordered by activation (latest
    /// first; equal activations keep their order in `entries`, the first wins).
    ///
    /// # Panics
    /// With 2^28 entries or more, or 256 MiB of prefix text or more: the compact
    /// 32-bit indices would not fit (such a deck would not fit in memory either).
    pub fn new(entries: Vec<RateEntry>) -> Self {
        let jump = entries.len() >= JUMP_MIN_RATES;
        Self::build(entries, jump)
    }

    fn build(entries: Vec<RateEntry>, jump: bool) -> Self {
        assert!(
            entries.len() < MAX_ENTRIES,
            "a rate table holds fewer than 2^28 rates"
        );
        let text: usize = entries.iter().map(|e| e.prefix.len()).sum();
        assert!(
            text < MAX_PREFIX_BYTES,
            "a rate table holds less than 256 MiB of prefixes"
        );

        let (pricings, pricing_of) = intern(entries.iter().map(|e| &e.terms));

        let order = entries
            .iter()
            .enumerate()
            .map(|(i, e)| Item::new(key(&e.prefix), e.activation, i as u32))
            .collect();
        let trie = Trie::build(
            order,
            |index| {
                let e = &entries[index as usize];
                let pricing = pricing_of[index as usize];
                SlotData {
                    activation: e.activation,
                    expiration: e.expiration,
                    entry: index,
                    forbidden: e.forbidden,
                    pricing,
                    quick: pricings[pricing as usize].quick(),
                }
            },
            jump,
        );

        RateTable {
            entries,
            pricings,
            trie,
        }
    }

    /// Number of rates in the table.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The rates, in the order given to [`RateTable::new`].
    pub fn entries(&self) -> &[RateEntry] {
        &self.entries
    }

    /// Number of compiled pricings: one per distinct terms as written (a price of
    /// `0.1` and one of `0.10` compile separately, to equal results).
    pub fn distinct_pricings(&self) -> usize {
        self.pricings.len()
    }

    /// Approximate heap bytes held by the table: the index plus the entries
    /// (including their prefix strings).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.index_bytes()
            + self.entries.capacity() * size_of::<RateEntry>()
            + self
                .entries
                .iter()
                .map(|e| e.prefix.capacity())
                .sum::<usize>()
    }

    /// Approximate heap bytes of the index alone (what the table adds to the entries).
    pub fn index_bytes(&self) -> usize {
        use std::mem::size_of;
        self.trie.bytes() + self.pricings.capacity() * size_of::<Pricing>()
    }

    /// The rate for a call to `number` starting at `at` (unix seconds): the longest
    /// prefix (leading `+` ignored on both sides) among rates in force at `at`; among
    /// rates of one prefix, the latest activation that has started. When the longest
    /// matching prefix has no rate in force, a shorter one applies. A forbidden rate
    /// is returned like any other.
    #[inline]
    pub fn lookup(&self, number: &str, at: i64) -> Option<&RateEntry> {
        self.find(number, at).map(|s| &self.entries[s.entry()])
    }

    /// [`RateTable::lookup`] together with the rate's compiled pricing.
    pub fn lookup_priced(&self, number: &str, at: i64) -> Option<Priced<'_>> {
        self.find(number, at).map(|s| Priced {
            rate: &self.entries[s.entry()],
            pricing: &self.pricings[s.pricing()],
        })
    }

    /// Rates a call of `duration` answered seconds with the full breakdown.
    pub fn quote(&self, number: &str, at: i64, duration: u64, rounding: Rounding) -> Quote<'_> {
        match self.find(number, at) {
            None => Quote::NoRate,
            Some(s) => {
                let rate = &self.entries[s.entry()];
                if s.forbidden() {
                    Quote::Forbidden { rate }
                } else {
                    match self.pricings[s.pricing()].rate_with(&rate.terms, duration, rounding) {
                        Ok(breakdown) => Quote::Rated { rate, breakdown },
                        Err(_) => Quote::TooLarge { rate },
                    }
                }
            }
        }
    }

    /// Rates a call, amount only: the same number as [`RateTable::quote`]'s
    /// `breakdown.amount`, several times faster.
    #[inline]
    pub fn quote_amount(
        &self,
        number: &str,
        at: i64,
        duration: u64,
        rounding: Rounding,
    ) -> AmountQuote<'_> {
        self.amount_quote(self.find(number, at), duration, rounding)
    }

    /// Rates many calls, amount only, appending one [`AmountQuote`] per call to `out`
    /// (the same as [`RateTable::quote_amount`] for each).
    ///
    /// On a large deck a lookup is a chain of cache misses, each waiting for the
    /// previous one. This walks [`BATCH_LANES`] lookups in lockstep so their misses
    /// overlap, which is several times the throughput of one call at a time: use it to
    /// rate CDRs in bulk.
    pub fn quote_amounts<'a>(
        &'a self,
        calls: &[Call<'_>],
        rounding: Rounding,
        out: &mut Vec<AmountQuote<'a>>,
    ) {
        out.reserve(calls.len());
        for chunk in calls.chunks(BATCH_LANES) {
            let found = self.find_lanes(chunk);
            for (call, slot) in chunk.iter().zip(found) {
                out.push(self.amount_quote(slot, call.duration, rounding));
            }
        }
    }

    #[inline]
    fn amount_quote(
        &self,
        slot: Option<Slot<'_>>,
        duration: u64,
        rounding: Rounding,
    ) -> AmountQuote<'_> {
        match slot {
            None => AmountQuote::NoRate,
            Some(s) => {
                let rate = &self.entries[s.entry()];
                if s.forbidden() {
                    AmountQuote::Forbidden { rate }
                } else {
                    let amount = match s.quick().amount(duration, rounding) {
                        Some(amount) => Ok(amount),
                        None => self.pricings[s.pricing()].amount(duration, rounding),
                    };
                    match amount {
                        Ok(amount) => AmountQuote::Rated { rate, amount },
                        Err(_) => AmountQuote::TooLarge { rate },
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn find(&self, number: &str, at: i64) -> Option<Slot<'_>> {
        self.trie.find(key(number), at)
    }

    fn find_lanes(&self, calls: &[Call<'_>]) -> [Option<Slot<'_>>; BATCH_LANES] {
        let mut keys: [(&[u8], i64); BATCH_LANES] = [(&[], 0); BATCH_LANES];
        for (k, call) in keys.iter_mut().zip(calls) {
            *k = (key(call.number), call.at);
        }
        self.trie.find_lanes(&keys[..calls.len().min(BATCH_LANES)])
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn table_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<RateTable>();
    }
}
