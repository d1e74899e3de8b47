//! NIR import: every file in tests/nir/ (real exports from Norse, Rockpool, Sinabs,
//! the NIR paper and `nir` 1.0.8) imports, maps and runs on a SpiNNaker model with the
//! chip equal to the quantised model; golden summaries of what each file became; a
//! differential test of the LIF discretisation against spike times computed here; the
//! binary graph on the binary-network chips; invalid files' diagnostics; round trips
//! through `neuromap import`'s netlist; corrupt bytes never panic.

use std::path::{Path, PathBuf};

use neuromap::import::nir::{NirOptions, load_bytes, load_path};
use neuromap::ir::spec::{PopSpecKind, SourceSpec};
use neuromap::pipeline::binary::run_binary_job;
use neuromap::pipeline::{RunOptions, load_job, map_and_run};
use neuromap::sim::Options;

fn nir_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "nir"))
        .collect();
    v.sort();
    v
}

/// Discrete-time exports (Sinabs) expect one unit of NIR time per step.
fn options(path: &Path) -> NirOptions {
    let stem = path.file_stem().unwrap().to_string_lossy();
    let dt_s = if stem.contains("sinabs") { 1.0 } else { 1e-3 };
    // These two exports' weights need every input firing to reach threshold: at 0.2 they
    // stay silent in the f64 reference too, and their snapshots would check nothing.
    let input_p = if stem.contains("ff_lif_lzf") || stem.contains("recurrent_cubalif") { 1.0 } else { 0.2 };
    NirOptions { dt_s, input_p, seed: 5, ..NirOptions::default() }
}

/// What a file became: warnings, populations, projections.
fn import_text(path: &Path) -> String {
    let n = load_path(path, &options(path)).unwrap_or_else(|d| panic!("{}: {d}", path.display()));
    let mut s = String::new();
    for w in n.warnings.iter() {
        s.push_str(&format!("warning: {}\n", w.message));
    }
    let net = n.spec.build().unwrap();
    for p in net.populations() {
        s.push_str(&format!("population {:<14} {:<11} {:>6}\n", p.name, p.model_name(), p.size));
    }
    for pr in net.projections() {
        let syn = &pr.synapses;
        s.push_str(&format!(
            "projection {:<28} {:>8} synapses, delays {}..={} steps\n",
            pr.name,
            syn.len(),
            syn.min_delay(),
            syn.max_delay()
        ));
    }
    s
}

#[test]
fn every_nir_file_imports_maps_and_runs() {
    let files = nir_files("tests/nir");
    assert!(files.len() >= 9, "{files:?}");
    for f in files {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        let o = RunOptions { steps: Some(100), nir: options(&f), ..RunOptions::default() };
        let out = map_and_run(&f, "spinnaker1-spinn5", &o).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert!(out.same_as_functional, "{stem}");
        // Every example fires, so the check against the functional model compares spikes.
        assert!(out.chip.result.neuron_spikes(&out.job.net) > 0, "{stem}: no neuron population fires");
        let text = format!("{}\n{}", import_text(&f), out.summary());
        insta::assert_snapshot!(format!("nir_{stem}"), text);
    }
}

/// The LIF discretisation of docs/nir.md, computed here from the input spikes:
/// `v ← a·v + (1 − a)·v_leak + r·(1 − a)·(Σ w·x + b)`, `a = exp(−dt/τ)`, spike at
/// `v ≥ v_threshold`, then `v ← v_reset`; `v` starts at `v_leak`.
#[test]
fn a_nir_lif_graph_spikes_when_the_discretisation_says() {
    let path = Path::new("tests/nir/diff_lif.nir");
    let o = NirOptions { dt_s: 1e-3, input_p: 0.3, seed: 11, ..NirOptions::default() };
    let n = load_path(path, &o).unwrap();
    let net = n.spec.build().unwrap();
    let steps = 400;
    let run = neuromap::sim::simulate(&net, steps, Options::RECORD_ALL);
    let inp = net.find("input").unwrap().index();
    let lif = net.find("lif").unwrap().index();
    // The graph's parameters (make_diff_lif.py), as written there.
    let w = [[0.9f32, -0.4, 0.7], [0.3, 0.8, -0.2]];
    let b = [0.05f32, 0.1];
    let tau = [0.02, 0.005];
    let r = [2.0, 1.5];
    let v_leak = [0.1, -0.05];
    let v_th = [1.0, 0.6];
    let v_reset = [0.0, -0.1];
    let mut x = vec![[0.0f64; 3]; steps as usize];
    for (&t, &i) in run.spikes[inp].steps.iter().zip(&run.spikes[inp].neurons) {
        x[t as usize][i as usize] += 1.0;
    }
    let mut expected = Vec::new();
    for j in 0..2 {
        let a = (-1e-3f64 / tau[j]).exp();
        let mut v: f64 = v_leak[j];
        for (t, xs) in x.iter().enumerate() {
            let i: f64 = (0..3).map(|k| f64::from(w[j][k]) * xs[k]).sum::<f64>() + f64::from(b[j]);
            v = a * v + (1.0 - a) * v_leak[j] + r[j] * (1.0 - a) * i;
            if v >= v_th[j] {
                expected.push((t as u32, j as u32));
                v = v_reset[j];
            }
        }
    }
    expected.sort();
    let mut got: Vec<(u32, u32)> =
        run.spikes[lif].steps.iter().copied().zip(run.spikes[lif].neurons.iter().copied()).collect();
    got.sort();
    assert!(expected.len() > 20, "too few spikes to test: {}", expected.len());
    assert_eq!(got, expected);
}

#[test]
fn the_binary_graph_runs_bit_exact_on_the_binary_chips() {
    let o = RunOptions {
        steps: Some(50),
        nir: NirOptions { input_p: 0.5, ..NirOptions::default() },
        ..RunOptions::default()
    };
    for hw in ["tulip-40nm", "mac-bnn-40nm"] {
        let job = load_job("tests/nir/binary_threshold.nir", hw, &o).unwrap();
        let out = run_binary_job(job).unwrap_or_else(|e| panic!("{hw}: {e}"));
        assert!(out.run.spike_counts.iter().sum::<u64>() > 0);
    }
}

#[test]
fn invalid_files_name_the_node_and_the_mismatch() {
    let mut all = String::new();
    for f in nir_files("tests/nir/invalid") {
        let d = load_path(&f, &NirOptions::default()).expect_err("invalid");
        for x in d.iter() {
            all.push_str(&format!("{x}\n"));
        }
    }
    insta::assert_snapshot!("nir_invalid", all);
}

/// `neuromap import` writes a netlist that loads back to the same network.
#[test]
fn import_round_trips_through_the_netlist() {
    for f in nir_files("tests/nir") {
        let o = options(&f);
        let n = load_path(&f, &o).unwrap();
        let text = neuromap::import::write::to_toml(&n.spec, Some(100), "round trip").unwrap();
        let back =
            neuromap::import::load_str("round-trip.toml", &text).unwrap_or_else(|d| panic!("{}: {d}", f.display()));
        let (a, b) = (n.spec.build().unwrap(), back.spec.build().unwrap());
        let ra = neuromap::sim::simulate(&a, 100, Options::default());
        let rb = neuromap::sim::simulate(&b, 100, Options::default());
        // Sources and populations may come back in another order: compare by name.
        for (i, p) in a.populations().iter().enumerate() {
            let j = b.find(&p.name).unwrap().index();
            assert_eq!(ra.spike_counts[i], rb.spike_counts[j], "{} {}", f.display(), p.name);
            assert_eq!(ra.spikes[i], rb.spikes[j], "{} {}", f.display(), p.name);
        }
        assert_eq!(a.n_synapses(), b.n_synapses(), "{}", f.display());
        assert!(matches!(
            back.spec.populations.iter().find(|p| p.name == "input").map(|p| &p.kind),
            None | Some(PopSpecKind::Source(SourceSpec::Bernoulli { .. }))
        ));
    }
}

/// Cut and corrupted files give diagnostics, never a panic.
#[test]
fn corrupt_bytes_never_panic() {
    let good = std::fs::read("tests/nir/ff_lif_lzf.nir").unwrap();
    let mut cuts = 0;
    for len in (0..good.len()).step_by(good.len() / 97 + 1) {
        let _ = load_bytes("cut.nir", good[..len].to_vec(), &NirOptions::default());
        cuts += 1;
    }
    let mut x = 0x9E37_79B9u64;
    for k in 0..200 {
        let mut bytes = good.clone();
        for _ in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x as usize) % bytes.len();
            bytes[i] ^= (x >> 32) as u8 | 1;
        }
        let _ = load_bytes(&format!("flip{k}.nir"), bytes, &NirOptions::default());
    }
    assert!(cuts > 50);
    let e = load_bytes("garbage.nir", b"not hdf5 at all".to_vec(), &NirOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not a readable HDF5 file"), "{e}");
}

/// What the network cannot carry as spikes is a warning naming the node: a readout of
/// weights with no neuron after it, and a non-spiking LI layer that feeds another
/// layer (whose potential the run then records as a probe).
#[test]
fn dropped_readouts_and_non_spiking_layers_are_warned() {
    let o = NirOptions::default();
    let n = load_path(Path::new("tests/nir/warn/readout_weights.nir"), &o).unwrap();
    let w: Vec<&str> = n.warnings.iter().map(|d| d.message.as_str()).collect();
    assert!(w.iter().any(|m| m.contains("node `fc_out`") && m.contains("readout of weights is dropped")), "{w:?}");
    let n = load_path(Path::new("tests/nir/warn/li_between.nir"), &o).unwrap();
    let w: Vec<&str> = n.warnings.iter().map(|d| d.message.as_str()).collect();
    assert!(w.iter().any(|m| m.contains("node `li`") && m.contains("never spikes")), "{w:?}");
    let li = n.spec.populations.iter().position(|p| p.name == "li").unwrap();
    assert!(n.spec.probes.iter().any(|p| p.population == li), "the LI layer's potential is probed");
    // The files shipped as examples draw no such warning.
    for f in nir_files("tests/nir") {
        let n = load_path(&f, &options(&f)).unwrap();
        assert!(
            !n.warnings.iter().any(|d| d.message.contains("never spikes") || d.message.contains("readout")),
            "{f:?}"
        );
    }
}

/// Convolutions import as convolutions: a Sinabs export's Conv2d layers become `conv2d`
/// connectors, a SumPool2d followed by a Conv2d one `conv2d` of the composite kernel,
/// a pooling followed by Flatten and Affine a `dense` matrix. The network built from
/// them has exactly the synapses that composing every weight into a list made (the
/// import before convolutions were kept; its fingerprints were recorded from
/// `neuromap simulate --write-synapses` of that import: count, weight sum, index hash).
#[test]
fn convolutions_import_as_convolutions_with_the_same_synapses() {
    use neuromap::ir::connect::Connector;
    let n = load_path(Path::new("tests/nir/cnn_sinabs.nir"), &NirOptions::default()).unwrap();
    let conn = |name: &str| &n.spec.projections.iter().find(|p| p.name == name).unwrap().connector;
    assert_eq!(conn("input->1").kind(), "conv2d");
    assert_eq!(conn("1->3").kind(), "conv2d");
    assert!(matches!(conn("3->6"), Connector::Conv2d { kernel: [6, 6], stride: [2, 2], padding: [2, 2], .. }));
    assert_eq!(conn("6->10").kind(), "dense");
    assert_eq!(conn("10->12").kind(), "dense");
    let net = n.spec.build().unwrap();
    let recorded: [(&str, usize, f64, u64); 5] = [
        ("1->3", 541_696, -4.045648817640523, 437_264_300),
        ("10->12", 2_560, -0.07369023880173985, 791_239_659),
        ("3->6", 247_808, -2.6020480204641316, 907_398_360),
        ("6->10", 131_072, -3.214404912505187, 396_088_039),
        ("input->1", 199_712, -2.6674560115806925, 205_280_174),
    ];
    for (name, count, sum, hash) in recorded {
        let pr = net.projections().iter().find(|p| p.name == name).unwrap();
        let spec = n.spec.projections.iter().find(|p| p.name == name).unwrap();
        let (n_pre, n_post) = (n.spec.populations[spec.pre].size, n.spec.populations[spec.post].size);
        // The connector's exact count is the built one (memory estimates rest on it).
        assert_eq!(spec.connector.expected_synapses(n_pre, n_post, false, 1.0), count as f64, "{name}");
        let (mut s, mut h) = (0.0f64, 0u64);
        for (pre, post, w, d) in pr.synapses.iter() {
            assert_eq!(d, 0, "{name}");
            s += f64::from(w);
            h = (h + u64::from(pre) * 7919 + u64::from(post) * 104_729) % 1_000_000_007;
        }
        assert_eq!(pr.synapses.len(), count, "{name}");
        assert_eq!(h, hash, "{name}: other synapses than the list import made");
        assert!((s - sum).abs() < 1e-6, "{name}: weight sum {s} against {sum}");
    }
}

/// A composition spelled out beyond `--nir-max-weights` is refused with its count, the
/// limit and the flag; a convolution that stays one is not held to it.
#[test]
fn composition_limits_name_the_count_and_the_flag() {
    let f = Path::new("tests/nir/cnn_sinabs.nir");
    // The pooling, flattening and Affine after node 6 spell out 512 × 256 weights.
    let o = NirOptions { max_weights: 100_000, ..NirOptions::default() };
    let e = load_path(f, &o).unwrap_err().to_string();
    assert!(e.contains("node `9`") && e.contains("131072 synapses") && e.contains("limit of 100000"), "{e}");
    assert!(e.contains("--nir-max-weights"), "{e}");
    // Above that count it imports, though the convolutions make more synapses each.
    let o = NirOptions { max_weights: 131_072, ..NirOptions::default() };
    let n = load_path(f, &o).unwrap();
    assert!(n.spec.build().unwrap().projections().iter().any(|p| p.synapses.len() > 131_072));
}
