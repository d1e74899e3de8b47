//! The command line's arguments (clap definitions).

use crate::*;

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
    pub(crate) cmd: Cmd,
    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub(crate) color: Color,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
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
    /// How far a network's spikes move from the f64 reference under each chip
    /// arithmetic (s16.15 truncate, nearest, stochastic; f32), per population, over
    /// several seeds: count error, same-step share, van Rossum distance.
    Fidelity(FidelityArgs),
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
    ///
    /// With --set KEY=V1,V2,… instead: any figures of any model, over one or more
    /// networks, every point of their grid (or a seeded sample) mapped and run; energy,
    /// latency, real time, the Pareto front of --objective under --constraint; CSV,
    /// JSON, SVG and HTML.
    Sweep(SweepArgs),
    /// How far each figure the model assumes or borrows moves energy and latency when
    /// scaled (×0.5 and ×2 by default), ranked; with --compare, whether the ordering
    /// against another model holds whichever way each figure moves.
    Sensitivity(SensitivityArgs),
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
pub(crate) struct TableArgs {
    /// Netlists (.toml or .nir).
    #[arg(required = true)]
    pub(crate) nets: Vec<PathBuf>,
    /// Chip models, comma-separated or repeated (names from hw-models/ or paths);
    /// `all` for every model in hw-models/.
    #[arg(long, value_delimiter = ',', required = true)]
    pub(crate) hw: Vec<String>,
    /// Timesteps (default: each netlist's own).
    #[arg(long)]
    pub(crate) steps: Option<u32>,
    /// Write the table as Markdown to this file (atomically), with the command that
    /// wrote it.
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    /// Hold self-timed chips to the network's dt per step (one time basis with the
    /// chips that keep real time).
    #[arg(long)]
    pub(crate) hold_to_dt: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct DiffArgs {
    /// The old document (a mapping artifact from `compile -o`, or a summary.json).
    pub(crate) old: PathBuf,
    /// The new document, of the same kind.
    pub(crate) new: PathBuf,
    /// A budget METRIC=+N% (relative increase), METRIC=+N (absolute) or METRIC=exact
    /// (repeatable), e.g. --budget cores=+0 --budget router_entries=+5%.
    #[arg(long, value_name = "METRIC=LIMIT")]
    pub(crate) budget: Vec<String>,
    /// A TOML file with a [budget] table of METRIC = "LIMIT" lines.
    #[arg(long)]
    pub(crate) budget_file: Option<PathBuf>,
    /// Print the diff and the breaches as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Itemised changes to list.
    #[arg(long, default_value_t = 20)]
    pub(crate) max_items: usize,
}

#[derive(Subcommand, Debug)]
pub(crate) enum HwCmd {
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
pub(crate) struct CompileArgs {
    /// The netlist to compile.
    pub(crate) net: PathBuf,
    /// The chip model: a name from hw-models/ (e.g. spinnaker1-spinn5) or a path.
    #[arg(long)]
    pub(crate) hw: String,
    /// Write the mapping artifact (JSON) here.
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    /// Seed of placement refinement.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Firing rate (Hz) assumed for neurons when estimating traffic.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) assumed_rate: f64,
    /// Placement refinement moves (default: 200 per slice, at most 2,000,000; 0 turns
    /// refinement off).
    #[arg(long)]
    pub(crate) placement_budget: Option<u64>,
    /// At most N neurons per core for population POP (repeatable).
    #[arg(long, value_name = "POP=N", value_parser = parse_pop_cap)]
    pub(crate) neurons_per_core: Vec<(String, u32)>,
    /// On a hybrid chip model: put population POP on PART (`cores`, or a part's family
    /// or model name) instead of where the compiler would (repeatable).
    #[arg(long, value_name = "POP=PART", value_parser = parse_assign)]
    pub(crate) assign: Vec<(String, String)>,
    /// Override the netlist's scale.
    #[arg(long)]
    pub(crate) scale: Option<f64>,
    /// Resize a board-built machine to this many boards.
    #[arg(long)]
    pub(crate) boards: Option<u32>,
    /// A dead chip `X,Y` (repeatable).
    #[arg(long, value_name = "X,Y")]
    pub(crate) dead_chip: Vec<String>,
    /// A dead core `X,Y,CORE` (repeatable).
    #[arg(long, value_name = "X,Y,CORE")]
    pub(crate) dead_core: Vec<String>,
    /// A dead link `X,Y,DIRECTION` (repeatable; directions: east, north_east, north,
    /// west, south_west, south).
    #[arg(long, value_name = "X,Y,DIR")]
    pub(crate) dead_link: Vec<String>,
    /// Print the resource report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) mem: MemoryLimit,
}

#[derive(clap::Args, Debug, Clone, Copy)]
pub(crate) struct MemoryLimit {
    /// Refuse networks whose estimated memory exceeds this many GiB (default: 80 % of
    /// this machine's memory).
    #[arg(long, value_name = "GIB")]
    pub(crate) max_memory: Option<f64>,
}

impl MemoryLimit {
    pub(crate) fn bytes(self) -> (f64, String) {
        const GIB: f64 = (1u64 << 30) as f64;
        if let Some(g) = self.max_memory {
            return (g * GIB, "set by --max-memory".to_string());
        }
        neuromap_pipeline::default_memory_limit()
    }
}

/// Builds the network within the memory limit; the error says what to change.
pub(crate) fn build(
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
pub(crate) struct NetworkArgs {
    /// The netlist (.toml) or NIR graph (.nir).
    pub(crate) net: PathBuf,
    #[command(flatten)]
    pub(crate) nir: NirArgs,
    /// Timesteps to simulate (default: the netlist's `steps`, else 1000).
    #[arg(long)]
    pub(crate) steps: Option<u32>,
    /// Override the netlist's seed.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Override the netlist's scale (population sizes and total synapse counts).
    #[arg(long)]
    pub(crate) scale: Option<f64>,
}

impl NetworkArgs {
    /// Loads the netlist with the overrides applied, and the steps to run.
    pub(crate) fn load(&self, color: bool) -> Result<(Netlist, u32), Failure> {
        let n = load_with_nir(&self.net, self.seed, self.scale, &self.nir.options(self.seed), color)?;
        let steps = self.steps.or(n.steps).unwrap_or(1000);
        Ok((n, steps))
    }
}

/// How a NIR graph becomes a network (ignored for netlists).
#[derive(clap::Args, Debug, Clone, Copy)]
pub(crate) struct NirArgs {
    /// NIR graphs: seconds of NIR time per step (continuous-time parameters are
    /// discretised with it; discrete-time exports such as Sinabs' expect 1).
    #[arg(long, default_value_t = 1e-3, value_name = "SECONDS")]
    pub(crate) nir_dt: f64,
    /// NIR graphs: spike probability per step of every input neuron (NIR files carry
    /// no input data).
    #[arg(long, default_value_t = 0.1, value_name = "P")]
    pub(crate) input_p: f64,
    /// NIR graphs: the most weights a composition of weight nodes may spell out
    /// (convolutions and poolings that compose into one keep only their kernel).
    #[arg(long, default_value_t = neuromap_import::nir::MAX_WEIGHTS, value_name = "N")]
    pub(crate) nir_max_weights: u64,
}

impl NirArgs {
    pub(crate) fn options(self, seed: Option<u64>) -> neuromap_import::nir::NirOptions {
        neuromap_import::nir::NirOptions {
            dt_s: self.nir_dt,
            input_p: self.input_p,
            seed: seed.unwrap_or(1),
            max_weights: self.nir_max_weights,
        }
    }
}

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// The chip model: a name from hw-models/ (e.g. spinnaker1-spinn5) or a path.
    #[arg(long)]
    pub(crate) hw: String,
    /// Seed of placement refinement.
    #[arg(long, default_value_t = 1)]
    pub(crate) placement_seed: u64,
    /// Resize a board-built machine to this many boards.
    #[arg(long)]
    pub(crate) boards: Option<u32>,
    /// Output folder (default: out/<network name>-<model>).
    #[arg(long, short)]
    pub(crate) out: Option<PathBuf>,
    /// Write no files.
    #[arg(long)]
    pub(crate) no_output: bool,
    /// Worker threads of the chip simulator (results do not depend on it).
    #[arg(long, default_value_t = 1)]
    pub(crate) threads: usize,
    /// A link `X,Y,DIRECTION` that fails when the run starts (repeatable): the tables
    /// still route through it, so packets take the emergency route or are lost.
    #[arg(long, value_name = "X,Y,DIR")]
    pub(crate) fail_link: Vec<String>,
    /// Probability that a packet is lost on each link it crosses (seeded by the
    /// network's seed).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub(crate) drop_rate: f64,
    /// Seed of the random packet drops.
    #[arg(long, default_value_t = 0)]
    pub(crate) fault_seed: u64,
    /// Stop cleanly this many seconds of wall time after the run starts: the
    /// simulation, then its checks, stop after their current step, and the report and
    /// files cover what was done (Ctrl-C and SIGTERM do the same). Reached before the
    /// simulation starts, the run quits with an error.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub(crate) time_limit: Option<f64>,
    /// Set the ARM-core chip's `arith.rounding` (its products: truncate, nearest or
    /// stochastic); the chip and the quantised model it is checked against both use it.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(neuromap_hw::family::ROUNDING_MODES))]
    pub(crate) rounding: Option<String>,
    /// Set the ARM-core chip's `arith.format` (its neuron state: s16.15 fixed point or
    /// f32); the chip and the quantised model it is checked against both use it.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(neuromap_hw::family::FORMATS))]
    pub(crate) format: Option<String>,
    /// Set the ARM-core chip's `arith.constants`: where the Izhikevich kernel holds
    /// its products' constants (`state`, or `wide`: those in [0, 2) in u1.31).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(neuromap_hw::family::CONSTANTS))]
    pub(crate) constants: Option<String>,
    /// Also run the network on this binary-network model and print both side by side
    /// with their ratios (binary-network families: threshold-logic, mac-bnn).
    #[arg(long, value_name = "MODEL")]
    pub(crate) compare: Option<String>,
    /// At most N neurons per core for population POP (repeatable; arm-core models),
    /// as sPyNNaker's set_number_of_neurons_per_core.
    #[arg(long, value_name = "POP=N", value_parser = parse_pop_cap)]
    pub(crate) neurons_per_core: Vec<(String, u32)>,
    /// Timing closure (arm-core models): cut the populations whose cores overrun the
    /// tick into smaller slices and run again, until real time is kept or slicing
    /// cannot help; the report says what changed.
    #[arg(long)]
    pub(crate) fit_real_time: bool,
    /// Arm-core models: simulate the chip alone, without the quantised model and the
    /// f64 reference it is checked against (for runs too large to simulate three
    /// times, and for timing the chip simulator); the report says nothing was checked.
    #[arg(long)]
    pub(crate) no_check: bool,
    /// On a chip whose neurons take one weight per type of input axon (TrueNorth: 4
    /// types per core), give each neuron the mean weight of each type's axons when the
    /// network's weights cannot be expressed, and report the weight error (default:
    /// refuse, naming the neuron and the weights it needs).
    #[arg(long)]
    pub(crate) quantise_axon_types: bool,
    /// Price a self-timed chip (crossbar, neurocore, binary) as if each step lasted at
    /// least the network's dt, the time basis of a chip that keeps real time.
    #[arg(long)]
    pub(crate) hold_to_dt: bool,
    /// On a hybrid chip model: put population POP on PART (`cores`, or a part's family
    /// or model name) instead of where the compiler would (repeatable).
    #[arg(long, value_name = "POP=PART", value_parser = parse_assign)]
    pub(crate) assign: Vec<(String, String)>,
    #[command(flatten)]
    pub(crate) mem: MemoryLimit,
}

/// `POP=N` with N ≥ 1.
/// A time in seconds: finite, more than 0, at most a year.
pub(crate) fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 3.2e7 => Ok(x),
        _ => Err(format!("`{s}`: expected seconds, a number more than 0 and at most 3.2e7 (a year)")),
    }
}

pub(crate) fn parse_pop_cap(s: &str) -> Result<(String, u32), String> {
    let (pop, n) = s.split_once('=').ok_or_else(|| format!("`{s}`: expected POP=N"))?;
    let n: u32 = n.trim().parse().map_err(|_| format!("`{s}`: N must be a whole number ≥ 1"))?;
    if n == 0 || pop.trim().is_empty() {
        return Err(format!("`{s}`: expected POP=N with N ≥ 1"));
    }
    Ok((pop.trim().to_string(), n))
}

pub(crate) fn parse_assign(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((pop, part)) if !pop.trim().is_empty() && !part.trim().is_empty() => {
            Ok((pop.trim().to_string(), part.trim().to_string()))
        }
        _ => Err(format!("`{s}`: expected POP=PART (PART: `cores`, or a part's family or model name)")),
    }
}

#[derive(clap::Args, Debug)]
pub(crate) struct SweepArgs {
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// The crossbar model: a name from hw-models/ or a path.
    #[arg(long)]
    pub(crate) hw: String,
    /// Device variation σ values (relative).
    #[arg(long, value_delimiter = ',', default_value = "0,0.05,0.1,0.2,0.4")]
    pub(crate) sigma: Vec<f64>,
    /// Stuck-at rates (nine parts stuck low, one stuck high).
    #[arg(long, value_delimiter = ',', default_value = "0,0.05,0.1,0.2,0.4")]
    pub(crate) stuck: Vec<f64>,
    /// Conductance levels per cell.
    #[arg(long, value_delimiter = ',', default_value = "3,4,8,16,64")]
    pub(crate) levels: Vec<u32>,
    /// ADC resolutions.
    #[arg(long, value_delimiter = ',', default_value = "2,3,4,6,8,12")]
    pub(crate) adc_bits: Vec<u32>,
    /// Seed of device programming and read noise.
    #[arg(long, default_value_t = 1)]
    pub(crate) fault_seed: u64,
    /// Seed of the dataset.
    #[arg(long, default_value_t = 17)]
    pub(crate) data_seed: u64,
    /// Training samples (the readout is trained on the reference's liquid states).
    #[arg(long, default_value_t = 300)]
    pub(crate) train: usize,
    /// Held-out samples.
    #[arg(long, default_value_t = 200)]
    pub(crate) test: usize,
    /// Also run held-out samples on this model (any family) and print the energy ratio;
    /// against a chip that keeps real time, also with the crossbar held to its step.
    #[arg(long, value_name = "MODEL")]
    pub(crate) compare: Option<String>,
    /// Held-out samples run on the --compare model.
    #[arg(long, default_value_t = 5)]
    pub(crate) compare_samples: usize,
    /// Output folder (default: out/<network>-<model>-sweep).
    #[arg(long, short)]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) mem: MemoryLimit,
    /// More networks for a sweep over figures (--set): every point runs on each.
    #[arg(value_name = "MORE_NETS")]
    pub(crate) more: Vec<PathBuf>,
    /// Sweep any figure of the model instead of the crossbar study: KEY=V1,V2,… (e.g.
    /// core.cycles_per_neuron_update=100,200,400 or crossbar.adc_bits=4,6,8); give it
    /// again for more figures (their grid).
    #[arg(long = "set", value_name = "KEY=V1,V2,…")]
    pub(crate) set: Vec<String>,
    /// Run this many points drawn from the grid (seeded by --sample-seed) instead of
    /// all of them.
    #[arg(long)]
    pub(crate) sample: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub(crate) sample_seed: u64,
    /// Metrics to minimise together: the points no other beats in all of them are the
    /// front (energy, energy_allocated, energy_dynamic, energy_per_event, latency, wall,
    /// slowdown, edp, rate_error: the largest population spike-count error against the
    /// f64 reference, area and area_allocated: mm² where the model gives area figures,
    /// footprint: NeuroBench's bytes of weights and state on the chip).
    #[arg(long, value_delimiter = ',', default_value = "energy,latency")]
    pub(crate) objective: Vec<String>,
    /// A condition points must meet to count: `real_time` or METRIC<=X (e.g.
    /// latency<=1e-3); give it again for more.
    #[arg(long)]
    pub(crate) constraint: Vec<String>,
    /// Points run at once (each on one thread; the rows do not depend on it).
    #[arg(long, default_value_t = 1)]
    pub(crate) threads: usize,
    /// Search one figure (one --set, e.g. chip.cores=1..18) for the smallest or
    /// largest value that meets the --constraint, by bisection (feasibility taken to
    /// change once along the values), instead of running every point.
    #[arg(long, value_parser = ["smallest", "largest"])]
    pub(crate) search: Option<String>,
    /// At most this many runs for --search.
    #[arg(long, default_value_t = 20)]
    pub(crate) budget: usize,
}

#[derive(clap::Args, Debug)]
pub(crate) struct SensitivityArgs {
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// The chip model: a name from hw-models/ or a path.
    #[arg(long)]
    pub(crate) hw: String,
    /// The factors each assumed or borrowed figure is scaled by, one at a time.
    #[arg(long, value_delimiter = ',', default_value = "0.5,2")]
    pub(crate) factor: Vec<f64>,
    /// Another model the same network runs on: whether --hw stays below (or above) it
    /// in energy and in latency whichever way each figure moves.
    #[arg(long, value_name = "MODEL")]
    pub(crate) compare: Option<String>,
    /// Points run at once.
    #[arg(long, default_value_t = 1)]
    pub(crate) threads: usize,
    /// Write sensitivity.json here too.
    #[arg(long, short)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct CampaignArgs {
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// The chip model: a name from hw-models/ or a path.
    #[arg(long)]
    pub(crate) hw: String,
    /// Seeds per setting (which chips, cores and links die; which packets drop).
    #[arg(long, default_value_t = 3)]
    pub(crate) seeds: u64,
    /// Numbers of chips dead at compile time (comma-separated, one setting each).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub(crate) dead_chips: Vec<u32>,
    /// Numbers of cores dead at compile time.
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub(crate) dead_cores: Vec<u32>,
    /// Numbers of links dead at compile time (routed around).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub(crate) dead_links: Vec<u32>,
    /// Packet drop rates per link crossing.
    #[arg(long, value_delimiter = ',', value_name = "P,...")]
    pub(crate) drop_rates: Vec<f64>,
    /// Numbers of used links that fail when the run starts.
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub(crate) fail_links: Vec<u32>,
    #[arg(long, default_value_t = 1)]
    pub(crate) threads: usize,
    /// Output folder (default: out/<network>-<model>-campaign).
    #[arg(long, short)]
    pub(crate) out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) mem: MemoryLimit,
}

#[derive(clap::Args, Debug)]
pub(crate) struct FidelityArgs {
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Seeds to average over: the netlist's seed (or --seed) and the next ones;
    /// connectivity, initial state and inputs are redrawn with each.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(crate) seeds: u64,
    /// The arithmetics to compare, comma-separated: `s16.15` (truncating),
    /// `s16.15:nearest`, `s16.15:stochastic`, `f32` (default: all four); `:wide` after
    /// any holds the Izhikevich kernel's constants wide (`s16.15:stochastic:wide`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub(crate) arith: Vec<String>,
    /// Compare the arithmetic of this ARM-core chip model (its `arith.format` and
    /// `arith.rounding`) instead of a list.
    #[arg(long, value_name = "MODEL", conflicts_with = "arith")]
    pub(crate) hw: Option<String>,
    /// The van Rossum kernel's time constant (ms).
    #[arg(long, default_value_t = 10.0, value_name = "MS")]
    pub(crate) tau: f64,
    /// Print the study as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) mem: MemoryLimit,
}

#[derive(clap::Args, Debug)]
pub(crate) struct SimulateArgs {
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Use the f64 reference simulator (the oracle; the default).
    #[arg(long, conflicts_with = "quantised")]
    pub(crate) reference: bool,
    /// Use the quantised functional model (SpiNNaker's s16.15 formats, or --format f32;
    /// 16-bit weights), and report its fidelity against the reference, which runs too.
    #[arg(long)]
    pub(crate) quantised: bool,
    /// How the quantised model rounds its products: truncate (sPyNNaker's), nearest or
    /// stochastic.
    #[arg(long, requires = "quantised", value_parser = clap::builder::PossibleValuesParser::new(neuromap_hw::family::ROUNDING_MODES))]
    pub(crate) rounding: Option<String>,
    /// The quantised model's number format: s16.15 (SpiNNaker 1's, the default) or f32
    /// (single precision, rounded to nearest even; takes no --rounding).
    #[arg(long, requires = "quantised", conflicts_with = "rounding", value_parser = clap::builder::PossibleValuesParser::new(neuromap_hw::family::FORMATS))]
    pub(crate) format: Option<String>,
    /// Where the quantised Izhikevich kernel holds its products' constants: `state`
    /// (sPyNNaker's s16.15, the default) or `wide` (those in [0, 2) in u1.31, as
    /// Hopkins et al.'s solvers do).
    #[arg(long, requires = "quantised", value_parser = clap::builder::PossibleValuesParser::new(neuromap_hw::family::CONSTANTS))]
    pub(crate) constants: Option<String>,
    /// Output folder (default: out/<network name>).
    #[arg(long, short)]
    pub(crate) out: Option<PathBuf>,
    /// Write no files, print the summary only.
    #[arg(long)]
    pub(crate) no_output: bool,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Record the spike trains of sources too (by default only their counts: they
    /// follow from the seed, and a Poisson background can be very large).
    #[arg(long)]
    pub(crate) record_sources: bool,
    /// Also write every synapse to synapses.csv (projection, pre, post, weight, delay).
    #[arg(long)]
    pub(crate) write_synapses: bool,
    #[command(flatten)]
    pub(crate) mem: MemoryLimit,
}
