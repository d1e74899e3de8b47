//! The main job on the crossbar family, and the liquid-state-machine study: accuracy
//! and energy per inference under device variation, faults, levels and ADC bits, beside
//! the same network on an ARM-core model.

use std::fmt::Write as _;
use std::time::Instant;

use neuromap_cost::crossbar::crossbar_ledger;
use neuromap_cost::{Basis, Ledger, Work};
use neuromap_hw::HwModel;
use neuromap_hw::crossbar::Crossbar;
use neuromap_ir::{Network, NeuronModel, PopId, PopKind};
use neuromap_report::RunSummary;
use neuromap_sim::fidelity::PopFidelity;
use neuromap_sim::{Options, RunResult};
use neuromap_xbar::lsm::{self, Dataset, Readout, Sample};
use neuromap_xbar::{XbarMapping, XbarRun};
use serde::Serialize;

use crate::{Job, JobError, TAU_MS, spike_digest};

pub fn is_crossbar_family(model: &HwModel) -> bool {
    crate::any::run_path(model) == crate::any::RunPath::Crossbar
}

/// What a crossbar run produced, checked and priced.
#[derive(Debug)]
pub struct XbarOutcome {
    pub job: Job,
    pub mapping: XbarMapping,
    pub run: XbarRun,
    /// The quantised functional model of the conductance-quantised network.
    pub functional: RunResult,
    pub same_as_functional: bool,
    /// No variation, faults, noise or IR drop, and an ADC that resolves every sum.
    pub ideal: bool,
    pub reference: RunResult,
    pub fidelity: Vec<PopFidelity>,
    /// What a reader must not miss (a population the chip left silent, and why).
    pub warnings: Vec<String>,
    pub energy: Ledger,
    pub map_s: f64,
    pub chip_s: f64,
}

/// Whether the devices and converters of `m` compute exactly.
pub fn is_ideal(m: &XbarMapping) -> bool {
    let hw = &m.hw;
    hw.sigma == 0.0
        && hw.stuck_low == 0.0
        && hw.stuck_high == 0.0
        && hw.read_noise == 0.0
        && hw.r_wire_ohm == 0.0
        && m.tiles.iter().all(|t| hw.adc(t.rows, m.matrices[t.matrix].qmax).1 == 1)
}

fn map_err(job: &Job, message: String) -> JobError {
    JobError::Map { net: job.net.name.clone(), model: job.model.name.clone(), message }
}

/// Maps, runs, checks against the functional model (must be equal when ideal),
/// compares with the reference, prices. Devices and read noise draw from the job's
/// fault seed.
pub fn run_crossbar_job(job: Job) -> Result<XbarOutcome, JobError> {
    neuromap_compile::check_models(&job.net, &job.model).map_err(|m| job.map_error(m))?;
    let t0 = Instant::now();
    let seed = job.faults.seed;
    let mapping = neuromap_xbar::map(&job.net, &job.model, seed).map_err(|e| map_err(&job, e.to_string()))?;
    let map_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let run = neuromap_xbar::run(&mapping, job.steps, Options::default(), seed);
    let chip_s = t1.elapsed().as_secs_f64();
    let functional = neuromap_sim::simulate_quantised(&mapping.quantised_net, job.steps, Options::default());
    let same = functional.spikes == run.result.spikes && functional.spike_counts == run.result.spike_counts;
    let ideal = is_ideal(&mapping) && run.counts.clipped == 0;
    if ideal && !same {
        return Err(JobError::Behaviour);
    }
    let reference = neuromap_sim::simulate(&job.net, job.steps, Options::default());
    let fidelity = neuromap_sim::fidelity::compare(&job.net, &reference, &run.result, TAU_MS);
    let warnings = crate::silence_warnings(&fidelity, &|pop| silence_cause(&job.net, &mapping, pop));
    let energy = crate::paced(&job, price(&job.model, &mapping.hw, &mapping, &run));
    Ok(XbarOutcome {
        job,
        mapping,
        run,
        functional,
        same_as_functional: same,
        ideal,
        reference,
        fidelity,
        warnings,
        energy,
        map_s,
        chip_s,
    })
}

/// The mapping: tiles, cell use, and per matrix its scale and ADC resolution.
pub fn mapping_text(m: &XbarMapping, net: &Network, steps: u32, counts: Option<&neuromap_xbar::XbarCounts>) -> String {
    let hw = &m.hw;
    let signed = match m.signed {
        neuromap_xbar::Signed::Differential => "differential column pairs",
        neuromap_xbar::Signed::Offset => "an offset reference column",
    };
    let cells_used: usize = m.tiles.iter().map(|t| (t.rows * t.physical_cols(m.signed)) as usize).sum();
    let cells_all = m.tiles.len() * (hw.rows * hw.columns) as usize;
    let mut s = format!(
        "mapping onto {} (crossbar, {} levels, signed weights as {signed}): {} of {} tiles of {} × {}, {:.1} % of their cells used\n",
        m.model,
        hw.levels,
        m.tiles.len(),
        m.capacity,
        hw.rows,
        hw.columns,
        100.0 * cells_used as f64 / cells_all.max(1) as f64
    );
    let mut t = neuromap_report::table::Table::new([
        "projection",
        "delay",
        "matrix",
        "tiles",
        "level step",
        "levels ±",
        "ADC LSB (steps)",
    ]);
    for (mi, mat) in m.matrices.iter().enumerate() {
        let p = net.proj(mat.proj);
        let n: usize = mat.row_tiles.iter().map(Vec::len).sum();
        let lsb = m.tiles.iter().filter(|t| t.matrix == mi).map(|t| hw.adc(t.rows, mat.qmax).1).max().unwrap_or(1);
        t.row([
            p.name.clone(),
            mat.delay.to_string(),
            format!("{} × {}", net.pop(p.pre).size, net.pop(p.post).size),
            n.to_string(),
            format!("{:.6}", mat.step_weight()),
            mat.qmax.to_string(),
            lsb.to_string(),
        ]);
    }
    s.push_str(&t.render());
    if let Some(c) = counts {
        let n = f64::from(steps.max(1));
        let _ = writeln!(
            s,
            "per step: {:.1} tile reads, {:.1} word lines driven, {:.1} ADC conversions, {:.1} packets over {:.1} hops; {} conversions clipped",
            c.tile_reads as f64 / n,
            c.active_rows as f64 / n,
            c.conversions as f64 / n,
            c.packets as f64 / n,
            c.hops as f64 / n,
            c.clipped
        );
    }
    s
}

/// Why a population's input vanishes on the crossbar: an ADC step larger than one
/// spike's largest input on every projection into it, or weights that round to zero.
fn silence_cause(net: &Network, m: &XbarMapping, pop: &str) -> Option<String> {
    let hw = &m.hw;
    let mut lost = Vec::new();
    let mut into = 0;
    for (mi, mat) in m.matrices.iter().enumerate() {
        let p = net.proj(mat.proj);
        if net.pop(p.post).name != pop {
            continue;
        }
        into += 1;
        let lsb = m.tiles.iter().filter(|t| t.matrix == mi).map(|t| hw.adc(t.rows, mat.qmax).1).max().unwrap_or(1);
        if mat.qmax == 0 {
            lost.push(format!("`{}`: its weights round to 0 of {} levels", p.name, hw.levels));
        } else if lsb > mat.qmax {
            lost.push(format!(
                "`{}`: the ADC's step is {lsb} level steps, more than one spike's largest input ({} steps), so a spike's input rounds to zero",
                p.name, mat.qmax
            ));
        }
    }
    (into > 0 && lost.len() == into).then(|| {
        format!(
            "{} (the figures adc.bits = {} and adc.range_rows set the step: more bits or a smaller range would resolve one spike)",
            lost.join("; "),
            hw.adc_bits
        )
    })
}

/// Prices a crossbar run of `m` (its figures `hw`, certainty from `model`).
fn price(model: &HwModel, hw: &Crossbar, m: &XbarMapping, run: &XbarRun) -> Ledger {
    let net = &m.quantised_net;
    let work = Work {
        synaptic_events: run.result.synaptic_events.iter().sum(),
        neurons: net.n_neurons(),
        dt_ms: net.dt,
        inferences: None,
    };
    crossbar_ledger(model, hw, &run.counts, run.result.neuron_updates, m.tiles.len() as u64, m.capacity as u64, work)
}

impl XbarOutcome {
    pub fn run_summary(&self, wall: bool) -> RunSummary {
        RunSummary::new(
            &self.job.net,
            &self.run.result,
            &format!("chip ({}, crossbar)", self.job.model.name),
            wall.then_some(self.chip_s),
        )
        .with_footprint(Some(self.footprint()))
    }

    /// NeuroBench's footprint on the crossbar: every cell of the tiles in use holds
    /// log2(levels) bits (rounded up), and each neuron's state is the periphery's
    /// s16.15 potential and two synaptic currents (12 bytes), as the chip's functional
    /// model holds it.
    pub fn footprint(&self) -> neuromap_report::Footprint {
        let hw = &self.mapping.hw;
        let bits = f64::from(hw.levels.max(2)).log2().ceil();
        let cells = self.mapping.tiles.len() as f64 * f64::from(hw.rows) * f64::from(hw.columns);
        neuromap_report::Footprint {
            weight_bytes: cells * bits / 8.0,
            state_bytes: Some(self.job.net.n_neurons() as f64 * 12.0),
            how: format!(
                "{} tiles of {} × {} cells of {bits} bits; s16.15 neuron state in the periphery",
                self.mapping.tiles.len(),
                hw.rows,
                hw.columns
            ),
        }
    }

    pub fn check_text(&self) -> String {
        let spikes: u64 = self.run.result.spike_counts.iter().sum();
        let f: u64 = self.functional.spike_counts.iter().sum();
        if self.same_as_functional {
            format!("chip = conductance-quantised functional model: identical ({spikes} spikes)\n")
        } else {
            format!(
                "chip ≠ conductance-quantised functional model: {spikes} spikes against {f}, from device variation, faults, read noise, IR drop or ADC resolution\n"
            )
        }
    }

    /// A stable text for snapshots.
    pub fn summary(&self) -> String {
        let j = &self.job;
        let mut s = self.run_summary(false).to_text();
        s.push_str(&mapping_text(&self.mapping, &j.net, self.run.result.steps, Some(&self.run.counts)));
        s.push_str(&self.check_text());
        let lat = &self.run.counts.step_latency_s;
        let _ = writeln!(
            s,
            "latency per step: mean {:.3} µs, max {:.3} µs\n",
            lat.iter().sum::<f64>() / lat.len().max(1) as f64 * 1e6,
            lat.iter().copied().fold(0.0, f64::max) * 1e6
        );
        s.push_str(&neuromap_report::ledger_text(&self.energy));
        s.push('\n');
        s.push_str(&crate::warnings_text(&self.warnings));
        s.push_str(&neuromap_report::fidelity_text(&self.fidelity, TAU_MS));
        s.push_str("\nspike digests (FNV-1a of (step, neuron) pairs)\n");
        for ((p, rec), &on) in j.net.populations().iter().zip(&self.run.result.spikes).zip(&self.run.result.recorded) {
            if on {
                let _ = writeln!(s, "{:<12} {:016x}", p.name, spike_digest(&rec.steps, &rec.neurons));
            }
        }
        s
    }

    pub fn report_json(&self, wall: bool) -> serde_json::Value {
        let mut v = serde_json::to_value(self.run_summary(wall)).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("energy".into(), neuromap_report::ledger_json(&self.energy));
            let lat = &self.run.counts.step_latency_s;
            obj.insert(
                "timing".into(),
                serde_json::json!({
                    "latency_mean_us": lat.iter().sum::<f64>() / lat.len().max(1) as f64 * 1e6,
                    "latency_max_us": lat.iter().copied().fold(0.0, f64::max) * 1e6,
                }),
            );
            obj.insert("counts".into(), serde_json::to_value(&self.run.counts).unwrap_or(serde_json::Value::Null));
        }
        v
    }
}

/// The LSM workload on a network: its input source, its liquid, a trained readout.
#[derive(Debug)]
pub struct LsmStudy {
    pub net: Network,
    pub data: Dataset,
    pub input: PopId,
    pub liquid: PopId,
    pub test: Vec<Sample>,
    pub readout: Readout,
    /// Held-out accuracy of the f64 reference.
    pub reference_accuracy: f64,
    pub train_accuracy: f64,
}

/// One crossbar evaluation: accuracy, energy and time per inference.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LsmEval {
    pub accuracy: f64,
    pub energy_per_inference_j: f64,
    /// The same with every step held to the network's dt (the time basis of a chip
    /// that keeps real time).
    pub energy_per_inference_held_j: f64,
    pub latency_per_inference_s: f64,
    pub clipped: u64,
}

impl LsmStudy {
    /// Finds the input (the source with as many neurons as the dataset's pixels) and the
    /// liquid (the largest spiking population it drives), draws the dataset, and trains
    /// the readout on the reference's liquid states.
    pub fn prepare(net: Network, data: Dataset) -> Result<LsmStudy, JobError> {
        let input = net
            .pop_ids()
            .find(|&p| net.pop(p).is_source() && net.pop(p).size as usize == data.pixels)
            .ok_or_else(|| {
                JobError::Input(format!("`{}` has no source of {} neurons for the LSM's input", net.name, data.pixels))
            })?;
        let liquid = net
            .outgoing(input)
            .iter()
            .map(|&q| net.proj(q).post)
            .filter(
                |&p| matches!(&net.pop(p).kind, PopKind::Neurons(NeuronModel::Lif(l)) if l.v_thresh.min().is_finite()),
            )
            .max_by_key(|&p| net.pop(p).size)
            .ok_or_else(|| {
                JobError::Input(format!("`{}`: the input drives no spiking population (the liquid)", net.name))
            })?;
        let (train, test) = data.samples();
        let size = net.pop(liquid).size as usize;
        let states = |samples: &[Sample]| -> Vec<Vec<f64>> {
            samples
                .iter()
                .map(|s| {
                    let n = lsm::with_sample(&net, input, s);
                    lsm::state(&neuromap_sim::simulate(&n, data.steps, Options::default()), liquid, size)
                })
                .collect()
        };
        let xs = states(&train);
        let ys: Vec<usize> = train.iter().map(|s| s.label).collect();
        let readout = Readout::train(&xs, &ys, data.classes, 10.0);
        let train_accuracy = readout.accuracy(&xs, &ys);
        let xt = states(&test);
        let yt: Vec<usize> = test.iter().map(|s| s.label).collect();
        let reference_accuracy = readout.accuracy(&xt, &yt);
        Ok(LsmStudy { net, data, input, liquid, test, readout, reference_accuracy, train_accuracy })
    }

    /// Every held-out sample on the crossbar `hw` (devices programmed once from `seed`).
    /// `model` is the base model (whose figures' provenance the prices rest on) and
    /// `hw` its figures as the study sets them.
    pub fn on_crossbar(&self, model: &HwModel, hw: &Crossbar, seed: u64) -> Result<LsmEval, JobError> {
        let chips = model.machine.alive_chips();
        let m = neuromap_xbar::map::map_onto(&self.net, &model.name, hw, seed, chips).map_err(|e| JobError::Map {
            net: self.net.name.clone(),
            model: model.name.clone(),
            message: e.to_string(),
        })?;
        let size = self.net.pop(self.liquid).size as usize;
        let (mut right, mut energy, mut time, mut clipped) = (0usize, 0.0, 0.0, 0u64);
        let mut held = 0.0;
        let tick = neuromap_cost::Pace::SelfTimed { tick_s: Some(self.net.dt / 1000.0) };
        for (k, s) in self.test.iter().enumerate() {
            let n = lsm::with_sample(&m.quantised_net, self.input, s);
            let r = neuromap_xbar::run_on(&m, &n, self.data.steps, Options::default(), seed ^ (k as u64 + 1));
            let x = lsm::state(&r.result, self.liquid, size);
            right += usize::from(self.readout.predict(&x) == s.label);
            let e = price(model, hw, &m, &r);
            energy += e.total(Basis::Allocated);
            held += e.repaced(tick).map_or(f64::NAN, |x| x.total(Basis::Allocated));
            time += e.time.wall_s;
            clipped += r.counts.clipped;
        }
        let n = self.test.len().max(1) as f64;
        Ok(LsmEval {
            accuracy: right as f64 / n,
            energy_per_inference_j: energy / n,
            energy_per_inference_held_j: held / n,
            latency_per_inference_s: time / n,
            clipped,
        })
    }

    /// Energy per inference of the first `samples` held-out samples on another model of
    /// any family (the main job per sample: map, run, price): on the allocated basis and
    /// dynamic only; and whether that model keeps a tick (real time).
    pub fn on_model(&self, model: &HwModel, samples: usize) -> Result<(f64, f64, bool), JobError> {
        let (mut total, mut dynamic, mut ticks) = (0.0, 0.0, false);
        let k = samples.clamp(1, self.test.len().max(1));
        for s in self.test.iter().take(k) {
            let n = lsm::with_sample(&self.net, self.input, s);
            // A network built in code (the sample's input set into the liquid).
            let job = Job::new(None, n, model.clone(), self.data.steps);
            let out = crate::any::run_any(job)?;
            let e =
                out.ledger().ok_or_else(|| JobError::Input(format!("`{}` gives no [energy] figures", model.name)))?;
            total += e.total(Basis::Allocated);
            dynamic += e.total(Basis::Dynamic);
            ticks = e.time.real_time_s.is_some();
        }
        Ok((total / k as f64, dynamic / k as f64, ticks))
    }
}

/// One row of a sweep.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SweepRow {
    pub parameter: &'static str,
    pub value: f64,
    pub eval: LsmEval,
}

/// What a sweep varies, one parameter at a time from the model's own figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sweep {
    pub sigma: Vec<f64>,
    pub stuck: Vec<f64>,
    pub levels: Vec<u32>,
    pub adc_bits: Vec<u32>,
}

impl Sweep {
    /// The settings, as (parameter, value, the model with it): each set as a figure of
    /// the model (`HwModel::with_figure`), so that figures stepping with another (the
    /// ADC's energy, latency and area with its bits) follow it.
    pub fn settings(&self, base: &HwModel) -> Result<Vec<(&'static str, f64, HwModel)>, String> {
        let why = "set by the crossbar sweep";
        let mut out = Vec::new();
        for &v in &self.sigma {
            out.push(("sigma", v, base.with_figure("device.sigma", &v.to_string(), why)?));
        }
        for &v in &self.stuck {
            // MNSIM's split: nine parts stuck at the lowest conductance, one at the highest.
            let m = base.with_figure("device.stuck_low", &(0.9 * v).to_string(), why)?.with_figure(
                "device.stuck_high",
                &(0.1 * v).to_string(),
                why,
            )?;
            out.push(("stuck-at rate", v, m));
        }
        for &v in &self.levels {
            out.push(("levels", f64::from(v), base.with_figure("tile.levels", &v.to_string(), why)?));
        }
        for &v in &self.adc_bits {
            out.push(("ADC bits", f64::from(v), base.with_figure("adc.bits", &v.to_string(), why)?));
        }
        Ok(out)
    }
}

/// Runs every setting of `sweep` on the study.
pub fn sweep(study: &LsmStudy, model: &HwModel, sweep: &Sweep, seed: u64) -> Result<Vec<SweepRow>, JobError> {
    if model.family != "crossbar" {
        return Err(JobError::Input(format!("`{}` is of family `{}`, not `crossbar`", model.name, model.family)));
    }
    let mut rows = Vec::new();
    for (parameter, value, m) in sweep.settings(model).map_err(JobError::Input)? {
        let hw = Crossbar::from_model(&m).expect("a crossbar model stays one");
        let eval = study.on_crossbar(&m, &hw, seed)?;
        rows.push(SweepRow { parameter, value, eval });
    }
    Ok(rows)
}

/// The sweep as CSV.
pub fn sweep_csv(rows: &[SweepRow]) -> String {
    let mut s = String::from("parameter,value,accuracy,energy_per_inference_j,latency_per_inference_s,clipped\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{:e},{:e},{}",
            r.parameter,
            r.value,
            r.eval.accuracy,
            r.eval.energy_per_inference_j,
            r.eval.latency_per_inference_s,
            r.eval.clipped
        );
    }
    s
}

/// The sweep as an SVG figure (a panel per parameter).
pub fn sweep_svg(title: &str, rows: &[SweepRow]) -> String {
    let mut panels: Vec<neuromap_report::plot::SweepPanel> = Vec::new();
    for r in rows {
        let pt = (r.value, r.eval.accuracy, r.eval.energy_per_inference_j);
        match panels.iter_mut().find(|p| p.0 == r.parameter) {
            Some(p) => p.1.push(pt),
            None => panels.push((r.parameter.to_string(), vec![pt])),
        }
    }
    neuromap_report::plot::sweep(title, &panels)
}
