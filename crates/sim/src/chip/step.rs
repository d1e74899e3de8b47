//! One shard's run: steps, levels and rounds, the exchange at each round.

use super::*;

pub(super) fn run_shard(
    sh: &Shared,
    mut me: Shard,
    id: usize,
    tx: &[Option<Sender<Batch>>],
    rx: &[Option<Receiver<Batch>>],
    steps: u32,
    after_step: &mut dyn FnMut(u32) -> bool,
) -> Shard {
    let mut spikes = Vec::new();
    let mut load = Load::default();
    let mut scratch = FateScratch::default();
    let mut overruns = vec![0u32; me.ids.len()];
    let mut max_cycles = vec![0.0f64; me.ids.len()];
    let mut worst_work = vec![CoreWork::default(); me.ids.len()];
    // This shard asks to stop; some shard asked during this step.
    let (mut asking, mut stop) = (false, false);
    for t in 0..steps {
        let ts = t as usize;
        let mut net_ps = 0u64;
        for level in 0..sh.levels as usize {
            // Update this level's cores; their spikes become this round's packets.
            let mut mine: Vec<Packet> = Vec::new();
            for x in 0..me.order[level].len() {
                let i = me.order[level][x];
                spikes.clear();
                flush_tile(sh, &mut me, i, t, ts);
                let c = &mut me.cores[i];
                let q = c.q;
                let [re, ri] = &mut c.rings;
                let (se, si) = (re.slot(ts), ri.slot(ts));
                let updates = c.state.as_mut().map_or(0, |s| s.step(t, se, si, q, &mut spikes));
                me.step_work[i][2] += updates;
                me.result.neuron_updates += updates;
                let p = c.pop.index();
                me.result.spike_counts[p] += spikes.iter().map(|&(_, k)| u64::from(k)).sum::<u64>();
                if me.result.recorded[p] {
                    for &(j, k) in &spikes {
                        for _ in 0..k {
                            me.result.spikes[p].steps.push(t);
                            me.result.spikes[p].neurons.push(c.lo + j);
                        }
                    }
                }
                let sender = me.ids[i] as u32;
                if !sh.trees[sender as usize].dest.is_empty() {
                    // The core spreads its packets evenly over the tick (sPyNNaker's
                    // TDMA spacing), its cores staggered by their number on the chip.
                    let total: u64 = spikes.iter().map(|&(_, k)| u64::from(k)).sum();
                    let gap = sh.tick_ps / total.max(1);
                    let mut at = (gap as f64 * sh.phase[sender as usize]) as u64;
                    for &(j, k) in &spikes {
                        mine.push(Packet { sender, j, k, emit_ps: at, gap_ps: gap });
                        at += gap * u64::from(k);
                    }
                }
            }
            // Rounds: exchange, work out fates, deliver; forwards make the next round.
            loop {
                let mine_arc = Arc::new((std::mem::take(&mut mine), asking));
                for s in tx.iter().flatten() {
                    s.send(Arc::clone(&mine_arc)).expect("a chip-simulator worker stopped");
                }
                let mut all: Vec<Batch> = Vec::with_capacity(tx.len());
                for (j, r) in rx.iter().enumerate() {
                    if j == id {
                        all.push(Arc::clone(&mine_arc));
                    } else if let Some(r) = r {
                        all.push(r.recv().expect("a chip-simulator worker stopped"));
                    }
                }
                stop |= all.iter().any(|a| a.1);
                let list: Vec<Packet> = all.iter().flat_map(|a| a.0.iter().copied()).collect();
                if list.is_empty() {
                    break;
                }
                let rn = network(sh, &list, &mut load);
                net_ps = net_ps.max(rn.last_ps);
                me.max_wait_ps = me.max_wait_ps.max(rn.max_wait_ps);
                let more = list.iter().any(|p| sh.feeds_extension[p.sender as usize]);
                deliver(sh, &mut me, &list, &rn, t, ts, &mut scratch, &mut mine);
                if !more {
                    break;
                }
            }
        }
        if me.tiles.iter().any(Option::is_some) {
            // Spikes that reached a computing tile after its update feed later steps.
            for c in 0..me.cores.len() {
                flush_tile(sh, &mut me, c, t, ts);
            }
            let mut slowest = 0.0f64;
            for (c, tile) in me.tiles.iter_mut().enumerate() {
                if let Some(tile) = tile {
                    slowest = slowest.max(tile.end_step(me.step_work[c][2]));
                    (0..3).for_each(|x| me.work[c][x] += me.step_work[c][x]);
                    me.step_work[c] = [0; 3];
                }
            }
            me.tile_s.push(slowest);
        }
        if let Some(cost) = sh.cost {
            let mut critical = 0.0f64;
            let mut levels = vec![LevelLoad::default(); sh.level_budget.len()];
            for (c, w) in me.step_work.iter_mut().enumerate() {
                if me.tiles[c].is_some() {
                    continue;
                }
                (0..3).for_each(|x| me.work[c][x] += w[x]);
                let work = CoreWork { packets: w[0], synaptic_events: w[1], neuron_updates: w[2] };
                let cycles = work.cycles(&cost);
                critical = critical.max(cycles);
                if cycles > max_cycles[c] {
                    max_cycles[c] = cycles;
                    worst_work[c] = work;
                }
                if cycles > sh.budget_cycles {
                    overruns[c] += 1;
                }
                let l = sh.level_budget.iter().position(|&b| cycles <= b).unwrap_or(sh.level_budget.len() - 1);
                levels[l].cores += 1;
                levels[l].work.add(&work);
                *w = [0; 3];
            }
            me.critical.push(critical);
            me.levels.push(levels);
        } else {
            for (c, w) in me.step_work.iter_mut().enumerate() {
                (0..3).for_each(|x| me.work[c][x] += w[x]);
                *w = [0; 3];
            }
        }
        me.network_ps.push(net_ps);
        me.passes.push(std::mem::take(&mut me.step_passes));
        me.result.steps = t + 1;
        asking |= !after_step(t + 1);
        if stop {
            break;
        }
    }
    me.counts.timing = sh.cost.map(|_| Timing { overruns, max_cycles, worst_work, ..Timing::default() });
    me
}
