//! Semantic differences between two mapping artifacts or two run summaries, and
//! budgets that decide whether a difference is acceptable.
//!
//! Inputs are neuromap's own JSON documents, read back. Their kind is recognised from
//! their content: a mapping artifact has `slices`, a run summary has `simulator`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

/// One compared quantity.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Metric {
    pub name: String,
    pub old: f64,
    pub new: f64,
}

impl Metric {
    pub fn change(&self) -> f64 {
        self.new - self.old
    }

    /// Relative change; infinite when the old value is 0 and the new one is not.
    pub fn relative(&self) -> f64 {
        if self.old == 0.0 { if self.new == 0.0 { 0.0 } else { f64::INFINITY } } else { self.change() / self.old.abs() }
    }
}

/// What changed between two documents.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct Diff {
    pub kind: String,
    pub metrics: Vec<Metric>,
    /// Human-readable itemised changes (placement moves, key changes, per-population spikes).
    pub changes: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DiffError {
    #[error("{0}")]
    Input(String),
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_f64().unwrap_or(0.0)
}

/// Compares two documents of the same kind.
pub fn diff(old: &Value, new: &Value) -> Result<Diff, DiffError> {
    let kind = |v: &Value| {
        if v.get("slices").is_some() && v.get("routing_tables").is_some() {
            Some("mapping")
        } else if v.get("simulator").is_some() && v.get("populations").is_some() {
            Some("run")
        } else {
            None
        }
    };
    // The fields each kind is read from must have their types.
    let shape = |v: &Value, which: &str| -> Result<(), DiffError> {
        type Need = (&'static str, fn(&Value) -> bool, &'static str);
        let need: &[Need] = match kind(v) {
            Some("mapping") => &[
                ("slices", Value::is_array, "an array"),
                ("routing_tables", Value::is_array, "an array"),
                ("summary", Value::is_object, "an object"),
            ],
            Some(_) => &[("populations", Value::is_array, "an array")],
            None => &[],
        };
        for (key, ok, what) in need {
            if !ok(&v[*key]) {
                return Err(DiffError::Input(format!("the {which} document's `{key}` is not {what}")));
            }
        }
        Ok(())
    };
    shape(old, "old")?;
    shape(new, "new")?;
    match (kind(old), kind(new)) {
        (Some("mapping"), Some("mapping")) => Ok(diff_mapping(old, new)),
        (Some("run"), Some("run")) => Ok(diff_run(old, new)),
        (Some(a), Some(b)) => Err(DiffError::Input(format!("cannot compare a {a} with a {b}"))),
        _ => Err(DiffError::Input(
            "expected two mapping artifacts (`neuromap compile -o`) or two run summaries (summary.json)".into(),
        )),
    }
}

fn metric(name: &str, old: f64, new: f64) -> Metric {
    Metric { name: name.to_string(), old, new }
}

fn diff_mapping(old: &Value, new: &Value) -> Diff {
    let s = |v: &Value, k: &[&str]| num(&v["summary"], k);
    let mut metrics = vec![
        metric("cores", s(old, &["cores_used"]), s(new, &["cores_used"])),
        metric("chips", s(old, &["chips_used"]), s(new, &["chips_used"])),
        metric("router_entries", s(old, &["routing", "max_compressed"]), s(new, &["routing", "max_compressed"])),
        metric(
            "router_entries_total",
            s(old, &["routing", "total_compressed"]),
            s(new, &["routing", "total_compressed"]),
        ),
        metric(
            "synapse_bytes_max",
            s(old, &["synapse_bytes_per_core", "max"]),
            s(new, &["synapse_bytes_per_core", "max"]),
        ),
        metric("packets_per_step", s(old, &["packets_per_step"]), s(new, &["packets_per_step"])),
        metric("placement_cost", s(old, &["placement", "final_cost"]), s(new, &["placement", "final_cost"])),
    ];
    // Slices are matched by what they hold: population, neuron range, kind.
    let slices = |v: &Value| -> BTreeMap<String, (String, String)> {
        v["slices"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        let id = format!(
                            "{}[{}..{}] {}",
                            s["population"].as_str().unwrap_or("?"),
                            s["lo"],
                            s["hi"],
                            kind_name(&s["kind"])
                        );
                        (
                            id,
                            (
                                format!("chip ({}, {}) core {}", s["chip"][0], s["chip"][1], s["core"]),
                                s["key"].to_string(),
                            ),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (a, b) = (slices(old), slices(new));
    let mut changes = Vec::new();
    let (mut moves, mut keys) = (0u64, 0u64);
    for (id, (place, key)) in &a {
        match b.get(id) {
            Some((p2, k2)) => {
                if p2 != place {
                    moves += 1;
                    changes.push(format!("moved: {id} from {place} to {p2}"));
                }
                if k2 != key {
                    keys += 1;
                    changes.push(format!("key: {id} from {key} to {k2}"));
                }
            }
            None => changes.push(format!("removed: {id} (was on {place})")),
        }
    }
    for (id, (place, _)) in &b {
        if !a.contains_key(id) {
            changes.push(format!("added: {id} on {place}"));
        }
    }
    // Routing tables per chip.
    let tables = |v: &Value| -> BTreeMap<String, usize> {
        v["routing_tables"]
            .as_array()
            .map(|t| {
                t.iter()
                    .map(|x| {
                        (format!("({}, {})", x["chip"][0], x["chip"][1]), x["entries"].as_array().map_or(0, Vec::len))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ta, tb) = (tables(old), tables(new));
    let chips: std::collections::BTreeSet<&String> = ta.keys().chain(tb.keys()).collect();
    for c in chips {
        let (x, y) = (ta.get(c).copied().unwrap_or(0), tb.get(c).copied().unwrap_or(0));
        if x != y {
            changes.push(format!("routing table of chip {c}: {x} → {y} entries"));
        }
    }
    metrics.push(metric("placement_moves", 0.0, moves as f64));
    metrics.push(metric("key_changes", 0.0, keys as f64));
    Diff { kind: "mapping".into(), metrics, changes }
}

fn kind_name(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

fn diff_run(old: &Value, new: &Value) -> Diff {
    let mut metrics = vec![
        metric("spikes", pops_total(old, "spikes"), pops_total(new, "spikes")),
        metric("synaptic_events", num(old, &["synaptic_events"]), num(new, &["synaptic_events"])),
        metric("neuron_updates", num(old, &["neuron_updates"]), num(new, &["neuron_updates"])),
        metric("steps", num(old, &["steps"]), num(new, &["steps"])),
    ];
    let pops = |v: &Value| -> BTreeMap<String, (f64, f64)> {
        v["populations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap_or("?").to_string(),
                            (p["spikes"].as_f64().unwrap_or(0.0), p["rate_hz"].as_f64().unwrap_or(0.0)),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    // Energy (the ledger's three bases, its components and its time) and time per
    // step, when both runs were priced on a chip.
    let paths: [(&str, &[&str]); 17] = [
        ("synaptic_ops", &["workload", "effective_acs_per_step"]),
        ("footprint_weights", &["workload", "footprint", "weight_bytes"]),
        ("footprint_state", &["workload", "footprint", "state_bytes"]),
        ("activation_sparsity", &["workload", "activation_sparsity"]),
        ("energy", &["energy", "total_j"]),
        ("energy_in_use", &["energy", "in_use", "joules"]),
        ("energy_dynamic", &["energy", "dynamic", "joules"]),
        ("energy_per_synaptic_event_j", &["energy", "allocated", "per_synaptic_event_j"]),
        ("edp", &["energy", "allocated", "edp_js"]),
        ("wall_time_s", &["energy", "time", "wall_s"]),
        ("slowdown", &["energy", "time", "slowdown"]),
        ("step_time_max_us", &["timing", "max_step_us"]),
        ("step_time_mean_us", &["timing", "mean_step_us"]),
        ("latency", &["timing", "latency_max_us"]),
        ("latency_mean", &["timing", "latency_mean_us"]),
        ("overrun_steps", &["timing", "overrun_steps"]),
        ("packets_lost", &["losses", "lost"]),
    ];
    for (name, path) in paths {
        if old[path[0]].is_object() && new[path[0]].is_object() {
            metrics.push(metric(name, num(old, path), num(new, path)));
        }
    }
    // Energy by component (chip, core, router, tile, ADC, …), in either run.
    let comps = |v: &Value| v["energy"]["components"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    let mut names: Vec<String> = comps(old).unwrap_or_default();
    names.extend(comps(new).unwrap_or_default());
    names.sort();
    names.dedup();
    // Area, when both runs' models give it.
    for (name, key) in [("area", "in_use_mm2"), ("area_allocated", "allocated_mm2")] {
        let path = ["energy", "area", key];
        if old["energy"]["area"].is_object() && new["energy"]["area"].is_object() {
            metrics.push(metric(name, num(old, &path), num(new, &path)));
        }
    }
    for c in names {
        let path = ["energy", "components", c.as_str()];
        let name = format!("energy_{}", c.to_lowercase().replace(' ', "_"));
        metrics.push(metric(&name, num(old, &path), num(new, &path)));
    }
    let (a, b) = (pops(old), pops(new));
    let mut changes = Vec::new();
    for (name, (s1, r1)) in &a {
        match b.get(name) {
            Some((s2, r2)) => {
                metrics.push(metric(&format!("spikes.{name}"), *s1, *s2));
                if s1 != s2 {
                    changes.push(format!("population {name}: {s1} → {s2} spikes ({r1:.3} → {r2:.3} Hz)"));
                }
            }
            None => changes.push(format!("population {name} is gone")),
        }
    }
    for name in b.keys().filter(|n| !a.contains_key(*n)) {
        changes.push(format!("population {name} is new"));
    }
    Diff { kind: "run".into(), metrics, changes }
}

fn pops_total(v: &Value, key: &str) -> f64 {
    v["populations"].as_array().map_or(0.0, |a| a.iter().map(|p| p[key].as_f64().unwrap_or(0.0)).sum())
}

/// An allowed change of one metric.
#[derive(Clone, Debug, PartialEq)]
pub enum Limit {
    /// At most this relative increase (`+2%`); decreases always pass.
    Relative(f64),
    /// At most this absolute increase (`+0`, `+128`).
    Absolute(f64),
    /// No change at all (`exact`).
    Exact,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    pub metric: String,
    pub limit: Limit,
}

impl std::str::FromStr for Budget {
    type Err = String;

    /// `metric=+2%`, `metric=+0`, `metric=exact`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (m, l) =
            s.split_once('=').ok_or_else(|| format!("budget `{s}`: expected METRIC=+N%, METRIC=+N or METRIC=exact"))?;
        let limit = if l == "exact" {
            Limit::Exact
        } else if let Some(p) = l.strip_suffix('%') {
            Limit::Relative(
                p.trim_start_matches('+')
                    .parse::<f64>()
                    .map_err(|_| format!("budget `{s}`: `{l}` is not a percentage"))?
                    / 100.0,
            )
        } else {
            Limit::Absolute(
                l.trim_start_matches('+').parse::<f64>().map_err(|_| format!("budget `{s}`: `{l}` is not a number"))?,
            )
        };
        // A budget allows growth: a finite amount of it, at least none.
        if let Limit::Relative(x) | Limit::Absolute(x) = limit
            && !(x.is_finite() && x >= 0.0)
        {
            return Err(format!("budget `{s}`: the allowed growth `{l}` must be a finite number ≥ 0 (or `exact`)"));
        }
        if m.trim().is_empty() {
            return Err(format!("budget `{s}`: no metric before `=`"));
        }
        Ok(Budget { metric: m.trim().to_string(), limit })
    }
}

/// A broken budget, in words.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Breach {
    pub metric: String,
    pub message: String,
}

/// Checks budgets against a diff. A budget naming a metric the diff does not have is
/// a breach too (a typo must not pass silently).
pub fn check(d: &Diff, budgets: &[Budget]) -> Vec<Breach> {
    let mut out = Vec::new();
    for b in budgets {
        // A budget on `spikes` also holds each `spikes.<population>`.
        let sub = format!("{}.", b.metric);
        let hits: Vec<&Metric> = d.metrics.iter().filter(|m| m.name == b.metric || m.name.starts_with(&sub)).collect();
        if hits.is_empty() {
            let names: Vec<&str> = d.metrics.iter().map(|m| m.name.as_str()).collect();
            out.push(Breach {
                metric: b.metric.clone(),
                message: format!(
                    "no metric `{}` in a {} diff; the metrics are: {}",
                    b.metric,
                    d.kind,
                    names.join(", ")
                ),
            });
            continue;
        }
        for m in hits {
            let (ok, allowed) = match b.limit {
                Limit::Exact => (m.old == m.new, "no change".to_string()),
                Limit::Absolute(x) => (m.change() <= x, format!("at most +{}", crate::fmt_g(x))),
                Limit::Relative(r) => (m.relative() <= r, format!("at most +{}%", crate::fmt_g(r * 100.0))),
            };
            if !ok {
                out.push(Breach {
                    metric: m.name.clone(),
                    message: format!(
                        "{}: {} → {} ({}, {:+.2}%); the budget allows {allowed}",
                        m.name,
                        crate::fmt_g(m.old),
                        crate::fmt_g(m.new),
                        signed(m.change()),
                        100.0 * m.relative()
                    ),
                });
            }
        }
    }
    out
}

/// The diff as text: a metric table, then the itemised changes (the first `max_items`).
pub fn to_text(d: &Diff, max_items: usize) -> String {
    let mut t = crate::table::Table::new(["metric", "old", "new", "change"]);
    for m in &d.metrics {
        let change = if m.old == m.new {
            "=".to_string()
        } else if m.old == 0.0 {
            signed(m.change())
        } else {
            format!("{} ({:+.2}%)", signed(m.change()), 100.0 * m.relative())
        };
        t.row([m.name.clone(), crate::fmt_g(m.old), crate::fmt_g(m.new), change]);
    }
    let mut out = format!("{} diff\n\n{}", d.kind, t.render());
    if d.changes.is_empty() {
        out.push_str("\nno itemised changes\n");
    } else {
        let _ = writeln!(out, "\n{} itemised change(s):", d.changes.len());
        for c in d.changes.iter().take(max_items) {
            let _ = writeln!(out, "  {c}");
        }
        if d.changes.len() > max_items {
            let _ = writeln!(out, "  … and {} more", d.changes.len() - max_items);
        }
    }
    out
}

fn signed(x: f64) -> String {
    if x > 0.0 { format!("+{}", crate::fmt_g(x)) } else { crate::fmt_g(x) }
}
