//! Which slices send to which, and how many spikes per step each sends.

use neuromap_hw::arm_core::ArmCore;
use neuromap_ir::{Network, PopId, PopKind, SourceKind};

use crate::partition::{Partition, SliceKind};

/// Slice-level connectivity: `targets[s]` are the slices `s` sends packets to
/// (sorted, unique); `spikes_per_step[s]` its expected spikes per timestep.
#[derive(Clone, Debug)]
pub struct Traffic {
    pub targets: Vec<Vec<u32>>,
    pub spikes_per_step: Vec<f64>,
}

/// Expected spikes per step of neurons `range` of population `pop`: neurons at
/// `assumed_rate_hz`, sources at their own rates (a delay extension re-sends its source
/// slice's spikes, so it expects the same).
pub fn expected_spikes(net: &Network, pop: PopId, range: std::ops::Range<usize>, assumed_rate_hz: f64) -> f64 {
    let dt_s = net.dt / 1000.0;
    let p = net.pop(pop);
    match &p.kind {
        PopKind::Neurons(_) => range.len() as f64 * assumed_rate_hz * dt_s,
        PopKind::Source(SourceKind::Poisson { rate_hz, .. }) => range.map(|i| rate_hz.get(i) * dt_s).sum(),
        PopKind::Source(SourceKind::Bernoulli { p }) => range.map(|i| p.get(i)).sum(),
        PopKind::Source(SourceKind::Array { steps }) => {
            let horizon = steps.iter().filter_map(|s| s.last()).max().map_or(1, |&l| l + 1);
            steps[range].iter().map(|s| s.len()).sum::<usize>() as f64 / f64::from(horizon)
        }
    }
}

pub fn traffic(net: &Network, part: &Partition, hw: &ArmCore, assumed_rate_hz: f64) -> Traffic {
    let n = part.slices.len();
    let mut targets: Vec<Vec<u32>> = vec![Vec::new(); n];
    // seen_*[t] == s: slice s already sends to t (directly / through its extension).
    let mut seen_direct = vec![u32::MAX; n];
    let mut seen_delayed = vec![u32::MAX; n];
    for (s, sl) in part.slices.iter().enumerate() {
        if matches!(sl.kind, SliceKind::DelayExtension { .. }) {
            continue;
        }
        let de = part.delay_extension[s];
        for &q in net.outgoing(sl.pop) {
            let pr = net.proj(q);
            for i in sl.lo..sl.hi {
                let row = pr.synapses.row(i as usize);
                for (&j, &d) in row.post.iter().zip(row.delay) {
                    let t = part.slice_of(pr.post, j);
                    match de {
                        // Long delays reach their target through the delay extension.
                        Some(e) if u32::from(d) > hw.max_delay_steps => {
                            if seen_delayed[t as usize] != s as u32 {
                                seen_delayed[t as usize] = s as u32;
                                targets[e as usize].push(t);
                            }
                        }
                        _ => {
                            if seen_direct[t as usize] != s as u32 {
                                seen_direct[t as usize] = s as u32;
                                targets[s].push(t);
                            }
                        }
                    }
                }
            }
        }
        if let Some(e) = de
            && !targets[e as usize].is_empty()
        {
            targets[s].push(e);
        }
    }
    for t in &mut targets {
        t.sort_unstable();
        t.dedup();
    }
    let spikes_per_step = part
        .slices
        .iter()
        .map(|sl| expected_spikes(net, sl.pop, sl.lo as usize..sl.hi as usize, assumed_rate_hz))
        .collect();
    Traffic { targets, spikes_per_step }
}
