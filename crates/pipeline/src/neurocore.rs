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
    let chip = neuromap_ncore::chip_weights(&job.net, &mapping.hw).map_err(map_err)?;
    let (mut weight_exponents, mut weight_error) = (chip.exponents, chip.max_error);
    let mut net = chip.net;
    // Weights per axon type (TrueNorth): checked, or quantised and put back in the
    // weight format.
    let mut axon_types = None;
    if let Some(types) = mapping.hw.axon_types {
        let (quantised, a) =
            neuromap_ncore::axon_types::assign(&net, &mapping, types, job.map.quantise_axon_types).map_err(map_err)?;
        if let Some(q) = quantised {
            let again = neuromap_ncore::chip_weights(&q, &mapping.hw).map_err(map_err)?;
            weight_exponents = again.exponents;
            let q = again.net.into_owned();
            weight_error = max_difference(&job.net, &q);
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
    Ok(NcoreOutcome { job, mapping, result, counts, energy, sim_s, weight_exponents, weight_error, axon_types })
}

/// The largest |weight| difference between two networks of the same synapses.
fn max_difference(a: &neuromap_ir::Network, b: &neuromap_ir::Network) -> f64 {
    a.projections()
        .iter()
        .zip(b.projections())
        .flat_map(|(p, q)| p.synapses.weights().iter().zip(q.synapses.weights()))
        .fold(0.0f64, |m, (x, y)| m.max((f64::from(*x) - f64::from(*y)).abs()))
}

impl NcoreOutcome {
    pub fn run_summary(&self, wall: bool) -> RunSummary {
        RunSummary::new(
            &self.job.net,
            &self.result,
            &format!("{} (neurocore, {})", self.job.model.name, neuromap_ncore::arithmetic(&self.mapping.hw)),
            wall.then_some(self.sim_s),
        )
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
        }
        v
    }
}
