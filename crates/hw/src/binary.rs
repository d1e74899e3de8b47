//! The binary-network families as typed values: `threshold-logic` (TULIP-like) and its
//! baseline `mac-bnn`.

use crate::HwModel;

/// Every `threshold-logic` parameter, read once from a validated model.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdLogic {
    pub pes: u32,
    pub cells_per_pe: u32,
    pub fan_in: u32,
    pub max_weight: u32,
    pub register_bits: u32,
    pub input_bits_per_cycle: u32,
    pub weight_memory_bits: u64,
    pub clock_hz: f64,
    pub cell_eval_j: f64,
    pub register_read_j: f64,
    pub register_write_j: f64,
    pub weight_read_j: f64,
    pub input_read_j: f64,
    pub static_w: f64,
}

impl ThresholdLogic {
    /// The typed view of a `threshold-logic` model (`None` for another family).
    pub fn from_model(m: &HwModel) -> Option<Self> {
        if m.family != "threshold-logic" {
            return None;
        }
        let a = |k: &str| m.require("array", k);
        let e = |k: &str| m.require("energy", k);
        Some(Self {
            pes: a("pes") as u32,
            cells_per_pe: a("cells_per_pe") as u32,
            fan_in: a("fan_in") as u32,
            max_weight: a("max_weight") as u32,
            register_bits: a("register_bits") as u32,
            input_bits_per_cycle: a("input_bits_per_cycle") as u32,
            weight_memory_bits: a("weight_memory_bits") as u64,
            clock_hz: a("clock_hz"),
            cell_eval_j: e("cell_eval_j"),
            register_read_j: e("register_read_j"),
            register_write_j: e("register_write_j"),
            weight_read_j: e("weight_read_j"),
            input_read_j: e("input_read_j"),
            static_w: e("static_w"),
        })
    }
}

/// Every `mac-bnn` parameter, read once from a validated model.
#[derive(Clone, Debug, PartialEq)]
pub struct MacBnn {
    pub units: u32,
    pub xnor_width: u32,
    pub accumulator_bits: u32,
    pub weight_memory_bits: u64,
    pub clock_hz: f64,
    pub xnor_j: f64,
    pub adder_bit_j: f64,
    pub register_bit_j: f64,
    pub compare_j: f64,
    pub weight_read_j: f64,
    pub input_read_j: f64,
    pub static_w: f64,
}

impl MacBnn {
    /// The typed view of a `mac-bnn` model (`None` for another family).
    pub fn from_model(m: &HwModel) -> Option<Self> {
        if m.family != "mac-bnn" {
            return None;
        }
        let a = |k: &str| m.require("array", k);
        let e = |k: &str| m.require("energy", k);
        Some(Self {
            units: a("units") as u32,
            xnor_width: a("xnor_width") as u32,
            accumulator_bits: a("accumulator_bits") as u32,
            weight_memory_bits: a("weight_memory_bits") as u64,
            clock_hz: a("clock_hz"),
            xnor_j: e("xnor_j"),
            adder_bit_j: e("adder_bit_j"),
            register_bit_j: e("register_bit_j"),
            compare_j: e("compare_j"),
            weight_read_j: e("weight_read_j"),
            input_read_j: e("input_read_j"),
            static_w: e("static_w"),
        })
    }
}
