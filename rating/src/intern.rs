//! One compiled [`Pricing`] per distinct [`RateTerms`] of a deck.
//!
//! Real decks repeat the same terms across many prefixes, so a table compiles each
//! once. Keyed on the exact representation with a cheap hash: `Decimal`'s own hash
//! normalises every value, which was a quarter of a million-rate build. Value-equal
//! terms written at different scales (`0.1` and `0.10`) just compile twice, to equal
//! pricings.

use crate::pricing::Pricing;
use crate::terms::RateTerms;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The distinct pricings, and for each of `terms` the index of its pricing.
pub(crate) fn intern<'t>(
    terms: impl ExactSizeIterator<Item = &'t RateTerms>,
) -> (Vec<Pricing>, Vec<u32>) {
    let mut pricings = Vec::new();
    let mut pricing_of = Vec::with_capacity(terms.len());
    let mut seen: HashMap<TermsBits, u32, BuildHasherDefault<FxHasher>> = HashMap::default();
    for t in terms {
        let next = u32::try_from(pricings.len()).unwrap_or(u32::MAX);
        let id = *seen.entry(TermsBits::of(t)).or_insert(next);
        if id == next {
            pricings.push(t.compile());
        }
        pricing_of.push(id);
    }
    (pricings, pricing_of)
}

/// The exact bits of a [`RateTerms`], for interning.
#[derive(PartialEq, Eq, Hash)]
struct TermsBits([u8; 64], [u32; 4]);

impl TermsBits {
    fn of(t: &RateTerms) -> Self {
        let mut money = [0u8; 64];
        for (chunk, value) in money.chunks_exact_mut(16).zip([
            t.connect_fee,
            t.price_1,
            t.price_n,
            t.postcall_surcharge,
        ]) {
            chunk.copy_from_slice(&value.serialize());
        }
        let seconds = [t.interval_1, t.interval_n, t.free_seconds, t.grace_period];
        TermsBits(money, seconds)
    }
}

/// The Fx hash (rustc's): a rotate, a xor and a multiply per word. Plenty for
/// interning the terms of a deck the caller already trusts.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.write_u64(u64::from(byte));
        }
    }

    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    #[inline]
    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    #[inline]
    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    use crate::test_terms::flat as terms;

    #[test]
    fn equal_terms_share_a_pricing() {
        let deck = [
            terms(Decimal::new(1, 2)),
            terms(Decimal::new(2, 2)),
            terms(Decimal::new(1, 2)),
            terms(Decimal::new(10, 3)),
        ];
        let (pricings, of) = intern(deck.iter());
        assert_eq!(of, vec![0, 1, 0, 2]);
        assert_eq!(pricings.len(), 3);
        // Written differently, compiled the same.
        assert_eq!(pricings[0], pricings[2]);
    }
}
