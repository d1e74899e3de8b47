//! From a [`Network`] to integer binary neurons: every neuron of a threshold
//! population becomes `fires ⇔ Σ wᵢ·bᵢ ≥ T` over input bits `bᵢ ∈ {0, 1}` with integer
//! weights, bipolar encoding, bias and `theta` folded into `T`.
//!
//! The fold is exact: `T` is found with the reference simulator's own f64 comparison
//! (`x + bias ≥ theta`, with `x = Σ w·b`, or `2·Σ w·b − Σ w` for bipolar inputs), so
//! every binary chip fires exactly when the reference does.

use neuromap_ir::{Encoding, Network, NeuronModel, PopId, PopKind, SourceKind};

/// Why a network cannot run on a binary-network chip.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LowerError {
    #[error(
        "population `{pop}` is a `{model}` population; binary-network chips run threshold neurons (model = \"threshold\") fed by binary sources"
    )]
    NotBinary { pop: String, model: String },
    #[error(
        "source `{pop}` is Poisson: a step may hold several spikes, and binary-network chips take one bit per input; use a bernoulli or array source"
    )]
    CountSource { pop: String },
    #[error(
        "projection `{proj}` has weight {weight} ({pre} {pre_n} → {post} {post_n}); binary-network chips take integer weights"
    )]
    NonInteger { proj: String, weight: f32, pre: String, pre_n: u32, post: String, post_n: u32 },
    #[error(
        "neuron {neuron} of `{pop}` sums weights of magnitude {sum}, more than the {limit} a binary chip's counters hold"
    )]
    TooLarge { pop: String, neuron: u32, sum: i64, limit: i64 },
}

/// Where a neuron's input bit comes from: a population's neuron, `delay` steps ago.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Input {
    pub pop: PopId,
    pub neuron: u32,
    pub delay: u16,
}

/// One binary neuron: fires iff `Σ weight·bit ≥ threshold`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neuron {
    /// Inputs in a fixed order (by population, neuron, delay), weights ≠ 0.
    pub inputs: Vec<(Input, i32)>,
    pub threshold: i64,
}

impl Neuron {
    /// The arithmetic definition, for checks.
    pub fn fires(&self, bits: impl Fn(usize) -> bool) -> bool {
        let s: i64 = self.inputs.iter().enumerate().filter(|(i, _)| bits(*i)).map(|(_, (_, w))| i64::from(*w)).sum();
        s >= self.threshold
    }

    /// Σ |w|: the largest count the neuron's popcount reaches.
    pub fn weight_mass(&self) -> i64 {
        self.inputs.iter().map(|(_, w)| i64::from(w.unsigned_abs())).sum()
    }
}

/// A threshold population as binary neurons.
#[derive(Clone, Debug)]
pub struct Layer {
    pub pop: PopId,
    pub name: String,
    pub neurons: Vec<Neuron>,
}

impl Layer {
    /// The fan-in of the widest neuron.
    pub fn max_fan_in(&self) -> usize {
        self.neurons.iter().map(|n| n.inputs.len()).max().unwrap_or(0)
    }

    pub fn synapses(&self) -> u64 {
        self.neurons.iter().map(|n| n.inputs.len() as u64).sum()
    }
}

/// A network as binary layers, in the network's update order.
#[derive(Clone, Debug)]
pub struct BinaryNet {
    pub layers: Vec<Layer>,
    /// The longest delay of any input (steps of history a chip keeps).
    pub max_delay: u16,
}

/// Counts never exceed this (a 31-bit popcount).
const MASS_LIMIT: i64 = 1 << 30;

/// Lowers every threshold population of `net`; sources must be binary (bernoulli or
/// array) and every other population is refused.
pub fn lower(net: &Network) -> Result<BinaryNet, LowerError> {
    for p in net.populations() {
        match &p.kind {
            PopKind::Neurons(NeuronModel::Threshold(_)) => {}
            PopKind::Neurons(m) => {
                return Err(LowerError::NotBinary { pop: p.name.clone(), model: m.name().to_string() });
            }
            PopKind::Source(SourceKind::Poisson { .. }) => return Err(LowerError::CountSource { pop: p.name.clone() }),
            PopKind::Source(_) => {}
        }
    }
    let mut layers = Vec::new();
    let mut max_delay = 0;
    for &id in net.update_order() {
        if let Some((layer, d)) = lower_layer(net, id)? {
            max_delay = max_delay.max(d);
            layers.push(layer);
        }
    }
    Ok(BinaryNet { layers, max_delay })
}

/// One threshold population as binary neurons, and the longest delay of its inputs
/// (`None` for a population of another kind). Its inputs may come from any
/// population; [`lower`] checks that they are binary.
pub fn lower_layer(net: &Network, id: PopId) -> Result<Option<(Layer, u16)>, LowerError> {
    let pop = net.pop(id);
    let PopKind::Neurons(NeuronModel::Threshold(t)) = &pop.kind else { return Ok(None) };
    let mut max_delay = 0;
    let n = pop.size as usize;
    let mut inputs: Vec<Vec<(Input, i64)>> = vec![Vec::new(); n];
    // The reference sums f32 weights in f64; integer weights keep the sum exact.
    let mut f_sum = vec![0f64; n];
    for &pid in net.incoming(id) {
        let proj = net.proj(pid);
        let s = &proj.synapses;
        for (pre, post, w, d) in s.iter() {
            if w.fract() != 0.0 || !w.is_finite() || w.abs() > 32767.0 {
                return Err(LowerError::NonInteger {
                    proj: proj.name.clone(),
                    weight: w,
                    pre: net.pop(proj.pre).name.clone(),
                    pre_n: pre,
                    post: pop.name.clone(),
                    post_n: post,
                });
            }
            max_delay = max_delay.max(d);
            f_sum[post as usize] += f64::from(w);
            inputs[post as usize].push((Input { pop: proj.pre, neuron: pre, delay: d }, w as i64));
        }
    }
    let mut neurons = Vec::with_capacity(n);
    for (j, mut ins) in inputs.into_iter().enumerate() {
        ins.sort_by_key(|(i, _)| *i);
        let mut merged: Vec<(Input, i32)> = Vec::with_capacity(ins.len());
        for (i, w) in ins {
            match merged.last_mut() {
                Some((last, lw)) if *last == i => *lw += w as i32,
                _ => merged.push((i, w as i32)),
            }
        }
        merged.retain(|(_, w)| *w != 0);
        let mass: i64 = merged.iter().map(|(_, w)| i64::from(w.unsigned_abs())).sum();
        if mass > MASS_LIMIT {
            return Err(LowerError::TooLarge { pop: pop.name.clone(), neuron: j as u32, sum: mass, limit: MASS_LIMIT });
        }
        let lo: i64 = merged.iter().map(|(_, w)| i64::from(*w).min(0)).sum();
        let hi: i64 = merged.iter().map(|(_, w)| i64::from(*w).max(0)).sum();
        let (theta, bias) = (t.theta.get(j), t.bias.get(j));
        let w_sum = f_sum[j];
        let fires = |s: i64| -> bool {
            let s = s as f64;
            let x = match t.encoding {
                Encoding::Binary => s,
                Encoding::Bipolar => (s + s) - w_sum,
            };
            x + bias >= theta
        };
        neurons.push(Neuron { inputs: merged, threshold: least_firing(lo, hi, fires) });
    }
    Ok(Some((Layer { pop: id, name: pop.name.clone(), neurons }, max_delay)))
}

/// The least integer sum in `lo..=hi` at which `fires` holds (`fires` is monotone);
/// `lo` if it always fires, `hi + 1` if never.
fn least_firing(lo: i64, hi: i64, fires: impl Fn(i64) -> bool) -> i64 {
    if fires(lo) {
        return lo;
    }
    if !fires(hi) {
        return hi + 1;
    }
    let (mut a, mut b) = (lo, hi); // fires(a) false, fires(b) true
    while b - a > 1 {
        let m = a + (b - a) / 2;
        if fires(m) { b = m } else { a = m }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_firing_finds_the_edge() {
        assert_eq!(least_firing(-5, 5, |s| s >= 2), 2);
        assert_eq!(least_firing(-5, 5, |s| s as f64 + 0.5 >= 0.0), 0);
        assert_eq!(least_firing(0, 3, |_| true), 0);
        assert_eq!(least_firing(0, 3, |_| false), 4);
    }
}
