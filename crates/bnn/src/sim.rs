//! The binary chips, step by step: every threshold neuron is computed the way its
//! family computes it (threshold logic: its circuit, gate by gate; MAC baseline: XNOR
//! of input and weight-sign bits, popcount, compare), from input bits held for the
//! longest delay. A circuit's schedule is fixed, so its actions per step are the
//! mapping's (`MappedLayer::actions`), added once per step and layer; nothing is priced
//! here.

use bitvec::vec::BitVec;
use neuromap_ir::{Network, PopKind};
use neuromap_sim::SpikeRecord;
use neuromap_sim::sources::SourceState;

use crate::lower::BinaryNet;
use crate::map::{Actions, BinaryMapping};

/// A chip run: spikes in the reference's layout and the actions taken.
#[derive(Clone, Debug)]
pub struct BinaryRun {
    pub steps: u32,
    /// Per population, in network order (sources included).
    pub spikes: Vec<SpikeRecord>,
    pub spike_counts: Vec<u64>,
    /// Per layer, summed over the run.
    pub actions: Vec<Actions>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error(
        "source `{pop}` sent {count} spikes from neuron {neuron} in step {step}; a binary input is one bit per step"
    )]
    SourceCount { pop: String, neuron: u32, step: u32, count: u32 },
}

/// Runs `steps` steps of `net` on the mapped chip.
pub fn run(net: &Network, bin: &BinaryNet, mapping: &BinaryMapping, steps: u32) -> Result<BinaryRun, SimError> {
    let np = net.populations().len();
    let depth = usize::from(bin.max_delay) + 1;
    // history[pop][slot] = bits of the step `t` with `t % depth == slot`.
    let mut history: Vec<Vec<BitVec>> =
        net.populations().iter().map(|p| vec![BitVec::repeat(false, p.size as usize); depth]).collect();
    // The MAC baseline's weight-sign bits per neuron (1: positive) and its count of
    // negative weights.
    let signs: Vec<Vec<(BitVec, i64)>> = bin
        .layers
        .iter()
        .map(|l| {
            l.neurons
                .iter()
                .map(|n| {
                    let sign: BitVec = n.inputs.iter().map(|(_, w)| *w > 0).collect();
                    let neg = (sign.len() - sign.count_ones()) as i64;
                    (sign, neg)
                })
                .collect()
        })
        .collect();
    let mut sources: Vec<Option<SourceState>> = net
        .populations()
        .iter()
        .map(|p| match &p.kind {
            PopKind::Source(s) => Some(SourceState::new(p, s, net.seed, net.dt, 0..p.size as usize)),
            PopKind::Neurons(_) => None,
        })
        .collect();
    let mut spikes = vec![SpikeRecord::default(); np];
    let mut counts = vec![0u64; np];
    let mut actions = vec![Actions::default(); bin.layers.len()];
    let mut buf = Vec::new();
    let mut values = Vec::new();
    let mut bits: BitVec = BitVec::new();
    let tl = mapping.is_threshold_logic();
    for t in 0..steps {
        let slot = t as usize % depth;
        for (pi, src) in sources.iter_mut().enumerate() {
            let Some(src) = src else { continue };
            let h = &mut history[pi][slot];
            h.fill(false);
            buf.clear();
            src.step(t, &mut buf);
            for &(n, c) in &buf {
                if c != 1 {
                    return Err(SimError::SourceCount {
                        pop: net.populations()[pi].name.clone(),
                        neuron: n,
                        step: t,
                        count: c,
                    });
                }
                h.set(n as usize, true);
                spikes[pi].steps.push(t);
                spikes[pi].neurons.push(n);
                counts[pi] += 1;
            }
        }
        for (li, (layer, mapped)) in bin.layers.iter().zip(&mapping.layers).enumerate() {
            let pi = layer.pop.index();
            let mut out = std::mem::take(&mut history[pi][slot]);
            for (j, n) in layer.neurons.iter().enumerate() {
                bits.clear();
                bits.extend(n.inputs.iter().map(|(i, _)| {
                    let s = (t as usize + depth - usize::from(i.delay) % depth) % depth;
                    // Before step 0 nothing fired.
                    u32::from(i.delay) <= t && history[i.pop.index()][s][i.neuron as usize]
                }));
                let fire = if tl {
                    mapped.circuits[j].eval(|i| bits[i as usize], &mut values)
                } else {
                    // XNOR with the weight's sign bits, popcount, compare: Σ w·b ≥ T
                    // ⇔ popcount ≥ T + (number of negative weights).
                    let (sign, neg) = &signs[li][j];
                    bits ^= sign.as_bitslice();
                    let pop = (bits.len() - bits.count_ones()) as i64;
                    pop >= n.threshold + neg
                };
                out.set(j, fire);
                if fire {
                    spikes[pi].steps.push(t);
                    spikes[pi].neurons.push(j as u32);
                    counts[pi] += 1;
                }
            }
            history[pi][slot] = out;
            actions[li].add(&mapped.actions);
        }
    }
    Ok(BinaryRun { steps, spikes, spike_counts: counts, actions })
}
