//! Spike sources. Each source neuron draws from its own stream
//! (`rng::stream(seed, "source", population, neuron)`), so any simulator, however it
//! splits a population, sees the same source spikes.

use std::convert::Infallible;

use neuromap_ir::{Param, Population, SourceKind, rng};
use rand::{Rng, RngExt, SeedableRng, TryRng};
use rand_chacha::ChaCha8Core;
use rand_chacha::rand_core::block::Generator;

/// Above this many expected spikes per step, Poisson counts are drawn directly.
const LARGE_LAMBDA: f64 = 30.0;

/// Steps a drawn source takes from its streams at a time ([`Ahead`]).
pub const AHEAD: usize = 32;

/// The per-step state of one source population.
#[derive(Debug)]
pub struct SourceState {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Counts drawn from a stream per neuron, [`AHEAD`] steps at a time.
    Drawn { rngs: Vec<Stream>, draw: Draw, start: u32, stop: u32, ahead: Ahead },
    /// Given spike trains as `(step, neuron)` in step and neuron order (a neuron
    /// once per spike), read from `cursor` on: a step costs its spikes, not the
    /// population's size.
    Array { events: Vec<(u32, u32)>, cursor: usize },
}

/// How one neuron's count for a step is drawn from its stream.
#[derive(Debug)]
enum Draw {
    /// λ = rate·dt per neuron: counts by inversion (`exp(-λ)`) up to λ = 30, above that
    /// by `rand_distr::Poisson` (inversion would take about λ draws).
    Poisson {
        lambda: Param,
        exp_neg_lambda: Param,
    },
    Bernoulli {
        p: Param,
    },
}

impl Draw {
    /// `exp(-λ)` of neuron `i` when its Poisson counts are drawn by inversion
    /// ([`by_inversion`]: λ up to 30).
    #[inline]
    fn by_inversion(&self, i: usize) -> Option<f64> {
        match self {
            Draw::Poisson { lambda, exp_neg_lambda } if lambda.get(i) <= LARGE_LAMBDA => Some(exp_neg_lambda.get(i)),
            _ => None,
        }
    }

    /// Neuron `i`'s count for its next step, from its stream `r`, when it is not drawn
    /// by inversion: a Poisson count above λ = 30 (none for a λ that is not a
    /// number), or a Bernoulli spike.
    #[inline]
    fn count(&self, i: usize, r: &mut Stream) -> u32 {
        match self {
            Draw::Poisson { lambda, .. } => {
                let d = rand_distr::Poisson::new(lambda.get(i));
                d.map_or(0.0, |d| r.sample(d)).min(f64::from(u32::MAX)) as u32
            }
            Draw::Bernoulli { p } => u32::from(r.random::<f64>() < p.get(i)),
        }
    }
}

/// Counts drawn ahead: each neuron's stream gives its next [`AHEAD`] steps in one
/// go, while it is in cache, instead of one step per visit. A step is then a copy of
/// one row's spikes. The streams are read in the same order as one step at a time,
/// so the counts are the same ones.
#[derive(Debug, Default)]
struct Ahead {
    /// Row by row (the `pos`-th call from the last refill): (neuron, count) of each
    /// neuron with a spike, in neuron order.
    rows: Vec<Vec<(u32, u32)>>,
    /// The next row to read; [`AHEAD`] when all are read.
    pos: usize,
}

impl Ahead {
    fn refill(&mut self, rngs: &mut [Stream], draw: &Draw) {
        self.rows.resize_with(AHEAD, Vec::new);
        self.rows.iter_mut().for_each(Vec::clear);
        let mut k = [[0u32; AHEAD]; 2];
        let mut i = 0;
        while i < rngs.len() {
            let pair = if i + 1 < rngs.len() { draw.by_inversion(i).zip(draw.by_inversion(i + 1)) } else { None };
            let n = if let Some((e0, e1)) = pair {
                let (r0, r1) = rngs[i..i + 2].split_at_mut(1);
                let [k0, k1] = &mut k;
                by_inversion_2([&mut r0[0], &mut r1[0]], [e0, e1], [k0, k1]);
                2
            } else {
                let r = &mut rngs[i];
                match draw.by_inversion(i) {
                    Some(e) => by_inversion(r, e, &mut k[0]),
                    None => k[0].iter_mut().for_each(|k| *k = draw.count(i, r)),
                }
                1
            };
            for (j, k) in k.iter().enumerate().take(n) {
                for (row, &k) in self.rows.iter_mut().zip(k) {
                    // Pushed, then taken back when the count is 0: no branch on a
                    // coin toss.
                    row.push(((i + j) as u32, k));
                    let keep = row.len() - usize::from(k == 0);
                    row.truncate(keep);
                }
            }
            i += n;
        }
        self.pos = 0;
    }
}

/// [`by_inversion`] for two neurons, each from its own stream: their chains of
/// products are independent, so drawn side by side they overlap. Once one has its
/// counts, the other goes on alone: the same uniforms, the same counts.
#[inline]
fn by_inversion_2(r: [&mut Stream; 2], e: [f64; 2], out: [&mut [u32; AHEAD]; 2]) {
    let [r0, r1] = r;
    let [o0, o1] = out;
    let (mut a, mut b) = (Inversion::start(r0), Inversion::start(r1));
    // The streams' positions in locals, so that they stay in registers.
    let (mut p0, mut p1) = (r0.pos, r1.pos);
    while !(a.record(e[0], o0) | b.record(e[1], o1)) {
        a.take(r0.uniform_at(&mut p0));
        b.take(r1.uniform_at(&mut p1));
    }
    (r0.pos, r1.pos) = (p0, p1);
    finish_2([r0, r1], [a, b], e, [o0, o1]);
}

/// The end of [`by_inversion_2`] once one of the two has every count: the other goes
/// on alone from its next uniform.
#[inline(always)]
fn finish_2(r: [&mut Stream; 2], inv: [Inversion; 2], e: [f64; 2], out: [&mut [u32; AHEAD]; 2]) {
    for (((r, mut inv), e), out) in r.into_iter().zip(inv).zip(e).zip(out) {
        if inv.row < AHEAD {
            inv.take(r.uniform());
            inv.finish(r, e, out);
        }
    }
}

/// [`AHEAD`] Poisson counts by inversion from the same uniforms in the same order as
/// drawing step by step, without a branch on each draw's length (a coin toss per
/// draw): each uniform multiplies the running product, and a product at or below
/// `exp(-λ)` ends the count.
#[inline]
fn by_inversion(r: &mut Stream, exp_neg_lambda: f64, out: &mut [u32; AHEAD]) {
    Inversion::start(r).finish(r, exp_neg_lambda, out);
}

/// One neuron's counts by inversion, under way. The product and its comparison are
/// worked out side by side from the last product: after a finished count, the next
/// product is the next uniform alone (1 × u is u exactly).
#[derive(Clone, Copy)]
struct Inversion {
    /// The running product with the latest uniform, not yet compared.
    prod: f64,
    /// The count so far, and the row (step) it is for.
    k: u32,
    row: usize,
    /// The last comparison ended a count.
    done: bool,
}

impl Inversion {
    #[inline(always)]
    fn start(r: &mut Stream) -> Self {
        Inversion { prod: r.uniform(), k: 0, row: 0, done: false }
    }

    /// Compares the product with `exp(-λ)` and writes the row's count so far (the
    /// final one when the count ends); true when every row is written.
    #[inline(always)]
    fn record(&mut self, exp_neg_lambda: f64, out: &mut [u32; AHEAD]) -> bool {
        self.done = self.prod <= exp_neg_lambda;
        out[self.row] = self.k;
        self.row += usize::from(self.done);
        self.k = if self.done { 0 } else { self.k + 1 };
        self.row == AHEAD
    }

    /// Takes the next uniform into the product.
    #[inline(always)]
    fn take(&mut self, u: f64) {
        self.prod = if self.done { u } else { self.prod * u };
    }

    /// Draws on until every row is written.
    #[inline(always)]
    fn finish(mut self, r: &mut Stream, exp_neg_lambda: f64, out: &mut [u32; AHEAD]) {
        let mut p = r.pos;
        while !self.record(exp_neg_lambda, out) {
            self.take(r.uniform_at(&mut p));
        }
        r.pos = p;
    }
}

/// Words in a [`Stream`]'s buffer (four ChaCha blocks, as `rand_chacha` makes them).
const WORDS: usize = 64;

/// A source neuron's stream: the words of `ChaCha8Rng` from the same key in the same
/// order (a `u64` is two words, the low first, across a refill as `rand_core`'s
/// `BlockRng` takes them). Its position in the buffer is a field of its own, so that
/// drawing by inversion reads the buffer in a loop of its own, and keeps the position
/// in a register.
struct Stream {
    core: ChaCha8Core,
    buf: [u32; WORDS],
    /// The next word to read; [`WORDS`] when all are read.
    pos: usize,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream { .. }")
    }
}

/// A uniform in [0, 1) from a `u64`, as `rand`'s `StandardUniform` makes an `f64`: its
/// top 53 bits, times 2⁻⁵³.
#[inline(always)]
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Stream {
    fn new(key: [u8; 32]) -> Self {
        Stream { core: ChaCha8Core::from_seed(key), buf: [0; WORDS], pos: WORDS }
    }

    /// The `u64` of the words `p` and `p + 1`.
    #[inline(always)]
    fn u64_at(&self, p: usize) -> u64 {
        u64::from(self.buf[p]) | (u64::from(self.buf[p + 1]) << 32)
    }

    /// The next uniform in [0, 1).
    #[inline(always)]
    fn uniform(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// [`Stream::uniform`] with the position held by the caller in `p` (a local, which
    /// stays in a register) instead of [`Stream::pos`], which is stale meanwhile.
    #[inline(always)]
    fn uniform_at(&mut self, p: &mut usize) -> f64 {
        if *p < WORDS - 1 {
            *p += 2;
            unit(self.u64_at(*p - 2))
        } else {
            self.pos = *p;
            let u = self.uniform();
            *p = self.pos;
            u
        }
    }

    /// The next `u64` when fewer than two words are left: the last word (if any) is
    /// its low half, the new buffer's first its high half.
    #[cold]
    #[inline(never)]
    fn u64_refilled(&mut self) -> u64 {
        if self.pos >= WORDS {
            self.core.generate(&mut self.buf);
            self.pos = 2;
            self.u64_at(0)
        } else {
            let lo = self.buf[WORDS - 1];
            self.core.generate(&mut self.buf);
            self.pos = 1;
            u64::from(lo) | (u64::from(self.buf[0]) << 32)
        }
    }
}

impl TryRng for Stream {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        if self.pos >= WORDS {
            self.core.generate(&mut self.buf);
            self.pos = 0;
        }
        self.pos += 1;
        Ok(self.buf[self.pos - 1])
    }

    #[inline(always)]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        if self.pos < WORDS - 1 {
            self.pos += 2;
            Ok(self.u64_at(self.pos - 2))
        } else {
            Ok(self.u64_refilled())
        }
    }

    /// Whole words, little-endian; a last partial word is used up.
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(4) {
            let w = self.try_next_u32()?.to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

impl SourceState {
    /// The source neurons `range` of `pop` (each with its own stream, so any split of a
    /// population draws the same spikes).
    pub fn new(pop: &Population, src: &SourceKind, seed: u64, dt_ms: f64, range: std::ops::Range<usize>) -> Self {
        let part = |p: &Param| match p {
            Param::Shared(x) => Param::Shared(*x),
            Param::PerNeuron(v) => Param::PerNeuron(v[range.clone()].to_vec()),
        };
        let rngs = || range.clone().map(|i| Stream::new(rng::key(seed, "source", &pop.name, i as u64))).collect();
        let ahead = || Ahead { pos: AHEAD, ..Ahead::default() };
        let kind = match src {
            SourceKind::Poisson { rate_hz, start_step, stop_step } => {
                let map = |f: &dyn Fn(f64) -> f64| match part(rate_hz) {
                    Param::Shared(r) => Param::Shared(f(r)),
                    Param::PerNeuron(v) => Param::PerNeuron(v.iter().map(|r| f(*r)).collect()),
                };
                Kind::Drawn {
                    rngs: rngs(),
                    draw: Draw::Poisson {
                        lambda: map(&|r| r * dt_ms / 1000.0),
                        exp_neg_lambda: map(&|r| (-r * dt_ms / 1000.0).exp()),
                    },
                    start: *start_step,
                    stop: stop_step.unwrap_or(u32::MAX),
                    ahead: ahead(),
                }
            }
            SourceKind::Bernoulli { p } => Kind::Drawn {
                rngs: rngs(),
                draw: Draw::Bernoulli { p: part(p) },
                start: 0,
                stop: u32::MAX,
                ahead: ahead(),
            },
            SourceKind::Array { steps } => by_step(&steps[range.clone()]),
        };
        Self { kind }
    }

    /// Appends (neuron, spike count) for step `t` to `out`, in neuron order. Must be
    /// called for every step in order: each call takes the streams' next draws.
    pub fn step(&mut self, t: u32, out: &mut Vec<(u32, u32)>) {
        match &mut self.kind {
            Kind::Drawn { rngs, draw, start, stop, ahead } => {
                // Drawn even when inactive, so a window does not shift later draws.
                if ahead.pos == AHEAD {
                    ahead.refill(rngs, draw);
                }
                let row = ahead.pos;
                ahead.pos += 1;
                if t >= *start && t < *stop {
                    out.extend_from_slice(&ahead.rows[row]);
                }
            }
            Kind::Array { events, cursor } => {
                while events.get(*cursor).is_some_and(|e| e.0 < t) {
                    *cursor += 1;
                }
                let from = out.len();
                while let Some(&(_, i)) = events.get(*cursor).filter(|e| e.0 == t) {
                    match out[from..].last_mut() {
                        Some((last, k)) if *last == i => *k += 1,
                        _ => out.push((i, 1)),
                    }
                    *cursor += 1;
                }
            }
        }
    }
}

/// The spike trains `steps` (one sorted list of steps per neuron) as `(step, neuron)`
/// in step and neuron order: by a counting sort over the steps, neuron by neuron, when
/// the trains span few steps for their spikes, else by a sort (so that a spike far in
/// the future costs no memory per step in between).
fn by_step(steps: &[Vec<u32>]) -> Kind {
    let all = || steps.iter().flatten().copied();
    let total: usize = steps.iter().map(Vec::len).sum();
    let (Some(first), Some(last)) = (all().min(), all().max()) else {
        return Kind::Array { events: Vec::new(), cursor: 0 };
    };
    let span = (last - first) as usize + 1;
    if span > 4 * total + 1024 {
        let mut events: Vec<(u32, u32)> =
            steps.iter().enumerate().flat_map(|(i, s)| s.iter().map(move |&t| (t, i as u32))).collect();
        events.sort_unstable();
        return Kind::Array { events, cursor: 0 };
    }
    // Where each step's spikes start, then each neuron's spikes put in place.
    let mut next = vec![0usize; span + 1];
    for t in all() {
        next[(t - first) as usize + 1] += 1;
    }
    for s in 1..next.len() {
        next[s] += next[s - 1];
    }
    let mut events = vec![(0u32, 0u32); total];
    for (i, train) in steps.iter().enumerate() {
        for &t in train {
            let at = &mut next[(t - first) as usize];
            events[*at] = (t, i as u32);
            *at += 1;
        }
    }
    Kind::Array { events, cursor: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neuromap_ir::PopKind;
    use rand_chacha::ChaCha8Rng;

    /// A [`Stream`] gives what `ChaCha8Rng` from the same key gives, whatever mix of
    /// words, `u64`s (across a refill on an odd position too), bytes and uniforms is
    /// asked of it.
    #[test]
    fn a_stream_is_chacha8rng_word_for_word() {
        let mut pick = ChaCha8Rng::seed_from_u64(11);
        for key in 0..20u64 {
            let k = rng::key(key, "source", "s", key * 7);
            let (mut want, mut got) = (ChaCha8Rng::from_seed(k), Stream::new(k));
            for _ in 0..2_000 {
                match pick.random_range(0..5) {
                    0 => assert_eq!(got.next_u32(), want.next_u32()),
                    1 | 2 => assert_eq!(got.next_u64(), want.next_u64()),
                    3 => {
                        let n = pick.random_range(0..40);
                        let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
                        got.fill_bytes(&mut a);
                        want.fill_bytes(&mut b);
                        assert_eq!(a, b);
                    }
                    _ => assert_eq!(got.uniform().to_bits(), want.random::<f64>().to_bits()),
                }
            }
        }
    }

    /// A spike array replayed by step gives, at every step, each neuron of the slice
    /// with its number of spikes in that step, in neuron order.
    #[test]
    fn spike_arrays_replay_each_steps_counts_in_neuron_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 50;
        // Sorted trains with repeats (counts above 1), some neurons silent.
        let steps: Vec<Vec<u32>> = (0..n)
            .map(|i| {
                let mut s: Vec<u32> = (0..if i % 7 == 0 { 0 } else { rng.random_range(0..30) })
                    .map(|_| rng.random_range(5..120))
                    .collect();
                s.sort_unstable();
                s
            })
            .collect();
        // One train reaching far past the others: the events are then sorted, not
        // counted step by step.
        let mut far = steps.clone();
        far[1].push(4_000_000_000);
        for steps in [steps, far] {
            check(&steps);
        }
    }

    /// Drawing [`AHEAD`] steps at a time gives each step what drawing it alone from
    /// the neuron's stream gives (written out here step by step): Poisson counts by
    /// inversion, by `rand_distr` above λ = 30 and past 16 bits, a window, per-neuron
    /// rates, Bernoulli, slices of a population, neurons drawn in pairs and alone;
    /// over several refills.
    #[test]
    fn counts_drawn_ahead_are_the_step_by_step_draws() {
        let dt = 0.1;
        // By inversion (λ ≤ 30) neurons are drawn in pairs: 0 and 1, 5 and 6, 7 and
        // 8 (all of different rates); neuron 2 alone, as neuron 3's λ is above 30;
        // and so on for every 9 neurons. At the shared rate: pairs, and the last
        // neuron of an odd slice alone.
        let nine = [0.0, 80.0, 12_800.0, 500_000.0, 700_000_000.0, 3_000.0, 9_000.0, 20_000.0, 6_000.0];
        let rates: Vec<f64> = nine.iter().copied().cycle().take(150).collect();
        let n = rates.len();
        let p: Vec<f64> = [0.0, 0.3, 0.5, 0.9, 1.0, 0.1, 0.7, 0.2, 0.6].into_iter().cycle().take(n).collect();
        let kinds = [
            SourceKind::Poisson { rate_hz: Param::PerNeuron(rates.clone()), start_step: 0, stop_step: None },
            SourceKind::Poisson { rate_hz: Param::Shared(15_000.0), start_step: 40, stop_step: Some(75) },
            SourceKind::Bernoulli { p: Param::PerNeuron(p) },
        ];
        let (mut spikes, mut big) = (0u64, 0usize);
        for kind in kinds {
            let pop = Population { name: "s".into(), size: n as u32, kind: PopKind::Source(kind.clone()) };
            for range in [0..n, 2..5, 6..9, 60..131] {
                let mut state = SourceState::new(&pop, &kind, 9, dt, range.clone());
                let mut rngs: Vec<ChaCha8Rng> =
                    range.clone().map(|i| rng::stream(9, "source", "s", i as u64)).collect();
                for t in 0..3 * AHEAD as u32 + 5 {
                    let mut want = Vec::new();
                    for (i, r) in rngs.iter_mut().enumerate() {
                        let g = range.start + i;
                        let k = match &kind {
                            SourceKind::Poisson { rate_hz, start_step, stop_step } => {
                                let lam = rate_hz.get(g) * dt / 1000.0;
                                let k = if lam > LARGE_LAMBDA {
                                    r.sample(rand_distr::Poisson::new(lam).unwrap()) as u32
                                } else {
                                    let mut prod: f64 = r.random();
                                    let mut k = 0;
                                    while prod > (-lam).exp() {
                                        k += 1;
                                        prod *= r.random::<f64>();
                                    }
                                    k
                                };
                                let active = t >= *start_step && stop_step.is_none_or(|s| t < s);
                                if active { k } else { 0 }
                            }
                            SourceKind::Bernoulli { p } => u32::from(r.random::<f64>() < p.get(g)),
                            SourceKind::Array { .. } => unreachable!(),
                        };
                        if k > 0 {
                            want.push((i as u32, k));
                        }
                        big += usize::from(k >= u32::from(u16::MAX));
                    }
                    let mut got = Vec::new();
                    state.step(t, &mut got);
                    assert_eq!(got, want, "step {t}, neurons {range:?}, {kind:?}");
                    spikes += want.iter().map(|w| u64::from(w.1)).sum::<u64>();
                }
            }
        }
        assert!(spikes > 0 && big > 0, "the draws reached no spikes or no count past 16 bits");
    }

    fn check(steps: &[Vec<u32>]) {
        let n = steps.len();
        let kind = SourceKind::Array { steps: steps.to_vec() };
        let pop = Population { name: "s".into(), size: n as u32, kind: PopKind::Source(kind.clone()) };
        let (mut checked, mut checked_far) = (0, false);
        for range in [0..n, 10..33] {
            let mut state = SourceState::new(&pop, &kind, 1, 0.1, range.clone());
            for t in 0..130u32 {
                let mut out = vec![(999, 9)]; // what the caller had: left alone
                state.step(t, &mut out);
                let want: Vec<(u32, u32)> = range
                    .clone()
                    .filter_map(|i| {
                        let k = steps[i].iter().filter(|&&s| s == t).count() as u32;
                        (k > 0).then_some(((i - range.start) as u32, k))
                    })
                    .collect();
                assert_eq!(out[0], (999, 9));
                assert_eq!(out[1..], want[..], "step {t}, neurons {range:?}");
                checked += want.iter().filter(|(_, k)| *k > 1).count();
            }
            // Steps may be far apart: a spike past the steps above is replayed too.
            let last = steps[range.clone()].iter().filter_map(|s| s.last()).max().copied().unwrap_or(0);
            if last >= 130 {
                let mut out = Vec::new();
                state.step(last, &mut out);
                let at_last = range.clone().filter(|&i| steps[i].last() == Some(&last)).count();
                assert_eq!(out.len(), at_last, "the spikes of step {last}");
                checked_far = true;
            }
        }
        assert!(checked > 0, "no step had a count above 1");
        assert_eq!(checked_far, steps.iter().flatten().any(|&t| t >= 130));
    }
}
