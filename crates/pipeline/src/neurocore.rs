//! The main job on the `neurocore` family (Loihi, TrueNorth): place the neurons on
//! cores, run the quantised functional model, count every event per core and step,
//! price them.

use std::fmt::Write as _;
use std::time::Instant;

use neuromap_cost::neurocore::neurocore_ledger;
use neuromap_cost::{Ledger, Work};
use neuromap_hw::HwModel;
use neuromap_ncore::{NcoreCounts, NcoreMapping};
use neuromap_report::RunSummary;
use neuromap_sim::RunResult;

use crate::{Job, JobError, spike_digest};

pub fn is_neurocore_family(model: &HwModel) -> bool {
    crate::any::run_path(model) == crate::any::RunPath::Neurocore
}

#[derive(Debug)]
pub struct NcoreOutcome {
    pub job: Job,
    pub mapping: NcoreMapping,
    pub result: RunResult,
    pub counts: NcoreCounts,
    pub energy: Ledger,
    pub sim_s: f64,
    /// Per projection, the weight exponent on the chip; the largest weight rounding.
    pub weight_exponents: Vec<Option<i32>>,
    pub weight_error: f64,
    /// On a chip with axon types: the assignment, and any quantisation's error.
    pub axon_types: Option<neuromap_ncore::axon_types::AxonTypes>,
    /// On a chip with an integer neuron: each population's unit and roundings.
    pub integer: Option<neuromap_ncore::integer::IntegerUnits>,
}

pub fn run_neurocore_job(job: Job) -> Result<NcoreOutcome, JobError> {
    run_neurocore_placed(job, None)
}

/// As [`run_neurocore_job`], with each neuron's core given (a SANA-FE mapping).
pub fn run_neurocore_placed(job: Job, placement: Option<Vec<Vec<u32>>>) -> Result<NcoreOutcome, JobError> {
    neuromap_compile::check_models(&job.net, &job.model).map_err(|m| job.map_error(m))?;
    let map_err = |e: neuromap_ncore::NcoreError| JobError::Map {
        net: job.net.name.clone(),
        model: job.model.name.clone(),
        message: e.to_string(),
    };
    let mapping = neuromap_ncore::map_with(&job.net, &job.model, placement).map_err(map_err)?;
    // The network as the chip holds it: in its integer neuron's units, or its weights
    // in the weight format.
    let format = neuromap_ncore::integer_format(&mapping.hw);
    let (mut net, mut weight_exponents, mut weight_error, integer) = match &format {
        Some(f) => {
            let (n, u) = neuromap_ncore::integer::to_integers(&job.net, f).map_err(map_err)?;
            let e = u.pops.iter().fold(0.0f64, |m, p| m.max(p.weight_error_mv));
            (std::borrow::Cow::Owned(n), vec![None; job.net.projections().len()], e, Some(u))
        }
        None => {
            let chip = neuromap_ncore::chip_weights(&job.net, &mapping.hw).map_err(map_err)?;
            (chip.net, chip.exponents, chip.max_error, None)
        }
    };
    // Weights per axon type (TrueNorth): checked, or quantised and put back in the
    // weight format.
    let mut axon_types = None;
    if let Some(types) = mapping.hw.axon_types {
        let units = integer.as_ref().map(|u| neuromap_ncore::integer::units_of(&job.net, u));
        let (quantised, a) =
            neuromap_ncore::axon_types::assign(&net, &mapping, types, job.map.quantise_axon_types, units.as_deref())
                .map_err(map_err)?;
        if let Some(q) = quantised {
            let q = match &format {
                Some(f) => neuromap_ncore::integer::rewhole(&q, f).map_err(map_err)?,
                None => {
                    let again = neuromap_ncore::chip_weights(&q, &mapping.hw).map_err(map_err)?;
                    weight_exponents = again.exponents;
                    again.net.into_owned()
                }
            };
            weight_error = max_difference(&job.net, &q, units.as_deref());
            net = std::borrow::Cow::Owned(q);
        }
        axon_types = Some(a);
    }
    let t0 = Instant::now();
    let (result, counts) = neuromap_ncore::run(&net, &mapping, job.steps);
    let sim_s = t0.elapsed().as_secs_f64();
    drop(net);
    let work = Work {
        synaptic_events: counts.synaptic_events,
        neurons: job.net.n_neurons(),
        dt_ms: job.net.dt,
        inferences: None,
    };
    let energy = crate::paced(&job, neurocore_ledger(&job.model, &mapping.hw, &counts, mapping.cores_used, work));
    Ok(NcoreOutcome {
        job,
        mapping,
        result,
        counts,
        energy,
        sim_s,
        weight_exponents,
        weight_error,
        axon_types,
        integer,
    })
}

/// The largest |weight| difference between two networks of the same synapses, `b`'s
/// weights counted in its target populations' `units` when given.
fn max_difference(a: &neuromap_ir::Network, b: &neuromap_ir::Network, units: Option<&[f64]>) -> f64 {
    a.projections()
        .iter()
        .zip(b.projections())
        .flat_map(|(p, q)| {
            let u = units.map_or(1.0, |u| u[q.post.index()]);
            p.synapses.weights().iter().zip(q.synapses.weights()).map(move |(x, y)| (f64::from(*x), f64::from(*y) * u))
        })
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

impl NcoreOutcome {
    pub fn run_summary(&self, wall: bool) -> RunSummary {
        RunSummary::new(
            &self.job.net,
            &self.result,
            &format!("{} (neurocore, {})", self.job.model.name, neuromap_ncore::arithmetic(&self.mapping.hw)),
            wall.then_some(self.sim_s),
        )
        .with_footprint(Some(self.footprint()))
    }

    /// NeuroBench's footprint on the cores. With axon types (TrueNorth): each core in
    /// use holds a binary crossbar of its input axons × its neurons, and each neuron one
    /// weight per type; otherwise a weight per synapse in the weight format (f32 as
    /// given without one). State: the integer potential's bits, where the model gives
    /// them.
    pub fn footprint(&self) -> neuromap_report::Footprint {
        let (hw, net) = (&self.mapping.hw, &self.job.net);
        let neurons = net.n_neurons() as f64;
        let (bits, how) = match (hw.axon_types, hw.integer, hw.weights) {
            (Some(types), Some((_, w, _)), _) => (
                self.mapping.cores_used as f64 * f64::from(hw.max_axons_in) * f64::from(hw.neurons_per_core)
                    + neurons * f64::from(types) * f64::from(w),
                format!(
                    "a {} × {} binary crossbar per core in use and {types} weights of {w} bits per neuron",
                    hw.max_axons_in, hw.neurons_per_core
                ),
            ),
            (_, _, Some(f)) => (net.n_synapses() as f64 * f64::from(f.bits), format!("{}-bit weights", f.bits)),
            _ => (net.n_synapses() as f64 * 32.0, "weights as given (f32)".to_string()),
        };
        let state = hw.state_bits.map(|b| neurons * f64::from(b) / 8.0);
        let how = match hw.state_bits {
            Some(b) => format!("{how}; {b} bits of state per neuron"),
            None => format!("{how}; the model gives no width of a neuron's state"),
        };
        neuromap_report::Footprint { weight_bytes: bits / 8.0, state_bytes: state, how }
    }

    /// Cores, events per step, time per step and energy by event.
    pub fn report_text(&self) -> String {
        let (m, c, e) = (&self.mapping, &self.counts, &self.energy);
        let mut s = format!(
            "mapping onto {} (neurocore): {} of {} cores ({} neurons each), at most {} input axons on a core (of {})\n",
            m.model, m.cores_used, m.hw.cores, m.hw.neurons_per_core, m.max_axons_in, m.hw.max_axons_in
        );
        if let Some(f) = m.hw.weights {
            let exps: Vec<String> = self
                .job
                .net
                .projections()
                .iter()
                .zip(&self.weight_exponents)
                .filter_map(|(p, e)| e.map(|e| format!("{} 2^{e}", p.name)))
                .collect();
            let _ = writeln!(
                s,
                "weights as {}-bit mantissas × 2^exp, one exponent per projection ({}); largest rounding {}",
                f.bits,
                exps.join(", "),
                neuromap_report::fmt_g(self.weight_error)
            );
        }
        if let Some(u) = &self.integer {
            let _ = writeln!(
                s,
                "integer neuron: one potential unit per population, weights, threshold, reset and leak rounded to whole units; largest weight rounding {} mV ({:.3} % of that population's largest weight)",
                neuromap_report::fmt_si(self.weight_error),
                100.0 * u.max_weight_error_rel
            );
            // Populations with the same figures share a line.
            let mut lines: Vec<(String, Vec<&str>)> = Vec::new();
            for p in &u.pops {
                let leak = if p.toward_zero { "leak toward zero" } else { "bias" };
                let line = format!(
                    "unit {} mV: weights up to {}, threshold {}, {leak} {} a tick; rounding {} mV (weights), {} mV (threshold, reset, {leak})",
                    neuromap_report::fmt_si(p.unit_mv),
                    p.max_weight,
                    p.threshold,
                    p.leak,
                    neuromap_report::fmt_si(p.weight_error_mv),
                    neuromap_report::fmt_si(p.param_error_mv)
                );
                match lines.iter_mut().find(|(l, _)| *l == line) {
                    Some((_, pops)) => pops.push(&p.pop),
                    None => lines.push((line, vec![&p.pop])),
                }
            }
            for (line, pops) in lines {
                let _ = writeln!(s, "  {}: {line}", pops.join(", "));
            }
        }
        if let Some(a) = &self.axon_types {
            let _ = write!(s, "axon types: {} per core, at most {} used on a core", a.types, a.max_used);
            if a.quantised_cores > 0 {
                let _ = write!(
                    s,
                    "; weights quantised to them on {} cores (largest weight error {}, rms {})",
                    a.quantised_cores,
                    neuromap_report::fmt_g(a.max_error),
                    neuromap_report::fmt_g(a.rms_error)
                );
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "synaptic events {}, spikes out {}, messages {}\n",
            c.synaptic_events, c.spikes_out, c.messages
        );
        s.push_str(&neuromap_report::ledger_text(e));
        s
    }

    pub fn summary(&self) -> String {
        let mut s = self.run_summary(false).to_text();
        s.push_str(&self.report_text());
        s.push_str("\nspike digests (FNV-1a of (step, neuron) pairs)\n");
        for (p, rec) in self.job.net.populations().iter().zip(&self.result.spikes) {
            let _ = writeln!(s, "{:<12} {:016x}", p.name, spike_digest(&rec.steps, &rec.neurons));
        }
        s
    }

    pub fn report_json(&self, wall: bool) -> serde_json::Value {
        let mut v = serde_json::to_value(self.run_summary(wall)).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("energy".into(), neuromap_report::ledger_json(&self.energy));
            let c = &self.counts;
            let n = c.step_s.len().max(1) as f64;
            obj.insert(
                "timing".into(),
                serde_json::json!({
                    "latency_mean_us": c.step_s.iter().sum::<f64>() / n * 1e6,
                    "latency_max_us": c.step_s.iter().copied().fold(0.0, f64::max) * 1e6,
                }),
            );
            obj.insert("counts".into(), serde_json::to_value(c).unwrap_or(serde_json::Value::Null));
            if let Some(a) = &self.axon_types {
                obj.insert("axon_types".into(), serde_json::to_value(a).unwrap_or(serde_json::Value::Null));
            }
            if let Some(u) = &self.integer {
                obj.insert("integer_neuron".into(), serde_json::to_value(u).unwrap_or(serde_json::Value::Null));
            }
        }
        v
    }
}
