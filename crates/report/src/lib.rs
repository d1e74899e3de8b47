//! Reports: what a run means to a person or a program.
//!
//! **Architecture invariant:** this crate renders to strings and writes files; it never
//! prints. Every file is written to a temporary name in its folder and renamed when
//! complete, so a final name never holds a half-written file.

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
                rate_hz: if duration_ms > 0.0 {
                    n as f64 / f64::from(p.size) / (duration_ms / 1000.0)
                } else {
                    0.0
                },
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
            let rate = if w > 0.0 {
                self.synaptic_events as f64 / w
            } else {
                0.0
            };
            out.push_str(&format!(
                "wall time {w:.3} s  ({} synaptic events/s, real-time factor {:.3})\n",
                fmt_si(rate),
                if self.duration_ms > 0.0 {
                    w / (self.duration_ms / 1000.0)
                } else {
                    0.0
                }
            ));
        }
        out
    }
}

/// A float without trailing zeros (for headers).
pub fn fmt_g(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// 12345678 → "1.23e7".
pub fn fmt_si(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.3e}")
    }
}
