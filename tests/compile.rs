//! Golden mappings: every example netlist × every shipped chip model → the resource
//! report (or the error that says why it does not fit), as readable snapshots.
//!
//! The microcircuit runs at scale 0.02 here; `benches/` compiles it at full scale.

use std::path::{Path, PathBuf};

use neuromap::compile::{CompileOptions, artifact, compile};
use neuromap::import::load_path;
use neuromap::pipeline::any::{RunPath, run_path};

mod common;
use common::toml_files as files;

fn network(path: &Path) -> neuromap::ir::Network {
    let mut n = load_path(path).unwrap();
    if n.spec.name == "microcircuit" {
        n.spec.scale = 0.02;
    }
    n.spec.build().unwrap()
}

#[test]
fn golden_mappings() {
    let opts = CompileOptions::default();
    for net_path in files("netlists") {
        let net = network(&net_path);
        for hw_path in files("hw-models") {
            let hw = neuromap::hw::load_path(&hw_path).unwrap();
            if run_path(&hw) != RunPath::ArmCore {
                continue; // the other families map themselves: tests/{binary,crossbar,neurocore}.rs
            }
            // A hybrid chip: the compiler's assignment of populations to its parts.
            let plan = neuromap::pipeline::hybrid::plan(&net, &hw, &Default::default());
            let text = match plan {
                Err(e) => format!("error: {e}\n"),
                Ok(plan) => {
                    let parts = plan.as_ref().map(|h| h.assignment.parts.clone()).unwrap_or_default();
                    let opts = CompileOptions { parts, ..opts.clone() };
                    let net = plan.as_ref().map_or(&net, |h| &h.functional);
                    match compile(net, &hw, &opts) {
                        Ok(m) => {
                            let mut t = neuromap::report::mapping_text(&artifact::summary(net, &hw, &m, &opts));
                            if let Some(h) = &plan {
                                t.push_str(&neuromap::pipeline::hybrid::placed_text(&h.assignment.placed));
                            }
                            t
                        }
                        Err(e) => format!("error: {e}\n"),
                    }
                }
            };
            let name = format!("{}@{}", net_path.file_stem().unwrap().to_string_lossy(), hw.name);
            insta::assert_snapshot!(name, text);
        }
    }
}

/// The network is built with rayon; the mapping artifact must not depend on how many
/// threads built it.
#[test]
fn artifacts_are_identical_for_one_and_many_threads() {
    let opts = CompileOptions::default();
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    for name in ["brunel_10k", "synfire", "microcircuit"] {
        let path = PathBuf::from(format!("netlists/{name}.toml"));
        let pool = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
        let one = pool(1).install(|| network(&path));
        let many = pool(4).install(|| network(&path));
        let a = compile(&one, &hw, &opts).unwrap();
        let b = compile(&many, &hw, &opts).unwrap();
        assert_eq!(artifact::to_json(&one, &hw, &a, &opts), artifact::to_json(&many, &hw, &b, &opts), "{name}");
    }
}

#[test]
fn invalid_chip_models_are_diagnosed() {
    for path in files("hw-models/invalid") {
        let diags = match neuromap::hw::load_path(&path) {
            Ok(_) => panic!("{} loaded, but it is in the invalid corpus", path.display()),
            Err(d) => d,
        };
        assert!(diags.has_errors());
        for d in diags.iter() {
            assert!(d.span.is_some(), "{d}: no line and column");
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(name, neuromap_cli::render_diagnostics(&diags, false));
    }
}

/// Every shipped model loads, and every figure in it has a provenance.
#[test]
fn shipped_models_load_with_provenance() {
    for path in files("hw-models") {
        let m = neuromap::hw::load_path(&path).unwrap_or_else(|d| panic!("{}: {d}", path.display()));
        assert!(!m.figures.is_empty());
        for f in &m.figures {
            let text = f.provenance.text();
            assert!(text.len() > 10, "{}: {}.{} has a thin provenance", m.name, f.section, f.key);
        }
    }
}

/// The errors that say what does not fit, with demand and capacity.
#[test]
fn resource_errors_name_the_resource_the_demand_and_the_capacity() {
    let opts = CompileOptions::default();
    let brunel = network(Path::new("netlists/brunel_10k.toml"));
    let base = std::fs::read_to_string("hw-models/spinnaker1.toml").unwrap();
    let variant = |name: &str, from: &str, to: &str, machine: &str| {
        assert!(base.contains(from), "{from}");
        let text = base.replace(from, to).replace("width = 1\nheight = 1", machine);
        neuromap::hw::load_str(name, &text).unwrap()
    };
    let mut cases: Vec<(&str, String)> = Vec::new();
    // Dead links cut chip (0, 0) off the rest of a SpiNN-3 board.
    let mut cut = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn3.toml")).unwrap();
    let faults = neuromap::hw::Faults {
        links: ["east", "north_east", "north"].iter().map(|d| (0, 0, d.to_string())).collect(),
        ..Default::default()
    };
    cut.apply_faults(&faults).unwrap();
    cases.push(("dead_region", compile(&brunel, &cut, &opts).unwrap_err().to_string()));
    // A router too small for the tables even after compression.
    let tiny_router = variant(
        "tiny-router.toml",
        "router_entries = { value = 1023,",
        "router_entries = { value = 3,",
        "width = 4\nheight = 4",
    );
    cases.push(("router_entries", compile(&brunel, &tiny_router, &opts).unwrap_err().to_string()));
    // A chip whose shared memory cannot hold one neuron's synapses.
    let tiny_sdram = variant(
        "tiny-sdram.toml",
        "sdram_bytes = { value = 123469792,",
        "sdram_bytes = { value = 40000,",
        "width = 4\nheight = 4",
    );
    cases.push(("shared_memory", compile(&brunel, &tiny_sdram, &opts).unwrap_err().to_string()));
    // Delays longer than a core and its delay extensions hold.
    let long = "[network]\ndt = 0.1\n[[population]]\nname = \"a\"\nsize = 10\nmodel = \"lif\"\n\
                [[projection]]\npre = \"a\"\npost = \"a\"\nconnector = \"one_to_one\"\nweight = 1.0\ndelay = 20.0\n";
    let long = neuromap::import::load_str("long-delay.toml", long).unwrap().spec.build().unwrap();
    let board = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    cases.push(("delay_range", compile(&long, &board, &opts).unwrap_err().to_string()));
    let text: String = cases.iter().map(|(k, e)| format!("{k}:\n  {e}\n")).collect();
    insta::assert_snapshot!("resource_errors", text);
}
