//! The `neuromap` command line. Only this crate prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use neuromap_diag::Diagnostics;
use neuromap_import::Netlist;
use neuromap_report::{RunSummary, write};

#[derive(Parser, Debug)]
#[command(
    name = "neuromap",
    version,
    about = "Compile spiking and binary neural networks onto neuromorphic chip models, simulate and price them",
    long_about = "neuromap reads networks (TOML netlists), checks them, and simulates them.\n\n\
        Start with:\n  neuromap check netlists/brunel_1k.toml\n  \
        neuromap simulate --reference netlists/brunel_1k.toml --steps 1000\n\n\
        The netlist format is described in docs/netlist.md; `neuromap models` lists the\n\
        neuron models and their parameters."
)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Check netlists: report every problem with file, line and column.
    Check {
        /// Netlist files (.toml).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also expand the connectors (draws every synapse) to catch problems that
        /// only show then.
        #[arg(long)]
        build: bool,
        #[command(flatten)]
        mem: MemoryLimit,
    },
    /// The main job: compile a network onto a chip model, simulate the mapped chip,
    /// check it against the quantised model, and report fidelity and energy.
    Run(RunArgs),
    /// Simulate a network (no chip) and write its spikes and a summary.
    Simulate(SimulateArgs),
    /// List neuron models, their parameters and defaults, and the connectors.
    Models,
    /// Map a network onto a chip model: partition, place, route, build and compress
    /// routing tables, verify; print the resource report.
    Compile(CompileArgs),
    /// Chip models: list them, describe a family's parameters, show a resolved model.
    #[command(subcommand)]
    Hw(HwCmd),
    /// What changed between two mapping artifacts or two run summaries, checked
    /// against budgets (exit status 3 when one is broken).
    Diff(DiffArgs),
    /// Run a network under a list of fault settings, several seeds each, and report
    /// spike fidelity against the fault-free run, energy, latency and every lost
    /// packet by cause (CSV and SVG).
    Campaign(CampaignArgs),
    /// Record the golden results of a corpus folder (its corpus.toml lists netlists ×
    /// chip models) into DIR/golden/.
    Snapshot {
        dir: PathBuf,
        /// Simulator threads (results do not depend on it).
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Run a corpus again and compare with its golden results; exit status 3 when a
    /// case changed beyond its budgets (or at all, without budgets).
    Verify {
        dir: PathBuf,
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// The liquid-state-machine study on a crossbar model: a seeded event dataset, a
    /// readout trained on the reference, and held-out accuracy and energy per inference
    /// while device variation, stuck-at faults, levels and ADC bits vary (CSV and SVG).
    Sweep(SweepArgs),
    /// Run SANA-FE's own files unchanged: an architecture (YAML) as a chip model, and
    /// an SNN (groups, edges, mappings) on it, the file's mapping honoured (or replaced
    /// by neuromap's with --remap).
    Sanafe {
        /// The SANA-FE architecture file (e.g. its loihi.yaml).
        arch: PathBuf,
        /// The SANA-FE network file.
        net: PathBuf,
        /// Timesteps.
        #[arg(long, default_value_t = 100)]
        steps: u32,
        /// Place the neurons with neuromap's own rule instead of the file's mappings.
        #[arg(long)]
        remap: bool,
        /// Output folder (default: out/<network>-<architecture>).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Write no files.
        #[arg(long)]
        no_output: bool,
    },
    /// Convert a NIR graph (.nir) into a TOML netlist that loads back to the same
    /// network.
    Import {
        /// The NIR file.
        file: PathBuf,
        /// The netlist to write.
        #[arg(long, short)]
        output: PathBuf,
        #[command(flatten)]
        nir: NirArgs,
        /// The netlist's default run length.
        #[arg(long, default_value_t = 1000)]
        steps: u32,
        /// The netlist's seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run networks on chip models of any family and print one table of time and energy
    /// on the ledger's three bases, with the share of energy resting on borrowed and
    /// assumed figures; a pair that does not map is a row that says why.
    Table(TableArgs),
    /// Write a generated example: `binary-digits`, a binary MLP trained on a seeded
    /// synthetic dataset, its held-out samples as input (one per step).
    Generate {
        /// What to generate (binary-digits).
        what: String,
        /// The netlist to write.
        #[arg(long, short)]
        output: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct TableArgs {
    /// Netlists (.toml or .nir).
    #[arg(required = true)]
    nets: Vec<PathBuf>,
    /// Chip models, comma-separated or repeated (names from hw-models/ or paths);
    /// `all` for every model in hw-models/.
    #[arg(long, value_delimiter = ',', required = true)]
    hw: Vec<String>,
    /// Timesteps (default: each netlist's own).
    #[arg(long)]
    steps: Option<u32>,
    /// Write the table as Markdown to this file (atomically), with the command that
    /// wrote it.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Hold self-timed chips to the network's dt per step (one time basis with the
    /// chips that keep real time).
    #[arg(long)]
    hold_to_dt: bool,
}

#[derive(clap::Args, Debug)]
struct DiffArgs {
    /// The old document (a mapping artifact from `compile -o`, or a summary.json).
    old: PathBuf,
    /// The new document, of the same kind.
    new: PathBuf,
    /// A budget METRIC=+N% (relative increase), METRIC=+N (absolute) or METRIC=exact
    /// (repeatable), e.g. --budget cores=+0 --budget router_entries=+5%.
    #[arg(long, value_name = "METRIC=LIMIT")]
    budget: Vec<String>,
    /// A TOML file with a [budget] table of METRIC = "LIMIT" lines.
    #[arg(long)]
    budget_file: Option<PathBuf>,
    /// Print the diff and the breaches as JSON.
    #[arg(long)]
    json: bool,
    /// Itemised changes to list.
    #[arg(long, default_value_t = 20)]
    max_items: usize,
}

#[derive(Subcommand, Debug)]
enum HwCmd {
    /// List the chip models in hw-models/.
    List,
    /// Every parameter of a hardware family: unit, meaning, default or "required".
    Describe {
        /// A family name (arm-core).
        family: String,
    },
    /// A model as neuromap resolves it: machine, every figure with its provenance.
    Show {
        /// A model name from hw-models/ or a path to a model file.
        model: String,
    },
}

#[derive(clap::Args, Debug)]
struct CompileArgs {
    /// The netlist to compile.
    net: PathBuf,
    /// The chip model: a name from hw-models/ (e.g. spinnaker1-spinn5) or a path.
    #[arg(long)]
    hw: String,
    /// Write the mapping artifact (JSON) here.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Seed of placement refinement.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Firing rate (Hz) assumed for neurons when estimating traffic.
    #[arg(long, default_value_t = 10.0)]
    assumed_rate: f64,
    /// Placement refinement moves (default: 200 per slice, at most 2,000,000; 0 turns
    /// refinement off).
    #[arg(long)]
    placement_budget: Option<u64>,
    /// At most N neurons per core for population POP (repeatable).
    #[arg(long, value_name = "POP=N", value_parser = parse_pop_cap)]
    neurons_per_core: Vec<(String, u32)>,
    /// Override the netlist's scale.
    #[arg(long)]
    scale: Option<f64>,
    /// Resize a board-built machine to this many boards.
    #[arg(long)]
    boards: Option<u32>,
    /// A dead chip `X,Y` (repeatable).
    #[arg(long, value_name = "X,Y")]
    dead_chip: Vec<String>,
    /// A dead core `X,Y,CORE` (repeatable).
    #[arg(long, value_name = "X,Y,CORE")]
    dead_core: Vec<String>,
    /// A dead link `X,Y,DIRECTION` (repeatable; directions: east, north_east, north,
    /// west, south_west, south).
    #[arg(long, value_name = "X,Y,DIR")]
    dead_link: Vec<String>,
    /// Print the resource report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    mem: MemoryLimit,
}

#[derive(clap::Args, Debug, Clone, Copy)]
struct MemoryLimit {
    /// Refuse networks whose estimated memory exceeds this many GiB (default: 80 % of
    /// this machine's memory).
    #[arg(long, value_name = "GIB")]
    max_memory: Option<f64>,
}

impl MemoryLimit {
    fn bytes(self) -> (f64, String) {
        const GIB: f64 = (1u64 << 30) as f64;
        if let Some(g) = self.max_memory {
            return (g * GIB, "set by --max-memory".to_string());
        }
        let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        });
        match total {
            Some(kb) => (0.8 * kb * 1024.0, "80 % of this machine's memory".to_string()),
            None => (16.0 * GIB, "a default: this machine's memory size is unknown".to_string()),
        }
    }
}

/// Builds the network within the memory limit; the error says what to change.
fn build(
    spec: &neuromap_ir::spec::NetworkSpec,
    mem: MemoryLimit,
    path: &Path,
) -> Result<neuromap_ir::Network, Failure> {
    let (limit, why) = mem.bytes();
    spec.build_within(limit).map_err(|e| match e {
        neuromap_ir::IrError::TooLarge(msg) => {
            anyhow::anyhow!("{}: {msg} ({why}); lower `scale` or the sizes, or raise --max-memory", path.display())
                .into()
        }
        e => anyhow::anyhow!("{}: {e}", path.display()).into(),
    })
}

#[derive(clap::Args, Debug)]
struct NetworkArgs {
    /// The netlist (.toml) or NIR graph (.nir).
    net: PathBuf,
    #[command(flatten)]
    nir: NirArgs,
    /// Timesteps to simulate (default: the netlist's `steps`, else 1000).
    #[arg(long)]
    steps: Option<u32>,
    /// Override the netlist's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the netlist's scale (population sizes and total synapse counts).
    #[arg(long)]
    scale: Option<f64>,
}

impl NetworkArgs {
    /// Loads the netlist with the overrides applied, and the steps to run.
    fn load(&self, color: bool) -> Result<(Netlist, u32), Failure> {
        let n = load_with_nir(&self.net, self.seed, self.scale, &self.nir.options(self.seed), color)?;
        let steps = self.steps.or(n.steps).unwrap_or(1000);
        Ok((n, steps))
    }
}

/// How a NIR graph becomes a network (ignored for netlists).
#[derive(clap::Args, Debug, Clone, Copy)]
struct NirArgs {
    /// NIR graphs: seconds of NIR time per step (continuous-time parameters are
    /// discretised with it; discrete-time exports such as Sinabs' expect 1).
    #[arg(long, default_value_t = 1e-3, value_name = "SECONDS")]
    nir_dt: f64,
    /// NIR graphs: spike probability per step of every input neuron (NIR files carry
    /// no input data).
    #[arg(long, default_value_t = 0.1, value_name = "P")]
    input_p: f64,
}

impl NirArgs {
    fn options(self, seed: Option<u64>) -> neuromap_import::nir::NirOptions {
        neuromap_import::nir::NirOptions { dt_s: self.nir_dt, input_p: self.input_p, seed: seed.unwrap_or(1) }
    }
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    network: NetworkArgs,
    /// The chip model: a name from hw-models/ (e.g. spinnaker1-spinn5) or a path.
    #[arg(long)]
    hw: String,
    /// Seed of placement refinement.
    #[arg(long, default_value_t = 1)]
    placement_seed: u64,
    /// Resize a board-built machine to this many boards.
    #[arg(long)]
    boards: Option<u32>,
    /// Output folder (default: out/<network name>-<model>).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Write no files.
    #[arg(long)]
    no_output: bool,
    /// Worker threads of the chip simulator (results do not depend on it).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// A link `X,Y,DIRECTION` that fails when the run starts (repeatable): the tables
    /// still route through it, so packets take the emergency route or are lost.
    #[arg(long, value_name = "X,Y,DIR")]
    fail_link: Vec<String>,
    /// Probability that a packet is lost on each link it crosses (seeded by the
    /// network's seed).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    drop_rate: f64,
    /// Seed of the random packet drops.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Stop the simulation cleanly after this many seconds of wall time, and report
    /// and write what was simulated (Ctrl-C does the same).
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<f64>,
    /// Also run the network on this binary-network model and print both side by side
    /// with their ratios (binary-network families: threshold-logic, mac-bnn).
    #[arg(long, value_name = "MODEL")]
    compare: Option<String>,
    /// At most N neurons per core for population POP (repeatable; arm-core models),
    /// as sPyNNaker's set_number_of_neurons_per_core.
    #[arg(long, value_name = "POP=N", value_parser = parse_pop_cap)]
    neurons_per_core: Vec<(String, u32)>,
    /// Timing closure (arm-core models): cut the populations whose cores overrun the
    /// tick into smaller slices and run again, until real time is kept or slicing
    /// cannot help; the report says what changed.
    #[arg(long)]
    fit_real_time: bool,
    /// Price a self-timed chip (crossbar, neurocore, binary) as if each step lasted at
    /// least the network's dt, the time basis of a chip that keeps real time.
    #[arg(long)]
    hold_to_dt: bool,
    #[command(flatten)]
    mem: MemoryLimit,
}

/// `POP=N` with N ≥ 1.
fn parse_pop_cap(s: &str) -> Result<(String, u32), String> {
    let (pop, n) = s.split_once('=').ok_or_else(|| format!("`{s}`: expected POP=N"))?;
    let n: u32 = n.trim().parse().map_err(|_| format!("`{s}`: N must be a whole number ≥ 1"))?;
    if n == 0 || pop.trim().is_empty() {
        return Err(format!("`{s}`: expected POP=N with N ≥ 1"));
    }
    Ok((pop.trim().to_string(), n))
}

#[derive(clap::Args, Debug)]
struct SweepArgs {
    #[command(flatten)]
    network: NetworkArgs,
    /// The crossbar model: a name from hw-models/ or a path.
    #[arg(long)]
    hw: String,
    /// Device variation σ values (relative).
    #[arg(long, value_delimiter = ',', default_value = "0,0.05,0.1,0.2,0.4")]
    sigma: Vec<f64>,
    /// Stuck-at rates (nine parts stuck low, one stuck high).
    #[arg(long, value_delimiter = ',', default_value = "0,0.05,0.1,0.2,0.4")]
    stuck: Vec<f64>,
    /// Conductance levels per cell.
    #[arg(long, value_delimiter = ',', default_value = "3,4,8,16,64")]
    levels: Vec<u32>,
    /// ADC resolutions.
    #[arg(long, value_delimiter = ',', default_value = "2,3,4,6,8,12")]
    adc_bits: Vec<u32>,
    /// Seed of device programming and read noise.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
    /// Seed of the dataset.
    #[arg(long, default_value_t = 17)]
    data_seed: u64,
    /// Training samples (the readout is trained on the reference's liquid states).
    #[arg(long, default_value_t = 300)]
    train: usize,
    /// Held-out samples.
    #[arg(long, default_value_t = 200)]
    test: usize,
    /// Also run held-out samples on this model (any family) and print the energy ratio;
    /// against a chip that keeps real time, also with the crossbar held to its step.
    #[arg(long, value_name = "MODEL")]
    compare: Option<String>,
    /// Held-out samples run on the --compare model.
    #[arg(long, default_value_t = 5)]
    compare_samples: usize,
    /// Output folder (default: out/<network>-<model>-sweep).
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    mem: MemoryLimit,
}

#[derive(clap::Args, Debug)]
struct CampaignArgs {
    #[command(flatten)]
    network: NetworkArgs,
    /// The chip model: a name from hw-models/ or a path.
    #[arg(long)]
    hw: String,
    /// Seeds per setting (which chips, cores and links die; which packets drop).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Numbers of chips dead at compile time (comma-separated, one setting each).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    dead_chips: Vec<u32>,
    /// Numbers of cores dead at compile time.
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    dead_cores: Vec<u32>,
    /// Numbers of links dead at compile time (routed around).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    dead_links: Vec<u32>,
    /// Packet drop rates per link crossing.
    #[arg(long, value_delimiter = ',', value_name = "P,...")]
    drop_rates: Vec<f64>,
    /// Numbers of used links that fail when the run starts.
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    fail_links: Vec<u32>,
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Output folder (default: out/<network>-<model>-campaign).
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    mem: MemoryLimit,
}

#[derive(clap::Args, Debug)]
struct SimulateArgs {
    #[command(flatten)]
    network: NetworkArgs,
    /// Use the f64 reference simulator (the oracle; the default).
    #[arg(long, conflicts_with = "quantised")]
    reference: bool,
    /// Use the quantised functional model (SpiNNaker's s16.15 formats, 16-bit weights),
    /// and report its fidelity against the reference, which runs too.
    #[arg(long)]
    quantised: bool,
    /// Output folder (default: out/<network name>).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Write no files, print the summary only.
    #[arg(long)]
    no_output: bool,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Record the spike trains of sources too (by default only their counts: they
    /// follow from the seed, and a Poisson background can be very large).
    #[arg(long)]
    record_sources: bool,
    /// Also write every synapse to synapses.csv (projection, pre, post, weight, delay).
    #[arg(long)]
    write_synapses: bool,
    #[command(flatten)]
    mem: MemoryLimit,
}

/// Entry point of the `neuromap` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let r = match cli.cmd {
        Cmd::Check { files, build, mem } => check(&files, build.then_some(mem), color),
        Cmd::Simulate(a) => simulate(&a, color),
        Cmd::Run(a) => run(&a, color),
        Cmd::Models => {
            print!("{}", models_text());
            Ok(())
        }
        Cmd::Compile(a) => compile(&a, color),
        Cmd::Hw(h) => hw(h, color),
        Cmd::Diff(a) => diff(&a, color),
        Cmd::Campaign(a) => campaign(&a, color),
        Cmd::Snapshot { dir, threads } => corpus(&dir, threads, true, color),
        Cmd::Verify { dir, threads } => corpus(&dir, threads, false, color),
        Cmd::Generate { what, output } => generate(&what, &output),
        Cmd::Table(a) => table(&a, color),
        Cmd::Sweep(a) => sweep_cmd(&a, color),
        Cmd::Sanafe { arch, net, steps, remap, out, no_output } => {
            sanafe_cmd(&arch, &net, steps, remap, out.as_deref(), no_output, color)
        }
        Cmd::Import { file, output, nir, steps, seed } => import(&file, &output, nir.options(seed), steps, color),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input) => ExitCode::from(1),
        Err(Failure::Budget) => ExitCode::from(3),
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    /// Diagnostics were printed already.
    Input,
    /// A budget was broken (printed already).
    Budget,
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Other(e.into())
    }
}

/// Renders diagnostics the way the CLI prints them.
pub fn render_diagnostics(diags: &Diagnostics, color: bool) -> String {
    let theme = if color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    for d in diags.iter() {
        let _ = handler.render_report(&mut out, d);
        out.push('\n');
    }
    out
}

fn report(diags: &Diagnostics, color: bool) {
    if !diags.is_empty() {
        eprint!("{}", render_diagnostics(diags, color));
    }
}

fn load(path: &Path, color: bool) -> Result<Netlist, Failure> {
    load_nir(path, &neuromap_import::nir::NirOptions::default(), color)
}

/// Loads a netlist, or a NIR graph (`.nir`) with `nir`'s options.
fn load_nir(path: &Path, nir: &neuromap_import::nir::NirOptions, color: bool) -> Result<Netlist, Failure> {
    match neuromap_import::load_any(path, nir) {
        Ok(n) => {
            report(&n.warnings, color);
            Ok(n)
        }
        Err(d) => {
            report(&d, color);
            eprintln!("{}: {} error(s); nothing was run", path.display(), d.error_count());
            Err(Failure::Input)
        }
    }
}

fn check(files: &[PathBuf], build_limit: Option<MemoryLimit>, color: bool) -> Result<(), Failure> {
    let mut failed = 0;
    for f in files {
        let Ok(n) = load(f, color) else {
            failed += 1;
            continue;
        };
        let s = &n.spec;
        let syn: f64 = s.expected_synapses().iter().sum();
        let neurons: u64 = (0..s.populations.len()).map(|i| s.scaled_size(i)).sum();
        let mut line = format!(
            "{}: ok — {} populations and sources ({} neurons and sources), {} projections, ~{} synapses expected",
            f.display(),
            s.populations.len(),
            neurons,
            s.projections.len(),
            neuromap_report::fmt_si(syn)
        );
        if let Some(mem) = build_limit {
            match build(s, mem, f) {
                Ok(net) => line.push_str(&format!("; built {} synapses", net.n_synapses())),
                Err(e) => {
                    if let Failure::Other(e) = e {
                        eprintln!("error: {e:#}");
                    }
                    failed += 1;
                    continue;
                }
            }
        }
        println!("{line}");
    }
    if failed > 0 { Err(Failure::Input) } else { Ok(()) }
}

/// Loads a netlist and applies the command line's `--seed` and `--scale`.
fn load_with(path: &Path, seed: Option<u64>, scale: Option<f64>, color: bool) -> Result<Netlist, Failure> {
    load_with_nir(path, seed, scale, &neuromap_import::nir::NirOptions::default(), color)
}

fn load_with_nir(
    path: &Path,
    seed: Option<u64>,
    scale: Option<f64>,
    nir: &neuromap_import::nir::NirOptions,
    color: bool,
) -> Result<Netlist, Failure> {
    let mut n = load_nir(path, nir, color)?;
    if let Some(s) = seed {
        n.spec.seed = s;
    }
    if let Some(s) = scale {
        n.spec.scale = s;
    }
    Ok(n)
}

fn simulate(a: &SimulateArgs, color: bool) -> Result<(), Failure> {
    let (n, steps) = a.network.load(color)?;
    let t0 = Instant::now();
    let net = build(&n.spec, a.mem, &a.network.net)?;
    let build_s = t0.elapsed().as_secs_f64();
    let (limit, why) = a.mem.bytes();
    let need = neuromap_sim::memory_estimate(&net) + net.synapse_bytes() as f64;
    if need > limit {
        return Err(anyhow::anyhow!(
            "{}: simulating needs about {:.2} GiB (synapses and input buffers); the limit is {:.2} GiB ({why}); lower `scale` or the sizes, or raise --max-memory",
            a.network.net.display(),
            need / (1u64 << 30) as f64,
            limit / (1u64 << 30) as f64
        )
        .into());
    }
    let t1 = Instant::now();
    let options = neuromap_sim::Options { record_sources: a.record_sources };
    let bar = progress(steps, if a.quantised { "quantised" } else { "reference" });
    let (run, engine) = if a.quantised {
        (stepped::<neuromap_sim::arith::S1615>(&net, steps, options, &bar), "quantised s16.15")
    } else {
        (stepped::<neuromap_sim::arith::F64>(&net, steps, options, &bar), "reference")
    };
    bar.finish_and_clear();
    let wall = t1.elapsed().as_secs_f64();
    let summary = RunSummary::new(&net, &run, engine, Some(wall));
    const TAU_MS: f64 = 10.0;
    let fidelity = a.quantised.then(|| {
        let reference = neuromap_sim::simulate(&net, steps, options);
        neuromap_sim::fidelity::compare(&net, &reference, &run, TAU_MS)
    });
    if a.json {
        print!("{}", write::pretty_json(&summary));
    } else {
        print!("{}", summary.to_text());
        println!("network built in {build_s:.3} s");
        if let Some(f) = &fidelity {
            println!();
            print!("{}", neuromap_report::fidelity_text(f, TAU_MS));
        }
    }
    if a.no_output {
        return Ok(());
    }
    let dir = a.out.clone().unwrap_or_else(|| Path::new("out").join(&net.name));
    let mut files = vec![
        ("summary.json", write::pretty_json(&summary)),
        ("network.json", write::pretty_json(&n.spec)),
        ("spikes.csv", write::spikes_csv(&net, &run)),
        ("spikes.json", write::spikes_json(&net, &run)),
    ];
    if !net.probes().is_empty() {
        files.push(("probes.csv", write::probes_csv(&net, &run)));
    }
    if a.write_synapses {
        files.push(("synapses.csv", write::synapses_csv(&net)));
    }
    if let Some(f) = &fidelity {
        files.push(("fidelity.json", write::pretty_json(f)));
    }
    for (name, body) in &files {
        write::write_atomic(&dir.join(name), body.as_bytes())?;
    }
    if !a.json {
        let names: Vec<&str> = files.iter().map(|f| f.0).collect();
        println!("wrote {} in {}", names.join(", "), dir.display());
    }
    Ok(())
}

/// `neuromap models`: every model with its parameters and defaults.
pub fn models_text() -> String {
    use neuromap_import::netlist::{CONNECTORS, MODELS, SOURCE_KINDS, model_params};
    let mut s = String::from("Neuron models (population `model`), parameters and defaults:\n");
    for m in MODELS {
        s.push_str(&format!("\n  {m}\n"));
        for (k, d, _) in model_params(m).unwrap_or(&[]) {
            s.push_str(&format!("    {k:<12} {d}\n"));
        }
        match m {
            "threshold" => s.push_str("    encoding     \"binary\" | \"bipolar\"\n"),
            "li" => s.push_str("    v_init       v_rest\n"),
            _ => s.push_str("    reset        \"value\" | \"subtract\"\n    v_init       resting value, a list, or a distribution\n"),
        }
    }
    s.push_str(&format!("\nSpike sources (`[[source]] kind`): {}\n", SOURCE_KINDS.join(", ")));
    s.push_str(&format!("Connectors (`connector`): {}\n", CONNECTORS.join(", ")));
    s.push_str("\nUnits: ms, mV, nF, nA, Hz. See docs/netlist.md.\n");
    s
}

use neuromap_pipeline::resolve_hw;

fn load_hw(name: &str, color: bool) -> Result<neuromap_hw::HwModel, Failure> {
    let path = resolve_hw(name);
    if !path.is_file() {
        return Err(anyhow::anyhow!(
            "no chip model `{name}`: not a file, and not in hw-models/ (`neuromap hw list` shows the models)"
        )
        .into());
    }
    neuromap_hw::load_path(&path).map_err(|d| {
        report(&d, color);
        eprintln!("{}: {} error(s)", path.display(), d.error_count());
        Failure::Input
    })
}

fn parse_fault<const N: usize>(flag: &str, text: &str) -> Result<[String; N], Failure> {
    let parts: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
    parts.try_into().map_err(|_| anyhow::anyhow!("--{flag} {text}: expected {N} comma-separated values").into())
}

fn num(flag: &str, s: &str) -> Result<u32, Failure> {
    s.parse().map_err(|_| anyhow::anyhow!("--{flag}: `{s}` is not a whole number").into())
}

fn compile(a: &CompileArgs, color: bool) -> Result<(), Failure> {
    let n = load_with(&a.net, None, a.scale, color)?;
    let mut model = load_hw(&a.hw, color)?;
    if let Some(b) = a.boards {
        model.set_boards(b).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut faults = neuromap_hw::Faults::default();
    for f in &a.dead_chip {
        let [x, y] = parse_fault::<2>("dead-chip", f)?;
        faults.chips.push((num("dead-chip", &x)?, num("dead-chip", &y)?));
    }
    for f in &a.dead_core {
        let [x, y, c] = parse_fault::<3>("dead-core", f)?;
        faults.cores.push((num("dead-core", &x)?, num("dead-core", &y)?, num("dead-core", &c)?));
    }
    for f in &a.dead_link {
        let [x, y, d] = parse_fault::<3>("dead-link", f)?;
        faults.links.push((num("dead-link", &x)?, num("dead-link", &y)?, d));
    }
    model.apply_faults(&faults).map_err(|e| anyhow::anyhow!("{e}"))?;
    let net = build(&n.spec, a.mem, &a.net)?;
    let opts = neuromap_compile::CompileOptions {
        seed: a.seed,
        assumed_rate_hz: a.assumed_rate,
        placement_budget: a.placement_budget,
        neurons_per_core: a.neurons_per_core.iter().cloned().collect(),
    };
    let t0 = Instant::now();
    let mapping = neuromap_compile::compile(&net, &model, &opts)
        .map_err(|e| anyhow::anyhow!("cannot map `{}` onto `{}`: {e}", net.name, model.name))?;
    let secs = t0.elapsed().as_secs_f64();
    let summary = neuromap_compile::artifact::summary(&net, &model, &mapping, &opts);
    if a.json {
        print!("{}", write::pretty_json(&summary));
    } else {
        print!("{}", neuromap_report::mapping_text(&summary));
        println!("compiled and verified in {secs:.3} s");
    }
    if let Some(out) = &a.output {
        let json = neuromap_compile::artifact::to_json(&net, &model, &mapping, &opts);
        write::write_atomic(out, json.as_bytes())?;
        if !a.json {
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}

fn hw(cmd: HwCmd, color: bool) -> Result<(), Failure> {
    match cmd {
        HwCmd::List => {
            let dirs = [PathBuf::from("hw-models"), Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hw-models")];
            let dir = dirs.iter().find(|d| d.is_dir()).ok_or_else(|| anyhow::anyhow!("no hw-models/ folder here"))?;
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            names.sort();
            for p in names {
                match neuromap_hw::load_path(&p) {
                    Ok(m) => println!(
                        "{:<22} {:<9} {:>6} chips  {}",
                        m.name,
                        m.family,
                        m.machine.chips().len(),
                        m.description
                    ),
                    Err(d) => println!("{:<22} (invalid: {})", p.display(), d),
                }
            }
            Ok(())
        }
        HwCmd::Describe { family } => {
            let Some(defs) = neuromap_hw::family::family(&family) else {
                let names: Vec<&str> = neuromap_hw::family::FAMILIES.iter().map(|f| f.0).collect();
                return Err(anyhow::anyhow!("unknown family `{family}`; the families are: {}", names.join(", ")).into());
            };
            let about = neuromap_hw::family::FAMILIES.iter().find(|f| f.0 == family).map_or("", |f| f.2);
            println!("family `{family}`: {about}\n");
            println!(
                "Each figure is written {{ value = …, source = \"…\" }} or {{ value = …, assumption = \"…\" }}.\n"
            );
            let mut t = neuromap_report::table::Table::new(["parameter", "unit", "default", "meaning"]);
            for d in defs {
                let dflt = match (d.default, d.optional) {
                    (Some((v, _)), _) => neuromap_report::fmt_g(v),
                    (None, true) => "optional".into(),
                    (None, false) => "required".into(),
                };
                let doc = match d.by {
                    Some(by) => format!("{}; may step with {by}: `from = {{ N = value, … }}`", d.doc),
                    None => d.doc.to_string(),
                };
                t.row([d.path(), d.unit.to_string(), dflt, doc]);
            }
            print!("{}", t.render());
            Ok(())
        }
        HwCmd::Show { model } => {
            let m = load_hw(&model, color)?;
            let mc = &m.machine;
            println!("{} ({}): {}", m.name, m.family, m.description);
            println!(
                "machine: {:?} topology, {} × {} grid{}, {} chips ({} working){}",
                mc.topology,
                mc.width,
                mc.height,
                if mc.wrap { " with wrap-around" } else { "" },
                mc.chips().len(),
                mc.alive_chips(),
                mc.boards.map_or(String::new(), |b| format!(", {b} board{}", if b == 1 { "" } else { "s" }))
            );
            let mut t = neuromap_report::table::Table::new(["parameter", "value", "unit", "provenance"]);
            for f in &m.figures {
                let prov = f.provenance.label();
                let mut value = neuromap_report::fmt_g(f.value);
                for (n, x) in &f.steps {
                    value.push_str(&format!(", from {n}: {}", neuromap_report::fmt_g(*x)));
                }
                t.row([format!("{}.{}", f.section, f.key), value, f.unit.to_string(), prov]);
            }
            print!("{}", t.render());
            println!("{}", neuromap_report::certainty_counts_text(&m));
            Ok(())
        }
    }
}

/// Reads one of neuromap's JSON documents; a syntax error names line and column.
fn read_json(path: &Path, color: bool) -> Result<serde_json::Value, Failure> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        report(&neuromap_diag::Diagnostics::unreadable(name.clone(), "the file", &e), color);
        Failure::Input
    })?;
    serde_json::from_str(&text).map_err(|e| {
        let file = neuromap_diag::SourceFile::new(name, text.as_str());
        let offset: usize = text.split_inclusive('\n').take(e.line().saturating_sub(1)).map(str::len).sum::<usize>()
            + e.column().saturating_sub(1);
        let offset = offset.min(text.len());
        let d = neuromap_diag::Diagnostic::error(&file, Some(offset..offset), format!("not valid JSON: {e}"))
            .with_label("here");
        report(&neuromap_diag::Diagnostics(vec![d]), color);
        Failure::Input
    })
}

fn budgets(a: &DiffArgs, color: bool) -> Result<Vec<neuromap_report::diff::Budget>, Failure> {
    let mut out = Vec::new();
    for b in &a.budget {
        out.push(b.parse().map_err(|e: String| anyhow::anyhow!("{e}"))?);
    }
    if let Some(path) = &a.budget_file {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            report(&neuromap_diag::Diagnostics::unreadable(name.clone(), "the budget file", &e), color);
            Failure::Input
        })?;
        let file = neuromap_diag::SourceFile::new(name, text);
        let doc = neuromap_diag::toml::Document::parse(&file);
        if !doc.has_errors() {
            let root = doc.root();
            match root.get("budget").and_then(|v| v.table("[budget]")) {
                Some(t) => out.extend(neuromap_pipeline::corpus::budget_table(&t)),
                None => root.missing("budget", "a table of METRIC = \"LIMIT\" lines"),
            }
            root.finish();
        }
        let d = doc.into_diagnostics();
        if d.has_errors() {
            report(&d, color);
            return Err(Failure::Input);
        }
    }
    Ok(out)
}

fn diff(a: &DiffArgs, color: bool) -> Result<(), Failure> {
    let old = read_json(&a.old, color)?;
    let new = read_json(&a.new, color)?;
    let budgets = budgets(a, color)?;
    let d = neuromap_report::diff::diff(&old, &new)
        .map_err(|e| anyhow::anyhow!("{} vs {}: {e}", a.old.display(), a.new.display()))?;
    let breaches = neuromap_report::diff::check(&d, &budgets);
    if a.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            diff: &'a neuromap_report::diff::Diff,
            breaches: &'a [neuromap_report::diff::Breach],
        }
        print!("{}", write::pretty_json(&Out { diff: &d, breaches: &breaches }));
    } else {
        print!("{}", neuromap_report::diff::to_text(&d, a.max_items));
        if !budgets.is_empty() {
            if breaches.is_empty() {
                println!("\nall {} budget(s) hold", budgets.len());
            } else {
                println!("\n{} budget(s) broken:", breaches.len());
                for b in &breaches {
                    println!("  {}", b.message);
                }
            }
        }
    }
    if breaches.is_empty() { Ok(()) } else { Err(Failure::Budget) }
}

fn run(a: &RunArgs, color: bool) -> Result<(), Failure> {
    let (n, steps) = a.network.load(color)?;
    let mut model = load_hw(&a.hw, color)?;
    if let Some(b) = a.boards {
        model.set_boards(b).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let net = build(&n.spec, a.mem, &a.network.net)?;
    if a.compare.is_some() && !neuromap_pipeline::binary::is_binary_family(&model) {
        let hint = if neuromap_pipeline::crossbar::is_crossbar_family(&model) {
            "; `neuromap sweep … --compare MODEL` sets a crossbar beside an ARM-core model"
        } else {
            ""
        };
        return Err(anyhow::anyhow!(
            "--compare sets binary-network models side by side; `{}` is of family `{}`{hint}",
            model.name,
            model.family
        )
        .into());
    }
    // Families other than arm-core take only the fault seed (device programming).
    let seeded = neuromap_sim::chip::RunFaults { seed: a.fault_seed, ..Default::default() };
    if neuromap_pipeline::binary::is_binary_family(&model) {
        return run_binary(a, job_of(a, n.spec, net, model, steps, seeded), color);
    }
    if neuromap_pipeline::neurocore::is_neurocore_family(&model) {
        return run_neurocore(a, job_of(a, n.spec, net, model, steps, seeded));
    }
    if neuromap_pipeline::crossbar::is_crossbar_family(&model) {
        return run_crossbar(a, job_of(a, n.spec, net, model, steps, seeded));
    }
    let mut faults =
        neuromap_sim::chip::RunFaults { packet_drop_rate: a.drop_rate, dead_links: Vec::new(), seed: a.fault_seed };
    for f in &a.fail_link {
        let [x, y, d] = parse_fault::<3>("fail-link", f)?;
        let (id, d) = model
            .machine
            .link_at(num("fail-link", &x)?, num("fail-link", &y)?, &d)
            .map_err(|e| anyhow::anyhow!("--fail-link {e}"))?;
        faults.dead_links.push((id, d as u8));
    }
    let job = job_of(a, n.spec, net, model, steps, faults);
    let bar = progress(steps, "chip");
    let interrupted = on_interrupt();
    let started = Instant::now();
    let limit = a.time_limit.map(std::time::Duration::from_secs_f64);
    let mut stopped: Option<&str> = None;
    let out = neuromap_pipeline::run_job(job, &mut |t| {
        if t == 1 {
            eprintln!("simulating {steps} steps (Ctrl-C stops after the current step and writes what was simulated)");
        }
        if t % 64 == 0 || t == steps {
            bar.set_position(u64::from(t));
        }
        if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            stopped = Some("interrupted");
        } else if limit.is_some_and(|l| started.elapsed() >= l) {
            stopped = Some("time limit");
        }
        stopped.is_none()
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    let done = out.chip.result.steps;
    let stopped = stopped.filter(|_| done < steps).map(|why| format!("{why}: stopped after {done} of {steps} steps"));
    if let Some(s) = &stopped {
        eprintln!("{s}; the report covers the steps done");
    }
    let (net, model, mapping, chip) = (&out.job.net, &out.job.model, &out.mapping, &out.chip);
    let mapping_summary = out.mapping_summary();
    let summary = out.run_summary(true);
    print!("{}", summary.to_text());
    println!(
        "compiled in {:.3} s: {} on {}",
        out.compile_s,
        neuromap_compile::plural(mapping_summary.cores_used, "core"),
        neuromap_compile::plural(mapping_summary.chips_used, "chip")
    );
    print!("{}", out.network_text());
    println!();
    let tau = neuromap_pipeline::TAU_MS;
    print!("{}", neuromap_report::fidelity_text(&out.fidelity, tau));
    print!("{}", neuromap_pipeline::warnings_text(&out.warnings));
    for f in &out.fit {
        println!("{f}");
    }
    println!();
    match &chip.counts.timing {
        Some(t) => print!("{}", neuromap_report::timing_text(t, mapping.hw.clock_hz)),
        None => println!("time per step: unknown (the model `{}` does not give the [timing] figures)", model.name),
    }
    println!();
    let energy = out.energy.as_ref();
    let per_step = energy.map(|e| e.per_step_j.clone());
    print!("{}", out.energy_text());
    if let Some(v) = &per_step {
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        let max = v.iter().copied().fold(0.0, f64::max);
        println!("per timestep (machine allocated): mean {:.4} µJ, max {:.4} µJ", mean * 1e6, max * 1e6);
    }
    if a.no_output {
        return Ok(());
    }
    let dir = out_dir(a.out.as_deref(), &net.name, &model.name);
    #[derive(serde::Serialize)]
    struct Config<'a> {
        schema_version: u32,
        network: Option<&'a neuromap_ir::spec::NetworkSpec>,
        steps: u32,
        placement_seed: u64,
        threads: usize,
        run_faults: &'a neuromap_sim::chip::RunFaults,
        /// Why the run stopped before the steps asked for, if it did.
        stopped: Option<&'a str>,
        hw_model: &'a neuromap_hw::HwModel,
    }
    let resolved = Config {
        schema_version: 1,
        network: out.job.spec.as_ref(),
        steps: done,
        placement_seed: a.placement_seed,
        threads: a.threads,
        run_faults: &out.job.faults,
        stopped: stopped.as_deref(),
        hw_model: model,
    };
    let figures = run_figures(net, model, mapping, chip, energy, done);
    let mut texts = vec![
        ("summary", summary.to_text()),
        ("mapping", neuromap_report::mapping_text(&mapping_summary)),
        ("fidelity", neuromap_report::fidelity_text(&out.fidelity, tau)),
    ];
    if let Some(t) = &chip.counts.timing {
        texts.push(("time per step", neuromap_report::timing_text(t, mapping.hw.clock_hz)));
    }
    texts.push(("energy", out.energy_text()));
    let fig_refs: Vec<(&str, String)> = figures.iter().map(|(_, t, svg)| (*t, svg.clone())).collect();
    let html = neuromap_report::plot::html(&format!("{} on {}", net.name, model.name), &texts, &fig_refs);
    let mut files = vec![
        ("report.json", write::pretty_json(&out.report_json(true))),
        ("energy_steps.csv", energy_steps_csv(per_step.as_deref(), &chip.counts.router_passes_per_step)),
        ("summary.json", write::pretty_json(&summary)),
        ("fidelity.json", write::pretty_json(&out.fidelity)),
        ("energy.json", write::pretty_json(&energy.map(neuromap_report::ledger_json))),
        ("counts.json", write::pretty_json(&chip.counts)),
        ("mapping.json", out.mapping_json()),
        ("config.json", write::pretty_json(&resolved)),
        ("spikes.csv", write::spikes_csv(net, &chip.result)),
        ("report.html", html),
    ];
    files.extend(figures.into_iter().map(|(name, _, svg)| (name, svg)));
    write_files(&dir, &files)?;
    Ok(())
}

/// The job `run` hands to the pipeline.
fn job_of(
    a: &RunArgs,
    spec: neuromap_ir::spec::NetworkSpec,
    net: neuromap_ir::Network,
    model: neuromap_hw::HwModel,
    steps: u32,
    faults: neuromap_sim::chip::RunFaults,
) -> neuromap_pipeline::Job {
    neuromap_pipeline::Job {
        spec: Some(spec),
        net,
        model,
        steps,
        placement_seed: a.placement_seed,
        threads: a.threads,
        faults,
        max_memory: Some(a.mem.bytes()),
        map: neuromap_pipeline::MapOptions {
            neurons_per_core: a.neurons_per_core.iter().cloned().collect(),
            fit_real_time: a.fit_real_time,
            hold_to_dt: a.hold_to_dt,
        },
    }
}

/// Where `run` writes (`--out`, else out/<network>-<model>).
fn out_dir(out: Option<&Path>, net: &str, model: &str) -> PathBuf {
    out.map(Path::to_path_buf).unwrap_or_else(|| Path::new("out").join(format!("{net}-{model}")))
}

/// Writes each file atomically into `dir`, then says what was written.
fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<(), Failure> {
    for (name, body) in files {
        write::write_atomic(&dir.join(name), body.as_bytes())?;
    }
    let names: Vec<&str> = files.iter().map(|f| f.0).collect();
    println!("\nwrote {} in {}", names.join(", "), dir.display());
    Ok(())
}

/// `run` on a binary-network family: map, run, check bit for bit against the reference,
/// price per classification; with `--compare`, the same on a second model and the ratios.
fn run_binary(a: &RunArgs, job: neuromap_pipeline::Job, color: bool) -> Result<(), Failure> {
    let other = match &a.compare {
        Some(name) => {
            let m = load_hw(name, color)?;
            if !neuromap_pipeline::binary::is_binary_family(&m) {
                return Err(anyhow::anyhow!(
                    "--compare sets binary-network models side by side; `{}` is of family `{}`",
                    m.name,
                    m.family
                )
                .into());
            }
            Some(neuromap_pipeline::Job { model: m, ..job.clone() })
        }
        None => None,
    };
    let run = |j| neuromap_pipeline::binary::run_binary_job(j).map_err(|e| anyhow::anyhow!("{e}"));
    let out = run(job)?;
    let summary = out.run_summary(true);
    print!("{}", summary.to_text());
    println!("mapped in {:.3} s, simulated in {:.3} s", out.map_s, out.chip_s);
    print!("{}", out.mapping_text());
    let spikes: u64 = out.run.spike_counts.iter().sum();
    println!("chip = reference: identical ({spikes} spikes)\n");
    print!("{}", out.energy_text());
    let compared = match other {
        Some(other) => {
            let o = run(other)?;
            println!("\n{}", o.mapping_text());
            print!("{}", o.energy_text());
            let text = neuromap_pipeline::binary::comparison_text(&out, &o);
            println!("\n{text}");
            Some(text)
        }
        None => None,
    };
    if a.no_output {
        return Ok(());
    }
    let (net, model) = (&out.job.net, &out.job.model);
    let dir = out_dir(a.out.as_deref(), &net.name, &model.name);
    let mut files = vec![
        ("report.json", write::pretty_json(&out.report_json(true))),
        ("summary.json", write::pretty_json(&summary)),
        ("summary.txt", out.summary()),
        ("energy.json", write::pretty_json(&out.energy)),
        ("spikes.csv", write::spikes_csv(net, &out.result)),
    ];
    if let Some(t) = compared {
        files.push(("comparison.txt", t));
    }
    write_files(&dir, &files)?;
    Ok(())
}

fn import(
    file: &Path,
    output: &Path,
    nir: neuromap_import::nir::NirOptions,
    steps: u32,
    color: bool,
) -> Result<(), Failure> {
    if !file.extension().is_some_and(|e| e.eq_ignore_ascii_case("nir")) {
        return Err(anyhow::anyhow!("`import` reads NIR graphs (.nir); {} is not one", file.display()).into());
    }
    let n = load_nir(file, &nir, color)?;
    let header = format!(
        "Imported from {} by `neuromap import` (dt {} s of NIR time per step, input spike probability {} per step).\nThe mapping from NIR is described in docs/nir.md.",
        file.file_name().map_or_else(|| file.display().to_string(), |f| f.to_string_lossy().to_string()),
        nir.dt_s,
        nir.input_p
    );
    let text = neuromap_import::write::to_toml(&n.spec, Some(steps), &header).map_err(|e| anyhow::anyhow!("{e}"))?;
    write::write_atomic(output, text.as_bytes())?;
    let neurons: u64 = n.spec.populations.iter().map(|p| p.size).sum();
    println!(
        "wrote {}: {} populations and sources ({neurons} neurons and sources), {} projections",
        output.display(),
        n.spec.populations.len(),
        n.spec.projections.len()
    );
    Ok(())
}

/// `run` on the crossbar family: map (quantise, tile, program), run the chip, check it
/// against the conductance-quantised functional model, compare with the reference, price.
fn run_crossbar(a: &RunArgs, job: neuromap_pipeline::Job) -> Result<(), Failure> {
    let out = neuromap_pipeline::crossbar::run_crossbar_job(job).map_err(|e| anyhow::anyhow!("{e}"))?;
    let summary = out.run_summary(true);
    print!("{}", summary.to_text());
    println!("mapped in {:.3} s, simulated in {:.3} s", out.map_s, out.chip_s);
    let (net, model) = (&out.job.net, &out.job.model);
    print!(
        "{}",
        neuromap_pipeline::crossbar::mapping_text(&out.mapping, net, out.run.result.steps, Some(&out.run.counts))
    );
    print!("{}", out.check_text());
    println!();
    print!("{}", neuromap_report::ledger_text(&out.energy));
    println!();
    print!("{}", neuromap_report::fidelity_text(&out.fidelity, neuromap_pipeline::TAU_MS));
    print!("{}", neuromap_pipeline::warnings_text(&out.warnings));
    if a.no_output {
        return Ok(());
    }
    let dir = out_dir(a.out.as_deref(), &net.name, &model.name);
    let files = [
        ("report.json", write::pretty_json(&out.report_json(true))),
        ("summary.json", write::pretty_json(&summary)),
        ("summary.txt", out.summary()),
        ("energy.json", write::pretty_json(&out.energy)),
        ("spikes.csv", write::spikes_csv(net, &out.run.result)),
    ];
    write_files(&dir, &files)?;
    Ok(())
}

/// `run` on the neurocore family (Loihi, TrueNorth).
fn run_neurocore(a: &RunArgs, job: neuromap_pipeline::Job) -> Result<(), Failure> {
    let out = neuromap_pipeline::neurocore::run_neurocore_job(job).map_err(|e| anyhow::anyhow!("{e}"))?;
    let summary = out.run_summary(true);
    print!("{}", summary.to_text());
    print!("{}", out.report_text());
    if a.no_output {
        return Ok(());
    }
    let (net, model) = (&out.job.net, &out.job.model);
    let dir = out_dir(a.out.as_deref(), &net.name, &model.name);
    let files = [
        ("report.json", write::pretty_json(&out.report_json(true))),
        ("summary.json", write::pretty_json(&summary)),
        ("summary.txt", out.summary()),
        ("energy.json", write::pretty_json(&out.energy)),
        ("spikes.csv", write::spikes_csv(net, &out.result)),
    ];
    write_files(&dir, &files)?;
    Ok(())
}

fn sanafe_cmd(
    arch: &Path,
    netf: &Path,
    steps: u32,
    remap: bool,
    out: Option<&Path>,
    no_output: bool,
    color: bool,
) -> Result<(), Failure> {
    let fail = |d: Diagnostics, f: &Path| {
        report(&d, color);
        eprintln!("{}: {} error(s); nothing was run", f.display(), d.error_count());
        Failure::Input
    };
    let model = neuromap_import::sanafe::load_arch(arch).map_err(|d| fail(d, arch))?;
    let cpt = model.get("core", "cores_per_tile").unwrap_or(1.0) as u32;
    let sn = neuromap_import::sanafe::load_net(netf, cpt).map_err(|d| fail(d, netf))?;
    let net = sn.netlist.spec.build().map_err(|e| anyhow::anyhow!("{}: {e}", netf.display()))?;
    let placement = if remap { None } else { sn.placement };
    println!(
        "{} on {} ({}): {}",
        net.name,
        model.name,
        arch.display(),
        if placement.is_some() { "the file's mapping" } else { "neuromap's placement" }
    );
    let job = neuromap_pipeline::Job {
        spec: Some(sn.netlist.spec),
        net,
        model,
        steps,
        placement_seed: 1,
        threads: 1,
        faults: neuromap_sim::chip::RunFaults::default(),
        max_memory: None,
        map: Default::default(),
    };
    let out_run =
        neuromap_pipeline::neurocore::run_neurocore_placed(job, placement).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", out_run.run_summary(true).to_text());
    print!("{}", out_run.report_text());
    if no_output {
        return Ok(());
    }
    let (net, model) = (&out_run.job.net, &out_run.job.model);
    let dir = out_dir(out, &net.name, &model.name);
    let files = [
        ("report.json", write::pretty_json(&out_run.report_json(true))),
        ("summary.txt", out_run.summary()),
        ("spikes.csv", write::spikes_csv(net, &out_run.result)),
    ];
    write_files(&dir, &files)?;
    Ok(())
}

/// `neuromap sweep`: the LSM workload on a crossbar model under one parameter at a
/// time, accuracy and energy per inference, CSV and SVG; optionally beside an ARM-core
/// model.
fn sweep_cmd(a: &SweepArgs, color: bool) -> Result<(), Failure> {
    let (n, _) = a.network.load(color)?;
    let net = build(&n.spec, a.mem, &a.network.net)?;
    let model = load_hw(&a.hw, color)?;
    let Some(base) = neuromap_hw::crossbar::Crossbar::from_model(&model) else {
        return Err(anyhow::anyhow!(
            "`{}` is of family `{}`; `sweep` varies the devices of a crossbar model",
            model.name,
            model.family
        )
        .into());
    };
    let data = neuromap_xbar::lsm::Dataset { seed: a.data_seed, train: a.train, test: a.test, ..Default::default() };
    eprintln!("training the readout on {} reference runs, {} held-out samples…", data.train, data.test);
    let study = neuromap_pipeline::crossbar::LsmStudy::prepare(net, data).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "LSM `{}`: readout trained on the f64 reference (training accuracy {:.1} %); held-out accuracy on the reference {:.1} %",
        study.net.name,
        100.0 * study.train_accuracy,
        100.0 * study.reference_accuracy
    );
    let ideal = neuromap_hw::crossbar::Crossbar {
        sigma: 0.0,
        stuck_low: 0.0,
        stuck_high: 0.0,
        read_noise: 0.0,
        r_wire_ohm: 0.0,
        levels: 256,
        adc_bits: 40,
        ..base.clone()
    };
    let e_ideal = study.on_crossbar(&model, &ideal, a.fault_seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let e_model = study.on_crossbar(&model, &base, a.fault_seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("ideal devices, 256 levels, exact ADC: accuracy {:.1} %", 100.0 * e_ideal.accuracy);
    println!(
        "{} as modelled: accuracy {:.1} %, {:.3} nJ and {:.3} µs per inference ({} steps)",
        model.name,
        100.0 * e_model.accuracy,
        e_model.energy_per_inference_j * 1e9,
        e_model.latency_per_inference_s * 1e6,
        study.data.steps
    );
    let sw = neuromap_pipeline::crossbar::Sweep {
        sigma: a.sigma.clone(),
        stuck: a.stuck.clone(),
        levels: a.levels.clone(),
        adc_bits: a.adc_bits.clone(),
    };
    let rows =
        neuromap_pipeline::crossbar::sweep(&study, &model, &sw, a.fault_seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut t = neuromap_report::table::Table::new([
        "parameter",
        "value",
        "accuracy",
        "energy/inference (nJ)",
        "latency (µs)",
        "clipped",
    ]);
    for r in &rows {
        t.row([
            r.parameter.to_string(),
            neuromap_report::fmt_g(r.value),
            format!("{:.1} %", 100.0 * r.eval.accuracy),
            format!("{:.3}", r.eval.energy_per_inference_j * 1e9),
            format!("{:.3}", r.eval.latency_per_inference_s * 1e6),
            r.eval.clipped.to_string(),
        ]);
    }
    print!("\n{}", t.render());
    let mut compare = String::new();
    if let Some(arm) = &a.compare {
        let arm_model = load_hw(arm, color)?;
        let (total, dynamic, ticks) =
            study.on_model(&arm_model, a.compare_samples).map_err(|e| anyhow::anyhow!("{e}"))?;
        let x = e_model.energy_per_inference_j;
        compare = format!(
            "energy per inference: {} {:.3e} J, {} {:.3e} J ({:.3e} J without idle power); ratio {:.3e}× ({:.3e}× against the dynamic part)\n",
            model.name,
            x,
            arm_model.name,
            total,
            dynamic,
            total / x,
            dynamic / x
        );
        let held = e_model.energy_per_inference_held_j;
        if ticks {
            compare.push_str(&format!(
            "held to the {} ms step ({} held to the network's dt, as a chip that keeps real time): {:.3e} J per inference; ratio {:.3e}×\n",
            neuromap_report::fmt_g(study.net.dt),
            model.name,
            held,
            total / held
        ));
        }
        print!("\n{compare}");
    }
    let dir =
        a.out.clone().unwrap_or_else(|| Path::new("out").join(format!("{}-{}-sweep", study.net.name, model.name)));
    let title = format!("{} on {}: accuracy and energy per inference", study.net.name, model.name);
    write::write_atomic(&dir.join("sweep.csv"), neuromap_pipeline::crossbar::sweep_csv(&rows).as_bytes())?;
    write::write_atomic(&dir.join("sweep.svg"), neuromap_pipeline::crossbar::sweep_svg(&title, &rows).as_bytes())?;
    if !compare.is_empty() {
        write::write_atomic(&dir.join("comparison.txt"), compare.as_bytes())?;
    }
    println!("\nwrote sweep.csv, sweep.svg in {}", dir.display());
    Ok(())
}

/// `neuromap table`: every network on every model, one row each.
fn table(a: &TableArgs, color: bool) -> Result<(), Failure> {
    let mut models = Vec::new();
    for h in &a.hw {
        if h == "all" {
            let mut names: Vec<String> = std::fs::read_dir(
                neuromap_pipeline::resolve_hw("spinnaker1").parent().unwrap_or(Path::new("hw-models")),
            )
            .map_err(|e| anyhow::anyhow!("hw-models/: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().to_string()))
            .collect();
            names.sort();
            models.extend(names);
        } else {
            models.push(h.clone());
        }
    }
    let mut rows = Vec::new();
    for net in &a.nets {
        for m in &models {
            load_hw(m, color)?;
            let o = neuromap_pipeline::RunOptions { steps: a.steps, ..Default::default() };
            let mut job = neuromap_pipeline::load_job(net, m, &o).map_err(|e| anyhow::anyhow!("{e}"))?;
            job.map.hold_to_dt = a.hold_to_dt;
            let name = net.file_stem().map_or_else(String::new, |s| s.to_string_lossy().to_string());
            eprintln!("{name} on {m} ...");
            rows.push(neuromap_pipeline::any::table_row(job, &name));
        }
    }
    let md = neuromap_report::table_markdown(&rows_text(&rows));
    print!("{md}");
    if let Some(out) = &a.output {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let text = format!("<!-- Written by `neuromap {}`; run it again to refresh. -->\n\n{md}", args.join(" "));
        write::write_atomic(out, text.as_bytes())?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// The table's header and cells.
fn rows_text(rows: &[neuromap_pipeline::any::TableRow]) -> Vec<Vec<String>> {
    use neuromap_report::{fmt_joules, fmt_time};
    let o = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or("-".to_string(), f);
    let pct = |x: f64| format!("{:.0} %", 100.0 * x);
    let mut out = vec![
        [
            "network",
            "model",
            "family",
            "steps",
            "wall time",
            "slow-down",
            "allocated",
            "in use",
            "dynamic",
            "in use per synaptic event",
            "borrowed",
            "assumed",
            "note",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        out.push(vec![
            r.network.clone(),
            r.model.clone(),
            r.family.clone(),
            r.steps.to_string(),
            o(r.wall_s, &fmt_time),
            o(r.slowdown, &|x| format!("{x:.2}")),
            o(r.allocated_j, &fmt_joules),
            o(r.in_use_j, &fmt_joules),
            o(r.dynamic_j, &fmt_joules),
            o(r.in_use_per_event_j, &fmt_joules),
            o(r.borrowed, &pct),
            o(r.assumed, &pct),
            {
                // The first clause of the note: the reason, not its whole story.
                let n = r.note.replace('|', "/");
                match n.char_indices().nth(140) {
                    Some((i, _)) => format!("{}…", &n[..i]),
                    None => n,
                }
            },
        ]);
    }
    out
}

fn generate(what: &str, output: &Path) -> Result<(), Failure> {
    match what {
        "binary-digits" => {
            let c = neuromap_bnn::dataset::Config::default();
            let d = neuromap_bnn::dataset::generate(&c);
            let m = neuromap_bnn::dataset::train(&c, &d);
            write::write_atomic(output, neuromap_bnn::dataset::netlist(&c, &d, &m).as_bytes())?;
            let outs: Vec<Vec<bool>> = d.test.iter().map(|(x, _)| m.outputs(x)).collect();
            println!(
                "wrote {}: held-out accuracy {:.1} % ({} samples, exactly the right output firing)",
                output.display(),
                100.0 * neuromap_bnn::dataset::accuracy(&outs, &d.test),
                d.test.len()
            );
            Ok(())
        }
        "truenorth-operating-point" => {
            let spec = neuromap_ncore::operating_point(4, 1);
            let header = "TrueNorth's published operating point (Merolla et al. 2014): 20 Hz per neuron, 128 active synapses\nper neuron, on 4 cores of 256 neurons. Written by `neuromap generate truenorth-operating-point`.\nRun: neuromap run FILE --hw truenorth (prints the energy per synaptic event; published: 26 pJ).";
            let text =
                neuromap_import::write::to_toml(&spec, Some(1000), header).map_err(|e| anyhow::anyhow!("{e}"))?;
            write::write_atomic(output, text.as_bytes())?;
            println!("wrote {}", output.display());
            Ok(())
        }
        other => Err(anyhow::anyhow!(
            "unknown example `{other}`; the examples are: binary-digits, truenorth-operating-point"
        )
        .into()),
    }
}

fn campaign(a: &CampaignArgs, color: bool) -> Result<(), Failure> {
    use neuromap_pipeline::campaign as fc;
    let (n, steps) = a.network.load(color)?;
    let model = load_hw(&a.hw, color)?;
    let net = build(&n.spec, a.mem, &a.network.net)?;
    let settings = fc::sweep(&a.dead_chips, &a.dead_cores, &a.dead_links, &a.drop_rates, &a.fail_links);
    if let Some(p) = a.drop_rates.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(anyhow::anyhow!("--drop-rates: {p} is not a probability").into());
    }
    let c = fc::Campaign {
        spec: &n.spec,
        net: &net,
        model: &model,
        steps,
        seeds: a.seeds,
        threads: a.threads,
        settings: settings.clone(),
    };
    let total = settings.len() as u64 * a.seeds.max(1);
    let bar = progress(u32::try_from(total).unwrap_or(u32::MAX), "campaign");
    let (base, rows) = fc::run(&c, &mut |what| {
        bar.set_message(what.to_string());
        bar.inc(1);
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    let sums = fc::summarise(&settings, &rows);
    println!(
        "fault campaign: {} on {}, {steps} steps, {} setting(s) × {} seed(s); compared with the fault-free run ({} spikes)\n",
        net.name,
        model.name,
        settings.len(),
        a.seeds.max(1),
        base.chip
            .result
            .spike_counts
            .iter()
            .zip(net.populations())
            .filter(|(_, p)| !p.is_source())
            .map(|(c, _)| c)
            .sum::<u64>()
    );
    print!("{}", fc::summary_text(&sums));
    let dir = a.out.clone().unwrap_or_else(|| Path::new("out").join(format!("{}-{}-campaign", net.name, model.name)));
    let labels: Vec<String> = sums.iter().map(|s| s.setting.clone()).collect();
    let col = |f: &dyn Fn(&fc::Summary) -> (f64, f64), k: f64| -> (Vec<f64>, Vec<f64>) {
        sums.iter().map(|s| (f(s).0 * k, f(s).1 * k)).unzip()
    };
    let (m1, s1) = col(&|s| s.count_error, 100.0);
    let (m2, s2) = col(&|s| s.lost_deliveries, 1.0);
    let (m3, s3) = col(&|s| s.energy_j, 1.0);
    let plot = neuromap_report::plot::bars;
    let files = [
        ("campaign.csv", fc::rows_csv(&rows)),
        ("summary.json", write::pretty_json(&sums)),
        ("fidelity.svg", plot("spike count error against the fault-free run", "%", &labels, &m1, &s1)),
        ("losses.svg", plot("deliveries to cores lost", "deliveries", &labels, &m2, &s2)),
        ("energy.svg", plot("energy", "J", &labels, &m3, &s3)),
    ];
    write_files(&dir, &files)?;
    Ok(())
}

/// A flag set by the first Ctrl-C (the run then stops after the current step and
/// writes what it has); a second Ctrl-C quits at once. Outputs are written atomically,
/// so quitting never leaves a half-written file under a final name.
fn on_interrupt() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static FLAG: std::sync::OnceLock<std::sync::Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = std::sync::Arc::new(AtomicBool::new(false));
        let f = std::sync::Arc::clone(&flag);
        let installed = ctrlc::set_handler(move || {
            if f.swap(true, Ordering::SeqCst) {
                eprintln!("interrupted again: quitting now");
                std::process::exit(130);
            }
            eprintln!("interrupted: stopping after the current step (Ctrl-C again to quit now)");
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will quit at once ({e})");
        }
        flag
    })
    .clone()
}

fn corpus(dir: &Path, threads: usize, record: bool, color: bool) -> Result<(), Failure> {
    let c = neuromap_pipeline::corpus::load(dir).map_err(|d| {
        report(&d, color);
        Failure::Input
    })?;
    if record {
        let written = neuromap_pipeline::corpus::snapshot(&c, threads).map_err(|e| anyhow::anyhow!("{e}"))?;
        for w in &written {
            println!("recorded {}", w.display());
        }
        println!("{} golden record(s) in {}", written.len(), dir.join("golden").display());
        return Ok(());
    }
    let verdicts = neuromap_pipeline::corpus::verify(&c, threads).map_err(|e| anyhow::anyhow!("{e}"))?;
    let failed = verdicts.iter().filter(|v| !v.ok).count();
    for v in &verdicts {
        println!("{:<4} {}", if v.ok { "ok" } else { "FAIL" }, v.id);
        if !v.report.is_empty() {
            for line in v.report.lines() {
                println!("     {line}");
            }
        }
    }
    if failed == 0 {
        println!("{} case(s) verified against {}", verdicts.len(), dir.join("golden").display());
        Ok(())
    } else {
        eprintln!(
            "{failed} of {} case(s) failed verification against {}",
            verdicts.len(),
            dir.join("golden").display()
        );
        Err(Failure::Budget)
    }
}

/// `step,energy_j,router_passes`, one row per step (energy empty where the model
/// gives no energy figures).
fn energy_steps_csv(per_step: Option<&[f64]>, passes: &[u64]) -> String {
    let mut s = String::from("step,energy_j,router_passes\n");
    for (t, p) in passes.iter().enumerate() {
        let e = per_step.and_then(|v| v.get(t)).map_or_else(String::new, |e| format!("{e:e}"));
        s.push_str(&format!("{t},{e},{p}\n"));
    }
    s
}

/// The SVG figures of a chip run: (file name, heading, SVG).
fn run_figures(
    net: &neuromap_ir::Network,
    model: &neuromap_hw::HwModel,
    mapping: &neuromap_compile::Mapping,
    chip: &neuromap_sim::chip::ChipRun,
    energy: Option<&neuromap_cost::Ledger>,
    steps: u32,
) -> Vec<(&'static str, &'static str, String)> {
    use neuromap_report::plot;
    let c = &chip.counts;
    let hw = &mapping.hw;
    let mut out = vec![("raster.svg", "spike raster", plot::raster(net, &chip.result, 50_000))];
    if let Some(e) = energy {
        out.push(("energy.svg", "energy breakdown", plot::energy(e)));
    }
    // Per-core load: mean cycles per step over the tick where the model gives cycle
    // costs, else work (synaptic events + neuron updates) over the busiest core's.
    let n = f64::from(steps.max(1));
    let (values, full, what): (Vec<f64>, f64, &str) =
        match (&c.timing, hw.cycles_per_packet, hw.cycles_per_synaptic_event, hw.cycles_per_neuron_update) {
            (Some(t), Some(p), Some(e), Some(u)) => (
                (0..c.synaptic_events.len())
                    .map(|s| {
                        (c.packets_received[s] as f64 * p
                            + c.synaptic_events[s] as f64 * e
                            + c.neuron_updates[s] as f64 * u)
                            / n
                    })
                    .collect(),
                t.budget_cycles,
                "mean cycles per step over the tick",
            ),
            _ => {
                let v: Vec<f64> =
                    (0..c.synaptic_events.len()).map(|s| (c.synaptic_events[s] + c.neuron_updates[s]) as f64).collect();
                let max = v.iter().copied().fold(1.0, f64::max);
                (v, max, "synaptic events + neuron updates over the busiest core's")
            }
        };
    let cores: Vec<(neuromap_hw::ChipId, u32, f64)> =
        mapping.placement.core_of.iter().zip(&values).map(|(&(chip, core), &v)| (chip, core, v)).collect();
    out.push(("core_load.svg", "per-core load", plot::core_load(&model.machine, hw.cores, &cores, full, what)));
    out.push(("links.svg", "link traffic", plot::link_traffic(&model.machine, &c.link_packets, &c.router_passes)));
    if let Some(t) = &c.timing {
        let core_s: Vec<f64> = t.critical_cycles.iter().map(|x| x / hw.clock_hz).collect();
        let tick = t.budget_cycles / hw.clock_hz;
        out.push(("latency.svg", "latency per timestep", plot::latency(&t.latency_s(hw.clock_hz), &core_s, tick)));
    }
    out
}

/// A progress bar on an interactive terminal; hidden in CI and when stderr is piped.
fn progress(steps: u32, what: &str) -> indicatif::ProgressBar {
    let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    if !interactive || steps < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(u64::from(steps));
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} steps ({eta} left)") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// Runs the engine step by step, moving the progress bar.
fn stepped<A: neuromap_sim::arith::Arith>(
    net: &neuromap_ir::Network,
    steps: u32,
    options: neuromap_sim::Options,
    bar: &indicatif::ProgressBar,
) -> neuromap_sim::RunResult {
    let mut engine = neuromap_sim::Engine::<A>::new(net, options);
    for t in 1..=steps {
        engine.step();
        if t % 64 == 0 || t == steps {
            bar.set_position(u64::from(t));
        }
    }
    engine.finish()
}
