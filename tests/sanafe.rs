//! SANA-FE's own files: its architectures become chip models, its networks run with
//! their mappings; the same YAML files give SANA-FE's energy; mistakes are named.

use std::path::Path;

use neuromap::import::sanafe::{load_arch, load_net};
use neuromap::pipeline::neurocore::run_neurocore_placed;

fn run(arch: &str, net: &str, steps: u32) -> neuromap::pipeline::neurocore::NcoreOutcome {
    let model = load_arch(Path::new(arch)).unwrap_or_else(|d| panic!("{arch}: {d}"));
    let cpt = model.get("core", "cores_per_tile").unwrap() as u32;
    let sn = load_net(Path::new(net), cpt).unwrap_or_else(|d| panic!("{net}: {d}"));
    let built = sn.netlist.spec.build().unwrap();
    let job = neuromap::pipeline::Job {
        spec: Some(sn.netlist.spec),
        net: built,
        model,
        steps,
        placement_seed: 1,
        threads: 1,
        faults: Default::default(),
        max_memory: None,
        stop: Default::default(),
        map: Default::default(),
    };
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
    std::fs::write(std::env::temp_dir().join("neuromap-bad.yaml"), "network: [unclosed\n").unwrap();
    for d in load_net(&std::env::temp_dir().join("neuromap-bad.yaml"), 4).unwrap_err().iter() {
        text.push_str(&format!("{}\n", d.message));
    }
    insta::assert_snapshot!("sanafe_mistakes", text);
}
