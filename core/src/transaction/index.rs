//! The two indexes a [`TransactionTable`](super::TransactionTable) keeps
//! beside its slots, so that matching a message and finding the next timer
//! cost the same with ten live transactions as with ten thousand:
//!
//! - [`BranchIndex`]: slot indices by a hash of their key's branch. The
//!   branch is unique per transaction (RFC 3261 §8.1.1.7) and starts both
//!   client and server keys, so a lookup visits only the few slots whose
//!   branch hashes alike; the caller confirms each with the full key.
//! - [`DeadlineHeap`]: slot indices ordered by (next timer, slot), the order
//!   in which the table runs timers.
//!
//! Both are fixed arrays sized by the table's `N`; the hash is FNV-1a, so
//! the same inputs always give the same layout.

/// Marks a free bucket or a slot that is not in the heap.
const NONE: u32 = u32::MAX;

/// FNV-1a over the branch: fixed, so lookups are deterministic.
pub(crate) fn branch_hash(branch: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in branch.as_bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// An open-addressing table of slot indices with linear probing, `2·N`
/// buckets (stored as `N` pairs, since `2 * N` is not a type-level
/// constant), so it is never more than half full.
#[derive(Clone, Debug)]
pub(crate) struct BranchIndex<const N: usize> {
    buckets: [[u32; 2]; N],
    /// The hash each live slot was indexed under.
    hashes: [u32; N],
}

impl<const N: usize> BranchIndex<N> {
    // Inlined so an empty table is built in its final place: called out
    // of line, the table around it is built on the stack and copied.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        BranchIndex {
            buckets: [[NONE; 2]; N],
            hashes: [0; N],
        }
    }

    fn bucket_count(&self) -> usize {
        N.saturating_mul(2)
    }

    fn bucket(&self, b: usize) -> u32 {
        self.buckets
            .get(b / 2)
            .and_then(|pair| pair.get(b % 2))
            .copied()
            .unwrap_or(NONE)
    }

    fn set_bucket(&mut self, b: usize, value: u32) {
        if let Some(cell) = self.buckets.get_mut(b / 2).and_then(|p| p.get_mut(b % 2)) {
            *cell = value;
        }
    }

    /// The bucket a hash starts probing at.
    fn home(&self, hash: u32) -> usize {
        // Multiply-shift maps the hash onto 0..buckets without a division.
        let scaled = (u64::from(hash) * self.bucket_count() as u64) >> 32;
        usize::try_from(scaled).unwrap_or(0)
    }

    fn next(&self, b: usize) -> usize {
        let n = b + 1;
        if n >= self.bucket_count() {
            0
        } else {
            n
        }
    }

    /// The hash `slot` was indexed under.
    pub(crate) fn hash_of(&self, slot: usize) -> Option<u32> {
        self.hashes.get(slot).copied()
    }

    /// Indexes `slot` under `hash`. The slot must not be indexed already.
    pub(crate) fn insert(&mut self, slot: usize, hash: u32) {
        let Ok(value) = u32::try_from(slot) else {
            return;
        };
        let Some(h) = self.hashes.get_mut(slot) else {
            return;
        };
        *h = hash;
        let mut b = self.home(hash);
        // At most N of the 2·N buckets are taken: a free one is found.
        for _ in 0..self.bucket_count() {
            if self.bucket(b) == NONE {
                self.set_bucket(b, value);
                return;
            }
            b = self.next(b);
        }
    }

    /// Drops `slot` from the index, moving later entries of its probe run
    /// back so that no lookup stops early at the freed bucket.
    pub(crate) fn remove(&mut self, slot: usize) {
        let (Ok(value), Some(hash)) = (u32::try_from(slot), self.hash_of(slot)) else {
            return;
        };
        let mut hole = self.home(hash);
        let mut found = false;
        for _ in 0..self.bucket_count() {
            match self.bucket(hole) {
                NONE => break,
                v if v == value => {
                    found = true;
                    break;
                }
                _ => hole = self.next(hole),
            }
        }
        if !found {
            return;
        }
        let mut probe = hole;
        for _ in 0..self.bucket_count() {
            probe = self.next(probe);
            let moved = self.bucket(probe);
            if moved == NONE {
                break;
            }
            let Some(home) = usize::try_from(moved)
                .ok()
                .and_then(|s| self.hash_of(s))
                .map(|h| self.home(h))
            else {
                break;
            };
            // The entry may fill the hole unless its home lies cyclically
            // in (hole, probe]: then a lookup would start past the hole.
            let stays = if hole <= probe {
                hole < home && home <= probe
            } else {
                hole < home || home <= probe
            };
            if !stays {
                self.set_bucket(hole, moved);
                hole = probe;
            }
        }
        self.set_bucket(hole, NONE);
    }

    /// Every slot indexed under `hash` (and no other), in probe order.
    pub(crate) fn candidates(&self, hash: u32) -> impl Iterator<Item = usize> + '_ {
        let mut b = self.home(hash);
        let mut left = self.bucket_count();
        core::iter::from_fn(move || {
            while left > 0 {
                left -= 1;
                let v = self.bucket(b);
                if v == NONE {
                    left = 0;
                    return None;
                }
                b = self.next(b);
                let slot = usize::try_from(v).ok()?;
                if self.hash_of(slot) == Some(hash) {
                    return Some(slot);
                }
            }
            None
        })
    }
}

/// A binary min-heap of slot indices keyed by (deadline, slot), with each
/// slot's position kept so that its deadline can change or go in O(log N).
#[derive(Clone, Debug)]
pub(crate) struct DeadlineHeap<const N: usize> {
    heap: [u16; N],
    len: usize,
    /// Where each slot sits in `heap`, or [`NONE`].
    position: [u32; N],
    /// Each slot's deadline in microseconds, valid while it is in the heap.
    deadline: [u64; N],
}

impl<const N: usize> DeadlineHeap<N> {
    // Inlined so an empty table is built in its final place: called out
    // of line, the table around it is built on the stack and copied.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        DeadlineHeap {
            heap: [0; N],
            len: 0,
            position: [NONE; N],
            deadline: [0; N],
        }
    }

    /// The ordering key of the slot at heap position `at`.
    fn key_at(&self, at: usize) -> Option<(u64, u16)> {
        let slot = *self.heap.get(..self.len)?.get(at)?;
        Some((*self.deadline.get(usize::from(slot))?, slot))
    }

    fn place(&mut self, at: usize, slot: u16) {
        if let Some(cell) = self.heap.get_mut(at) {
            *cell = slot;
        }
        if let (Some(p), Ok(at)) = (self.position.get_mut(usize::from(slot)), u32::try_from(at)) {
            *p = at;
        }
    }

    /// Moves the entry at `at` towards the root while it beats its parent.
    fn sift_up(&mut self, mut at: usize) -> usize {
        let Some(key) = self.key_at(at) else {
            return at;
        };
        while let Some(parent) = at.checked_sub(1).map(|a| a / 2) {
            let Some(pk) = self.key_at(parent) else {
                break;
            };
            if pk <= key {
                break;
            }
            self.place(at, pk.1);
            at = parent;
        }
        self.place(at, key.1);
        at
    }

    /// Moves the entry at `at` towards the leaves while a child beats it.
    fn sift_down(&mut self, mut at: usize) {
        let Some(key) = self.key_at(at) else {
            return;
        };
        loop {
            let left = 2 * at + 1;
            let Some(mut best) = self.key_at(left).map(|k| (left, k)) else {
                break;
            };
            if let Some(rk) = self.key_at(left + 1) {
                if rk < best.1 {
                    best = (left + 1, rk);
                }
            }
            if best.1 >= key {
                break;
            }
            self.place(at, best.1 .1);
            at = best.0;
        }
        self.place(at, key.1);
    }

    fn position_of(&self, slot: usize) -> Option<usize> {
        let p = *self.position.get(slot)?;
        if p == NONE {
            None
        } else {
            usize::try_from(p).ok()
        }
    }

    /// Sets `slot`'s deadline (microseconds), or takes it out of the heap
    /// for `None`.
    pub(crate) fn set(&mut self, slot: usize, deadline: Option<u64>) {
        let Some(deadline) = deadline else {
            self.remove(slot);
            return;
        };
        let (Ok(index), Some(d)) = (u16::try_from(slot), self.deadline.get_mut(slot)) else {
            return;
        };
        *d = deadline;
        let at = match self.position_of(slot) {
            Some(at) => at,
            None => {
                if self.len >= self.heap.len() {
                    return;
                }
                let at = self.len;
                self.len += 1;
                self.place(at, index);
                at
            }
        };
        let at = self.sift_up(at);
        self.sift_down(at);
    }

    /// Takes `slot` out of the heap.
    pub(crate) fn remove(&mut self, slot: usize) {
        let Some(at) = self.position_of(slot) else {
            return;
        };
        if let Some(p) = self.position.get_mut(slot) {
            *p = NONE;
        }
        let Some(last) = self.len.checked_sub(1) else {
            return;
        };
        let Some(&moved) = self.heap.get(last) else {
            return;
        };
        self.len = last;
        if at < last {
            self.place(at, moved);
            let at = self.sift_up(at);
            self.sift_down(at);
        }
    }

    /// `slot`'s deadline while it is in the heap.
    #[cfg(test)]
    pub(crate) fn deadline_of(&self, slot: usize) -> Option<u64> {
        self.position_of(slot)?;
        self.deadline.get(slot).copied()
    }

    /// The earliest (deadline, slot), ties to the lowest slot.
    pub(crate) fn peek(&self) -> Option<(u64, usize)> {
        self.key_at(0).map(|(d, s)| (d, usize::from(s)))
    }

    /// The earliest (deadline, slot) among every slot but `skip`.
    pub(crate) fn peek_except(&self, skip: usize) -> Option<(u64, usize)> {
        match self.position_of(skip) {
            // With `skip` at the root, the next is one of its children.
            Some(0) => {
                let a = self.key_at(1);
                let b = self.key_at(2);
                let best = match (a, b) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                best.map(|(d, s)| (d, usize::from(s)))
            }
            _ => self.peek(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_index_finds_every_slot_through_removals() {
        // A tiny table with colliding hashes exercises the wrap-around and
        // the backward shift on removal.
        let mut ix: BranchIndex<8> = BranchIndex::new();
        let hashes = [5u32, 5, 0xFFFF_FFFF, 0xFFFF_FFF0, 7, 5, 0x8000_0000, 1];
        for (slot, &h) in hashes.iter().enumerate() {
            ix.insert(slot, h);
        }
        let found = |ix: &BranchIndex<8>, h: u32| {
            let mut v = heapless::Vec::<usize, 8>::new();
            for s in ix.candidates(h) {
                v.push(s).unwrap();
            }
            v.sort_unstable();
            v
        };
        assert_eq!(found(&ix, 5), [0, 1, 5]);
        assert_eq!(found(&ix, 0xFFFF_FFFF), [2]);
        for slot in [1, 2, 6] {
            ix.remove(slot);
        }
        assert_eq!(found(&ix, 5), [0, 5]);
        assert_eq!(found(&ix, 0xFFFF_FFFF), []);
        assert_eq!(found(&ix, 0xFFFF_FFF0), [3]);
        assert_eq!(found(&ix, 7), [4]);
        assert_eq!(found(&ix, 1), [7]);
        assert_eq!(found(&ix, 0x8000_0000), []);
        ix.insert(6, 5);
        assert_eq!(found(&ix, 5), [0, 5, 6]);
    }

    #[test]
    fn deadline_heap_pops_in_deadline_then_slot_order() {
        let mut h: DeadlineHeap<16> = DeadlineHeap::new();
        let deadlines = [50u64, 10, 30, 10, 70, 20, 10, 90];
        for (slot, &d) in deadlines.iter().enumerate() {
            h.set(slot, Some(d));
        }
        assert_eq!(h.peek(), Some((10, 1)));
        assert_eq!(h.peek_except(1), Some((10, 3)));
        h.set(1, Some(100)); // a later deadline
        h.set(7, Some(5)); // an earlier one
        h.remove(3);
        h.set(6, None);
        let mut order = heapless::Vec::<(u64, usize), 16>::new();
        while let Some((d, s)) = h.peek() {
            order.push((d, s)).unwrap();
            h.remove(s);
        }
        assert_eq!(
            order,
            [(5, 7), (20, 5), (30, 2), (50, 0), (70, 4), (100, 1)]
        );
    }
}
