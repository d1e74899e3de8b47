//! Spike sources. Each source neuron draws from its own stream
//! (`rng::stream(seed, "source", population, neuron)`), so any simulator, however it
//! splits a population, sees the same source spikes.

use neuromap_ir::{Param, Population, SourceKind, rng};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Above this many expected spikes per step, Poisson counts are drawn directly.
const LARGE_LAMBDA: f64 = 30.0;

/// The per-step state of one source population.
#[derive(Debug)]
pub struct SourceState {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// λ = rate·dt per neuron: counts by inversion (`exp(-λ)`) up to λ = 30, above that
    /// by `rand_distr::Poisson` (inversion would take about λ draws).
    Poisson {
        rngs: Vec<ChaCha8Rng>,
        lambda: Param,
        exp_neg_lambda: Param,
        start: u32,
        stop: u32,
    },
    Bernoulli {
        rngs: Vec<ChaCha8Rng>,
        p: Param,
    },
    /// Given spike trains, by step: the spikes of step `first + s` are
    /// `neurons[starts[s]..starts[s + 1]]` (a neuron appears once per spike, in neuron order), so a step costs its
    /// spikes, not the population's size.
    Array {
        first: u32,
        starts: Vec<usize>,
        neurons: Vec<u32>,
    },
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
        let kind = match src {
            SourceKind::Poisson { rate_hz, start_step, stop_step } => {
                let map = |f: &dyn Fn(f64) -> f64| match part(rate_hz) {
                    Param::Shared(r) => Param::Shared(f(r)),
                    Param::PerNeuron(v) => Param::PerNeuron(v.iter().map(|r| f(*r)).collect()),
                };
                Kind::Poisson {
                    rngs: rngs(),
                    lambda: map(&|r| r * dt_ms / 1000.0),
                    exp_neg_lambda: map(&|r| (-r * dt_ms / 1000.0).exp()),
                    start: *start_step,
                    stop: stop_step.unwrap_or(u32::MAX),
                }
            }
            SourceKind::Bernoulli { p } => Kind::Bernoulli { rngs: rngs(), p: part(p) },
            SourceKind::Array { steps } => by_step(&steps[range.clone()]),
        };
        Self { kind }
    }

    /// Appends (neuron, spike count) for step `t` to `out`, in neuron order. Must be
    /// called for every step in order.
    pub fn step(&mut self, t: u32, out: &mut Vec<(u32, u32)>) {
        match &mut self.kind {
            Kind::Poisson { rngs, lambda, exp_neg_lambda, start, stop } => {
                let active = t >= *start && t < *stop;
                for (i, r) in rngs.iter_mut().enumerate() {
                    // Draw even when inactive, so a window does not shift later draws.
                    let lam = lambda.get(i);
                    let k = if lam > LARGE_LAMBDA {
                        let d = rand_distr::Poisson::new(lam);
                        d.map_or(0.0, |d| r.sample(d)).min(f64::from(u32::MAX)) as u32
                    } else {
                        let l = exp_neg_lambda.get(i);
                        let mut prod: f64 = r.random();
                        let mut k = 0u32;
                        while prod > l {
                            k += 1;
                            prod *= r.random::<f64>();
                        }
                        k
                    };
                    if active && k > 0 {
                        out.push((i as u32, k));
                    }
                }
            }
            Kind::Bernoulli { rngs, p } => {
                for (i, r) in rngs.iter_mut().enumerate() {
                    if r.random::<f64>() < p.get(i) {
                        out.push((i as u32, 1));
                    }
                }
            }
            Kind::Array { first, starts, neurons } => {
                let Some(s) = t.checked_sub(*first).map(|s| s as usize).filter(|&s| s + 1 < starts.len()) else {
                    return;
                };
                let from = out.len();
                for &i in &neurons[starts[s]..starts[s + 1]] {
                    match out[from..].last_mut() {
                        Some((last, k)) if *last == i => *k += 1,
                        _ => out.push((i, 1)),
                    }
                }
            }
        }
    }
}

/// The spike trains `steps` (one sorted list of steps per neuron) indexed by step: a
/// counting sort, neuron by neuron, so each step's list is in neuron order.
fn by_step(steps: &[Vec<u32>]) -> Kind {
    let all = || steps.iter().flatten().copied();
    let (Some(first), Some(last)) = (all().min(), all().max()) else {
        return Kind::Array { first: 0, starts: vec![0], neurons: Vec::new() };
    };
    let mut starts = vec![0usize; (last - first) as usize + 2];
    for t in all() {
        starts[(t - first) as usize + 1] += 1;
    }
    for s in 1..starts.len() {
        starts[s] += starts[s - 1];
    }
    let mut next = starts.clone();
    let mut neurons = vec![0u32; starts[starts.len() - 1]];
    for (i, train) in steps.iter().enumerate() {
        for &t in train {
            let at = &mut next[(t - first) as usize];
            neurons[*at] = i as u32;
            *at += 1;
        }
    }
    Kind::Array { first, starts, neurons }
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
        let kind = SourceKind::Array { steps: steps.clone() };
        let pop = Population { name: "s".into(), size: n as u32, kind: PopKind::Source(kind.clone()) };
        let mut checked = 0;
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
        }
        assert!(checked > 0, "no step had a count above 1");
    }
}
