//! A binary-network array as a tile of a hybrid chip: one threshold population (a
//! binary layer) on the array, its input bits arriving as packets. The array evaluates
//! every neuron's circuit every step whatever its input (the schedule is static), so
//! each step costs the layer's mapped [`Actions`] and its cycles ÷ clock; the chip
//! simulator computes the spikes with the integer sums the array computes.

use neuromap_hw::HwModel;
use neuromap_ir::{Network, PopId};
use neuromap_sim::chip::{TileCounter, TileCounts};

use crate::lower::{BinaryNet, lower_layer};
use crate::map::{Actions, BinaryMapping, map};

/// The mapping of threshold population `pop` alone onto the array `model`.
pub fn map_layer(net: &Network, pop: PopId, model: &HwModel) -> Result<BinaryMapping, String> {
    let Some((layer, max_delay)) = lower_layer(net, pop).map_err(|e| e.to_string())? else {
        return Err(format!("population `{}` is not a threshold population", net.pop(pop).name));
    };
    map(&BinaryNet { layers: vec![layer], max_delay }, model).map_err(|e| e.to_string())
}

/// Counts one array's steps.
#[derive(Debug)]
pub struct ArrayCounter {
    per_step: Actions,
    clock_hz: f64,
    total: Actions,
    steps: u64,
}

impl ArrayCounter {
    pub fn new(mapping: &BinaryMapping) -> Self {
        Self { per_step: mapping.step_actions(), clock_hz: mapping.clock_hz, total: Actions::default(), steps: 0 }
    }
}

/// `a` as named actions, the names [`neuromap_sim::chip::TileCounts`] carries.
pub fn named(a: &Actions) -> Vec<(&'static str, f64)> {
    [
        ("cycles", a.cycles),
        ("cell evaluations", a.cell_evals),
        ("register reads (bits)", a.register_reads),
        ("register writes (bits)", a.register_writes),
        ("XNORs", a.xnors),
        ("adder bits", a.adder_bits),
        ("register bits", a.register_bits),
        ("compares", a.compares),
        ("weight reads (bits)", a.weight_bits),
        ("input bits", a.input_bits),
    ]
    .into_iter()
    .map(|(k, v)| (k, v as f64))
    .collect()
}

impl TileCounter for ArrayCounter {
    fn packet(&mut self, _pre: PopId, _neuron: u32, _k: u32) {}

    fn end_step(&mut self, _updates: u64) -> f64 {
        self.total.add(&self.per_step);
        self.steps += 1;
        self.per_step.cycles as f64 / self.clock_hz
    }

    fn finish(self: Box<Self>) -> TileCounts {
        let step = self.per_step.cycles as f64 / self.clock_hz;
        let mut actions = named(&self.total);
        actions.push(("slowest step (s)", if self.steps > 0 { step } else { 0.0 }));
        actions.push(("busy (s)", step * self.steps as f64));
        TileCounts { actions }
    }
}
