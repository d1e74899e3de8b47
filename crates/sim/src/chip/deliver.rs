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
/// sent, and queues the forwards of its delay extensions. A round lists each
/// sender's packets together: a run of them shares its route and its targets here.
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
    let mut path = (0u32, 0u64);
    for (part, base) in round.rounds() {
        let list = &part.list;
        let mut i = 0;
        while i < list.len() {
            let id = list[i].sender;
            let end = i + list[i..].iter().position(|p| p.sender != id).unwrap_or(list.len() - i);
            let packets = i..end;
            i = end;
            let at = id as usize * shared.shards + usize::from(here);
            let (first, last) = (shared.dest_start[at] as usize, shared.dest_start[at + 1] as usize);
            let sender = Sender {
                id,
                tree: &shared.trees[id as usize],
                mine: shared.shard_of[id as usize] == here,
                dests: &shared.dest[first..last],
                dest_rows: &shared.dest_rows[first..last],
            };
            if !sender.mine && sender.dests.is_empty() {
                // Nothing of this run concerns this shard.
                continue;
            }
            // A run's indices in the round increase: none was dropped if none of
            // the network's drops falls between its first and its last.
            let (g0, g1) = (part.gid_at(packets.start, base), part.gid_at(packets.end - 1, base));
            if packets.len() >= LONG_RUN
                && !random
                && !sender.tree.faulty
                && !net.drops_within(g0, g1)
                && sender
                    .dests
                    .iter()
                    .all(|&(c, _)| !shard.cores[c as usize].extension && shard.tiles[c as usize].is_none())
            {
                add_run(shared, shard, &sender, &list[packets], ts, &mut path);
                continue;
            }
            for i in packets {
                let g = part.gid_at(i, base);
                let touched = random || sender.tree.faulty || net.drops_within(g, g);
                deliver_packet(
                    shared,
                    shard,
                    &sender,
                    &list[i],
                    touched.then_some((net, t, g)),
                    ts,
                    scratch,
                    fwd,
                    &mut path,
                );
            }
        }
    }
    count_path(shared, shard, path);
    add_rows(shard, ts);
}

/// A sender's route and its targets in this shard.
struct Sender<'a> {
    id: u32,
    tree: &'a PacketTree,
    /// Whether the sender is this shard's (which counts its packets and their path).
    mine: bool,
    /// Its target cores here (local core, the tree's destination entry), and their
    /// row groups (first, count).
    dests: &'a [(u32, u32)],
    dest_rows: &'a [(u16, u16)],
}

/// Counts `k` copies of `sender`'s packets that nothing touched on its path, with the
/// run of them before (`path`): the path is counted once per run.
fn untouched(shared: &Shared, shard: &mut Shard, path: &mut (u32, u64), sender: u32, k: u64) {
    if path.0 != sender {
        count_path(shared, shard, std::mem::replace(path, (sender, 0)));
    }
    path.1 += k;
}

/// Counts `k` copies of `sender`'s packets on every router and link of its tree.
fn count_path(shared: &Shared, shard: &mut Shard, (sender, k): (u32, u64)) {
    if k > 0 {
        let tree = &shared.trees[sender as usize];
        tree.hops.iter().for_each(|h| shard.res_count[h.res as usize] += k);
        shard.step_passes += k * u64::from(tree.routers);
    }
}

/// Delivers one packet `p` of `sender` to this shard's targets; `touched` gives what
/// works out its fate (the round's network, the step and the packet's index in the
/// round) when the network or a fault may have dropped some of its copies.
#[allow(clippy::too_many_arguments)]
fn deliver_packet(
    shared: &Shared,
    shard: &mut Shard,
    sender: &Sender,
    p: &Packet,
    touched: Option<(&RoundNet, u32, u32)>,
    ts: usize,
    scratch: &mut FateScratch,
    fwd: &mut Vec<Packet>,
    path: &mut (u32, u64),
) {
    let tree = sender.tree;
    let mut lost = Losses::default();
    if let Some((net, t, g)) = touched {
        fate(shared, net, t, g as usize, p, scratch, &mut lost);
    }
    let alive = &scratch.alive;
    // The sender's shard counts the packet and its path.
    if sender.mine {
        let k = u64::from(p.k);
        shard.counts.packets_sent += k;
        if touched.is_some() {
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
            untouched(shared, shard, path, p.sender, k);
        }
    }
    // This shard's targets.
    let (from_pop, from_lo, _) = shared.slice[p.sender as usize];
    let g = (from_lo + p.j) as usize;
    for (&(local, via), &(lo, n)) in sender.dests.iter().zip(sender.dest_rows) {
        let rows_here = usize::from(lo)..usize::from(lo) + usize::from(n);
        let k = if touched.is_some() { alive[via as usize] } else { p.k };
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

/// Rows found before any is read: enough for their memory reads to overlap.
const BATCH: usize = 32;

/// A sender's run of at least this many packets reads each target row group's index
/// in increasing order of neuron, which the caches see coming: its rows are added
/// packet after packet ([`add_run`]), without a batch.
const LONG_RUN: usize = 16;

/// Adds the rows of a long run of one sender's packets, `run`, none lost or forwarded
/// and none for a tile, into this shard's target cores, and counts the packets and
/// synaptic events. Rows whose synapses share a delay are added at once; the others
/// go through the batch.
fn add_run(shared: &Shared, shard: &mut Shard, sender: &Sender, run: &[Packet], ts: usize, path: &mut (u32, u64)) {
    let run_k: u64 = run.iter().map(|p| u64::from(p.k)).sum();
    if sender.mine {
        shard.counts.packets_sent += run_k;
        untouched(shared, shard, path, sender.id, run_k);
    }
    let (dests, dest_rows) = (sender.dests, sender.dest_rows);
    let from_lo = shared.slice[sender.id as usize].1 as usize;
    for (&(local, _), &(lo, n)) in dests.iter().zip(dest_rows) {
        let local = local as usize;
        shard.step_work[local].packets += run_k;
        for r in usize::from(lo)..usize::from(lo) + usize::from(n) {
            let Core { rows, rings, queued, .. } = &mut shard.cores[local];
            let rows = &rows[r];
            if let Some(at) = *queued {
                let at = at[rows.receptor];
                let mut events = 0u64;
                for p in run {
                    let (a, b) = rows.span(from_lo + p.j as usize);
                    events += (b - a) as u64 * u64::from(p.k);
                    shard.due.queue(at, &rows.syn[a..b], ts, p.k);
                }
                shard.result.synaptic_events[rows.proj] += events;
                shard.step_work[local].synaptic_events += events;
                continue;
            }
            let Some(d) = rows.delay else {
                for p in run {
                    let g = (from_lo + p.j as usize) as u32;
                    shard.batch.push(RowWork { core: local as u32, rows: r as u32, g, a: 0, b: 0, k: p.k });
                    if shard.batch.len() >= BATCH {
                        add_rows(shard, ts);
                    }
                }
                continue;
            };
            let slot = rings[rows.receptor].slot(ts + usize::from(d));
            let mut events = 0u64;
            for p in run {
                let (a, b) = rows.span(from_lo + p.j as usize);
                events += (b - a) as u64 * u64::from(p.k);
                add_into(slot, &rows.syn[a..b], p.k);
            }
            shard.result.synaptic_events[rows.proj] += events;
            shard.step_work[local].synaptic_events += events;
        }
    }
}

/// Adds `k` spikes through synapses `syn`, which share one delay, into that step's
/// `slot` of their ring.
#[inline]
fn add_into(slot: &mut [i64], syn: &[Syn], k: u32) {
    let k = i64::from(k);
    for &(post, weight, _) in syn {
        slot[usize::from(post)] += i64::from(weight) * k;
    }
}

/// Adds the batch's rows into their cores' inputs (integer sums: the order does not
/// change them) and counts their synaptic events. In four passes, so that the reads
/// of one pass's rows are independent of each other and in flight together: each
/// row's entry in a dense index, its span, every line of its synapses (read and
/// dropped, so that they are in cache), then the adds.
fn add_rows(shard: &mut Shard, ts: usize) {
    let Shard { batch, cores, result, step_work, due, .. } = shard;
    let mut touch = 0u32;
    for w in batch.iter() {
        let rows = &cores[w.core as usize].rows[w.rows as usize];
        if let Some(start) = rows.dense_at(w.g as usize).and_then(|i| rows.start.get(i)) {
            touch = touch.wrapping_add(*start);
        }
    }
    for w in batch.iter_mut() {
        let rows = &cores[w.core as usize].rows[w.rows as usize];
        let (a, b) = rows.span(w.g as usize);
        (w.a, w.b) = (a as u32, b as u32);
        let n = (b - a) as u64 * u64::from(w.k);
        result.synaptic_events[rows.proj] += n;
        step_work[w.core as usize].synaptic_events += n;
    }
    for w in batch.iter() {
        let rows = &cores[w.core as usize].rows[w.rows as usize];
        let syn = &rows.syn[w.a as usize..w.b as usize];
        // A synapse in every 60 bytes (10 of 6 bytes: one in each 64-byte line or
        // the next), up to 8, and the last.
        for s in syn.iter().step_by(10).take(8) {
            touch = touch.wrapping_add(u32::from(s.0));
        }
        if let Some(s) = syn.last() {
            touch = touch.wrapping_add(u32::from(s.0));
        }
    }
    std::hint::black_box(touch);
    for w in batch.drain(..) {
        let Core { rows, rings, queued, .. } = &mut cores[w.core as usize];
        let rows = &rows[w.rows as usize];
        let syn = &rows.syn[w.a as usize..w.b as usize];
        if let Some(at) = *queued {
            due.queue(at[rows.receptor], syn, ts, w.k);
            continue;
        }
        let ring = &mut rings[rows.receptor];
        let kk = i64::from(w.k);
        match rows.delay {
            Some(d) => add_into(ring.slot(ts + usize::from(d)), syn, w.k),
            None => {
                for &(post, weight, delay) in syn {
                    let at = ((ts + usize::from(delay)) & ring.mask) * ring.n + usize::from(post);
                    ring.data[at] += i64::from(weight) * kk;
                }
            }
        }
    }
}
