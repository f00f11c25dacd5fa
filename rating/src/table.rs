//! Longest-prefix rate tables (RATING.md "Which rate applies").
//!
//! The table is a byte trie laid out in one flat arena of 16-byte nodes. A node's
//! children sit next to each other, digit children first, so the child for digit
//! `c` is found with a 10-bit mask and a popcount instead of a 10-slot array (which
//! would be 40 bytes a node) or a hash per prefix length (a cache miss per length).
//! Children of other bytes (`*`, `#`, letters...) follow the digit children and are
//! found by a short scan of their labels. Children blocks are emitted depth first,
//! so the deep end of a lookup path stays within a few neighbouring cache lines.
//!
//! The rates of one prefix are kept in a separate `slots` array, sorted latest
//! activation first and holding just what the lookup needs (the time window, the
//! forbidden flag and the index of the compiled [`Pricing`]), so a quote touches
//! neither the caller's [`RateEntry`] nor its `Decimal`s until it has the answer.
//! Reading a slot is a cache miss on a big deck, so the walk only notes which nodes
//! have rates and checks the time windows afterwards, deepest first, following each
//! node's `up` link to the nearest shorter prefix with rates: usually one slot read
//! per lookup however many prefixes of the number the deck holds.

use crate::pricing::{Pricing, Quick};
use crate::terms::{Breakdown, RateTerms, Rounding};
use rust_decimal::Decimal;
use std::collections::HashMap;

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
    /// Trie arena; index 0 is the root (the empty prefix).
    nodes: Vec<Node>,
    /// Rates per node, each node's run sorted by activation, latest first.
    slots: Vec<Slot>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    /// Arena index of the first child; children are contiguous.
    first_child: u32,
    /// This node's slots are `slot_start` up to the next node's `slot_start` (slots
    /// are stored in arena order and the arena ends with a sentinel node).
    slot_start: u32,
    /// Nearest proper ancestor that has slots, or [`NONE`].
    up: u32,
    /// Bit `d` set: there is a child for ASCII digit `d`; plus [`HAS_SLOTS`].
    digits: u16,
    /// Number of children for other bytes, after the digit children.
    others: u8,
    /// The byte on the edge into this node (only read for non-digit children).
    label: u8,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            first_child: 0,
            slot_start: 0,
            up: NONE,
            digits: 0,
            others: 0,
            label: 0,
        }
    }
}

const NONE: u32 = u32::MAX;
/// Flag in `Node::digits` (which only needs 10 bits): the node has slots.
const HAS_SLOTS: u16 = 1 << 15;
const DIGIT_BITS: u16 = (1 << 10) - 1;

/// One rate of a node: everything a quote needs, in one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    activation: i64,
    /// `i64::MAX` for never.
    expiration: i64,
    /// Index into `entries`, with [`FORBIDDEN`] set for a forbidden rate.
    entry: u32,
    /// Index into `pricings`.
    pricing: u32,
    /// Copy of the pricing's fast path, so the amount needs no other memory.
    quick: Quick,
}

const FORBIDDEN: u32 = 1 << 31;

impl Slot {
    #[inline]
    fn in_force(&self, at: i64) -> bool {
        self.activation <= at && (at < self.expiration || self.expiration == i64::MAX)
    }

    #[inline]
    fn entry(&self) -> usize {
        (self.entry & !FORBIDDEN) as usize
    }

    #[inline]
    fn forbidden(&self) -> bool {
        self.entry & FORBIDDEN != 0
    }
}

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
    /// With 2^31 entries or more, or more than 4 GiB of prefix text: the compact
    /// 32-bit indices would not fit (such a deck would not fit in memory either).
    pub fn new(entries: Vec<RateEntry>) -> Self {
        assert!(
            entries.len() < FORBIDDEN as usize,
            "a rate table holds fewer than 2^31 rates"
        );
        let text: usize = entries.iter().map(|e| e.prefix.len()).sum();
        assert!(
            text < u32::MAX as usize,
            "a rate table holds less than 4 GiB of prefixes"
        );

        // Compile each distinct set of terms once.
        let mut pricings = Vec::new();
        let mut pricing_of = Vec::with_capacity(entries.len());
        {
            let mut seen: HashMap<&RateTerms, u32> = HashMap::new();
            for e in &entries {
                let next = pricings.len() as u32;
                let id = *seen.entry(&e.terms).or_insert(next);
                if id == next {
                    pricings.push(e.terms.compile());
                }
                pricing_of.push(id);
            }
        }

        // Sorting by key puts every prefix's rates in one run and each node's
        // subtree in one contiguous range, which the build below walks.
        let mut order: Vec<(&[u8], i64, u32)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (key(&e.prefix), e.activation, i as u32))
            .collect();
        order.sort_unstable_by(|x, y| x.0.cmp(y.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));

        let mut nodes = vec![Node::default()];
        // Each node's run of `order` that are its own rates, by node; turned into
        // slots in arena order at the end.
        let mut runs: Vec<(u32, u32)> = vec![(0, 0)];
        // (node, start, end, depth, up): node's subtree is order[start..end], whose
        // keys all share the node's depth-long prefix; `up` is the nearest ancestor
        // with rates. A stack, not recursion: prefixes can be arbitrarily long.
        let mut stack = vec![(0usize, 0usize, order.len(), 0usize, NONE)];
        let mut groups: Vec<(u8, usize, usize)> = Vec::new();
        while let Some((node, start, end, depth, up)) = stack.pop() {
            let mut i = start;
            while i < end && order[i].0.len() == depth {
                i += 1;
            }
            runs[node] = (start as u32, i as u32);
            let has_slots = i > start;
            groups.clear();
            while i < end {
                let byte = order[i].0[depth];
                let group_start = i;
                while i < end && order[i].0[depth] == byte {
                    i += 1;
                }
                groups.push((byte, group_start, i));
            }
            // Digits first (the popcount lookup), then the other bytes.
            groups.sort_by_key(|&(byte, _, _)| (!byte.is_ascii_digit(), byte));
            let first_child = nodes.len();
            let mut digits = 0u16;
            let mut others = 0u8;
            for &(byte, _, _) in &groups {
                if byte.is_ascii_digit() {
                    digits |= 1 << (byte - b'0');
                } else {
                    others += 1;
                }
                nodes.push(Node {
                    label: byte,
                    ..Node::default()
                });
                runs.push((0, 0));
            }
            nodes[node] = Node {
                first_child: first_child as u32,
                slot_start: 0,
                up,
                digits: digits | if has_slots { HAS_SLOTS } else { 0 },
                others,
                label: nodes[node].label,
            };
            let child_up = if has_slots { node as u32 } else { up };
            for (offset, &(_, s, e)) in groups.iter().enumerate().rev() {
                stack.push((first_child + offset, s, e, depth + 1, child_up));
            }
        }

        let mut slots = Vec::with_capacity(entries.len());
        for (node, &(start, end)) in nodes.iter_mut().zip(&runs) {
            node.slot_start = slots.len() as u32;
            for &(_, _, index) in &order[start as usize..end as usize] {
                let e = &entries[index as usize];
                slots.push(Slot {
                    activation: e.activation,
                    expiration: e.expiration.unwrap_or(i64::MAX),
                    entry: index | if e.forbidden { FORBIDDEN } else { 0 },
                    pricing: pricing_of[index as usize],
                    quick: pricings[pricing_of[index as usize] as usize].quick(),
                });
            }
        }
        // Sentinel: ends the last node's slots.
        nodes.push(Node {
            slot_start: slots.len() as u32,
            ..Node::default()
        });
        nodes.shrink_to_fit();

        RateTable {
            entries,
            pricings,
            nodes,
            slots,
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

    /// Number of distinct compiled terms.
    pub fn distinct_pricings(&self) -> usize {
        self.pricings.len()
    }

    /// Approximate heap bytes held by the table: the index plus the entries
    /// (including their prefix strings).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.nodes.capacity() * size_of::<Node>()
            + self.slots.capacity() * size_of::<Slot>()
            + self.pricings.capacity() * size_of::<Pricing>()
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
        self.nodes.capacity() * size_of::<Node>()
            + self.slots.capacity() * size_of::<Slot>()
            + self.pricings.capacity() * size_of::<Pricing>()
    }

    /// The rate for a call to `number` starting at `at` (unix seconds): the longest
    /// prefix (leading `+` ignored on both sides) among rates in force at `at`; among
    /// rates of one prefix, the latest activation that has started. When the longest
    /// matching prefix has no rate in force, a shorter one applies. A forbidden rate
    /// is returned like any other.
    pub fn lookup(&self, number: &str, at: i64) -> Option<&RateEntry> {
        self.find(number, at).map(|s| &self.entries[s.entry()])
    }

    /// [`RateTable::lookup`] together with the rate's compiled pricing.
    pub fn lookup_priced(&self, number: &str, at: i64) -> Option<Priced<'_>> {
        self.find(number, at).map(|s| Priced {
            rate: &self.entries[s.entry()],
            pricing: &self.pricings[s.pricing as usize],
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
                    let breakdown = self.pricings[s.pricing as usize].rate_with(
                        &rate.terms,
                        duration,
                        rounding,
                    );
                    Quote::Rated { rate, breakdown }
                }
            }
        }
    }

    /// Rates a call, amount only: the same number as [`RateTable::quote`]'s
    /// `breakdown.amount`, several times faster.
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
        slot: Option<&Slot>,
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
                    let amount = s.quick.amount(duration, rounding).unwrap_or_else(|| {
                        self.pricings[s.pricing as usize].amount(duration, rounding)
                    });
                    AmountQuote::Rated { rate, amount }
                }
            }
        }
    }

    /// The child of `node` along `byte`, if any.
    #[inline]
    fn child(&self, node: &Node, byte: u8) -> Option<usize> {
        let digit = byte.wrapping_sub(b'0');
        if digit < 10 {
            let bit = 1u16 << digit;
            if node.digits & bit == 0 {
                return None;
            }
            let below = node.digits & (bit - 1) & DIGIT_BITS;
            Some(node.first_child as usize + below.count_ones() as usize)
        } else {
            let start =
                node.first_child as usize + (node.digits & DIGIT_BITS).count_ones() as usize;
            let others = &self.nodes[start..start + usize::from(node.others)];
            others
                .iter()
                .position(|n| n.label == byte)
                .map(|offset| start + offset)
        }
    }

    /// Walks the trie along `number` to the deepest node with rates, then checks
    /// time windows from there towards the root.
    #[inline]
    fn find(&self, number: &str, at: i64) -> Option<&Slot> {
        let nodes = self.nodes.as_slice();
        let mut node = nodes.first()?;
        let mut deepest = if node.digits & HAS_SLOTS != 0 {
            0
        } else {
            NONE
        };
        for &byte in key(number) {
            let Some(index) = self.child(node, byte) else {
                break;
            };
            node = &nodes[index];
            if node.digits & HAS_SLOTS != 0 {
                deepest = index as u32;
            }
        }
        self.in_force(deepest, at)
    }

    /// The first slot in force at `at` of `candidate` or, failing that, of its
    /// ancestors with rates.
    #[inline]
    fn in_force(&self, mut candidate: u32, at: i64) -> Option<&Slot> {
        let nodes = self.nodes.as_slice();
        while candidate != NONE {
            let at_node = candidate as usize;
            let start = nodes[at_node].slot_start as usize;
            let end = nodes[at_node + 1].slot_start as usize;
            if let Some(slot) = self.slots[start..end].iter().find(|s| s.in_force(at)) {
                return Some(slot);
            }
            candidate = nodes[at_node].up;
        }
        None
    }

    /// [`RateTable::find`] for up to [`BATCH_LANES`] calls, one trie level at a time
    /// for all of them: the loads of one round are independent, so the CPU overlaps
    /// their cache misses.
    fn find_lanes(&self, calls: &[Call<'_>]) -> [Option<&Slot>; BATCH_LANES] {
        let mut found = [None; BATCH_LANES];
        let nodes = self.nodes.as_slice();
        let Some(root) = nodes.first() else {
            return found;
        };
        let lanes = calls.len().min(BATCH_LANES);
        let root_slots = if root.digits & HAS_SLOTS != 0 {
            0
        } else {
            NONE
        };
        let mut keys: [&[u8]; BATCH_LANES] = [&[]; BATCH_LANES];
        for (k, call) in keys.iter_mut().zip(calls) {
            *k = key(call.number);
        }
        let mut current = [0usize; BATCH_LANES];
        let mut deepest = [root_slots; BATCH_LANES];
        let mut walking = [false; BATCH_LANES];
        walking[..lanes].fill(true);
        let mut live = lanes;
        let mut depth = 0;
        while live > 0 {
            for lane in 0..lanes {
                if !walking[lane] {
                    continue;
                }
                let next = keys[lane]
                    .get(depth)
                    .and_then(|&byte| self.child(&nodes[current[lane]], byte));
                match next {
                    Some(index) => {
                        current[lane] = index;
                        if nodes[index].digits & HAS_SLOTS != 0 {
                            deepest[lane] = index as u32;
                        }
                    }
                    None => {
                        walking[lane] = false;
                        live -= 1;
                    }
                }
            }
            depth += 1;
        }
        for lane in 0..lanes {
            found[lane] = self.in_force(deepest[lane], calls[lane].at);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn terms(price: Decimal) -> RateTerms {
        RateTerms {
            connect_fee: dec!(0),
            price_1: price,
            price_n: price,
            interval_1: 60,
            interval_n: 60,
            free_seconds: 0,
            grace_period: 0,
            postcall_surcharge: dec!(0),
        }
    }

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
        let t = RateTable::new(vec![cheap, dear, same]);
        assert_eq!(t.distinct_pricings(), 2);
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

    #[test]
    fn a_slot_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Slot>(), 64);
        assert_eq!(std::mem::size_of::<Node>(), 16);
    }

    #[test]
    fn table_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<RateTable>();
    }
}
