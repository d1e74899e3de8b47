//! Spike sources. Each source neuron draws from its own stream
//! (`rng::stream(seed, "source", population, neuron)`), so any simulator, however it
//! splits a population, sees the same source spikes.

use neuromap_ir::{Param, Population, SourceKind, rng};
use rand::{Rng, RngExt};
use rand_chacha::ChaCha8Rng;

use crate::chacha;

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
    Drawn { streams: Streams, draw: Draw, start: u32, stop: u32, ahead: Ahead },
    /// Given spike trains as `(step, neuron)` in step and neuron order (a neuron
    /// once per spike), read from `cursor` on: a step costs its spikes, not the
    /// population's size.
    Array { events: Vec<(u32, u32)>, cursor: usize },
}

/// The neurons' streams.
#[derive(Debug)]
enum Streams {
    /// One generator per neuron.
    Each(Vec<ChaCha8Rng>),
    /// Where every neuron's count is looked up in a [`Cdf`] (one `u64` a step), the
    /// streams' keys in groups of [`chacha::LANES`], computed side by side
    /// ([`chacha::blocks`]): the same words, `block` the next block of each stream.
    Lanes { keys: Vec<chacha::Keys>, n: usize, block: u64 },
}

// A refill takes the four blocks `ChaCha8Rng` buffers: one `u64` a step.
const _: () = assert!(chacha::WORDS == 2 * AHEAD);

/// How one neuron's count for a step is drawn from its stream.
#[derive(Debug)]
enum Draw {
    /// λ = rate·dt per neuron: up to λ = 30 a count is one `u64` of the stream looked
    /// up in λ's distribution function ([`Cdf`]); above that, by `rand_distr::Poisson`
    /// (whose table would be long).
    Poisson {
        lambda: Param,
        cdfs: Cdfs,
    },
    Bernoulli {
        p: Param,
    },
}

impl Draw {
    /// Neuron `i`'s count for its next step, from its stream `r`, when it has no
    /// [`Cdf`]: a Poisson count above λ = 30 (none for a λ that is not a number), or a
    /// Bernoulli spike.
    #[inline]
    fn count(&self, i: usize, r: &mut ChaCha8Rng) -> u32 {
        match self {
            Draw::Poisson { lambda, .. } => {
                let d = rand_distr::Poisson::new(lambda.get(i));
                d.map_or(0.0, |d| r.sample(d)).min(f64::from(u32::MAX)) as u32
            }
            Draw::Bernoulli { p } => u32::from(r.random::<f64>() < p.get(i)),
        }
    }

    /// Neuron `i`'s distribution function, when its counts are looked up in one.
    #[inline]
    fn cdf(&self, i: usize) -> Option<&Cdf> {
        match self {
            Draw::Poisson { cdfs, .. } => cdfs.of(i),
            Draw::Bernoulli { .. } => None,
        }
    }
}

/// The distribution functions of a population's λs (one per distinct λ up to
/// [`LARGE_LAMBDA`]), and which one each neuron takes.
#[derive(Debug)]
struct Cdfs {
    cdfs: Vec<Cdf>,
    /// Per neuron, its index in `cdfs` ([`NONE`] above λ = 30); empty when every
    /// neuron takes `cdfs[0]` (one shared λ).
    which: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl Cdfs {
    fn new(lambda: &Param) -> Cdfs {
        let tabled = |l: f64| (0.0..=LARGE_LAMBDA).contains(&l);
        match lambda {
            Param::Shared(l) => {
                Cdfs { cdfs: if tabled(*l) { vec![Cdf::new(*l)] } else { Vec::new() }, which: Vec::new() }
            }
            Param::PerNeuron(v) => {
                let mut at = std::collections::HashMap::new();
                let mut cdfs = Vec::new();
                let which = v
                    .iter()
                    .map(|&l| {
                        if !tabled(l) {
                            return NONE;
                        }
                        *at.entry(l.to_bits()).or_insert_with(|| {
                            cdfs.push(Cdf::new(l));
                            cdfs.len() as u32 - 1
                        })
                    })
                    .collect();
                Cdfs { cdfs, which }
            }
        }
    }

    #[inline]
    fn of(&self, i: usize) -> Option<&Cdf> {
        match self.which.get(i) {
            None => self.cdfs.first(),
            Some(&w) => self.cdfs.get(w as usize),
        }
    }
}

/// Poisson(λ)'s distribution function as 63-bit thresholds, for drawing a count by
/// inversion from one `u64` of a stream: the count is the first `k` whose threshold
/// `⌊P(X ≤ k)·2⁶³⌋` exceeds the `u64`'s top 63 bits. The last threshold is 2⁶³ (above
/// every draw): it takes the tail from where the `f64` sum reaches 1, or from where
/// `P(X = k)` past the mode falls below 10⁻²⁰ of the mode's, a mass far below what an
/// `f64` sum resolves. A guide indexed by the draw's top 6
/// bits gives the first count that the draw's cell of 2⁵⁷ values can have (Chen and
/// Asau's guide table), so a draw looks at one or two thresholds, whatever λ.
#[derive(Debug)]
struct Cdf {
    at: Vec<u64>,
    guide: [u8; GUIDE],
}

/// Cells of [`Cdf::guide`]: the top 6 bits of a draw.
const GUIDE: usize = 64;

impl Cdf {
    fn new(lambda: f64) -> Cdf {
        let top = 2f64.powi(63);
        let (mut at, mut p, mut sum, mut peak) = (Vec::new(), (-lambda).exp(), 0.0f64, 0.0f64);
        for k in 1.. {
            sum += p;
            peak = peak.max(p);
            let t = sum * top;
            // Past the mode, once what is left cannot show in an f64 sum.
            if t >= top || (f64::from(k) > lambda && p < peak * 1e-20) {
                break;
            }
            at.push(t as u64);
            p *= lambda / f64::from(k);
        }
        at.push(1 << 63);
        let mut guide = [0u8; GUIDE];
        let mut k = 0;
        for (j, g) in guide.iter_mut().enumerate() {
            let low = (j as u64) << 57;
            while at[k] <= low {
                k += 1;
            }
            *g = u8::try_from(k).expect("a table of λ up to 30 has fewer than 256 counts");
        }
        Cdf { at, guide }
    }

    /// The count that draw `u` gives.
    #[inline(always)]
    fn count(&self, u: u64) -> u32 {
        let x = u >> 1;
        let mut k = usize::from(self.guide[(u >> 58) as usize]);
        while x >= self.at[k] {
            k += 1;
        }
        k as u32
    }
}

/// Counts drawn ahead: each neuron's stream gives its next [`AHEAD`] steps in one
/// go, while it is in cache, instead of one step per visit. A step is then a copy of
/// one row's spikes. The streams are read in the same order as one step at a time,
/// so the counts are the same ones.
#[derive(Debug)]
struct Ahead {
    /// Row by row (the `pos`-th call from the last refill), room for every neuron:
    /// (neuron, count) of each neuron with a spike, in neuron order, `len[row]` of them.
    cells: Vec<(u32, u32)>,
    len: [usize; AHEAD],
    /// The next row to read; [`AHEAD`] when all are read.
    pos: usize,
}

impl Ahead {
    fn new() -> Ahead {
        Ahead { cells: Vec::new(), len: [0; AHEAD], pos: AHEAD }
    }

    fn refill(&mut self, streams: &mut Streams, draw: &Draw) {
        let rngs = match streams {
            Streams::Each(rngs) => rngs,
            Streams::Lanes { keys, n, block } => {
                self.refill_lanes(keys, *n, *block, draw);
                *block += chacha::BLOCKS as u64;
                return;
            }
        };
        let n = rngs.len();
        self.cells.resize(AHEAD * n, (0, 0));
        self.len = [0; AHEAD];
        let mut k = [0u32; AHEAD];
        for (i, r) in rngs.iter_mut().enumerate() {
            match draw.cdf(i) {
                Some(cdf) => k.iter_mut().for_each(|k| *k = cdf.count(r.next_u64())),
                None => k.iter_mut().for_each(|k| *k = draw.count(i, r)),
            }
            for (row, &k) in k.iter().enumerate() {
                // Written, then kept only when the count is not 0: no branch on a
                // coin toss.
                let len = &mut self.len[row];
                self.cells[row * n + *len] = (i as u32, k);
                *len += usize::from(k != 0);
            }
        }
        self.pos = 0;
    }

    /// [`Ahead::refill`] from streams computed side by side, every neuron's counts
    /// looked up in its [`Cdf`]: step `row`'s `u64` is words `2·row` and `2·row + 1`
    /// of the four blocks from `block` on, as `ChaCha8Rng::next_u64` reads them.
    fn refill_lanes(&mut self, keys: &[chacha::Keys], n: usize, block: u64, draw: &Draw) {
        self.cells.resize(AHEAD * n, (0, 0));
        self.len = [0; AHEAD];
        let mut words = [[0u32; chacha::LANES]; chacha::WORDS];
        for (g, keys) in keys.iter().enumerate() {
            chacha::blocks(keys, block, &mut words);
            let first = g * chacha::LANES;
            // A lane is a column of `words`.
            #[allow(clippy::needless_range_loop)]
            for lane in 0..chacha::LANES.min(n - first) {
                let i = first + lane;
                // Every neuron has one (the streams were put side by side only then).
                let Some(cdf) = draw.cdf(i) else { continue };
                for row in 0..AHEAD {
                    let u = u64::from(words[2 * row][lane]) | u64::from(words[2 * row + 1][lane]) << 32;
                    let k = cdf.count(u);
                    let len = &mut self.len[row];
                    self.cells[row * n + *len] = (i as u32, k);
                    *len += usize::from(k != 0);
                }
            }
        }
        self.pos = 0;
    }

    /// Row `row`'s spikes.
    fn row(&self, row: usize) -> &[(u32, u32)] {
        let n = self.cells.len() / AHEAD;
        &self.cells[row * n..row * n + self.len[row]]
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
        let rngs = || range.clone().map(|i| rng::stream(seed, "source", &pop.name, i as u64)).collect();
        let ahead = Ahead::new;
        let kind = match src {
            SourceKind::Poisson { rate_hz, start_step, stop_step } => {
                let map = |f: &dyn Fn(f64) -> f64| match part(rate_hz) {
                    Param::Shared(r) => Param::Shared(f(r)),
                    Param::PerNeuron(v) => Param::PerNeuron(v.iter().map(|r| f(*r)).collect()),
                };
                let lambda = map(&|r| r * dt_ms / 1000.0);
                let cdfs = Cdfs::new(&lambda);
                // Counts all looked up in tables: the streams side by side.
                let streams = if (0..range.len()).all(|i| cdfs.of(i).is_some()) {
                    let mut keys = vec![[[0u32; chacha::LANES]; 8]; range.len().div_ceil(chacha::LANES)];
                    for (j, i) in range.clone().enumerate() {
                        let key = rng::key(seed, "source", &pop.name, i as u64);
                        for (w, word) in key.chunks_exact(4).enumerate() {
                            keys[j / chacha::LANES][w][j % chacha::LANES] =
                                u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
                        }
                    }
                    Streams::Lanes { keys, n: range.len(), block: 0 }
                } else {
                    Streams::Each(rngs())
                };
                Kind::Drawn {
                    streams,
                    draw: Draw::Poisson { cdfs, lambda },
                    start: *start_step,
                    stop: stop_step.unwrap_or(u32::MAX),
                    ahead: ahead(),
                }
            }
            SourceKind::Bernoulli { p } => Kind::Drawn {
                streams: Streams::Each(rngs()),
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
            Kind::Drawn { streams, draw, start, stop, ahead } => {
                // Drawn even when inactive, so a window does not shift later draws.
                if ahead.pos == AHEAD {
                    ahead.refill(streams, draw);
                }
                let row = ahead.pos;
                ahead.pos += 1;
                if t >= *start && t < *stop {
                    out.extend_from_slice(ahead.row(row));
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
    use rand::SeedableRng;

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
    /// inversion (looked up without the guide here), by `rand_distr` above λ = 30 and
    /// past 16 bits, a window, per-neuron rates, Bernoulli, slices of a population;
    /// over several refills.
    #[test]
    fn counts_drawn_ahead_are_the_step_by_step_draws() {
        let dt = 0.1;
        // Rates of λ = 0 to 1,280 a step (neurons 3 and 4 by `rand_distr`), repeated.
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
                                    by_search(&Cdf::new(lam), r.next_u64())
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

    /// The count for draw `u` by a plain search of `cdf`'s thresholds from 0.
    fn by_search(cdf: &Cdf, u: u64) -> u32 {
        cdf.at.iter().position(|&t| u >> 1 < t).expect("the last threshold is above every draw") as u32
    }

    /// Counts looked up in a [`Cdf`] (through its guide) are those of a plain search,
    /// and follow Poisson(λ): for λ from 10⁻³ to 30, 200,000 draws each, every count's
    /// number of draws is within 5 standard deviations (and 3 draws) of what its
    /// probability gives (worked out here
    /// apart from the table, in logs), and the mean and variance within 1 %. Draws at
    /// the edges of the guide's cells and of the range are searched too.
    #[test]
    fn counts_looked_up_follow_poisson() {
        let mut r = ChaCha8Rng::seed_from_u64(5);
        for lam in [1e-3, 0.05, 0.4, 1.0, 1.6, 2.5, 7.0, 15.0, 29.9, 30.0] {
            let cdf = Cdf::new(lam);
            let edges = (0..GUIDE as u64).flat_map(|j| [j << 58, (j << 58).wrapping_sub(1), (j << 58) | 1]);
            for u in edges.chain([0, u64::MAX, u64::MAX - 1]) {
                assert_eq!(cdf.count(u), by_search(&cdf, u), "λ = {lam}, draw {u:#x}");
            }
            let n = 200_000;
            let mut freq = vec![0u64; cdf.at.len()];
            for _ in 0..n {
                let u = r.next_u64();
                let k = cdf.count(u);
                assert_eq!(k, by_search(&cdf, u), "λ = {lam}, draw {u:#x}");
                freq[k as usize] += 1;
            }
            let ln_fact = |k: usize| (1..=k).map(|i| (i as f64).ln()).sum::<f64>();
            let (mut mean, mut second) = (0.0, 0.0);
            for (k, &f) in freq.iter().enumerate() {
                let p = (k as f64 * lam.ln() - lam - ln_fact(k)).exp();
                // In draws: 5 standard deviations, and 3 draws for counts hardly ever drawn.
                let (want, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
                assert!((f as f64 - want).abs() <= 5.0 * sd + 3.0, "λ = {lam}: {f} draws of {k}, expected {want}");
                let got = f as f64 / n as f64;
                mean += k as f64 * got;
                second += (k * k) as f64 * got;
            }
            let var = second - mean * mean;
            let tol = 0.01 * lam + 5.0 * (lam / n as f64).sqrt();
            assert!((mean - lam).abs() <= tol, "λ = {lam}: mean {mean}");
            assert!((var - lam).abs() <= 0.01 * lam + 10.0 * (lam / n as f64).sqrt(), "λ = {lam}: variance {var}");
        }
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
