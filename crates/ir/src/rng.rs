//! Seeded random streams. Every random choice in neuromap draws from a stream named by
//! (run seed, purpose, entity name, index), so adding a projection or a population never
//! changes the draws of another, and no stream depends on thread count or order.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Stable 64-bit FNV-1a hash (the same on every platform and version).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream for `purpose` (e.g. "connect") of entity `name`, element `index`.
pub fn stream(seed: u64, purpose: &str, name: &str, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::from_seed(key(seed, purpose, name, index))
}

/// The ChaCha8 key of [`stream`]`(seed, purpose, name, index)`.
pub fn key(seed: u64, purpose: &str, name: &str, index: u64) -> [u8; 32] {
    let words = [seed, fnv1a(purpose.as_bytes()), fnv1a(name.as_bytes()), index];
    let mut key = [0u8; 32];
    let mut acc = 0u64;
    for (i, w) in words.iter().enumerate() {
        acc = splitmix64(acc ^ *w);
        key[i * 8..i * 8 + 8].copy_from_slice(&acc.to_le_bytes());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    const PINNED_FIRST_DRAW: u64 = 12_675_469_506_680_596_340;

    #[test]
    fn streams_are_stable_and_distinct() {
        let a: u64 = stream(1, "connect", "e", 0).random();
        let b: u64 = stream(1, "connect", "e", 0).random();
        let c: u64 = stream(1, "connect", "i", 0).random();
        let d: u64 = stream(2, "connect", "e", 0).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        // Pinned: a change here silently changes every network and result.
        assert_eq!(a, PINNED_FIRST_DRAW, "the stream derivation changed");
        assert_eq!(fnv1a(b"neuromap"), 14_057_865_455_460_365_890);
    }
}
