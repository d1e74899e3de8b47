//! The shards' counts and spikes merged into one run.

use super::*;

/// Puts the shards' results together: sums of counts, spikes in (step, neuron) order,
/// the busiest core of each step.
pub(super) fn merge(shared: &Shared, shards: Vec<Shard>, steps: u32, n_slices: usize) -> ChipRun {
    let npop = shared.net.populations().len();
    let mut result = RunResult {
        steps,
        spike_counts: vec![0; npop],
        recorded: shards[0].result.recorded.clone(),
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
    let mut shards = shards;
    for s in shards.iter_mut() {
        if !s.tile_s.is_empty() {
            counts.tile_step_s.resize(s.tile_s.len().max(counts.tile_step_s.len()), 0.0);
            for (x, y) in counts.tile_step_s.iter_mut().zip(&s.tile_s) {
                *x = x.max(*y);
            }
        }
        for (i, t) in s.tiles.iter_mut().enumerate() {
            if let Some(t) = t.take() {
                counts.tiles.push((s.ids[i] as u32, t.finish()));
            }
        }
    }
    counts.tiles.sort_by_key(|t| t.0);
    for s in &shards {
        let r = &s.result;
        for (p, v) in spikes.iter_mut().enumerate() {
            result.spike_counts[p] += r.spike_counts[p];
            v.extend(r.spikes[p].steps.iter().copied().zip(r.spikes[p].neurons.iter().copied()));
        }
        for (a, b) in result.synaptic_events.iter_mut().zip(&r.synaptic_events) {
            *a += b;
        }
        result.neuron_updates += r.neuron_updates;
        for (w, &g) in s.work.iter().zip(&s.ids) {
            counts.packets_received[g] = w.packets;
            counts.synaptic_events[g] = w.synaptic_events;
            counts.neuron_updates[g] = w.neuron_updates;
        }
        counts.packets_sent += s.counts.packets_sent;
        let (a, b) = (&mut counts.losses, &s.counts.losses);
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
        if let (Some(tm), Some(st)) = (timing.as_mut(), s.counts.timing.as_ref()) {
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
                tm.overruns[g] = st.overruns[i];
                tm.max_cycles[g] = st.max_cycles[i];
                tm.worst_work[g] = st.worst_work[i];
            }
            tm.max_wait_s = tm.max_wait_s.max(s.max_wait_ps as f64 * 1e-12);
        }
    }
    if let Some(tm) = timing.as_mut()
        && shared.router.is_some()
    {
        // Every shard saw every packet: shard 0's network times are the machine's.
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
    ChipRun { result, counts }
}
