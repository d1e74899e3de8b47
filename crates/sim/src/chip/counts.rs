//! What the chip simulator counts and reports: actions, losses, time per step.

use super::*;

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
    /// A hybrid chip's tiles: a counter for each slice on a part's tile.
    pub tiles: Option<TileFactory>,
    /// The other processes of a distributed run (MPI ranks): this process runs
    /// `threads` of the `threads × ranks` shards. Every process gets the same result.
    pub peers: Option<Ranks>,
}

/// A tile of a hybrid chip's other family (a crossbar macro, a threshold-logic array)
/// as its own family counts it. The chip simulator delivers the tile's packets like
/// any core's (the synapses hold the functional model's values, so the spikes are the
/// functional model's), and tells the counter what arrived and when each step ends.
/// Calls come in the same order for any number of threads.
pub trait TileCounter: Send {
    /// `k` spikes of neuron `neuron` of population `pre` reached the tile.
    fn packet(&mut self, pre: PopId, neuron: u32, k: u32);
    /// The step ended after `updates` neuron updates; returns the time the tile
    /// needed for the step (s).
    fn end_step(&mut self, updates: u64) -> f64;
    /// What it counted over the run: each action's name and total.
    fn finish(self: Box<Self>) -> TileCounts;
    /// Whether the tile computes its slice's synaptic input itself (a crossbar's
    /// analogue read, with its devices and converters) instead of the synaptic rows.
    fn computes(&self) -> bool {
        false
    }
    /// For a tile that computes: the spikes `(presynaptic neuron, count)` of
    /// projection `proj` that reached it in step `t`, all of them in one call; it calls
    /// `add(neuron of the slice, delay, value)` with values in accumulator units at
    /// the quantised model's `shift`.
    fn compute(
        &mut self,
        _net: &Network,
        _proj: usize,
        _t: u32,
        _spikes: &[(u32, u32)],
        _shift: i32,
        _add: &mut dyn FnMut(u32, u16, i64),
    ) {
    }
}

/// A tile's counted actions, by name (its family prices them).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct TileCounts {
    pub actions: Vec<(&'static str, f64)>,
}

impl TileCounts {
    pub fn get(&self, name: &str) -> f64 {
        self.actions.iter().filter(|a| a.0 == name).map(|a| a.1).sum()
    }

    /// Adds `o`'s actions to these (by name).
    pub fn add(&mut self, o: &TileCounts) {
        for &(k, v) in &o.actions {
            match self.actions.iter_mut().find(|a| a.0 == k) {
                Some(a) => a.1 += v,
                None => self.actions.push((k, v)),
            }
        }
    }
}

/// Makes the counter of slice `s` (`None`: the slice is on a core).
#[derive(Clone)]
pub struct TileFactory(pub Arc<dyn Fn(usize) -> Option<Box<dyn TileCounter>> + Send + Sync>);

impl std::fmt::Debug for TileFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TileFactory")
    }
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
    /// Per slice: the cost kind of its neurons' model
    /// ([`neuromap_hw::arm_core::cost_kind`]; 0 for sources and delay extensions).
    pub update_kind: Vec<u8>,
    /// Packets lost, by cause, and the deliveries to cores they cost.
    pub losses: Losses,
    /// Time within steps, when the model gives cycle costs.
    pub timing: Option<Timing>,
    /// A hybrid chip's tiles: per step, the slowest tile's time (s); per tile slice,
    /// what it counted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tile_step_s: Vec<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiles: Vec<(u32, TileCounts)>,
}

/// Every packet the network lost, by cause: nothing is dropped silently.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq)]
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
#[derive(Clone, Copy, Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct LevelLoad {
    pub cores: u32,
    pub work: CoreWork,
}

/// Models priced apart from the LIF kernel ([`neuromap_hw::arm_core::MODEL_FIGURES`]).
pub const MODELS: usize = neuromap_hw::arm_core::MODEL_FIGURES.len();

/// A core's work: packets taken, synaptic events, neuron updates (of every model), and
/// of those, the updates of each model priced apart from the LIF kernel.
#[derive(Clone, Copy, Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct CoreWork {
    pub packets: u64,
    pub synaptic_events: u64,
    pub neuron_updates: u64,
    pub model_updates: [u64; MODELS],
}

impl CoreWork {
    /// Core cycles at `cost` cycles per packet, per synaptic event, per update.
    pub fn cycles(&self, cost: &CycleCost) -> f64 {
        self.packets as f64 * cost.packet + self.synaptic_events as f64 * cost.synaptic_event + self.update_cycles(cost)
    }

    /// The cycles of the neuron updates alone.
    pub fn update_cycles(&self, cost: &CycleCost) -> f64 {
        let apart: u64 = self.model_updates.iter().sum();
        (self.neuron_updates - apart) as f64 * cost.neuron_update
            + self.model_updates.iter().zip(&cost.model_update).map(|(&n, &c)| n as f64 * c).sum::<f64>()
    }

    /// Counts `n` neuron updates of the model of cost kind `kind`
    /// ([`neuromap_hw::arm_core::cost_kind`]).
    pub fn updates(&mut self, kind: u8, n: u64) {
        self.neuron_updates += n;
        if kind > 0 {
            self.model_updates[usize::from(kind) - 1] += n;
        }
    }

    pub fn add(&mut self, o: &CoreWork) {
        self.packets += o.packets;
        self.synaptic_events += o.synaptic_events;
        self.neuron_updates += o.neuron_updates;
        for (a, b) in self.model_updates.iter_mut().zip(&o.model_updates) {
            *a += b;
        }
    }

    /// The `[timing]` and `[models]` figures this work is priced by.
    pub fn figures(&self) -> Vec<String> {
        let apart: u64 = self.model_updates.iter().sum();
        let mut v = Vec::new();
        for (n, f) in
            [(self.packets, "timing.cycles_per_packet"), (self.synaptic_events, "timing.cycles_per_synaptic_event")]
        {
            if n > 0 {
                v.push(f.to_string());
            }
        }
        if self.neuron_updates > apart {
            v.push("timing.cycles_per_neuron_update".into());
        }
        for (k, &n) in self.model_updates.iter().enumerate() {
            if n > 0 {
                v.push(format!("models.{}_cycles", neuromap_hw::arm_core::MODEL_FIGURES[k]));
            }
        }
        v
    }
}

/// Core cycles per unit of work (the model's `[timing]` and `[models]` figures).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CycleCost {
    pub packet: f64,
    pub synaptic_event: f64,
    /// A LIF-kernel (or threshold) neuron's update.
    pub neuron_update: f64,
    /// An update of each model of [`neuromap_hw::arm_core::MODEL_FIGURES`]; 0 for a
    /// model the chip does not map (the compiler refuses its populations).
    pub model_update: [f64; MODELS],
}

impl CycleCost {
    /// The model's cycle costs, when it gives all three `[timing]` figures.
    pub fn of(hw: &neuromap_hw::arm_core::ArmCore) -> Option<Self> {
        Some(Self {
            packet: hw.cycles_per_packet?,
            synaptic_event: hw.cycles_per_synaptic_event?,
            neuron_update: hw.cycles_per_neuron_update?,
            model_update: hw.models.map(|m| m.and_then(|c| c.cycles).unwrap_or(0.0)),
        })
    }
}

impl ChipCounts {
    /// The work of slice `s` over the run.
    pub fn work(&self, s: usize) -> CoreWork {
        let mut w = CoreWork {
            packets: self.packets_received[s],
            synaptic_events: self.synaptic_events[s],
            ..Default::default()
        };
        w.updates(self.update_kind.get(s).copied().unwrap_or(0), self.neuron_updates[s]);
        w
    }

    /// Packet copies that crossed a link between chips, over the run.
    pub fn links_crossed(&self) -> u64 {
        self.link_packets.values().sum()
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
pub(super) fn as_list<S: serde::Serializer>(m: &BTreeMap<(u32, u8), u64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.iter().map(|(&(c, d), &n)| (c, d, n)))
}

/// What a chip run produced: the same [`RunResult`] as every simulator, plus counts.
#[derive(Clone, Debug)]
pub struct ChipRun {
    pub result: RunResult,
    pub counts: ChipCounts,
    /// Per shard of this process: the host seconds it spent blocked waiting for the
    /// others. A measure of the host's run, not of the chip: it changes from run to
    /// run. One shard waiting far longer than another had less work or a faster core;
    /// all of them waiting long were held up by the host.
    pub shard_wait_s: Vec<f64>,
}
