//! ChaCha8 streams computed side by side: [`LANES`] keys at a time, each lane one
//! stream, the same words `rand_chacha::ChaCha8Rng::from_seed(key)` gives.
//!
//! A Poisson source population draws one `u64` per neuron and step from its own
//! stream (`neuromap_ir::rng::stream`), [`crate::sources::AHEAD`] steps at a time: four
//! ChaCha blocks per neuron, the buffer `ChaCha8Rng` fills at once. `rand_chacha`
//! computes one stream's four blocks together, which leaves its vectors shuffling
//! words between the rounds' columns and diagonals; here each vector lane is another
//! neuron's stream, so a round is the same additions, xors and rotations on every
//! lane with no shuffle, and 16 lanes fill AVX-512's registers (8, AVX2's). The
//! state is the standard one: the constants, the 32-byte key as eight little-endian
//! words, a 64-bit block counter (words 12 and 13) and a 64-bit stream of 0.

/// Streams computed together (one group).
pub(crate) const LANES: usize = 16;

/// Blocks a refill takes (the buffer `ChaCha8Rng` fills at once), and their words.
pub(crate) const BLOCKS: usize = 4;
pub(crate) const WORDS: usize = 16 * BLOCKS;

/// One group's keys, word by word: `keys[w][lane]`.
pub(crate) type Keys = [[u32; LANES]; 8];

/// The [`BLOCKS`] blocks from `block` on of each lane's stream, word by word:
/// `out[w][lane]` is the `w`-th word of the lane's 64 (block `block + w / 16`, word
/// `w % 16`), as `ChaCha8Rng` would give them after `16 · block` words.
pub(crate) fn blocks(keys: &Keys, block: u64, out: &mut [[u32; LANES]; WORDS]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the only requirement of a `target_feature` function is that the
            // CPU has the feature, and the line above has just checked that it does.
            #[allow(unsafe_code)]
            return unsafe { blocks_avx512(keys, block, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above, for AVX2.
            #[allow(unsafe_code)]
            return unsafe { blocks_avx2(keys, block, out) };
        }
    }
    blocks_portable(keys, block, out)
}

/// ChaCha's quarter round on four words of every lane, with the vector addition
/// `$add` and xor-then-rotate `$xr`.
macro_rules! quarter {
    ($add:path, $xr:ident, $a:ident, $b:ident, $c:ident, $d:ident) => {
        $a = $add($a, $b);
        $d = $xr!($d, $a, 16);
        $c = $add($c, $d);
        $b = $xr!($b, $c, 12);
        $a = $add($a, $b);
        $d = $xr!($d, $a, 8);
        $c = $add($c, $d);
        $b = $xr!($b, $c, 7);
    };
}

/// The [`BLOCKS`] blocks of a vector's lanes: `$load(w)` gives key word `w`, `$set(v)`
/// a vector of `v` in every lane, `$store(w, v)` writes output word `w`.
macro_rules! lane_blocks {
    ($block:expr, $add:path, $xr:ident, $load:expr, $set:expr, $store:expr) => {
        const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
        let k = [$load(0), $load(1), $load(2), $load(3), $load(4), $load(5), $load(6), $load(7)];
        for b in 0..BLOCKS {
            let counter = ($block as u64).wrapping_add(b as u64);
            let init = [
                $set(SIGMA[0]),
                $set(SIGMA[1]),
                $set(SIGMA[2]),
                $set(SIGMA[3]),
                k[0],
                k[1],
                k[2],
                k[3],
                k[4],
                k[5],
                k[6],
                k[7],
                $set(counter as u32),
                $set((counter >> 32) as u32),
                $set(0),
                $set(0),
            ];
            let [
                mut x0,
                mut x1,
                mut x2,
                mut x3,
                mut x4,
                mut x5,
                mut x6,
                mut x7,
                mut x8,
                mut x9,
                mut x10,
                mut x11,
                mut x12,
                mut x13,
                mut x14,
                mut x15,
            ] = init;
            // Eight rounds: four of columns and diagonals.
            for _ in 0..4 {
                quarter!($add, $xr, x0, x4, x8, x12);
                quarter!($add, $xr, x1, x5, x9, x13);
                quarter!($add, $xr, x2, x6, x10, x14);
                quarter!($add, $xr, x3, x7, x11, x15);
                quarter!($add, $xr, x0, x5, x10, x15);
                quarter!($add, $xr, x1, x6, x11, x12);
                quarter!($add, $xr, x2, x7, x8, x13);
                quarter!($add, $xr, x3, x4, x9, x14);
            }
            let x = [x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15];
            for w in 0..16 {
                $store(16 * b + w, $add(x[w], init[w]));
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline(never)]
fn blocks_avx512(keys: &Keys, block: u64, out: &mut [[u32; LANES]; WORDS]) {
    use std::arch::x86_64::*;
    macro_rules! xr {
        ($x:expr, $y:expr, $r:literal) => {
            _mm512_rol_epi32::<$r>(_mm512_xor_si512($x, $y))
        };
    }
    // SAFETY (the loads and stores): each reads or writes one row of 16 `u32`s, the
    // 64 bytes of a vector, within its array.
    #[allow(unsafe_code)]
    let load = |w: usize| unsafe { _mm512_loadu_si512(keys[w].as_ptr().cast()) };
    let set = |v: u32| _mm512_set1_epi32(v as i32);
    #[allow(unsafe_code)]
    let mut store = |w: usize, v: __m512i| unsafe { _mm512_storeu_si512(out[w].as_mut_ptr().cast(), v) };
    lane_blocks!(block, _mm512_add_epi32, xr, load, set, store);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
fn blocks_avx2(keys: &Keys, block: u64, out: &mut [[u32; LANES]; WORDS]) {
    use std::arch::x86_64::*;
    macro_rules! xr {
        ($x:expr, $y:expr, $r:literal) => {{
            let v = _mm256_xor_si256($x, $y);
            _mm256_or_si256(_mm256_slli_epi32::<$r>(v), _mm256_srli_epi32::<{ 32 - $r }>(v))
        }};
    }
    // Half a group at a time: sixteen words of eight lanes fill AVX2's registers.
    for half in [0, LANES / 2] {
        // SAFETY (the loads and stores): each reads or writes eight `u32`s from
        // `half` on in a row of sixteen, the 32 bytes of a vector, within its array.
        #[allow(unsafe_code)]
        let load = |w: usize| unsafe { _mm256_loadu_si256(keys[w][half..].as_ptr().cast()) };
        let set = |v: u32| _mm256_set1_epi32(v as i32);
        #[allow(unsafe_code)]
        let mut store = |w: usize, v: __m256i| unsafe { _mm256_storeu_si256(out[w][half..].as_mut_ptr().cast(), v) };
        lane_blocks!(block, _mm256_add_epi32, xr, load, set, store);
    }
}

/// Lane by lane, in the baseline instruction set (a lane is a column of `keys` and
/// `out`).
#[allow(clippy::needless_range_loop)]
#[inline(never)]
fn blocks_portable(keys: &Keys, block: u64, out: &mut [[u32; LANES]; WORDS]) {
    macro_rules! xr {
        ($x:expr, $y:expr, $r:literal) => {
            ($x ^ $y).rotate_left($r)
        };
    }
    for lane in 0..LANES {
        let load = |w: usize| keys[w][lane];
        let set = |v: u32| v;
        let mut store = |w: usize, v: u32| out[w][lane] = v;
        lane_blocks!(block, u32::wrapping_add, xr, load, set, store);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Every kernel gives `ChaCha8Rng`'s words for every lane: from the start of the
    /// stream, later on, and across the counter's low word turning over.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn lanes_give_chacha8rngs_words() {
        let key = |lane: usize| neuromap_ir::rng::key(5, "source", "lanes", lane as u64);
        let mut keys: Keys = [[0; LANES]; 8];
        for lane in 0..LANES {
            for (w, c) in key(lane).chunks(4).enumerate() {
                keys[w][lane] = u32::from_le_bytes(c.try_into().unwrap());
            }
        }
        type Kernel = fn(&Keys, u64, &mut [[u32; LANES]; WORDS]);
        let mut kernels: Vec<(&str, Kernel)> = vec![("portable", blocks_portable), ("dispatched", blocks)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked above).
                #[allow(unsafe_code)]
                kernels.push(("avx2", |k, b, o| unsafe { blocks_avx2(k, b, o) }));
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked above).
                #[allow(unsafe_code)]
                kernels.push(("avx512", |k, b, o| unsafe { blocks_avx512(k, b, o) }));
            }
        }
        for block in [0u64, 4, 1 << 20, (1 << 32) - 2] {
            let want: Vec<Vec<u32>> = (0..LANES)
                .map(|lane| {
                    let mut r = ChaCha8Rng::from_seed(key(lane));
                    r.set_word_pos(u128::from(block) * 16);
                    (0..WORDS).map(|_| r.next_u32()).collect()
                })
                .collect();
            for (name, kernel) in &kernels {
                let mut out = [[0u32; LANES]; WORDS];
                kernel(&keys, block, &mut out);
                for (lane, want) in want.iter().enumerate() {
                    let got: Vec<u32> = (0..WORDS).map(|w| out[w][lane]).collect();
                    assert_eq!(&got, want, "{name}, block {block}, lane {lane}");
                }
            }
        }
    }
}
