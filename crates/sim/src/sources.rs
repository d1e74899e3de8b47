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
    Array {
        steps: Vec<Vec<u32>>,
        cursor: Vec<usize>,
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
            SourceKind::Array { steps } => {
                Kind::Array { steps: steps[range.clone()].to_vec(), cursor: vec![0; range.len()] }
            }
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
            Kind::Array { steps, cursor } => {
                for (i, (s, c)) in steps.iter().zip(cursor.iter_mut()).enumerate() {
                    while *c < s.len() && s[*c] < t {
                        *c += 1;
                    }
                    let mut k = 0;
                    while *c < s.len() && s[*c] == t {
                        k += 1;
                        *c += 1;
                    }
                    if k > 0 {
                        out.push((i as u32, k));
                    }
                }
            }
        }
    }
}
