//! The memory layout behind [`crate::RateTable`]: a byte trie and its rates in one
//! arena of 64-byte lines.
//!
//! On a deck of a million prefixes a lookup is bound by cache and TLB misses, not by
//! instructions, so the layout is chosen to touch few lines and pages:
//!
//! * A node is one 16-byte cell. A node's children sit next to each other, digit
//!   children first, so the child for digit `c` is `first_child + popcount(mask below
//!   c)`: no 10-slot array (40 bytes a node) and no hash per prefix length (a miss per
//!   length). Children for other bytes (`*`, `#`, letters...) follow the digit
//!   children and are found by a short scan of their labels.
//! * A rate ("slot") is one whole, aligned line: its time window, the entry it came
//!   from and the 64-bit form of its pricing, so a quote needs no other memory.
//! * Blocks are emitted depth first, so a subtree is contiguous, and the slots of a
//!   small subtree go right after its nodes: the deep end of a lookup path and the
//!   rate it finds are a few lines apart, usually in one page.
//! * Large decks get a jump table on the first 5 digits holding a copy of the node
//!   a walk reaches there: the first, mostly cached, levels cost one probe.
//! * The walk only notes the deepest node with rates; time windows are checked at
//!   the end, following each node's `up` link to the nearest shorter prefix with
//!   rates when none is in force. Usually one slot is read however many prefixes of
//!   the number the deck holds.
//!
//! (Over 500 lines: one memory layout, its builder and its walk, which
//! must agree to the byte, read best in one place.)

use crate::pricing::Quick;

/// Four 32-bit words. As a node:
/// `[first_child, slot_start, up, digits | others << 16 | label << 24]`, where
/// `digits` has bit `d` set for a child on ASCII digit `d` plus [`HAS_SLOTS`].
#[derive(Debug, Clone, Copy, Default)]
struct Cell([u32; 4]);

/// Four cells; a slot fills one line: words 0-1 activation, 2-3 expiration
/// (`i64::MAX` for never), 4 entry index with [`FORBIDDEN`] and [`LAST`], 5 pricing
/// index, 6-15 the [`Quick`] pricing.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct Line([Cell; 4]);

pub(crate) const NONE: u32 = u32::MAX;
const HAS_SLOTS: u32 = 1 << 15;
const DIGIT_BITS: u32 = (1 << 10) - 1;
const FORBIDDEN: u32 = 1 << 31;
/// The node's last slot.
const LAST: u32 = 1 << 30;
/// Entries are indexed below the flag bits, and with at most 7 cells per entry
/// (its line and padding) and prefixes below 2^28 bytes, cell indices fit in 31 bits.
pub(crate) const MAX_ENTRIES: usize = 1 << 28;
pub(crate) const MAX_PREFIX_BYTES: usize = 1 << 28;

/// Bits set in each 10-bit digit mask. A table because the baseline x86-64 target
/// has no popcount instruction and the bit-twiddling fallback is a dozen
/// instructions on every trie level.
static ONES: [u8; 1 << 10] = {
    let mut ones = [0u8; 1 << 10];
    let mut mask = 0;
    while mask < ones.len() {
        ones[mask] = (mask as u32).count_ones() as u8;
        mask += 1;
    }
    ones
};

impl Cell {
    #[inline]
    fn first_child(&self) -> usize {
        self.0[0] as usize
    }
    #[inline]
    fn slot_start(&self) -> usize {
        self.0[1] as usize
    }
    #[inline]
    fn up(&self) -> u32 {
        self.0[2]
    }
    #[inline]
    fn has_slots(&self) -> bool {
        self.0[3] & HAS_SLOTS != 0
    }
    #[inline]
    fn digits(&self) -> u32 {
        self.0[3] & DIGIT_BITS
    }
    #[inline]
    fn others(&self) -> usize {
        ((self.0[3] >> 16) & 0xff) as usize
    }
    #[inline]
    fn label(&self) -> u8 {
        (self.0[3] >> 24) as u8
    }
}

/// What the table stores for one rate.
pub(crate) struct SlotData {
    pub activation: i64,
    pub expiration: Option<i64>,
    pub entry: u32,
    pub forbidden: bool,
    pub pricing: u32,
    pub quick: Quick,
}

/// A rate to place in the trie: its key (the prefix without `+`) and entry index.
pub(crate) struct Item<'k> {
    /// The first 16 bytes of the key, big-endian, zero-padded: sorting and grouping
    /// compare these instead of chasing the key's heap pointer (a cache miss each).
    head: u128,
    key: &'k [u8],
    activation: i64,
    entry: u32,
}

impl<'k> Item<'k> {
    pub(crate) fn new(key: &'k [u8], activation: i64, entry: u32) -> Self {
        let mut head = [0u8; 16];
        let n = key.len().min(16);
        head[..n].copy_from_slice(&key[..n]);
        Item {
            head: u128::from_be_bytes(head),
            key,
            activation,
            entry,
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.key.len()
    }

    /// The key's byte at `depth < len()`.
    #[inline]
    fn byte(&self, depth: usize) -> u8 {
        if depth < 16 {
            (self.head >> (120 - 8 * depth)) as u8
        } else {
            self.key[depth]
        }
    }
}

/// A slot found by a lookup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot<'a>(&'a Line);

impl Slot<'_> {
    #[inline]
    fn word(&self, i: usize) -> u32 {
        self.0 .0[i / 4].0[i % 4]
    }
    #[inline]
    fn wide(&self, i: usize) -> i64 {
        (u64::from(self.word(i)) | (u64::from(self.word(i + 1)) << 32)) as i64
    }
    #[inline]
    fn in_force(&self, at: i64) -> bool {
        let expiration = self.wide(2);
        self.wide(0) <= at && (at < expiration || expiration == i64::MAX)
    }
    #[inline]
    fn last(&self) -> bool {
        self.word(4) & LAST != 0
    }
    #[inline]
    pub fn entry(&self) -> usize {
        (self.word(4) & !(FORBIDDEN | LAST)) as usize
    }
    #[inline]
    pub fn forbidden(&self) -> bool {
        self.word(4) & FORBIDDEN != 0
    }
    #[inline]
    pub fn pricing(&self) -> usize {
        self.word(5) as usize
    }
    #[inline]
    pub fn quick(&self) -> Quick {
        let words: [u32; 10] = std::array::from_fn(|i| self.word(6 + i));
        Quick::from_words(&words)
    }
}

/// The arena. Cell 0 is the root (the empty prefix).
#[derive(Debug, Clone)]
pub(crate) struct Trie {
    lines: Vec<Line>,
    /// For each string of [`JUMP_DIGITS`] digits, where the walk along them gets.
    /// Empty for small decks.
    jump: Vec<Jump>,
}

/// A copy of the node a walk reaches after [`JUMP_DIGITS`] digits (or of a node
/// without children if it stops earlier), with the deepest node with slots on the
/// way in place of the copy's `slot_start`. A copy rather than an index: the node
/// itself would be one more cache miss.
#[derive(Debug, Clone, Copy)]
struct Jump(Cell);

impl Jump {
    fn new(node: &Cell, deepest: u32) -> Jump {
        Jump(Cell([node.0[0], deepest, NONE, node.0[3]]))
    }

    /// A walk that is over, having found `deepest`.
    fn stop(deepest: u32) -> Jump {
        Jump(Cell([0, deepest, NONE, 0]))
    }
}

/// A large deck's walk starts from a direct-indexed table on the number's first
/// digits rather than from the root: one probe instead of that many dependent trie
/// levels, the deeper of which miss the cache. 10^5 entries (1.6 MiB) mostly stay
/// in a core's L2 cache.
const JUMP_DIGITS: usize = 5;
const JUMP_SIZE: usize = 10usize.pow(JUMP_DIGITS as u32);

/// The rates of the nodes below a node of this depth are placed after all the
/// nodes of its subtree (shallower nodes' rates right after their block). The nodes
/// a walk visits below the jump table then sit in fewer lines than with rates
/// interleaved after every block, while the rate it finds is still a few lines
/// away, usually in the same page. Measured on the 1M-prefix deck: 10-20% less
/// CPU per quote than rates after every block, and 13% less memory (less padding).
const SLOT_GROUP_DEPTH: usize = JUMP_DIGITS - 1;

/// A node whose children are still to be laid out: its subtree is
/// `order[start..end]` (its own rates first), `up` its nearest ancestor with rates.
struct Pending {
    node: usize,
    start: usize,
    end: usize,
    up: u32,
}

/// The arena while it is being laid out.
struct Builder<'o, 'k> {
    cells: Cells,
    order: &'o [Item<'k>],
    groups: Vec<(u8, usize, usize)>,
    /// (node, start, count): rates to place for a node whose HAS_SLOTS is set.
    deferred: Vec<(usize, usize, usize)>,
}

/// Lines addressed by cell.
struct Cells {
    lines: Vec<Line>,
    len: usize,
}

impl Cells {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, cell: Cell) {
        if self.len & 3 == 0 {
            self.lines.push(Line::default());
        }
        self.lines[self.len / 4].0[self.len % 4] = cell;
        self.len += 1;
    }
}

impl std::ops::Index<usize> for Cells {
    type Output = Cell;
    fn index(&self, i: usize) -> &Cell {
        &self.lines[i / 4].0[i % 4]
    }
}

impl std::ops::IndexMut<usize> for Cells {
    fn index_mut(&mut self, i: usize) -> &mut Cell {
        &mut self.lines[i / 4].0[i % 4]
    }
}

impl Builder<'_, '_> {
    /// Lays out the children block of `p` (at `depth`), queues their rates in
    /// `deferred` and appends them to `children`.
    fn expand(&mut self, p: &Pending, depth: usize, children: &mut Vec<Pending>) {
        let order = self.order;
        let mut i = p.start;
        while i < p.end && order[i].len() == depth {
            i += 1;
        }
        self.groups.clear();
        while i < p.end {
            let byte = order[i].byte(depth);
            let group_start = i;
            while i < p.end && order[i].byte(depth) == byte {
                i += 1;
            }
            self.groups.push((byte, group_start, i));
        }
        // Digits first (the popcount lookup), then the other bytes.
        self.groups
            .sort_by_key(|&(byte, _, _)| (!byte.is_ascii_digit(), byte));

        let first_child = self.cells.len();
        let (mut digits, mut others) = (0u32, 0u32);
        let child_up = if self.cells[p.node].has_slots() {
            cell_index(p.node)
        } else {
            p.up
        };
        for g in 0..self.groups.len() {
            let (byte, s, e) = self.groups[g];
            if byte.is_ascii_digit() {
                digits |= 1 << (byte - b'0');
            } else {
                others += 1;
            }
            let own = order[s..e]
                .iter()
                .take_while(|item| item.len() == depth + 1)
                .count();
            let node = self.push(Cell([
                0,
                0,
                NONE,
                u32::from(byte) << 24 | if own > 0 { HAS_SLOTS } else { 0 },
            ]));
            if own > 0 {
                self.deferred.push((node, s, own));
            }
            children.push(Pending {
                node,
                start: s,
                end: e,
                up: child_up,
            });
        }
        let cell = &mut self.cells[p.node];
        cell.0[0] = cell_index(first_child);
        cell.0[2] = p.up;
        cell.0[3] |= digits | (others << 16);
    }

    fn push(&mut self, cell: Cell) -> usize {
        self.cells.push(cell);
        self.cells.len() - 1
    }

    /// Appends the slots of one node on a fresh line; returns the first cell.
    fn push_slots(&mut self, slots: impl Iterator<Item = SlotData>) -> u32 {
        while self.cells.len() & 3 != 0 {
            self.cells.push(Cell::default());
        }
        let start = self.cells.len();
        for s in slots {
            let mut w = [0u32; 16];
            let split = |x: i64| [x as u32, (x >> 32) as u32];
            w[0..2].copy_from_slice(&split(s.activation));
            w[2..4].copy_from_slice(&split(s.expiration.unwrap_or(i64::MAX)));
            w[4] = s.entry | if s.forbidden { FORBIDDEN } else { 0 };
            w[5] = s.pricing;
            w[6..16].copy_from_slice(&s.quick.to_words());
            for c in w.chunks_exact(4) {
                self.cells.push(Cell([c[0], c[1], c[2], c[3]]));
            }
        }
        // Flag the node's last slot (word 4 is the second cell's first word).
        let last = self.cells.len() - 4;
        self.cells[last + 1].0[0] |= LAST;
        cell_index(start)
    }
}

fn cell_index(i: usize) -> u32 {
    // RateTable::new bounds the deck so this cannot fail.
    u32::try_from(i).unwrap_or(NONE)
}

impl Trie {
    /// Puts `order` in the order [`Trie::build_sorted`] takes: by key, so that
    /// every prefix's rates are one run and each node's subtree one
    /// contiguous range; a key's rates latest activation first, then by
    /// entry index.
    pub(crate) fn sort(order: &mut [Item<'_>]) {
        order.sort_unstable_by(|x, y| {
            x.head
                .cmp(&y.head)
                .then_with(|| x.key.cmp(y.key))
                .then(y.activation.cmp(&x.activation))
                .then(x.entry.cmp(&y.entry))
        });
    }

    /// Builds the trie over `order`, sorted by [`Trie::sort`]; `slot` gives an
    /// entry's data. Rates of one key are ordered latest activation first, then
    /// by entry index. `jump`: also build the jump table (worth it for large
    /// decks only).
    pub(crate) fn build_sorted(
        order: Vec<Item<'_>>,
        slot: impl Fn(u32) -> SlotData,
        jump: bool,
    ) -> Trie {
        let mut b = Builder {
            cells: Cells {
                lines: Vec::with_capacity(order.len() * 2),
                len: 0,
            },
            order: &order,
            groups: Vec::new(),
            deferred: Vec::new(),
        };
        b.push(Cell([0, 0, NONE, 0]));
        // The root's own rates: empty keys sort first.
        let own = order.iter().take_while(|item| item.len() == 0).count();
        if own > 0 {
            b.cells[0].0[3] |= HAS_SLOTS;
            b.deferred.push((0, 0, own));
        }
        // Depth first; rates as SLOT_GROUP_DEPTH says. A stack, not recursion: keys
        // can be arbitrarily long.
        let mut stack = vec![(
            Pending {
                node: 0,
                start: 0,
                end: order.len(),
                up: NONE,
            },
            0,
        )];
        let mut children = Vec::new();
        loop {
            // Place the waiting rates once the build leaves a subtree of depth
            // SLOT_GROUP_DEPTH (or the stack is empty).
            let next_depth = stack.last().map_or(0, |&(_, d)| d);
            if next_depth <= SLOT_GROUP_DEPTH {
                for k in 0..b.deferred.len() {
                    let (node, start, own) = b.deferred[k];
                    let rates = order[start..start + own]
                        .iter()
                        .map(|item| slot(item.entry));
                    let slots = b.push_slots(rates);
                    b.cells[node].0[1] = slots;
                }
                b.deferred.clear();
            }
            let Some((p, depth)) = stack.pop() else {
                break;
            };
            b.expand(&p, depth, &mut children);
            stack.extend(children.drain(..).rev().map(|c| (c, depth + 1)));
        }

        let mut lines = b.cells.lines;
        lines.shrink_to_fit();
        let mut trie = Trie {
            lines,
            jump: Vec::new(),
        };
        if jump {
            let mut table = vec![Jump::stop(NONE); JUMP_SIZE];
            let root = trie.cell(0);
            let deepest = if root.has_slots() { 0 } else { NONE };
            trie.fill_jump(0, 0, 0, deepest, &mut table);
            trie.jump = table;
        }
        trie
    }

    /// Fills `table` for the keys starting with the `depth` digits `index`, which
    /// lead to `node` with `deepest` the deepest node with slots on the way.
    fn fill_jump(&self, node: usize, depth: usize, index: usize, deepest: u32, table: &mut [Jump]) {
        if depth == JUMP_DIGITS {
            table[index] = Jump::new(self.cell(node), deepest);
            return;
        }
        for digit in 0..10u8 {
            let index = index * 10 + usize::from(digit);
            match self.child(self.cell(node), b'0' + digit) {
                Some(child) => {
                    let deepest = if self.cell(child).has_slots() {
                        cell_index(child)
                    } else {
                        deepest
                    };
                    self.fill_jump(child, depth + 1, index, deepest, table);
                }
                None => {
                    // The walk stops here for every key below.
                    let span = 10usize.pow((JUMP_DIGITS - depth - 1) as u32);
                    table[index * span..(index + 1) * span].fill(Jump::stop(deepest));
                }
            }
        }
    }

    /// Where a walk along `key` starts: `(node, deepest, depth)`: a copy of the
    /// node reached after `depth` bytes and the deepest node with slots so far.
    #[inline(always)]
    fn start(&self, key: &[u8]) -> (Cell, u32, usize) {
        if let (Some(digits), false) = (key.get(..JUMP_DIGITS), self.jump.is_empty()) {
            let mut index = 0usize;
            let mut all_digits = true;
            for &byte in digits {
                let digit = byte.wrapping_sub(b'0');
                all_digits &= digit < 10;
                index = index * 10 + usize::from(digit);
            }
            if all_digits {
                let Jump(node) = self.jump[index];
                return (node, node.0[1], JUMP_DIGITS);
            }
        }
        let root = *self.cell(0);
        (root, if root.has_slots() { 0 } else { NONE }, 0)
    }

    /// Heap bytes of the arena and jump table.
    pub(crate) fn bytes(&self) -> usize {
        self.lines.capacity() * std::mem::size_of::<Line>()
            + self.jump.capacity() * std::mem::size_of::<Jump>()
    }

    #[inline]
    fn cell(&self, i: usize) -> &Cell {
        &self.lines[i / 4].0[i % 4]
    }

    /// The child of `node` along `byte`, if any.
    #[inline]
    fn child(&self, node: &Cell, byte: u8) -> Option<usize> {
        let digit = byte.wrapping_sub(b'0');
        let digits = node.digits();
        if digit < 10 {
            let bit = 1u32 << digit;
            if digits & bit == 0 {
                return None;
            }
            Some(node.first_child() + usize::from(ONES[(digits & (bit - 1)) as usize]))
        } else {
            let start = node.first_child() + usize::from(ONES[digits as usize]);
            (start..start + node.others()).find(|&i| self.cell(i).label() == byte)
        }
    }

    /// The deepest node along `key` that has slots, or [`NONE`].
    #[inline(always)]
    fn deepest(&self, key: &[u8]) -> u32 {
        let (mut node, mut deepest, depth) = self.start(key);
        for &byte in &key[depth..] {
            let Some(index) = self.child(&node, byte) else {
                break;
            };
            node = *self.cell(index);
            if node.has_slots() {
                deepest = cell_index(index);
            }
        }
        deepest
    }

    /// The rate for `key` at `at`: longest prefix with a slot in force, first slot in
    /// force of that prefix. Slots whose entry `hidden` names are passed over as if
    /// they were not in force (rates changed or removed since the trie was built).
    #[inline(always)]
    pub(crate) fn find(
        &self,
        key: &[u8],
        at: i64,
        hidden: impl Fn(usize) -> bool + Copy,
    ) -> Option<Slot<'_>> {
        self.in_force(self.deepest(key), at, hidden)
    }

    /// The first slot in force at `at` (and not `hidden`) of `candidate` or,
    /// failing that, of its nearest ancestors with slots.
    #[inline(always)]
    fn in_force(
        &self,
        mut candidate: u32,
        at: i64,
        hidden: impl Fn(usize) -> bool + Copy,
    ) -> Option<Slot<'_>> {
        while candidate != NONE {
            let node = self.cell(candidate as usize);
            let mut line = node.slot_start() / 4;
            loop {
                let slot = Slot(&self.lines[line]);
                if slot.in_force(at) && !hidden(slot.entry()) {
                    return Some(slot);
                }
                if slot.last() {
                    break;
                }
                line += 1;
            }
            candidate = node.up();
        }
        None
    }

    /// [`Trie::find`] for up to `N` keys, one trie level at a time for all of them:
    /// the loads of one round are independent, so the CPU overlaps their misses.
    pub(crate) fn find_lanes<const N: usize>(
        &self,
        keys: &[(&[u8], i64)],
        hidden: impl Fn(usize) -> bool + Copy,
    ) -> [Option<Slot<'_>>; N] {
        let lanes = keys.len().min(N);
        let mut current = [Cell::default(); N];
        let mut deepest = [NONE; N];
        let mut depth = [0usize; N];
        let mut walking = [false; N];
        walking[..lanes].fill(true);
        let mut live = lanes;
        for lane in 0..lanes {
            (current[lane], deepest[lane], depth[lane]) = self.start(keys[lane].0);
        }
        while live > 0 {
            for lane in 0..lanes {
                if !walking[lane] {
                    continue;
                }
                let next = keys[lane]
                    .0
                    .get(depth[lane])
                    .and_then(|&byte| self.child(&current[lane], byte));
                match next {
                    Some(index) => {
                        current[lane] = *self.cell(index);
                        depth[lane] += 1;
                        if current[lane].has_slots() {
                            deepest[lane] = cell_index(index);
                        }
                    }
                    None => {
                        walking[lane] = false;
                        live -= 1;
                    }
                }
            }
        }
        std::array::from_fn(|lane| {
            if lane < lanes {
                self.in_force(deepest[lane], keys[lane].1, hidden)
            } else {
                None
            }
        })
    }
}
