//! The main job on the binary-network families (`threshold-logic`, `mac-bnn`): lower
//! the network to integer binary neurons, map them onto the array (threshold-logic
//! circuits and their schedules, or XNOR-popcount units), run the chip step by step,
//! check it against the f64 reference bit for bit, and price it. One step is one
//! classification.

use std::fmt::Write as _;
use std::time::Instant;

use neuromap_bnn::{BinaryMapping, BinaryNet, BinaryRun};
use neuromap_cost::{Basis, Ledger, Work};
use neuromap_hw::HwModel;
use neuromap_report::RunSummary;
use neuromap_sim::{Options, RunResult};

use crate::{Job, JobError, spike_digest};

/// The families this path runs.
pub fn is_binary_family(model: &HwModel) -> bool {
    crate::any::run_path(model) == crate::any::RunPath::Binary
}

/// What a binary-network run produced, checked and priced.
#[derive(Debug)]
pub struct BinaryOutcome {
    pub job: Job,
    pub bin: BinaryNet,
    pub mapping: BinaryMapping,
    pub run: BinaryRun,
    /// The chip's spikes in the reference's layout.
    pub result: RunResult,
    pub energy: Ledger,
    pub map_s: f64,
    pub chip_s: f64,
}

fn map_err(job: &Job, message: String) -> JobError {
    JobError::Map { net: job.net.name.clone(), model: job.model.name.clone(), message }
}

/// Lowers, maps, runs, checks against the reference, prices.
pub fn run_binary_job(job: Job) -> Result<BinaryOutcome, JobError> {
    neuromap_compile::check_models(&job.net, &job.model).map_err(|m| job.map_error(m))?;
    let t0 = Instant::now();
    let bin = neuromap_bnn::lower(&job.net).map_err(|e| map_err(&job, e.to_string()))?;
    let mapping = neuromap_bnn::map(&bin, &job.model).map_err(|e| map_err(&job, e.to_string()))?;
    let map_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let run = neuromap_bnn::run(&job.net, &bin, &mapping, job.steps).map_err(|e| JobError::Chip(e.to_string()))?;
    let chip_s = t1.elapsed().as_secs_f64();
    // The binary chips compute integer sums exactly: they must equal the reference.
    let reference = neuromap_sim::simulate(&job.net, job.steps, Options::default());
    let neurons_equal = job
        .net
        .populations()
        .iter()
        .enumerate()
        .all(|(i, p)| p.is_source() || !reference.recorded[i] || reference.spikes[i] == run.spikes[i]);
    if !neurons_equal || reference.spike_counts != run.spike_counts {
        return Err(JobError::Behaviour);
    }
    let work = Work {
        synaptic_events: reference.synaptic_events.iter().sum(),
        neurons: job.net.n_neurons(),
        dt_ms: 0.0,
        inferences: None,
    };
    let energy =
        crate::paced(&job, neuromap_cost::binary::binary_ledger(&job.model, &mapping, &run.actions, run.steps, work));
    let result = RunResult {
        steps: run.steps,
        spike_counts: run.spike_counts.clone(),
        recorded: vec![true; run.spikes.len()],
        spikes: run.spikes.clone(),
        probes: Vec::new(),
        // A function of the spikes, which equal the reference's.
        synaptic_events: reference.synaptic_events.clone(),
        neuron_updates: reference.neuron_updates,
    };
    Ok(BinaryOutcome { job, bin, mapping, run, result, energy, map_s, chip_s })
}

impl BinaryOutcome {
    pub fn run_summary(&self, wall: bool) -> RunSummary {
        RunSummary::new(
            &self.job.net,
            &self.result,
            &format!("chip ({}, {})", self.job.model.name, self.mapping.family),
            wall.then_some(self.chip_s),
        )
        .with_footprint(Some(self.footprint()))
    }

    /// NeuroBench's footprint on the array: the weight memory the network uses; the
    /// threshold neurons keep no state between steps.
    pub fn footprint(&self) -> neuromap_report::Footprint {
        neuromap_report::Footprint {
            weight_bytes: self.mapping.weight_memory_bits.0 as f64 / 8.0,
            state_bytes: Some(0.0),
            how: "the weight memory the network uses; threshold neurons keep no state between steps".into(),
        }
    }

    /// The mapping: per layer, neurons, fan-in, batches, cycles, and for threshold
    /// logic the circuits' gates, schedule length, live register bits, utilisation.
    pub fn mapping_text(&self) -> String {
        let m = &self.mapping;
        let tl = m.is_threshold_logic();
        let mut t = neuromap_report::table::Table::with_header(if tl {
            &[
                "layer",
                "neurons",
                "fan-in",
                "gates/neuron",
                "cycles/neuron",
                "peak live bits",
                "batches",
                "cycles/step",
                "cell use",
            ]
        } else {
            &["layer", "neurons", "fan-in", "cycles/neuron", "batches", "cycles/step", "unit use"]
        });
        for l in &m.layers {
            let mut row = vec![l.name.clone(), l.neurons.to_string(), l.max_fan_in.to_string()];
            if tl {
                row.extend([l.max_gates.to_string(), l.max_cycles.to_string(), l.peak_live.to_string()]);
            } else {
                row.push(l.max_cycles.to_string());
            }
            row.extend([
                l.batches.to_string(),
                l.actions.cycles.to_string(),
                format!("{:.1} %", 100.0 * l.utilisation),
            ]);
            t.push(row);
        }
        let (used, cap) = m.weight_memory_bits;
        format!(
            "mapping onto {} ({}): weight memory {used} of {cap} bits ({:.1} %)\n{}",
            m.model,
            m.family,
            100.0 * used as f64 / cap.max(1) as f64,
            t.render()
        )
    }

    /// Energy per classification by component, cycles, latency and throughput.
    pub fn energy_text(&self) -> String {
        let e = &self.energy;
        let n = f64::from(e.time.steps.max(1));
        format!(
            "{}cycles per classification {:.0}, latency {:.3} µs, throughput {:.0} classifications/s\n",
            neuromap_report::ledger_text(e),
            self.cycles() as f64 / n,
            latency_s(e) * 1e6,
            throughput_hz(e)
        )
    }

    /// Array cycles over the run.
    pub fn cycles(&self) -> u64 {
        self.run.actions.iter().map(|a| a.cycles).sum()
    }

    /// A stable text for snapshots (no wall times, no paths).
    pub fn summary(&self) -> String {
        let mut s = self.run_summary(false).to_text();
        s.push_str(&self.mapping_text());
        let spikes: u64 = self.run.spike_counts.iter().sum();
        let _ = writeln!(s, "chip = reference: identical ({spikes} spikes)\n");
        s.push_str(&self.energy_text());
        s.push_str("\nspike digests (FNV-1a of (step, neuron) pairs)\n");
        for (p, rec) in self.job.net.populations().iter().zip(&self.run.spikes) {
            let _ = writeln!(s, "{:<12} {:016x}", p.name, spike_digest(&rec.steps, &rec.neurons));
        }
        s
    }

    /// `report.json`: the run summary, energy and time per classification.
    pub fn report_json(&self, wall: bool) -> serde_json::Value {
        let mut v = serde_json::to_value(self.run_summary(wall)).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = v.as_object_mut() {
            let e = &self.energy;
            obj.insert("energy".into(), neuromap_report::ledger_json(e));
            obj.insert(
                "timing".into(),
                serde_json::json!({
                    "latency_mean_us": latency_s(e) * 1e6,
                    "latency_max_us": e.time.need_max_s * 1e6,
                    "cycles_per_classification": self.cycles() as f64 / f64::from(e.time.steps.max(1)),
                    "throughput_hz": throughput_hz(e),
                }),
            );
        }
        v
    }
}

/// Time per classification (s).
fn latency_s(e: &Ledger) -> f64 {
    e.time.wall_s / f64::from(e.time.steps.max(1))
}

/// Classifications per second with the array busy.
fn throughput_hz(e: &Ledger) -> f64 {
    if e.time.wall_s > 0.0 { f64::from(e.time.steps) / e.time.wall_s } else { f64::INFINITY }
}

/// Energy per classification on `basis` (J).
fn per_classification(e: &Ledger, basis: Basis) -> f64 {
    e.total(basis) / f64::from(e.time.steps.max(1))
}

/// The datapath's energy per classification (cells, registers, XNORs, adders,
/// comparators; not memory, input delivery or static power).
fn datapath_per_classification(e: &Ledger) -> f64 {
    let j: f64 = e.lines.iter().filter(|l| matches!(l.component.as_str(), "PE" | "unit")).map(|l| l.joules).sum();
    j / f64::from(e.time.steps.max(1))
}

/// Two binary runs of one network side by side (e.g. threshold logic against the MAC
/// baseline): energy on the three bases, datapath energy, cycles and throughput, and
/// their ratios.
pub fn comparison_text(a: &BinaryOutcome, b: &BinaryOutcome) -> String {
    let (ea, eb) = (&a.energy, &b.energy);
    let per = |o: &BinaryOutcome| o.cycles() as f64 / f64::from(o.energy.time.steps.max(1));
    let mut t = neuromap_report::table::Table::new([
        "per classification",
        a.job.model.name.as_str(),
        b.job.model.name.as_str(),
        "ratio",
    ]);
    let ratio = |x: f64, y: f64| if x > 0.0 { format!("{:.2}×", y / x) } else { "-".into() };
    for basis in Basis::ALL {
        let (x, y) = (per_classification(ea, basis), per_classification(eb, basis));
        t.row([
            format!("energy, {} (nJ)", basis.label()),
            format!("{:.3}", x * 1e9),
            format!("{:.3}", y * 1e9),
            ratio(x, y),
        ]);
    }
    let (x, y) = (datapath_per_classification(ea), datapath_per_classification(eb));
    t.row(["datapath energy (nJ)".to_string(), format!("{:.3}", x * 1e9), format!("{:.3}", y * 1e9), ratio(x, y)]);
    t.row(["cycles".to_string(), format!("{:.0}", per(a)), format!("{:.0}", per(b)), ratio(per(a), per(b))]);
    t.row([
        "throughput (1/s)".to_string(),
        format!("{:.0}", throughput_hz(ea)),
        format!("{:.0}", throughput_hz(eb)),
        ratio(throughput_hz(eb), throughput_hz(ea)),
    ]);
    let same = a.run.spikes == b.run.spikes;
    format!(
        "{}ratio = {} ÷ {} (energy efficiency of {} over {}); outputs {}\n",
        t.render(),
        b.job.model.name,
        a.job.model.name,
        a.job.model.name,
        b.job.model.name,
        if same { "identical, bit for bit" } else { "DIFFER" }
    )
}
