//! Compiler benchmarks on the example netlists:
//!
//! - the full-scale Potjans–Diesmann microcircuit (77,169 neurons, 3×10⁸ synapses)
//!   compiled onto a 24-board SpiNNaker 1 machine and onto a SpiNNaker 2 board:
//!   netlist → IR and IR → verified mapping, wall time and peak memory
//!   (target: ≤ 30 s in all and ≤ 8 GiB on SpiNNaker 1);
//! - Brunel-10k onto one SpiNN-5 board (the network of the sPyNNaker comparison);
//! - Brunel at 10⁶ neurons and 10⁸ synapses (`netlists/scale/brunel_1m.toml`) onto the
//!   1,296-chip SpiNNaker 1 machine: netlist → IR and IR → verified mapping, with the
//!   largest routing table against the router's 1,023 entries (target: ≤ 20 s in all).
//!   It runs first, so the peak memory printed after it is its own.
//!
//! Run with `cargo bench --bench compile`. `NEUROMAP_BENCH_QUICK=1` uses the
//! microcircuit at scale 0.1.

#![allow(clippy::print_stdout)]

#[path = "common.rs"]
mod common;

use std::path::Path;

use common::{peak_rss_gib, verdict};
use std::time::Instant;

use neuromap::compile::{CompileOptions, artifact, compile};
use neuromap::import::load_path;

/// A netlist built into its IR.
fn build(path: &str) -> neuromap::ir::Network {
    load_path(Path::new(path)).expect("netlist loads").spec.build().expect("netlist builds")
}

/// `net` compiled onto `hw-models/{model}.toml`: the resource summary and the seconds
/// compilation (with verification) took.
fn timed_compile(net: &neuromap::ir::Network, model: &str, opts: &CompileOptions) -> (artifact::Summary, f64) {
    let hw = neuromap::hw::load_path(Path::new(&format!("hw-models/{model}.toml"))).expect("model loads");
    let t = Instant::now();
    let m = compile(net, &hw, opts).expect("the network maps");
    let secs = t.elapsed().as_secs_f64();
    (artifact::summary(net, &hw, &m, opts), secs)
}

fn main() {
    let opts = CompileOptions::default();
    if std::env::var_os("NEUROMAP_BENCH_QUICK").is_none() {
        let t = Instant::now();
        let b = build("netlists/scale/brunel_1m.toml");
        let load_s = t.elapsed().as_secs_f64();
        let (s, secs) = timed_compile(&b, "spinnaker1-machine", &opts);
        println!(
            "brunel-1m ({} neurons, {} synapses) onto spinnaker1-machine: {} cores on {} chips, largest routing table {} entries ({} before compression; capacity {}); netlist → IR {load_s:.2} s, compile and verify {secs:.2} s, total {:.2} s (target ≤ 20 s: {}); peak memory {:.2} GiB",
            b.n_neurons(),
            b.n_synapses(),
            s.cores_used,
            s.chips_used,
            s.routing.max_compressed,
            s.routing.max_uncompressed,
            s.routing.capacity,
            load_s + secs,
            verdict(load_s + secs <= 20.0),
            peak_rss_gib()
        );
    }
    let (mc, net, load_s) = common::microcircuit();
    println!(
        "microcircuit (scale {}): {} neurons, {} synapses; netlist → IR {load_s:.2} s",
        mc.spec.scale,
        net.n_neurons(),
        net.n_synapses()
    );
    for (model, target) in [("spinnaker1-machine", true), ("spinnaker2-board", false)] {
        let (s, secs) = timed_compile(&net, model, &opts);
        println!(
            "  onto {model}: {} cores on {} chips, largest routing table {} entries; compile {secs:.2} s, total {:.2} s{}",
            s.cores_used,
            s.chips_used,
            s.routing.max_compressed,
            load_s + secs,
            if target { format!(" (target ≤ 30 s: {})", verdict(load_s + secs <= 30.0)) } else { String::new() }
        );
    }
    let peak = peak_rss_gib();
    println!("  peak memory {peak:.2} GiB (target ≤ 8 GiB: {})", verdict(peak <= 8.0));
    drop(net);

    let b = build("netlists/brunel_10k.toml");
    let mut best = f64::INFINITY;
    let mut cores = 0;
    for _ in 0..3 {
        let (s, secs) = timed_compile(&b, "spinnaker1-spinn5", &opts);
        best = best.min(secs);
        cores = s.cores_used;
    }
    println!("brunel-10k onto spinnaker1-spinn5: {cores} cores, compile {best:.3} s (best of 3)");
}
