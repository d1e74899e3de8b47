//! Resistive crossbar macros as a hybrid chip's part.

use std::sync::Arc;

use neuromap_cost::Ledger;
use neuromap_hw::HwModel;
use neuromap_hw::arm_core::ArmCore;
use neuromap_hw::crossbar::Crossbar;
use neuromap_ir::{Network, NeuronModel, PopId, PopKind, ProjId};
use neuromap_sim::chip::{TileCounter, TileCounts};

use super::{PartFamily, Prepared};

/// The least share of an array's cells a projection must use for the compiler to put
/// it on a crossbar by itself (an assumption: below it most cells would hold zeros
/// and be read for nothing; `--assign` overrides).
const DENSE: f64 = 0.1;

/// Resistive crossbar macros: static feed-forward projections in the arrays, the
/// neurons in the periphery.
#[derive(Debug)]
pub struct CrossbarPart;

struct CrossbarPrepared {
    hw: Crossbar,
    quantised: Vec<Option<neuromap_xbar::map::Quantised>>,
    /// The part's projections programmed onto arrays (devices drawn from the run's
    /// fault seed), which the macros read.
    mapping: Arc<neuromap_xbar::XbarMapping>,
    seed: u64,
}

impl PartFamily for CrossbarPart {
    fn family(&self) -> &'static str {
        "crossbar"
    }

    fn tile(&self) -> &'static str {
        "macro"
    }

    fn capacity(&self, net: &Network, pop: PopId, part: &HwModel, host: &ArmCore) -> Result<u32, String> {
        let hw = Crossbar::from_model(part).ok_or("not a crossbar model")?;
        let p = net.pop(pop);
        match &p.kind {
            PopKind::Neurons(NeuronModel::Lif(_)) => {}
            PopKind::Neurons(m) => return Err(format!("its periphery updates LIF-family neurons, not `{}`", m.name())),
            PopKind::Source(_) => return Err("it is a spike source".into()),
        }
        if net.incoming(pop).is_empty() {
            return Err("it has no incoming projection to hold in the arrays".into());
        }
        let per = neuromap_xbar::tile::neurons_per_array(&hw);
        if per == 0 {
            return Err("its arrays have no column for a neuron".into());
        }
        // A macro reads the spikes in the step they arrive: delays must fit the
        // chip's own ring (delay-extension cores forward to cores, not to macros).
        let longest = host.max_delay_steps;
        if let Some(&q) = net.incoming(pop).iter().find(|&&q| u32::from(net.proj(q).synapses.max_delay()) > longest) {
            return Err(format!(
                "projection `{}` has delays of {} steps; a macro's inputs take at most the chip's {longest}",
                net.proj(q).name,
                net.proj(q).synapses.max_delay()
            ));
        }
        let arrays = neuromap_xbar::tile::arrays_needed(net, pop, &hw);
        if arrays > u64::from(hw.tiles) {
            return Err(format!(
                "its inputs need {arrays} arrays of {} rows per macro (one per {} presynaptic neurons, per projection and delay); a macro has {}",
                hw.rows, hw.rows, hw.tiles
            ));
        }
        Ok(per)
    }

    fn suits(&self, net: &Network, pop: PopId, recurrent: bool) -> Result<&'static str, String> {
        let model = net.pop(pop).model_name();
        if neuromap_hw::arm_core::cost_kind(model) > 0 {
            return Err(format!("its periphery prices a LIF update, not a {model} one"));
        }
        if recurrent {
            return Err("recurrent (its input depends on its own spikes), which cores handle".into());
        }
        if net.incoming(pop).is_empty() {
            return Err("no incoming projection".into());
        }
        // Dense static projections: the arrays' rows are used, not left empty.
        for &q in net.incoming(pop) {
            let p = net.proj(q);
            let cells = f64::from(net.pop(p.pre).size) * f64::from(net.pop(p.post).size);
            let density = p.synapses.len() as f64 / cells.max(1.0);
            if density < DENSE {
                return Err(format!(
                    "projection `{}` is {:.1} % dense, and arrays pay for every cell (they want ≥ {:.0} %)",
                    p.name,
                    100.0 * density,
                    100.0 * DENSE
                ));
            }
        }
        Ok("static dense feed-forward projections: weights stay in the arrays")
    }

    fn estimate_j(&self, net: &Network, pop: PopId, part: &HwModel, inputs: f64) -> Option<f64> {
        let hw = Crossbar::from_model(part)?;
        let per = neuromap_xbar::tile::neurons_per_array(&hw).max(1);
        let n = net.pop(pop).size;
        let macros = f64::from(n.div_ceil(per));
        let cols = f64::from(n.min(per));
        let g_mid = (hw.g_min_s + hw.g_max_s) / 2.0;
        let phys = if hw.differential { 2.0 * cols } else { cols + 1.0 };
        let arrays = neuromap_xbar::tile::arrays_needed(net, pop, &hw) as f64;
        let per_input = hw.driver_j + phys * hw.v_read * hw.v_read * hw.t_read_s * g_mid;
        let reads = arrays.min(inputs) * macros;
        Some(
            macros * inputs * per_input
                + reads * cols * (hw.adc_energy_j + hw.add_j)
                + f64::from(n) * hw.neuron_update_j
                + macros * hw.static_w * net.dt / 1000.0,
        )
    }

    fn prepare(&self, net: &Network, pops: &[PopId], part: &HwModel, seed: u64) -> Result<Box<dyn Prepared>, String> {
        let hw = Crossbar::from_model(part).ok_or("not a crossbar model")?;
        let signed = if hw.differential { neuromap_xbar::Signed::Differential } else { neuromap_xbar::Signed::Offset };
        let shifts = neuromap_sim::reference::weight_shifts::<neuromap_sim::arith::S1615>(net);
        let mut quantised = vec![None; net.projections().len()];
        for &pop in pops {
            for &q in net.incoming(pop) {
                quantised[q.index()] = Some(neuromap_xbar::map::quantise(net, q, &hw, signed, &shifts));
            }
        }
        let on = |q: ProjId| quantised[q.index()].is_some();
        let mapping =
            neuromap_xbar::map::map_some(net, &part.name, &hw, seed, usize::MAX, &on).map_err(|e| e.to_string())?;
        Ok(Box::new(CrossbarPrepared { hw, quantised, mapping: Arc::new(mapping), seed }))
    }
}

impl Prepared for CrossbarPrepared {
    fn weights(&self, q: ProjId) -> Option<Vec<f32>> {
        self.quantised[q.index()].as_ref().map(|x| x.weights.clone())
    }

    fn counter(&self, net: &Network, pop: PopId, lo: u32, hi: u32) -> Box<dyn TileCounter> {
        let c = neuromap_xbar::tile::MacroCounter::new(net, &self.hw, &self.quantised, pop, lo, hi);
        Box::new(c.reading(net, Arc::clone(&self.mapping), self.seed, lo, hi))
    }

    fn exact(&self, c: &TileCounts) -> Result<(), String> {
        let (h, m) = (&self.hw, &self.mapping);
        let mut why: Vec<String> = [
            ("device variation", h.sigma),
            ("stuck-low cells", h.stuck_low),
            ("stuck-high cells", h.stuck_high),
            ("read noise", h.read_noise),
            ("wire resistance", h.r_wire_ohm),
        ]
        .iter()
        .filter(|x| x.1 > 0.0)
        .map(|x| format!("{} {}", x.0, neuromap_report::fmt_g(x.1)))
        .collect();
        let coarse = m.tiles.iter().map(|t| h.adc(t.rows, m.matrices[t.matrix].qmax).1).max().unwrap_or(1);
        if coarse > 1 {
            why.push(format!("an ADC of {} bits rounding column sums to {coarse} levels", h.adc_bits));
        }
        let clipped = c.get("clipped columns");
        if clipped > 0.0 {
            why.push(format!("{} clipped conversions", neuromap_report::fmt_g(clipped)));
        }
        if why.is_empty() { Ok(()) } else { Err(why.join(", ")) }
    }

    fn price(&self, l: &mut Ledger, part: &HwModel, c: &TileCounts, updates: u64, in_use: u64, allocated: u64) {
        neuromap_cost::crossbar::tile_lines(l, part, &self.hw, c, updates, in_use, allocated);
    }

    fn caveats(&self, _part: &HwModel) -> Vec<String> {
        Vec::new()
    }
}
