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
    pub tick_s: Option<f64>,
}

impl NeuroCore {
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
            tick_s: m.get("timing", "tick_s"),
        })
    }
}
