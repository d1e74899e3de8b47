//! The `neurocore` family as typed values (Loihi, TrueNorth).

use crate::HwModel;

/// Every `neurocore` parameter, read once from a validated model.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuroCore {
    pub cores: u32,
    pub cores_per_tile: u32,
    pub neurons_per_core: u32,
    pub max_axons_in: u32,
    pub max_dest_cores: u32,
    pub neuron_access_j: f64,
    pub neuron_update_j: f64,
    pub spike_out_j: f64,
    pub synapse_j: f64,
    pub message_j: f64,
    pub hop_x_j: f64,
    pub hop_y_j: f64,
    pub static_w: Option<f64>,
    pub neuron_access_s: f64,
    pub neuron_update_s: f64,
    pub spike_out_s: f64,
    pub synapse_s: f64,
    pub message_out_s: f64,
    pub message_in_s: f64,
    pub hop_x_s: f64,
    pub hop_y_s: f64,
    pub sync_s: f64,
    /// `(tiles, sync)` from that many tiles in use upward (see [`NeuroCore::sync_for`]).
    pub sync_steps: Vec<(u32, f64)>,
    pub tick_s: Option<f64>,
    /// Messages a mesh link buffers before a route counts as blocked.
    pub link_buffer: f64,
    /// Fraction bits of the membrane potential (Loihi: 6), if it is held on a grid.
    pub potential_frac_bits: Option<u32>,
    /// The synaptic weight format, if weights are rounded to one.
    pub weights: Option<WeightFormat>,
    /// Axon types per core (TrueNorth: 4), if a neuron's weights are chosen per type of
    /// input axon rather than given per synapse.
    pub axon_types: Option<u32>,
    /// An integer neuron (TrueNorth), when the model gives `[neuron] potential_bits`:
    /// `(potential_bits, weight_bits, leak_bits)` (see `neuromap_ncore::integer`).
    pub integer: Option<(u32, u32, u32)>,
    /// Bits of one neuron's state, for the footprint (`[neuron] state_bits`, else an
    /// integer neuron's potential).
    pub state_bits: Option<u32>,
}

/// Synaptic weights as `mantissa × 2^exp`: a signed mantissa of `bits` bits
/// (`|mantissa| ≤ 2^(bits−1) − 1`) and one exponent per projection in
/// `exp_min..=exp_max` (Loihi: 9 bits, −8..=7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightFormat {
    pub bits: u32,
    pub exp_min: i32,
    pub exp_max: i32,
}

impl WeightFormat {
    /// The largest mantissa magnitude.
    pub fn max_mantissa(&self) -> f64 {
        2f64.powi(self.bits.clamp(1, 53) as i32 - 1) - 1.0
    }

    /// The exponent for weights whose largest magnitude is `max_abs`: the smallest
    /// (finest step) at which that weight's mantissa fits; `None` when even `exp_max`
    /// is too fine.
    pub fn exponent(&self, max_abs: f64) -> Option<i32> {
        let m = self.max_mantissa();
        (self.exp_min..=self.exp_max).find(|&e| (max_abs / 2f64.powi(e)).round() <= m)
    }

    /// `w` rounded to the nearest `mantissa × 2^exp` (half away from zero), the
    /// mantissa saturated.
    pub fn quantise(&self, w: f64, exp: i32) -> f64 {
        let m = self.max_mantissa();
        (w / 2f64.powi(exp)).round().clamp(-m, m) * 2f64.powi(exp)
    }
}

impl NeuroCore {
    /// The barrier's time with `tiles` tiles in use.
    pub fn sync_for(&self, tiles: u32) -> f64 {
        self.sync_steps.iter().rev().find(|s| s.0 <= tiles).map_or(self.sync_s, |s| s.1)
    }

    /// The typed view of a `neurocore` model (`None` for another family).
    pub fn from_model(m: &HwModel) -> Option<Self> {
        if m.family != "neurocore" {
            return None;
        }
        let c = |k: &str| m.require("core", k) as u32;
        let e = |k: &str| m.require("energy", k);
        let t = |k: &str| m.require("timing", k);
        Some(Self {
            cores: c("cores"),
            cores_per_tile: c("cores_per_tile"),
            neurons_per_core: c("neurons_per_core"),
            max_axons_in: c("max_axons_in"),
            max_dest_cores: c("max_dest_cores"),
            neuron_access_j: e("neuron_access_j"),
            neuron_update_j: e("neuron_update_j"),
            spike_out_j: e("spike_out_j"),
            synapse_j: e("synapse_j"),
            message_j: e("message_j"),
            hop_x_j: e("hop_x_j"),
            hop_y_j: e("hop_y_j"),
            static_w: m.get("energy", "static_w"),
            neuron_access_s: t("neuron_access_s"),
            neuron_update_s: t("neuron_update_s"),
            spike_out_s: t("spike_out_s"),
            synapse_s: t("synapse_s"),
            message_out_s: t("message_out_s"),
            message_in_s: t("message_in_s"),
            hop_x_s: t("hop_x_s"),
            hop_y_s: t("hop_y_s"),
            sync_s: t("sync_s"),
            sync_steps: m.figure("timing", "sync_s").map(|f| f.steps.clone()).unwrap_or_default(),
            tick_s: m.get("timing", "tick_s"),
            link_buffer: m.get("timing", "link_buffer").unwrap_or(16.0),
            potential_frac_bits: m.get("neuron", "potential_frac_bits").map(|b| b as u32),
            integer: m.get("neuron", "potential_bits").map(|p| {
                let w = m.get("neuron", "weight_bits").unwrap_or(9.0);
                (p as u32, w as u32, m.get("neuron", "leak_bits").unwrap_or(w) as u32)
            }),
            // An integer neuron's weights are whole numbers of its populations' units,
            // not mantissas with an exponent.
            weights: m.get("neuron", "weight_bits").filter(|_| m.get("neuron", "potential_bits").is_none()).map(|b| {
                WeightFormat {
                    bits: b as u32,
                    exp_min: -(m.get("neuron", "weight_exp_neg").unwrap_or(0.0) as i32),
                    exp_max: m.get("neuron", "weight_exp_pos").unwrap_or(0.0) as i32,
                }
            }),
            axon_types: m.get("neuron", "axon_types").map(|t| t as u32),
            state_bits: m.get("neuron", "state_bits").or_else(|| m.get("neuron", "potential_bits")).map(|b| b as u32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOIHI: WeightFormat = WeightFormat { bits: 9, exp_min: -8, exp_max: 7 };

    #[test]
    fn the_exponent_is_the_finest_at_which_the_largest_weight_fits() {
        assert_eq!(LOIHI.max_mantissa(), 255.0);
        assert_eq!(LOIHI.exponent(255.0 / 256.0), Some(-8));
        assert_eq!(LOIHI.exponent(1.0), Some(-7)); // 256/256 does not fit 255
        assert_eq!(LOIHI.exponent(0.0), Some(-8));
        assert_eq!(LOIHI.exponent(255.0 * 128.0), Some(7));
        assert_eq!(LOIHI.exponent(255.6 * 128.0), None);
    }

    #[test]
    fn weights_round_to_the_nearest_mantissa_and_saturate() {
        assert_eq!(LOIHI.quantise(0.1, -8), 26.0 / 256.0);
        assert_eq!(LOIHI.quantise(-0.1, -8), -26.0 / 256.0);
        assert_eq!(LOIHI.quantise(3.0 / 512.0, -8), 2.0 / 256.0); // half away from zero
        assert_eq!(LOIHI.quantise(2.0, -8), 255.0 / 256.0);
        assert_eq!(LOIHI.quantise(-2.0, -8), -255.0 / 256.0);
    }

    #[test]
    fn the_barrier_steps_with_the_tiles_in_use() {
        let mut m = crate::load_str("hw-models/loihi.toml", include_str!("../../../hw-models/loihi.toml"))
            .map(|m| NeuroCore::from_model(&m).unwrap())
            .unwrap();
        assert_eq!(
            [1, 2, 3, 4, 28, 29, 32].map(|t| m.sync_for(t)),
            [0.6e-6, 1.0e-6, 1.0e-6, 1.4e-6, 1.4e-6, 1.8e-6, 1.8e-6]
        );
        m.sync_steps.clear();
        assert_eq!(m.sync_for(32), 0.6e-6);
    }
}
