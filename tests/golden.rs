//! Golden corpus: every netlist in `netlists/` is loaded, built and simulated on the
//! reference simulator, and its summary compared with a readable snapshot.
//!
//! Long examples are cut to 2,000 steps, and the microcircuit runs at scale 0.02, so the
//! corpus stays fast; `benches/` runs them at full size.

use std::fmt::Write as _;
use std::path::Path;

use neuromap::import::load_path;
use neuromap::pipeline::spike_digest as digest;
use neuromap::report::RunSummary;

const MAX_STEPS: u32 = 2000;

/// The summary a golden snapshot holds: the run table, the projections and a digest of
/// every population's spike train (any change of any spike changes it).
fn golden_summary(path: &Path) -> String {
    let mut n = load_path(path).unwrap_or_else(|d| panic!("{}: {d}", path.display()));
    if n.spec.name == "microcircuit" {
        n.spec.scale = 0.02;
    }
    let steps = n.steps.unwrap_or(1000).min(MAX_STEPS);
    let net = n.spec.build().expect("example netlists build");
    let run = neuromap::sim::simulate(&net, steps, neuromap::sim::Options::RECORD_ALL);
    let summary = RunSummary::new(&net, &run, "reference", None);
    let mut s = summary.to_text();
    s.push_str("\nprojection                 synapses  delays (steps)  synaptic events\n");
    for p in &summary.projections {
        let _ = writeln!(
            s,
            "{:<24} {:>10}  {:>14}  {:>15}",
            p.name,
            p.synapses,
            format!("{}..={}", p.min_delay_steps, p.max_delay_steps),
            p.synaptic_events
        );
    }
    // The quantised functional model (s16.15) on the same network, against the reference.
    let quantised = neuromap::sim::simulate_quantised(&net, steps, neuromap::sim::Options::RECORD_ALL);
    let fidelity = neuromap::sim::fidelity::compare(&net, &run, &quantised, 10.0);
    s.push('\n');
    s.push_str(&neuromap::report::fidelity_text(&fidelity, 10.0));
    s.push_str("\nspike digests (FNV-1a of (step, neuron) pairs)\n");
    for (p, rec) in net.populations().iter().zip(&run.spikes) {
        let _ = writeln!(s, "{:<12} {:016x}", p.name, digest(&rec.steps, &rec.neurons));
    }
    s
}

#[test]
fn golden_runs() {
    insta::glob!("../netlists", "*.toml", |path| {
        insta::assert_snapshot!(golden_summary(path));
    });
}

/// Building a network draws every synapse from per-projection streams, so it gives the
/// same network with one thread as with several.
#[test]
fn build_is_independent_of_thread_count() {
    let n = load_path(Path::new("netlists/brunel_1k.toml")).unwrap();
    let one = rayon_pool(1).install(|| n.spec.build().unwrap());
    let many = rayon_pool(4).install(|| n.spec.build().unwrap());
    for (a, b) in one.projections().iter().zip(many.projections()) {
        assert_eq!(a.synapses, b.synapses, "{}", a.name);
    }
}

fn rayon_pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()
}
