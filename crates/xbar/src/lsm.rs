//! The liquid-state-machine workload: a seeded spiking event dataset generated here,
//! liquid states (spike counts of the liquid population over a sample), a linear
//! readout trained by ridge regression on the reference simulator's liquid states,
//! and its accuracy on held-out samples.
//!
//! The dataset: ten classes on the 16 × 16 input grid. Each class has a prototype,
//! a seeded random set of 20 % of the pixels that fire with probability `p_on` per
//! step (the rest with `p_off`); a sample draws every pixel's spikes over the `T`
//! steps from its own stream. The readout runs digitally (as in the RRAM LSM paper,
//! whose projection heads are digital): `argmax(W · [counts, 1])`.

use neuromap_ir::{Network, PopId, SourceKind};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// The dataset's shape and seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dataset {
    pub seed: u64,
    pub classes: usize,
    pub pixels: usize,
    pub steps: u32,
    pub p_on: f64,
    pub p_off: f64,
    pub train: usize,
    pub test: usize,
}

impl Default for Dataset {
    fn default() -> Self {
        Dataset { seed: 17, classes: 10, pixels: 256, steps: 50, p_on: 0.08, p_off: 0.03, train: 300, test: 200 }
    }
}

/// One sample: each pixel's spike steps, and its class.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub spikes: Vec<Vec<u32>>,
    pub label: usize,
}

impl Dataset {
    /// The dataset's stream for `what` (prototypes, or sample `i`).
    fn rng(&self, what: &str, i: u64) -> ChaCha8Rng {
        neuromap_ir::rng::stream(self.seed, "lsm-events", what, i)
    }

    fn prototypes(&self) -> Vec<Vec<bool>> {
        let mut r = self.rng("prototypes", 0);
        (0..self.classes).map(|_| (0..self.pixels).map(|_| r.random_bool(0.2)).collect()).collect()
    }

    /// Sample `i` (training samples first, then held-out ones; labels cycle).
    pub fn sample(&self, protos: &[Vec<bool>], i: usize) -> Sample {
        let label = i % self.classes;
        let mut r = self.rng("sample", i as u64);
        let spikes = (0..self.pixels)
            .map(|px| {
                let p = if protos[label][px] { self.p_on } else { self.p_off };
                (0..self.steps).filter(|_| r.random_bool(p)).collect()
            })
            .collect();
        Sample { spikes, label }
    }

    /// `(training, held-out)` samples.
    pub fn samples(&self) -> (Vec<Sample>, Vec<Sample>) {
        let protos = self.prototypes();
        let train = (0..self.train).map(|i| self.sample(&protos, i)).collect();
        let test = (self.train..self.train + self.test).map(|i| self.sample(&protos, i)).collect();
        (train, test)
    }
}

/// `net` with `input`'s spikes replaced by the sample's.
pub fn with_sample(net: &Network, input: PopId, s: &Sample) -> Network {
    net.with_source(input, SourceKind::Array { steps: s.spikes.clone() })
        .expect("a sample has one spike train per input neuron")
}

/// Spike counts per neuron of population `pop` in a run.
pub fn state(result: &neuromap_sim::RunResult, pop: PopId, size: usize) -> Vec<f64> {
    let mut c = vec![0.0; size];
    for &n in &result.spikes[pop.index()].neurons {
        c[n as usize] += 1.0;
    }
    c
}

/// A trained linear readout: `classes × (features + 1)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Readout {
    pub w: Vec<Vec<f64>>,
}

impl Readout {
    /// Ridge regression onto one-hot targets: `W = Yᵀ X (XᵀX + λI)⁻¹`, solved exactly.
    pub fn train(states: &[Vec<f64>], labels: &[usize], classes: usize, lambda: f64) -> Readout {
        let f = states.first().map_or(0, Vec::len) + 1;
        let mut a = vec![vec![0.0; f]; f];
        let mut b = vec![vec![0.0; classes]; f];
        for (x, &l) in states.iter().zip(labels) {
            let xa: Vec<f64> = x.iter().copied().chain(std::iter::once(1.0)).collect();
            for i in 0..f {
                for j in 0..f {
                    a[i][j] += xa[i] * xa[j];
                }
                b[i][l] += xa[i];
            }
        }
        for (i, row) in a.iter_mut().enumerate() {
            row[i] += lambda;
        }
        let sol = solve(a, b);
        let w = (0..classes).map(|c| sol.iter().map(|r| r[c]).collect()).collect();
        Readout { w }
    }

    pub fn predict(&self, x: &[f64]) -> usize {
        let score = |w: &Vec<f64>| x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + w[w.len() - 1];
        let mut best = (0, f64::NEG_INFINITY);
        for (c, w) in self.w.iter().enumerate() {
            let s = score(w);
            if s > best.1 {
                best = (c, s);
            }
        }
        best.0
    }

    /// The share of `states` classified as their label.
    pub fn accuracy(&self, states: &[Vec<f64>], labels: &[usize]) -> f64 {
        let right = states.iter().zip(labels).filter(|(x, l)| self.predict(x) == **l).count();
        right as f64 / states.len().max(1) as f64
    }
}

/// Solves `A·X = B` by Gauss–Jordan elimination with partial pivoting (`A` square,
/// symmetric positive definite after the ridge term).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    for col in 0..n {
        let p = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, p);
        b.swap(col, p);
        let d = a[col][col];
        if d.abs() < 1e-300 {
            continue;
        }
        for x in a[col].iter_mut() {
            *x /= d;
        }
        for v in b[col].iter_mut() {
            *v /= d;
        }
        for i in 0..n {
            if i != col && a[i][col] != 0.0 {
                let k = a[i][col];
                let pivot = a[col].clone();
                for (x, y) in a[i].iter_mut().zip(&pivot) {
                    *x -= k * y;
                }
                let (bc, bi) = if i < col {
                    let (lo, hi) = b.split_at_mut(col);
                    (&hi[0], &mut lo[i])
                } else {
                    let (lo, hi) = b.split_at_mut(i);
                    (&lo[col], &mut hi[0])
                };
                for (x, y) in bi.iter_mut().zip(bc.iter()) {
                    *x -= k * y;
                }
            }
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_inverts() {
        let a = vec![vec![4.0, 1.0], vec![1.0, 3.0]];
        let b = vec![vec![1.0], vec![2.0]];
        let x = solve(a, b);
        assert!((x[0][0] - 1.0 / 11.0).abs() < 1e-12 && (x[1][0] - 7.0 / 11.0).abs() < 1e-12, "{x:?}");
    }

    #[test]
    fn samples_are_seeded_and_class_dependent() {
        let d = Dataset::default();
        let (a, _) = d.samples();
        let (b, _) = d.samples();
        assert_eq!(a[..5], b[..5]);
        assert_eq!(a[3].label, 3);
    }
}
