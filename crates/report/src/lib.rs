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

/// NeuroBench's workload metrics of a run (Yik et al., Nature Communications 16:1545,
/// 2025; definitions in docs/hardware-figures.md §8), per step (one forward pass).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Workload {
    /// Synaptic operations on sparsity-unaware hardware: every weight of each
    /// projection's dense matrix (n_pre × n_post) once per step.
    pub dense_sops_per_step: f64,
    /// Effective synaptic operations: a spike through a synapse. Spikes are binary
    /// activations, so NeuroBench counts them as accumulates (ACs), none as MACs.
    pub effective_acs_per_step: f64,
    pub effective_macs_per_step: f64,
    /// Zero activations over all activations of the neuron populations (0: always
    /// active, 1: silent).
    pub activation_sparsity: f64,
    /// Absent (zero) weights over the dense matrices' weights (0: fully connected).
    pub connection_sparsity: f64,
    /// Weights (synapses) of the network.
    pub parameters: u64,
    /// The memory footprint on the chip, when the run was on one whose formats are
    /// known (see [`Footprint`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footprint: Option<Footprint>,
}

/// NeuroBench's memory footprint (the bytes that represent the model: parameters and
/// buffers) on a chip: its weights and its neurons' state in the chip's formats.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Footprint {
    pub weight_bytes: f64,
    /// `None` when the chip model gives no width for a neuron's state.
    pub state_bytes: Option<f64>,
    /// How the chip holds them, for the report.
    pub how: String,
}

impl Workload {
    pub fn new(net: &Network, run: &RunResult) -> Self {
        let steps = f64::from(run.steps.max(1));
        let dense: f64 =
            net.projections().iter().map(|p| f64::from(net.pop(p.pre).size) * f64::from(net.pop(p.post).size)).sum();
        let synapses = net.n_synapses() as f64;
        let (mut spikes, mut slots) = (0.0f64, 0.0f64);
        for (p, &n) in net.populations().iter().zip(&run.spike_counts) {
            if !p.is_source() {
                spikes += n as f64;
                slots += f64::from(p.size) * f64::from(run.steps);
            }
        }
        Self {
            dense_sops_per_step: dense,
            effective_acs_per_step: run.total_synaptic_events() as f64 / steps,
            effective_macs_per_step: 0.0,
            activation_sparsity: if slots > 0.0 { (1.0 - spikes / slots).clamp(0.0, 1.0) } else { 1.0 },
            connection_sparsity: if dense > 0.0 { (1.0 - synapses / dense).clamp(0.0, 1.0) } else { 0.0 },
            parameters: net.n_synapses(),
            footprint: None,
        }
    }
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
    /// NeuroBench's workload metrics.
    pub workload: Workload,
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
            workload: Workload::new(net, run),
            wall_seconds,
        }
    }

    /// The same summary with the chip's memory footprint.
    pub fn with_footprint(mut self, f: Option<Footprint>) -> Self {
        self.workload.footprint = f;
        self
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
        let w = &self.workload;
        out.push_str(&format!(
            "NeuroBench workload per step: {} effective synaptic operations (ACs) of {} dense; activation sparsity {:.4}, connection sparsity {:.4}\n",
            fmt_si(w.effective_acs_per_step),
            fmt_si(w.dense_sops_per_step),
            w.activation_sparsity,
            w.connection_sparsity
        ));
        if let Some(f) = &w.footprint {
            let state = f
                .state_bytes
                .map_or("neuron state not counted".to_string(), |b| format!("{} of neuron state", fmt_bytes(b)));
            out.push_str(&format!(
                "NeuroBench footprint: {} of weights, {state} ({})\n",
                fmt_bytes(f.weight_bytes),
                f.how
            ));
        }
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
/// Bytes in B, KiB, MiB or GiB.
pub fn fmt_bytes(b: f64) -> String {
    const K: f64 = 1024.0;
    if b < K {
        format!("{b:.0} B")
    } else if b < K * K {
        format!("{:.1} KiB", b / K)
    } else if b < K * K * K {
        format!("{:.1} MiB", b / (K * K))
    } else {
        format!("{:.2} GiB", b / (K * K * K))
    }
}

pub fn fmt_si(x: f64) -> String {
    if x == 0.0 { "0".into() } else { format!("{x:.3e}") }
}

/// The compiler's resource report as terminal text.
pub fn mapping_text(s: &neuromap_compile::artifact::Summary) -> String {
    let mmm = |m: &neuromap_compile::artifact::MinMeanMax, dec: usize| {
        format!("{:.dec$} / {:.dec$} / {:.dec$}", m.min, m.mean, m.max)
    };
    let mut t = table::Table::new(["resource", "min / mean / max", "capacity"]);
    t.row(["neurons per core".into(), mmm(&s.neurons_per_core, 1), s.neurons_capacity.to_string()]);
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
    for p in &s.tiles {
        let each = if p.max_neurons == u32::MAX {
            "a population each".to_string()
        } else {
            format!("at most {} neurons each", p.max_neurons)
        };
        out.push_str(&format!("tiles of {}: {} of {} used ({each})\n", p.part, p.used, p.capacity));
    }
    let covered = match r.ordered_covered {
        0 => String::new(),
        k => format!("; {k} by ordered covering"),
    };
    out.push_str(&format!(
        "\nrouting tables on {} chips; largest table: {} routes → {} entries without default routes → {} compressed (capacity {}{covered}); {} entries in all\n",
        r.chips_with_tables, r.max_routed, r.max_uncompressed, r.max_compressed, r.capacity, r.total_compressed
    ));
    out.push_str(&match r.keys {
        neuromap_compile::keys::KeyScheme::Location { x_bits, y_bits, endpoint_bits, block_bits } => format!(
            "keys by location, in bits: x {x_bits} | y {y_bits} | core {endpoint_bits} | neuron and delay stage {block_bits}\n"
        ),
        neuromap_compile::keys::KeyScheme::Dense { block_bits } => format!(
            "keys by slice (location needs more than 32 bits): slice | neuron and delay stage {block_bits} bits\n"
        ),
    });
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
    if rows.is_empty() {
        return "fidelity: not compared (the f64 reference was not simulated)\n".to_string();
    }
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

/// Seconds in the unit that reads best (ns, µs, ms, s).
pub fn fmt_time(s: f64) -> String {
    let a = s.abs();
    if a == 0.0 {
        "0 s".into()
    } else if a < 1e-6 {
        format!("{:.3} ns", s * 1e9)
    } else if a < 1e-3 {
        format!("{:.3} µs", s * 1e6)
    } else if a < 1.0 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{s:.3} s")
    }
}

/// Joules in the unit that reads best (pJ, nJ, µJ, mJ, J).
pub fn fmt_joules(j: f64) -> String {
    let a = j.abs();
    if a == 0.0 {
        "0 J".into()
    } else if a < 1e-9 {
        format!("{:.3} pJ", j * 1e12)
    } else if a < 1e-6 {
        format!("{:.3} nJ", j * 1e9)
    } else if a < 1e-3 {
        format!("{:.3} µJ", j * 1e6)
    } else if a < 1.0 {
        format!("{:.3} mJ", j * 1e3)
    } else {
        format!("{j:.3} J")
    }
}

/// The run's time as the ledger has it: the need, the wall time, the slow-down
/// factor and its cause.
pub fn time_text(t: &neuromap_cost::Timeline) -> String {
    use neuromap_cost::Pace;
    let mut out = String::new();
    let need = if t.need_known {
        format!("a step needs {} on average, {} at most", fmt_time(t.need_mean_s), fmt_time(t.need_max_s))
    } else {
        "the time a step needs is unknown (no timing figures)".to_string()
    };
    match t.pace {
        Pace::Timer { tick_s } => {
            out.push_str(&format!(
                "time: {} steps on a fixed {} timer tick; {need}
",
                t.steps,
                fmt_time(tick_s)
            ));
        }
        Pace::SelfTimed { tick_s: Some(tick_s) } => out.push_str(&format!(
            "time: {} self-timed steps of at least a {} tick; {need}
",
            t.steps,
            fmt_time(tick_s)
        )),
        Pace::SelfTimed { tick_s: None } => out.push_str(&format!(
            "time: {} self-timed steps (each as long as its work); {need}
",
            t.steps
        )),
    }
    match t.real_time_s {
        Some(r) if t.slowdown > 1.0 => {
            out.push_str(&format!(
                "real time: NOT kept ({} of {} steps overran): the hardware takes {} for {} of real time, a slow-down factor of {:.3} (the time-scale factor the run needs); every static term is charged over the slowed time
",
                t.overrun_steps,
                t.steps,
                fmt_time(t.wall_s),
                fmt_time(r),
                t.slowdown
            ));
            if let Some(c) = &t.cause {
                out.push_str(&format!(
                    "  cause: {c}
"
                ));
            }
        }
        Some(r) => out.push_str(&format!(
            "real time: kept; the hardware takes {} for {} of real time
",
            fmt_time(t.wall_s),
            fmt_time(r)
        )),
        None => out.push_str(&format!(
            "wall time: {}
",
            fmt_time(t.wall_s)
        )),
    }
    out
}

/// A priced run: time, every line of energy, the three bases with energy per unit
/// of work and the share of energy on each kind of figure, and the notes.
pub fn ledger_text(l: &neuromap_cost::Ledger) -> String {
    use neuromap_cost::{Basis, Term};
    let mut out = time_text(&l.time);
    let parts: Vec<String> = l.parts.iter().map(|p| format!("{} {} of {}", p.part, p.in_use, p.allocated)).collect();
    out.push_str(&format!("\nenergy on {} (parts in use: {})\n", l.model, parts.join(", ")));
    let total = l.total(Basis::Allocated).max(f64::MIN_POSITIVE);
    let mut t = table::Table::new(["component", "what", "count", "energy (J)", "share", "term", "rests on"]);
    for x in &l.lines {
        let term = match x.term {
            Term::Dynamic => "dynamic",
            Term::StaticInUse => "static, in use",
            Term::StaticIdle => "static, unused",
        };
        let count = if x.term == Term::Dynamic { fmt_count(x.count) } else { format!("{} part·s", fmt_si(x.count)) };
        t.row([
            x.part.as_ref().map_or_else(|| x.component.clone(), |p| format!("{p}/{}", x.component)),
            x.what.clone(),
            count,
            format!("{:.4e}", x.joules),
            format!("{:.1} %", 100.0 * x.joules / total),
            term.to_string(),
            x.certainty.key().to_string(),
        ]);
    }
    out.push_str(&t.render());
    let mut b = table::Table::new([
        "basis",
        "energy",
        "per synaptic event",
        "per neuron·ms",
        "per inference",
        "energy × delay (J·s)",
        "source / derived / borrowed / assumption",
    ]);
    for x in l.bases() {
        let o = |v: Option<f64>| v.map_or("-".to_string(), fmt_joules);
        b.row([
            x.basis.label().to_string(),
            fmt_joules(x.joules),
            o(x.per_synaptic_event_j),
            o(x.per_neuron_ms_j),
            o(x.per_inference_j),
            format!("{:.4e}", x.edp_js),
            x.shares.iter().map(|s| format!("{:.1} %", 100.0 * s)).collect::<Vec<_>>().join(" / "),
        ]);
    }
    out.push('\n');
    out.push_str(&b.render());
    if let Some(a) = l.area() {
        let each: Vec<String> =
            a.parts.iter().map(|(p, u, n, mm2)| format!("{p} {u} of {n} × {} mm²", fmt_g(*mm2))).collect();
        out.push_str(&format!(
            "area: {} mm² in use, {} mm² allocated ({}; rests on {})\n",
            fmt_g(a.in_use_mm2),
            fmt_g(a.allocated_mm2),
            each.join(", "),
            a.rests_on.key()
        ));
        if !a.missing.is_empty() {
            out.push_str(&format!("  not counted: {}\n", a.missing.join(", ")));
        }
    }
    if !l.part_time.is_empty() {
        // A hybrid chip: each family's energy and time.
        let in_use = l.by_part(Basis::InUse);
        let dynamic = l.by_part(Basis::Dynamic);
        let find = |v: &[(Option<&str>, f64)], k: Option<&str>| v.iter().find(|x| x.0 == k).map_or(0.0, |x| x.1);
        let mut p = table::Table::new(["part", "energy (in use)", "dynamic", "slowest step", "mean step"]);
        for (i, x) in l.part_time.iter().enumerate() {
            let k = (i > 0).then_some(x.part.as_str());
            let name = if i == 0 { "cores, chips, routers".to_string() } else { x.part.clone() };
            p.row([
                name,
                fmt_joules(find(&in_use, k)),
                fmt_joules(find(&dynamic, k)),
                fmt_time(x.need_max_s),
                fmt_time(x.need_mean_s),
            ]);
        }
        out.push_str(&format!("\nby part of the hybrid chip ({}; a step lasts its slowest part)\n", l.family));
        out.push_str(&p.render());
    }
    if !l.by_population.is_empty() {
        let in_use = l.total(Basis::InUse).max(f64::MIN_POSITIVE);
        let mut p =
            table::Table::new(["population", "parts", "dynamic", "static (in use)", "share of in use", "worst step"]);
        for x in &l.by_population {
            if x.parts == 0 {
                continue;
            }
            p.row([
                x.population.clone(),
                x.parts.to_string(),
                fmt_joules(x.dynamic_j),
                fmt_joules(x.static_j),
                format!("{:.1} %", 100.0 * (x.dynamic_j + x.static_j) / in_use),
                fmt_time(x.worst_step_s),
            ]);
        }
        out.push_str("\nby population (parts: the cores, PEs or arrays it holds)\n");
        out.push_str(&p.render());
    }
    for n in &l.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// Rows (the first the header) as a Markdown table.
pub fn table_markdown(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
        if i == 0 {
            out.push_str(&format!("|{}\n", "---|".repeat(r.len())));
        }
    }
    out
}

/// A count without a needless fraction.
fn fmt_count(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x:.4e}") }
}

/// The ledger as JSON: time, lines, parts, notes, each basis's totals, the total on
/// the allocated basis (`total_j`) and the energy by component (what `diff`
/// compares).
pub fn ledger_json(l: &neuromap_cost::Ledger) -> serde_json::Value {
    let mut v = serde_json::to_value(l).unwrap_or(serde_json::Value::Null);
    if let Some(o) = v.as_object_mut() {
        for b in l.bases() {
            let key = match b.basis {
                neuromap_cost::Basis::Allocated => "allocated",
                neuromap_cost::Basis::InUse => "in_use",
                neuromap_cost::Basis::Dynamic => "dynamic",
            };
            o.insert(key.into(), serde_json::to_value(&b).unwrap_or(serde_json::Value::Null));
        }
        o.insert("total_j".into(), l.total(neuromap_cost::Basis::Allocated).into());
        if let Some(a) = l.area() {
            o.insert("area".into(), serde_json::to_value(&a).unwrap_or(serde_json::Value::Null));
        }
        let mut comp = serde_json::Map::new();
        for x in &l.lines {
            let e = comp.entry(x.component.clone()).or_insert(serde_json::Value::from(0.0));
            *e = (e.as_f64().unwrap_or(0.0) + x.joules).into();
        }
        o.insert("components".into(), comp.into());
    }
    v
}

/// How many of a model's figures rest on each kind of provenance.
pub fn certainty_counts_text(m: &neuromap_hw::HwModel) -> String {
    let mut n = [0usize; 4];
    for f in &m.figures {
        n[f.provenance.certainty() as usize] += 1;
    }
    format!("{} figures: {} source, {} derived, {} borrowed, {} assumption", m.figures.len(), n[0], n[1], n[2], n[3])
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
        out.push_str("timer overruns: none\n");
    } else {
        let cores = t.overruns.iter().filter(|&&o| o > 0).count();
        out.push_str(&format!(
            "timer overruns in {overran} of {} steps ({cores} core(s) overran; the worst overran {} times)\n",
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
    energy: Option<&neuromap_cost::Ledger>,
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
        obj.insert("energy".into(), energy.map_or(serde_json::Value::Null, ledger_json));
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
