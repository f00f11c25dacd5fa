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
mod tests;
