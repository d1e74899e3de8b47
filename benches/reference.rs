//! Benchmarks of the foundation, on the example netlists:
//!
//! - the full-scale Potjans–Diesmann microcircuit loaded from its netlist into the IR
//!   (every synapse drawn): wall time and peak memory (targets: < 30 s, < 6 GiB);
//! - the f64 reference simulator on Brunel-10k: synaptic events per second on one core
//!   (target ≥ 3×10⁷);
//! - drawing the microcircuit's Poisson background: 77,169 source neurons at 16 kHz
//!   (λ = 1.6 per 0.1 ms step), each from its own ChaCha8 stream, time per step.
//!
//! Run with `cargo bench --bench reference`. `NEUROMAP_BENCH_QUICK=1` runs the
//! microcircuit at scale 0.1 instead (for a smoke test).

#![allow(clippy::print_stdout)]

#[path = "common.rs"]
mod common;

use std::path::Path;

use common::{peak_rss_gib, verdict};
use std::time::Instant;

use neuromap::import::load_path;

fn main() {
    // The microcircuit first, so that the peak memory is its own.
    let (mc, net, load_s) = common::microcircuit();
    let peak = peak_rss_gib();
    println!("microcircuit (scale {}) netlist → IR", mc.spec.scale);
    println!(
        "  neurons {}  synapses {}  synapse memory {:.2} GiB",
        net.n_neurons(),
        net.n_synapses(),
        net.synapse_bytes() as f64 / (1u64 << 30) as f64
    );
    println!("  load {load_s:.2} s (target < 30 s: {})", verdict(load_s < 30.0));
    println!("  peak memory {peak:.2} GiB (target < 6 GiB: {})", verdict(peak < 6.0));
    drop(net);

    let b = load_path(Path::new("netlists/brunel_10k.toml")).expect("brunel-10k loads");
    let net = b.spec.build().expect("brunel-10k builds");
    let steps = 2000; // 200 ms
    // One warm-up run, then the best of three.
    let mut best = f64::INFINITY;
    let mut events = 0;
    for _ in 0..4 {
        let t = Instant::now();
        let run = neuromap::sim::simulate(&net, steps, neuromap::sim::Options::default());
        let s = t.elapsed().as_secs_f64();
        events = run.total_synaptic_events();
        best = best.min(s);
    }
    let rate = events as f64 / best;
    println!("reference simulator, brunel-10k, {steps} steps on one core");
    println!("  {events} synaptic events in {best:.3} s (best of 3 after a warm-up)");
    println!(
        "  {rate:.3e} synaptic events/s (target ≥ 3e7: {}), real-time factor {:.2}",
        verdict(rate >= 3e7),
        best / (f64::from(steps) * net.dt / 1000.0)
    );
    sources();
}

/// Every simulator draws its sources through `SourceState`: the microcircuit's
/// background is 77,169 streams drawn every step.
fn sources() {
    use neuromap::ir::{Param, PopKind, Population, SourceKind};
    let n = 77_169;
    let kind = SourceKind::Poisson { rate_hz: Param::Shared(16_000.0), start_step: 0, stop_step: None };
    let pop = Population { name: "bg".into(), size: n, kind: PopKind::Source(kind.clone()) };
    let steps = 640;
    let (mut best, mut spikes) = (f64::INFINITY, 0u64);
    for _ in 0..4 {
        let mut state = neuromap::sim::sources::SourceState::new(&pop, &kind, 7, 0.1, 0..n as usize);
        let (mut out, mut count) = (Vec::new(), 0u64);
        let t = Instant::now();
        for step in 0..steps {
            out.clear();
            state.step(step, &mut out);
            count += out.iter().map(|&(_, k)| u64::from(k)).sum::<u64>();
        }
        best = best.min(t.elapsed().as_secs_f64());
        spikes = count;
    }
    println!("Poisson sources, {n} neurons at 16 kHz (λ = 1.6 a step), {steps} steps");
    println!(
        "  {:.0} µs a step, {:.1} ns a neuron-step (best of 4); {spikes} spikes, {:.3} per neuron-step",
        best / f64::from(steps) * 1e6,
        best / f64::from(steps) / f64::from(n) * 1e9,
        spikes as f64 / f64::from(steps) / f64::from(n)
    );
}
