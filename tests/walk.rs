//! No panics on user input: every subcommand over every invalid file in the repo
//! (netlists, chip models, documents read back by `diff`, corpora) exits with a
//! failure status that is not Rust's panic code (101), and says why on stderr.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::toml_files;

const PANIC: i32 = 101;

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// Runs the command; returns a description of what went wrong, if anything did.
fn bad(args: &[&str]) -> Option<String> {
    let out =
        Command::new(env!("CARGO_BIN_EXE_neuromap")).args(args).env("NO_COLOR", "1").output().expect("the binary runs");
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let what = format!("neuromap {}", args.join(" "));
    if code == Some(PANIC) || stderr.contains("panicked") {
        Some(format!("{what}: PANICKED\n{stderr}"))
    } else if out.status.success() {
        Some(format!("{what}: succeeded on invalid input"))
    } else if code.is_none() {
        Some(format!("{what}: killed by a signal"))
    } else if stderr.trim().is_empty() {
        Some(format!("{what}: failed without a diagnostic on stderr"))
    } else {
        None
    }
}

#[test]
fn every_subcommand_on_every_invalid_file_fails_cleanly() {
    let tmp = common::scratch_path("walk", "");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = tmp.join("out");
    let o = out.to_str().unwrap();
    let mut problems = Vec::new();
    let mut runs = 0;
    let good_net = "netlists/brunel_1k.toml";
    let good_hw = "spinnaker1-spinn5";
    for f in toml_files("netlists/invalid") {
        let f = f.to_str().unwrap();
        for args in [
            vec!["check", f],
            vec!["check", "--build", f],
            vec!["simulate", f, "--steps", "5", "--no-output"],
            vec!["simulate", "--quantised", f, "--steps", "5", "--no-output"],
            vec!["compile", f, "--hw", good_hw],
            vec!["run", f, "--hw", good_hw, "--steps", "5", "--no-output"],
            vec!["campaign", f, "--hw", good_hw, "--steps", "5", "--seeds", "1", "-o", o],
        ] {
            runs += 1;
            problems.extend(bad(&args));
        }
    }
    for f in files("tests/nir/invalid", "nir") {
        let f = f.to_str().unwrap();
        let net = tmp.join("imported.toml");
        for args in [
            vec!["check", f],
            vec!["import", f, "-o", net.to_str().unwrap()],
            vec!["simulate", f, "--steps", "5", "--no-output"],
            vec!["compile", f, "--hw", good_hw],
            vec!["run", f, "--hw", good_hw, "--steps", "5", "--no-output"],
            vec!["run", f, "--hw", "tulip-40nm", "--steps", "5", "--no-output"],
        ] {
            runs += 1;
            problems.extend(bad(&args));
        }
        assert!(!net.exists(), "import wrote a netlist for the invalid {f}");
    }
    // Binary families: networks they cannot take, and a comparison with a spiking model.
    for args in [
        vec!["run", good_net, "--hw", "tulip-40nm", "--steps", "5", "--no-output"],
        vec!["run", good_net, "--hw", "mac-bnn-40nm", "--steps", "5", "--no-output"],
        vec!["run", "netlists/binary_mlp.toml", "--hw", "tulip-40nm", "--compare", good_hw, "--no-output"],
        vec!["run", "netlists/binary_mlp.toml", "--hw", good_hw, "--compare", "tulip-40nm", "--no-output"],
        vec!["compile", "netlists/binary_mlp.toml", "--hw", "tulip-40nm"],
        vec!["generate", "no-such-example", "-o", o],
        vec!["sanafe", "tests/sanafe/invalid_arch.yaml", "tests/sanafe/example_snn.yaml", "--no-output"],
        vec!["sanafe", "tests/sanafe/example_chip.yaml", "tests/sanafe/invalid_net.yaml", "--no-output"],
        vec!["sanafe", "tests/sanafe/example_chip.yaml", good_net, "--no-output"],
        vec!["sanafe", good_net, "tests/sanafe/example_snn.yaml", "--no-output"],
        vec!["run", "netlists/brunel_1k.toml", "--hw", "truenorth", "--steps", "5", "--no-output"],
        vec!["run", "netlists/microcircuit.toml", "--hw", "loihi", "--steps", "5", "--no-output"],
        vec!["sweep", good_net, "--hw", "rram-lsm-40nm", "--train", "5", "--test", "5", "-o", o],
        vec!["sweep", "netlists/lsm.toml", "--hw", good_hw, "-o", o],
        vec!["run", "netlists/brunel_10k.toml", "--hw", "rram-lsm-40nm", "--steps", "5", "--no-output"],
        vec!["run", "netlists/lsm.toml", "--hw", "rram-lsm-40nm", "--compare", "tulip-40nm", "--no-output"],
        vec!["import", good_net, "-o", o],
        vec!["sweep", good_net, "--hw", good_hw, "--set", "no.figure=1", "-o", o],
        vec!["sweep", good_net, "--hw", good_hw, "--set", "chip.cores=1.5", "-o", o],
        vec!["sweep", good_net, "--hw", good_hw, "--set", "timing.tick_s=1e-3", "--constraint", "speed<=2", "-o", o],
        vec!["sensitivity", good_net, "--hw", good_hw, "--compare", "no-such-model"],
        vec![
            "sweep",
            good_net,
            "--hw",
            good_hw,
            "--set",
            "chip.cores=1..4",
            "--set",
            "timing.tick_s=1e-3",
            "--search",
            "smallest",
            "--constraint",
            "real_time",
            "-o",
            o,
        ],
        vec!["sweep", good_net, "--hw", good_hw, "--set", "chip.cores=1..4", "--search", "smallest", "-o", o],
        vec!["sweep", good_net, "--hw", good_hw, "--set", "chip.cores=4..1", "-o", o],
    ] {
        runs += 1;
        problems.extend(bad(&args));
    }
    for f in toml_files("hw-models/invalid") {
        let f = f.to_str().unwrap();
        for args in [
            vec!["hw", "show", f],
            vec!["compile", good_net, "--hw", f],
            vec!["run", good_net, "--hw", f, "--steps", "5", "--no-output"],
            vec!["campaign", good_net, "--hw", f, "--steps", "5", "--seeds", "1", "-o", o],
        ] {
            runs += 1;
            problems.extend(bad(&args));
        }
    }
    let good_json = tmp.join("good.json");
    assert!(
        Command::new(env!("CARGO_BIN_EXE_neuromap"))
            .args(["compile", good_net, "--hw", good_hw, "-o", good_json.to_str().unwrap()])
            .output()
            .unwrap()
            .status
            .success()
    );
    for f in files("tests/invalid-json", "json") {
        let f = f.to_str().unwrap();
        for args in [vec!["diff", f, good_json.to_str().unwrap()], vec!["diff", good_json.to_str().unwrap(), f]] {
            runs += 1;
            problems.extend(bad(&args));
        }
    }
    // Corpora: a missing corpus.toml, a bad one, a case whose files do not exist.
    for (name, body) in [
        ("missing", None),
        ("syntax", Some("[[case]\nnetlist = 1")),
        ("types", Some("[[case]]\nnetlist = 1\nhw = \"x\"\n")),
        ("nocase", Some("[corpus]\nsteps = 10\n")),
        ("absent", Some("[[case]]\nnetlist = \"nope.toml\"\nhw = [\"nope\"]\n")),
        ("budget", Some("[[case]]\nnetlist = \"nope.toml\"\nhw = [\"nope\"]\n[budget]\nenergy = \"lots\"\n")),
    ] {
        let d = tmp.join(format!("corpus-{name}"));
        std::fs::create_dir_all(&d).unwrap();
        if let Some(b) = body {
            std::fs::write(d.join("corpus.toml"), b).unwrap();
        }
        for cmd in ["snapshot", "verify"] {
            runs += 1;
            problems.extend(bad(&[cmd, d.to_str().unwrap()]));
        }
    }
    // Flags with bad values.
    for args in [
        vec!["run", good_net, "--hw", good_hw, "--fail-link", "99,99,east", "--no-output"],
        vec!["run", good_net, "--hw", good_hw, "--fail-link", "0,0,up", "--no-output"],
        vec!["run", good_net, "--hw", good_hw, "--drop-rate", "2", "--no-output"],
        vec!["compile", good_net, "--hw", good_hw, "--dead-chip", "1"],
        vec!["compile", good_net, "--hw", good_hw, "--boards", "0"],
        vec!["campaign", good_net, "--hw", good_hw, "--drop-rates", "-1", "-o", o],
        vec!["hw", "describe", "no-such-family"],
        vec!["hw", "show", "no-such-model"],
        vec!["diff", "no-such-file.json", "other.json"],
    ] {
        runs += 1;
        problems.extend(bad(&args));
    }
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(runs > 300, "only {runs} runs");
    assert!(problems.is_empty(), "{} of {runs} runs went wrong:\n{}", problems.len(), problems.join("\n"));
    assert!(!Path::new(o).exists());
}
