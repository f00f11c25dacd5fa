//! Longest-prefix rate tables (docs/rating.md "Which rate applies").
//!
//! [`RateTable`] owns the caller's entries, one compiled [`Pricing`] per distinct
//! terms, and the lookup structure in [`crate::trie`], which is where the
//! performance work lives. Rates changed after the build sit in a second,
//! small index of the same kind; a lookup asks both and takes the rate that
//! applies.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use crate::intern::{intern, FxHasher};
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

/// Longest-prefix index over a deck of rates. Build once with [`RateTable::new`]
/// and share (it is `Send + Sync`, and cheap to clone); lookups do not allocate.
///
/// A table is immutable. [`RateTable::with_changes`] makes a new one with some
/// rates added, changed or removed in time proportional to the changes, sharing
/// the built index with the table it comes from: the changes live in a small
/// index of their own beside it until [`RateTable::compacted`] folds them in.
#[derive(Debug, Clone)]
pub struct RateTable {
    base: Arc<Layer>,
    changes: Option<Arc<Changes>>,
}

/// One built index: its entries, their distinct pricings and the trie.
#[derive(Debug)]
struct Layer {
    entries: Vec<RateEntry>,
    /// Distinct compiled terms; decks repeat the same prices across many prefixes.
    pricings: Vec<Pricing>,
    trie: Trie,
    /// Entry indices in order of id; empty when the entries already are.
    by_id: Vec<u32>,
}

/// Entry indices of a [`Layer`], hashed cheaply.
type Hidden = HashSet<u32, BuildHasherDefault<FxHasher>>;

/// What [`RateTable::with_changes`] changed since the base was built.
#[derive(Debug)]
struct Changes {
    /// The rates added or changed, in the order they came.
    layer: Layer,
    /// The base's entries replaced or removed.
    hidden: Hidden,
}

/// Decks from this size are indexed on two threads.
const PARALLEL_MIN_RATES: usize = 100_000;

/// Decks from this size get the trie's jump table (1.6 MiB); smaller ones stay in
/// cache without it.
const JUMP_MIN_RATES: usize = 20_000;

/// The prefix or number without its leading `+`.
#[inline]
fn key(s: &str) -> &[u8] {
    s.strip_prefix('+').unwrap_or(s).as_bytes()
}

impl Layer {
    fn build(entries: Vec<RateEntry>, jump: bool) -> Layer {
        assert!(
            entries.len() < MAX_ENTRIES,
            "a rate table holds fewer than 2^28 rates"
        );
        let text: usize = entries.iter().map(|e| e.prefix.len()).sum();
        assert!(
            text < MAX_PREFIX_BYTES,
            "a rate table holds less than 256 MiB of prefixes"
        );

        let items = || -> Vec<Item<'_>> {
            let mut order: Vec<Item<'_>> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| Item::new(key(&e.prefix), e.activation, i as u32))
                .collect();
            Trie::sort(&mut order);
            order
        };
        // A large deck's terms are interned on a thread of their own while
        // its keys are sorted: two cores halve that part of the build.
        let ((pricings, pricing_of), order) = if entries.len() >= PARALLEL_MIN_RATES {
            std::thread::scope(|s| {
                let sorted = std::thread::Builder::new()
                    .name("rate-table-sort".into())
                    .spawn_scoped(s, items);
                let interned = intern(entries.iter().map(|e| &e.terms));
                let order = match sorted {
                    Ok(sorted) => sorted
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    // No thread to be had: sorted here.
                    Err(_) => items(),
                };
                (interned, order)
            })
        } else {
            (intern(entries.iter().map(|e| &e.terms)), items())
        };
        let trie = Trie::build_sorted(
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
        // Rates read from a database usually come in order of id already.
        let by_id = if entries.windows(2).all(|w| w[0].id <= w[1].id) {
            Vec::new()
        } else {
            let mut order: Vec<(i64, u32)> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id, i as u32))
                .collect();
            order.sort_unstable();
            order.into_iter().map(|(_, i)| i).collect()
        };

        Layer {
            entries,
            pricings,
            trie,
            by_id,
        }
    }

    /// The index of the entry at position `k` in order of id.
    #[inline]
    fn in_id_order(&self, k: usize) -> usize {
        if self.by_id.is_empty() {
            k
        } else {
            self.by_id[k] as usize
        }
    }

    /// The indices of the entries with `id`, in their order.
    fn with_id(&self, id: i64) -> impl Iterator<Item = usize> + '_ {
        let id_at = |k: usize| self.entries[self.in_id_order(k)].id;
        // The first position whose id is not below `id`, then past it.
        let first = |below: &dyn Fn(i64) -> bool| {
            let (mut lo, mut hi) = (0, self.entries.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if below(id_at(mid)) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        let start = first(&|x| x < id);
        let end = first(&|x| x <= id);
        // Equal ids are in the order of their indices (sorted as pairs).
        (start..end).map(|k| self.in_id_order(k))
    }

    fn index_bytes(&self) -> usize {
        use std::mem::size_of;
        self.trie.bytes()
            + self.pricings.capacity() * size_of::<Pricing>()
            + self.by_id.capacity() * size_of::<u32>()
    }

    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.index_bytes()
            + self.entries.capacity() * size_of::<RateEntry>()
            + self
                .entries
                .iter()
                .map(|e| e.prefix.capacity())
                .sum::<usize>()
    }
}

/// A slot found in one of a table's layers.
type Found<'a> = Option<(&'a Layer, Slot<'a>)>;

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
        RateTable {
            base: Arc::new(Layer::build(entries, jump)),
            changes: None,
        }
    }

    /// This table with the rates of the ids in `removed` and of the ids of
    /// `upserts` taken out, and `upserts` added: the same answers as
    /// [`RateTable::new`] over this table's [entries](RateTable::entries)
    /// without those ids, followed by `upserts` in their order.
    ///
    /// It costs time in proportion to the changes made since the table was
    /// built (they are indexed on their own, beside the built index, which is
    /// shared), not to the table's size; [`RateTable::pending_changes`] tells
    /// how many there are, [`RateTable::compacted`] folds them in.
    ///
    /// # Panics
    /// As [`RateTable::new`], which no table that fits in memory reaches.
    pub fn with_changes(&self, upserts: Vec<RateEntry>, removed: &[i64]) -> RateTable {
        let ids: HashSet<i64, BuildHasherDefault<FxHasher>> = upserts
            .iter()
            .map(|e| e.id)
            .chain(removed.iter().copied())
            .collect();
        let (mut hidden, mut entries) = match self.changes.as_deref() {
            Some(c) => (
                c.hidden.clone(),
                c.layer
                    .entries
                    .iter()
                    .filter(|e| !ids.contains(&e.id))
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
            None => (Hidden::default(), Vec::new()),
        };
        for &id in &ids {
            hidden.extend(self.base.with_id(id).map(|i| i as u32));
        }
        entries.extend(upserts);
        let jump = entries.len() >= JUMP_MIN_RATES;
        RateTable {
            base: self.base.clone(),
            changes: Some(Arc::new(Changes {
                layer: Layer::build(entries, jump),
                hidden,
            })),
        }
    }

    /// Rates added, changed or removed by [`RateTable::with_changes`] since the
    /// index was built: what each further change and lookup pays for.
    pub fn pending_changes(&self) -> usize {
        self.changes
            .as_deref()
            .map_or(0, |c| c.layer.entries.len() + c.hidden.len())
    }

    /// Whether this table and `other` share their built index (one was made
    /// from the other by [`RateTable::with_changes`], or they are clones).
    pub fn shares_index_with(&self, other: &RateTable) -> bool {
        Arc::ptr_eq(&self.base, &other.base)
    }

    /// The same table with its changes built into one index.
    pub fn compacted(&self) -> RateTable {
        match self.changes {
            None => self.clone(),
            Some(_) => RateTable::new(self.entries().cloned().collect()),
        }
    }

    /// Number of rates in the table.
    pub fn len(&self) -> usize {
        match self.changes.as_deref() {
            None => self.base.entries.len(),
            Some(c) => self.base.entries.len() - c.hidden.len() + c.layer.entries.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rates: in the order given to [`RateTable::new`], without those
    /// changed or removed since, then those added or changed, in their order.
    pub fn entries(&self) -> impl Iterator<Item = &RateEntry> + '_ {
        let hidden = self.changes.as_deref().map(|c| &c.hidden);
        let added = self
            .changes
            .as_deref()
            .map_or(&[][..], |c| &c.layer.entries[..]);
        self.base
            .entries
            .iter()
            .enumerate()
            .filter(move |(i, _)| hidden.is_none_or(|h| !h.contains(&(*i as u32))))
            .map(|(_, e)| e)
            .chain(added)
    }

    /// The first of the rates (in the order of [`RateTable::entries`]) whose
    /// id is `id`, found by a binary search.
    pub fn get(&self, id: i64) -> Option<&RateEntry> {
        let from_base = match self.changes.as_deref() {
            None => self.base.with_id(id).next(),
            Some(c) => self
                .base
                .with_id(id)
                .find(|&i| !c.hidden.contains(&(i as u32))),
        };
        match (from_base, self.changes.as_deref()) {
            (Some(i), _) => Some(&self.base.entries[i]),
            (None, Some(c)) => c.layer.with_id(id).next().map(|i| &c.layer.entries[i]),
            (None, None) => None,
        }
    }

    /// Number of compiled pricings: one per distinct terms as written (a price of
    /// `0.1` and one of `0.10` compile separately, to equal results), in the
    /// built index and in its changes.
    pub fn distinct_pricings(&self) -> usize {
        self.base.pricings.len()
            + self
                .changes
                .as_deref()
                .map_or(0, |c| c.layer.pricings.len())
    }

    /// Approximate heap bytes held by the table: the index plus the entries
    /// (including their prefix strings).
    pub fn heap_bytes(&self) -> usize {
        self.base.heap_bytes()
            + self.changes.as_deref().map_or(0, |c| {
                c.layer.heap_bytes() + c.hidden.capacity() * std::mem::size_of::<u32>()
            })
    }

    /// Approximate heap bytes of the index alone (what the table adds to the entries).
    pub fn index_bytes(&self) -> usize {
        self.base.index_bytes()
            + self.changes.as_deref().map_or(0, |c| {
                c.layer.index_bytes() + c.hidden.capacity() * std::mem::size_of::<u32>()
            })
    }

    /// The rate for a call to `number` starting at `at` (unix seconds): the longest
    /// prefix (leading `+` ignored on both sides) among rates in force at `at`; among
    /// rates of one prefix, the latest activation that has started. When the longest
    /// matching prefix has no rate in force, a shorter one applies. A forbidden rate
    /// is returned like any other.
    #[inline]
    pub fn lookup(&self, number: &str, at: i64) -> Option<&RateEntry> {
        self.find(number, at).map(|(l, s)| &l.entries[s.entry()])
    }

    /// [`RateTable::lookup`] together with the rate's compiled pricing.
    pub fn lookup_priced(&self, number: &str, at: i64) -> Option<Priced<'_>> {
        self.find(number, at).map(|(l, s)| Priced {
            rate: &l.entries[s.entry()],
            pricing: &l.pricings[s.pricing()],
        })
    }

    /// Rates a call of `duration` answered seconds with the full breakdown.
    pub fn quote(&self, number: &str, at: i64, duration: u64, rounding: Rounding) -> Quote<'_> {
        match self.find(number, at) {
            None => Quote::NoRate,
            Some((l, s)) => {
                let rate = &l.entries[s.entry()];
                if s.forbidden() {
                    Quote::Forbidden { rate }
                } else {
                    match l.pricings[s.pricing()].rate_with(&rate.terms, duration, rounding) {
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
        amount_quote(self.find(number, at), duration, rounding)
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
            for (call, found) in chunk.iter().zip(found) {
                out.push(amount_quote(found, call.duration, rounding));
            }
        }
    }

    #[inline(always)]
    fn find(&self, number: &str, at: i64) -> Found<'_> {
        let key = key(number);
        match self.changes.as_deref() {
            None => self
                .base
                .trie
                .find(key, at, |_| false)
                .map(|s| (&*self.base, s)),
            Some(c) => {
                let old = self
                    .base
                    .trie
                    .find(key, at, |e| c.hidden.contains(&(e as u32)));
                let new = c.layer.trie.find(key, at, |_| false);
                self.pick(c, old, new)
            }
        }
    }

    /// The rate that applies of the built index's (`old`) and the changes'
    /// (`new`): the longer prefix, then the later activation; on a tie the
    /// built index's, whose entries come first.
    #[inline]
    fn pick<'a>(
        &'a self,
        c: &'a Changes,
        old: Option<Slot<'a>>,
        new: Option<Slot<'a>>,
    ) -> Found<'a> {
        match (old, new) {
            (None, None) => None,
            (Some(o), None) => Some((&self.base, o)),
            (None, Some(n)) => Some((&c.layer, n)),
            (Some(o), Some(n)) => {
                let a = &self.base.entries[o.entry()];
                let b = &c.layer.entries[n.entry()];
                if (key(&b.prefix).len(), b.activation) > (key(&a.prefix).len(), a.activation) {
                    Some((&c.layer, n))
                } else {
                    Some((&self.base, o))
                }
            }
        }
    }

    fn find_lanes(&self, calls: &[Call<'_>]) -> [Found<'_>; BATCH_LANES] {
        let mut keys: [(&[u8], i64); BATCH_LANES] = [(&[], 0); BATCH_LANES];
        for (k, call) in keys.iter_mut().zip(calls) {
            *k = (key(call.number), call.at);
        }
        let keys = &keys[..calls.len().min(BATCH_LANES)];
        match self.changes.as_deref() {
            None => self
                .base
                .trie
                .find_lanes::<BATCH_LANES>(keys, |_| false)
                .map(|s| s.map(|s| (&*self.base, s))),
            Some(c) => {
                let old = self
                    .base
                    .trie
                    .find_lanes::<BATCH_LANES>(keys, |e| c.hidden.contains(&(e as u32)));
                let mut lane = 0;
                old.map(|old| {
                    let found = keys.get(lane).and_then(|&(key, at)| {
                        let new = c.layer.trie.find(key, at, |_| false);
                        self.pick(c, old, new)
                    });
                    lane += 1;
                    found
                })
            }
        }
    }
}

#[inline]
fn amount_quote(found: Found<'_>, duration: u64, rounding: Rounding) -> AmountQuote<'_> {
    match found {
        None => AmountQuote::NoRate,
        Some((l, s)) => {
            let rate = &l.entries[s.entry()];
            if s.forbidden() {
                AmountQuote::Forbidden { rate }
            } else {
                let amount = match s.quick().amount(duration, rounding) {
                    Some(amount) => Ok(amount),
                    None => l.pricings[s.pricing()].amount(duration, rounding),
                };
                match amount {
                    Ok(amount) => AmountQuote::Rated { rate, amount },
                    Err(_) => AmountQuote::TooLarge { rate },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
