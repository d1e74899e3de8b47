//! The inputs of a shard's queued cores ([`Core::queued`]), waiting for their step.
//!
//! A ring buffer per core holds every step up to the longest delay; when a core's
//! synapses have delays of their own, a row's inputs land at random in it, and the
//! rings of all cores are far larger than the caches (79 MB on the full microcircuit:
//! 2 receptors × 64 steps × 8 bytes for each of its 77,169 neurons), so nearly every synaptic event missed them. Here an input is
//! appended to its step's list instead, and the lists are read in order just before
//! the step's first update into `now`, the one step's inputs of every queued core,
//! which stays in the caches. Inputs due in the next step to drain (a delay of one
//! step, as a Poisson background's) go straight into `now` ([`Due::is_next`]): it is
//! read in that step. Integer sums: the inputs are the same either way.
//!
//! A list holds at most [`LIST_PER_INPUT`] entries per input of `now`; beyond that
//! (a burst of spikes, as when a network starts with many neurons above threshold)
//! it is added into `spill`, a ring of every step, and emptied. Both are allocated
//! whole and untouched, so that memory is taken only as they fill: at most
//! `LIST_PER_INPUT` + 1 times 8 bytes per input per step of the longest delay,
//! whatever the traffic, where the rings took 8.

use super::*;

/// An input due in a later step: where it is added in [`Due::now`], and the value.
#[derive(Clone, Copy, Debug)]
pub(super) struct Input {
    pub(super) at: u32,
    pub(super) v: i32,
}

/// Entries a step's list may hold per input of `now` before it spills. The full
/// microcircuit queues about 1.5 per input in a step.
const LIST_PER_INPUT: usize = 3;

#[derive(Debug, Default)]
pub(super) struct Due {
    /// Per step modulo their number (a power of two longer than any delay): the inputs
    /// due in that step.
    lists: Vec<Vec<Input>>,
    /// The queued cores' inputs for the step being updated.
    pub(super) now: Vec<i64>,
    /// Per step modulo `lists.len()`, a copy of `now` for the lists that overflowed
    /// (allocated zeroed: pages are touched only by a spill).
    spill: Vec<i64>,
    spilled: Vec<bool>,
    /// Entries a list holds at most.
    cap: usize,
    /// The next step whose inputs are not yet in `now`.
    undrained: u32,
}

impl Due {
    /// For `inputs` inputs (neurons × receptors of the queued cores) and delays below
    /// `steps`, a power of two.
    pub(super) fn new(inputs: usize, steps: usize) -> Due {
        debug_assert!(steps.is_power_of_two());
        let steps = if inputs == 0 { 1 } else { steps };
        let cap = LIST_PER_INPUT * inputs;
        Due {
            lists: (0..steps).map(|_| Vec::with_capacity(cap)).collect(),
            now: vec![0; inputs],
            spill: vec![0; inputs * steps],
            spilled: vec![false; steps],
            cap,
            undrained: 0,
        }
    }

    /// The most memory a `Due` of `inputs` inputs and `steps` steps takes beyond the
    /// rings it replaces (its spill is one), in bytes: its lists full, and `now`.
    pub(super) fn bytes_beyond_rings(inputs: usize, steps: usize) -> f64 {
        let entry = std::mem::size_of::<Input>();
        inputs as f64 * ((steps * LIST_PER_INPUT * entry) as f64 + 8.0)
    }

    /// Queues the inputs of `k` spikes through synapses `syn` of a queued core's
    /// receptor whose inputs start at `at` in `now`, each for its step after `ts`.
    #[inline]
    pub(super) fn queue(&mut self, at: u32, syn: &[Syn], delays: Delays, ts: usize, k: u32) {
        let mask = self.lists.len() - 1;
        // |weight| ≤ 2¹⁵: a value fits an `i32` for fewer than 2¹⁶ spikes, and more
        // are queued in parts (integer sums: the same total).
        let mut left = k;
        while left > 0 {
            let part = left.min(u32::from(u16::MAX));
            left -= part;
            let mut push = |s: usize, post: u16, weight: i16| {
                if self.lists[s].len() >= self.cap {
                    self.spill_list(s);
                }
                self.lists[s].push(Input { at: at + u32::from(post), v: i32::from(weight) * part as i32 });
            };
            match delays {
                Delays::One(delay) => {
                    let s = (ts + usize::from(delay)) & mask;
                    syn.iter().for_each(|&(post, weight)| push(s, post, weight));
                }
                Delays::Each(delays) => {
                    for (&(post, weight), &delay) in syn.iter().zip(delays) {
                        push((ts + usize::from(delay)) & mask, post, weight);
                    }
                }
            }
        }
    }

    /// Whether inputs due in step `due` may be added straight into `now`: it is the
    /// next step to drain, so `now` is where its list would put them at the drain
    /// (integer sums), without the list's write and read.
    ///
    /// `now` then holds no input of the step before: a shard delivers only after it
    /// has updated its cores of level 0 for the step it drained last (or, updating
    /// ahead, for the next one), every queued core is of level 0 (none has a synapse
    /// without delay, [`Core::queues`]), and the kernels leave zeros where they took
    /// their inputs.
    #[inline]
    pub(super) fn is_next(&self, due: usize) -> bool {
        due == self.undrained as usize
    }

    #[cold]
    fn spill_list(&mut self, s: usize) {
        let n = self.now.len();
        let spill = &mut self.spill[s * n..(s + 1) * n];
        for d in self.lists[s].drain(..) {
            spill[d.at as usize] += i64::from(d.v);
        }
        self.spilled[s] = true;
    }

    /// Adds the inputs due in step `t` into `now`, once per step: called before each
    /// update of step `t`. The queued cores' synapses all have delays of at least one
    /// step, so earlier steps queued them all.
    pub(super) fn drain(&mut self, t: u32) {
        if t < self.undrained {
            return;
        }
        self.undrained = t + 1;
        let s = t as usize & (self.lists.len() - 1);
        let now = &mut self.now[..];
        for d in self.lists[s].iter() {
            now[d.at as usize] += i64::from(d.v);
        }
        self.lists[s].clear();
        if std::mem::take(&mut self.spilled[s]) {
            let n = now.len();
            for (x, y) in now.iter_mut().zip(&mut self.spill[s * n..(s + 1) * n]) {
                *x += std::mem::take(y);
            }
        }
    }

    /// The inputs of `n` neurons' two receptors starting at `at` in `now`.
    #[inline]
    pub(super) fn inputs(&mut self, at: u32, n: usize) -> (&mut [i64], &mut [i64]) {
        self.now[at as usize..at as usize + 2 * n].split_at_mut(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every step's inputs after queueing `rows` (each: ts, syn, k) and draining in
    /// order, for `inputs` inputs.
    fn run(inputs: usize, rows: &[(usize, Vec<SynDelay>, u32)], steps: u32) -> Vec<Vec<i64>> {
        let mut due = Due::new(inputs, 4);
        let mut out = Vec::new();
        for t in 0..steps {
            due.drain(t);
            out.push(std::mem::replace(&mut due.now, vec![0; inputs]));
            for (ts, syn, k) in rows {
                if *ts == t as usize {
                    queue(&mut due, syn, *ts, *k);
                }
            }
        }
        out
    }

    /// Queues synapses given with their delays: as one delay when they share one,
    /// else each with its own.
    fn queue(due: &mut Due, syn: &[SynDelay], ts: usize, k: u32) {
        let (pw, d): (Vec<Syn>, Vec<u16>) = syn.iter().map(|&(p, w, d)| ((p, w), d)).unzip();
        let delays = if d.iter().all(|&x| x == d[0]) { Delays::One(d[0]) } else { Delays::Each(&d) };
        due.queue(0, &pw, delays, ts, k);
    }

    #[test]
    fn queued_inputs_are_the_exact_products_in_their_steps() {
        // Counts past 2¹⁶ spikes are queued in parts whose values fit an `i32`.
        let syn = vec![(3, i16::MIN, 1), (5, i16::MAX, 2), (3, -7, 1)];
        for k in [1u32, 65_535, 65_536, 200_000, u32::MAX] {
            let out = run(16, &[(6, syn.clone(), k)], 10);
            let k = i64::from(k);
            let mut want = vec![vec![0i64; 16]; 10];
            want[7][3] = (i64::from(i16::MIN) - 7) * k;
            want[8][5] = i64::from(i16::MAX) * k;
            assert_eq!(out, want, "k = {k}");
        }
    }

    #[test]
    fn a_burst_spills_and_arrives_whole() {
        // 2 inputs: a list spills past 6 entries. 100 rows in each of two steps, 4
        // apart (the same lists), 3 delays.
        let rows: Vec<(usize, Vec<SynDelay>, u32)> = (0..200)
            .map(|i| {
                (2 + 4 * (i / 100), vec![(i as u16 % 2, i as i16, 1 + i as u16 % 3), (1, -1, 3)], 1 + i as u32 % 4)
            })
            .collect();
        let out = run(2, &rows, 12);
        let mut want = vec![vec![0i64; 2]; 12];
        for (ts, syn, k) in &rows {
            for &(post, w, d) in syn {
                want[ts + usize::from(d)][usize::from(post)] += i64::from(w) * i64::from(*k);
            }
        }
        assert_eq!(out, want);
        let mut due = Due::new(2, 4);
        for (ts, syn, k) in &rows {
            queue(&mut due, syn, *ts, *k);
        }
        assert!(due.spilled.iter().any(|&s| s), "the burst did not spill");
        assert!(due.lists.iter().all(|l| l.len() <= LIST_PER_INPUT * 2), "a list grew past its bound");
        assert!(due.lists.iter().all(|l| l.capacity() == due.cap), "a list was allocated again");
    }
}
