//! The chip simulator of the `arm-core` family: the *mapped* network, core by core, in
//! the chip's number formats, with every spike travelling as a multicast packet
//! through the compiled (compressed) routing tables, its routers and its links.
//!
//! Each core holds the state of its slice (the same kernels as the quantised
//! functional model, [`crate::Quantised`]), its own input ring buffers, and its
//! synaptic rows: the synapses of each incoming projection whose target is on the
//! core. A spike becomes a packet with the slice's key. Its path is a tree of hops
//! (routers and links) found by following the key through the tables, with the
//! default route where no entry matches ([`PacketTree`]). A receiving core adds the
//! row of the sending neuron into its ring buffer. A delay-extension core forwards the
//! packets of its slice, and the receiving cores take the long-delay synapses from
//! those forwarded packets. The simulator keeps the rows of all of a shard's cores
//! by sender ([`Block`]): one neuron's rows on every core of the shard lie together,
//! which changes where they are in the host's memory, not what a core holds.
//!
//! **Engine.** The cores are split into shards of similar work: `threads` in this
//! process, and as many in each other process of a distributed run (MPI ranks,
//! [`Peers`]), which builds only its own shards' cores. A timestep runs in *levels*
//! (populations joined by zero-delay projections need their senders' spikes in the
//! same step; a network without them has one level) and each level in *rounds* (a
//! delay extension's forwards are a second round). In a round, every shard updates
//! its cores, and the shards exchange their packets (`fabric`: channels between
//! threads, an all-to-all between processes); receiving them all is the barrier.
//! Every shard then knows every packet of the round. Each works out the queues of the
//! routers and links it owns (the network model below), the shards exchange those
//! results, and every shard delivers to its own cores with the same fates. Inputs are
//! summed exactly (integer accumulators), so the order of delivery cannot change a
//! spike: results are identical for any number of threads and processes.
//!
//! An exchange is posted and later collected (`Fabric::post`, `Fabric::collect`).
//! When no synapse's delay is shorter than 2 steps ([`Shared::ahead`]), a step's
//! deliveries reach only the inputs of later steps than the next, so in the step's
//! last round a shard updates its cores for the next step, and posts their packets,
//! between posting its network results and collecting the others': a shard that
//! finishes first works on instead of waiting. The next step's update work is
//! counted apart (`Shard::next_work`), so every step's cycles are its own. Between
//! processes, the network results then travel with the next step's packets, in one
//! collective (`Fabric::collect_net`): the processes meet once a step.
//!
//! **Network model** (when the model gives router and link timing). A core spreads
//! the packets of a step evenly over the tick, as sPyNNaker's TDMA spacing does, with
//! the cores of a chip staggered by their number; a delay extension forwards a packet
//! when it has taken it (one packet's cycles after its arrival). Each router and
//! each link is a first-in first-out server (one packet per router cycle; one packet
//! per `link_packet_s` on a link) and a packet hop costs the router's pipeline
//! latency. Per round, each server sums its packet streams; where no packet can wait
//! longer than `drop_wait_cycles` (a bound for periodic streams, in `network`) its
//! queue is not simulated, and every other queue is simulated exactly in arrival
//! order. A packet that would wait longer is dropped there, with everything downstream
//! of that hop. Dropped packets, and the deliveries they cost, are counted by cause.
//! A run stops early, cleanly, when the step callback asks (the request travels with
//! the next round's packets, so every thread stops after the same step).
//!
//! **Run-time faults** ([`RunFaults`]): a seeded probability of losing a packet on
//! each link crossing (the draw is a hash of seed, step, sender, neuron, copy and hop,
//! so it does not depend on the threads), and links that die during the run. A packet
//! meant for a dead link takes SpiNNaker's emergency route on a hexagonal machine (the
//! two other sides of the triangle: the next link anticlockwise, then the one
//! clockwise of the original) when both of those links work; otherwise it is lost.
//!
//! **Invariant: mapping never changes behaviour.** Without faults and drops, the
//! spikes are bit-identical to the quantised functional model's for every mapping,
//! placement, thread count and order of packet arrival. `tests/chip.rs` checks this
//! on every example and on random networks; `neuromap run` checks every run.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use neuromap_compile::Mapping;
use neuromap_compile::partition::SliceKind;
use neuromap_hw::{ChipId, HwModel, Machine, Topology};
use neuromap_ir::{Network, PopId};
use rayon::prelude::*;
use serde::Serialize;

use crate::arith::{Arith, S1615};
use crate::reference::{PopState, Ring, receptor_index};
use crate::{Options, RunResult, SpikeRecord};

mod cores;
mod counts;
mod deliver;
mod due;
mod fabric;
mod merge;
mod network;
mod step;
mod tree;

use cores::*;
pub use counts::*;
use deliver::*;
use due::*;
use fabric::*;
pub use fabric::{InProcessRanks, Peers, Ranks, all_to_all_by_gather};
use merge::*;
use network::*;
use step::*;
pub use tree::PacketTree;
use tree::*;

/// A spike on the way: `k` copies of the packet of neuron `j` of its [`Run`]'s
/// sender slice, the first emitted `emit_ps` after the tick, the next ones the run's
/// `gap_ps` apart. 16 bytes: what all packets of a run share is in the run.
#[derive(Clone, Copy, Debug)]
struct Packet {
    j: u32,
    k: u32,
    emit_ps: u64,
}

/// Packets of one sender next to each other in a round's list, up to `end` (the
/// run before it ends where it begins), with the gap between their copies: a core
/// spreads a step's packets evenly ([`Packets::push`] makes each run as long as it
/// goes).
#[derive(Clone, Copy, Debug)]
struct Run {
    sender: u32,
    end: u32,
    gap_ps: u64,
}

/// A shard's packets of a round, with their runs.
#[derive(Debug, Default)]
struct Packets {
    list: Vec<Packet>,
    runs: Vec<Run>,
}

impl Packets {
    /// Appends packet `p` of `sender`, whose copies go `gap_ps` apart: to the last
    /// run when that is the sender's.
    #[inline]
    fn push(&mut self, sender: u32, gap_ps: u64, p: Packet) {
        self.list.push(p);
        let end = self.list.len() as u32;
        match self.runs.last_mut() {
            Some(r) if r.sender == sender && r.gap_ps == gap_ps => r.end = end,
            _ => self.runs.push(Run { sender, end, gap_ps }),
        }
    }
}

/// Everything read-only that every shard shares.
struct Shared<'a> {
    net: &'a Network,
    trees: Vec<PacketTree>,
    /// Per slice: population, first neuron, delay extension.
    slice: Vec<(PopId, u32, bool)>,
    /// Per slice: its shard, its index there, and (per sender) the shards it sends to.
    shard_of: Vec<u16>,
    local_of: Vec<u32>,
    /// Sender `s`'s destinations on shard `h` (local core, hop it leaves the tree
    /// at) are `dest[dest_start[s × shards + h]..dest_start[s × shards + h + 1]]`.
    dest_start: Vec<u32>,
    dest: Vec<(u32, u32)>,
    /// Per entry of `dest` on this process's shards: the sender's row groups in the
    /// target core's rows, `rows[lo..lo + n]` as `(lo, n)` (a core's rows are in
    /// order of [`Core::row_key`]), so that a packet does not search for them.
    dest_rows: Vec<(u16, u16)>,
    /// The hops of sender `s`'s tree at the routers and links shard `h` owns (its
    /// region: [`own_chips`]) are
    /// `own[own_start[s × shards + h]..own_start[s × shards + h + 1]]`.
    own_start: Vec<u32>,
    own: Vec<u32>,
    shards: usize,
    /// Under MPI, the processes (other than the sender's) that sender `s`'s packets
    /// concern, by a core they reach or a router or link they pass:
    /// `ranks[rank_start[s]..rank_start[s + 1]]`. Only they receive them.
    rank_start: Vec<u32>,
    ranks: Vec<u16>,
    /// Per slice: its core's number on the chip over the cores per chip (in [0, 1)).
    phase: Vec<f64>,
    tick_ps: u64,
    /// Per slice: its packets can reach a delay extension (a further round).
    feeds_extension: Vec<bool>,
    /// Per slice: the core's population level (zero-delay depth); extensions: NONE.
    level: Vec<u32>,
    levels: u32,
    /// Every synapse's delay is at least 2 steps, and there is one level and no
    /// hybrid chip's tile: step t's deliveries reach only inputs of step t + 2 or later,
    /// so a shard updates its cores for step t + 1 while the others finish step t
    /// ([`step::run_shard`]).
    ahead: bool,
    /// Resource service time and hop latency (ps), drop wait (ps), when timed.
    router: Option<RouterPs>,
    n_res: usize,
    n_chips: usize,
    nl: usize,
    faults: RunFaults,
    seed: u64,
    cost: Option<CycleCost>,
    budget_cycles: f64,
    /// Per performance level, slowest first: its clock (Hz) and the cycles that fit in
    /// one tick.
    level_hz: Vec<f64>,
    level_budget: Vec<f64>,
    record_sources: bool,
}

impl Shared<'_> {
    /// The hops of `sender`'s tree at the routers and links shard `me` owns.
    fn own_hops(&self, sender: u32, me: u16) -> &[u32] {
        let at = sender as usize * self.shards + usize::from(me);
        &self.own[self.own_start[at] as usize..self.own_start[at + 1] as usize]
    }

    /// The other processes `sender`'s packets concern (see `ranks`).
    fn ranks_of(&self, sender: u32) -> &[u16] {
        let s = sender as usize;
        &self.ranks[self.rank_start[s] as usize..self.rank_start[s + 1] as usize]
    }
}

#[derive(Clone, Copy, Debug)]
struct RouterPs {
    router_ps: u64,
    link_ps: u64,
    pipe_ps: u64,
    wait_ps: u64,
    packet_ps: u64,
}

/// Per chip, the shard that models its router and links. A chip with cores stays in
/// the process of its first core (over ranks, whole chips are a process's when they
/// balance: [`assign`]). Among that process's threads its chips go heaviest first to
/// the thread with least: a chip's weight is the hops of every sender's tree at its
/// router and links (the network model's work on it in a round where every sender
/// sends). The network is modelled between the cores' update and their delivery, so
/// it is balanced on its own, as the cores' two classes of work are. Chips with no
/// core are spread over the shards in blocks of their index. Which shard models a
/// queue changes only the time a run takes: a queue depends only on the packets
/// through it.
fn own_chips(
    shared: &Shared,
    core_of: &[(ChipId, u32)],
    n_chips: usize,
    threads: usize,
    chip_of_res: &dyn Fn(u32) -> usize,
) -> Vec<u16> {
    let shards = shared.shards;
    let mut owner: Vec<u16> = (0..n_chips).map(|c| (c * shards / n_chips.max(1)) as u16).collect();
    let mut first = vec![None; n_chips];
    for (s, &(chip, _)) in core_of.iter().enumerate().rev() {
        first[chip.index()] = Some(usize::from(shared.shard_of[s]));
    }
    let mut hops = vec![0u64; n_chips];
    for t in &shared.trees {
        t.hops.iter().filter(|h| h.res != DEAD).for_each(|h| hops[chip_of_res(h.res)] += 1);
    }
    let mut order: Vec<(usize, usize)> = first.iter().enumerate().filter_map(|(c, f)| Some((c, (*f)?))).collect();
    order.sort_by_key(|&(c, _)| (std::cmp::Reverse(hops[c]), c));
    let mut load = vec![0u64; shards];
    for (c, shard) in order {
        let rank = shard / threads;
        let s = (rank * threads..(rank + 1) * threads).min_by_key(|&s| (load[s], s)).unwrap_or(shard);
        load[s] += hops[c];
        owner[c] = s as u16;
    }
    owner
}

/// Bytes the chip simulator allocates for `net` mapped by `mapping`, beyond the
/// network itself: every synapse again in its sender's blocks (4 or 6 bytes), their index
/// (an entry per presynaptic neuron and target core it has synapses on, bounded here
/// by the core's share of the projection's synapses, for direct and for delayed
/// packets when the projection has both; a seg per sender and target core; a start
/// per presynaptic neuron and kind of packet), the state and ring buffers of the
/// reference engine's estimate, what the lists of inputs due in later steps may hold
/// beyond that
/// ([`Due::bytes_beyond_rings`]), and the packets' routes ([`route_bytes`]); checked
/// before a run.
pub fn memory_estimate(net: &Network, mapping: &Mapping) -> f64 {
    let part = &mapping.partition;
    let max_delay = mapping.hw.max_delay_steps;
    let slices_of = |pop: PopId| {
        part.slices.iter().filter(move |s| s.pop == pop && !matches!(s.kind, SliceKind::DelayExtension { .. }))
    };
    let mut index = 0usize;
    for p in net.projections() {
        let post = net.pop(p.post);
        if post.is_source() || p.synapses.is_empty() {
            continue;
        }
        // Each core of the target population, with its share of the synapses.
        let kinds = if u32::from(p.synapses.max_delay()) > max_delay { 2 } else { 1 };
        let (n_pre, total) = (p.synapses.n_pre(), p.synapses.len());
        let senders = slices_of(p.pre).count();
        index += slices_of(p.post)
            .map(|s| {
                let n = (total as u64 * u64::from(s.len())).div_ceil(u64::from(post.size.max(1))) as usize;
                kinds * (n.min(n_pre) * std::mem::size_of::<(u32, u32)>() + senders * std::mem::size_of::<cores::Seg>())
            })
            .sum::<usize>();
    }
    // A block's start per presynaptic neuron, for each sender (a slice, and its delay
    // extension) whose population has synapses.
    for id in net.pop_ids() {
        let outgoing = net.outgoing(id).iter().map(|&q| net.proj(q)).filter(|p| !p.synapses.is_empty());
        let kinds = outgoing.map(|p| if u32::from(p.synapses.max_delay()) > max_delay { 2 } else { 1 }).max();
        index += kinds.unwrap_or(0) * 4 * (net.pop(id).size as usize + slices_of(id).count());
    }
    // The cores of a population with synapses of their own delays may queue their
    // inputs: lists beside a ring of the reference's size, which it counts.
    let due: f64 = net
        .pop_ids()
        .filter(|&id| {
            net.incoming(id).iter().any(|&q| net.proj(q).synapses.min_delay() < net.proj(q).synapses.max_delay())
        })
        .map(|id| {
            let slots = (usize::from(net.max_delay_into(id)) + 1).next_power_of_two();
            Due::bytes_beyond_rings(2 * net.pop(id).size as usize, slots)
        })
        .sum();
    // A synapse takes 4 bytes in its block, and 2 more for its delay where the block
    // keeps one per synapse: where some projection out of its population has more than
    // one delay.
    let syn_bytes: f64 = net
        .pop_ids()
        .map(|id| {
            let out = || net.outgoing(id).iter().map(|&q| &net.proj(q).synapses);
            let each = out().any(cores::delays_apart);
            out().map(|s| s.len() as f64).sum::<f64>() * if each { 6.0 } else { 4.0 }
        })
        .sum();
    syn_bytes + index as f64 + due + crate::memory_estimate(net) + route_bytes(mapping)
}

/// Bytes of the packets' routes, which every process holds whole: per sender, its
/// tree's hops (a router or link, its parent and its time from emission, 20 bytes)
/// and its destination cores (20 bytes each: the tree's entry, the destination
/// table's entry and its row range). A network whose every slice reaches every core
/// needs senders × cores of them.
pub fn route_bytes(mapping: &Mapping) -> f64 {
    let (hops, dests) = mapping.trees.iter().fold((0usize, 0usize), |(h, d), (_, t)| {
        t.chips
            .values()
            .fold((h, d), |(h, d), (r, _)| (h + 1 + r.links.count_ones() as usize, d + r.cores.count_ones()))
    });
    20.0 * (hops + dests) as f64
}

/// Bytes one of `ranks` processes of a distributed run allocates ([`memory_estimate`]
/// with the synaptic rows and row starts split evenly over the processes: each
/// builds only the cores of its shards; the routes and the reference engine's state
/// are whole in each).
pub fn memory_estimate_of_rank(net: &Network, mapping: &Mapping, ranks: usize) -> f64 {
    let own = crate::memory_estimate(net) + route_bytes(mapping);
    (memory_estimate(net, mapping) - own) / ranks.max(1) as f64 + own
}

/// Per tree and shard, the items `items(tree)` gives for that shard, in their order:
/// `(starts, items)` with tree `s`'s items for shard `h` at
/// `items[starts[s × shards + h]..starts[s × shards + h + 1]]`; `None` past 2³² items.
fn by_shard<T>(
    trees: &[PacketTree],
    shards: usize,
    items: impl Fn(&PacketTree) -> Vec<(u16, T)>,
) -> Option<(Vec<u32>, Vec<T>)> {
    let (mut starts, mut out) = (Vec::with_capacity(trees.len() * shards + 1), Vec::new());
    starts.push(0u32);
    for t in trees {
        let mut these = items(t);
        these.sort_by_key(|x| x.0);
        let mut these = these.into_iter().peekable();
        for h in 0..shards {
            while let Some((_, x)) = these.next_if(|x| usize::from(x.0) == h) {
                out.push(x);
            }
            starts.push(u32::try_from(out.len()).ok()?);
        }
    }
    Some((starts, out))
}

/// [`Shared::dest_rows`] for the entries of this process's `shards` (their cores'
/// rows in key order); other entries `(0, 0)`.
fn dest_rows(shared: &Shared, shards: &[Shard]) -> Result<Vec<(u16, u16)>, String> {
    if let Some(c) = shards.iter().flat_map(|h| &h.cores).find(|c| c.rows.len() > usize::from(u16::MAX)) {
        return Err(format!(
            "a core of `{}` holds {} row groups; the chip simulator indexes at most {}",
            shared.net.pop(c.pop).name,
            c.rows.len(),
            u16::MAX
        ));
    }
    let mut out = vec![(0u16, 0u16); shared.dest.len()];
    for (s, &(pop, _, delayed)) in shared.slice.iter().enumerate() {
        let key = Core::row_key(pop, delayed);
        for shard in shards {
            let at = s * shared.shards + usize::from(shard.id);
            let entries = shared.dest_start[at] as usize..shared.dest_start[at + 1] as usize;
            for (rows, &(local, _)) in out[entries.clone()].iter_mut().zip(&shared.dest[entries]) {
                let keys = &shard.cores[local as usize].row_keys;
                let lo = keys.partition_point(|&k| k < key);
                let n = keys[lo..].partition_point(|&k| k == key);
                // Within u16: a core has at most u16::MAX rows (checked above).
                *rows = (lo as u16, n as u16);
            }
        }
    }
    Ok(out)
}

/// Simulates `steps` timesteps of `net` as mapped by `mapping` onto `model`.
pub fn simulate_chip(
    net: &Network,
    model: &HwModel,
    mapping: &Mapping,
    steps: u32,
    options: Options,
) -> Result<ChipRun, String> {
    simulate_chip_with(net, model, mapping, steps, options, &ChipConfig::default(), &mut |_| true)
}

/// Like [`simulate_chip`], with threads and run-time faults, calling `after_step(t)`
/// after each step on the calling thread (for progress). When it returns `false`, the
/// run stops cleanly after the next step (every thread must finish the same steps), and
/// the result holds the steps done.
pub fn simulate_chip_with(
    net: &Network,
    model: &HwModel,
    mapping: &Mapping,
    steps: u32,
    options: Options,
    config: &ChipConfig,
    after_step: &mut dyn FnMut(u32) -> bool,
) -> Result<ChipRun, String> {
    let machine = &model.machine;
    let slices = &mapping.partition.slices;
    if let Some(s) = slices.iter().find(|s| s.len() > cores::MAX_SLICE) {
        return Err(format!(
            "a core of `{}` holds {} neurons; the chip simulator indexes at most {} neurons a core (lower core.max_neurons)",
            net.pop(s.pop).name,
            s.len(),
            cores::MAX_SLICE
        ));
    }
    let nl = machine.topology.n_links();
    let mut dead = vec![false; machine.chips().len() * nl];
    for &(c, d) in &config.faults.dead_links {
        if c.index() >= machine.chips().len() || usize::from(d) >= nl {
            return Err(format!("run-time dead link ({}, {d}) is not a link of the machine", c.0));
        }
        dead[c.index() * nl + usize::from(d)] = true;
        if let Some(n) = machine.neighbour(c, usize::from(d)) {
            dead[n.index() * nl + machine.topology.opposite(usize::from(d))] = true;
        }
    }
    let links = Net { m: machine, nl, dead };
    if !(0.0..=1.0).contains(&config.faults.packet_drop_rate) {
        return Err(format!("packet drop rate {} is not a probability", config.faults.packet_drop_rate));
    }
    let at: BTreeMap<(ChipId, u32), usize> =
        mapping.placement.core_of.iter().enumerate().map(|(s, &c)| (c, s)).collect();
    let hw = &mapping.hw;
    let ps = |s: f64| (s * 1e12).round().max(1.0) as u64;
    let router = hw.router.map(|r| RouterPs {
        router_ps: ps(1.0 / r.clock_hz),
        link_ps: ps(r.link_packet_s),
        pipe_ps: ps(f64::from(r.pipeline_cycles) / r.clock_hz),
        wait_ps: ps(f64::from(r.drop_wait_cycles) / r.clock_hz),
        packet_ps: ps(hw.cycles_per_packet.unwrap_or(0.0) / hw.clock_hz),
    });
    let mut trees = vec![PacketTree::default(); slices.len()];
    for (s, key) in mapping.key.iter().enumerate() {
        if let Some(k) = key {
            trees[s] = packet_tree(&links, &mapping.tables, &at, mapping.placement.core_of[s].0, *k)?;
            trees[s].time(router, machine.chips().len());
        }
    }
    let extension: Vec<bool> = slices.iter().map(|s| matches!(s.kind, SliceKind::DelayExtension { .. })).collect();
    let feeds_extension: Vec<bool> = trees.iter().map(|t| t.dest.iter().any(|&(d, _)| extension[d as usize])).collect();
    // Levels: a population's depth along zero-delay projections.
    let mut pop_level = vec![0u32; net.populations().len()];
    for &p in net.update_order() {
        for &q in net.incoming(p) {
            let pr = net.proj(q);
            if !pr.synapses.is_empty() && pr.synapses.min_delay() == 0 {
                pop_level[p.index()] = pop_level[p.index()].max(pop_level[pr.pre.index()] + 1);
            }
        }
    }
    let levels = pop_level.iter().copied().max().unwrap_or(0) + 1;
    let level: Vec<u32> =
        slices.iter().enumerate().map(|(s, sl)| if extension[s] { NONE } else { pop_level[sl.pop.index()] }).collect();
    let cost = CycleCost::of(hw);
    let tick_s = net.dt / 1000.0;
    let shared = Shared {
        net,
        trees,
        slice: slices.iter().enumerate().map(|(s, sl)| (sl.pop, sl.lo, extension[s])).collect(),
        phase: mapping.placement.core_of.iter().map(|&(_, c)| f64::from(c) / f64::from(hw.cores.max(1))).collect(),
        tick_ps: ps(net.dt * 1e-3),
        feeds_extension,
        level,
        levels,
        ahead: levels == 1
            && config.tiles.is_none()
            && net
                .projections()
                .iter()
                .filter(|p| !net.pop(p.post).is_source() && !p.synapses.is_empty())
                .all(|p| p.synapses.min_delay() >= 2),
        router,
        n_res: links.n_res(),
        n_chips: machine.chips().len(),
        nl,
        faults: config.faults.clone(),
        seed: net.seed ^ config.faults.seed.wrapping_mul(0xd6e8_feb8_6659_fd93),
        cost,
        budget_cycles: hw.clock_hz * net.dt / 1000.0,
        level_hz: hw.level_hz(),
        level_budget: hw.level_hz().iter().map(|f| f * tick_s).collect(),
        record_sources: options.record_sources,
        shard_of: Vec::new(),
        local_of: Vec::new(),
        dest_start: Vec::new(),
        dest: Vec::new(),
        dest_rows: Vec::new(),
        own_start: Vec::new(),
        own: Vec::new(),
        shards: 1,
        rank_start: Vec::new(),
        ranks: Vec::new(),
    };
    let mut shared = shared;
    let threads = config.threads.clamp(1, usize::from(u16::MAX));
    let (rank, ranks) = config.peers.as_ref().map_or((0, 1), |p| (p.0.rank(), p.0.size()));
    if ranks > 1 && config.tiles.is_some() {
        return Err("a hybrid chip's tiles are simulated in one process: run it without mpirun".into());
    }
    // Shards are numbered in 16 bits.
    let shards = threads.saturating_mul(ranks);
    if shards > usize::from(u16::MAX) {
        return Err(format!(
            "{threads} threads × {ranks} ranks make {shards} shards; the chip simulator handles at most {}",
            u16::MAX
        ));
    }
    // Shard `g` is thread `g mod threads` of rank `g / threads`.
    // The cores each core without synapses exchanges packets with (where there are
    // shards to choose between).
    let mut peers = vec![Vec::new(); if shards > 1 { slices.len() } else { 0 }];
    for (s, t) in shared.trees.iter().enumerate().filter(|_| shards > 1) {
        for &(d, _) in &t.dest {
            if slices[s].synapse_bytes == 0 {
                peers[s].push(d);
            }
            if slices[d as usize].synapse_bytes == 0 {
                peers[d as usize].push(s as u32);
            }
        }
    }
    let chip_of: Vec<u32> = mapping.placement.core_of.iter().map(|&(c, _)| c.index() as u32).collect();
    shared.shard_of = assign(slices, threads, ranks, &chip_of, &peers);
    drop(peers);
    shared.shards = shards;
    let mine = |g: u16| usize::from(g) / threads == rank;
    let mut count = vec![0u32; shards];
    shared.local_of = shared
        .shard_of
        .iter()
        .map(|&s| {
            count[usize::from(s)] += 1;
            count[usize::from(s)] - 1
        })
        .collect();
    let too_many = |_| "more than 2^32 packet destinations".to_string();
    let (shard_of, local_of) = (&shared.shard_of, &shared.local_of);
    let dest = by_shard(&shared.trees, shards, |t| {
        t.dest.iter().map(|&(d, via)| (shard_of[d as usize], (local_of[d as usize], via))).collect()
    })
    .ok_or_else(|| too_many(()))?;
    (shared.dest_start, shared.dest) = dest;
    let n_chips = machine.chips().len();
    let chip_of_res = |r: u32| {
        let r = r as usize;
        if r < n_chips { r } else { (r - n_chips) / nl }
    };
    let chip_owner = own_chips(&shared, &mapping.placement.core_of, n_chips, threads, &chip_of_res);
    let owner = |r: u32| chip_owner[chip_of_res(r)];
    let own = by_shard(&shared.trees, shards, |t| {
        t.hops.iter().enumerate().filter(|h| h.1.res != DEAD).map(|(i, h)| (owner(h.res), i as u32)).collect()
    })
    .ok_or_else(|| too_many(()))?;
    (shared.own_start, shared.own) = own;
    if ranks > 1 {
        // Per sender, the processes holding a shard it delivers to or passes through.
        shared.rank_start.push(0);
        for (s, &from) in shared.shard_of.iter().enumerate() {
            let mut these: Vec<u16> = (0..shards)
                .filter(|&h| {
                    let at = s * shards + h;
                    shared.dest_start[at] < shared.dest_start[at + 1] || shared.own_start[at] < shared.own_start[at + 1]
                })
                .map(|h| (h / threads) as u16)
                .filter(|&r| usize::from(r) != usize::from(from) / threads)
                .collect();
            these.dedup();
            shared.ranks.extend(these);
            shared.rank_start.push(u32::try_from(shared.ranks.len()).map_err(|_| too_many(()))?);
        }
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| e.to_string())?;
    let local = rank * threads..(rank + 1) * threads;
    // The slices of each local shard, in order (a destination's local index names one).
    let mut ids: Vec<Vec<usize>> = local.clone().map(|_| Vec::new()).collect();
    for (s, &h) in shared.shard_of.iter().enumerate() {
        if local.contains(&usize::from(h)) {
            ids[usize::from(h) - local.start].push(s);
        }
    }
    // The weights' scales in the chip's own format, as the quantised model takes
    // them.
    let shifts = Options::for_chip(&mapping.hw).format.weight_shifts(net);
    let (mut cores, blocks) = pool.install(|| {
        rayon::join(
            || build_cores(net, mapping, &extension, &shifts, &|s| mine(shared.shard_of[s])),
            || build_blocks(net, mapping, &shared, &extension, &shifts, local.clone(), &ids),
        )
    });
    group_rows(&mut cores, &blocks, &ids, &shared);
    let shards = make_shards(&shared, cores, blocks, steps, config.tiles.as_ref(), local);
    shared.dest_rows = dest_rows(&shared, &shards)?;
    let peers = config.peers.as_ref().map(|p| &*p.0);
    let fabrics = Fabric::local(shards.len(), peers);
    let mut shards = shards;
    let mut fabrics = fabrics;
    let first = shards.remove(0);
    let fabric0 = fabrics.remove(0);
    let done: Vec<(Shard, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .into_iter()
            .zip(fabrics)
            .map(|(shard, fabric)| {
                let shared = &shared;
                scope.spawn(move || {
                    let shard = run_shard(shared, shard, &fabric, steps, &mut |_| true);
                    (shard, fabric.waited_s())
                })
            })
            .collect();
        let mut out = vec![(run_shard(&shared, first, &fabric0, steps, after_step), fabric0.waited_s())];
        out.extend(handles.into_iter().map(|h| h.join().expect("a chip-simulator worker panicked")));
        out
    });
    let (done, shard_wait_s): (Vec<Shard>, Vec<f64>) = done.into_iter().unzip();
    let done_steps = done.first().map_or(0, |s| s.result.steps);
    let (mut outs, mut tiles) = (Vec::new(), Vec::new());
    for s in done {
        let (o, t) = s.finish();
        outs.push(o);
        tiles.extend(t);
    }
    if let Some(p) = peers.filter(|p| p.size() > 1) {
        // Every process gets every shard's counts, and merges them the same way.
        let mine: Vec<u8> = postcard::to_allocvec(&outs.iter().map(ShardOut::encode).collect::<Vec<_>>())
            .expect("a process's counts encode");
        outs = p
            .all_gather(mine)
            .iter()
            .flat_map(|b| postcard::from_bytes::<Vec<Vec<u8>>>(b).expect("another process's counts decode"))
            .map(|b| ShardOut::decode(&b))
            .collect();
    }
    let mut run = merge(&shared, outs, tiles, done_steps, slices.len());
    run.shard_wait_s = shard_wait_s;
    Ok(run)
}
