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

mod args;
mod cmd;
mod ranks;

use args::*;
use cmd::*;

/// Entry point of the `neuromap` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let processes = match ranks::start() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    // Every rank reads the same inputs and finds the same problems: rank 0 tells them.
    QUIET_INPUT.store(!processes.leads(), std::sync::atomic::Ordering::Relaxed);
    let shared =
        matches!(&cli.cmd, Cmd::Run(_) | Cmd::Campaign(_)) || matches!(&cli.cmd, Cmd::Sweep(a) if !a.set.is_empty());
    if !processes.leads() && !shared {
        // Only `run`, `sweep --set` and `campaign` split their work over ranks: the
        // others leave it to rank 0.
        return ExitCode::SUCCESS;
    }
    let r = match cli.cmd {
        Cmd::Check { files, build, mem } => check(&files, build.then_some(mem), color),
        Cmd::Simulate(a) => simulate(&a, color),
        Cmd::Fidelity(a) => fidelity(&a, color),
        Cmd::Run(a) => run(&a, &processes, color),
        Cmd::Models => {
            print!("{}", models_text());
            Ok(())
        }
        Cmd::Compile(a) => compile(&a, color),
        Cmd::Hw(h) => hw(h, color),
        Cmd::Diff(a) => diff(&a, color),
        Cmd::Campaign(a) => campaign(&a, &processes, color),
        Cmd::Snapshot { dir, threads } => corpus(&dir, threads, true, color),
        Cmd::Verify { dir, threads } => corpus(&dir, threads, false, color),
        Cmd::Generate { what, output } => generate(&what, &output),
        Cmd::Table(a) => table(&a, color),
        Cmd::Sweep(a) if !a.set.is_empty() => cmd::dse::sweep_figures(&a, &processes, color),
        Cmd::Sweep(a) => sweep_cmd(&a, color),
        Cmd::Sensitivity(a) => cmd::dse::sensitivity(&a, color),
        Cmd::Sanafe { arch, net, steps, remap, out, no_output } => {
            sanafe_cmd(&arch, &net, steps, remap, out.as_deref(), no_output, color)
        }
        Cmd::Import { file, output, nir, steps, seed } => import(&file, &output, nir.options(seed), steps, color),
    };
    let code = match r {
        Ok(()) => 0,
        Err(Failure::Input) => 1,
        Err(Failure::Budget) => 3,
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    if code != 0 {
        processes.fail(code);
    }
    ExitCode::from(code)
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

/// Set on MPI ranks other than 0: they read the same inputs as rank 0, which prints
/// the diagnostics once.
static QUIET_INPUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn report(diags: &Diagnostics, color: bool) {
    if !diags.is_empty() && !QUIET_INPUT.load(std::sync::atomic::Ordering::Relaxed) {
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
            if !QUIET_INPUT.load(std::sync::atomic::Ordering::Relaxed) {
                eprintln!("{}: {} error(s); nothing was run", path.display(), d.error_count());
            }
            Err(Failure::Input)
        }
    }
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

/// Reads one of neuromap's JSON documents; a syntax error names line and column.
fn read_json(path: &Path, color: bool) -> Result<serde_json::Value, Failure> {
    let name = path.display().to_string();
    let text = neuromap_diag::read_input_text(path).map_err(|e| {
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
        stop: Default::default(),
        map: neuromap_pipeline::MapOptions {
            neurons_per_core: a.neurons_per_core.iter().cloned().collect(),
            fit_real_time: a.fit_real_time,
            hold_to_dt: a.hold_to_dt,
            quantise_axon_types: a.quantise_axon_types,
            assign: a.assign.iter().cloned().collect(),
            part_families: Vec::new(),
        },
        peers: None,
        check: !a.no_check,
    }
}

/// Where `run` writes (`--out`, else out/<network>-<model>).
fn out_dir(out: Option<&Path>, net: &str, model: &str) -> PathBuf {
    out.map(Path::to_path_buf).unwrap_or_else(|| Path::new("out").join(format!("{net}-{model}")))
}

/// Writes the files as the folder `dir`, whole (the previous run's or this one's,
/// never a mix), then says what was written.
fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<(), Failure> {
    eprintln!("writing {} files to {}", files.len(), dir.display());
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
    write::write_folder(dir, &bytes)?;
    let names: Vec<&str> = files.iter().map(|f| f.0).collect();
    println!("\nwrote {} in {}", names.join(", "), dir.display());
    Ok(())
}

/// Ctrl-C and SIGTERM during `run`, and its `--time-limit`, by phase:
///
/// - while the run is prepared (loading, building, compiling) there is nothing to
///   report: the first signal quits at once (exit status 130), and a time limit
///   reached then quits with an error; nothing is written either way;
/// - once the simulation runs, the first signal (or the deadline) stops it after the
///   current step; the checks after it (the quantised and reference models) stop after
///   theirs; the report and the files cover what was done;
/// - a second signal quits at once anywhere. Outputs are written whole (a folder
///   exchanged in one step), so quitting never leaves a mixed folder.
#[derive(Debug)]
struct Interrupts {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    running: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Interrupts {
    /// The stop the pipeline honours: the flag, and the deadline if one was given.
    fn stop(&self, deadline: Option<Instant>) -> neuromap_sim::Stop {
        neuromap_sim::Stop { flag: Some(std::sync::Arc::clone(&self.flag)), deadline, limit: None }
    }

    /// From now on a first signal stops the simulation cleanly instead of quitting.
    fn simulating(&self) {
        self.running.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Quits with an error if the deadline passes before the simulation starts.
    fn watch(&self, deadline: Instant, limit_s: f64) {
        let running = std::sync::Arc::clone(&self.running);
        std::thread::spawn(move || {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            if !running.load(std::sync::atomic::Ordering::SeqCst) {
                eprintln!(
                    "time limit of {limit_s} s reached before the run could stop cleanly (it can once an ARM-core chip simulation runs; before, it is loading, building or compiling): nothing was written"
                );
                std::process::exit(1);
            }
        });
    }
}

fn on_interrupt() -> &'static Interrupts {
    use std::sync::atomic::{AtomicBool, Ordering};
    static IT: std::sync::OnceLock<Interrupts> = std::sync::OnceLock::new();
    IT.get_or_init(|| {
        let flag = std::sync::Arc::new(AtomicBool::new(false));
        let running = std::sync::Arc::new(AtomicBool::new(false));
        let (f, r) = (std::sync::Arc::clone(&flag), std::sync::Arc::clone(&running));
        let installed = ctrlc::set_handler(move || {
            if !r.load(Ordering::SeqCst) {
                eprintln!(
                    "interrupted before the run could stop cleanly (it can once an ARM-core chip simulation runs): nothing was written"
                );
                std::process::exit(130);
            }
            if f.swap(true, Ordering::SeqCst) {
                eprintln!("interrupted again: quitting now");
                std::process::exit(130);
            }
            eprintln!(
                "interrupted: stopping after the current step, then checking and writing what was done (Ctrl-C or SIGTERM again to quit now)"
            );
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will quit at once ({e})");
        }
        Interrupts { flag, running }
    })
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
