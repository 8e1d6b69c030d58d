//! A fixed-capacity table whose handles carry their slot's generation, so a
//! handle kept after its entry was removed never reaches the entry that
//! reuses the slot. Transactions, dialogs and calls all live in one.

use core::fmt;
use core::marker::PhantomData;

use heapless::Vec;

/// A handle to an entry of a [`Slots`] table; `M` tells handles of
/// different tables apart at compile time.
pub struct Handle<M> {
    index: u16,
    generation: u32,
    kind: PhantomData<fn() -> M>,
}

impl<M> Handle<M> {
    /// The slot.
    pub fn index(self) -> usize {
        usize::from(self.index)
    }

    /// How many entries the slot held before this one.
    pub fn generation(self) -> u32 {
        self.generation
    }
}

// Written out rather than derived: derives would demand the same traits of
// the marker type `M`, which is never built.
impl<M> Clone for Handle<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Handle<M> {}
impl<M> PartialEq for Handle<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.index, self.generation) == (other.index, other.generation)
    }
}
impl<M> Eq for Handle<M> {}
impl<M> PartialOrd for Handle<M> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Handle<M> {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.index, self.generation).cmp(&(other.index, other.generation))
    }
}
impl<M> core::hash::Hash for Handle<M> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        (self.index, self.generation).hash(state);
    }
}
impl<M> fmt::Debug for Handle<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.index, self.generation)
    }
}

/// Every slot of a table is taken: the caller refuses the new entry (e.g.
/// 486 or 503 to an INVITE) and keeps the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableFull;

impl fmt::Display for TableFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("table full")
    }
}

#[derive(Clone, Debug)]
struct Slot<T> {
    generation: u32,
    entry: Option<T>,
}

/// Up to `N` entries of `T` (`N` at most 65,536), addressed by
/// [`Handle<M>`].
///
/// The free slots are kept in a min-heap of their indices, so
/// [`insert`](Self::insert) takes the lowest free slot in O(log N) and
/// [`len`](Self::len) is a counter: neither walks the table.
///
/// Slots are taken into use in index order and never given back: the
/// ones never used hold no bytes at all (`slots` grows up to `N`), so an
/// empty table is only its counters, and building one (or moving it into
/// place) costs no copy of `N` entries.
#[derive(Clone, Debug)]
pub struct Slots<T, M, const N: usize> {
    slots: Vec<Slot<T>, N>,
    /// A binary min-heap of the indices of freed slots (all below
    /// `slots.len()`) in `free[..free_len]`.
    free: [u16; N],
    free_len: usize,
    live: usize,
    kind: PhantomData<fn() -> M>,
}

impl<T, M, const N: usize> Default for Slots<T, M, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, M, const N: usize> Slots<T, M, N> {
    /// An empty table.
    // Inlined so an empty table is built in its final place: called out
    // of line, its storage is built on the stack and copied.
    #[inline(always)]
    pub const fn new() -> Self {
        Slots {
            slots: Vec::new(),
            free: [0; N],
            free_len: 0,
            live: 0,
            kind: PhantomData,
        }
    }

    /// Takes the lowest freed index off the heap. Every freed index is
    /// below the slots never used, so it is the lowest free slot.
    fn pop_free(&mut self) -> Option<u16> {
        let last = self.free_len.checked_sub(1)?;
        let top = *self.free.first()?;
        let moved = *self.free.get(last)?;
        self.free_len = last;
        // Sift `moved` down from the root.
        let mut at = 0;
        loop {
            let left = 2 * at + 1;
            let right = left + 1;
            let mut child = match self.free.get(..last).and_then(|h| h.get(left)) {
                Some(&v) => (left, v),
                None => break,
            };
            if let Some(&v) = self.free.get(..last).and_then(|h| h.get(right)) {
                if v < child.1 {
                    child = (right, v);
                }
            }
            if child.1 >= moved {
                break;
            }
            if let Some(dst) = self.free.get_mut(at) {
                *dst = child.1;
            }
            at = child.0;
        }
        if let Some(dst) = self.free.get_mut(at) {
            *dst = moved;
        }
        Some(top)
    }

    /// Puts a freed index back on the heap.
    fn push_free(&mut self, index: u16) {
        let mut at = self.free_len;
        if at >= self.free.len() {
            return;
        }
        self.free_len += 1;
        while let Some(parent) = at.checked_sub(1).map(|a| a / 2) {
            let Some(&p) = self.free.get(parent) else {
                break;
            };
            if p <= index {
                break;
            }
            if let Some(dst) = self.free.get_mut(at) {
                *dst = p;
            }
            at = parent;
        }
        if let Some(dst) = self.free.get_mut(at) {
            *dst = index;
        }
    }

    /// How many entries the table can hold.
    pub fn capacity(&self) -> usize {
        N.min(usize::from(u16::MAX) + 1)
    }

    /// How many entries are live; 0 means every slot is free.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether every slot is free.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether no slot is free.
    pub fn is_full(&self) -> bool {
        self.free_len == 0 && self.slots.len() >= self.capacity()
    }

    /// Adds an entry in the first free slot.
    pub fn insert(&mut self, entry: T) -> Result<Handle<M>, TableFull> {
        let Some(index) = self.pop_free() else {
            // No freed slot: the next never used one, if any is left.
            let index = u16::try_from(self.slots.len()).map_err(|_| TableFull)?;
            if self.slots.len() >= self.capacity() {
                return Err(TableFull);
            }
            self.slots
                .push(Slot {
                    generation: 0,
                    entry: Some(entry),
                })
                .map_err(|_| TableFull)?;
            self.live += 1;
            return Ok(Handle {
                index,
                generation: 0,
                kind: PhantomData,
            });
        };
        let Some(slot) = self.slots.get_mut(usize::from(index)) else {
            return Err(TableFull);
        };
        slot.entry = Some(entry);
        self.live += 1;
        Ok(Handle {
            index,
            generation: slot.generation,
            kind: PhantomData,
        })
    }

    /// The entry behind `h`, if it is still there.
    pub fn get(&self, h: Handle<M>) -> Option<&T> {
        self.slots
            .get(h.index())
            .filter(|s| s.generation == h.generation)?
            .entry
            .as_ref()
    }

    /// The entry behind `h`, mutably, if it is still there.
    pub fn get_mut(&mut self, h: Handle<M>) -> Option<&mut T> {
        self.slots
            .get_mut(h.index())
            .filter(|s| s.generation == h.generation)?
            .entry
            .as_mut()
    }

    /// Removes the entry and frees its slot; every handle to it goes stale.
    pub fn remove(&mut self, h: Handle<M>) -> Option<T> {
        let slot = self
            .slots
            .get_mut(h.index())
            .filter(|s| s.generation == h.generation)?;
        let entry = slot.entry.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.live = self.live.saturating_sub(1);
        self.push_free(h.index);
        Some(entry)
    }

    /// Like [`remove`](Self::remove) without handing the entry back: it
    /// is dropped where it lies, so a large entry is never copied out.
    pub fn discard(&mut self, h: Handle<M>) -> bool {
        let Some(slot) = self
            .slots
            .get_mut(h.index())
            .filter(|s| s.generation == h.generation && s.entry.is_some())
        else {
            return false;
        };
        slot.entry = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.live = self.live.saturating_sub(1);
        self.push_free(h.index);
        true
    }

    /// The handle of the entry in slot `index`, if one is live there.
    pub fn handle_at(&self, index: usize) -> Option<Handle<M>> {
        let slot = self.slots.get(index)?;
        slot.entry.as_ref()?;
        Some(Handle {
            index: u16::try_from(index).ok()?,
            generation: slot.generation,
            kind: PhantomData,
        })
    }

    /// Every live entry with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (Handle<M>, &T)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            let entry = s.entry.as_ref()?;
            let index = u16::try_from(i).ok()?;
            Some((
                Handle {
                    index,
                    generation: s.generation,
                    kind: PhantomData,
                },
                entry,
            ))
        })
    }

    /// Every live entry with its handle, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Handle<M>, &mut T)> + '_ {
        self.slots.iter_mut().enumerate().filter_map(|(i, s)| {
            let generation = s.generation;
            let entry = s.entry.as_mut()?;
            let index = u16::try_from(i).ok()?;
            Some((
                Handle {
                    index,
                    generation,
                    kind: PhantomData,
                },
                entry,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Marker {}

    #[test]
    fn stale_handles_never_reach_a_reused_slot() {
        let mut t: Slots<u32, Marker, 2> = Slots::new();
        let a = t.insert(1).unwrap();
        let b = t.insert(2).unwrap();
        assert_eq!(t.insert(3), Err(TableFull));
        assert_eq!(t.remove(a), Some(1));
        assert_eq!(t.remove(a), None);
        let c = t.insert(4).unwrap();
        assert_eq!(c.index(), a.index());
        assert_ne!(c, a);
        assert_eq!(t.get(a), None);
        assert_eq!(t.get(c), Some(&4));
        assert_eq!(t.iter().map(|(_, v)| *v).sum::<u32>(), 6);
        *t.get_mut(b).unwrap() = 5;
        assert_eq!(t.iter_mut().map(|(_, v)| *v).sum::<u32>(), 9);
        assert_eq!(t.len(), 2);
        assert!(t.is_full());
    }

    #[test]
    fn insert_takes_the_lowest_free_slot() {
        let mut t: Slots<u32, Marker, 64> = Slots::new();
        let hs: [Handle<Marker>; 64] = core::array::from_fn(|i| t.insert(i as u32).unwrap());
        assert!(t.is_full());
        // Free a scattered set, out of order; inserts refill lowest first.
        for i in [40, 3, 63, 17, 0, 41, 22] {
            assert_eq!(t.remove(hs[i]), Some(i as u32));
        }
        assert_eq!(t.len(), 57);
        let mut refilled = heapless::Vec::<usize, 8>::new();
        while let Ok(h) = t.insert(99) {
            refilled.push(h.index()).unwrap();
        }
        assert_eq!(refilled, [0, 3, 17, 22, 40, 41, 63]);
        assert_eq!(t.len(), 64);
        assert_eq!(t.iter().count(), 64);
    }
}
