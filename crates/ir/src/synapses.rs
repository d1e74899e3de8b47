//! Synapses of one projection in compressed sparse rows (one row per presynaptic neuron).
//!
//! Per synapse: target index (u32), weight (f32) and delay in timesteps (u16): 10 bytes,
//! so 3×10⁸ synapses take 3 GB. Weights are stored as f32 (a 24-bit mantissa, finer than
//! any chip's weight format); every simulator reads the same stored value, and the
//! reference computes with it in f64.

use crate::IrError;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Synapses {
    row_start: Vec<u64>,
    post: Vec<u32>,
    weight: Vec<f32>,
    delay: Vec<u16>,
    min_delay: u16,
    max_delay: u16,
    /// The largest |weight| ([`max_abs`]), found once: every simulator scales its
    /// weights by it, and finding it reads every weight.
    max_abs_weight: f32,
    /// Some row's targets are not in increasing order (kept as the rows are built;
    /// `false` when every row's are, as most connectors make them).
    unsorted: bool,
}

/// One row: the synapses of one presynaptic neuron.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    pub post: &'a [u32],
    pub weight: &'a [f32],
    pub delay: &'a [u16],
}

impl Synapses {
    /// The same synapses with other weights (one per synapse, in storage order).
    pub fn with_weights(&self, weights: Vec<f32>) -> Result<Synapses, IrError> {
        if weights.len() != self.weight.len() {
            return Err(IrError::Invalid(format!(
                "{} weights given for {} synapses",
                weights.len(),
                self.weight.len()
            )));
        }
        if let Some(w) = weights.iter().find(|w| !w.is_finite()) {
            return Err(IrError::Invalid(format!("non-finite weight {w}")));
        }
        let max_abs_weight = max_abs(&weights);
        Ok(Synapses { weight: weights, max_abs_weight, ..self.clone() })
    }

    pub fn n_pre(&self) -> usize {
        self.row_start.len().saturating_sub(1)
    }

    pub fn len(&self) -> usize {
        self.post.len()
    }

    pub fn is_empty(&self) -> bool {
        self.post.is_empty()
    }

    #[inline]
    pub fn row(&self, pre: usize) -> Row<'_> {
        let a = self.row_start[pre] as usize;
        let b = self.row_start[pre + 1] as usize;
        Row { post: &self.post[a..b], weight: &self.weight[a..b], delay: &self.delay[a..b] }
    }

    pub fn row_len(&self, pre: usize) -> usize {
        (self.row_start[pre + 1] - self.row_start[pre]) as usize
    }

    /// The synapses of the rows of presynaptic neurons `pres`, all together.
    pub fn rows_len(&self, pres: std::ops::Range<usize>) -> usize {
        (self.row_start[pres.end] - self.row_start[pres.start]) as usize
    }

    /// Smallest delay in steps (0 for an empty projection).
    pub fn min_delay(&self) -> u16 {
        self.min_delay
    }

    pub fn max_delay(&self) -> u16 {
        self.max_delay
    }

    /// Whether every row's targets are in non-decreasing order (known from the
    /// building, not scanned when asked): the targets in a range then lie together
    /// in a row.
    pub fn rows_in_target_order(&self) -> bool {
        !self.unsorted
    }

    /// The largest |weight| (0 for an empty projection).
    pub fn max_abs_weight(&self) -> f32 {
        self.max_abs_weight
    }

    pub fn posts(&self) -> &[u32] {
        &self.post
    }

    pub fn weights(&self) -> &[f32] {
        &self.weight
    }

    pub fn delays(&self) -> &[u16] {
        &self.delay
    }

    /// Iterates all synapses as (pre, post, weight, delay).
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, f32, u16)> + '_ {
        (0..self.n_pre()).flat_map(move |i| {
            let r = self.row(i);
            (0..r.post.len()).map(move |k| (i as u32, r.post[k], r.weight[k], r.delay[k]))
        })
    }

    /// Bytes held by this projection's arrays.
    pub fn heap_bytes(&self) -> usize {
        self.row_start.capacity() * 8
            + self.post.capacity() * 4
            + self.weight.capacity() * 4
            + self.delay.capacity() * 2
    }

    /// Builds from unordered (pre, post, weight, delay) columns by a counting sort on pre;
    /// the order within a row is the input order.
    pub fn from_unsorted(
        n_pre: usize,
        pre: &[u32],
        post: Vec<u32>,
        weight: Vec<f32>,
        delay: Vec<u16>,
    ) -> Result<Self, IrError> {
        Self::from_unsorted_in_blocks(n_pre, pre, post, weight, delay, SCATTER_BLOCK)
    }

    /// [`Synapses::from_unsorted`], grouping `block` synapses at a time.
    fn from_unsorted_in_blocks(
        n_pre: usize,
        pre: &[u32],
        post: Vec<u32>,
        weight: Vec<f32>,
        delay: Vec<u16>,
        block: usize,
    ) -> Result<Self, IrError> {
        let mut counts = vec![0u64; n_pre + 1];
        for &p in pre {
            let p = p as usize;
            if p >= n_pre {
                return Err(IrError::Invalid(format!("presynaptic index {p} out of range 0..{n_pre}")));
            }
            counts[p + 1] += 1;
        }
        for i in 0..n_pre {
            counts[i + 1] += counts[i];
        }
        let row_start = counts.clone();
        let mut next = counts;
        let n = pre.len();
        let mut o_post = vec![0u32; n];
        let mut o_weight = vec![0f32; n];
        let mut o_delay = vec![0u16; n];
        // Each synapse goes to the next place of its row. Put there in input order, a
        // large projection's rows are written at random over hundreds of MB (a cache
        // and TLB miss per array per synapse). So a block of synapses at a time is
        // first grouped by ranges of about a thousand rows (stable), then put in place
        // range by range, whose rows lie together. Every row gets its synapses in input
        // order either way.
        let shift = (usize::BITS - n_pre.leading_zeros()).saturating_sub(10);
        let ranges = (n_pre >> shift) + 1;
        let mut at = vec![0usize; ranges + 1];
        let mut grouped: Vec<(u32, u32, f32, u16)> = Vec::new();
        // Whether the targets come in increasing order (so every row's do: each row
        // gets its synapses in input order).
        let (mut in_order, mut last) = (true, 0u32);
        let block = block.max(1);
        for from in (0..n).step_by(block) {
            let to = (from + block).min(n);
            at.fill(0);
            for &p in &pre[from..to] {
                at[(p as usize >> shift) + 1] += 1;
            }
            for r in 0..ranges {
                at[r + 1] += at[r];
            }
            grouped.resize(to - from, (0, 0, 0.0, 0));
            for k in from..to {
                let r = &mut at[pre[k] as usize >> shift];
                grouped[*r] = (pre[k], post[k], weight[k], delay[k]);
                *r += 1;
                in_order &= post[k] >= last;
                last = post[k];
            }
            for &(p, po, w, d) in &grouped {
                let slot = &mut next[p as usize];
                let i = *slot as usize;
                *slot += 1;
                o_post[i] = po;
                o_weight[i] = w;
                o_delay[i] = d;
            }
        }
        let mut s = SynapsesBuilder::with_capacity(n_pre, n).finish_raw(row_start, o_post, o_weight, o_delay);
        // Else each row is read until the first out of order (at once where the
        // targets were drawn at random).
        s.unsorted = !in_order && !s.row_start.windows(2).all(|r| s.post[r[0] as usize..r[1] as usize].is_sorted());
        s.min_delay = s.delay.iter().copied().min().unwrap_or(0);
        s.max_delay = s.delay.iter().copied().max().unwrap_or(0);
        Ok(s)
    }
}

/// The largest |w| of `weights` (0 when empty; a NaN is passed over, as `f64::max`
/// passes it over), read from the bit patterns: without the sign bit, a float's bits
/// order as its magnitude does, and an integer maximum vectorises where a float one
/// does not.
fn max_abs(weights: &[f32]) -> f32 {
    const INF: u32 = 0x7f80_0000;
    let bits = weights.iter().fold(0u32, |m, w| {
        let a = w.to_bits() & 0x7fff_ffff;
        m.max(if a > INF { 0 } else { a })
    });
    f32::from_bits(bits)
}

/// Synapses [`Synapses::from_unsorted`] groups at a time (16 bytes each: 64 MiB).
const SCATTER_BLOCK: usize = 1 << 22;

/// Builds rows in presynaptic order without a sort.
#[derive(Debug)]
pub struct SynapsesBuilder {
    s: Synapses,
    /// Where the current row starts in `s.post`.
    row_from: usize,
}

impl SynapsesBuilder {
    pub fn with_capacity(n_pre: usize, n_syn: usize) -> Self {
        let mut row_start = Vec::with_capacity(n_pre + 1);
        row_start.push(0);
        Self {
            s: Synapses {
                row_start,
                post: Vec::with_capacity(n_syn),
                weight: Vec::with_capacity(n_syn),
                delay: Vec::with_capacity(n_syn),
                min_delay: u16::MAX,
                max_delay: 0,
                max_abs_weight: 0.0,
                unsorted: false,
            },
            row_from: 0,
        }
    }

    /// Notes whether `post` keeps its row's targets in order.
    #[inline]
    fn order(&mut self, post: u32) {
        self.s.unsorted |= self.s.post[self.row_from..].last().is_some_and(|&last| post < last);
    }

    #[inline]
    pub fn push(&mut self, post: u32, weight: f32, delay: u16) {
        self.order(post);
        self.s.post.push(post);
        self.s.weight.push(weight);
        self.s.delay.push(delay);
        self.s.min_delay = self.s.min_delay.min(delay);
        self.s.max_delay = self.s.max_delay.max(delay);
    }

    /// Pushes a target alone; [`SynapsesBuilder::fill_values`] gives it its weight and
    /// delay before the row ends.
    #[inline]
    pub(crate) fn push_post(&mut self, post: u32) {
        self.order(post);
        self.s.post.push(post);
    }

    /// Gives the targets pushed alone their weights and delays, in order: `weights(n,
    /// out)` and `delays(n, out)` each push `n` values.
    #[inline]
    pub(crate) fn fill_values<E>(
        &mut self,
        weights: impl FnOnce(usize, &mut Vec<f32>) -> Result<(), E>,
        delays: impl FnOnce(usize, &mut Vec<u16>) -> Result<(), E>,
    ) -> Result<(), E> {
        let n = self.s.post.len() - self.s.weight.len();
        if n == 0 {
            return Ok(());
        }
        weights(n, &mut self.s.weight)?;
        let from = self.s.delay.len();
        delays(n, &mut self.s.delay)?;
        for &d in &self.s.delay[from..] {
            self.s.min_delay = self.s.min_delay.min(d);
            self.s.max_delay = self.s.max_delay.max(d);
        }
        Ok(())
    }

    /// Closes the current row (call once per presynaptic neuron, in order).
    #[inline]
    pub fn end_row(&mut self) {
        debug_assert_eq!(self.s.weight.len(), self.s.post.len(), "targets without values at a row's end");
        self.s.row_start.push(self.s.post.len() as u64);
        self.row_from = self.s.post.len();
    }

    pub fn rows_done(&self) -> usize {
        self.s.row_start.len() - 1
    }

    pub fn finish(mut self) -> Synapses {
        if self.s.post.is_empty() {
            self.s.min_delay = 0;
        }
        self.s.post.shrink_to_fit();
        self.s.weight.shrink_to_fit();
        self.s.delay.shrink_to_fit();
        self.s.max_abs_weight = max_abs(&self.s.weight);
        self.s
    }

    fn finish_raw(self, row_start: Vec<u64>, post: Vec<u32>, weight: Vec<f32>, delay: Vec<u16>) -> Synapses {
        let max_abs_weight = max_abs(&weight);
        Synapses { row_start, post, weight, delay, max_abs_weight, ..self.s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// The bit-pattern maximum is the float fold it replaced, on every kind of float:
    /// signs, zeros of both signs, subnormals, infinities and NaNs of any payload.
    #[test]
    fn the_largest_weight_read_from_bits_is_the_float_maximum() {
        let fold = |w: &[f32]| w.iter().fold(0.0f64, |m, w| m.max(f64::from(w.abs())));
        let special =
            [0.0, -0.0, 1e-45, -1e-45, 1.5, -2.25, f32::MAX, f32::MIN, f32::INFINITY, f32::NEG_INFINITY, f32::NAN];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for n in 0..200 {
            let w: Vec<f32> = (0..n % 40)
                .map(|_| match rng.random_range(0..4) {
                    0 => special[rng.random_range(0..special.len())],
                    1 => f32::from_bits(rng.random::<u32>()),
                    _ => rng.random_range(-3.0f32..3.0),
                })
                .collect();
            assert_eq!(f64::from(max_abs(&w)).to_bits(), fold(&w).to_bits(), "{w:?}");
        }
        assert_eq!(max_abs(&[f32::NAN, -f32::NAN, -0.5]), 0.5);
        assert_eq!(max_abs(&[]), 0.0);
    }

    /// Whether every row's targets are in order, as the builder and the scatter know
    /// it, is what reading every row finds: for targets in order, at random, in order
    /// within each row only, and out of order in one row of many.
    #[test]
    fn rows_known_in_target_order_are_in_order() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let scanned = |s: &Synapses| (0..s.n_pre()).all(|i| s.row(i).post.is_sorted());
        for case in 0..4 {
            let (n_pre, n) = (50usize, 2_000usize);
            let (pre, post): (Vec<u32>, Vec<u32>) = match case {
                // Targets in order (as a column-major connector makes them).
                0 => (0..n).map(|k| (rng.random_range(0..n_pre as u32), k as u32 / 3)).unzip(),
                // At random.
                1 => (0..n).map(|_| (rng.random_range(0..n_pre as u32), rng.random_range(0..500))).unzip(),
                // Row by row, each row's in order, the whole not.
                2 => (0..n).map(|k| ((k * n_pre / n) as u32, (k % 40) as u32)).unzip(),
                // In order but for one pair in one row.
                _ => {
                    let (pre, mut post): (Vec<u32>, Vec<u32>) = (0..n).map(|k| ((k % n_pre) as u32, k as u32)).unzip();
                    post.swap(100, 100 + n_pre);
                    (pre, post)
                }
            };
            let (weight, delay) = (vec![1.0f32; n], vec![1u16; n]);
            let s = Synapses::from_unsorted(n_pre, &pre, post, weight, delay).unwrap();
            assert_eq!(s.rows_in_target_order(), scanned(&s), "case {case}");
            assert_eq!(s.rows_in_target_order(), case != 1 && case != 3, "case {case}");
            // The builder, row by row, knows the same.
            let mut b = SynapsesBuilder::with_capacity(n_pre, n);
            for i in 0..n_pre {
                let r = s.row(i);
                for k in 0..r.post.len() {
                    b.push(r.post[k], r.weight[k], r.delay[k]);
                }
                b.end_row();
            }
            assert_eq!(b.finish(), s, "case {case}");
        }
    }

    /// Rows in presynaptic order, each in input order, whatever the block size: against
    /// a stable sort by presynaptic neuron.
    #[test]
    fn unsorted_synapses_land_in_their_rows_in_input_order() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for (n_pre, n) in [(1usize, 5usize), (3, 40), (5_000, 30_000), (70_000, 20_000)] {
            let pre: Vec<u32> = (0..n).map(|_| rng.random_range(0..n_pre as u32)).collect();
            let post: Vec<u32> = (0..n as u32).collect();
            let weight: Vec<f32> = (0..n).map(|k| k as f32 * 0.5).collect();
            let delay: Vec<u16> = (0..n).map(|k| (k % 60_000) as u16).collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&k| pre[k]);
            for block in [1, 7, 4096, n, n + 1] {
                let s =
                    Synapses::from_unsorted_in_blocks(n_pre, &pre, post.clone(), weight.clone(), delay.clone(), block)
                        .unwrap();
                assert_eq!(s.n_pre(), n_pre);
                let got: Vec<(u32, u32, f32, u16)> = s.iter().collect();
                let want: Vec<(u32, u32, f32, u16)> =
                    order.iter().map(|&k| (pre[k], post[k], weight[k], delay[k])).collect();
                assert_eq!(got, want, "{n_pre} rows, {n} synapses, blocks of {block}");
            }
        }
    }
}
