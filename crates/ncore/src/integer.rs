//! TrueNorth's integer neuron (Cassidy et al., IJCNN 2013; Merolla et al., Science
//! 345:668, 2014): a signed integer potential of `potential_bits` bits (20), signed
//! integer weights of `weight_bits` bits (9), a signed integer leak `λ` of `leak_bits`
//! bits added every tick, either as it is (a bias) or toward zero (leak reversal), a
//! threshold and a reset potential; synapses add their weight in the tick they arrive,
//! and there is no refractory period and no exponential decay.
//!
//! A network is put in these terms one population at a time: its potentials are counted
//! in one unit `u` (mV) per population, the smallest at which its largest incoming
//! weight, bias and leak fit their bits and its threshold, reset and initial potentials
//! fit the potential's, and every weight into it, its threshold, reset, initial
//! potential, bias and leak are rounded to the nearest integer of `u`. The result is a
//! network whose every value is a whole number, so the f64 engine runs it exactly as
//! the chip's integer datapath does, with the potential saturating to the register's
//! range ([`neuromap_sim::Engine::with_potential_range`]). A population the neuron
//! cannot express is refused, saying what it has and what the chip's neuron has.

use neuromap_ir::{Lif, LifFlavour, Network, NeuronModel, Param, PopKind};
use serde::Serialize;

use crate::NcoreError;

/// The integer neuron's widths (bits, sign included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntegerFormat {
    pub potential_bits: u32,
    pub weight_bits: u32,
    pub leak_bits: u32,
}

impl IntegerFormat {
    fn max(bits: u32) -> f64 {
        2f64.powi(bits.clamp(2, 53) as i32 - 1) - 1.0
    }

    /// The potential register's range, `−2^(bits−1) ..= 2^(bits−1) − 1`.
    pub fn range(&self) -> (f64, f64) {
        let m = Self::max(self.potential_bits);
        (-m - 1.0, m)
    }
}

/// One population in integer units.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PopUnits {
    pub pop: String,
    /// The potential's unit, mV.
    pub unit_mv: f64,
    /// The largest integer weight into it, threshold and per-tick leak (magnitudes,
    /// over its neurons).
    pub max_weight: i64,
    pub threshold: i64,
    pub leak: i64,
    /// Whether the leak is toward zero (leak reversal) rather than a bias.
    pub toward_zero: bool,
    /// The largest |rounded − given| weight into it, mV.
    pub weight_error_mv: f64,
    /// The largest |rounded − given| of its threshold, reset and leak (or bias), mV.
    pub param_error_mv: f64,
}

/// The network in integer units: per neuron population, its unit and roundings.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IntegerUnits {
    pub pops: Vec<PopUnits>,
    /// The largest weight rounding relative to the largest weight into the same
    /// population.
    pub max_weight_error_rel: f64,
}

/// Per population of `net`, the unit its potentials are counted in (1 for a source).
pub fn units_of(net: &Network, u: &IntegerUnits) -> Vec<f64> {
    let mut it = u.pops.iter();
    net.populations().iter().map(|p| if p.is_source() { 1.0 } else { it.next().map_or(1.0, |x| x.unit_mv) }).collect()
}

/// `net` in the integer neuron's terms (see the module's documentation).
pub fn to_integers(net: &Network, f: &IntegerFormat) -> Result<(Network, IntegerUnits), NcoreError> {
    let dt = net.dt;
    let (w_max, l_max, v_max) =
        (IntegerFormat::max(f.weight_bits), IntegerFormat::max(f.leak_bits), IntegerFormat::max(f.potential_bits));
    let refuse = |pop: &str, why: String| NcoreError::Neuron { pop: pop.to_string(), why };
    let mut units = IntegerUnits::default();
    let mut unit = vec![1.0f64; net.populations().len()];
    let mut models = Vec::with_capacity(net.populations().len());
    for (pi, p) in net.populations().iter().enumerate() {
        let l = match &p.kind {
            PopKind::Source(_) => {
                models.push(None);
                continue;
            }
            PopKind::Neurons(NeuronModel::Lif(l)) if l.conductance.is_none() && l.adaptation.is_none() => l,
            PopKind::Neurons(m) => {
                return Err(refuse(
                    &p.name,
                    format!("is of the {} model, which the integer neuron does not compute", m.name()),
                ));
            }
        };
        let n = p.size as usize;
        let all = |prm: &Param, f: &dyn Fn(f64) -> bool| (0..n).all(|i| f(prm.get(i)));
        if !all(&l.tau_m, &|x| x.is_infinite()) {
            return Err(refuse(
                &p.name,
                format!(
                    "has an exponential leak (tau_m {} ms); the chip's leak is linear: the `if` model with `leak`",
                    l.tau_m.min()
                ),
            ));
        }
        for (name, prm) in [("tau_syn_e", &l.tau_syn_e), ("tau_syn_i", &l.tau_syn_i)] {
            if !all(prm, &|x| x == 0.0) {
                return Err(refuse(
                    &p.name,
                    format!(
                        "has exponential synapses ({name} {} ms); the chip's synapses add their weight in the tick they arrive (tau_syn 0)",
                        prm.values().iter().copied().fold(0.0, f64::max)
                    ),
                ));
            }
        }
        if !all(&l.t_ref, &|x| (x / dt).round() == 0.0) {
            return Err(refuse(
                &p.name,
                format!("has a refractory period (t_ref {} ms); the chip's neuron has none", l.t_ref.min()),
            ));
        }
        if !all(&l.v_thresh, &|x| x.is_finite() && x >= 0.0) {
            return Err(refuse(
                &p.name,
                format!("has a threshold of {} mV; the chip's is a whole number of units from 0 up", l.v_thresh.min()),
            ));
        }
        // Per tick: the bias `k·i_offset` (k = dt/cm) and the leak toward zero.
        let bias: Vec<f64> = (0..n).map(|i| l.i_offset.get(i) * dt / l.cm.get(i)).collect();
        let leak: Vec<f64> = (0..n).map(|i| l.linear_leak.as_ref().map_or(0.0, |k| k.get(i) * dt)).collect();
        if let Some(i) = (0..n).find(|&i| bias[i] != 0.0 && leak[i] != 0.0) {
            return Err(refuse(
                &p.name,
                format!(
                    "neuron {i} has both a bias (i_offset) and a leak; the chip's neuron has one leak, a constant or one toward zero"
                ),
            ));
        }
        let weights = net
            .incoming(neuromap_ir::PopId(pi as u32))
            .iter()
            .fold(0.0f64, |m, &q| m.max(f64::from(net.proj(q).synapses.max_abs_weight())));
        let largest = |prm: &Param| prm.values().iter().fold(0.0f64, |m, &x| m.max(x.abs()));
        let drive = bias.iter().chain(&leak).fold(0.0f64, |m, &x| m.max(x.abs()));
        let potential = largest(&l.v_thresh).max(largest(&l.v_reset)).max(largest(&l.v_init));
        let mut u = (weights / w_max).max(drive / l_max).max(potential / v_max);
        if u == 0.0 || !u.is_finite() {
            u = 1.0;
        }
        unit[pi] = u;
        let mut param_error = 0f64;
        let mut whole = |x: f64, max: f64| {
            let r = (x / u).round().clamp(-max, max);
            param_error = param_error.max((r * u - x).abs());
            r
        };
        let per = |vals: Vec<f64>| -> Param {
            match vals.first() {
                Some(&v0) if vals.iter().all(|&v| v == v0) => Param::Shared(v0),
                _ => Param::PerNeuron(vals),
            }
        };
        let v_thresh = per((0..n).map(|i| whole(l.v_thresh.get(i), v_max)).collect());
        let v_reset = per((0..n).map(|i| whole(l.v_reset.get(i), v_max + 1.0)).collect());
        let bias_i: Vec<f64> = bias.iter().map(|&b| whole(b, l_max)).collect();
        let leak_i: Vec<f64> = leak.iter().map(|&k| whole(k, l_max)).collect();
        let v_init: Vec<f64> = (0..n).map(|i| (l.v_init.get(i) / u).round().clamp(-v_max - 1.0, v_max)).collect();
        let max_of = |xs: &[f64]| xs.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
        let toward_zero = leak_i.iter().any(|&k| k != 0.0);
        units.pops.push(PopUnits {
            pop: p.name.clone(),
            unit_mv: u,
            max_weight: (weights / u).round().min(w_max) as i64,
            threshold: max_of(v_thresh.values()) as i64,
            leak: max_of(if toward_zero { &leak_i } else { &bias_i }) as i64,
            toward_zero,
            weight_error_mv: 0.0,
            param_error_mv: param_error,
        });
        let linear_leak = if toward_zero {
            // Per ms: the engine's `leak·dt` is the whole number again, to an ulp that
            // the integer potential's rounding takes off.
            Some(per(leak_i.iter().map(|&k| k / dt).collect()))
        } else {
            None
        };
        models.push(Some(NeuronModel::Lif(Lif {
            flavour: LifFlavour::If,
            tau_m: Param::Shared(f64::INFINITY),
            // k = dt/cm = 1: the bias is added as it is.
            cm: Param::Shared(dt),
            v_rest: Param::Shared(0.0),
            v_reset,
            v_thresh,
            t_ref: Param::Shared(0.0),
            tau_syn_e: Param::Shared(0.0),
            tau_syn_i: Param::Shared(0.0),
            i_offset: per(bias_i),
            reset: l.reset,
            v_init: per(v_init),
            conductance: None,
            adaptation: None,
            linear_leak,
        })));
    }
    // Weights: each projection in its target's unit.
    let mut weight_error = vec![0f64; net.populations().len()];
    let weights: Vec<Vec<f32>> = net
        .projections()
        .iter()
        .map(|pr| {
            let post = pr.post.index();
            let u = unit[post];
            pr.synapses
                .weights()
                .iter()
                .map(|&w| {
                    let r = (f64::from(w) / u).round().clamp(-w_max, w_max);
                    weight_error[post] = weight_error[post].max((r * u - f64::from(w)).abs());
                    r as f32
                })
                .collect()
        })
        .collect();
    let mut k = 0;
    for (pi, p) in net.populations().iter().enumerate() {
        if p.is_source() {
            continue;
        }
        let pu = &mut units.pops[k];
        k += 1;
        pu.weight_error_mv = weight_error[pi];
        if pu.max_weight > 0 {
            let rel = weight_error[pi] / (pu.max_weight as f64 * pu.unit_mv);
            units.max_weight_error_rel = units.max_weight_error_rel.max(rel);
        }
    }
    let net = net
        .with_all_weights(weights)
        .and_then(|n| n.with_neuron_models(models))
        .map_err(|e| NcoreError::Network(e.to_string()))?;
    Ok((net, units))
}

/// Weights already in integer units, rounded again to whole numbers of the format (after
/// axon types were quantised to their means).
pub fn rewhole(net: &Network, f: &IntegerFormat) -> Result<Network, NcoreError> {
    let w_max = IntegerFormat::max(f.weight_bits);
    let weights = net
        .projections()
        .iter()
        .map(|pr| pr.synapses.weights().iter().map(|&w| f64::from(w).round().clamp(-w_max, w_max) as f32).collect())
        .collect();
    net.with_all_weights(weights).map_err(|e| NcoreError::Network(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_bits_hold_minus_2_19_to_2_19_less_one() {
        let f = IntegerFormat { potential_bits: 20, weight_bits: 9, leak_bits: 9 };
        assert_eq!(f.range(), (-524_288.0, 524_287.0));
        assert_eq!(IntegerFormat::max(9), 255.0);
    }
}
