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
    fwd: &mut Packets,
) {
    let here = shard.id;
    let random = shared.faults.packet_drop_rate > 0.0;
    let tiles = shard.tiles.iter().any(Option::is_some);
    // A sender of this shard and the copies of its packets that nothing touched, not
    // yet counted on its path: counted once per run of its packets, not per packet.
    let mut path = (0u32, 0u64);
    for (part, base) in round.rounds() {
        let list = &part.list;
        for (packets, &Run { sender: id, .. }) in part.run_ranges() {
            let at = id as usize * shared.shards + usize::from(here);
            let (first, last) = (shared.dest_start[at] as usize, shared.dest_start[at + 1] as usize);
            let sender = Sender {
                id,
                tree: &shared.trees[id as usize],
                mine: shared.shard_of[id as usize] == here,
                dests: &shared.dest[first..last],
                dest_rows: &shared.dest_rows[first..last],
                block: shard.block_of[id as usize],
                tiles,
            };
            if !sender.mine && sender.dests.is_empty() {
                // Nothing of this run concerns this shard.
                continue;
            }
            // A run's indices in the round increase: none was dropped if none of
            // the network's drops falls between its first and its last.
            let (g0, g1) = (part.gid_at(packets.start, base), part.gid_at(packets.end - 1, base));
            if packets.len() > 1
                && !random
                && !sender.tree.faulty
                && !tiles
                && !net.drops_within(g0, g1)
                && sender.dests.iter().all(|&(c, _)| !shard.cores[c as usize].extension)
            {
                deliver_run(shared, shard, &sender, &list[packets], ts, &mut path);
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
}

/// A sender's route and its targets in this shard.
struct Sender<'a> {
    /// Its slice.
    id: u32,
    tree: &'a PacketTree,
    /// Whether the sender is this shard's (which counts its packets and their path).
    mine: bool,
    /// Its target cores here (local core, the tree's destination entry), and their
    /// row groups (first, count), which tell a hybrid chip's tiles what they take.
    dests: &'a [(u32, u32)],
    dest_rows: &'a [(u16, u16)],
    /// Its synapses here: its [`Block`]'s index in the shard (`u32::MAX`: none).
    block: u32,
    /// Whether the shard has a hybrid chip's tiles.
    tiles: bool,
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
    fwd: &mut Packets,
    path: &mut (u32, u64),
) {
    let tree = sender.tree;
    let mut lost = Losses::default();
    if let Some((net, t, g)) = touched {
        fate(shared, net, t, g as usize, sender.id, p, scratch, &mut lost);
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
            untouched(shared, shard, path, sender.id, k);
        }
    }
    // This shard's targets: per destination core, the packets it takes.
    let (from_pop, from_lo, _) = shared.slice[sender.id as usize];
    let g = (from_lo + p.j) as usize;
    shard.reached.clear();
    for (&(local, via), &(lo, n)) in sender.dests.iter().zip(sender.dest_rows) {
        let k = if touched.is_some() { alive[via as usize] } else { p.k };
        if touched.is_some() {
            shard.reached.push(k);
        }
        if k == 0 {
            continue;
        }
        let local = local as usize;
        shard.step_work[local].packets += u64::from(k);
        if shard.cores[local].extension {
            let (emit, gap) = shared.router.map_or((0, 0), |r| {
                (p.emit_ps + tree.offset_ps[via as usize] + r.router_ps + r.pipe_ps + r.packet_ps, r.packet_ps)
            });
            fwd.push(shard.ids[local] as u32, gap, Packet { j: p.j, k, emit_ps: emit });
            continue;
        }
        if let Some(tile) = shard.tiles[local].as_mut() {
            tile.packet(from_pop, g as u32, k);
            if tile.computes() {
                // The tile computes the input from the step's spikes: they wait for
                // it (its synaptic events are counted below).
                let rows = &shard.cores[local].rows[usize::from(lo)..usize::from(lo) + usize::from(n)];
                shard.pending[local].extend(rows.iter().map(|r| (r.proj as u32, g as u32, k)));
            }
        }
    }
    if sender.block == u32::MAX {
        return;
    }
    let Shard { blocks, reached, cores, tiles, result, step_work, due, .. } = shard;
    let tiles = sender.tiles.then_some(&tiles[..]);
    let into = Inputs { cores, result, step_work, due, tiles };
    match touched {
        Some(_) => add_packets(into, &blocks[sender.block as usize], std::slice::from_ref(p), ts, |_, seg| {
            reached[seg.dest as usize]
        }),
        None => add_packets(into, &blocks[sender.block as usize], std::slice::from_ref(p), ts, |p, _| p.k),
    }
}

/// Delivers a run of `sender`'s packets that nothing touched (no drop, fault or
/// forward, and no tile on this shard): their counts once per destination, then each
/// packet's synapses.
fn deliver_run(shared: &Shared, shard: &mut Shard, sender: &Sender, run: &[Packet], ts: usize, path: &mut (u32, u64)) {
    let run_k: u64 = run.iter().map(|p| u64::from(p.k)).sum();
    if sender.mine {
        shard.counts.packets_sent += run_k;
        untouched(shared, shard, path, sender.id, run_k);
    }
    for &(local, _) in sender.dests {
        shard.step_work[local as usize].packets += run_k;
    }
    if sender.block == u32::MAX {
        return;
    }
    let Shard { blocks, cores, result, step_work, due, .. } = shard;
    let into = Inputs { cores, result, step_work, due, tiles: None };
    add_packets(into, &blocks[sender.block as usize], run, ts, |p, _| p.k);
}

/// Where a packet's synapses go: the shard's cores and counts, and its tiles when it
/// has any (a computing tile's core takes no input here).
struct Inputs<'a> {
    cores: &'a mut [Core],
    result: &'a mut RunResult,
    step_work: &'a mut [CoreWork],
    due: &'a mut Due,
    tiles: Option<&'a [Option<Box<dyn TileCounter>>]>,
}

/// Adds the synapses in `block` of each packet's neuron into their cores' inputs,
/// `k(packet, seg)` spikes through each seg (none when 0), and counts their synaptic
/// events. Where entries in a row go through one seg (all of a one-to-one source's
/// packets do), the seg's inputs are found once ([`Target::of`]) and its synaptic
/// events counted once.
#[inline]
fn add_packets(into: Inputs, block: &Block, packets: &[Packet], ts: usize, k: impl Fn(&Packet, &Seg) -> u32) {
    let Inputs { cores, result, step_work, due, tiles } = into;
    // The seg being added through, its synaptic events so far, where its inputs go.
    let mut cur: Option<(u32, u64, Target)> = None;
    let count = |cur: Option<(u32, u64, Target)>, result: &mut RunResult, step_work: &mut [CoreWork]| {
        if let Some((s, events, _)) = cur {
            let seg = &block.segs[s as usize];
            result.synaptic_events[seg.proj as usize] += events;
            step_work[seg.core as usize].synaptic_events += events;
        }
    };
    for p in packets {
        let (entries, mut a) = block.of(p.j as usize);
        for &(s, end) in entries {
            let range = a..end as usize;
            a = end as usize;
            let seg = &block.segs[s as usize];
            let k = k(p, seg);
            if k == 0 {
                continue;
            }
            let events = range.len() as u64 * u64::from(k);
            let target = match &mut cur {
                Some((at, sum, target)) if *at == s => {
                    *sum += events;
                    *target
                }
                _ => {
                    count(cur.take(), result, step_work);
                    let target = Target::of(cores, due, tiles, seg, ts);
                    cur = Some((s, events, target));
                    target
                }
            };
            target.add(cores, due, &block.syn[range.clone()], block.delays(seg, range), ts, k);
        }
    }
    count(cur, result, step_work);
}

/// Where the inputs through one seg go in a step, found once for the seg
/// ([`Target::of`]).
#[derive(Clone, Copy)]
enum Target {
    /// Straight into [`Due::now`] from here on (the seg's one delay makes them due in
    /// the next step to drain, [`Due::is_next`]).
    Now(usize),
    /// Into the [`Due`] lists of their steps, the receptor's inputs starting here in
    /// `now`.
    Queue(u32),
    /// Into one step's slot of a core's receptor's ring (the seg's one delay).
    Slot { core: u32, receptor: u8, step: usize },
    /// Into a core's receptor's ring, each synapse at its own delay.
    Ring { core: u32, receptor: u8 },
    /// Nowhere: a hybrid chip's tile computes the core's input itself.
    Tile,
}

impl Target {
    /// Where the inputs through `seg`, delivered at step `ts`, go: its core's lists
    /// of inputs due ([`Due`]) when the core queues them, else its ring buffer (or
    /// nowhere when the core's tile computes its input).
    #[inline]
    fn of(cores: &[Core], due: &Due, tiles: Option<&[Option<Box<dyn TileCounter>>]>, seg: &Seg, ts: usize) -> Target {
        let (receptor, local) = (seg.receptor, seg.core as usize);
        if tiles.is_some_and(|t| t[local].as_ref().is_some_and(|t| t.computes())) {
            return Target::Tile;
        }
        match (cores[local].queued, seg.delay()) {
            (Some(at), Some(d)) if due.is_next(ts + usize::from(d)) => Target::Now(at[usize::from(receptor)] as usize),
            (Some(at), _) => Target::Queue(at[usize::from(receptor)]),
            (None, Some(d)) => Target::Slot { core: seg.core, receptor, step: ts + usize::from(d) },
            (None, None) => Target::Ring { core: seg.core, receptor },
        }
    }

    /// Adds `k` spikes through synapses `syn` of delays `delays`, delivered at step
    /// `ts` (`Now` and `Slot` are of one delay, the seg's).
    #[inline(always)]
    fn add(self, cores: &mut [Core], due: &mut Due, syn: &[Syn], delays: Delays, ts: usize, k: u32) {
        match self {
            Target::Now(at) => add_into(&mut due.now[at..], syn, k),
            Target::Queue(at) => due.queue(at, syn, delays, ts, k),
            Target::Slot { core, receptor, step } => {
                add_into(cores[core as usize].rings[usize::from(receptor)].slot(step), syn, k)
            }
            Target::Ring { core, receptor } => {
                let ring = &mut cores[core as usize].rings[usize::from(receptor)];
                match delays {
                    Delays::One(d) => add_into(ring.slot(ts + usize::from(d)), syn, k),
                    Delays::Each(delays) => add_delayed(ring, syn, delays, ts, k),
                }
            }
            Target::Tile => {}
        }
    }
}

/// Adds `k` spikes through synapses `syn`, delivered at step `ts`, into `ring`, each
/// at its own delay (`delays`, one per synapse).
#[inline(never)]
fn add_delayed(ring: &mut Ring<i64>, syn: &[Syn], delays: &[u16], ts: usize, k: u32) {
    let k = i64::from(k);
    for (&(post, weight), &delay) in syn.iter().zip(delays) {
        let at = ((ts + usize::from(delay)) & ring.mask) * ring.n + usize::from(post);
        ring.data[at] += i64::from(weight) * k;
    }
}

/// Adds `k` spikes through synapses `syn`, which share one delay, into that step's
/// `slot` of their inputs (a ring's, or [`Due::now`]).
#[inline]
pub(super) fn add_into(slot: &mut [i64], syn: &[Syn], k: u32) {
    let k = i64::from(k);
    for &(post, weight) in syn {
        slot[usize::from(post)] += i64::from(weight) * k;
    }
}
