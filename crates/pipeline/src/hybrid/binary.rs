//! Binary-network arrays as a hybrid chip's part: threshold-logic cells (TULIP-like)
//! or the MAC baseline's XNOR-popcount units, one family each, mapped and priced by
//! `bnn` and `cost::binary` as the families alone are.

use neuromap_cost::Ledger;
use neuromap_hw::HwModel;
use neuromap_hw::arm_core::ArmCore;
use neuromap_ir::{Network, NeuronModel, PopId, PopKind, ProjId, SourceKind};
use neuromap_sim::chip::{TileCounter, TileCounts};

use super::{PartFamily, Prepared};

/// A binary-network family's arrays: binary threshold layers.
#[derive(Debug)]
pub struct BinaryArrayPart {
    family: &'static str,
    what: &'static str,
}

/// Threshold-logic arrays.
pub const THRESHOLD_LOGIC: BinaryArrayPart = BinaryArrayPart {
    family: "threshold-logic",
    what: "a binary threshold layer: integer sums of bits, what threshold-logic cells compute",
};

/// The MAC baseline's XNOR-popcount arrays (±1 weights).
pub const MAC_BNN: BinaryArrayPart = BinaryArrayPart {
    family: "mac-bnn",
    what: "a binary threshold layer: XNOR and popcount of ±1 weights, what the MAC units compute",
};

/// The array's static power, from its family's mapping of no layer.
fn static_w(part: &HwModel) -> Result<f64, String> {
    let empty = neuromap_bnn::BinaryNet { layers: Vec::new(), max_delay: 0 };
    neuromap_bnn::map(&empty, part).map(|m| m.static_w).map_err(|e| e.to_string())
}

struct TlPrepared {
    mappings: Vec<(PopId, neuromap_bnn::BinaryMapping)>,
    static_w: f64,
}

impl PartFamily for BinaryArrayPart {
    fn family(&self) -> &'static str {
        self.family
    }

    fn tile(&self) -> &'static str {
        "array"
    }

    fn capacity(&self, net: &Network, pop: PopId, part: &HwModel, _host: &ArmCore) -> Result<u32, String> {
        let p = net.pop(pop);
        if !matches!(p.kind, PopKind::Neurons(NeuronModel::Threshold(_))) {
            return Err(format!("it runs threshold neurons (model = \"threshold\"); `{}` is not one", p.name));
        }
        for &q in net.incoming(pop) {
            let pre = net.pop(net.proj(q).pre);
            if let PopKind::Source(SourceKind::Poisson { .. }) = pre.kind {
                return Err(format!(
                    "its input `{}` is a Poisson source (several spikes a step); a {} array takes one bit per input",
                    pre.name, self.family
                ));
            }
        }
        neuromap_bnn::tile::map_layer(net, pop, part)?;
        // One array takes a whole layer, its PEs in batches.
        Ok(u32::MAX)
    }

    fn suits(&self, net: &Network, pop: PopId, _recurrent: bool) -> Result<&'static str, String> {
        if matches!(net.pop(pop).kind, PopKind::Neurons(NeuronModel::Threshold(_))) {
            Ok(self.what)
        } else {
            Err("not a threshold layer".into())
        }
    }

    fn estimate_j(&self, net: &Network, pop: PopId, part: &HwModel, _inputs: f64) -> Option<f64> {
        let m = neuromap_bnn::tile::map_layer(net, pop, part).ok()?;
        let mut l = Ledger::new(
            part,
            neuromap_cost::Timeline::new(neuromap_cost::Pace::SelfTimed { tick_s: None }, 1, Some(vec![0.0])),
            neuromap_cost::Work::default(),
        );
        let a = m.step_actions();
        let c = counts_of(&a);
        neuromap_cost::binary::tile_lines(&mut l, part, m.static_w, &c, 1, 1);
        Some(l.total(neuromap_cost::Basis::Dynamic) + m.static_w * net.dt / 1000.0)
    }

    fn prepare(&self, net: &Network, pops: &[PopId], part: &HwModel, _seed: u64) -> Result<Box<dyn Prepared>, String> {
        let mut mappings = Vec::new();
        for &p in pops {
            mappings.push((p, neuromap_bnn::tile::map_layer(net, p, part)?));
        }
        Ok(Box::new(TlPrepared { mappings, static_w: static_w(part)? }))
    }
}

fn counts_of(a: &neuromap_bnn::Actions) -> TileCounts {
    TileCounts { actions: neuromap_bnn::tile::named(a) }
}

impl Prepared for TlPrepared {
    fn weights(&self, _q: ProjId) -> Option<Vec<f32>> {
        None
    }

    fn counter(&self, _net: &Network, pop: PopId, _lo: u32, _hi: u32) -> Box<dyn TileCounter> {
        let m = self.mappings.iter().find(|m| m.0 == pop).map(|m| &m.1);
        // `prepare` mapped every population assigned to the part.
        Box::new(neuromap_bnn::tile::ArrayCounter::new(m.expect("a population the part was prepared for")))
    }

    fn price(&self, l: &mut Ledger, part: &HwModel, c: &TileCounts, _updates: u64, in_use: u64, allocated: u64) {
        neuromap_cost::binary::tile_lines(l, part, self.static_w, c, in_use, allocated);
    }

    fn caveats(&self, _part: &HwModel) -> Vec<String> {
        Vec::new()
    }
}
