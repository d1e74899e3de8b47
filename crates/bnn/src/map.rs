//! Mapping a [`BinaryNet`] onto a binary-network array: the threshold-logic family
//! (circuits of cells, scheduled per processing element) and the MAC baseline (XNOR
//! and popcount units). Both arrays run SIMD: a layer's neurons go to the PEs (units)
//! in batches, all of a batch in lockstep, so a batch takes as many cycles as its
//! longest neuron.

use neuromap_hw::HwModel;
use neuromap_hw::binary::{MacBnn, ThresholdLogic};
use serde::Serialize;

use crate::gates::{CellLimits, Circuit, decompose};
use crate::lower::{BinaryNet, Layer};
use crate::schedule::{PeLimits, Schedule, schedule};

/// The actions one step (one classification) takes on a layer. A family fills the
/// fields of its own hardware; the cost layer prices them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Actions {
    pub cycles: u64,
    pub cell_evals: u64,
    pub register_reads: u64,
    pub register_writes: u64,
    pub xnors: u64,
    pub adder_bits: u64,
    pub register_bits: u64,
    pub compares: u64,
    pub weight_bits: u64,
    pub input_bits: u64,
}

impl Actions {
    pub fn add(&mut self, o: &Actions) {
        self.cycles += o.cycles;
        self.cell_evals += o.cell_evals;
        self.register_reads += o.register_reads;
        self.register_writes += o.register_writes;
        self.xnors += o.xnors;
        self.adder_bits += o.adder_bits;
        self.register_bits += o.register_bits;
        self.compares += o.compares;
        self.weight_bits += o.weight_bits;
        self.input_bits += o.input_bits;
    }

    pub fn scaled(&self, k: u64) -> Actions {
        Actions {
            cycles: self.cycles * k,
            cell_evals: self.cell_evals * k,
            register_reads: self.register_reads * k,
            register_writes: self.register_writes * k,
            xnors: self.xnors * k,
            adder_bits: self.adder_bits * k,
            register_bits: self.register_bits * k,
            compares: self.compares * k,
            weight_bits: self.weight_bits * k,
            input_bits: self.input_bits * k,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("`{model}` is of family `{family}`, not a binary-network family (threshold-logic, mac-bnn)")]
    Family { model: String, family: String },
    #[error("`{model}`: {what} must be at least {min}")]
    Parameter { model: String, what: &'static str, min: u32 },
    #[error("weight memory: the network's weights need {demand} bits, the array holds {capacity} (layers: {detail})")]
    WeightMemory { demand: u64, capacity: u64, detail: String },
    #[error("layer `{layer}`, neuron {neuron}: {message}")]
    Neuron { layer: String, neuron: usize, message: String },
    #[error("layer `{layer}`, neuron {neuron}: weight {weight}; mac-bnn units take ±1 weights (XNOR of a sign bit)")]
    MacWeight { layer: String, neuron: usize, weight: i32 },
}

/// Bits a layer stores per synapse: a sign for ±1 weights, else sign and magnitude.
pub fn weight_bits_per_synapse(l: &Layer) -> u64 {
    let max = l.neurons.iter().flat_map(|n| n.inputs.iter().map(|(_, w)| w.unsigned_abs())).max().unwrap_or(1);
    if max <= 1 { 1 } else { 1 + u64::from(32 - max.leading_zeros()) }
}

/// Weight bits a layer reads from the weight memory in one step when the PEs (units)
/// take its neurons `batch` at a time: a weight is broadcast to every PE of a batch
/// whose neuron uses the same weights in the same order (the positions of one
/// convolution channel), so a batch reads each distinct weight vector once. An MLP,
/// whose neurons all differ, reads every synapse's weight.
pub fn weight_reads(l: &Layer, batch: usize, bits_per_synapse: u64) -> u64 {
    let mut total = 0u64;
    let mut seen: std::collections::HashSet<Vec<i32>> = std::collections::HashSet::new();
    for chunk in l.neurons.chunks(batch.max(1)) {
        seen.clear();
        for n in chunk {
            let w: Vec<i32> = n.inputs.iter().map(|&(_, w)| w).collect();
            let len = w.len() as u64;
            if seen.insert(w) {
                total += len * bits_per_synapse;
            }
        }
    }
    total
}

/// One layer on an array.
#[derive(Clone, Debug)]
pub struct MappedLayer {
    pub name: String,
    pub neurons: usize,
    pub max_fan_in: usize,
    /// Batches of neurons the PEs (units) take in turn.
    pub batches: u64,
    /// Per step.
    pub actions: Actions,
    /// Threshold logic: one circuit per neuron (empty for the MAC baseline).
    pub circuits: Vec<Circuit>,
    /// Threshold logic: gates of the largest circuit, its schedule length, the most
    /// live register bits of any neuron.
    pub max_gates: usize,
    pub max_cycles: u32,
    pub peak_live: u32,
    /// Fraction of PE cell-cycles (unit-cycles) doing work.
    pub utilisation: f64,
}

/// A network mapped onto a binary-network array.
#[derive(Clone, Debug)]
pub struct BinaryMapping {
    pub family: &'static str,
    pub model: String,
    pub clock_hz: f64,
    pub static_w: f64,
    pub layers: Vec<MappedLayer>,
    pub weight_memory_bits: (u64, u64),
}

impl BinaryMapping {
    /// Whether the array is of threshold-logic cells (else XNOR-popcount units).
    pub fn is_threshold_logic(&self) -> bool {
        self.family == "threshold-logic"
    }

    /// Actions of one step, all layers.
    pub fn step_actions(&self) -> Actions {
        let mut a = Actions::default();
        for l in &self.layers {
            a.add(&l.actions);
        }
        a
    }
}

fn check_weight_memory(net: &BinaryNet, capacity: u64) -> Result<u64, MapError> {
    let per: Vec<(String, u64)> =
        net.layers.iter().map(|l| (l.name.clone(), l.synapses() * weight_bits_per_synapse(l))).collect();
    let demand: u64 = per.iter().map(|p| p.1).sum();
    if demand > capacity {
        let detail = per.iter().map(|(n, b)| format!("{n} {b}")).collect::<Vec<_>>().join(", ");
        return Err(MapError::WeightMemory { demand, capacity, detail });
    }
    Ok(demand)
}

/// Maps onto a model of family `threshold-logic` or `mac-bnn`.
pub fn map(net: &BinaryNet, model: &HwModel) -> Result<BinaryMapping, MapError> {
    if let Some(tl) = ThresholdLogic::from_model(model) {
        map_tl(net, &tl, &model.name)
    } else if let Some(mac) = MacBnn::from_model(model) {
        map_mac(net, &mac, &model.name)
    } else {
        Err(MapError::Family { model: model.name.clone(), family: model.family.to_string() })
    }
}

fn at_least(model: &str, what: &'static str, v: u32, min: u32) -> Result<(), MapError> {
    if v < min { Err(MapError::Parameter { model: model.to_string(), what, min }) } else { Ok(()) }
}

fn map_tl(net: &BinaryNet, tl: &ThresholdLogic, model: &str) -> Result<BinaryMapping, MapError> {
    at_least(model, "array.pes", tl.pes, 1)?;
    at_least(model, "array.cells_per_pe", tl.cells_per_pe, 1)?;
    at_least(model, "array.fan_in", tl.fan_in, 1)?;
    at_least(model, "array.max_weight", tl.max_weight, 1)?;
    at_least(model, "array.register_bits", tl.register_bits, 1)?;
    at_least(model, "array.input_bits_per_cycle", tl.input_bits_per_cycle, 1)?;
    let used = check_weight_memory(net, tl.weight_memory_bits)?;
    let cells = CellLimits { fan_in: tl.fan_in as usize, max_weight: i64::from(tl.max_weight.min(1 << 20)) };
    let pe = PeLimits {
        cells: tl.cells_per_pe as usize,
        register_bits: tl.register_bits as usize,
        input_bits_per_cycle: tl.input_bits_per_cycle as usize,
    };
    // Each lane is a chain of dependent gates (a full adder's sum waits for its
    // carry, the next carry for that sum): one lane per cell keeps every cell busy.
    let lanes = (tl.cells_per_pe as usize).max(1);
    let mut layers = Vec::new();
    for l in &net.layers {
        let mut circuits = Vec::with_capacity(l.neurons.len());
        let mut scheds: Vec<Schedule> = Vec::with_capacity(l.neurons.len());
        for (j, n) in l.neurons.iter().enumerate() {
            let err = |message: String| MapError::Neuron { layer: l.name.clone(), neuron: j, message };
            let c = decompose(n, cells, lanes).map_err(|e| err(e.to_string()))?;
            let mut s = schedule(&c, pe).map_err(|e| err(e.to_string()))?;
            s.slots = Vec::new();
            circuits.push(c);
            scheds.push(s);
        }
        let mut a = Actions::default();
        let mut batches = 0;
        for batch in scheds.chunks(tl.pes as usize) {
            batches += 1;
            a.cycles += batch.iter().map(|s| u64::from(s.cycles)).max().unwrap_or(0);
        }
        for s in &scheds {
            a.cell_evals += s.evals;
            a.register_reads += s.register_reads;
            a.register_writes += s.register_writes;
            a.input_bits += s.input_bits;
        }
        a.weight_bits = weight_reads(l, tl.pes as usize, weight_bits_per_synapse(l));
        let capacity = a.cycles as f64 * f64::from(tl.pes) * f64::from(tl.cells_per_pe);
        layers.push(MappedLayer {
            name: l.name.clone(),
            neurons: l.neurons.len(),
            max_fan_in: l.max_fan_in(),
            batches,
            utilisation: if capacity > 0.0 { a.cell_evals as f64 / capacity } else { 0.0 },
            max_gates: circuits.iter().map(Circuit::len).max().unwrap_or(0),
            max_cycles: scheds.iter().map(|s| s.cycles).max().unwrap_or(0),
            peak_live: scheds.iter().map(|s| s.peak_live).max().unwrap_or(0),
            actions: a,
            circuits,
        });
    }
    Ok(BinaryMapping {
        family: "threshold-logic",
        model: model.to_string(),
        clock_hz: tl.clock_hz,
        static_w: tl.static_w,
        layers,
        weight_memory_bits: (used, tl.weight_memory_bits),
    })
}

fn bit_len(x: u64) -> u64 {
    u64::from(64 - x.leading_zeros())
}

fn map_mac(net: &BinaryNet, mac: &MacBnn, model: &str) -> Result<BinaryMapping, MapError> {
    at_least(model, "array.units", mac.units, 1)?;
    at_least(model, "array.xnor_width", mac.xnor_width, 1)?;
    let used = check_weight_memory(net, mac.weight_memory_bits)?;
    let x = mac.xnor_width as usize;
    let mut layers = Vec::new();
    for l in &net.layers {
        let need = bit_len(l.max_fan_in() as u64).max(1) as u32;
        if need > mac.accumulator_bits {
            return Err(MapError::Neuron {
                layer: l.name.clone(),
                neuron: l.neurons.iter().position(|n| n.inputs.len() == l.max_fan_in()).unwrap_or(0),
                message: format!(
                    "accumulator bits: a fan-in of {} needs {need}, the units have {}",
                    l.max_fan_in(),
                    mac.accumulator_bits
                ),
            });
        }
        let mut a = Actions::default();
        let mut per_neuron = Vec::with_capacity(l.neurons.len());
        for (j, n) in l.neurons.iter().enumerate() {
            if let Some((_, w)) = n.inputs.iter().find(|(_, w)| w.unsigned_abs() != 1) {
                return Err(MapError::MacWeight { layer: l.name.clone(), neuron: j, weight: *w });
            }
            let len = n.inputs.len();
            let chunks = len.div_ceil(x) as u64;
            per_neuron.push(chunks + 1);
            a.xnors += len as u64;
            a.input_bits += len as u64;
            for c in 0..chunks as usize {
                let w = (len - c * x).min(x) as u64;
                // A popcount tree of w bits: w − bitlen(w) full adders; then the
                // accumulator adds the partial count and is written.
                a.adder_bits += w.saturating_sub(bit_len(w)) + u64::from(mac.accumulator_bits);
                a.register_bits += u64::from(mac.accumulator_bits);
            }
            a.compares += 1;
        }
        let mut batches = 0;
        for batch in per_neuron.chunks(mac.units as usize) {
            batches += 1;
            a.cycles += batch.iter().copied().max().unwrap_or(0);
        }
        a.weight_bits = weight_reads(l, mac.units as usize, 1);
        let capacity = a.cycles as f64 * f64::from(mac.units);
        let busy: u64 = per_neuron.iter().sum();
        layers.push(MappedLayer {
            name: l.name.clone(),
            neurons: l.neurons.len(),
            max_fan_in: l.max_fan_in(),
            batches,
            utilisation: if capacity > 0.0 { busy as f64 / capacity } else { 0.0 },
            max_gates: 0,
            max_cycles: per_neuron.iter().copied().max().unwrap_or(0) as u32,
            peak_live: 0,
            actions: a,
            circuits: Vec::new(),
        });
    }
    Ok(BinaryMapping {
        family: "mac-bnn",
        model: model.to_string(),
        clock_hz: mac.clock_hz,
        static_w: mac.static_w,
        layers,
        weight_memory_bits: (used, mac.weight_memory_bits),
    })
}
