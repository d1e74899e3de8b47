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
        Ok(Synapses { weight: weights, ..self.clone() })
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

    /// Smallest delay in steps (0 for an empty projection).
    pub fn min_delay(&self) -> u16 {
        self.min_delay
    }

    pub fn max_delay(&self) -> u16 {
        self.max_delay
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
        for k in 0..n {
            let slot = &mut next[pre[k] as usize];
            let at = *slot as usize;
            *slot += 1;
            o_post[at] = post[k];
            o_weight[at] = weight[k];
            o_delay[at] = delay[k];
        }
        let mut s = SynapsesBuilder::with_capacity(n_pre, n).finish_raw(row_start, o_post, o_weight, o_delay);
        s.update_delay_range();
        Ok(s)
    }

    fn update_delay_range(&mut self) {
        self.min_delay = self.delay.iter().copied().min().unwrap_or(0);
        self.max_delay = self.delay.iter().copied().max().unwrap_or(0);
    }
}

/// Builds rows in presynaptic order without a sort.
#[derive(Debug)]
pub struct SynapsesBuilder {
    s: Synapses,
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
            },
        }
    }

    #[inline]
    pub fn push(&mut self, post: u32, weight: f32, delay: u16) {
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
        self.s
    }

    fn finish_raw(self, row_start: Vec<u64>, post: Vec<u32>, weight: Vec<f32>, delay: Vec<u16>) -> Synapses {
        Synapses { row_start, post, weight, delay, ..self.s }
    }
}
