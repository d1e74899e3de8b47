//! Delivery: packets into the rows and ring buffers of their cores.

use super::*;

/// Hands the spikes waiting for core `c`'s tile to it, projection by projection, and
/// adds what it computes into the core's ring buffers at step `ts`.
pub(super) fn flush_tile(shared: &Shared, shard: &mut Shard, c: usize, t: u32, ts: usize) {
    let mut pending = std::mem::take(&mut shard.pending[c]);
    if pending.is_empty() {
        shard.pending[c] = pending;
        return;
    }
    pending.sort_unstable();
    let (Some(tile), core) = (shard.tiles[c].as_mut(), &mut shard.cores[c]) else { return };
    let mut spikes: Vec<(u32, u32)> = Vec::new();
    let mut i = 0;
    while i < pending.len() {
        let proj = pending[i].0;
        spikes.clear();
        while i < pending.len() && pending[i].0 == proj {
            let (_, j, k) = pending[i];
            match spikes.last_mut() {
                Some(last) if last.0 == j => last.1 += k,
                _ => spikes.push((j, k)),
            }
            i += 1;
        }
        let receptor = core.rows.iter().find(|r| r.proj == proj as usize).map_or(0, |r| r.receptor);
        let ring = &mut core.rings[receptor];
        let shift = core.q[receptor];
        tile.compute(shared.net, proj as usize, t, &spikes, shift, &mut |post, delay, v| {
            let at = ((ts + usize::from(delay)) & ring.mask) * ring.n + post as usize;
            ring.data[at] += v;
        });
    }
    pending.clear();
    shard.pending[c] = pending;
}

/// Delivers a round's packets to this shard's cores, counts the packets this shard
/// sent, and queues the forwards of its delay extensions.
#[allow(clippy::too_many_arguments)]
pub(super) fn deliver(
    shared: &Shared,
    shard: &mut Shard,
    round: &Whole,
    net: &RoundNet,
    t: u32,
    ts: usize,
    scratch: &mut FateScratch,
    fwd: &mut Vec<Packet>,
) {
    let here = shard.id;
    let random = shared.faults.packet_drop_rate > 0.0;
    // A sender of this shard and the copies of its packets that nothing touched, not
    // yet counted on its path: counted once per run of its packets, not per packet.
    let mut run = (0u32, 0u64);
    let count_path = |shard: &mut Shard, (sender, k): (u32, u64)| {
        if k > 0 {
            let tree = &shared.trees[sender as usize];
            tree.hops.iter().for_each(|h| shard.res_count[h.res as usize] += k);
            shard.step_passes += k * u64::from(tree.routers);
        }
    };
    for (part, base) in round.rounds() {
        let list = &part.list;
        let mut i = 0;
        while i < list.len() {
            let p = &list[i];
            let tree = &shared.trees[p.sender as usize];
            let mine = shared.shard_of[p.sender as usize] == here;
            let at = p.sender as usize * shared.shards + usize::from(here);
            let (first, last) = (shared.dest_start[at] as usize, shared.dest_start[at + 1] as usize);
            let (dests, dest_rows) = (&shared.dest[first..last], &shared.dest_rows[first..last]);
            if !mine && dests.is_empty() {
                // Nothing of this sender's run concerns this shard.
                while i < list.len() && list[i].sender == p.sender {
                    i += 1;
                }
                continue;
            }
            let g = part.gid_at(i, base);
            i += 1;
            let dropped = net.dropped.binary_search_by(|&(x, _, _)| x.cmp(&g).then(std::cmp::Ordering::Greater));
            let touched =
                random || tree.faulty || dropped.err().is_some_and(|e| net.dropped.get(e).is_some_and(|d| d.0 == g));
            let mut lost = Losses::default();
            if touched {
                fate(shared, net, t, g as usize, p, scratch, &mut lost);
            }
            let alive = &scratch.alive;
            // The sender's shard counts the packet and its path.
            if mine {
                let k = u64::from(p.k);
                shard.counts.packets_sent += k;
                if touched {
                    for (h, hop) in tree.hops.iter().enumerate() {
                        if hop.res != DEAD {
                            shard.res_count[hop.res as usize] += u64::from(alive[h]);
                            if (hop.res as usize) < shared.n_chips {
                                shard.step_passes += u64::from(alive[h]);
                            }
                        }
                    }
                    lost.lost_deliveries = tree.dest.iter().map(|&(_, via)| u64::from(p.k - alive[via as usize])).sum();
                    let l = &mut shard.counts.losses;
                    l.congestion += lost.congestion;
                    l.random += lost.random;
                    l.dead_link += lost.dead_link;
                    l.emergency_routed += lost.emergency_routed;
                    l.lost_deliveries += lost.lost_deliveries;
                } else {
                    if run.0 != p.sender {
                        count_path(shard, std::mem::replace(&mut run, (p.sender, 0)));
                    }
                    run.1 += k;
                }
            }
            // This shard's targets.
            let (from_pop, from_lo, _) = shared.slice[p.sender as usize];
            let g = (from_lo + p.j) as usize;
            for (&(local, via), &(lo, n)) in dests.iter().zip(dest_rows) {
                let rows_here = usize::from(lo)..usize::from(lo) + usize::from(n);
                let k = if touched { alive[via as usize] } else { p.k };
                if k == 0 {
                    continue;
                }
                let local = local as usize;
                shard.step_work[local].packets += u64::from(k);
                let target = &mut shard.cores[local];
                if target.extension {
                    let (emit, gap) = shared.router.map_or((0, 0), |r| {
                        (p.emit_ps + tree.offset_ps[via as usize] + r.router_ps + r.pipe_ps + r.packet_ps, r.packet_ps)
                    });
                    fwd.push(Packet { sender: shard.ids[local] as u32, j: p.j, k, emit_ps: emit, gap_ps: gap });
                    continue;
                }
                if let Some(tile) = shard.tiles[local].as_mut() {
                    tile.packet(from_pop, g as u32, k);
                }
                let target = &mut shard.cores[local];
                if shard.tiles[local].as_ref().is_some_and(|t| t.computes()) {
                    // The tile computes the input from the step's spikes: they wait for it.
                    let mut events = 0u64;
                    for rows in &target.rows[rows_here] {
                        shard.pending[local].push((rows.proj as u32, g as u32, k));
                        let (a, b) = rows.span(g);
                        let n = (b - a) as u64 * u64::from(k);
                        shard.result.synaptic_events[rows.proj] += n;
                        events += n;
                    }
                    shard.step_work[local].synaptic_events += events;
                    continue;
                }
                for r in rows_here {
                    shard.batch.push(RowWork { core: local as u32, rows: r as u32, g: g as u32, a: 0, b: 0, k });
                }
                if shard.batch.len() >= BATCH {
                    add_rows(shard, ts);
                }
            }
        }
    }
    count_path(shard, run);
    add_rows(shard, ts);
}

/// Rows found before any is read: enough for their memory reads to overlap.
const BATCH: usize = 32;

/// Adds the batch's rows into their cores' inputs (integer sums: the order does not
/// change them) and counts their synaptic events. In three passes, so that the reads
/// of one pass's rows are independent of each other and in flight together: where
/// each row starts, its first synapse, then the rows.
fn add_rows(shard: &mut Shard, ts: usize) {
    let Shard { batch, cores, result, step_work, .. } = shard;
    for w in batch.iter_mut() {
        let rows = &cores[w.core as usize].rows[w.rows as usize];
        let (a, b) = rows.span(w.g as usize);
        (w.a, w.b) = (a as u32, b as u32);
        let n = (b - a) as u64 * u64::from(w.k);
        result.synaptic_events[rows.proj] += n;
        step_work[w.core as usize].synaptic_events += n;
    }
    let mut touch = 0u16;
    for w in batch.iter() {
        let rows = &cores[w.core as usize].rows[w.rows as usize];
        touch = touch.wrapping_add(rows.syn.get(w.a as usize).map_or(0, |s| s.post));
    }
    std::hint::black_box(touch);
    for w in batch.drain(..) {
        let Core { rows, rings, .. } = &mut cores[w.core as usize];
        let rows = &rows[w.rows as usize];
        let ring = &mut rings[rows.receptor];
        let kk = i64::from(w.k);
        let syn = &rows.syn[w.a as usize..w.b as usize];
        match rows.delay {
            Some(d) => {
                let slot = ring.slot(ts + usize::from(d));
                for syn in syn {
                    slot[usize::from(syn.post)] += i64::from(syn.weight) * kk;
                }
            }
            None => {
                for syn in syn {
                    let at = ((ts + usize::from(syn.delay)) & ring.mask) * ring.n + usize::from(syn.post);
                    ring.data[at] += i64::from(syn.weight) * kk;
                }
            }
        }
    }
}
