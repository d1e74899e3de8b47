//! The `arm-core` family as typed values (SpiNNaker-like chips).

use crate::HwModel;

/// Every `arm-core` parameter, read once from a validated model.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmCore {
    pub cores: u32,
    pub reserved_cores: u32,
    pub sdram_bytes: u64,
    pub router_entries: u32,
    pub clock_hz: f64,
    pub local_memory_bytes: u64,
    pub max_neurons: u32,
    pub neuron_state_bytes: u64,
    pub overhead_bytes: u64,
    pub synapse_bytes: u64,
    pub row_header_bytes: u64,
    pub max_delay_steps: u32,
    pub delay_extension_stages: u32,
    pub packet_bits: u32,
    pub router: Option<RouterTiming>,
    pub idle_chip_w: Option<f64>,
    pub busy_core_w: Option<f64>,
    pub base_core_w: Option<f64>,
    pub router_bit_j: Option<f64>,
    /// Performance levels below the chip clock (DVFS), slowest first.
    pub dvfs: Vec<DvfsLevel>,
    pub cycles_per_packet: Option<f64>,
    pub cycles_per_synaptic_event: Option<f64>,
    pub cycles_per_neuron_update: Option<f64>,
    /// How products round: an index into [`crate::family::ROUNDING_MODES`].
    pub rounding: usize,
    /// The neuron state's number format: an index into [`crate::family::FORMATS`].
    pub format: usize,
    /// Where the kernel holds its products' constants: an index into
    /// [`crate::family::CONSTANTS`] (0: the state format; 1: wide).
    pub constants: usize,
    /// Per model of [`MODEL_FIGURES`]: its state and cycles, when the model gives its
    /// state bytes (else the chip does not map that model).
    pub models: [Option<ModelCost>; MODEL_FIGURES.len()],
}

/// The neuron models a chip model prices apart from the LIF kernel (`[models]`
/// figures); every other model (`lif`, `if`, `li`, `cuba_lif`, `threshold`) is priced
/// by `core.neuron_state_bytes` and `timing.cycles_per_neuron_update`.
pub const MODEL_FIGURES: [&str; 3] = ["izhikevich", "cond_lif", "adaptive_lif"];

/// The state and update cycles of one neuron of a model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelCost {
    pub state_bytes: u64,
    pub cycles: Option<f64>,
}

/// Which cost a neuron model is priced by: 0 for the LIF kernel's figures, `1 + k` for
/// `MODEL_FIGURES[k]`.
pub fn cost_kind(model: &str) -> usize {
    MODEL_FIGURES.iter().position(|&m| m == model).map_or(0, |k| k + 1)
}

/// One performance level below the chip clock: its clock, and a core's active and
/// baseline power there (`None`: the model leaves the figure out).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DvfsLevel {
    pub clock_hz: f64,
    pub busy_core_w: Option<f64>,
    pub base_core_w: Option<f64>,
}

/// The router and link timing of a model, when it gives all of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RouterTiming {
    pub clock_hz: f64,
    pub pipeline_cycles: u32,
    pub link_packet_s: f64,
    pub drop_wait_cycles: u32,
}

impl RouterTiming {
    fn from_model(m: &HwModel) -> Option<Self> {
        let g = |k: &str| m.get("router", k);
        Some(Self {
            clock_hz: g("clock_hz")?,
            pipeline_cycles: g("pipeline_cycles")? as u32,
            link_packet_s: g("link_packet_s")?,
            drop_wait_cycles: g("drop_wait_cycles")? as u32,
        })
    }
}

impl ArmCore {
    /// The typed view of a model of the `arm-core` family (`None` for another family).
    pub fn from_model(m: &HwModel) -> Option<Self> {
        if m.family != "arm-core" {
            return None;
        }
        let c = |s: &str, k: &str| m.require(s, k);
        Some(Self {
            cores: c("chip", "cores") as u32,
            reserved_cores: c("chip", "reserved_cores") as u32,
            sdram_bytes: c("chip", "sdram_bytes") as u64,
            router_entries: c("chip", "router_entries") as u32,
            clock_hz: c("chip", "clock_hz"),
            local_memory_bytes: c("core", "local_memory_bytes") as u64,
            max_neurons: c("core", "max_neurons") as u32,
            neuron_state_bytes: c("core", "neuron_state_bytes") as u64,
            overhead_bytes: c("core", "overhead_bytes") as u64,
            synapse_bytes: c("core", "synapse_bytes") as u64,
            row_header_bytes: c("core", "row_header_bytes") as u64,
            max_delay_steps: c("core", "max_delay_steps") as u32,
            delay_extension_stages: c("core", "delay_extension_stages") as u32,
            packet_bits: c("router", "packet_bits") as u32,
            router: RouterTiming::from_model(m),
            idle_chip_w: m.get("energy", "idle_chip_w"),
            busy_core_w: m.get("energy", "busy_core_w"),
            base_core_w: m.get("energy", "base_core_w"),
            router_bit_j: m.get("energy", "router_bit_j"),
            dvfs: {
                let mut v: Vec<DvfsLevel> = (1..=2)
                    .filter_map(|i| {
                        Some(DvfsLevel {
                            clock_hz: m.get("dvfs", &format!("clock_hz_{i}"))?,
                            busy_core_w: m.get("dvfs", &format!("busy_core_w_{i}")),
                            base_core_w: m.get("dvfs", &format!("base_core_w_{i}")),
                        })
                    })
                    .filter(|l| l.clock_hz > 0.0 && l.clock_hz < c("chip", "clock_hz"))
                    .collect();
                v.sort_by(|a, b| a.clock_hz.total_cmp(&b.clock_hz));
                v
            },
            cycles_per_packet: m.get("timing", "cycles_per_packet"),
            cycles_per_synaptic_event: m.get("timing", "cycles_per_synaptic_event"),
            cycles_per_neuron_update: m.get("timing", "cycles_per_neuron_update"),
            rounding: m.get("arith", "rounding").unwrap_or(0.0) as usize,
            format: m.get("arith", "format").unwrap_or(0.0) as usize,
            constants: m.get("arith", "constants").unwrap_or(0.0) as usize,
            models: MODEL_FIGURES.map(|name| {
                Some(ModelCost {
                    state_bytes: m.get("models", &format!("{name}_state_bytes"))? as u64,
                    cycles: m.get("models", &format!("{name}_cycles")),
                })
            }),
        })
    }

    /// Local memory per neuron of `model` (a model name), or `None` when the chip
    /// model does not map it.
    pub fn state_bytes(&self, model: &str) -> Option<u64> {
        match cost_kind(model) {
            0 => Some(self.neuron_state_bytes),
            k => self.models[k - 1].map(|c| c.state_bytes),
        }
    }

    /// Why this chip does not map neurons of `model`, if it does not: a `[models]`
    /// figure it lacks.
    pub fn refuses(&self, model: &str) -> Option<String> {
        let k = cost_kind(model);
        if k == 0 {
            return None;
        }
        match self.models[k - 1] {
            None => Some(format!("models.{model}_state_bytes")),
            Some(ModelCost { cycles: None, .. }) if self.cycles_per_neuron_update.is_some() => {
                Some(format!("models.{model}_cycles"))
            }
            Some(_) => None,
        }
    }

    /// The performance levels' clocks (Hz), slowest first, ending with the chip clock.
    pub fn level_hz(&self) -> Vec<f64> {
        self.dvfs.iter().map(|l| l.clock_hz).chain([self.clock_hz]).collect()
    }

    /// The performance levels, slowest first, ending with the chip clock and the
    /// `[energy]` figures.
    pub fn levels(&self) -> Vec<DvfsLevel> {
        let top = DvfsLevel { clock_hz: self.clock_hz, busy_core_w: self.busy_core_w, base_core_w: self.base_core_w };
        self.dvfs.iter().copied().chain([top]).collect()
    }

    /// Cores per chip that may hold neurons.
    pub fn app_cores(&self) -> u32 {
        self.cores.saturating_sub(self.reserved_cores)
    }

    /// A core's share of its chip's shared memory: the partitioner keeps every slice's
    /// synaptic matrix within it, so any placement fits the chip.
    pub fn sdram_per_core(&self) -> u64 {
        self.sdram_bytes / u64::from(self.app_cores().max(1))
    }

    /// The longest delay (steps) the chip handles, with delay extensions.
    pub fn longest_delay(&self) -> u32 {
        self.max_delay_steps.saturating_mul(self.delay_extension_stages + 1)
    }
}
