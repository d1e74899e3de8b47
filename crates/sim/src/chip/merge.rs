//! The shards' counts and spikes merged into one run.

use serde::Deserialize;

use super::*;

/// What one shard counted, as the merge reads it: the part of a [`Shard`] that
/// outlives the run, and what a process sends the others at the end of a
/// distributed run.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct ShardOut {
    pub(super) ids: Vec<usize>,
    pub(super) steps: u32,
    pub(super) spike_counts: Vec<u64>,
    /// Per population: (steps, neurons) of its recorded spikes.
    pub(super) spikes: Vec<(Vec<u32>, Vec<u32>)>,
    pub(super) synaptic_events: Vec<u64>,
    pub(super) neuron_updates: u64,
    pub(super) work: Vec<CoreWork>,
    pub(super) packets_sent: u64,
    pub(super) losses: Losses,
    /// Per core, when timed: steps overrun, most cycles in a step and that step's work.
    pub(super) timing: Option<(Vec<u32>, Vec<f64>, Vec<CoreWork>)>,
    pub(super) res_count: Vec<u64>,
    pub(super) passes: Vec<u64>,
    pub(super) critical: Vec<f64>,
    pub(super) levels: Vec<Vec<LevelLoad>>,
    pub(super) network_ps: Vec<u64>,
    pub(super) max_wait_ps: u64,
    pub(super) tile_s: Vec<f64>,
}

/// A tile's counter, by its slice.
pub(super) type Tile = (u32, Box<dyn TileCounter>);

impl ShardOut {
    pub(super) fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("a shard's counts encode")
    }

    /// Reads what [`ShardOut::encode`] wrote (another process of the same run).
    pub(super) fn decode(b: &[u8]) -> ShardOut {
        postcard::from_bytes(b).expect("a shard's counts from another process decode")
    }
}

impl Shard {
    /// What the shard counted, and its tiles' counters by slice.
    pub(super) fn finish(self) -> (ShardOut, Vec<Tile>) {
        let tiles =
            self.tiles.into_iter().zip(&self.ids).filter_map(|(t, &s)| t.map(|t| (s as u32, t))).collect::<Vec<_>>();
        let r = self.result;
        let out = ShardOut {
            steps: r.steps,
            spike_counts: r.spike_counts,
            spikes: r.spikes.into_iter().map(|s| (s.steps, s.neurons)).collect(),
            synaptic_events: r.synaptic_events,
            neuron_updates: r.neuron_updates,
            work: self.work,
            packets_sent: self.counts.packets_sent,
            losses: self.counts.losses,
            timing: self.counts.timing.map(|t| (t.overruns, t.max_cycles, t.worst_work)),
            res_count: self.res_count,
            passes: self.passes,
            critical: self.critical,
            levels: self.levels,
            network_ps: self.network_ps,
            max_wait_ps: self.max_wait_ps,
            tile_s: self.tile_s,
            ids: self.ids,
        };
        (out, tiles)
    }
}

/// Puts the shards' results together: sums of counts, spikes in (step, neuron) order,
/// the busiest core of each step.
pub(super) fn merge(shared: &Shared, shards: Vec<ShardOut>, tiles: Vec<Tile>, steps: u32, n_slices: usize) -> ChipRun {
    let npop = shared.net.populations().len();
    let mut result = RunResult {
        steps,
        spike_counts: vec![0; npop],
        recorded: recorded(shared),
        spikes: vec![SpikeRecord::default(); npop],
        probes: Vec::new(),
        synaptic_events: vec![0; shared.net.projections().len()],
        neuron_updates: 0,
    };
    let mut counts = ChipCounts {
        router_passes: vec![0; shared.n_chips],
        packets_received: vec![0; n_slices],
        synaptic_events: vec![0; n_slices],
        neuron_updates: vec![0; n_slices],
        update_kind: shared
            .slice
            .iter()
            .map(|&(pop, _, ext)| if ext { 0 } else { update_kind(shared.net, pop) })
            .collect(),
        ..ChipCounts::default()
    };
    let mut res = vec![0u64; shared.n_res];
    let mut timing = shared.cost.map(|_| Timing {
        budget_cycles: shared.budget_cycles,
        critical_cycles: vec![0.0; steps as usize],
        overruns: vec![0; n_slices],
        max_cycles: vec![0.0; n_slices],
        worst_work: vec![CoreWork::default(); n_slices],
        network_s: Vec::new(),
        max_wait_s: 0.0,
        level_hz: Vec::new(),
        levels: vec![vec![LevelLoad::default(); shared.level_budget.len()]; steps as usize],
    });
    let mut spikes: Vec<Vec<(u32, u32)>> = vec![Vec::new(); npop];
    for s in &shards {
        if !s.tile_s.is_empty() {
            counts.tile_step_s.resize(s.tile_s.len().max(counts.tile_step_s.len()), 0.0);
            for (x, y) in counts.tile_step_s.iter_mut().zip(&s.tile_s) {
                *x = x.max(*y);
            }
        }
    }
    counts.tiles = tiles.into_iter().map(|(s, t)| (s, t.finish())).collect();
    counts.tiles.sort_by_key(|t| t.0);
    for s in &shards {
        for (p, v) in spikes.iter_mut().enumerate() {
            result.spike_counts[p] += s.spike_counts[p];
            v.extend(s.spikes[p].0.iter().copied().zip(s.spikes[p].1.iter().copied()));
        }
        for (a, b) in result.synaptic_events.iter_mut().zip(&s.synaptic_events) {
            *a += b;
        }
        result.neuron_updates += s.neuron_updates;
        for (w, &g) in s.work.iter().zip(&s.ids) {
            counts.packets_received[g] = w.packets;
            counts.synaptic_events[g] = w.synaptic_events;
            counts.neuron_updates[g] = w.neuron_updates;
        }
        counts.packets_sent += s.packets_sent;
        let (a, b) = (&mut counts.losses, &s.losses);
        a.congestion += b.congestion;
        a.random += b.random;
        a.dead_link += b.dead_link;
        a.lost_deliveries += b.lost_deliveries;
        a.emergency_routed += b.emergency_routed;
        for (x, y) in res.iter_mut().zip(&s.res_count) {
            *x += y;
        }
        counts.router_passes_per_step.resize(s.passes.len(), 0);
        for (x, y) in counts.router_passes_per_step.iter_mut().zip(&s.passes) {
            *x += y;
        }
        if let (Some(tm), Some((overruns, max_cycles, worst_work))) = (timing.as_mut(), s.timing.as_ref()) {
            for (x, y) in tm.critical_cycles.iter_mut().zip(&s.critical) {
                *x = x.max(*y);
            }
            for (x, y) in tm.levels.iter_mut().zip(&s.levels) {
                for (a, b) in x.iter_mut().zip(y) {
                    a.cores += b.cores;
                    a.work.add(&b.work);
                }
            }
            for (i, &g) in s.ids.iter().enumerate() {
                tm.overruns[g] = overruns[i];
                tm.max_cycles[g] = max_cycles[i];
                tm.worst_work[g] = worst_work[i];
            }
            tm.max_wait_s = tm.max_wait_s.max(s.max_wait_ps as f64 * 1e-12);
        }
    }
    if let Some(tm) = timing.as_mut()
        && shared.router.is_some()
    {
        // Every shard read the joined network results: shard 0's times are the machine's.
        tm.network_s = shards[0].network_ps.iter().map(|&p| p as f64 * 1e-12).collect();
    }
    for (p, mut v) in spikes.into_iter().enumerate() {
        v.sort_unstable();
        (result.spikes[p].steps, result.spikes[p].neurons) = v.into_iter().unzip();
    }
    for (r, &n) in res.iter().enumerate() {
        if r < shared.n_chips {
            counts.router_passes[r] = n;
        } else if n > 0 {
            let l = r - shared.n_chips;
            counts.link_packets.insert(((l / shared.nl) as u32, (l % shared.nl) as u8), n);
        }
    }
    if let Some(tm) = timing.as_mut() {
        tm.level_hz = shared.level_hz.clone();
    }
    counts.timing = timing;
    ChipRun { result, counts, shard_wait_s: Vec::new() }
}

/// Per population: whether its spikes are recorded.
pub(super) fn recorded(shared: &Shared) -> Vec<bool> {
    shared.net.populations().iter().map(|p| shared.record_sources || !p.is_source()).collect()
}
