//! The ARM-core chip's rounding (`arith.rounding`: truncate, nearest, stochastic) is a
//! model figure the chip and its quantised model share: in every mode the chip equals
//! the quantised model bit for bit, stochastic rounding gives the same spikes on 1, 2
//! and 4 threads, and the modes compute differently.

fn run(mode: &str, threads: usize) -> neuromap::pipeline::Outcome {
    run_in("s16.15", mode, threads).unwrap()
}

fn run_in(format: &str, mode: &str, threads: usize) -> Result<neuromap::pipeline::Outcome, String> {
    let o = neuromap::pipeline::RunOptions { steps: Some(1000), threads, ..Default::default() };
    let mut job = neuromap::pipeline::load_job("netlists/cuba.toml", "spinnaker1-spinn5", &o).unwrap();
    job.model.set_choice("arith", "rounding", mode, "a test").unwrap();
    job.model.set_choice("arith", "format", format, "a test").unwrap();
    neuromap::pipeline::run_job(job, &mut |_| true).map_err(|e| e.to_string())
}

#[test]
fn every_rounding_mode_keeps_the_chip_equal_to_its_model_on_any_thread_count() {
    let mut spikes = Vec::new();
    for mode in ["truncate", "nearest", "stochastic"] {
        let one = run(mode, 1);
        assert!(one.same_as_functional, "{mode}: the chip differs from the quantised model");
        assert!(one.chip.result.neuron_spikes(&one.job.net) > 0, "{mode}: silent");
        for threads in [2, 4] {
            let other = run(mode, threads);
            assert!(other.same_as_functional, "{mode}, {threads} threads");
            assert_eq!(other.chip.result.spikes, one.chip.result.spikes, "{mode}: {threads} threads differ from 1");
        }
        spikes.push(one.chip.result.spikes.clone());
    }
    assert_ne!(spikes[0], spikes[1], "truncate and nearest computed the same spikes");
    assert_ne!(spikes[1], spikes[2], "nearest and stochastic computed the same spikes");
}

/// A model file may set the mode by name; any other name is refused with the list.
#[test]
fn a_model_names_its_rounding() {
    let text = std::fs::read_to_string("hw-models/spinnaker1.toml").unwrap();
    let with = |v: &str| format!("{text}\n[arith]\nrounding = {{ value = \"{v}\", assumption = \"a test\" }}\n");
    let m = neuromap::hw::load_str("r.toml", &with("stochastic")).unwrap();
    let f = m.figure("arith", "rounding").unwrap();
    assert_eq!(m.choice_name(f), Some("stochastic"));
    let e = neuromap::hw::load_str("r.toml", &with("banker")).unwrap_err().to_string();
    assert!(e.contains("truncate, nearest, stochastic") && e.contains("`banker` is not"), "{e}");
}

/// In f32 (SpiNNaker 2's format) the chip equals the f32 quantised model on any thread
/// count, computes otherwise than s16.15, and takes no rounding mode but the FPU's.
#[test]
fn an_f32_chip_equals_its_f32_model_and_takes_no_rounding_mode() {
    let one = run_in("f32", "truncate", 1).unwrap();
    assert!(one.same_as_functional, "the f32 chip differs from the f32 quantised model");
    assert!(one.run_summary(false).to_text().contains("spinnaker1-spinn5, f32"));
    let two = run_in("f32", "truncate", 2).unwrap();
    assert_eq!(two.chip.result.spikes, one.chip.result.spikes, "f32: 2 threads differ from 1");
    assert_ne!(
        one.chip.result.spikes,
        run("truncate", 1).chip.result.spikes,
        "f32 and s16.15 computed the same spikes"
    );
    for mode in ["nearest", "stochastic"] {
        let e = run_in("f32", mode, 1).map(|_| ()).unwrap_err();
        assert!(e.contains("rounds every product to nearest even") && e.contains(mode), "{e}");
    }
}

fn neuromap(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_neuromap"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// `neuromap fidelity` runs the f64 reference and each arithmetic: on the Izhikevich
/// netlist (no randomness) f32 keeps more regular-spiking spikes at their f64 steps than
/// any s16.15 mode; over seeds a chaotic network's error has a spread; a mode f32 does
/// not take is refused.
#[test]
fn the_fidelity_study_compares_every_arithmetic() {
    let out = neuromap(&["fidelity", "netlists/izhikevich.toml", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cells = v["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 8, "2 populations × 4 arithmetics");
    let same = |pop: &str, a: &str| {
        cells.iter().find(|c| c["population"] == pop && c["arithmetic"] == a).unwrap()["same_step"]["mean"]
            .as_f64()
            .unwrap()
    };
    let f32 = same("regular_spiking", "f32");
    for mode in ["truncate", "nearest", "stochastic"] {
        let s = same("regular_spiking", &format!("s16.15 {mode}"));
        assert!(f32 > s && s > 0.3, "f32 {f32} against s16.15 {mode} {s}");
    }
    let out = neuromap(&[
        "fidelity",
        "netlists/cuba.toml",
        "--steps",
        "500",
        "--seeds",
        "3",
        "--arith",
        "s16.15,f32",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seeds"], serde_json::json!([1, 2, 3]));
    let c = &v["cells"][0];
    assert!(c["count_error"]["sd"].as_f64().unwrap() > 0.0, "no spread over seeds: {c}");
    // A chip model's own arithmetic: SpiNNaker 2's is f32; a neurocore model has none here.
    let out = neuromap(&["fidelity", "netlists/izhikevich.toml", "--hw", "spinnaker2", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["arithmetics"], serde_json::json!(["f32"]));
    let out = neuromap(&["fidelity", "netlists/izhikevich.toml", "--hw", "loihi"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("family `neurocore`"));
    let out = neuromap(&["fidelity", "netlists/izhikevich.toml", "--arith", "f32:nearest"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("f32 rounds to nearest even"), "{err}");
}
