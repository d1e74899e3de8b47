//! Published SpiNNaker energy figures against the model's.
//!
//! Sharp et al., J. Neurosci. Methods 210:110–118 (2012): 10k neurons and 4M synapses
//! in real time on a 4-chip board used 100 nJ per neuron per ms and 43 nJ per
//! synaptic event. `netlists/sharp2012.toml` is a network of that size. It runs here
//! for 1 s on `spinnaker1-spinn3`, priced with the SpiNNaker 1 vendor power model
//! (0.35 W idle per chip, 0.034 W per busy core, 25 pJ per routed bit), and the
//! figures are printed with their ratios.
//!
//! Run with `cargo bench --bench energy`.

#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use neuromap::compile::{CompileOptions, compile};
use neuromap::import::load_path;

fn main() {
    let n = load_path(Path::new("netlists/sharp2012.toml")).expect("netlist loads");
    let steps = n.steps.unwrap_or(1000);
    let net = n.spec.build().expect("network builds");
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn3.toml")).expect("model loads");
    let mapping = compile(&net, &hw, &CompileOptions::default()).expect("the network maps");
    let t = Instant::now();
    let chip = neuromap::sim::chip::simulate_chip(&net, &hw, &mapping, steps, neuromap::sim::Options::default())
        .expect("chip runs");
    let wall = t.elapsed().as_secs_f64();
    let e = neuromap::cost::arm_core_ledger(&net, &hw, &mapping, &chip.counts, steps, neuromap::cost::Dvfs::PerStep)
        .expect("spinnaker1 gives every energy figure");
    let seconds = f64::from(steps) * net.dt / 1000.0;
    let rate: f64 = chip
        .result
        .spike_counts
        .iter()
        .zip(net.populations())
        .filter(|(_, p)| !p.is_source())
        .map(|(c, _)| *c as f64)
        .sum::<f64>()
        / net.n_neurons() as f64
        / seconds;
    println!(
        "sharp2012 on {}: {} neurons, {} synapses, {} cores on {} chips, mean rate {rate:.1} Hz, {seconds} s simulated in {wall:.2} s",
        hw.name,
        net.n_neurons(),
        net.n_synapses(),
        mapping.partition.slices.len(),
        hw.machine.alive_chips(),
    );
    print!("{}", neuromap::report::ledger_text(&e));
    // Sharp et al. measured the board that ran the model: the parts in use.
    let b = e.basis(neuromap::cost::Basis::InUse);
    let per_event = b.per_synaptic_event_j.unwrap_or(f64::NAN) * 1e9;
    let per_neuron = b.per_neuron_ms_j.unwrap_or(f64::NAN) * 1e9;
    println!("  {:<40} {:>10} {:>10} {:>8}", "parts in use (the chips that ran it)", "model", "published", "ratio");
    println!("  {:<40} {:>10.1} {:>10.1} {:>8.2}", "nJ per synaptic event", per_event, 43.0, per_event / 43.0);
    println!("  {:<40} {:>10.1} {:>10.1} {:>8.2}", "nJ per neuron per ms", per_neuron, 100.0, per_neuron / 100.0);
}
