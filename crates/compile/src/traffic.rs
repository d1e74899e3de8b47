//! Which slices send to which, and how many spikes per step each sends.

use neuromap_hw::arm_core::ArmCore;
use neuromap_ir::{Network, PopId, PopKind, SourceKind};
use rayon::prelude::*;

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

/// Each slice's targets, from its neurons' rows (slices in parallel: each finds its
/// own targets and its delay extension's). A slice stops reading a projection's rows
/// once it sends to every slice of the target population both ways it can (directly,
/// and through its delay extension when the projection has delays too long for a
/// core): in a dense network that is after a few neurons.
pub fn traffic(net: &Network, part: &Partition, hw: &ArmCore, assumed_rate_hz: f64) -> Traffic {
    let n = part.slices.len();
    let n_pop = net.populations().len();
    // Per population, its number of slices.
    let slices_of: Vec<u32> = net
        .pop_ids()
        .map(|id| {
            let size = part.pop_slices[id.index()].1;
            if size == 0 { 0 } else { net.pop(id).size.div_ceil(size) }
        })
        .collect();
    // Per slice: the slices it sends to directly, and through its delay extension.
    let found: Vec<(Vec<u32>, Vec<u32>)> = (0..n)
        .into_par_iter()
        .map_init(
            // seen_*[t] == s: slice s already sends to t (directly / through its
            // extension); count_*[p]: to how many of population p's slices.
            || (vec![u32::MAX; n], vec![u32::MAX; n], vec![0u32; n_pop], vec![0u32; n_pop]),
            |(seen_direct, seen_delayed, count_direct, count_delayed), s| {
                let sl = &part.slices[s];
                let (mut direct, mut delayed) = (Vec::new(), Vec::new());
                if matches!(sl.kind, SliceKind::DelayExtension { .. }) {
                    return (direct, delayed);
                }
                count_direct.fill(0);
                count_delayed.fill(0);
                let de = part.delay_extension[s];
                for &q in net.outgoing(sl.pop) {
                    let pr = net.proj(q);
                    let post = pr.post.index();
                    let slice_of = part.slicer(pr.post);
                    // The ways this projection's synapses can reach a slice; once both
                    // reach every slice of the population, its other rows add nothing.
                    let may_delay = de.is_some() && u32::from(pr.synapses.max_delay()) > hw.max_delay_steps;
                    let may_direct = de.is_none() || u32::from(pr.synapses.min_delay()) <= hw.max_delay_steps;
                    let all = slices_of[post];
                    let saturated =
                        |direct: u32, delayed: u32| (!may_direct || direct == all) && (!may_delay || delayed == all);
                    for i in sl.lo..sl.hi {
                        if saturated(count_direct[post], count_delayed[post]) {
                            break;
                        }
                        let row = pr.synapses.row(i as usize);
                        for (&j, &d) in row.post.iter().zip(row.delay) {
                            let t = slice_of.of(j);
                            // Long delays reach their target through the delay extension.
                            let (seen, out, count) = if de.is_some() && u32::from(d) > hw.max_delay_steps {
                                (&mut *seen_delayed, &mut delayed, &mut count_delayed[post])
                            } else {
                                (&mut *seen_direct, &mut direct, &mut count_direct[post])
                            };
                            if seen[t as usize] != s as u32 {
                                seen[t as usize] = s as u32;
                                out.push(t);
                                *count += 1;
                            }
                        }
                    }
                }
                (direct, delayed)
            },
        )
        .collect();
    let mut targets: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (s, (direct, delayed)) in found.into_iter().enumerate() {
        targets[s].extend(direct);
        if let Some(e) = part.delay_extension[s]
            && !delayed.is_empty()
        {
            targets[e as usize].extend(delayed);
            targets[s].push(e);
        }
    }
    targets.par_iter_mut().for_each(|t| {
        t.sort_unstable();
        t.dedup();
    });
    let spikes_per_step = part
        .slices
        .iter()
        .map(|sl| expected_spikes(net, sl.pop, sl.lo as usize..sl.hi as usize, assumed_rate_hz))
        .collect();
    Traffic { targets, spikes_per_step }
}
