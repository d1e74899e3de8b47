//! The main job as a library: compile a network onto a chip model, simulate the mapped
//! chip, check it against the quantised functional model, compare it with the f64
//! reference, price it, and report. `neuromap run` is this plus printing; users' own
//! tests call [`map_and_run`] and snapshot [`Outcome::summary`]; [`corpus`] records
//! and verifies golden corpora.
//!
//! ```no_run
//! use neuromap_pipeline::{RunOptions, map_and_run};
//! let out = map_and_run("netlists/brunel_1k.toml", "spinnaker1-spinn5", &RunOptions { steps: Some(200), ..RunOptions::default() })
//!     .expect("maps and runs");
//! // A stable, readable text: no wall times, no paths; the same for any thread count.
//! println!("{}", out.summary());
//! ```

pub mod any;
pub mod binary;
pub mod campaign;
pub mod corpus;
pub mod crossbar;
pub mod dse;
pub mod fidelity;
pub mod hybrid;
pub mod neurocore;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use neuromap_compile::{CompileOptions, Mapping};
use neuromap_cost::{Dvfs, Ledger};
use neuromap_hw::HwModel;
use neuromap_ir::Network;
use neuromap_ir::spec::NetworkSpec;
use neuromap_report::RunSummary;
use neuromap_sim::arith::F64;
use neuromap_sim::chip::{ChipConfig, ChipRun, RunFaults};
use neuromap_sim::fidelity::PopFidelity;
use neuromap_sim::{Options, RunResult};

/// The spike-train distance's time constant in every report (ms).
pub const TAU_MS: f64 = 10.0;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A file could not be read or has problems (rendered diagnostics).
    #[error("{0}")]
    Input(String),
    #[error("cannot map `{net}` onto `{model}`: {message}")]
    Map { net: String, model: String, message: String },
    #[error("the chip simulation failed: {0}")]
    Chip(String),
    #[error(
        "the run needs about {need:.2} GiB (the chip simulator {chip:.2} GiB, the reference and quantised models {models:.2} GiB, beside the network's {network:.2} GiB), more than the limit of {limit:.2} GiB ({why}); lower `scale`, simulate fewer populations, or raise --max-memory"
    )]
    TooLarge { need: f64, chip: f64, models: f64, network: f64, limit: f64, why: String },
    #[error(
        "the chip simulation differs from the quantised functional model: this is a bug in neuromap, please report it with the netlist and chip model"
    )]
    Behaviour,
}

/// A network and a chip model, and how to run them.
#[derive(Clone, Debug)]
pub struct Job {
    /// The network's declaration, when it came from one (kept for the resolved
    /// configuration); `None` for a network built in code.
    pub spec: Option<NetworkSpec>,
    pub net: Network,
    pub model: HwModel,
    pub steps: u32,
    pub placement_seed: u64,
    pub threads: usize,
    pub faults: RunFaults,
    /// Refuse runs estimated to need more bytes than this (and why that limit).
    pub max_memory: Option<(f64, String)>,
    /// How the network is cut onto cores.
    pub map: MapOptions,
    /// Ctrl-C, SIGTERM or a deadline: the checks after the chip run (the quantised and
    /// reference models) stop early too, and then cover the steps they reached.
    pub stop: neuromap_sim::Stop,
    /// The other processes of a distributed run (MPI ranks): the arm-core chip's
    /// cores are split over `threads × ranks` shards, and every process gets the same
    /// result. Only rank 0 runs the checks (the quantised and reference models); the
    /// other ranks take the chip's own spikes in their place, and report nothing.
    pub peers: Option<neuromap_sim::chip::Ranks>,
    /// Simulate the quantised model and the f64 reference to check the chip against
    /// (the default). Without the checks, the report compares nothing over 0 steps and
    /// says so: for runs too large to simulate three times, and for benchmarks.
    pub check: bool,
}

/// How a job is cut onto cores: caps on neurons per core, and timing closure.
#[derive(Clone, Debug, Default)]
pub struct MapOptions {
    /// At most this many neurons per core for the named populations.
    pub neurons_per_core: std::collections::BTreeMap<String, u32>,
    /// Cut the populations whose cores overrun the tick into smaller slices, run
    /// again, until real time is kept (at most [`FIT_ROUNDS`] runs) or slicing
    /// cannot help (a core's packets alone fill the tick).
    pub fit_real_time: bool,
    /// Price a self-timed chip (crossbar, neurocore, binary) as if each step lasted at
    /// least the network's dt: the time basis of a chip that keeps real time.
    pub hold_to_dt: bool,
    /// On a chip with axon types (TrueNorth), quantise weights no type assignment
    /// expresses instead of refusing the network.
    pub quantise_axon_types: bool,
    /// On a hybrid chip: populations pinned to the cores (`cores`) or to a part (its
    /// family or model name), as `--assign POP=PART`.
    pub assign: std::collections::BTreeMap<String, String>,
    /// Part families beyond the registry's, for a hybrid chip whose parts are of them
    /// (a caller's own family, e.g. a test's).
    pub part_families: Vec<&'static dyn hybrid::PartFamily>,
}

/// `ledger` held to the job's dt per step when the job asks for it (see
/// [`MapOptions::hold_to_dt`]).
pub fn paced(job: &Job, ledger: Ledger) -> Ledger {
    if !job.map.hold_to_dt {
        return ledger;
    }
    let pace = neuromap_cost::Pace::SelfTimed { tick_s: Some(job.net.dt / 1000.0) };
    ledger.repaced(pace).unwrap_or(ledger)
}

/// Runs the timing closure may take.
pub const FIT_ROUNDS: usize = 6;

/// What a run produced, checked and priced.
#[derive(Debug)]
pub struct Outcome {
    pub job: Job,
    pub opts: CompileOptions,
    pub mapping: Mapping,
    pub chip: ChipRun,
    /// The quantised functional model's spikes equal the chip's (they must, unless
    /// packets were lost).
    pub same_as_functional: bool,
    pub functional_spikes: u64,
    /// The steps the check against the quantised model covers: all the chip's, unless
    /// an interrupt cut the checks short.
    pub checked_steps: u32,
    pub reference: RunResult,
    pub fidelity: Vec<PopFidelity>,
    /// The run priced in the ledger (cores at the performance levels the simulator
    /// chose, when the model has DVFS); `None` when the model gives no energy figures.
    pub energy: Option<Ledger>,
    /// On a model with DVFS: the same run with every core at the chip clock.
    pub energy_without_dvfs: Option<Ledger>,
    /// What a reader must not miss (a population the chip left silent).
    pub warnings: Vec<String>,
    /// What timing closure changed, run by run (empty without `fit_real_time`).
    pub fit: Vec<String>,
    /// On a hybrid chip: where each population went and why, and the network the
    /// chip computes (each part's populations with that part's weights).
    pub hybrid: Option<hybrid::Hybrid>,
    pub compile_s: f64,
    pub chip_s: f64,
}

/// Compiles, simulates the mapped chip, checks, compares and prices. `progress(t)` is
/// called after each step; when it returns `false` the run stops cleanly after the
/// next step, and everything (check, reference, energy) covers the steps done.
pub fn run_job(job: Job, progress: &mut dyn FnMut(u32) -> bool) -> Result<Outcome, JobError> {
    for name in job.map.neurons_per_core.keys() {
        if !job.net.populations().iter().any(|p| &p.name == name) {
            return Err(JobError::Input(format!(
                "neurons per core for `{name}`: `{}` has no population of that name",
                job.net.name
            )));
        }
    }
    if !job.map.fit_real_time {
        return run_once(job, progress);
    }
    let mut fit = Vec::new();
    let mut job = job;
    let mut last: Option<Outcome> = None;
    for round in 1..=FIT_ROUNDS {
        let mut out = match (run_once(job.clone(), progress), last.take()) {
            (Ok(o), _) => o,
            // Smaller slices that no longer fit the machine: keep the last run.
            (Err(JobError::Map { message, .. }), Some(mut prev)) => {
                fit.push(format!("timing closure: the smaller slices do not fit the machine ({message})"));
                prev.fit = fit;
                return Ok(prev);
            }
            (Err(e), _) => return Err(e),
        };
        if let Some(why) = job.stop.reason() {
            fit.push(format!("timing closure: stopped after run {round} ({why})"));
            out.fit = fit;
            return Ok(out);
        }
        let caps = match next_caps(&out) {
            Ok(None) => {
                fit.push(if round == 1 {
                    "timing closure: real time kept as mapped".to_string()
                } else {
                    format!("timing closure: real time kept after {} runs", round)
                });
                out.fit = fit;
                return Ok(out);
            }
            Ok(Some(caps)) if round < FIT_ROUNDS => caps,
            Ok(Some(_)) => {
                fit.push(format!("timing closure: stopped after {FIT_ROUNDS} runs without keeping real time"));
                out.fit = fit;
                return Ok(out);
            }
            Err(why) => {
                fit.push(format!("timing closure: {why}"));
                out.fit = fit;
                return Ok(out);
            }
        };
        let said: Vec<String> = caps
            .iter()
            .filter(|(k, v)| job.map.neurons_per_core.get(*k) != Some(v))
            .map(|(k, v)| format!("`{k}` at most {v}"))
            .collect();
        fit.push(format!(
            "timing closure, run {round}: slow-down {:.3}; neurons per core: {}",
            out.energy.as_ref().map_or(f64::NAN, |e| e.time.slowdown),
            said.join(", ")
        ));
        job.map.neurons_per_core = caps;
        last = Some(out);
    }
    unreachable!("the loop returns")
}

/// The caps on neurons per core that should let `out`'s cores keep the tick, or
/// `None` when they already do. A core's cycles per step are its packets (fixed: every
/// core of a population hears the same senders) plus work that shrinks with its
/// neurons; each overrunning population is cut so its worst core fits 95 % of the tick.
fn next_caps(out: &Outcome) -> Result<Option<std::collections::BTreeMap<String, u32>>, String> {
    let Some(t) = out.chip.counts.timing.as_ref() else {
        return Err("the model gives no [timing] figures, so the time a step needs is unknown".into());
    };
    let hw = &out.mapping.hw;
    let Some(cost) = neuromap_sim::chip::CycleCost::of(hw) else {
        return Err("the model gives no cycle costs".into());
    };
    let net = &out.job.net;
    let budget = 0.95 * t.budget_cycles;
    let mut caps = out.job.map.neurons_per_core.clone();
    let mut changed = false;
    for (s, sl) in out.mapping.partition.slices.iter().enumerate() {
        if t.max_cycles[s] <= t.budget_cycles || sl.is_empty() {
            continue;
        }
        let pop = &net.pop(sl.pop).name;
        let share = neuromap_cost::packet_share(t, s, &cost);
        let Some(fit) = neuromap_cost::neurons_that_fit(sl.len(), t.max_cycles[s], share, budget) else {
            return Err(format!(
                "in its worst step, the packets a core of `{pop}` takes fill {:.0} % of the tick by themselves, so smaller slices cannot keep real time: it needs a longer dt, a faster clock or cheaper packets (timing.cycles_per_packet)",
                100.0 * share * t.max_cycles[s] / t.budget_cycles
            ));
        };
        let cap = caps.entry(pop.clone()).or_insert(u32::MAX);
        if fit < *cap {
            *cap = fit;
            changed = true;
        }
    }
    if changed {
        return Ok(Some(caps));
    }
    let network_late = t.network_s.iter().any(|&x| x > t.budget_cycles / hw.clock_hz);
    if t.overrun_steps() > 0 {
        Err("every overrunning core is already as small as it can be".into())
    } else if network_late {
        Err("the network, not the cores, overruns the tick (packets arrive after it ends); smaller slices cannot help"
            .into())
    } else {
        Ok(None)
    }
}

/// The populations `job` pins to a hybrid chip's parts: the netlist's `assign` keys
/// (on a hybrid chip; a chip of one family ignores them), then `--assign`, which wins.
pub fn pinned(job: &Job) -> std::collections::BTreeMap<String, String> {
    let mut p = match &job.spec {
        Some(s) if !job.model.parts.is_empty() => s.assign.clone(),
        _ => Default::default(),
    };
    p.extend(job.map.assign.iter().map(|(k, v)| (k.clone(), v.clone())));
    p
}

/// One compile and chip run of `job`.
fn run_once(job: Job, progress: &mut dyn FnMut(u32) -> bool) -> Result<Outcome, JobError> {
    let model = &job.model;
    let map_err = |message: String| JobError::Map { net: job.net.name.clone(), model: model.name.clone(), message };
    let hybrid = hybrid::plan_with(&job.net, model, &pinned(&job), &job.map.part_families, job.faults.seed)
        .map_err(|m| if model.parts.is_empty() { JobError::Input(m) } else { map_err(m) })?;
    // The network the chip computes: on a hybrid chip, each part's populations with
    // that part's weights.
    let net = hybrid.as_ref().map_or(&job.net, |h| &h.functional);
    let opts = CompileOptions {
        seed: job.placement_seed,
        neurons_per_core: job.map.neurons_per_core.clone(),
        parts: hybrid.as_ref().map(|h| h.assignment.parts.clone()).unwrap_or_default(),
        ..CompileOptions::default()
    };
    let t0 = Instant::now();
    let mapping = neuromap_compile::compile(net, model, &opts).map_err(|e| map_err(e.to_string()))?;
    let compile_s = t0.elapsed().as_secs_f64();
    let (rank, ranks) = job.peers.as_ref().map_or((0, 1), |p| (p.0.rank(), p.0.size()));
    if let Some((limit, why)) = &job.max_memory {
        const GIB: f64 = (1u64 << 30) as f64;
        // Per process: its share of the chip's cores, and the checks on rank 0.
        let chip = neuromap_sim::chip::memory_estimate_of_rank(net, &mapping, ranks);
        let models = if rank == 0 { 2.0 * neuromap_sim::memory_estimate(net) } else { 0.0 };
        let network = net.synapse_bytes() as f64;
        let need = chip + models + network;
        if need > *limit {
            return Err(JobError::TooLarge {
                need: need / GIB,
                chip: chip / GIB,
                models: models / GIB,
                network: network / GIB,
                limit: limit / GIB,
                why: why.clone(),
            });
        }
    }
    // The quantised model computes in the chip's own format and rounding
    // (`arith.format`, `arith.rounding`).
    let options = Options::for_chip(&mapping.hw);
    let config = ChipConfig {
        threads: job.threads,
        faults: job.faults.clone(),
        tiles: hybrid.as_ref().map(|h| h.tiles(&mapping)),
        peers: job.peers.clone(),
    };
    // The checks run beside the chip simulation, on threads of their own: the
    // quantised model (mapping never changes behaviour: without lost packets the chip
    // must equal it) and the f64 reference (the network as written: a crossbar part's
    // quantised weights are part of what the chip changes). Both honour an interrupt
    // (not the deadline, which bounds the chip's simulation), and stop where the chip
    // stopped when it ended early; cut short, they compare the steps they reached.
    let limit = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(job.steps));
    let checks = neuromap_sim::Stop { deadline: None, limit: Some(limit.clone()), ..job.stop.clone() };
    // Over processes, the ranks meet before the chip's clock starts: a rank that
    // built the network or mapped it sooner would otherwise count waiting for the
    // others (in the first exchange) as simulating.
    if let Some(p) = job.peers.as_ref().filter(|p| p.0.size() > 1) {
        p.0.all_gather(Vec::new());
    }
    let t1 = Instant::now();
    let quantised = || neuromap_sim::simulate_quantised_until(net, job.steps, options, &checks);
    let exact = || neuromap_sim::simulate_until::<F64>(&job.net, job.steps, options, &checks);
    let (chip, chip_s, functional, reference) = std::thread::scope(|s| {
        let builder = || std::thread::Builder::new().stack_size(64 << 20);
        let checks = rank == 0 && job.check;
        let (f, r) =
            (checks.then(|| builder().spawn_scoped(s, quantised)), checks.then(|| builder().spawn_scoped(s, exact)));
        let chip = neuromap_sim::chip::simulate_chip_with(net, model, &mapping, job.steps, options, &config, progress);
        let chip_s = t1.elapsed().as_secs_f64();
        limit.store(chip.as_ref().map_or(0, |c| c.result.steps), std::sync::atomic::Ordering::Relaxed);
        // A check that got no thread runs here, after the chip; on ranks other than
        // 0 the chip's own spikes stand in for both.
        let join = |h: Option<std::io::Result<std::thread::ScopedJoinHandle<'_, neuromap_sim::RunResult>>>,
                    inline: &dyn Fn() -> neuromap_sim::RunResult| match h {
            Some(Ok(h)) => Some(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
            Some(Err(_)) => Some(inline()),
            None => None,
        };
        (chip, chip_s, join(f, &quantised), join(r, &exact))
    });
    let chip = chip.map_err(JobError::Chip)?;
    // Unchecked (not asked for, or not rank 0): nothing is compared.
    let functional = functional.unwrap_or_else(|| chip.result.first_steps(0));
    let reference = reference.unwrap_or_else(|| chip.result.first_steps(0));
    let steps = chip.result.steps;
    // A check that ran past a chip that ended early (at the deadline) runs again for
    // the chip's steps, so that it counts every population exactly (a Ctrl-C then cuts
    // it short); when interrupted it is not run again, and both sides are cut to the
    // same first steps (counts from the records) as when a check is cut short.
    let refit = |r: neuromap_sim::RunResult, again: &dyn Fn() -> neuromap_sim::RunResult| {
        if r.steps > steps && checks.reason().is_none() { again() } else { r }
    };
    let functional = refit(functional, &quantised);
    let reference = refit(reference, &exact);
    fn same_steps<'a>(
        a: &'a neuromap_sim::RunResult,
        b: &'a neuromap_sim::RunResult,
    ) -> (std::borrow::Cow<'a, neuromap_sim::RunResult>, std::borrow::Cow<'a, neuromap_sim::RunResult>) {
        use std::borrow::Cow;
        let k = a.steps.min(b.steps);
        if a.steps == b.steps {
            (Cow::Borrowed(a), Cow::Borrowed(b))
        } else {
            (Cow::Owned(a.first_steps(k)), Cow::Owned(b.first_steps(k)))
        }
    }
    let checked = functional.steps.min(steps);
    let (f_part, c_part) = same_steps(&functional, &chip.result);
    let same = f_part.spikes == c_part.spikes && f_part.spike_counts == c_part.spike_counts;
    // A hybrid chip's non-ideal tiles (device variation, read noise, IR drop, ADC
    // clipping) may differ from the functional model; nothing else may.
    let exact = hybrid.as_ref().map_or(Ok(()), |h| h.exact(model, &mapping, &chip.counts));
    if !same && chip.counts.losses.packets() == 0 && exact.is_ok() {
        return Err(JobError::Behaviour);
    }
    let compared = reference.steps.min(steps);
    let fidelity = if job.check && rank == 0 {
        let (r, c) = same_steps(&reference, &chip.result);
        neuromap_sim::fidelity::compare(net, &r, &c, TAU_MS)
    } else {
        Vec::new()
    };
    let reference = if reference.steps > steps { reference.first_steps(steps) } else { reference };
    let mut warnings = silence_warnings(&fidelity, &|_| None);
    if !job.check {
        warnings.push(
            "not checked (--no-check): the chip was compared with neither the quantised model nor the f64 reference"
                .to_string(),
        );
    } else if checked.min(compared) < steps {
        warnings.push(format!(
            "the checks stopped early ({}): the chip was compared with the quantised model over its first {checked} of {steps} steps and with the f64 reference over {compared}",
            checks.reason().unwrap_or("stopped")
        ));
    }
    let price = |dvfs| {
        let mut l = neuromap_cost::arm_core_ledger(net, model, &mapping, &chip.counts, steps, dvfs)?;
        if let Some(h) = &hybrid {
            h.price(&mut l, model, &mapping, &chip.counts);
        }
        Some(l)
    };
    let energy = price(Dvfs::PerStep);
    let energy_without_dvfs = if mapping.hw.dvfs.is_empty() { None } else { price(Dvfs::Off) };
    if let Some(h) = &hybrid {
        warnings.extend(h.caveats.iter().cloned());
        if let (false, Err(why)) = (same, &exact) {
            warnings.push(format!(
                "the chip differs from the functional model ({} spikes against {}): its tiles compute with {why}",
                chip.result.spike_counts.iter().sum::<u64>(),
                f_part.spike_counts.iter().sum::<u64>()
            ));
        }
    }
    Ok(Outcome {
        opts,
        mapping,
        same_as_functional: same,
        functional_spikes: f_part.spike_counts.iter().sum(),
        checked_steps: checked,
        reference,
        fidelity,
        energy,
        energy_without_dvfs,
        warnings,
        fit: Vec::new(),
        hybrid,
        compile_s,
        chip_s,
        chip,
        job,
    })
}

impl Job {
    /// `net` (declared by `spec`, or `None` for a network built in code) on `model` for
    /// `steps`, as `neuromap run` runs it by default: placement seed 1, one thread, no
    /// faults, no memory limit, no stop, the default mapping.
    pub fn new(spec: Option<NetworkSpec>, net: Network, model: HwModel, steps: u32) -> Job {
        Job {
            spec,
            net,
            model,
            steps,
            placement_seed: 1,
            threads: 1,
            faults: RunFaults::default(),
            max_memory: None,
            stop: Default::default(),
            map: Default::default(),
            peers: None,
            check: true,
        }
    }

    /// A mapping error of this job's network and model.
    pub fn map_error(&self, message: String) -> JobError {
        JobError::Map { net: self.net.name.clone(), model: self.model.name.clone(), message }
    }
}

/// Options of [`map_and_run`].
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Timesteps (default: the netlist's `steps`, else 1000).
    pub steps: Option<u32>,
    /// Override the netlist's `scale`.
    pub scale: Option<f64>,
    /// Override the netlist's seed.
    pub seed: Option<u64>,
    /// Placement refinement seed (default 1, as `neuromap run`).
    pub placement_seed: Option<u64>,
    pub threads: usize,
    pub faults: RunFaults,
    /// How `.nir` files become networks.
    pub nir: neuromap_import::nir::NirOptions,
}

/// Finds a chip model: a path, or a name in `hw-models/` (here, or in the source tree
/// neuromap was built from).
pub fn resolve_hw(name: &str) -> PathBuf {
    let p = PathBuf::from(name);
    if p.is_file() {
        return p;
    }
    let file = format!("{name}.toml");
    let local = Path::new("hw-models").join(&file);
    if local.is_file() {
        return local;
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hw-models").join(&file);
    if built.is_file() {
        return built;
    }
    p
}

/// The chip model files in `hw-models/` (here, or in the source tree neuromap was built
/// from), sorted; `None` when there is no such folder.
pub fn hw_model_files() -> Option<Vec<PathBuf>> {
    let dirs = [PathBuf::from("hw-models"), Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hw-models")];
    let dir = dirs.iter().find(|d| d.is_dir())?;
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    names.sort();
    Some(names)
}

/// A network compiled onto a chip model's cores (`neuromap compile`): the mapping and
/// what it ran on. On a hybrid chip, `net` is the network the cores compute (its
/// populations on other parts become their interfaces) and `placed` says where each
/// population went.
#[derive(Debug)]
pub struct Compiled<'a> {
    /// The network compiled: the one given (not copied: the full microcircuit's
    /// synapses are 3 GB), or on a hybrid chip the cores' own.
    pub net: std::borrow::Cow<'a, Network>,
    pub mapping: neuromap_compile::Mapping,
    pub options: neuromap_compile::CompileOptions,
    pub placed: Option<String>,
    pub compile_s: f64,
}

impl Compiled<'_> {
    pub fn summary(&self, model: &HwModel) -> neuromap_compile::artifact::Summary {
        neuromap_compile::artifact::summary(&self.net, model, &self.mapping, &self.options)
    }

    /// The deterministic mapping artifact (`neuromap compile -o`).
    pub fn artifact_json(&self, model: &HwModel) -> String {
        neuromap_compile::artifact::to_json(&self.net, model, &self.mapping, &self.options)
    }
}

/// Compiles `net` onto `model` (partition, place, route, keys, tables, verified): on a
/// hybrid chip, its populations first go to the parts (`pinned` where the netlist or
/// the user says, `options.parts` filled in).
pub fn compile_network<'a>(
    net: &'a Network,
    model: &HwModel,
    pinned: &std::collections::BTreeMap<String, String>,
    mut options: neuromap_compile::CompileOptions,
) -> Result<Compiled<'a>, JobError> {
    let fail = |message: String| JobError::Map { net: net.name.clone(), model: model.name.clone(), message };
    let hybrid = hybrid::plan(net, model, pinned).map_err(fail)?;
    options.parts = hybrid.as_ref().map(|h| h.assignment.parts.clone()).unwrap_or_default();
    let placed = hybrid.as_ref().map(|h| hybrid::placed_text(&h.assignment.placed));
    let functional = hybrid.map_or(std::borrow::Cow::Borrowed(net), |h| std::borrow::Cow::Owned(h.functional));
    let t0 = std::time::Instant::now();
    let mapping = neuromap_compile::compile(&functional, model, &options).map_err(|e| fail(e.to_string()))?;
    Ok(Compiled { net: functional, mapping, options, placed, compile_s: t0.elapsed().as_secs_f64() })
}

/// The memory a run may need unless told otherwise, and why: 80 % of this machine's
/// memory (16 GiB where its size is unknown).
pub fn default_memory_limit() -> (f64, String) {
    const GIB: f64 = (1u64 << 30) as f64;
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        let line = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
        line.split_whitespace().nth(1)?.parse::<f64>().ok()
    });
    match total {
        Some(kb) => (0.8 * kb * 1024.0, "80 % of this machine's memory".to_string()),
        None => (16.0 * GIB, "a default: this machine's memory size is unknown".to_string()),
    }
}

/// Loads a chip model by name or path.
pub fn load_hw(name: &str) -> Result<HwModel, JobError> {
    let path = resolve_hw(name);
    if !path.is_file() {
        return Err(JobError::Input(format!(
            "no chip model `{name}`: not a file, and not in hw-models/ (`neuromap hw list` shows the models)"
        )));
    }
    neuromap_hw::load_path(&path).map_err(|d| JobError::Input(d.to_string()))
}

/// Loads a netlist and a chip model, and runs the main job on them.
pub fn map_and_run(netlist: impl AsRef<Path>, hw: &str, o: &RunOptions) -> Result<Outcome, JobError> {
    run_job(load_job(netlist, hw, o)?, &mut |_| true)
}

/// Loads a netlist and a chip model into a job.
pub fn load_job(netlist: impl AsRef<Path>, hw: &str, o: &RunOptions) -> Result<Job, JobError> {
    let path = netlist.as_ref();
    let mut n = neuromap_import::load_any(path, &o.nir).map_err(|d| JobError::Input(d.to_string()))?;
    if let Some(s) = o.scale {
        n.spec.scale = s;
    }
    if let Some(s) = o.seed {
        n.spec.seed = s;
    }
    let net = n.spec.build().map_err(|e| JobError::Input(format!("{}: {e}", path.display())))?;
    Ok(Job {
        placement_seed: o.placement_seed.unwrap_or(1),
        threads: o.threads,
        faults: o.faults.clone(),
        ..Job::new(Some(n.spec), net, load_hw(hw)?, o.steps.or(n.steps).unwrap_or(1000))
    })
}

/// A neuron population the chip left (nearly) silent although the reference fires.
pub const SILENT_SHARE: f64 = 0.1;
/// The reference spikes below which a population is too quiet to call silence.
pub const SILENT_MIN_SPIKES: u64 = 20;

/// Warnings for the neuron populations that fire less than [`SILENT_SHARE`] of the f64
/// reference's spikes (which fires at least [`SILENT_MIN_SPIKES`]): each names the
/// population, its counts and the cause `cause(population)` finds in the chip's figures,
/// or says where to look.
pub fn silence_warnings(fidelity: &[PopFidelity], cause: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    fidelity
        .iter()
        .filter(|f| f.reference_spikes >= SILENT_MIN_SPIKES && (f.spikes as f64) < SILENT_SHARE * f.reference_spikes as f64)
        .map(|f| {
            let why = cause(&f.population).unwrap_or_else(|| {
                "the chip's number formats or devices lose its input; `neuromap simulate --quantised` shows the fixed-point model alone".to_string()
            });
            format!(
                "population `{}` is nearly silent on the chip: {} spikes against the reference's {}; {why}",
                f.population, f.spikes, f.reference_spikes
            )
        })
        .collect()
}

/// The warnings as report lines (`warning: …`), empty when there are none.
pub fn warnings_text(w: &[String]) -> String {
    w.iter().map(|x| format!("warning: {x}\n")).collect()
}

/// FNV-1a of a spike train's (step, neuron) pairs: any change of any spike changes it.
pub fn spike_digest(steps: &[u32], neurons: &[u32]) -> u64 {
    let mut bytes = Vec::with_capacity(steps.len() * 8);
    for (s, n) in steps.iter().zip(neurons) {
        bytes.extend_from_slice(&s.to_le_bytes());
        bytes.extend_from_slice(&n.to_le_bytes());
    }
    neuromap_ir::rng::fnv1a(&bytes)
}

impl Outcome {
    /// The chip's number format (`arith.format`).
    pub fn format_name(&self) -> &'static str {
        neuromap_sim::arith::Format::of(&self.mapping.hw).name()
    }

    /// The run summary; `wall` includes the simulation's wall time.
    pub fn run_summary(&self, wall: bool) -> RunSummary {
        let j = &self.job;
        RunSummary::new(
            &j.net,
            &self.chip.result,
            &format!("chip ({}, {})", j.model.name, self.format_name()),
            wall.then_some(self.chip_s),
        )
        .with_footprint(Some(self.footprint()))
    }

    /// NeuroBench's footprint on the cores: the synaptic matrices as the compiler lays
    /// them out in SDRAM (`core.synapse_bytes` a synapse, `core.row_header_bytes` a
    /// row) and each neuron's state (`core.neuron_state_bytes`, or its model's
    /// `models.*_state_bytes`). A hybrid chip's tiles hold theirs in their own formats
    /// and are not counted.
    pub fn footprint(&self) -> neuromap_report::Footprint {
        let (m, net) = (&self.mapping, &self.job.net);
        let cores = m.partition.slices.iter().filter(|s| s.part == 0);
        let weights: u64 = cores.clone().map(|s| s.synapse_bytes).sum();
        let state: u64 = cores
            .filter(|s| matches!(s.kind, neuromap_compile::partition::SliceKind::Neurons))
            .map(|s| {
                let per = m.hw.state_bytes(net.pop(s.pop).model_name()).unwrap_or(m.hw.neuron_state_bytes);
                u64::from(s.len()) * per
            })
            .sum();
        let mut how =
            "synaptic rows in SDRAM and neuron state in local memory, as the compiler lays them out".to_string();
        if m.partition.slices.iter().any(|s| s.part != 0) {
            how.push_str("; the hybrid chip's tiles not counted");
        }
        neuromap_report::Footprint { weight_bytes: weights as f64, state_bytes: Some(state as f64), how }
    }

    /// `report.json`: the run summary with energy, time and latency per step and
    /// losses (what `neuromap diff` compares). `wall` keeps the wall time; golden
    /// files leave it out.
    pub fn report_json(&self, wall: bool) -> serde_json::Value {
        let mut r = neuromap_report::run_report(
            &self.run_summary(wall),
            self.energy.as_ref(),
            self.chip.counts.timing.as_ref(),
            &self.chip.counts.losses,
            self.mapping.hw.clock_hz,
        );
        if let (Some(h), Some(o)) = (&self.hybrid, r.as_object_mut()) {
            o.insert("populations_placed".into(), serde_json::json!(h.assignment.placed));
        }
        r
    }

    /// The mapping artifact (byte-identical for the same inputs).
    pub fn mapping_json(&self) -> String {
        neuromap_compile::artifact::to_json(&self.job.net, &self.job.model, &self.mapping, &self.opts)
    }

    /// The run's figures (`(file name, title, SVG)`) and its HTML page: the summary,
    /// mapping, fidelity, time per step and energy, then the figures, as `neuromap run`
    /// writes them (`report.html`).
    pub fn report_page(&self, summary: &RunSummary) -> (Vec<(&'static str, &'static str, String)>, String) {
        let (net, model, mapping, chip) = (&self.job.net, &self.job.model, &self.mapping, &self.chip);
        let done = chip.result.steps;
        let energy = self.energy.as_ref();
        let figures = neuromap_report::plot::run_figures(net, model, mapping, chip, energy, done);
        let mut texts = vec![
            ("summary", summary.to_text()),
            ("mapping", neuromap_report::mapping_text(&self.mapping_summary())),
            ("fidelity", neuromap_report::fidelity_text(&self.fidelity, TAU_MS)),
        ];
        if let Some(t) = &chip.counts.timing {
            texts.push(("time per step", neuromap_report::timing_text(t, mapping.hw.clock_hz)));
        }
        texts.push(("energy", self.energy_text()));
        let refs: Vec<(&str, String)> = figures.iter().map(|(_, t, svg)| (*t, svg.clone())).collect();
        let html = neuromap_report::plot::html(&format!("{} on {}", net.name, model.name), &texts, &refs);
        (figures, html)
    }

    pub fn mapping_summary(&self) -> neuromap_compile::artifact::Summary {
        neuromap_compile::artifact::summary(&self.job.net, &self.job.model, &self.mapping, &self.opts)
    }

    /// The priced run (time, energy by line, the three bases), and on a DVFS model the
    /// same run without DVFS.
    pub fn energy_text(&self) -> String {
        let Some(e) = &self.energy else {
            return format!("energy: unknown (the model `{}` gives no [energy] figures)\n", self.job.model.name);
        };
        let mut s = neuromap_report::ledger_text(e);
        if let Some(o) = &self.energy_without_dvfs {
            use neuromap_cost::Basis;
            let row = |l: &Ledger| {
                Basis::ALL.iter().map(|&b| neuromap_report::fmt_joules(l.total(b))).collect::<Vec<_>>().join(" / ")
            };
            s.push_str(&format!(
                "with DVFS: {} ; without DVFS (every core at {:.0} MHz): {} (machine allocated / parts in use / dynamic only)\n",
                row(e),
                self.mapping.hw.clock_hz / 1e6,
                row(o)
            ));
        }
        s
    }

    /// The check against the quantised functional model, the packets and every loss
    /// by cause (the terminal report and [`Outcome::summary`] both show it).
    pub fn network_text(&self) -> String {
        let c = &self.chip.counts;
        let spikes: u64 = self.chip.result.spike_counts.iter().sum();
        let mut s = if !self.job.check {
            format!("chip = quantised functional model: not checked (--no-check; {spikes} spikes)\n")
        } else if self.same_as_functional && self.checked_steps < self.chip.result.steps {
            format!(
                "chip = quantised functional model: identical over the first {} of {} steps, where the checks were interrupted ({} spikes)\n",
                self.checked_steps, self.chip.result.steps, self.functional_spikes
            )
        } else if self.same_as_functional {
            format!("chip = quantised functional model: identical ({spikes} spikes)\n")
        } else {
            format!(
                "chip ≠ quantised functional model: {spikes} spikes against {}, because packets were lost\n",
                self.functional_spikes
            )
        };
        let l = &c.losses;
        let _ = writeln!(
            s,
            "packets sent {}, router passes {}, links crossed {}\nlost: {} to congestion, {} to the drop rate, {} at dead links ({} deliveries); {} emergency-routed",
            c.packets_sent,
            c.router_passes.iter().sum::<u64>(),
            c.links_crossed(),
            l.congestion,
            l.random,
            l.dead_link,
            l.lost_deliveries,
            l.emergency_routed
        );
        s
    }

    /// On a hybrid chip: where each population went and why (empty otherwise).
    pub fn assignment_text(&self) -> String {
        let Some(h) = &self.hybrid else { return String::new() };
        let slices = &self.mapping.partition.slices;
        let mut t = neuromap_report::table::Table::new(["population", "on", "family", "cores or tiles", "why"]);
        for (i, p) in h.assignment.placed.iter().enumerate() {
            let n = slices.iter().filter(|s| s.pop.index() == i).count();
            t.row([p.population.clone(), p.on.clone(), p.family.clone(), n.to_string(), p.why.clone()]);
        }
        format!("populations on the hybrid chip\n{}", t.render())
    }

    /// A stable, readable account of the run for snapshots: mapping, spikes, the
    /// check against the functional model, network counts and losses, time per step,
    /// energy, fidelity and spike digests. No wall times and no paths, so it is the
    /// same on every machine and for every thread count.
    pub fn summary(&self) -> String {
        let j = &self.job;
        let c = &self.chip.counts;
        let mut s = self.run_summary(false).to_text();
        let m = self.mapping_summary();
        let _ = writeln!(
            s,
            "mapping: {} on {}, largest routing table {} entries",
            neuromap_compile::plural(m.cores_used, "core"),
            neuromap_compile::plural(m.chips_used, "chip"),
            m.routing.max_compressed
        );
        s.push_str(&self.assignment_text());
        s.push_str(&self.network_text());
        s.push('\n');
        match &c.timing {
            Some(t) => s.push_str(&neuromap_report::timing_text(t, self.mapping.hw.clock_hz)),
            None => s.push_str("time per step: unknown (no [timing] figures)\n"),
        }
        s.push('\n');
        s.push_str(&self.energy_text());
        s.push('\n');
        s.push_str(&neuromap_report::fidelity_text(&self.fidelity, TAU_MS));
        s.push_str(&warnings_text(&self.warnings));
        for f in &self.fit {
            let _ = writeln!(s, "{f}");
        }
        s.push_str("\nspike digests (FNV-1a of (step, neuron) pairs)\n");
        for ((p, rec), &on) in j.net.populations().iter().zip(&self.chip.result.spikes).zip(&self.chip.result.recorded)
        {
            if on {
                let _ = writeln!(s, "{:<12} {:016x}", p.name, spike_digest(&rec.steps, &rec.neurons));
            } else {
                let _ = writeln!(s, "{:<12} (not recorded)", p.name);
            }
        }
        s
    }
}
