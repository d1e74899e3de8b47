//! Hardware families and the parameters each declares.
//!
//! A family lists its parameters once (section, key, unit, meaning, and a default with
//! its provenance or "required"); the loader validates model files against that list,
//! and `neuromap hw describe FAMILY` prints it.

use serde::Serialize;

/// Whether a parameter is a count (an integer) or a real quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Count,
    Real,
    /// One of these names, written as a string (`value = "nearest"`) and held as its
    /// index.
    Choice(&'static [&'static str]),
}

/// The rounding modes of a product in a fixed-point format (`arith.rounding`).
pub const ROUNDING_MODES: &[&str] = &["truncate", "nearest", "stochastic"];

/// The number formats of an ARM-core chip's neuron state (`arith.format`).
pub const FORMATS: &[&str] = &["s16.15", "f32"];

/// Where a kernel holds the constants of its products (`arith.constants`).
pub const CONSTANTS: &[&str] = &["state", "wide"];

/// One parameter of a family.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ParamDef {
    /// The model file's table (`chip`, `core`, `router`, `energy`, `timing`).
    pub section: &'static str,
    pub key: &'static str,
    pub unit: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
    /// The value used when a file leaves the parameter out, with its provenance;
    /// `None` for a required parameter (or an optional one with no default, see
    /// [`ParamDef::optional`]).
    pub default: Option<(f64, &'static str)>,
    /// Optional parameters may be absent (the cost they feed is then reported as
    /// unknown rather than guessed).
    pub optional: bool,
    /// When the figure may change with a count (`by`, e.g. "tiles in use"): a file may
    /// give `from = { N = value, … }`, the value from `N` upward (`value` below the
    /// first `N`).
    pub by: Option<&'static str>,
}

impl ParamDef {
    pub fn path(&self) -> String {
        format!("{}.{}", self.section, self.key)
    }
}

const fn req(section: &'static str, key: &'static str, unit: &'static str, kind: Kind, doc: &'static str) -> ParamDef {
    ParamDef { section, key, unit, kind, doc, default: None, optional: false, by: None }
}

const fn opt(section: &'static str, key: &'static str, unit: &'static str, kind: Kind, doc: &'static str) -> ParamDef {
    ParamDef { optional: true, ..req(section, key, unit, kind, doc) }
}

const fn dflt(
    section: &'static str,
    key: &'static str,
    unit: &'static str,
    kind: Kind,
    doc: &'static str,
    value: f64,
    source: &'static str,
) -> ParamDef {
    ParamDef { default: Some((value, source)), ..req(section, key, unit, kind, doc) }
}

/// `def`, whose value may step with the count `by` (see [`ParamDef::by`]).
const fn stepped(def: ParamDef, by: &'static str) -> ParamDef {
    ParamDef { by: Some(by), ..def }
}

use Kind::{Count, Real};

/// The `arm-core` family: many-core chips of general-purpose cores with a key/mask
/// multicast router (SpiNNaker 1 and 2).
pub const ARM_CORE: &[ParamDef] = &[
    req("chip", "cores", "cores", Count, "processor cores per chip"),
    req("chip", "reserved_cores", "cores", Count, "cores per chip kept for the system (monitor), not for neurons"),
    req("chip", "sdram_bytes", "bytes", Count, "shared memory per chip available to applications (synaptic matrices)"),
    req(
        "chip",
        "router_entries",
        "entries",
        Count,
        "multicast routing table entries per chip available to applications",
    ),
    req("chip", "clock_hz", "Hz", Real, "core clock"),
    req("core", "local_memory_bytes", "bytes", Count, "core-local data memory (neuron state, input buffers)"),
    req("core", "max_neurons", "neurons", Count, "neurons one core may simulate (the software's limit)"),
    req(
        "core",
        "neuron_state_bytes",
        "bytes/neuron",
        Count,
        "local memory per neuron (state, parameters, input ring buffer)",
    ),
    req("core", "overhead_bytes", "bytes", Count, "local memory a core uses besides its neurons"),
    req("core", "synapse_bytes", "bytes/synapse", Count, "shared memory per synapse in a synaptic row"),
    req("core", "row_header_bytes", "bytes/row", Count, "shared memory per synaptic row (one row per source neuron)"),
    req(
        "core",
        "max_delay_steps",
        "steps",
        Count,
        "longest delay a core's input ring buffer holds; longer delays go through delay-extension cores",
    ),
    req(
        "core",
        "delay_extension_stages",
        "stages",
        Count,
        "delay-extension stages of max_delay_steps each (longest delay = max_delay_steps × (stages + 1))",
    ),
    dflt(
        "router",
        "packet_bits",
        "bits",
        Count,
        "bits in a multicast packet without payload",
        40.0,
        "Furber et al., IEEE TC 62(12), 2013: packets are 40 or 72 bits",
    ),
    opt("router", "clock_hz", "Hz", Real, "router clock: the router takes one packet per router cycle"),
    opt(
        "router",
        "pipeline_cycles",
        "cycles",
        Count,
        "router cycles from a packet's arrival to its departure (the per-hop latency)",
    ),
    opt("router", "link_packet_s", "s", Real, "time one packet occupies an inter-chip link (link bandwidth)"),
    opt(
        "router",
        "drop_wait_cycles",
        "cycles",
        Count,
        "router cycles a packet may wait for a blocked output before the router drops it",
    ),
    opt(
        "energy",
        "idle_chip_w",
        "W",
        Real,
        "power of a powered chip whose cores are idle (charged over the wall time, per chip)",
    ),
    opt(
        "energy",
        "busy_core_w",
        "W",
        Real,
        "extra power of a core while it computes at the chip clock (charged over its active time: cycles ÷ clock)",
    ),
    opt(
        "energy",
        "base_core_w",
        "W",
        Real,
        "baseline (leakage and clock tree) power of a core in use at the chip clock, not in idle_chip_w (absent: included there)",
    ),
    opt("energy", "router_bit_j", "J/bit", Real, "energy per bit of a packet routed through a router"),
    opt("dvfs", "clock_hz_1", "Hz", Real, "the slowest performance level's clock (DVFS; absent: no DVFS)"),
    opt("dvfs", "busy_core_w_1", "W", Real, "busy_core_w at the slowest performance level"),
    opt("dvfs", "base_core_w_1", "W", Real, "base_core_w at the slowest performance level"),
    opt("dvfs", "clock_hz_2", "Hz", Real, "a second, faster performance level's clock, below the chip clock"),
    opt("dvfs", "busy_core_w_2", "W", Real, "busy_core_w at the second performance level"),
    opt("dvfs", "base_core_w_2", "W", Real, "base_core_w at the second performance level"),
    opt(
        "timing",
        "cycles_per_packet",
        "cycles",
        Real,
        "core cycles to take a packet: interrupt, row lookup, DMA of the synaptic row",
    ),
    opt(
        "timing",
        "cycles_per_synaptic_event",
        "cycles",
        Real,
        "core cycles to add one synapse's weight into the input ring buffer",
    ),
    opt(
        "timing",
        "cycles_per_neuron_update",
        "cycles",
        Real,
        "core cycles to update one LIF neuron (current synapses) for one timestep; the other models' are in [models]",
    ),
    opt(
        "models",
        "izhikevich_state_bytes",
        "bytes/neuron",
        Count,
        "local memory per Izhikevich neuron (absent: the chip does not map the model)",
    ),
    opt("models", "izhikevich_cycles", "cycles", Real, "core cycles to update one Izhikevich neuron for one timestep"),
    opt(
        "models",
        "cond_lif_state_bytes",
        "bytes/neuron",
        Count,
        "local memory per conductance-based LIF neuron (absent: the chip does not map the model)",
    ),
    opt(
        "models",
        "cond_lif_cycles",
        "cycles",
        Real,
        "core cycles to update one conductance-based LIF neuron for one timestep",
    ),
    opt(
        "models",
        "adaptive_lif_state_bytes",
        "bytes/neuron",
        Count,
        "local memory per adaptive LIF neuron (absent: the chip does not map the model)",
    ),
    opt(
        "models",
        "adaptive_lif_cycles",
        "cycles",
        Real,
        "core cycles to update one adaptive LIF neuron for one timestep",
    ),
    dflt(
        "arith",
        "format",
        "format",
        Kind::Choice(FORMATS),
        "the number format of the neuron state and its products: s16.15 fixed point (products rounded by arith.rounding) or IEEE single precision (f32, products rounded to nearest even by the FPU); weights are 16-bit integers scaled per receptor in both",
        0.0,
        "s16.15: sPyNNaker's neuron models compute in ISO C `accum` (s16.15) on the ARM968, which has no floating-point unit (Hopkins, Mikaitis, Lester and Furber, Phil. Trans. R. Soc. A 378:20190052, 2020)",
    ),
    dflt(
        "arith",
        "constants",
        "where",
        Kind::Choice(CONSTANTS),
        "where the Izhikevich kernel holds the constants of its products (0.04, a, b): in the state format (`state`), or, those in [0, 2), in the decay factors' wider format (`wide`: u1.31 beside s16.15), as Hopkins et al.'s fixed-point solvers hold them",
        0.0,
        "state: sPyNNaker's neuron_model_izh_impl.c writes its constants as REAL_CONST and its parameters as REAL, both s16.15 `accum`",
    ),
    dflt(
        "arith",
        "rounding",
        "mode",
        Kind::Choice(ROUNDING_MODES),
        "how the s16.15 products (decay × potential, gain × current) are brought back to 15 fraction bits: truncate (toward −∞), nearest, or stochastic (keyed by population, neuron, step and product); an f32 format rounds to nearest even and takes only `truncate` here",
        0.0,
        "truncate: sPyNNaker's neuron models compute in ISO C `accum` (s16.15) and its products drop the low bits by arithmetic shifts (Hopkins, Mikaitis, Lester and Furber, Phil. Trans. R. Soc. A 378:20190052, 2020, on SpiNNaker 1's fixed-point ODE solvers)",
    ),
    opt(
        "area",
        "chip_mm2",
        "mm²",
        Real,
        "die area of one chip (cores, router, memories); a run's area is that of its chips in use and allocated (absent: no area)",
    ),
];

/// The `threshold-logic` family: an array of processing elements run in SIMD, each a
/// few reconfigurable threshold-logic cells (`Σ wᵢxᵢ ≥ T` over binary inputs, bounded
/// fan-in) with local registers (TULIP-like binary-network accelerators).
pub const THRESHOLD_LOGIC: &[ParamDef] = &[
    req(
        "array",
        "pes",
        "PEs",
        Count,
        "processing elements; each computes one neuron at a time, all in lockstep (SIMD)",
    ),
    req("array", "cells_per_pe", "cells", Count, "threshold-logic cells per processing element"),
    req("array", "fan_in", "inputs", Count, "inputs one cell sums (its fan-in k)"),
    req("array", "max_weight", "", Count, "largest magnitude of a cell input's integer weight"),
    req("array", "register_bits", "bits", Count, "local register bits per processing element (live partial results)"),
    req(
        "array",
        "input_bits_per_cycle",
        "bits",
        Count,
        "network-input bits (activations and weight signs) one PE's cells take from the input bus per cycle",
    ),
    req("array", "weight_memory_bits", "bits", Count, "weight memory of the whole array"),
    req("array", "clock_hz", "Hz", Real, "array clock: one cell evaluation per cell per cycle"),
    req("energy", "cell_eval_j", "J", Real, "one threshold-logic cell evaluation"),
    req("energy", "register_read_j", "J/bit", Real, "reading one bit of a local register into a cell"),
    req("energy", "register_write_j", "J/bit", Real, "writing a cell's output bit into a local register"),
    req("energy", "weight_read_j", "J/bit", Real, "reading one weight bit from the weight memory"),
    req("energy", "input_read_j", "J/bit", Real, "one activation bit delivered to a PE over the input bus"),
    req("energy", "static_w", "W", Real, "static (leakage and clock) power of the array while it runs"),
    opt("area", "array_mm2", "mm²", Real, "area of the whole array (PEs, registers, weight memory) (absent: no area)"),
];

/// The `mac-bnn` family: the conventional binary-network accelerator (XNOR gates, a
/// popcount adder tree, an accumulator and a comparator per unit, weights in SRAM), the
/// baseline threshold-logic designs are measured against.
pub const MAC_BNN: &[ParamDef] = &[
    req("array", "units", "units", Count, "XNOR-popcount units; each computes one neuron at a time, all in lockstep"),
    req(
        "array",
        "xnor_width",
        "inputs",
        Count,
        "inputs one unit takes per cycle (XNOR gates feeding one popcount tree)",
    ),
    req("array", "accumulator_bits", "bits", Count, "width of a unit's popcount accumulator"),
    req("array", "weight_memory_bits", "bits", Count, "weight memory of the whole array"),
    req("array", "clock_hz", "Hz", Real, "array clock"),
    req("energy", "xnor_j", "J", Real, "one XNOR of an activation bit with a weight bit"),
    req("energy", "adder_bit_j", "J", Real, "one full-adder bit operation (popcount tree and accumulator)"),
    req("energy", "register_bit_j", "J/bit", Real, "writing one bit of a pipeline or accumulator register"),
    req("energy", "compare_j", "J", Real, "comparing one neuron's count with its threshold"),
    req("energy", "weight_read_j", "J/bit", Real, "reading one weight bit from the weight memory"),
    req("energy", "input_read_j", "J/bit", Real, "one activation bit delivered to a unit over the input bus"),
    req("energy", "static_w", "W", Real, "static (leakage and clock) power of the array while it runs"),
    opt(
        "area",
        "array_mm2",
        "mm²",
        Real,
        "area of the whole array (units, accumulators, weight memory) (absent: no area)",
    ),
];

/// The `crossbar` family: resistive-memory (RRAM) crossbar tiles computing weighted
/// sums in the analogue domain, ADCs, and a digital periphery that holds the neurons.
pub const CROSSBAR: &[ParamDef] = &[
    req("tile", "rows", "rows", Count, "word lines per crossbar array (inputs)"),
    req(
        "tile",
        "columns",
        "columns",
        Count,
        "bit lines per crossbar array (outputs; two per signed weight when differential)",
    ),
    req("tile", "tiles", "tiles", Count, "crossbar arrays on the chip"),
    req("tile", "levels", "levels", Count, "conductance levels a cell is programmed to"),
    dflt(
        "tile",
        "differential",
        "",
        Count,
        "1: a signed weight is a differential column pair (G⁺ − G⁻); 0: one column against a reference column at the middle level",
        1.0,
        "the usual convention of crossbar simulators (NeuroSim, CrossSim)",
    ),
    req("tile", "g_min_s", "S", Real, "lowest programmable conductance (high-resistance state)"),
    req("tile", "g_max_s", "S", Real, "highest programmable conductance (low-resistance state)"),
    req("tile", "v_read", "V", Real, "read voltage on an active word line"),
    req("tile", "t_read_s", "s", Real, "read pulse"),
    req(
        "device",
        "sigma",
        "",
        Real,
        "device-to-device variation: relative standard deviation of a programmed conductance",
    ),
    req("device", "stuck_low", "", Real, "fraction of cells stuck at the lowest conductance"),
    req("device", "stuck_high", "", Real, "fraction of cells stuck at the highest conductance"),
    req("device", "read_noise", "", Real, "relative standard deviation of a cell's current on each read"),
    opt(
        "device",
        "r_wire_ohm",
        "Ω",
        Real,
        "wire resistance between neighbouring cells (first-order IR drop; absent: none)",
    ),
    req("adc", "bits", "bits", Count, "ADC resolution over its full scale (see range_rows)"),
    opt(
        "adc",
        "range_rows",
        "rows",
        Count,
        "rows at the largest level whose sum is the ADC's full scale (absent: every row of the tile); larger sums clip",
    ),
    req("adc", "columns_per_adc", "columns", Count, "columns sharing one ADC (converted one after another)"),
    stepped(req("adc", "energy_j", "J", Real, "energy of one conversion (power ÷ sample rate)"), "ADC bits"),
    stepped(req("adc", "latency_s", "s", Real, "time of one conversion"), "ADC bits"),
    req("periphery", "driver_j", "J", Real, "driving one active word line for one read"),
    req("periphery", "add_j", "J", Real, "adding one column's partial sum into a neuron's input (digital)"),
    req("periphery", "neuron_update_j", "J", Real, "one neuron's fixed-point state update in the periphery"),
    req("periphery", "static_w", "W", Real, "static power of the chip while it runs"),
    req("noc", "hop_j", "J", Real, "a spike packet crossing one network-on-chip hop"),
    req("noc", "hop_s", "s", Real, "latency of one hop"),
    opt(
        "area",
        "tile_mm2",
        "mm²",
        Real,
        "area of one tile: its array, drivers and periphery, and its ADCs unless area.adc_mm2 gives them; a run's area is that of its tiles in use and allocated (absent: no area)",
    ),
    stepped(
        opt(
            "area",
            "adc_mm2",
            "mm²",
            Real,
            "area of one ADC at the model's adc.bits, added to area.tile_mm2 once per columns_per_adc columns (absent: tile_mm2 includes the ADCs)",
        ),
        "ADC bits",
    ),
];

/// The `neurocore` family: digital neuromorphic chips of many small neuron cores on a
/// mesh (Loihi, TrueNorth), priced per event as SANA-FE prices them.
pub const NEUROCORE: &[ParamDef] = &[
    req("core", "cores", "cores", Count, "neuron cores on the chip"),
    req("core", "cores_per_tile", "cores", Count, "cores sharing one mesh router (a tile)"),
    req("core", "neurons_per_core", "neurons", Count, "neurons (compartments) one core holds"),
    req(
        "core",
        "max_axons_in",
        "axons",
        Count,
        "distinct presynaptic neurons whose spikes one core takes (input axons)",
    ),
    req("core", "max_dest_cores", "cores", Count, "cores one neuron's spikes may reach"),
    req("energy", "neuron_access_j", "J", Real, "reading one neuron's state, every neuron every step"),
    req("energy", "neuron_update_j", "J", Real, "updating a neuron that received input"),
    req("energy", "spike_out_j", "J", Real, "a neuron's spike leaving its soma"),
    req("energy", "synapse_j", "J", Real, "one synaptic event (a spike through one synapse)"),
    req("energy", "message_j", "J", Real, "a spike message sent from a core to a core it reaches (its own included)"),
    req("energy", "hop_x_j", "J", Real, "a message crossing one east-west mesh hop"),
    req("energy", "hop_y_j", "J", Real, "a message crossing one north-south mesh hop"),
    opt("energy", "static_w", "W", Real, "static power of the chip while it runs (absent: not counted)"),
    req("timing", "neuron_access_s", "s", Real, "time to read one neuron's state"),
    req("timing", "neuron_update_s", "s", Real, "time to update one neuron"),
    req("timing", "spike_out_s", "s", Real, "time to emit one spike"),
    req("timing", "synapse_s", "s", Real, "time of one synaptic event"),
    req("timing", "message_out_s", "s", Real, "time to send one message"),
    req("timing", "message_in_s", "s", Real, "time to take in one message"),
    req("timing", "hop_x_s", "s", Real, "latency of one east-west hop"),
    req("timing", "hop_y_s", "s", Real, "latency of one north-south hop"),
    stepped(req("timing", "sync_s", "s", Real, "the barrier that ends every step"), "tiles in use"),
    dflt(
        "timing",
        "link_buffer",
        "messages",
        Count,
        "messages a mesh link buffers before a route counts as blocked (SANA-FE's congestion estimate)",
        16.0,
        "SANA-FE 2.2 arch/loihi.yaml link_buffer_size: 16",
    ),
    opt(
        "timing",
        "tick_s",
        "s",
        Real,
        "a real-time tick: a step lasts at least this (absent: as fast as the cores go)",
    ),
    opt(
        "neuron",
        "potential_frac_bits",
        "bits",
        Count,
        "the membrane potential's fraction bits below one weight unit: after its decay the potential is truncated toward zero to a multiple of 2^-bits (absent: not rounded)",
    ),
    opt(
        "neuron",
        "weight_bits",
        "bits",
        Count,
        "bits of a synaptic weight's signed mantissa; each projection's weights become mantissa × 2^exp with one exponent per projection, or whole numbers of the target's potential unit on an integer neuron (absent: weights as given)",
    ),
    opt(
        "neuron",
        "potential_bits",
        "bits",
        Count,
        "an integer neuron (TrueNorth): the signed potential register's bits; each population's potentials, weights, threshold, reset, bias and leak become whole numbers of one unit per population, the potential saturating to the register (absent: f64 potentials)",
    ),
    opt(
        "neuron",
        "leak_bits",
        "bits",
        Count,
        "an integer neuron's signed leak (or bias) per tick (absent: as weight_bits)",
    ),
    opt(
        "neuron",
        "state_bits",
        "bits",
        Count,
        "bits of one neuron's state in the core's memory, for NeuroBench's footprint (absent: potential_bits on an integer neuron, otherwise not counted)",
    ),
    opt("neuron", "weight_exp_neg", "bits", Count, "how far below 0 a projection's weight exponent may go (absent: 0)"),
    opt("neuron", "weight_exp_pos", "bits", Count, "how far above 0 a projection's weight exponent may go (absent: 0)"),
    opt(
        "neuron",
        "axon_types",
        "types",
        Count,
        "types of input axon per core: each axon has one, and a neuron one weight per type, so its synapses from axons of one type weigh the same (absent: a weight per synapse)",
    ),
    opt(
        "area",
        "core_mm2",
        "mm²",
        Real,
        "area of one neuron core with its share of the chip; a run's area is that of its cores in use and allocated (absent: no area)",
    ),
];

/// The families neuromap knows, by the name a model file gives.
pub const FAMILIES: &[(&str, &[ParamDef], &str)] = &[
    (
        "arm-core",
        ARM_CORE,
        "many-core chips of programmable cores with a key/mask multicast router (SpiNNaker 1 and 2)",
    ),
    (
        "threshold-logic",
        THRESHOLD_LOGIC,
        "binary-network accelerators of SIMD processing elements built from reconfigurable threshold-logic cells (TULIP-like)",
    ),
    (
        "crossbar",
        CROSSBAR,
        "resistive-memory crossbar tiles with device variation, faults, read noise and ADCs, and a digital periphery for the neurons",
    ),
    (
        "neurocore",
        NEUROCORE,
        "digital neuromorphic chips of many small neuron cores on a mesh (Loihi, TrueNorth), priced per event",
    ),
    (
        "mac-bnn",
        MAC_BNN,
        "conventional binary-network accelerators: XNOR, popcount adder tree and comparator per unit (the threshold-logic baseline)",
    ),
];

pub fn family(name: &str) -> Option<&'static [ParamDef]> {
    FAMILIES.iter().find(|f| f.0 == name).map(|f| f.1)
}
