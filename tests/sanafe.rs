//! SANA-FE's own files: its architectures become chip models, its networks run with
//! their mappings; the same YAML files give SANA-FE's energy; mistakes are named.

mod common;
use common::scratch_file;

use std::path::Path;

use neuromap::import::sanafe::{load_arch, load_net};
use neuromap::pipeline::neurocore::run_neurocore_placed;

fn run(arch: &str, net: &str, steps: u32) -> neuromap::pipeline::neurocore::NcoreOutcome {
    let model = load_arch(Path::new(arch)).unwrap_or_else(|d| panic!("{arch}: {d}"));
    let cpt = model.get("core", "cores_per_tile").unwrap() as u32;
    let sn = load_net(Path::new(net), cpt).unwrap_or_else(|d| panic!("{net}: {d}"));
    let built = sn.netlist.spec.build().unwrap();
    let job = neuromap::pipeline::Job::new(Some(sn.netlist.spec), built, model, steps);
    run_neurocore_placed(job, sn.placement).unwrap()
}

/// SANA-FE's own example files give SANA-FE's figures. SANA-FE 2.2.9 on the same
/// files for 20 steps (`benches/sanafe/yaml_examples.py` prints them): total energy (J),
/// simulated time (s), synaptic events and neurons fired. With SANA-FE's detailed
/// schedule of messages, the simulated time agrees to the digits SANA-FE prints.
#[test]
fn sanafe_files_give_sanafes_figures() {
    let cases = [
        ("tests/sanafe/example_chip.yaml", "tests/sanafe/example_snn.yaml", 1.64e-09, 2.04e-07, 5, 3, 1e-4),
        ("tests/sanafe/tutorial_arch.yaml", "tests/sanafe/tutorial_snn.yaml", 8.4e-11, 8.1e-08, 3, 3, 1e-4),
        ("tests/sanafe/loihi.yaml", "tests/sanafe/tiny_snn.yaml", 9.9282e-09, 1.33534e-05, 72, 42, 1e-4),
        // Written by SANA-FE's own `Network.save` (its edges one a line, read line by line).
        ("tests/sanafe/loihi.yaml", "tests/sanafe/saved_snn.yaml", 1.59378e-08, 1.37514e-05, 96, 40, 1e-4),
    ];
    for (arch, net, energy, time, events, fired, time_tolerance) in cases {
        let out = run(arch, net, 20);
        let (e, t) = (out.energy.total(neuromap::cost::Basis::Dynamic), out.counts.step_s.iter().sum::<f64>());
        assert!((e - energy).abs() <= 1e-9 * energy, "{net}: energy {e:e} J, SANA-FE {energy:e}");
        assert_eq!(out.result.total_synaptic_events(), events, "{net}: synaptic events");
        assert_eq!(out.result.spike_counts.iter().sum::<u64>(), fired, "{net}: neurons fired");
        assert!((t - time).abs() <= time_tolerance * time, "{net}: time {t:e} s, SANA-FE {time:e}");
    }
}

/// The architecture file carries the same figures as hw-models/loihi.toml, but for the
/// north-south hop (SANA-FE 4.2 pJ, Davies 2018 4.0 pJ).
#[test]
fn sanafes_loihi_is_ours() {
    let theirs = load_arch(Path::new("tests/sanafe/loihi.yaml")).unwrap();
    let ours = neuromap::pipeline::load_hw("loihi").unwrap();
    for f in &ours.figures {
        // SANA-FE prices events only: the static power is ours alone.
        if (f.section == "energy" || f.section == "timing") && f.key != "static_w" {
            let t = theirs.get(f.section, f.key).unwrap_or_else(|| panic!("{}.{}", f.section, f.key));
            if f.key == "hop_y_j" {
                assert_eq!((t, f.value), (4.2e-12, 4.0e-12));
            } else {
                assert!(
                    (t - f.value).abs() <= 1e-9 * f.value.abs(),
                    "{}.{}: {t} against {}",
                    f.section,
                    f.key,
                    f.value
                );
            }
        }
    }
}

#[test]
fn sanafe_examples_run() {
    let mut text = String::new();
    for (arch, net) in [
        ("tests/sanafe/example_chip.yaml", "tests/sanafe/example_snn.yaml"),
        ("tests/sanafe/tutorial_arch.yaml", "tests/sanafe/tutorial_snn.yaml"),
        ("tests/sanafe/loihi.yaml", "tests/sanafe/tiny_snn.yaml"),
    ] {
        let out = run(arch, net, 20);
        text.push_str(&format!("== {net} on {arch}\n{}\n", out.summary()));
    }
    insta::assert_snapshot!("sanafe_examples", text);
}

#[test]
fn mistakes_are_named() {
    let mut text = String::new();
    for d in load_net(Path::new("tests/sanafe/invalid_net.yaml"), 4).unwrap_err().iter() {
        text.push_str(&format!("{d}\n"));
    }
    for d in load_arch(Path::new("tests/sanafe/invalid_arch.yaml")).unwrap_err().iter() {
        text.push_str(&format!("{d}\n"));
    }
    for d in load_arch(Path::new("tests/sanafe/huge_mesh.yaml")).unwrap_err().iter() {
        text.push_str(&format!("{d}\n"));
    }
    let bad = scratch_file("bad", "yaml", "network: [unclosed\n");
    for d in load_net(&bad, 4).unwrap_err().iter() {
        text.push_str(&format!("{}\n", d.message));
    }
    std::fs::remove_file(&bad).unwrap();
    insta::assert_snapshot!("sanafe_mistakes", text);
}

/// A network file as SANA-FE's `Network.save` writes it has its edges read line by line
/// (the rest as YAML); the same file with its edges written otherwise (here, an item
/// over two lines) is read as YAML throughout, and the two give the same network.
#[test]
fn edges_read_line_by_line_equal_the_yaml_reading() {
    use neuromap::import::sanafe::load_net_str;
    let fast = std::fs::read_to_string("tests/sanafe/saved_snn.yaml").unwrap();
    assert!(fast.contains("\n  edges:\n    - in.0 -> liquid.2: {weight: "), "the layout SANA-FE writes");
    let slow = fast.replacen("    - in.0 -> liquid.2: {weight: ", "    - in.0 -> liquid.2:\n        {weight: ", 1);
    let (a, b) = (load_net_str("saved", &fast, 4).unwrap(), load_net_str("saved", &slow, 4).unwrap());
    assert_eq!(a.netlist.spec, b.netlist.spec);
    assert_eq!(a.placement, b.placement);
    let synapses: usize = a
        .netlist
        .spec
        .projections
        .iter()
        .map(|p| match &p.connector {
            neuromap::ir::connect::Connector::List { entries } => entries.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(synapses, fast.matches(" -> ").count(), "one synapse an edge");
    // A mistake in an edge is named by its place in the list, read either way.
    let bad = fast.replacen("in.0 -> liquid.2", "in.0 -> nowhere.2", 1);
    let e = load_net_str("saved", &bad, 4).unwrap_err().to_string();
    assert!(e.contains("network.edges[0]") && e.contains("not declared"), "{e}");
}
