//! The chip simulator of the `arm-core` family: the *mapped* network, core by core, in
//! the chip's number formats, with every spike travelling as a multicast packet
//! through the compiled (compressed) routing tables.
//!
//! Each core holds the state of its slice (the same kernels as the quantised
//! functional model, [`crate::Quantised`]), its own input ring buffers, and its own
//! synaptic rows: the synapses of each incoming projection whose target is on the
//! core. A spike becomes a packet with the slice's key. Its path is the walk of that
//! key through the tables ([`neuromap_compile::route::walk`]): the cores it reaches,
//! the routers it passes, the links it crosses. A receiving core adds the row of the
//! sending neuron into its ring buffer. A delay-extension core forwards the packets
//! of its slice, and the receiving cores take the long-delay synapses from those
//! forwarded packets.
//!
//! **Invariant: mapping never changes behaviour.** Inputs are summed exactly (integer
//! accumulators), and cores update in the network's update order. The spikes are
//! therefore bit-identical to the quantised functional model's, for any mapping,
//! placement or order of packet arrival. `tests/chip.rs` checks this on every example
//! and on random networks.
//!
//! This first version runs the cores on one thread, counts actions (packets, router
//! passes, link crossings, synaptic events, neuron updates) and does not yet model
//! time within a step (link contention, timer overruns) or probes.

use std::collections::BTreeMap;

use neuromap_compile::Mapping;
use neuromap_compile::partition::SliceKind;
use neuromap_compile::route;
use neuromap_hw::{ChipId, HwModel};
use neuromap_ir::{Network, PopId};
use serde::Serialize;

use crate::arith::{Arith, S1615};
use crate::reference::{PopState, Ring, receptor_index, weight_shifts};
use crate::{Options, RunResult, SpikeRecord};

/// Actions counted by the chip simulator (the cost layer prices them).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ChipCounts {
    /// Packets sent by cores (delay-extension re-sends included).
    pub packets_sent: u64,
    /// Router visits per chip of the machine.
    pub router_passes: Vec<u64>,
    /// Packets per (chip index, outgoing link).
    #[serde(serialize_with = "as_list")]
    pub link_packets: BTreeMap<(u32, u8), u64>,
    /// Per slice (core): packets received, synaptic events processed, neuron updates.
    pub packets_received: Vec<u64>,
    pub synaptic_events: Vec<u64>,
    pub neuron_updates: Vec<u64>,
    /// Time within steps, when the model gives cycle costs.
    pub timing: Option<Timing>,
}

/// How long each step's work takes on the busiest core, against the timer tick.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Timing {
    /// Core cycles in one timestep (clock × dt): the real-time budget.
    pub budget_cycles: f64,
    /// Per step: cycles of the busiest core (packets, synaptic events, neuron updates).
    pub critical_cycles: Vec<f64>,
    /// Per slice: steps in which its core overran the tick.
    pub overruns: Vec<u32>,
}

impl Timing {
    /// Steps in which any core overran.
    pub fn overrun_steps(&self) -> usize {
        self.critical_cycles.iter().filter(|&&c| c > self.budget_cycles).count()
    }

    /// The busiest step's critical core time over the budget (1 = exactly real time).
    pub fn worst_load(&self) -> f64 {
        self.critical_cycles.iter().copied().fold(0.0, f64::max) / self.budget_cycles
    }
}

/// JSON maps need string keys: write the link counts as `[chip, link, packets]`.
fn as_list<S: serde::Serializer>(m: &BTreeMap<(u32, u8), u64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.iter().map(|(&(c, d), &n)| (c, d, n)))
}

/// What a chip run produced: the same [`RunResult`] as every simulator, plus counts.
#[derive(Clone, Debug)]
pub struct ChipRun {
    pub result: RunResult,
    pub counts: ChipCounts,
}

/// The synapses of one projection whose targets are on one core, by presynaptic neuron.
#[derive(Debug)]
struct Rows {
    proj: usize,
    pre: PopId,
    receptor: usize,
    start: Vec<u32>,
    post: Vec<u32>,
    weight: Vec<f32>,
    delay: Vec<u16>,
}

#[derive(Debug)]
struct Core {
    pop: PopId,
    lo: u32,
    kind: SliceKind,
    state: Option<PopState<S1615>>,
    rings: [Ring<i64>; 2],
    q: [i32; 2],
    rows: Vec<Rows>,
}

/// Simulates `steps` timesteps of `net` as mapped by `mapping` onto `model`.
pub fn simulate_chip(
    net: &Network,
    model: &HwModel,
    mapping: &Mapping,
    steps: u32,
    options: Options,
) -> Result<ChipRun, String> {
    simulate_chip_with(net, model, mapping, steps, options, &mut |_| {})
}

/// Like [`simulate_chip`], calling `after_step(t)` after each step (for progress).
pub fn simulate_chip_with(
    net: &Network,
    model: &HwModel,
    mapping: &Mapping,
    steps: u32,
    options: Options,
    after_step: &mut dyn FnMut(u32),
) -> Result<ChipRun, String> {
    let machine = &model.machine;
    let slices = &mapping.partition.slices;
    let shifts = weight_shifts::<S1615>(net);
    let max_delay = mapping.hw.max_delay_steps;
    // Where each sender's packets go, by walking the compressed tables once per slice.
    let at: BTreeMap<(ChipId, u32), usize> =
        mapping.placement.core_of.iter().enumerate().map(|(s, &c)| (c, s)).collect();
    let mut delivery: Vec<route::Walk> = vec![route::Walk::default(); slices.len()];
    for (s, key) in mapping.key.iter().enumerate() {
        if let Some(k) = key {
            delivery[s] = route::walk(machine, &mapping.tables, mapping.placement.core_of[s].0, *k)?;
        }
    }
    let dest: Vec<Vec<usize>> = delivery
        .iter()
        .map(|w| {
            w.cores.iter().map(|c| at.get(c).copied().ok_or("a packet reaches a core that holds no slice")).collect()
        })
        .collect::<Result<_, _>>()?;
    // Cores: state, rings and the rows of every incoming projection.
    let mut cores: Vec<Core> = slices
        .iter()
        .map(|sl| {
            let pop = sl.pop;
            let neurons = !matches!(sl.kind, SliceKind::DelayExtension { .. });
            let n = if neurons && !net.pop(pop).is_source() { sl.len() as usize } else { 0 };
            let d = net.max_delay_into(pop);
            Core {
                pop,
                lo: sl.lo,
                kind: sl.kind,
                state: neurons.then(|| PopState::new(net, pop, sl.lo as usize..sl.hi as usize, shifts[pop.index()])),
                rings: [Ring::new(n, d), Ring::new(n, d)],
                q: shifts[pop.index()],
                rows: Vec::new(),
            }
        })
        .collect();
    for (c, core) in cores.iter_mut().enumerate() {
        if core.state.is_none() || net.pop(core.pop).is_source() {
            continue;
        }
        let (lo, hi) = (slices[c].lo, slices[c].hi);
        for &q in net.incoming(core.pop) {
            let pr = net.proj(q);
            let syn = &pr.synapses;
            let mut rows = Rows {
                proj: q.index(),
                pre: pr.pre,
                receptor: receptor_index(pr.receptor),
                start: Vec::with_capacity(syn.n_pre() + 1),
                post: Vec::new(),
                weight: Vec::new(),
                delay: Vec::new(),
            };
            rows.start.push(0);
            for i in 0..syn.n_pre() {
                let r = syn.row(i);
                for k in 0..r.post.len() {
                    if (lo..hi).contains(&r.post[k]) {
                        rows.post.push(r.post[k] - lo);
                        rows.weight.push(r.weight[k]);
                        rows.delay.push(r.delay[k]);
                    }
                }
                rows.start.push(rows.post.len() as u32);
            }
            core.rows.push(rows);
        }
    }
    // Cores of each population, in slice order (neurons ascending).
    let mut by_pop: Vec<Vec<usize>> = vec![Vec::new(); net.populations().len()];
    for (c, core) in cores.iter().enumerate() {
        if core.state.is_some() {
            by_pop[core.pop.index()].push(c);
        }
    }
    let mut result = RunResult {
        steps: 0,
        spike_counts: vec![0; net.populations().len()],
        recorded: net.populations().iter().map(|p| options.record_sources || !p.is_source()).collect(),
        spikes: vec![SpikeRecord::default(); net.populations().len()],
        probes: Vec::new(),
        synaptic_events: vec![0; net.projections().len()],
        neuron_updates: 0,
    };
    let mut counts = ChipCounts {
        router_passes: vec![0; machine.chips().len()],
        packets_received: vec![0; slices.len()],
        synaptic_events: vec![0; slices.len()],
        neuron_updates: vec![0; slices.len()],
        ..ChipCounts::default()
    };
    // Cycle costs, if the model gives all of them.
    let hw = &mapping.hw;
    let costs = match (hw.cycles_per_packet, hw.cycles_per_synaptic_event, hw.cycles_per_neuron_update) {
        (Some(p), Some(e), Some(u)) => Some((p, e, u)),
        _ => None,
    };
    let mut timing = costs.map(|_| Timing {
        budget_cycles: hw.clock_hz * net.dt / 1000.0,
        critical_cycles: Vec::with_capacity(steps as usize),
        overruns: vec![0; slices.len()],
    });
    // Work of the current step per core: packets received, synaptic events, updates.
    let mut step_work = vec![[0u64; 3]; slices.len()];
    let mut spikes = Vec::new();
    let mut work: Vec<(usize, u32, u32)> = Vec::new();
    for t in 0..steps {
        let ts = t as usize;
        for &pop in net.update_order() {
            for &c in &by_pop[pop.index()] {
                spikes.clear();
                let core = &mut cores[c];
                let q = core.q;
                let [re, ri] = &mut core.rings;
                let (se, si) = (re.slot(ts), ri.slot(ts));
                let updates = core.state.as_mut().map_or(0, |s| s.step(t, se, si, q, &mut spikes));
                counts.neuron_updates[c] += updates;
                step_work[c][2] += updates;
                result.neuron_updates += updates;
                let lo = core.lo;
                let p = pop.index();
                result.spike_counts[p] += spikes.iter().map(|&(_, k)| u64::from(k)).sum::<u64>();
                if result.recorded[p] {
                    for &(j, k) in &spikes {
                        for _ in 0..k {
                            result.spikes[p].steps.push(t);
                            result.spikes[p].neurons.push(lo + j);
                        }
                    }
                }
                // Send every spike as packets; forward through delay extensions.
                work.extend(spikes.iter().map(|&(j, k)| (c, j, k)));
                while let Some((sender, j, k)) = work.pop() {
                    let w = &delivery[sender];
                    if w.cores.is_empty() {
                        continue;
                    }
                    counts.packets_sent += u64::from(k);
                    for ch in &w.routers {
                        counts.router_passes[ch.index()] += u64::from(k);
                    }
                    for &(ch, d) in &w.links {
                        *counts.link_packets.entry((ch.0, d)).or_default() += u64::from(k);
                    }
                    let (from_pop, from_lo, delayed) = {
                        let s = &cores[sender];
                        (s.pop, s.lo, matches!(s.kind, SliceKind::DelayExtension { .. }))
                    };
                    for &to in &dest[sender] {
                        counts.packets_received[to] += u64::from(k);
                        step_work[to][0] += u64::from(k);
                        let target = &mut cores[to];
                        if matches!(target.kind, SliceKind::DelayExtension { .. }) {
                            work.push((to, j, k));
                            continue;
                        }
                        let g = (from_lo + j) as usize;
                        let q = target.q;
                        let mut events = 0u64;
                        for rows in target.rows.iter().filter(|r| r.pre == from_pop) {
                            let ring = &mut target.rings[rows.receptor];
                            let (a, b) = (rows.start[g] as usize, rows.start[g + 1] as usize);
                            let mut n = 0u64;
                            for x in a..b {
                                let d = rows.delay[x];
                                // Direct packets carry the short delays, extensions the long.
                                if (u32::from(d) > max_delay) != delayed {
                                    continue;
                                }
                                let at = ((ts + usize::from(d)) & ring.mask) * ring.n + rows.post[x] as usize;
                                ring.data[at] += S1615::acc_weight(rows.weight[x], k, q[rows.receptor]);
                                n += 1;
                            }
                            result.synaptic_events[rows.proj] += n * u64::from(k);
                            events += n * u64::from(k);
                        }
                        counts.synaptic_events[to] += events;
                        step_work[to][1] += events;
                    }
                }
            }
        }
        if let (Some(tm), Some((p, e, u))) = (timing.as_mut(), costs) {
            let mut critical = 0.0f64;
            for (c, w) in step_work.iter_mut().enumerate() {
                let cycles = w[0] as f64 * p + w[1] as f64 * e + w[2] as f64 * u;
                critical = critical.max(cycles);
                if cycles > tm.budget_cycles {
                    tm.overruns[c] += 1;
                }
                *w = [0; 3];
            }
            tm.critical_cycles.push(critical);
        }
        result.steps = t + 1;
        after_step(t + 1);
    }
    counts.timing = timing;
    Ok(ChipRun { result, counts })
}
