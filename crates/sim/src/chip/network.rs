//! The network model: router and link queues, drops, the fate of every packet.

use super::*;

/// splitmix64: a hash-based uniform draw, the same on every thread.
pub(super) fn uniform(mut x: u64) -> f64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether copy `c` of packet `p` of `sender` is lost at hop `h` to the random drop
/// rate.
pub(super) fn randomly_lost(shared: &Shared, t: u32, sender: u32, p: &Packet, c: u32, h: usize) -> bool {
    let rate = shared.faults.packet_drop_rate;
    if rate == 0.0 {
        return false;
    }
    let key = shared.seed
        ^ u64::from(t).wrapping_mul(0x2545_f491_4f6c_dd1d)
        ^ u64::from(sender).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
        ^ u64::from(p.j).wrapping_mul(0xc2b2_ae3d_27d4_eb4f).rotate_left(31)
        ^ (u64::from(c) << 48 | h as u64).wrapping_mul(0x1656_67b1_9e37_79f9);
    uniform(key) < rate
}

/// What the network did to a round's packets: the copies dropped for congestion
/// (packet index in the round's whole list, [`Round::gid_at`], copy, hop), the latest delivery and the longest
/// queue wait. Each shard works this out for the routers and links it owns (and the
/// latest delivery for the packets it sent); the shards' results joined are the
/// network's.
#[derive(Clone, Debug, Default)]
pub(super) struct RoundNet {
    pub(super) dropped: Vec<(u32, u32, u32)>,
    pub(super) last_ps: u64,
    pub(super) max_wait_ps: u64,
}

impl RoundNet {
    /// Whether the network dropped a copy of a packet whose index in the round is
    /// in `first..=last` (`dropped` is sorted by index).
    pub(super) fn drops_within(&self, first: u32, last: u32) -> bool {
        self.dropped.get(self.dropped.partition_point(|d| d.0 < first)).is_some_and(|d| d.0 <= last)
    }
}

/// The queues of a round at the routers and links shard `me` owns.
///
/// A round's list holds each sender's packets together; a sender spreads them evenly,
/// so its copies reach a hop as a periodic stream. For every resource (router or
/// link) the pass sums its streams: utilisation U (service time over the streams'
/// periods) and the number M of streams. When U ≤ 1, no packet waits longer than
/// M service times (the worst case of periodic streams released together), so if
/// that is within the drop wait, nothing can be dropped there and the queue is not
/// simulated; its wait is reported as that bound. Every other resource is simulated
/// exactly as a first-in first-out queue over the arrival times (emission plus the
/// fixed latencies of the hops before; waits upstream are not carried downstream,
/// and a copy lost upstream still takes its place in later queues).
/// A resource's queue depends only on the packets through it, so the joined result
/// does not depend on which shard owns which resource.
pub(super) fn network(shared: &Shared, me: u16, round: &Whole, scratch: &mut Load) -> RoundNet {
    let mut out = RoundNet::default();
    let Some(rt) = shared.router else { return out };
    let svc = |r: u32| if (r as usize) < shared.n_chips { rt.router_ps } else { rt.link_ps };
    scratch.reset(shared.n_res);
    // Streams: runs of packets of one sender (a sender's packets are in one part).
    let mut runs = std::mem::take(&mut scratch.runs);
    keep_room(&mut runs);
    for (k, (part, _)) in round.rounds().enumerate() {
        runs.extend(part.run_ranges().map(|(at, run)| (k, at.start, *run)));
    }
    for &(k, a, run) in &runs {
        let (list, b, sender) = (&round.part(k).0.list, run.end as usize, run.sender);
        let tree = &shared.trees[sender as usize];
        if shared.shard_of[sender as usize] == me {
            let last = &list[b - 1];
            let last_emit = last.emit_ps + u64::from(last.k.saturating_sub(1)) * run.gap_ps;
            out.last_ps = out.last_ps.max(last_emit + tree.deliver_ps);
        }
        let own = shared.own_hops(sender, me);
        if own.is_empty() {
            continue;
        }
        // More than one copy: more than one packet, or one of several spikes. (Not
        // summed over the run: the packets are another shard's as often as not, and
        // reading them pulls its list into this core's cache, to be taken back when
        // that shard fills the list again.)
        let periodic = b - a > 1 || list[a].k > 1;
        for &h in own {
            let h = &tree.hops[h as usize];
            if h.res == DEAD {
                continue;
            }
            let r = h.res as usize;
            if scratch.streams[r] == 0 {
                scratch.touched.push(h.res);
            }
            // A stream of one copy has no period: it is a burst of one.
            scratch.util[r] += if periodic { svc(h.res) as f64 / run.gap_ps.max(1) as f64 } else { 0.0 };
            scratch.streams[r] += 1;
        }
    }
    let mut exact = vec![false; 0];
    for &r in &scratch.touched {
        let (c, r) = (svc(r), r as usize);
        let bound = (scratch.streams[r] - 1) * c;
        if scratch.util[r] <= 1.0 && bound <= rt.wait_ps {
            out.max_wait_ps = out.max_wait_ps.max(bound);
        } else {
            if exact.is_empty() {
                exact = vec![false; shared.n_res];
            }
            exact[r] = true;
        }
    }
    if exact.is_empty() {
        scratch.runs = runs;
        return out;
    }
    // Exact queues, arrival by arrival.
    let mut ev = std::mem::take(&mut scratch.ev);
    keep_room(&mut ev);
    for &(k, a, run) in &runs {
        let (part, base) = round.part(k);
        let (list, b) = (&part.list, run.end as usize);
        let tree = &shared.trees[run.sender as usize];
        let own = shared.own_hops(run.sender, me);
        let timed = |h: u32| {
            let res = tree.hops[h as usize].res;
            res != DEAD && exact[res as usize]
        };
        if !own.iter().any(|&h| timed(h)) {
            continue;
        }
        for (i, p) in list.iter().enumerate().take(b).skip(a) {
            for c in 0..p.k {
                let emit = p.emit_ps + u64::from(c) * run.gap_ps;
                for &h in own.iter().filter(|&&h| timed(h)) {
                    let res = tree.hops[h as usize].res;
                    ev.push((res, emit + tree.offset_ps[h as usize], run.sender, p.j, c, h, part.gid_at(i, base)));
                }
            }
        }
    }
    ev.sort_unstable();
    let mut free = 0u64;
    let mut res = u32::MAX;
    for &(r, arrive, _, _, c, h, i) in &ev {
        if r != res {
            res = r;
            free = 0;
        }
        let start = free.max(arrive);
        let wait = start - arrive;
        if wait > rt.wait_ps {
            out.dropped.push((i, c, h));
            continue;
        }
        out.max_wait_ps = out.max_wait_ps.max(wait);
        free = start + svc(r);
    }
    out.dropped.sort_unstable();
    (scratch.runs, scratch.ev) = (runs, ev);
    out
}

/// Per-resource sums of a round's streams (reused between rounds).
#[derive(Debug, Default)]
pub(super) struct Load {
    pub(super) util: Vec<f64>,
    pub(super) streams: Vec<u64>,
    /// The resources with a stream this round (only they are cleared for the next).
    pub(super) touched: Vec<u32>,
    /// The round's runs of one sender's packets, and the arrivals at exactly
    /// simulated queues (kept for their allocations).
    runs: Vec<(usize, usize, Run)>,
    ev: Vec<Arrival>,
}

/// A copy's arrival at an exactly simulated queue: (resource, arrival time, sender,
/// neuron, copy, hop, packet's index in the round).
type Arrival = (u32, u64, u32, u32, u32, u32, u32);

impl Load {
    pub(super) fn reset(&mut self, n: usize) {
        if self.util.len() == n {
            for &r in &self.touched {
                (self.util[r as usize], self.streams[r as usize]) = (0.0, 0);
            }
        } else {
            (self.util, self.streams) = (vec![0.0; n], vec![0; n]);
        }
        self.touched.clear();
    }
}

/// Buffers of [`fate`], reused from packet to packet: copies alive per hop, and
/// whether the current copy got to each hop.
#[derive(Debug, Default)]
pub(super) struct FateScratch {
    pub(super) alive: Vec<u32>,
    pub(super) here: Vec<bool>,
}

/// Works out, copy by copy, how many copies of packet `i` (its index in the round's
/// whole list) of `sender` reach each hop of its tree
/// (into `alive`), counting the copies lost by cause into `lost`.
#[allow(clippy::too_many_arguments)]
pub(super) fn fate(
    shared: &Shared,
    net: &RoundNet,
    t: u32,
    i: usize,
    sender: u32,
    p: &Packet,
    scratch: &mut FateScratch,
    lost: &mut Losses,
) {
    let FateScratch { alive, here } = scratch;
    let tree = &shared.trees[sender as usize];
    alive.clear();
    alive.resize(tree.hops.len(), 0);
    here.clear();
    here.resize(tree.hops.len(), false);
    let d0 = net.dropped.partition_point(|&(x, _, _)| (x as usize) < i);
    for c in 0..p.k {
        for (h, hop) in tree.hops.iter().enumerate() {
            here[h] = false;
            if hop.parent != NONE && !here[hop.parent as usize] {
                continue;
            }
            if hop.res == DEAD {
                lost.dead_link += 1;
                continue;
            }
            if net.dropped[d0..].binary_search(&(i as u32, c, h as u32)).is_ok() {
                lost.congestion += 1;
                continue;
            }
            if hop.res as usize >= shared.n_chips && randomly_lost(shared, t, sender, p, c, h) {
                lost.random += 1;
                continue;
            }
            here[h] = true;
            alive[h] += 1;
            if hop.detour {
                lost.emergency_routed += 1;
            }
        }
    }
}
