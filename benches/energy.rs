//! Published SpiNNaker energy figures against the model's.
//!
//! Sharp et al., J. Neurosci. Methods 210:110–118 (2012): 10k neurons and 4M synapses
//! in real time on four chips used 100 nJ per neuron per ms and 43 nJ per synaptic
//! event. `netlists/sharp2012.toml` is a network of that size. It runs here for 1 s on
//! `spinnaker1-spinn3` with timing closure (slices cut until real time is kept, as the
//! paper ran it), priced in the ledger with the SpiNNaker 1 vendor figures (0.35 W per
//! idle chip, 0.034 W per core while it computes, 25 pJ per routed bit), and the
//! figures are printed on each basis with their ratios.
//!
//! Run with `cargo bench --bench energy`.

#![allow(clippy::print_stdout)]

use std::time::Instant;

use neuromap::cost::Basis;
use neuromap::pipeline::{RunOptions, load_job, run_job};

fn main() {
    let mut job = load_job("netlists/sharp2012.toml", "spinnaker1-spinn3", &RunOptions::default()).expect("loads");
    job.map.fit_real_time = true;
    let t = Instant::now();
    let out = run_job(job, &mut |_| true).expect("the network maps and runs");
    let wall = t.elapsed().as_secs_f64();
    let (net, e) = (&out.job.net, out.energy.as_ref().expect("spinnaker1 gives every energy figure"));
    let seconds = f64::from(out.chip.result.steps) * net.dt / 1000.0;
    let spikes = out.chip.result.neuron_spikes(net);
    println!(
        "sharp2012 on {}: {} neurons, {} synapses, {} cores on {} chips, mean rate {:.2} Hz, {seconds} s simulated in {wall:.2} s",
        out.job.model.name,
        net.n_neurons(),
        net.n_synapses(),
        out.mapping.partition.slices.len(),
        out.mapping_summary().chips_used,
        spikes as f64 / net.n_neurons() as f64 / seconds,
    );
    for f in &out.fit {
        println!("{f}");
    }
    print!("{}", neuromap::report::ledger_text(e));
    println!("\n  {:<34} {:>10} {:>10} {:>8}", "basis", "model", "published", "ratio");
    for b in [Basis::Allocated, Basis::InUse, Basis::Dynamic] {
        let x = e.basis(b);
        let ev = x.per_synaptic_event_j.unwrap_or(f64::NAN) * 1e9;
        let nm = x.per_neuron_ms_j.unwrap_or(f64::NAN) * 1e9;
        println!(
            "  {:<34} {:>10.1} {:>10.1} {:>8.2}",
            format!("{}: nJ per synaptic event", b.label()),
            ev,
            43.0,
            ev / 43.0
        );
        println!(
            "  {:<34} {:>10.1} {:>10.1} {:>8.2}",
            format!("{}: nJ per neuron per ms", b.label()),
            nm,
            100.0,
            nm / 100.0
        );
    }
    println!(
        "  the published pair implies {:.2} W for the board and {:.1} Hz; the model's idle chips in use alone draw {:.2} W",
        100e-9 * net.n_neurons() as f64 * 1000.0,
        100.0 / 43.0 / 400.0 * 1000.0,
        e.lines
            .iter()
            .filter(|l| l.component == "chip" && l.term == neuromap::cost::Term::StaticInUse)
            .map(|l| l.joules)
            .sum::<f64>()
            / e.time.wall_s
    );
}
