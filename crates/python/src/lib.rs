//! `neuromap._neuromap`: the native half of the Python package `neuromap`.
//!
//! Every computation here is the workspace's: networks load through
//! `neuromap_import` (with its diagnostics), runs go through `neuromap_pipeline::any`,
//! sweeps through `neuromap_pipeline::dse`, diffs through `neuromap_report::diff`.
//! This crate only moves values across the boundary: networks, chip models and results
//! in, JSON text, bytes of little-endian numbers and Python exceptions out. The
//! Pythonic layer (dataclasses, numpy arrays, DataFrames, progress bars, HTML in
//! Jupyter) is `python/neuromap/`.
//!
//! Long computations run on a worker thread with the interpreter released; the calling
//! thread waits on it, checks for signals (Ctrl-C) and reports progress every
//! [`POLL`]. On a signal the run's stop flag is set, the worker ends after its current
//! step, and the signal is raised in Python.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use neuromap_diag::Diagnostics;
use neuromap_hw::HwModel;
use neuromap_import::Netlist;
use neuromap_import::nir::NirOptions;
use neuromap_ir::spec::NetworkSpec;
use neuromap_pipeline::any::{AnyOutcome, RunPath};
use neuromap_pipeline::{Job, JobError};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

create_exception!(neuromap, NeuromapError, PyException, "A neuromap failure; the message says what and why.");
create_exception!(
    neuromap,
    InputError,
    NeuromapError,
    "A network or chip model with problems. `diagnostics` lists each: file, line and column (or the NIR node in the message), what is wrong and what was expected."
);
create_exception!(
    neuromap,
    MappingError,
    NeuromapError,
    "The network does not fit the chip, or not within the memory allowed; the message names the resource, the demand and the capacity."
);

/// How often a waiting call checks for signals and reports progress.
const POLL: Duration = Duration::from_millis(50);

/// The worker's stack: the CLI runs on the main thread's 8 MB; sweeps found deep
/// recursion in places, so be generous (address space only).
const STACK: usize = 256 << 20;

// ---------------------------------------------------------------------------------
// Errors

/// `InputError` with every diagnostic as a dict (file, line, column, severity,
/// message, label, help) in its `diagnostics` attribute.
fn diagnostics_error(py: Python<'_>, d: &Diagnostics) -> PyErr {
    let text: Vec<String> = d
        .iter()
        .map(|x| {
            let mut s = x.to_string();
            if let Some(l) = &x.label {
                s.push_str(&format!(" (expected: {l})"));
            }
            if let Some(h) = &x.help {
                s.push_str(&format!("; help: {h}"));
            }
            s
        })
        .collect();
    let err = InputError::new_err(text.join("\n"));
    let list = PyList::empty(py);
    for x in d.iter() {
        let item = PyDict::new(py);
        let (line, column) = match &x.span {
            Some(s) => {
                let (l, c) = x.file.line_col(s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let severity = match x.severity {
            neuromap_diag::Severity::Error => "error",
            neuromap_diag::Severity::Warning => "warning",
        };
        let _ = item.set_item("file", &x.file.name);
        let _ = item.set_item("line", line);
        let _ = item.set_item("column", column);
        let _ = item.set_item("severity", severity);
        let _ = item.set_item("message", &x.message);
        let _ = item.set_item("label", x.label.as_deref());
        let _ = item.set_item("help", x.help.as_deref());
        let _ = list.append(item);
    }
    let _ = err.value(py).setattr("diagnostics", list);
    err
}

/// A pipeline error as the exception a Python caller can catch by kind.
fn job_error(py: Python<'_>, e: JobError) -> PyErr {
    let err = match &e {
        JobError::Input(m) => InputError::new_err(m.clone()),
        JobError::Map { .. } | JobError::TooLarge { .. } => MappingError::new_err(e.to_string()),
        JobError::Chip(_) | JobError::Behaviour => NeuromapError::new_err(e.to_string()),
    };
    let _ = err.value(py).setattr("diagnostics", PyList::empty(py));
    err
}

fn value_error(py: Python<'_>, message: String) -> PyErr {
    let err = InputError::new_err(message);
    let _ = err.value(py).setattr("diagnostics", PyList::empty(py));
    err
}

// ---------------------------------------------------------------------------------
// Working with the interpreter released

/// What a waiting call reports: the steps done, of how many.
#[derive(Debug, Default)]
struct Progress {
    done: AtomicU32,
    total: AtomicU32,
}

/// Runs `work` on a worker thread with the interpreter released, checking for
/// signals and calling `progress(done, total)` every [`POLL`]. A signal (or an
/// exception from `progress`) sets `stop`, waits for the worker to end, and is
/// raised; otherwise `work`'s value is returned.
fn released<T: Send>(
    py: Python<'_>,
    stop: &Arc<AtomicBool>,
    progress: Option<&Bound<'_, PyAny>>,
    counter: &Progress,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    let finished = (Mutex::new(false), Condvar::new());
    let mut raised: Option<PyErr> = None;
    let out = std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("neuromap".into())
            .stack_size(STACK)
            .spawn_scoped(s, || {
                let out = work();
                *finished.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
                finished.1.notify_all();
                out
            })
            .map_err(|e| NeuromapError::new_err(format!("cannot start a worker thread: {e}")))?;
        let mut last = (u32::MAX, u32::MAX);
        loop {
            let done = py.detach(|| {
                let guard = finished.0.lock().unwrap_or_else(|e| e.into_inner());
                let (guard, _) = finished.1.wait_timeout_while(guard, POLL, |f| !*f).unwrap_or_else(|e| e.into_inner());
                *guard
            });
            if raised.is_none()
                && let Err(e) = py.check_signals()
            {
                stop.store(true, Ordering::SeqCst);
                raised = Some(e);
            }
            if let (Some(cb), None) = (progress, &raised) {
                let now = (counter.done.load(Ordering::Relaxed), counter.total.load(Ordering::Relaxed));
                if now != last || done {
                    last = now;
                    let reported = if done { (now.1, now.1) } else { now };
                    if let Err(e) = cb.call1(reported) {
                        stop.store(true, Ordering::SeqCst);
                        raised = Some(e);
                    }
                }
            }
            if done {
                break;
            }
        }
        worker
            .join()
            .map_err(|_| NeuromapError::new_err("the run panicked: this is a bug in neuromap, please report it"))
    });
    match (raised, out) {
        (Some(e), _) => Err(e),
        (None, out) => out,
    }
}

// ---------------------------------------------------------------------------------
// Networks

/// A network as neuromap reads it: from a netlist, a NIR graph, or text a Python
/// builder wrote. Immutable; `neuromap.Network` builds new ones.
#[pyclass(module = "neuromap._neuromap", frozen)]
#[derive(Debug)]
struct Network {
    spec: NetworkSpec,
    steps: Option<u32>,
    warnings: Vec<String>,
}

impl Network {
    fn of(n: Netlist) -> Self {
        let warnings = n.warnings.iter().map(ToString::to_string).collect();
        Network { spec: n.spec, steps: n.steps, warnings }
    }

    /// The network built (sizes scaled, connectors drawn), within the memory allowed.
    fn build(&self, py: Python<'_>, seed: Option<u64>) -> PyResult<(NetworkSpec, neuromap_ir::Network)> {
        let mut spec = self.spec.clone();
        if let Some(s) = seed {
            spec.seed = s;
        }
        let (limit, why) = neuromap_pipeline::default_memory_limit();
        let net = spec.build_within(limit).map_err(|e| match e {
            neuromap_ir::IrError::TooLarge(msg) => {
                MappingError::new_err(format!("{}: {msg} ({why}); lower `scale` or the sizes", spec.name))
            }
            e => value_error(py, format!("{}: {e}", spec.name)),
        })?;
        Ok((spec, net))
    }
}

fn nir_options(dt_s: Option<f64>, input_p: Option<f64>, seed: Option<u64>) -> NirOptions {
    let d = NirOptions::default();
    NirOptions {
        dt_s: dt_s.unwrap_or(d.dt_s),
        input_p: input_p.unwrap_or(d.input_p),
        seed: seed.unwrap_or(d.seed),
        ..d
    }
}

#[pymethods]
impl Network {
    /// The network's name.
    #[getter]
    fn name(&self) -> String {
        self.spec.name.clone()
    }

    /// The run length the netlist gives (`[network] steps`), if any.
    #[getter]
    fn steps(&self) -> Option<u32> {
        self.steps
    }

    /// The timestep, ms.
    #[getter]
    fn dt_ms(&self) -> f64 {
        self.spec.dt
    }

    /// The seed of the network's random connectors and sources.
    #[getter]
    fn seed(&self) -> u64 {
        self.spec.seed
    }

    /// Warnings from loading (the network is usable).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// The network's declaration as JSON (populations, projections, probes).
    fn spec_json(&self) -> String {
        serde_json::to_string(&self.spec).unwrap_or_default()
    }

    /// The network as a TOML netlist neuromap reads back to the same network.
    fn to_toml(&self, py: Python<'_>) -> PyResult<String> {
        neuromap_import::write::to_toml(&self.spec, self.steps, "written by neuromap (Python)")
            .map_err(|e| value_error(py, e))
    }

    /// (neurons, synapses) once built with the network's seed.
    fn size(&self, py: Python<'_>) -> PyResult<(u64, u64)> {
        let (_, net) = self.build(py, None)?;
        Ok((net.n_neurons(), net.n_synapses()))
    }

    fn __repr__(&self) -> String {
        format!(
            "<neuromap.Network {:?}: {} populations, {} projections, dt {} ms>",
            self.spec.name,
            self.spec.populations.len(),
            self.spec.projections.len(),
            self.spec.dt
        )
    }
}

/// Loads a TOML netlist or a `.nir` file (by its extension).
#[pyfunction]
#[pyo3(signature = (path, dt_s=None, input_p=None, seed=None))]
fn load_network(
    py: Python<'_>,
    path: std::path::PathBuf,
    dt_s: Option<f64>,
    input_p: Option<f64>,
    seed: Option<u64>,
) -> PyResult<Network> {
    let o = nir_options(dt_s, input_p, seed);
    let n = py.detach(|| neuromap_import::load_any(&path, &o));
    n.map(Network::of).map_err(|d| diagnostics_error(py, &d))
}

/// Reads netlist text; `name` stands for the file in diagnostics.
#[pyfunction]
fn network_from_toml(py: Python<'_>, text: &str, name: &str) -> PyResult<Network> {
    let n = py.detach(|| neuromap_import::load_str(name, text));
    n.map(Network::of).map_err(|d| diagnostics_error(py, &d))
}

/// Reads a NIR graph from the bytes of its HDF5 file (as `nir.write` writes to a
/// `BytesIO`); `name` stands for the file in diagnostics.
#[pyfunction]
#[pyo3(signature = (data, name, dt_s=None, input_p=None, seed=None))]
fn network_from_nir_bytes(
    py: Python<'_>,
    data: Vec<u8>,
    name: &str,
    dt_s: Option<f64>,
    input_p: Option<f64>,
    seed: Option<u64>,
) -> PyResult<Network> {
    let o = nir_options(dt_s, input_p, seed);
    let n = py.detach(|| neuromap_import::nir::load_bytes(name, data, &o));
    n.map(Network::of).map_err(|d| diagnostics_error(py, &d))
}

// ---------------------------------------------------------------------------------
// Chip models

/// A chip model: every figure with its provenance. `set` changes a figure as
/// `neuromap sweep --set` does (the value checked, its provenance the reason given).
#[pyclass(module = "neuromap._neuromap", skip_from_py_object)]
#[derive(Debug, Clone)]
struct Hw {
    model: HwModel,
}

#[pymethods]
impl Hw {
    #[getter]
    fn name(&self) -> String {
        self.model.name.clone()
    }

    #[getter]
    fn family(&self) -> String {
        self.model.family.to_string()
    }

    #[getter]
    fn description(&self) -> String {
        self.model.description.clone()
    }

    /// The model names of a hybrid chip's parts.
    #[getter]
    fn parts(&self) -> Vec<String> {
        self.model.parts.iter().map(|p| p.model.name.clone()).collect()
    }

    /// A figure's value (`section.key`, or `PART/section.key` on a hybrid chip): a
    /// number, or a choice's name; `None` when the model does not give it.
    fn get(&self, py: Python<'_>, key: &str) -> PyResult<Option<Py<PyAny>>> {
        let (model, key) = match key.split_once('/') {
            Some((part, rest)) => {
                match self.model.parts.iter().find(|p| p.model.name == part || p.model.family == part) {
                    Some(p) => (&p.model, rest),
                    None => return Err(value_error(py, format!("`{}` has no part `{part}`", self.model.name))),
                }
            }
            None => (&self.model, key),
        };
        let Some((section, k)) = key.split_once('.') else {
            return Err(value_error(py, format!("`{key}`: a figure is named `section.key`")));
        };
        Ok(match model.figure(section, k) {
            Some(f) => Some(match model.choice_name(f) {
                Some(name) => name.into_pyobject(py)?.into_any().unbind(),
                None => f.value.into_pyobject(py)?.into_any().unbind(),
            }),
            None => None,
        })
    }

    /// Sets a figure (as `--set KEY=VALUE`); `why` becomes its provenance.
    #[pyo3(signature = (key, value, why=None))]
    fn set(&mut self, py: Python<'_>, key: &str, value: &Bound<'_, PyAny>, why: Option<&str>) -> PyResult<()> {
        let v: String = value.str()?.extract()?;
        let why = why.map_or_else(|| format!("set from Python: {key} = {v}"), str::to_string);
        self.model = self.model.with_figure(key, &v, &why).map_err(|e| value_error(py, e))?;
        Ok(())
    }

    /// The model's figures: key, value, unit, certainty, provenance and steps.
    fn figures_json(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .model
            .figures
            .iter()
            .map(|f| {
                serde_json::json!({
                    "key": format!("{}.{}", f.section, f.key),
                    "value": f.value,
                    "choice": self.model.choice_name(f),
                    "unit": f.unit,
                    "certainty": f.provenance.certainty(),
                    "provenance": f.provenance,
                    "steps": f.steps,
                })
            })
            .collect();
        serde_json::to_string(&rows).unwrap_or_default()
    }

    /// The whole validated model as JSON.
    fn to_json(&self) -> String {
        serde_json::to_string(&self.model).unwrap_or_default()
    }

    fn copy(&self) -> Hw {
        self.clone()
    }

    fn __repr__(&self) -> String {
        format!("<neuromap.Hw {:?} ({}): {}>", self.model.name, self.model.family, self.model.description)
    }
}

/// Loads a chip model by name (`hw-models/NAME.toml`) or path.
#[pyfunction]
fn load_hw(py: Python<'_>, name: &str) -> PyResult<Hw> {
    let path = neuromap_pipeline::resolve_hw(name);
    if !path.is_file() {
        return Err(value_error(
            py,
            format!("no chip model `{name}`: not a file, and not in hw-models/ (neuromap.hw.names() lists them)"),
        ));
    }
    neuromap_hw::load_path(&path).map(|model| Hw { model }).map_err(|d| diagnostics_error(py, &d))
}

/// The paths of the chip models in `hw-models/`.
#[pyfunction]
fn hw_files() -> Vec<String> {
    neuromap_pipeline::hw_model_files().unwrap_or_default().iter().map(|p| p.display().to_string()).collect()
}

// ---------------------------------------------------------------------------------
// Results

/// Spikes as (population, size, steps as little-endian u32 bytes, neurons as
/// little-endian u32 bytes), per population in network order.
type Spikes = Vec<(String, u32, Vec<u8>, Vec<u8>)>;

fn spikes_of(net: &neuromap_ir::Network, run: &neuromap_sim::RunResult) -> Spikes {
    let le = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    net.populations()
        .iter()
        .zip(&run.spikes)
        .map(|(p, r)| (p.name.clone(), p.size, le(&r.steps), le(&r.neurons)))
        .collect()
}

fn spikes_py<'py>(py: Python<'py>, s: &Spikes) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (name, size, steps, neurons) in s {
        list.append((name, *size, PyBytes::new(py, steps), PyBytes::new(py, neurons)))?;
    }
    Ok(list)
}

/// What every simulation gives: the spike-count summary and the spikes. A functional
/// simulation (`neuromap simulate`) is this alone; a chip run extends it.
#[pyclass(module = "neuromap._neuromap", frozen, subclass)]
#[derive(Debug)]
struct SimResult {
    summary_json: String,
    summary_text: String,
    spikes: Spikes,
    steps: u32,
    dt_ms: f64,
}

#[pymethods]
impl SimResult {
    /// `summary.json`: spike counts, rates and the NeuroBench workload.
    fn summary_json(&self) -> String {
        self.summary_json.clone()
    }
    /// The spike-count table and workload, as the CLI prints it first.
    fn summary_text(&self) -> String {
        self.summary_text.clone()
    }
    fn spikes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        spikes_py(py, &self.spikes)
    }
    /// The steps simulated.
    #[getter]
    fn steps(&self) -> u32 {
        self.steps
    }
    #[getter]
    fn dt_ms(&self) -> f64 {
        self.dt_ms
    }
}

/// A chip run's outcome: the report the CLI writes, the per-step energy and time (and,
/// from [`SimResult`], the summary and the spikes).
#[pyclass(module = "neuromap._neuromap", frozen, extends = SimResult)]
#[derive(Debug)]
struct RunResult {
    report_json: String,
    report_text: String,
    energy_json: Option<String>,
    html: String,
    per_step_energy: Option<Vec<f64>>,
    per_step_need: Option<Vec<f64>>,
    per_step_taken: Option<Vec<f64>>,
    family: String,
    stopped: bool,
}

#[pymethods]
impl RunResult {
    /// `report.json` as `neuromap run` writes it.
    fn report_json(&self) -> String {
        self.report_json.clone()
    }
    /// The rest of the CLI's account: mapping, checks, energy, fidelity, warnings.
    fn report_text(&self) -> String {
        self.report_text.clone()
    }
    /// The energy ledger (`energy.json`), when the model prices the run.
    fn energy_json(&self) -> Option<String> {
        self.energy_json.clone()
    }
    /// The report as an HTML page (`report.html`).
    fn html(&self) -> String {
        self.html.clone()
    }
    /// Energy of each step on the machine allocated (J), where the family counts it.
    fn per_step_energy(&self) -> Option<Vec<f64>> {
        self.per_step_energy.clone()
    }
    /// Each step's time (s): what the hardware needs, and what it takes under its pace
    /// (at least the tick on a timer-paced chip); `None` where the model gives no timing.
    fn per_step_time(&self) -> (Option<Vec<f64>>, Option<Vec<f64>>) {
        (self.per_step_need.clone(), self.per_step_taken.clone())
    }
    #[getter]
    fn family(&self) -> String {
        self.family.clone()
    }
    /// Whether the run was stopped before the steps asked for.
    #[getter]
    fn stopped(&self) -> bool {
        self.stopped
    }
}

fn result_of(out: &AnyOutcome, asked: u32) -> (SimResult, RunResult) {
    let job = out.job();
    let summary = out.run_summary(true);
    let json = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let mut report_text = out.report_text();
    if let AnyOutcome::ArmCore(o) = out
        && let Some(t) = &o.chip.counts.timing
    {
        // The CLI's `run` prints this beside the shared report text.
        report_text.push_str(&neuromap_report::timing_text(t, o.mapping.hw.clock_hz));
    }
    let ledger = out.ledger();
    let nonempty = |v: &Vec<f64>| (!v.is_empty()).then(|| v.clone());
    let steps = out.spikes().steps;
    let run = RunResult {
        report_json: json(&out.report_json(true)),
        report_text,
        energy_json: ledger.map(|l| json(&neuromap_report::ledger_json(l))),
        html: out.report_html(),
        per_step_energy: ledger.and_then(|l| nonempty(&l.per_step_j)),
        per_step_need: ledger.filter(|l| l.time.need_known).and_then(|l| nonempty(&l.time.need_s)),
        per_step_taken: ledger.and_then(|l| nonempty(&l.time.step_s)),
        family: job.model.family.to_string(),
        stopped: steps < asked,
    };
    (sim_result(&job.net, out.spikes(), &summary), run)
}

fn sim_result(
    net: &neuromap_ir::Network,
    run: &neuromap_sim::RunResult,
    summary: &neuromap_report::RunSummary,
) -> SimResult {
    SimResult {
        summary_json: serde_json::to_string_pretty(summary).unwrap_or_default(),
        summary_text: summary.to_text(),
        spikes: spikes_of(net, run),
        steps: run.steps,
        dt_ms: net.dt,
    }
}

// ---------------------------------------------------------------------------------
// Runs

/// Maps `network` onto `hw`, simulates the chip, checks it against the quantised and
/// f64 models and prices it: `neuromap run` without the files.
#[pyfunction]
#[pyo3(signature = (network, hw, steps=None, seed=None, threads=1, placement_seed=1, fault_seed=None, hold_to_dt=false, progress=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    network: &Network,
    hw: &Hw,
    steps: Option<u32>,
    seed: Option<u64>,
    threads: usize,
    placement_seed: u64,
    fault_seed: Option<u64>,
    hold_to_dt: bool,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<RunResult>> {
    let (spec, net) = network.build(py, seed)?;
    let steps = steps.or(network.steps).unwrap_or(1000);
    let model = hw.model.clone();
    let path = neuromap_pipeline::any::run_path(&model);
    // As `neuromap run --fault-seed` (packet drops on the arm-core path, device
    // programming and read noise on a crossbar), 0 by default.
    let fault_seed = fault_seed.unwrap_or(0);
    let flag = Arc::new(AtomicBool::new(false));
    let job = Job {
        placement_seed,
        threads: threads.max(1),
        faults: neuromap_sim::chip::RunFaults { seed: fault_seed, ..Default::default() },
        max_memory: Some(neuromap_pipeline::default_memory_limit()),
        stop: neuromap_sim::Stop { flag: Some(flag.clone()), ..Default::default() },
        map: neuromap_pipeline::MapOptions { hold_to_dt, ..Default::default() },
        ..Job::new(Some(spec), net, model, steps)
    };
    let counter = Progress::default();
    counter.total.store(steps, Ordering::Relaxed);
    let out = released(py, &flag, progress.as_ref(), &counter, || -> Result<(SimResult, RunResult), JobError> {
        let out = match path {
            RunPath::ArmCore => neuromap_pipeline::run_job(job, &mut |t| {
                counter.done.store(t, Ordering::Relaxed);
                !flag.load(Ordering::SeqCst)
            })
            .map(|o| AnyOutcome::ArmCore(Box::new(o)))?,
            _ => neuromap_pipeline::any::run_any(job)?,
        };
        Ok(result_of(&out, steps))
    })?;
    let (base, run) = out.map_err(|e| job_error(py, e))?;
    Py::new(py, PyClassInitializer::from(base).add_subclass(run))
}

/// Compiles the network onto an arm-core chip model (or a hybrid chip's cores and
/// parts) without simulating it, as `neuromap compile`: (the resource summary as JSON,
/// its text, the mapping artifact as JSON).
#[pyfunction]
#[pyo3(signature = (network, hw, placement_seed=1, assumed_rate_hz=10.0))]
fn compile(
    py: Python<'_>,
    network: &Network,
    hw: &Hw,
    placement_seed: u64,
    assumed_rate_hz: f64,
) -> PyResult<(String, String, String)> {
    let (spec, net) = network.build(py, None)?;
    let model = &hw.model;
    let pinned = if model.parts.is_empty() { Default::default() } else { spec.assign.clone() };
    let options = neuromap_compile::CompileOptions { seed: placement_seed, assumed_rate_hz, ..Default::default() };
    let c = py
        .detach(|| neuromap_pipeline::compile_network(&net, model, &pinned, options))
        .map_err(|e| job_error(py, e))?;
    let summary = c.summary(model);
    let mut text = neuromap_report::mapping_text(&summary);
    if let Some(p) = &c.placed {
        text.push_str(p);
    }
    Ok((serde_json::to_string_pretty(&summary).unwrap_or_default(), text, c.artifact_json(model)))
}

/// Simulates the network alone: the f64 reference, or the quantised model in a
/// format (`s16.15`, `f32`) and rounding (`nearest`, `truncate`, …).
#[pyfunction]
#[pyo3(signature = (network, steps=None, seed=None, format=None, rounding=None, progress=None))]
fn simulate(
    py: Python<'_>,
    network: &Network,
    steps: Option<u32>,
    seed: Option<u64>,
    format: Option<&str>,
    rounding: Option<&str>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<SimResult> {
    use neuromap_sim::arith::{Format, Rounding};
    let (_, net) = network.build(py, seed)?;
    let steps = steps.or(network.steps).unwrap_or(1000);
    let fmt = match format {
        Some(f) => Some(Format::from_name(f).ok_or_else(|| value_error(py, format!("no number format `{f}`")))?),
        None => None,
    };
    let rnd = match rounding {
        Some(r) => Rounding::from_name(r).ok_or_else(|| value_error(py, format!("no rounding `{r}`")))?,
        None => Rounding::default(),
    };
    let options = neuromap_sim::Options { rounding: rnd, format: fmt.unwrap_or_default(), ..Default::default() };
    let need = neuromap_sim::memory_estimate(&net) + net.synapse_bytes() as f64;
    let (limit, why) = neuromap_pipeline::default_memory_limit();
    if need > limit {
        return Err(MappingError::new_err(format!(
            "{}: simulating needs about {:.2} GiB; the limit is {:.2} GiB ({why})",
            net.name,
            need / (1u64 << 30) as f64,
            limit / (1u64 << 30) as f64
        )));
    }
    let flag = Arc::new(AtomicBool::new(false));
    let counter = Progress::default();
    counter.total.store(steps, Ordering::Relaxed);
    let run = released(py, &flag, progress.as_ref(), &counter, || {
        neuromap_sim::simulate_stepped(&net, steps, fmt.is_some(), options, &mut |t| {
            counter.done.store(t, Ordering::Relaxed);
            !flag.load(Ordering::SeqCst)
        })
    })?;
    let engine = fmt.map_or_else(|| "reference".to_string(), |f| f.label(rnd));
    let summary = neuromap_report::RunSummary::new(&net, &run, &engine, None);
    Ok(sim_result(&net, &run, &summary))
}

/// A design-space sweep (`neuromap sweep --set`): the rows as JSON. `names` label the
/// networks in the rows (the CLI's are the files' stems); empty: the networks' names.
#[pyfunction]
#[pyo3(signature = (networks, names, hw, sets, steps=None, sample=None, sample_seed=1, objectives=None, constraints=None, threads=1, progress=None))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    networks: Vec<Bound<'_, Network>>,
    names: Vec<String>,
    hw: &Hw,
    sets: Vec<String>,
    steps: Option<u32>,
    sample: Option<usize>,
    sample_seed: u64,
    objectives: Option<Vec<String>>,
    constraints: Option<Vec<String>>,
    threads: usize,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    use neuromap_pipeline::dse;
    let e = |m: String| value_error(py, m);
    let axes = sets.iter().map(|s| dse::Axis::parse(s)).collect::<Result<Vec<_>, _>>().map_err(e)?;
    let objectives = match objectives {
        Some(o) => o.iter().map(|s| dse::Metric::parse(s)).collect::<Result<Vec<_>, _>>().map_err(e)?,
        None => vec![dse::Metric::Energy, dse::Metric::Latency],
    };
    let constraints = constraints
        .unwrap_or_default()
        .iter()
        .map(|s| dse::Constraint::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(e)?;
    let plan =
        dse::Plan { axes, sample, seed: sample_seed, objectives, constraints, threads: threads.max(1), peers: None };
    let base = hw.model.clone();
    dse::check(&base, &plan).map_err(|m| value_error(py, m))?;
    let flag = Arc::new(AtomicBool::new(false));
    let mut subjects = Vec::new();
    for (n, name) in networks.iter().zip(names.into_iter().chain(std::iter::repeat(String::new()))) {
        let n = n.get();
        let (spec, net) = n.build(py, None)?;
        let job = Job {
            max_memory: Some(neuromap_pipeline::default_memory_limit()),
            stop: neuromap_sim::Stop { flag: Some(flag.clone()), ..Default::default() },
            ..Job::new(Some(spec), net, base.clone(), steps.or(n.steps).unwrap_or(1000))
        };
        let name = if name.is_empty() { n.spec.name.clone() } else { name };
        subjects.push(dse::Subject { name, job });
    }
    let counter = Progress::default();
    let rows = released(py, &flag, progress.as_ref(), &counter, || {
        dse::sweep(&subjects, &base, &plan, &|done, total| {
            counter.total.store(total as u32, Ordering::Relaxed);
            counter.done.store(done as u32, Ordering::Relaxed);
        })
    })?
    .map_err(NeuromapError::new_err)?;
    Ok(serde_json::to_string(&rows).unwrap_or_default())
}

/// The semantic diff of two `report.json` texts (`neuromap diff`), with the budgets
/// broken: (text, diff as JSON, breaches as JSON).
#[pyfunction]
#[pyo3(signature = (old, new, budgets=None))]
fn diff(py: Python<'_>, old: &str, new: &str, budgets: Option<Vec<String>>) -> PyResult<(String, String, String)> {
    let parse = |s: &str, which: &str| {
        serde_json::from_str::<serde_json::Value>(s)
            .map_err(|e| value_error(py, format!("the {which} report is not JSON: {e}")))
    };
    let (a, b) = (parse(old, "old")?, parse(new, "new")?);
    let d = neuromap_report::diff::diff(&a, &b).map_err(|e| value_error(py, e.to_string()))?;
    let budgets = budgets
        .unwrap_or_default()
        .iter()
        .map(|s| s.parse::<neuromap_report::diff::Budget>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| value_error(py, m))?;
    let breaches = neuromap_report::diff::check(&d, &budgets);
    Ok((
        neuromap_report::diff::to_text(&d, 50),
        serde_json::to_string(&d).unwrap_or_default(),
        serde_json::to_string(&breaches).unwrap_or_default(),
    ))
}

#[pymodule]
fn _neuromap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("NeuromapError", py.get_type::<NeuromapError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("MappingError", py.get_type::<MappingError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Network>()?;
    m.add_class::<Hw>()?;
    m.add_class::<RunResult>()?;
    m.add_class::<SimResult>()?;
    m.add_function(wrap_pyfunction!(load_network, m)?)?;
    m.add_function(wrap_pyfunction!(network_from_toml, m)?)?;
    m.add_function(wrap_pyfunction!(network_from_nir_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(load_hw, m)?)?;
    m.add_function(wrap_pyfunction!(hw_files, m)?)?;
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(diff, m)?)?;
    Ok(())
}
