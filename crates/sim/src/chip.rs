//! The chip simulator of the `arm-core` family: the *mapped* network, core by core, in
//! the chip's number formats, with every spike travelling as a multicast packet
//! through the compiled (compressed) routing tables, its routers and its links.
//!
//! Each core holds the state of its slice (the same kernels as the quantised
//! functional model, [`crate::Quantised`]), its own input ring buffers, and its own
//! synaptic rows: the synapses of each incoming projection whose target is on the
//! core. A spike becomes a packet with the slice's key. Its path is a tree of hops
//! (routers and links) found by following the key through the tables, with the
//! default route where no entry matches ([`PacketTree`]). A receiving core adds the
//! row of the sending neuron into its ring buffer. A delay-extension core forwards the
//! packets of its slice, and the receiving cores take the long-delay synapses from
//! those forwarded packets.
//!
//! **Engine.** The cores are split into shards of similar work, one per worker thread. A
//! timestep runs in *levels* (populations joined by zero-delay projections need their
//! senders' spikes in the same step; a network without them has one level) and each
//! level in *rounds* (a delay extension's forwards are a second round). In a round,
//! every shard updates its cores, then sends the list of its packets to every other
//! shard through crossbeam channels (one channel per ordered pair, so batches never
//! overtake each other); receiving all lists is the barrier. Every shard then knows
//! every packet of the round, works out the same fates for them (the network model
//! below, in a total order that does not depend on the sharding), and delivers to its
//! own cores. Inputs are summed exactly (integer accumulators), so the order of
//! delivery cannot change a spike: results are identical for any number of threads.
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
use crate::reference::{PopState, Ring, receptor_index, weight_shifts};
use crate::{Options, RunResult, SpikeRecord};

/// Faults that strike while the network runs (compile-time faults are the model's).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RunFaults {
    /// Probability that a packet is lost on each link it crosses.
    pub packet_drop_rate: f64,
    /// Links (chip, direction) that fail at the start of the run; the tables still
    /// route through them.
    pub dead_links: Vec<(ChipId, u8)>,
    /// Seed of the random drops (mixed with the network's seed).
    pub seed: u64,
}

impl RunFaults {
    pub fn is_empty(&self) -> bool {
        self.packet_drop_rate == 0.0 && self.dead_links.is_empty()
    }
}

/// How to run the chip simulator.
#[derive(Clone, Debug, Default)]
pub struct ChipConfig {
    /// Worker threads (0 or 1: the calling thread alone).
    pub threads: usize,
    pub faults: RunFaults,
}

/// Actions counted by the chip simulator (the cost layer prices them).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ChipCounts {
    /// Packets sent by cores (delay-extension re-sends included; each copy of a
    /// multi-spike counts).
    pub packets_sent: u64,
    /// Router visits per chip of the machine.
    pub router_passes: Vec<u64>,
    /// Router visits per step (all chips), for energy per step.
    pub router_passes_per_step: Vec<u64>,
    /// Packets per (chip index, outgoing link).
    #[serde(serialize_with = "as_list")]
    pub link_packets: BTreeMap<(u32, u8), u64>,
    /// Per slice (core): packets received, synaptic events processed, neuron updates.
    pub packets_received: Vec<u64>,
    pub synaptic_events: Vec<u64>,
    pub neuron_updates: Vec<u64>,
    /// Packets lost, by cause, and the deliveries to cores they cost.
    pub losses: Losses,
    /// Time within steps, when the model gives cycle costs.
    pub timing: Option<Timing>,
}

/// Every packet the network lost, by cause: nothing is dropped silently.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Losses {
    /// Dropped by a router after waiting `drop_wait_cycles` for a busy output.
    pub congestion: u64,
    /// Lost to the seeded random packet-drop rate.
    pub random: u64,
    /// Lost at a dead link with no working emergency route.
    pub dead_link: u64,
    /// Deliveries to cores that did not happen because of the losses above.
    pub lost_deliveries: u64,
    /// Packets that took an emergency route around a dead link (and arrived).
    pub emergency_routed: u64,
}

impl Losses {
    pub fn packets(&self) -> u64 {
        self.congestion + self.random + self.dead_link
    }
}

/// How long each step's work takes, against the timer tick.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Timing {
    /// Core cycles in one timestep (clock × dt): the real-time budget.
    pub budget_cycles: f64,
    /// Per step: cycles of the busiest core (packets, synaptic events, neuron updates).
    pub critical_cycles: Vec<f64>,
    /// Per slice: steps in which its core overran the tick.
    pub overruns: Vec<u32>,
    /// Per slice: its core's most cycles in one step, and that step's work.
    pub max_cycles: Vec<f64>,
    pub worst_work: Vec<CoreWork>,
    /// Per step: when the last packet reached its last router (s after the tick),
    /// when the model gives router timing.
    pub network_s: Vec<f64>,
    /// The longest any packet waited for a router or link (s).
    pub max_wait_s: f64,
    /// The cores' performance levels (Hz), slowest first; the last is the chip clock.
    /// One level when the model has no DVFS.
    pub level_hz: Vec<f64>,
    /// Per step, per performance level: how many cores ran the step at that level
    /// and their work. Each core takes the slowest level whose clock finishes its
    /// step's work within the tick (the fastest when none does), as SpiNNaker 2's
    /// load-based DVFS (Höppner et al. 2019) chooses a level per PE and time step.
    pub levels: Vec<Vec<LevelLoad>>,
}

/// The cores that ran one step at one performance level, and their work.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct LevelLoad {
    pub cores: u32,
    pub work: CoreWork,
}

/// A core's work: packets taken, synaptic events, neuron updates.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct CoreWork {
    pub packets: u64,
    pub synaptic_events: u64,
    pub neuron_updates: u64,
}

impl CoreWork {
    /// Core cycles at `cost` cycles per packet, per synaptic event, per update.
    pub fn cycles(&self, cost: &CycleCost) -> f64 {
        self.packets as f64 * cost.packet
            + self.synaptic_events as f64 * cost.synaptic_event
            + self.neuron_updates as f64 * cost.neuron_update
    }

    fn add(&mut self, o: &CoreWork) {
        self.packets += o.packets;
        self.synaptic_events += o.synaptic_events;
        self.neuron_updates += o.neuron_updates;
    }
}

/// Core cycles per unit of work (the model's `[timing]` figures).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CycleCost {
    pub packet: f64,
    pub synaptic_event: f64,
    pub neuron_update: f64,
}

impl CycleCost {
    /// The model's cycle costs, when it gives all three.
    pub fn of(hw: &neuromap_hw::arm_core::ArmCore) -> Option<Self> {
        Some(Self {
            packet: hw.cycles_per_packet?,
            synaptic_event: hw.cycles_per_synaptic_event?,
            neuron_update: hw.cycles_per_neuron_update?,
        })
    }
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

    /// Per step: the step's latency (s), the later of the busiest core's work and the
    /// last packet delivery.
    pub fn latency_s(&self, clock_hz: f64) -> Vec<f64> {
        self.critical_cycles
            .iter()
            .enumerate()
            .map(|(t, &c)| (c / clock_hz).max(self.network_s.get(t).copied().unwrap_or(0.0)))
            .collect()
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

/// One hop of a packet's path: a router or a link (a resource), under its parent hop.
#[derive(Clone, Copy, Debug)]
struct Hop {
    /// Resource index ([`Net::router`], [`Net::link`]) or [`DEAD`].
    res: u32,
    parent: u32,
    /// The first link of an emergency detour.
    detour: bool,
}

const NONE: u32 = u32::MAX;
const DEAD: u32 = u32::MAX;

/// The multicast tree of one sender's packets: hops with parents before children,
/// and the cores reached, each under the router hop of its chip.
#[derive(Clone, Debug, Default)]
pub struct PacketTree {
    hops: Vec<Hop>,
    /// (slice, router hop), sorted by slice.
    dest: Vec<(u32, u32)>,
    /// Some hop is a dead link or a detour: fates must be worked out per packet.
    faulty: bool,
    /// Per hop: time from emission to arrival there without waiting (ps).
    offset_ps: Vec<u64>,
    /// The latest time from emission to a delivery to a core, without waiting (ps).
    deliver_ps: u64,
    /// Router hops (the passes one copy makes when nothing is lost).
    routers: u32,
}

impl PacketTree {
    fn time(&mut self, rt: Option<RouterPs>, n_chips: usize) {
        let n = self.hops.len();
        self.routers = self.hops.iter().filter(|h| (h.res as usize) < n_chips).count() as u32;
        self.offset_ps = vec![0; n];
        if let Some(rt) = rt {
            for h in 0..n {
                let p = self.hops[h].parent;
                if p != NONE {
                    let up = self.hops[p as usize].res;
                    let router = up != DEAD && (up as usize) < n_chips;
                    self.offset_ps[h] =
                        self.offset_ps[p as usize] + if router { rt.router_ps + rt.pipe_ps } else { rt.link_ps };
                }
            }
            self.deliver_ps = self
                .dest
                .iter()
                .map(|&(_, via)| self.offset_ps[via as usize] + rt.router_ps + rt.pipe_ps)
                .max()
                .unwrap_or(0);
        }
    }
}

/// Resource numbering and the run-time link state of a machine.
struct Net<'a> {
    m: &'a Machine,
    nl: usize,
    dead: Vec<bool>,
}

impl Net<'_> {
    fn router(&self, c: ChipId) -> u32 {
        c.0
    }
    fn link(&self, c: ChipId, d: usize) -> u32 {
        (self.m.chips().len() + c.index() * self.nl + d) as u32
    }
    fn n_res(&self) -> usize {
        self.m.chips().len() * (1 + self.nl)
    }
    /// The neighbour across a link that works at run time.
    fn live(&self, c: ChipId, d: usize) -> Option<ChipId> {
        self.m.neighbour(c, d).filter(|_| !self.dead[c.index() * self.nl + d])
    }
}

/// The tree of a packet with `key` sent from `src`, through `tables`, with the
/// run-time dead links of `net`.
fn packet_tree(
    net: &Net,
    tables: &BTreeMap<ChipId, neuromap_compile::route::Table>,
    at: &BTreeMap<(ChipId, u32), usize>,
    src: ChipId,
    key: u32,
) -> Result<PacketTree, String> {
    let m = net.m;
    let mut tree = PacketTree::default();
    // (chip, direction it arrived from, parent hop)
    let mut stack = vec![(src, None::<u8>, NONE)];
    while let Some((chip, arrived, parent)) = stack.pop() {
        if tree.hops.len() > 16 * m.chips().len() * (net.nl + 1) + 16 {
            return Err(format!("key {key:#010x} loops between routers"));
        }
        let here = tree.hops.len() as u32;
        tree.hops.push(Hop {
            res: if parent != NONE && tree.hops[parent as usize].res == DEAD { DEAD } else { net.router(chip) },
            parent,
            detour: false,
        });
        let route = neuromap_compile::route::lookup(m, tables, chip, key, arrived)?;
        for c in route.core_list() {
            let s = at.get(&(chip, c)).ok_or("a packet reaches a core that holds no slice")?;
            tree.dest.push((*s as u32, here));
        }
        for d in 0..net.nl {
            if route.links >> d & 1 == 0 {
                continue;
            }
            let Some(n) = m.neighbour(chip, d) else {
                return Err(neuromap_compile::route::lost_on_link(m, chip, key, d));
            };
            let mut from = here;
            if net.live(chip, d).is_some() {
                tree.hops.push(Hop { res: net.link(chip, d), parent: from, detour: false });
            } else {
                tree.faulty = true;
                // SpiNNaker's emergency route: the other two sides of the triangle.
                let detour = (m.topology == Topology::Hex)
                    .then(|| {
                        let (d1, d2) = ((d + 1) % 6, (d + 5) % 6);
                        let mid = net.live(chip, d1)?;
                        (net.live(mid, d2)? == n).then_some((d1, mid, d2))
                    })
                    .flatten();
                match detour {
                    Some((d1, mid, d2)) => {
                        tree.hops.push(Hop { res: net.link(chip, d1), parent: from, detour: true });
                        from = tree.hops.len() as u32 - 1;
                        tree.hops.push(Hop { res: net.router(mid), parent: from, detour: false });
                        from = tree.hops.len() as u32 - 1;
                        tree.hops.push(Hop { res: net.link(mid, d2), parent: from, detour: false });
                    }
                    None => tree.hops.push(Hop { res: DEAD, parent: from, detour: false }),
                }
            }
            stack.push((n, Some(d as u8), tree.hops.len() as u32 - 1));
        }
    }
    tree.dest.sort_unstable();
    Ok(tree)
}

/// One shard's packets of a round, shared with every other shard.
/// The flag asks every shard to stop after the current step.
type Batch = Arc<(Vec<Packet>, bool)>;

/// A spike on the way: `k` copies of the packet of neuron `j` of slice `sender`,
/// the first emitted `emit_ps` after the tick, the next ones `gap_ps` apart.
#[derive(Clone, Copy, Debug)]
struct Packet {
    sender: u32,
    j: u32,
    k: u32,
    emit_ps: u64,
    gap_ps: u64,
}

/// The synapses of one projection whose targets are on one core, by presynaptic
/// neuron: those carried by direct packets, or (`delayed`) by delay-extension packets.
#[derive(Debug)]
struct Rows {
    proj: usize,
    pre: PopId,
    receptor: usize,
    delayed: bool,
    start: Vec<u32>,
    post: Vec<u32>,
    /// Weights in accumulator units for one spike (16-bit values: SpiNNaker's
    /// weights), so that the rows take 10 bytes per synapse.
    weight: Vec<i32>,
    delay: Vec<u16>,
}

#[derive(Debug)]
struct Core {
    pop: PopId,
    lo: u32,
    /// Neurons or sources in the slice.
    size: u64,
    extension: bool,
    state: Option<PopState<S1615>>,
    rings: [Ring<i64>; 2],
    q: [i32; 2],
    rows: Vec<Rows>,
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
    targets: Vec<u64>,
    /// Per slice: its core's number on the chip over the cores per chip (in [0, 1)).
    phase: Vec<f64>,
    tick_ps: u64,
    /// Per slice: its packets can reach a delay extension (a further round).
    feeds_extension: Vec<bool>,
    /// Per slice: the core's population level (zero-delay depth); extensions: NONE.
    level: Vec<u32>,
    levels: u32,
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

#[derive(Clone, Copy, Debug)]
struct RouterPs {
    router_ps: u64,
    link_ps: u64,
    pipe_ps: u64,
    wait_ps: u64,
    packet_ps: u64,
}

/// One worker's cores and what it counted.
struct Shard {
    /// Its slices (global indices), in order: core `i` of the shard is slice `ids[i]`.
    ids: Vec<usize>,
    id: u16,
    cores: Vec<Core>,
    /// Per level: local core indices in update order.
    order: Vec<Vec<usize>>,
    result: RunResult,
    counts: ChipCounts,
    res_count: Vec<u64>,
    step_work: Vec<[u64; 3]>,
    /// Per core: packets received, synaptic events, neuron updates over the run.
    work: Vec<[u64; 3]>,
    critical: Vec<f64>,
    /// Per step, per performance level: the cores at that level and their work.
    levels: Vec<Vec<LevelLoad>>,
    network_ps: Vec<u64>,
    /// Router visits of this shard's packets, this step and per step.
    step_passes: u64,
    passes: Vec<u64>,
    max_wait_ps: u64,
}

/// Bytes the chip simulator allocates for `net` mapped by `mapping`, beyond the
/// network itself: every synapse again in its core's rows (10 bytes), each core's row
/// starts for every incoming projection, and the state and ring buffers of the
/// reference engine's estimate; checked before a run.
pub fn memory_estimate(net: &Network, mapping: &Mapping) -> f64 {
    let slices = &mapping.partition.slices;
    let starts: f64 = net
        .projections()
        .iter()
        .map(|p| {
            let cores = slices.iter().filter(|s| s.pop == p.post).count() as f64;
            cores * 2.0 * (p.synapses.n_pre() as f64 + 1.0) * 4.0
        })
        .sum();
    net.n_synapses() as f64 * 10.0 + starts + crate::memory_estimate(net)
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
    let nm = Net { m: machine, nl, dead };
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
            trees[s] = packet_tree(&nm, &mapping.tables, &at, mapping.placement.core_of[s].0, *k)?;
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
        router,
        n_res: nm.n_res(),
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
        targets: Vec::new(),
    };
    let mut shared = shared;
    let threads = config.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| e.to_string())?;
    let cores = pool.install(|| build_cores(net, mapping, &extension));
    shared.shard_of = assign(&cores, threads);
    let mut count = vec![0u32; 64];
    shared.local_of = shared
        .shard_of
        .iter()
        .map(|&s| {
            count[usize::from(s)] += 1;
            count[usize::from(s)] - 1
        })
        .collect();
    shared.targets = shared
        .trees
        .iter()
        .map(|t| t.dest.iter().fold(0u64, |m, &(d, _)| m | 1 << shared.shard_of[d as usize]))
        .collect();
    let shards = make_shards(&shared, cores, steps);
    let n = shards.len();
    // Channels: tx[i][j] sends from shard i to shard j.
    let mut txs: Vec<Vec<Option<Sender<Batch>>>> = (0..n).map(|_| vec![None; n]).collect();
    let mut rxs: Vec<Vec<Option<Receiver<Batch>>>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let (tx, rx) = crossbeam_channel::unbounded();
                txs[i][j] = Some(tx);
                rxs[j][i] = Some(rx);
            }
        }
    }
    let mut links: Vec<_> = txs.into_iter().zip(rxs).collect();
    let mut shards = shards;
    let first = shards.remove(0);
    let (tx0, rx0) = links.remove(0);
    let done: Vec<Shard> = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .into_iter()
            .zip(links)
            .enumerate()
            .map(|(i, (shard, (tx, rx)))| {
                let shared = &shared;
                scope.spawn(move || run_shard(shared, shard, i + 1, &tx, &rx, steps, &mut |_| true))
            })
            .collect();
        let mut out = vec![run_shard(&shared, first, 0, &tx0, &rx0, steps, after_step)];
        out.extend(handles.into_iter().map(|h| h.join().expect("a chip-simulator worker panicked")));
        out
    });
    let done_steps = done.first().map_or(0, |s| s.result.steps);
    Ok(merge(&shared, done, done_steps, slices.len()))
}

/// Per slice: its state, ring buffers and synaptic rows (one pass over each
/// projection, sending every synapse to the slice of its target).
fn build_cores(net: &Network, mapping: &Mapping, extension: &[bool]) -> Vec<Core> {
    let slices = &mapping.partition.slices;
    let shifts = weight_shifts::<S1615>(net);
    let max_delay = mapping.hw.max_delay_steps;
    let mut cores: Vec<Core> = slices
        .iter()
        .enumerate()
        .map(|(s, sl)| {
            let pop = sl.pop;
            let n = if !extension[s] && !net.pop(pop).is_source() { sl.len() as usize } else { 0 };
            let d = net.max_delay_into(pop);
            let q = shifts[pop.index()];
            Core {
                pop,
                lo: sl.lo,
                size: u64::from(sl.len()),
                extension: extension[s],
                state: (!extension[s]).then(|| PopState::new(net, pop, sl.lo as usize..sl.hi as usize, q)),
                rings: [Ring::new(n, d), Ring::new(n, d)],
                q,
                rows: Vec::new(),
            }
        })
        .collect();
    let built: Vec<Vec<(usize, Rows)>> = net
        .projections()
        .par_iter()
        .enumerate()
        .map(|(p, pr)| {
            let mut out = Vec::new();
            let syn = &pr.synapses;
            // The neuron slices of the target population, by first neuron.
            let mut targets: Vec<usize> = (0..slices.len())
                .filter(|&s| slices[s].pop == pr.post && !extension[s] && !net.pop(pr.post).is_source())
                .collect();
            targets.sort_by_key(|&s| slices[s].lo);
            if targets.is_empty() {
                return out;
            }
            let receptor = receptor_index(pr.receptor);
            for delayed in [false, true] {
                let mut rows: Vec<Rows> = targets
                    .iter()
                    .map(|_| Rows {
                        proj: p,
                        pre: pr.pre,
                        receptor,
                        delayed,
                        start: Vec::with_capacity(syn.n_pre() + 1),
                        post: Vec::new(),
                        weight: Vec::new(),
                        delay: Vec::new(),
                    })
                    .collect();
                rows.iter_mut().for_each(|r| r.start.push(0));
                for i in 0..syn.n_pre() {
                    let row = syn.row(i);
                    for k in 0..row.post.len() {
                        // Direct packets carry the short delays, extensions the long.
                        if (u32::from(row.delay[k]) > max_delay) != delayed {
                            continue;
                        }
                        let t = targets.partition_point(|&s| slices[s].lo <= row.post[k]) - 1;
                        let (r, lo, q) = (&mut rows[t], slices[targets[t]].lo, shifts[pr.post.index()]);
                        r.post.push(row.post[k] - lo);
                        // 16-bit weights: the conversion cannot fail.
                        r.weight.push(S1615::acc_weight(row.weight[k], 1, q[receptor]) as i32);
                        r.delay.push(row.delay[k]);
                    }
                    rows.iter_mut().for_each(|r| r.start.push(r.post.len() as u32));
                }
                for (r, &s) in rows.into_iter().zip(&targets) {
                    if !r.post.is_empty() {
                        out.push((s, r));
                    }
                }
            }
            out
        })
        .collect();
    for (s, r) in built.into_iter().flatten() {
        cores[s].rows.push(r);
    }
    cores
}

/// Assigns cores to at most `threads` shards of similar work: heaviest first, each to
/// the least loaded shard (so a population's cores alternate between shards). The
/// assignment only balances time; results do not depend on it.
fn assign(cores: &[Core], threads: usize) -> Vec<u16> {
    let work: Vec<u64> =
        cores.iter().map(|c| 64 + 8 * c.size + c.rows.iter().map(|r| r.post.len() as u64).sum::<u64>() / 32).collect();
    let threads = threads.clamp(1, 64).min(cores.len().max(1));
    let mut by_weight: Vec<usize> = (0..cores.len()).collect();
    by_weight.sort_by_key(|&i| (std::cmp::Reverse(work[i]), i));
    let mut load = vec![0u64; threads];
    let mut shard_of = vec![0u16; cores.len()];
    for i in by_weight {
        let s = (0..threads).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[s] += work[i];
        shard_of[i] = s as u16;
    }
    shard_of
}

/// Moves the cores into their shards (each holding its cores in slice order).
fn make_shards(sh: &Shared, cores: Vec<Core>, steps: u32) -> Vec<Shard> {
    let n = sh.shard_of.iter().map(|&s| usize::from(s) + 1).max().unwrap_or(1);
    let npop = sh.net.populations().len();
    let mut parts: Vec<Vec<(usize, Core)>> = (0..n).map(|_| Vec::new()).collect();
    for (i, c) in cores.into_iter().enumerate() {
        parts[usize::from(sh.shard_of[i])].push((i, c));
    }
    parts
        .into_iter()
        .enumerate()
        .map(|(shard, part)| {
            let (ids, cores): (Vec<usize>, Vec<Core>) = part.into_iter().unzip();
            let mut order = vec![Vec::new(); sh.levels as usize];
            for &p in sh.net.update_order() {
                for (i, c) in cores.iter().enumerate() {
                    if c.pop == p && !c.extension {
                        order[sh.level[ids[i]] as usize].push(i);
                    }
                }
            }
            let k = ids.len();
            Shard {
                id: shard as u16,
                ids,
                order,
                result: RunResult {
                    steps: 0,
                    spike_counts: vec![0; npop],
                    recorded: sh.net.populations().iter().map(|p| sh.record_sources || !p.is_source()).collect(),
                    spikes: vec![SpikeRecord::default(); npop],
                    probes: Vec::new(),
                    synaptic_events: vec![0; sh.net.projections().len()],
                    neuron_updates: 0,
                },
                counts: ChipCounts::default(),
                res_count: vec![0; sh.n_res],
                step_work: vec![[0; 3]; k],
                work: vec![[0; 3]; k],
                critical: Vec::with_capacity(steps as usize),
                levels: Vec::with_capacity(if sh.cost.is_some() { steps as usize } else { 0 }),
                network_ps: Vec::with_capacity(steps as usize),
                step_passes: 0,
                passes: Vec::with_capacity(steps as usize),
                max_wait_ps: 0,
                cores,
            }
        })
        .collect()
}

fn run_shard(
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
            for &i in &me.order[level] {
                spikes.clear();
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
        if let Some(cost) = sh.cost {
            let mut critical = 0.0f64;
            let mut levels = vec![LevelLoad::default(); sh.level_budget.len()];
            for (c, w) in me.step_work.iter_mut().enumerate() {
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

/// splitmix64: a hash-based uniform draw, the same on every thread.
fn uniform(mut x: u64) -> f64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether copy `c` of packet `p` is lost at hop `h` to the random drop rate.
fn randomly_lost(sh: &Shared, t: u32, p: &Packet, c: u32, h: usize) -> bool {
    let rate = sh.faults.packet_drop_rate;
    if rate == 0.0 {
        return false;
    }
    let key = sh.seed
        ^ u64::from(t).wrapping_mul(0x2545_f491_4f6c_dd1d)
        ^ u64::from(p.sender).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
        ^ u64::from(p.j).wrapping_mul(0xc2b2_ae3d_27d4_eb4f).rotate_left(31)
        ^ (u64::from(c) << 48 | h as u64).wrapping_mul(0x1656_67b1_9e37_79f9);
    uniform(key) < rate
}

/// What the network did to a round's packets: the copies dropped for congestion
/// (packet index in the round's list, copy, hop), the latest delivery and the longest
/// queue wait. Every shard computes the same.
#[derive(Debug, Default)]
struct RoundNet {
    dropped: Vec<(u32, u32, u32)>,
    last_ps: u64,
    max_wait_ps: u64,
}

/// The router and link queues of a round.
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
fn network(sh: &Shared, list: &[Packet], scratch: &mut Load) -> RoundNet {
    let mut out = RoundNet::default();
    let Some(rt) = sh.router else { return out };
    let svc = |r: u32| if (r as usize) < sh.n_chips { rt.router_ps } else { rt.link_ps };
    scratch.reset(sh.n_res);
    // Streams: runs of packets of one sender.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut a = 0;
    while a < list.len() {
        let mut b = a + 1;
        while b < list.len() && list[b].sender == list[a].sender {
            b += 1;
        }
        runs.push((a, b));
        a = b;
    }
    for &(a, b) in &runs {
        let p = &list[a];
        let tree = &sh.trees[p.sender as usize];
        let copies: u64 = list[a..b].iter().map(|p| u64::from(p.k)).sum();
        let last = &list[b - 1];
        let last_emit = last.emit_ps + u64::from(last.k.saturating_sub(1)) * last.gap_ps;
        out.last_ps = out.last_ps.max(last_emit + tree.deliver_ps);
        for h in &tree.hops {
            if h.res == DEAD {
                continue;
            }
            let r = h.res as usize;
            // A stream of one copy has no period: it is a burst of one.
            scratch.util[r] += if copies > 1 { svc(h.res) as f64 / p.gap_ps.max(1) as f64 } else { 0.0 };
            scratch.streams[r] += 1;
        }
    }
    let mut exact = vec![false; 0];
    for r in 0..sh.n_res {
        if scratch.streams[r] == 0 {
            continue;
        }
        let c = svc(r as u32);
        let bound = (scratch.streams[r] - 1) * c;
        if scratch.util[r] <= 1.0 && bound <= rt.wait_ps {
            out.max_wait_ps = out.max_wait_ps.max(bound);
        } else {
            if exact.is_empty() {
                exact = vec![false; sh.n_res];
            }
            exact[r] = true;
        }
    }
    if exact.is_empty() {
        return out;
    }
    // Exact queues: (resource, arrival, sender, neuron, copy, hop, packet).
    let mut ev: Vec<(u32, u64, u32, u32, u32, u32, u32)> = Vec::new();
    for &(a, b) in &runs {
        let tree = &sh.trees[list[a].sender as usize];
        if !tree.hops.iter().any(|h| h.res != DEAD && exact[h.res as usize]) {
            continue;
        }
        for (i, p) in list.iter().enumerate().take(b).skip(a) {
            for c in 0..p.k {
                let emit = p.emit_ps + u64::from(c) * p.gap_ps;
                for (h, hop) in tree.hops.iter().enumerate() {
                    if hop.res != DEAD && exact[hop.res as usize] {
                        ev.push((hop.res, emit + tree.offset_ps[h], p.sender, p.j, c, h as u32, i as u32));
                    }
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
    out
}

/// Per-resource sums of a round's streams (reused between rounds).
#[derive(Debug, Default)]
struct Load {
    util: Vec<f64>,
    streams: Vec<u64>,
}

impl Load {
    fn reset(&mut self, n: usize) {
        self.util.clear();
        self.util.resize(n, 0.0);
        self.streams.clear();
        self.streams.resize(n, 0);
    }
}

/// Buffers of [`fate`], reused from packet to packet: copies alive per hop, and
/// whether the current copy got to each hop.
#[derive(Debug, Default)]
struct FateScratch {
    alive: Vec<u32>,
    here: Vec<bool>,
}

/// Works out, copy by copy, how many copies of packet `i` reach each hop of its tree
/// (into `alive`), counting the copies lost by cause into `lost`.
fn fate(sh: &Shared, net: &RoundNet, t: u32, i: usize, p: &Packet, scratch: &mut FateScratch, lost: &mut Losses) {
    let FateScratch { alive, here } = scratch;
    let tree = &sh.trees[p.sender as usize];
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
            if hop.res as usize >= sh.n_chips && randomly_lost(sh, t, p, c, h) {
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

/// Delivers a round's packets to this shard's cores, counts the packets this shard
/// sent, and queues the forwards of its delay extensions.
#[allow(clippy::too_many_arguments)]
fn deliver(
    sh: &Shared,
    me: &mut Shard,
    list: &[Packet],
    net: &RoundNet,
    t: u32,
    ts: usize,
    scratch: &mut FateScratch,
    fwd: &mut Vec<Packet>,
) {
    let shard = me.id;
    let random = sh.faults.packet_drop_rate > 0.0;
    let mut i = 0;
    while i < list.len() {
        let p = &list[i];
        let tree = &sh.trees[p.sender as usize];
        let mine = sh.shard_of[p.sender as usize] == shard;
        let targets = sh.targets[p.sender as usize] >> shard & 1 == 1;
        if !mine && !targets {
            // Nothing of this sender's run concerns this shard.
            while i < list.len() && list[i].sender == p.sender {
                i += 1;
            }
            continue;
        }
        i += 1;
        let i = i - 1;
        let dropped = net.dropped.binary_search_by(|&(x, _, _)| x.cmp(&(i as u32)).then(std::cmp::Ordering::Greater));
        let touched =
            random || tree.faulty || dropped.err().is_some_and(|e| net.dropped.get(e).is_some_and(|d| d.0 == i as u32));
        let mut lost = Losses::default();
        if touched {
            fate(sh, net, t, i, p, scratch, &mut lost);
        }
        let alive = &scratch.alive;
        // The sender's shard counts the packet and its path.
        if mine {
            let k = u64::from(p.k);
            me.counts.packets_sent += k;
            if touched {
                for (h, hop) in tree.hops.iter().enumerate() {
                    if hop.res != DEAD {
                        me.res_count[hop.res as usize] += u64::from(alive[h]);
                        if (hop.res as usize) < sh.n_chips {
                            me.step_passes += u64::from(alive[h]);
                        }
                    }
                }
                lost.lost_deliveries = tree.dest.iter().map(|&(_, via)| u64::from(p.k - alive[via as usize])).sum();
                let l = &mut me.counts.losses;
                l.congestion += lost.congestion;
                l.random += lost.random;
                l.dead_link += lost.dead_link;
                l.emergency_routed += lost.emergency_routed;
                l.lost_deliveries += lost.lost_deliveries;
            } else {
                tree.hops.iter().for_each(|h| me.res_count[h.res as usize] += k);
                me.step_passes += k * u64::from(tree.routers);
            }
        }
        // This shard's targets.
        if !targets {
            continue;
        }
        for &(to, via) in &tree.dest {
            if sh.shard_of[to as usize] != shard {
                continue;
            }
            let k = if touched { alive[via as usize] } else { p.k };
            if k == 0 {
                continue;
            }
            let local = sh.local_of[to as usize] as usize;
            me.step_work[local][0] += u64::from(k);
            let target = &mut me.cores[local];
            if target.extension {
                let (emit, gap) = sh.router.map_or((0, 0), |r| {
                    (p.emit_ps + tree.offset_ps[via as usize] + r.router_ps + r.pipe_ps + r.packet_ps, r.packet_ps)
                });
                fwd.push(Packet { sender: to, j: p.j, k, emit_ps: emit, gap_ps: gap });
                continue;
            }
            let (from_pop, from_lo, delayed) = sh.slice[p.sender as usize];
            let g = (from_lo + p.j) as usize;
            let mut events = 0u64;
            for rows in target.rows.iter().filter(|r| r.pre == from_pop && r.delayed == delayed) {
                let ring = &mut target.rings[rows.receptor];
                let (a, b) = (rows.start[g] as usize, rows.start[g + 1] as usize);
                let kk = i64::from(k);
                for x in a..b {
                    let at = ((ts + usize::from(rows.delay[x])) & ring.mask) * ring.n + rows.post[x] as usize;
                    ring.data[at] += i64::from(rows.weight[x]) * kk;
                }
                let n = (b - a) as u64 * u64::from(k);
                me.result.synaptic_events[rows.proj] += n;
                events += n;
            }
            me.step_work[local][1] += events;
        }
    }
}

/// Puts the shards' results together: sums of counts, spikes in (step, neuron) order,
/// the busiest core of each step.
fn merge(sh: &Shared, shards: Vec<Shard>, steps: u32, n_slices: usize) -> ChipRun {
    let npop = sh.net.populations().len();
    let mut result = RunResult {
        steps,
        spike_counts: vec![0; npop],
        recorded: shards[0].result.recorded.clone(),
        spikes: vec![SpikeRecord::default(); npop],
        probes: Vec::new(),
        synaptic_events: vec![0; sh.net.projections().len()],
        neuron_updates: 0,
    };
    let mut counts = ChipCounts {
        router_passes: vec![0; sh.n_chips],
        packets_received: vec![0; n_slices],
        synaptic_events: vec![0; n_slices],
        neuron_updates: vec![0; n_slices],
        ..ChipCounts::default()
    };
    let mut res = vec![0u64; sh.n_res];
    let mut timing = sh.cost.map(|_| Timing {
        budget_cycles: sh.budget_cycles,
        critical_cycles: vec![0.0; steps as usize],
        overruns: vec![0; n_slices],
        max_cycles: vec![0.0; n_slices],
        worst_work: vec![CoreWork::default(); n_slices],
        network_s: Vec::new(),
        max_wait_s: 0.0,
        level_hz: Vec::new(),
        levels: vec![vec![LevelLoad::default(); sh.level_budget.len()]; steps as usize],
    });
    let mut spikes: Vec<Vec<(u32, u32)>> = vec![Vec::new(); npop];
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
            counts.packets_received[g] = w[0];
            counts.synaptic_events[g] = w[1];
            counts.neuron_updates[g] = w[2];
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
        && sh.router.is_some()
    {
        // Every shard saw every packet: shard 0's network times are the machine's.
        tm.network_s = shards[0].network_ps.iter().map(|&p| p as f64 * 1e-12).collect();
    }
    for (p, mut v) in spikes.into_iter().enumerate() {
        v.sort_unstable();
        (result.spikes[p].steps, result.spikes[p].neurons) = v.into_iter().unzip();
    }
    for (r, &n) in res.iter().enumerate() {
        if r < sh.n_chips {
            counts.router_passes[r] = n;
        } else if n > 0 {
            let l = r - sh.n_chips;
            counts.link_packets.insert(((l / sh.nl) as u32, (l % sh.nl) as u8), n);
        }
    }
    if let Some(tm) = timing.as_mut() {
        tm.level_hz = sh.level_hz.clone();
    }
    counts.timing = timing;
    ChipRun { result, counts }
}
