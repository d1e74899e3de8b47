//! One shard's run: steps, levels and rounds, the exchange at each round.

use super::*;

pub(super) fn run_shard(
    shared: &Shared,
    mut shard: Shard,
    fabric: &Fabric,
    steps: u32,
    after_step: &mut dyn FnMut(u32) -> bool,
) -> Shard {
    let mut spikes = Vec::new();
    let mut load = Load::default();
    let mut scratch = FateScratch::default();
    let no_net = RoundNet::default();
    let mut overruns = vec![0u32; shard.ids.len()];
    let mut max_cycles = vec![0.0f64; shard.ids.len()];
    let mut worst_work = vec![CoreWork::default(); shard.ids.len()];
    // This shard asks to stop; some shard asked during this step.
    let (mut asking, mut stop) = (false, false);
    // Under `ahead`, the exchange of step t's packets begun after the cores were
    // updated for step t, while step t - 1's last round was delivered (over
    // processes, already collected with that round's network results).
    let mut next: Option<Posted> = None;
    for t in 0..steps {
        let ts = t as usize;
        let mut net_ps = 0u64;
        for level in 0..shared.levels as usize {
            // Update this level's cores; their spikes become this round's packets.
            let mut posted = match next.take() {
                Some(p) => p,
                None => {
                    let mine = update(shared, &mut shard, fabric, level, t, &mut spikes, false);
                    fabric.post(Part::Packets(Round::of(shared, mine, asking)))
                }
            };
            // Rounds: exchange, work out fates, deliver; forwards make the next round.
            loop {
                let whole = fabric.collect(shared, posted);
                let Part::Whole(round) = &*whole else { unreachable!("a round's packets") };
                stop |= round.stop;
                if !round.any {
                    break;
                }
                // Each shard models the routers and links it owns; the joined result
                // is every shard's.
                let fates = shared.router.map(|_| fabric.post(Part::Net(network(shared, shard.id, round, &mut load))));
                if shared.ahead && !round.more && !stop && t + 1 < steps {
                    // The step's last round: the next step's inputs are complete (no
                    // delivery of this step reaches them), so its update and its
                    // packets' exchange begin while the network's parts come in.
                    let mine = update(shared, &mut shard, fabric, 0, t + 1, &mut spikes, true);
                    next = Some(fabric.post(Part::Packets(Round::of(shared, mine, asking))));
                }
                // Over processes, with the next step's packets posted, the two
                // exchanges are one (`Fabric::collect_net`): a step's one meeting.
                let fates = fates.map(|f| fabric.collect_net(shared, f, next.as_mut()));
                let net = match fates.as_deref() {
                    Some(Part::Net(n)) => n,
                    _ => &no_net,
                };
                net_ps = net_ps.max(net.last_ps);
                shard.max_wait_ps = shard.max_wait_ps.max(net.max_wait_ps);
                let mut mine = Packets::default();
                deliver(shared, &mut shard, round, net, t, ts, &mut scratch, &mut mine);
                let more = round.more;
                fabric.give_back(whole);
                if !more {
                    break;
                }
                posted = fabric.post(Part::Packets(Round::of(shared, mine, asking)));
            }
        }
        if shard.tiles.iter().any(Option::is_some) {
            // Spikes that reached a computing tile after its update feed later steps.
            for c in 0..shard.cores.len() {
                flush_tile(shared, &mut shard, c, t, ts);
            }
            let mut slowest = 0.0f64;
            for (c, tile) in shard.tiles.iter_mut().enumerate() {
                if let Some(tile) = tile {
                    slowest = slowest.max(tile.end_step(shard.step_work[c].neuron_updates));
                    let w = std::mem::take(&mut shard.step_work[c]);
                    shard.work[c].add(&w);
                }
            }
            shard.tile_s.push(slowest);
        }
        if let Some(cost) = shared.cost {
            let mut critical = 0.0f64;
            let mut levels = vec![LevelLoad::default(); shared.level_budget.len()];
            for (c, w) in shard.step_work.iter_mut().enumerate() {
                if shard.tiles[c].is_some() {
                    continue;
                }
                let work = std::mem::take(w);
                shard.work[c].add(&work);
                let cycles = work.cycles(&cost);
                critical = critical.max(cycles);
                if cycles > max_cycles[c] {
                    max_cycles[c] = cycles;
                    worst_work[c] = work;
                }
                if cycles > shared.budget_cycles {
                    overruns[c] += 1;
                }
                let l = shared.level_budget.iter().position(|&b| cycles <= b).unwrap_or(shared.level_budget.len() - 1);
                levels[l].cores += 1;
                levels[l].work.add(&work);
            }
            shard.critical.push(critical);
            shard.levels.push(levels);
        } else {
            for (c, w) in shard.step_work.iter_mut().enumerate() {
                shard.work[c].add(&std::mem::take(w));
            }
        }
        if next.is_some() {
            // The next step's update work, counted ahead, is now the step's.
            std::mem::swap(&mut shard.step_work, &mut shard.next_work);
        }
        shard.network_ps.push(net_ps);
        shard.passes.push(std::mem::take(&mut shard.step_passes));
        shard.result.steps = t + 1;
        asking |= !after_step(t + 1);
        if stop {
            break;
        }
    }
    shard.counts.timing = shared.cost.map(|_| Timing { overruns, max_cycles, worst_work, ..Timing::default() });
    shard
}

/// Updates `level`'s cores for step `t` and returns their spikes as packets. Their
/// work counts in the step's work, or in the next step's when `ahead` (the shard is
/// still delivering the step before).
fn update(
    shared: &Shared,
    shard: &mut Shard,
    fabric: &Fabric,
    level: usize,
    t: u32,
    spikes: &mut Vec<(u32, u32)>,
    ahead: bool,
) -> Packets {
    let ts = t as usize;
    shard.due.drain(t);
    let mut mine = fabric.list();
    for x in 0..shard.order[level].len() {
        let i = shard.order[level][x];
        spikes.clear();
        flush_tile(shared, shard, i, t, ts);
        let c = &mut shard.cores[i];
        let q = c.q;
        let [re, ri] = &mut c.rings;
        let (se, si) = match c.queued {
            // The two receptors' inputs are adjacent.
            Some([e, i]) => shard.due.inputs(e, (i - e) as usize),
            None => (re.slot(ts), ri.slot(ts)),
        };
        let updates = c.state.as_mut().map_or(0, |s| s.step(t, se, si, q, spikes));
        let work = if ahead { &mut shard.next_work } else { &mut shard.step_work };
        work[i].updates(c.kind, updates);
        shard.result.neuron_updates += updates;
        let p = c.pop.index();
        shard.result.spike_counts[p] += spikes.iter().map(|&(_, k)| u64::from(k)).sum::<u64>();
        if shard.result.recorded[p] {
            for &(j, k) in spikes.iter() {
                for _ in 0..k {
                    shard.result.spikes[p].steps.push(t);
                    shard.result.spikes[p].neurons.push(c.lo + j);
                }
            }
        }
        let sender = shard.ids[i] as u32;
        if !shared.trees[sender as usize].dest.is_empty() {
            // The core spreads its packets evenly over the tick (sPyNNaker's
            // TDMA spacing), its cores staggered by their number on the chip.
            let total: u64 = spikes.iter().map(|&(_, k)| u64::from(k)).sum();
            let gap = shared.tick_ps / total.max(1);
            let mut at = (gap as f64 * shared.phase[sender as usize]) as u64;
            for &(j, k) in spikes.iter() {
                mine.push(sender, gap, Packet { j, k, emit_ps: at });
                at += gap * u64::from(k);
            }
        }
    }
    mine
}
