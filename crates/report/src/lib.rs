//! Reports: what a run means to a person or a program.
//!
//! **Architecture invariant:** this crate renders to strings and writes files; it never
//! prints. Every file is written to a temporary name in its folder and renamed when
//! complete, so a final name never holds a half-written file.

pub mod diff;
pub mod plot;
pub mod table;
pub mod write;

use neuromap_ir::Network;
use neuromap_sim::RunResult;
use serde::Serialize;

/// Version of every JSON document neuromap writes; bumped on incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PopSummary {
    pub name: String,
    pub model: String,
    pub size: u32,
    pub spikes: u64,
    /// Mean rate in Hz over the run.
    pub rate_hz: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ProjSummary {
    pub name: String,
    pub pre: String,
    pub post: String,
    pub synapses: u64,
    pub min_delay_steps: u16,
    pub max_delay_steps: u16,
    pub synaptic_events: u64,
}

/// A run of the reference simulator, summarised.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RunSummary {
    pub schema_version: u32,
    pub network: String,
    pub simulator: String,
    pub seed: u64,
    pub dt_ms: f64,
    pub steps: u32,
    pub duration_ms: f64,
    pub neurons: u64,
    pub sources: u64,
    pub synapses: u64,
    pub synaptic_events: u64,
    pub neuron_updates: u64,
    pub populations: Vec<PopSummary>,
    pub projections: Vec<ProjSummary>,
    /// Wall-clock seconds of the simulation loop (absent in golden snapshots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall_seconds: Option<f64>,
}

impl RunSummary {
    pub fn new(net: &Network, run: &RunResult, simulator: &str, wall_seconds: Option<f64>) -> Self {
        let duration_ms = f64::from(run.steps) * net.dt;
        let populations = net
            .populations()
            .iter()
            .zip(&run.spike_counts)
            .map(|(p, &n)| PopSummary {
                name: p.name.clone(),
                model: p.model_name().to_string(),
                size: p.size,
                spikes: n,
                rate_hz: if duration_ms > 0.0 { n as f64 / f64::from(p.size) / (duration_ms / 1000.0) } else { 0.0 },
            })
            .collect();
        let projections = net
            .projections()
            .iter()
            .zip(&run.synaptic_events)
            .map(|(p, &e)| ProjSummary {
                name: p.name.clone(),
                pre: net.pop(p.pre).name.clone(),
                post: net.pop(p.post).name.clone(),
                synapses: p.synapses.len() as u64,
                min_delay_steps: p.synapses.min_delay(),
                max_delay_steps: p.synapses.max_delay(),
                synaptic_events: e,
            })
            .collect();
        Self {
            schema_version: SCHEMA_VERSION,
            network: net.name.clone(),
            simulator: simulator.to_string(),
            seed: net.seed,
            dt_ms: net.dt,
            steps: run.steps,
            duration_ms,
            neurons: net.n_neurons(),
            sources: net.n_sources(),
            synapses: net.n_synapses(),
            synaptic_events: run.total_synaptic_events(),
            neuron_updates: run.neuron_updates,
            populations,
            projections,
            wall_seconds,
        }
    }

    /// The summary as terminal text: a population table and the totals.
    pub fn to_text(&self) -> String {
        let mut t = table::Table::new(["population", "model", "neurons", "spikes", "rate (Hz)"]);
        for p in &self.populations {
            t.row([
                p.name.clone(),
                p.model.clone(),
                p.size.to_string(),
                p.spikes.to_string(),
                format!("{:.3}", p.rate_hz),
            ]);
        }
        let mut out = format!(
            "{}: {} steps of {} ms ({} ms) on the {} simulator, seed {}\n\n",
            self.network,
            self.steps,
            self.dt_ms,
            fmt_g(self.duration_ms),
            self.simulator,
            self.seed
        );
        out.push_str(&t.render());
        out.push('\n');
        out.push_str(&format!(
            "neurons {}  sources {}  synapses {}  synaptic events {}  neuron updates {}\n",
            self.neurons, self.sources, self.synapses, self.synaptic_events, self.neuron_updates
        ));
        if let Some(w) = self.wall_seconds {
            let rate = if w > 0.0 { self.synaptic_events as f64 / w } else { 0.0 };
            out.push_str(&format!(
                "wall time {w:.3} s  ({} synaptic events/s, real-time factor {:.3})\n",
                fmt_si(rate),
                if self.duration_ms > 0.0 { w / (self.duration_ms / 1000.0) } else { 0.0 }
            ));
        }
        out
    }
}

/// A float without trailing zeros (for headers).
pub fn fmt_g(x: f64) -> String {
    let x = x + 0.0; // never "-0"
    if x != 0.0 && x.abs() < 1e-3 {
        return format!("{x:e}"); // 2.5e-11, not 0
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64); // what the trimming below gives, without its cost
    }
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// 12345678 → "1.23e7".
pub fn fmt_si(x: f64) -> String {
    if x == 0.0 { "0".into() } else { format!("{x:.3e}") }
}

/// The compiler's resource report as terminal text.
pub fn mapping_text(s: &neuromap_compile::artifact::Summary) -> String {
    let mmm = |m: &neuromap_compile::artifact::MinMeanMax, dec: usize| {
        format!("{:.dec$} / {:.dec$} / {:.dec$}", m.min, m.mean, m.max)
    };
    let mut t = table::Table::new(["resource", "min / mean / max", "capacity"]);
    t.row(["neurons per core".into(), mmm(&s.neurons_per_core, 1), String::new()]);
    t.row([
        "local memory per core (bytes)".into(),
        mmm(&s.local_memory_bytes_per_core, 0),
        s.local_memory_capacity.to_string(),
    ]);
    t.row([
        "synaptic memory per core (bytes)".into(),
        mmm(&s.synapse_bytes_per_core, 0),
        s.synapse_bytes_capacity.to_string(),
    ]);
    let r = &s.routing;
    let mut out = format!(
        "{} on {}: {} slices on {} of {} usable cores, {} of {} working chips\n  ({} neuron, {} source, {} delay-extension slices)\n\n",
        s.network,
        s.hw_model,
        s.cores_used,
        s.cores_used,
        s.machine_usable_cores,
        s.chips_used,
        s.machine_working_chips,
        s.neuron_slices,
        s.source_slices,
        s.delay_extension_slices
    );
    out.push_str(&t.render());
    out.push_str(&format!(
        "\nrouting tables on {} chips; largest table: {} routes → {} entries without default routes → {} compressed (capacity {}); {} entries in all\n",
        r.chips_with_tables, r.max_routed, r.max_uncompressed, r.max_compressed, r.capacity, r.total_compressed
    ));
    let p = &s.placement;
    out.push_str(&format!(
        "placement: traffic cost {} → {} ({} of {} moves accepted; {})\n",
        fmt_g(p.initial_cost),
        fmt_g(p.final_cost),
        p.moves_accepted,
        p.moves_tried,
        p.stop_reason
    ));
    out.push_str(&format!(
        "expected packets per timestep (neurons assumed to fire at {} Hz): {} over all links",
        fmt_g(s.assumed_neuron_rate_hz),
        fmt_g((s.packets_per_step * 1000.0).round() / 1000.0 + 0.0)
    ));
    if s.hottest_links.is_empty() {
        out.push_str("; no packet leaves its chip\n");
    } else {
        out.push_str("; busiest links:\n");
        for l in &s.hottest_links {
            out.push_str(&format!("  ({}, {}) {:<10} {:.3}\n", l.chip[0], l.chip[1], l.link, l.packets_per_step));
        }
    }
    out
}

/// Fidelity against the reference as terminal text.
pub fn fidelity_text(rows: &[neuromap_sim::fidelity::PopFidelity], tau_ms: f64) -> String {
    let mut t =
        table::Table::new(["population", "reference spikes", "spikes", "count error", "same step", "van Rossum"]);
    for r in rows {
        t.row([
            r.population.clone(),
            r.reference_spikes.to_string(),
            r.spikes.to_string(),
            format!("{:+.2} %", 100.0 * r.count_error),
            format!("{:.1} %", 100.0 * r.exact_match),
            format!("{:.3}", r.van_rossum),
        ]);
    }
    format!(
        "fidelity against the f64 reference (same step: share of reference spikes at the same step and neuron;\nvan Rossum: mean distance per neuron, τ = {} ms)\n\n{}",
        fmt_g(tau_ms),
        t.render()
    )
}

/// The energy estimate as terminal text.
pub fn energy_text(e: &neuromap_cost::Energy) -> String {
    let mut t = table::Table::new(["component", "energy (J)", "share"]);
    for (name, j) in [("idle chips", e.idle_j), ("busy cores", e.cores_j), ("routers (packets)", e.router_j)] {
        t.row([name.to_string(), format!("{j:.6e}"), format!("{:.1} %", 100.0 * j / e.total_j.max(f64::MIN_POSITIVE))]);
    }
    t.row(["total".to_string(), format!("{:.6e}", e.total_j), "100.0 %".to_string()]);
    let mut out = format!(
        "energy over {} s of real time: {} powered chips, {} busy cores\n\n{}",
        fmt_g(e.duration_s),
        e.chips_powered,
        e.cores_busy,
        t.render()
    );
    if let Some(x) = e.per_synaptic_event_j {
        out.push_str(&format!("per synaptic event: {:.3} nJ ({} events)\n", x * 1e9, e.synaptic_events));
    }
    if let Some(x) = e.per_neuron_ms_j {
        out.push_str(&format!("per neuron per ms: {:.3} nJ\n", x * 1e9));
    }
    out
}

/// Priced components as a table: each part's count and energy divided by `per` (steps
/// or classifications), its share, and the total. `labels` name the first three
/// columns (part, count, energy).
pub fn parts_text(labels: [&str; 3], parts: &[neuromap_cost::binary::Part], total_j: f64, per: f64) -> String {
    let per = per.max(1.0);
    let count = |x: f64| {
        let s = format!("{x:.1}");
        s.strip_suffix(".0").map_or(s.clone(), str::to_string)
    };
    let mut t = table::Table::with_header(&[labels[0], labels[1], labels[2], "share"]);
    for p in parts {
        t.push(vec![
            p.name.to_string(),
            count(p.count as f64 / per),
            format!("{:.4e}", p.joules / per),
            format!("{:.1} %", 100.0 * p.joules / total_j.max(f64::MIN_POSITIVE)),
        ]);
    }
    t.push(vec!["total".into(), String::new(), format!("{:.4e}", total_j / per), "100.0 %".into()]);
    t.render()
}

/// Time within steps as terminal text.
pub fn timing_text(t: &neuromap_sim::chip::Timing, clock_hz: f64) -> String {
    let us = |cycles: f64| cycles / clock_hz * 1e6;
    let n = t.critical_cycles.len().max(1) as f64;
    let mean = t.critical_cycles.iter().sum::<f64>() / n;
    let max = t.critical_cycles.iter().copied().fold(0.0, f64::max);
    let mut out = format!(
        "time per step on the busiest core: mean {:.2} µs, max {:.2} µs, of a {:.2} µs tick (worst load {:.0} %)\n",
        us(mean),
        us(max),
        us(t.budget_cycles),
        100.0 * t.worst_load()
    );
    if !t.network_s.is_empty() {
        let lat = t.latency_s(clock_hz);
        let n = lat.len().max(1) as f64;
        out.push_str(&format!(
            "latency per step (the later of the busiest core and the last packet delivery): mean {:.2} µs, max {:.2} µs\n",
            lat.iter().sum::<f64>() / n * 1e6,
            lat.iter().copied().fold(0.0, f64::max) * 1e6
        ));
        out.push_str(&format!(
            "network: last delivery {:.2} µs after the tick at the latest; longest queue wait {:.3} µs\n",
            t.network_s.iter().copied().fold(0.0, f64::max) * 1e6,
            t.max_wait_s * 1e6
        ));
    }
    let overran = t.overrun_steps();
    if overran == 0 {
        out.push_str("real time: kept in every step (no timer overruns)\n");
    } else {
        let cores = t.overruns.iter().filter(|&&o| o > 0).count();
        out.push_str(&format!(
            "real time: LOST in {overran} of {} steps ({cores} core(s) overran; the worst overran {} times)\n",
            t.critical_cycles.len(),
            t.overruns.iter().max().copied().unwrap_or(0)
        ));
    }
    out
}

/// The report of a chip run (`neuromap run`'s `report.json`): the run summary with
/// the energy estimate and the time per step, the fields `diff` compares.
pub fn run_report(
    summary: &RunSummary,
    energy: Option<&neuromap_cost::Energy>,
    timing: Option<&neuromap_sim::chip::Timing>,
    losses: &neuromap_sim::chip::Losses,
    clock_hz: f64,
) -> serde_json::Value {
    let mut v = serde_json::to_value(summary).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = v.as_object_mut() {
        let mut l = serde_json::to_value(losses).unwrap_or(serde_json::Value::Null);
        if let Some(o) = l.as_object_mut() {
            o.insert("lost".into(), losses.packets().into());
        }
        obj.insert("losses".into(), l);
        obj.insert("energy".into(), serde_json::to_value(energy).unwrap_or(serde_json::Value::Null));
        let timing = timing.map(|t| {
            let us = |c: f64| c / clock_hz * 1e6;
            let n = t.critical_cycles.len().max(1) as f64;
            let lat = t.latency_s(clock_hz);
            serde_json::json!({
                "tick_us": us(t.budget_cycles),
                "mean_step_us": us(t.critical_cycles.iter().sum::<f64>() / n),
                "max_step_us": us(t.critical_cycles.iter().copied().fold(0.0, f64::max)),
                "latency_mean_us": lat.iter().sum::<f64>() / n * 1e6,
                "latency_max_us": lat.iter().copied().fold(0.0, f64::max) * 1e6,
                "max_queue_wait_us": t.max_wait_s * 1e6,
                "overrun_steps": t.overrun_steps(),
            })
        });
        obj.insert("timing".into(), timing.unwrap_or(serde_json::Value::Null));
    }
    v
}
