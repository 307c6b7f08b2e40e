//! The names seen in one body, each once: the bytes in one arena, a hash table of positions.
//! A new name costs an append and an insert, never an allocation of its own.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

/// Names expected in a typical body, to size the table once instead of growing it repeatedly.
pub(super) const INITIAL_NAMES: usize = 256;

/// A map from name bytes to a small value.
#[derive(Debug)]
pub(super) struct NameTable<V> {
    arena: Vec<u8>,
    /// Each name's place in the arena and its hash, kept so growing the table never hashes a
    /// name again.
    table: HashTable<(u32, u32, u64, V)>,
    /// Seeded per process, so a hostile body cannot aim at collisions it can predict.
    hasher: RandomState,
}

impl<V: Copy> NameTable<V> {
    pub(super) fn new() -> Self {
        NameTable {
            arena: Vec::with_capacity(INITIAL_NAMES * 32),
            table: HashTable::with_capacity(INITIAL_NAMES),
            hasher: RandomState::default(),
        }
    }

    fn bytes(arena: &[u8], start: u32, len: u32) -> &[u8] {
        &arena[start as usize..(start + len) as usize]
    }

    /// The hash of `name`, for [`NameTable::get_hashed`] and [`NameTable::insert_hashed`].
    #[inline]
    pub(super) fn hash(&self, name: &[u8]) -> u64 {
        self.hasher.hash_one(name)
    }

    /// The value stored for `name`.
    #[inline]
    pub(super) fn get(&self, name: &[u8]) -> Option<V> {
        self.get_hashed(self.hash(name), name)
    }

    /// The value stored for `name`, whose hash is `hash`.
    #[inline]
    pub(super) fn get_hashed(&self, hash: u64, name: &[u8]) -> Option<V> {
        self.table
            .find(hash, |&(s, l, h, _)| h == hash && Self::bytes(&self.arena, s, l) == name)
            .map(|e| e.3)
    }

    /// Stores `value` for `name`, which must not be stored yet.
    #[cfg(test)]
    pub(super) fn insert(&mut self, name: &[u8], value: V) {
        self.insert_hashed(self.hash(name), name, value);
    }

    /// Stores `value` for `name`, whose hash is `hash` and which must not be stored yet.
    pub(super) fn insert_hashed(&mut self, hash: u64, name: &[u8], value: V) {
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(name);
        self.table.insert_unique(hash, (start, name.len() as u32, hash, value), |e| e.2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_finds() {
        let mut t = NameTable::new();
        for i in 0..1000u32 {
            t.insert(format!("name_{i}").as_bytes(), i);
        }
        assert_eq!(t.get(b"name_0"), Some(0));
        assert_eq!(t.get(b"name_999"), Some(999));
        assert_eq!(t.get(b"name_1000"), None);
        assert_eq!(t.get(b""), None);
    }
}
