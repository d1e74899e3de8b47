//! Fault campaigns: one network on one chip model under a list of fault settings,
//! several seeds each, with spike fidelity, energy, latency and every lost packet
//! reported with its spread.
//!
//! A setting combines compile-time faults (dead chips, cores, links: the compiler maps
//! around them) and run-time faults (a packet drop rate; links that fail when the run
//! starts, chosen among those the fault-free run used). Which chips, cores and links
//! die is drawn from the seed. Every run is compared with the fault-free run of the
//! same network and model; a setting without faults *is* that run, exactly.

use std::fmt::Write as _;

use neuromap_hw::{ChipId, HwModel};
use neuromap_ir::Network;
use neuromap_ir::spec::NetworkSpec;
use neuromap_sim::chip::RunFaults;
use rand::seq::SliceRandom;

use crate::{Job, JobError, Outcome, TAU_MS, run_job};

/// One fault setting.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Setting {
    pub name: String,
    pub dead_chips: u32,
    pub dead_cores: u32,
    pub dead_links: u32,
    pub drop_rate: f64,
    pub fail_links: u32,
}

impl Setting {
    pub fn is_fault_free(&self) -> bool {
        self.dead_chips == 0
            && self.dead_cores == 0
            && self.dead_links == 0
            && self.drop_rate == 0.0
            && self.fail_links == 0
    }
}

/// One run of a campaign.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    pub setting: String,
    pub seed: u64,
    /// Why the network did not map under this setting, if it did not.
    pub unmapped: Option<String>,
    pub spikes: u64,
    /// Relative difference of total spikes against the fault-free run.
    pub count_error: f64,
    /// Share of the fault-free run's spikes at the same step and neuron.
    pub same_step: f64,
    /// Mean van Rossum distance per neuron against the fault-free run.
    pub van_rossum: f64,
    pub energy_j: Option<f64>,
    pub latency_max_us: Option<f64>,
    pub lost_congestion: u64,
    pub lost_random: u64,
    pub lost_dead_link: u64,
    pub lost_deliveries: u64,
    pub emergency_routed: u64,
    pub cores: usize,
}

/// Mean and standard deviation of a setting's runs.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    pub setting: String,
    pub runs: usize,
    pub mapped: usize,
    pub count_error: (f64, f64),
    pub same_step: (f64, f64),
    pub van_rossum: (f64, f64),
    pub energy_j: (f64, f64),
    pub lost_packets: (f64, f64),
    pub lost_deliveries: (f64, f64),
}

/// The campaign's input.
#[derive(Debug)]
pub struct Campaign<'a> {
    pub spec: &'a NetworkSpec,
    pub net: &'a Network,
    pub model: &'a HwModel,
    pub steps: u32,
    pub seeds: u64,
    pub threads: usize,
    pub settings: Vec<Setting>,
    /// The other processes of a distributed campaign (MPI ranks): every process runs
    /// the fault-free run, process `r` of `R` the runs `r`, `r + R`, … of the settings
    /// × seeds, and every process gets every row.
    pub peers: Option<neuromap_sim::chip::Ranks>,
}

fn job(c: &Campaign, model: HwModel, faults: RunFaults) -> Job {
    Job { threads: c.threads, faults, ..Job::new(Some(c.spec.clone()), c.net.clone(), model, c.steps) }
}

/// Runs the campaign: the fault-free run first, then every setting × seed.
pub fn run(c: &Campaign, progress: &mut dyn FnMut(&str)) -> Result<(Outcome, Vec<Row>), JobError> {
    let base = run_job(job(c, c.model.clone(), RunFaults::default()), &mut |_| true)?;
    let used: Vec<(ChipId, u8)> = base.chip.counts.link_packets.keys().map(|&(ch, d)| (ChipId(ch), d)).collect();
    let (rank, ranks) = c.peers.as_ref().map_or((0, 1), |p| (p.0.rank(), p.0.size()));
    let mut rows = Vec::new();
    let runs = c.settings.iter().flat_map(|s| (0..c.seeds.max(1)).map(move |seed| (s, seed)));
    for (s, seed) in runs.skip(rank).step_by(ranks) {
        {
            progress(&format!("{} seed {seed}", s.name));
            let mut rng = neuromap_ir::rng::stream(seed, "campaign", &s.name, 0);
            let mut model = c.model.clone();
            // Compile-time faults, drawn among what exists.
            let m = &mut model.machine;
            let mut chips: Vec<ChipId> = m.chip_ids().filter(|&id| m.chip(id).alive).collect();
            chips.shuffle(&mut rng);
            for &id in chips.iter().take(s.dead_chips as usize) {
                m.kill_chip(id);
            }
            let cores_per_chip = c.model.get("chip", "cores").unwrap_or(0.0) as u32;
            let mut cores: Vec<(ChipId, u32)> = m
                .chip_ids()
                .filter(|&id| m.chip(id).alive)
                .flat_map(|id| (1..cores_per_chip).map(move |k| (id, k)))
                .collect();
            cores.shuffle(&mut rng);
            for &(id, k) in cores.iter().take(s.dead_cores as usize) {
                m.kill_core(id, k);
            }
            let mut links: Vec<(ChipId, usize)> = m
                .chip_ids()
                .filter(|&id| m.chip(id).alive)
                .flat_map(|id| (0..m.topology.n_links()).map(move |d| (id, d)))
                .filter(|&(id, d)| m.neighbour(id, d).is_some())
                .collect();
            links.shuffle(&mut rng);
            for &(id, d) in links.iter().take(s.dead_links as usize) {
                m.kill_link(id, d);
            }
            // Run-time faults: links the fault-free run used.
            let mut fail = used.clone();
            fail.shuffle(&mut rng);
            fail.truncate(s.fail_links as usize);
            let faults = RunFaults { packet_drop_rate: s.drop_rate, dead_links: fail, seed };
            rows.push(match run_job(job(c, model, faults), &mut |_| true) {
                Ok(out) => row(s, seed, &base, &out),
                Err(e @ JobError::Map { .. }) => Row { unmapped: Some(e.to_string()), ..row(s, seed, &base, &base) },
                Err(JobError::Chip(e)) => {
                    Row { unmapped: Some(format!("the chip simulation failed: {e}")), ..row(s, seed, &base, &base) }
                }
                Err(e) => return Err(e),
            });
        }
    }
    if let Some(p) = c.peers.as_ref().filter(|_| ranks > 1) {
        // Rank r ran runs r, r + R, …: interleave the ranks' rows back into order.
        let bytes = postcard::to_allocvec(&rows).map_err(|e| JobError::Input(format!("campaign rows: {e}")))?;
        let parts: Vec<Vec<Row>> =
            p.0.all_gather(bytes)
                .iter()
                .map(|b| postcard::from_bytes(b))
                .collect::<Result<_, _>>()
                .map_err(|e| JobError::Input(format!("another rank's campaign rows: {e}")))?;
        let n: usize = parts.iter().map(Vec::len).sum();
        let mut parts: Vec<std::vec::IntoIter<Row>> = parts.into_iter().map(Vec::into_iter).collect();
        rows = (0..n).filter_map(|k| parts[k % ranks].next()).collect();
    }
    Ok((base, rows))
}

fn row(s: &Setting, seed: u64, base: &Outcome, out: &Outcome) -> Row {
    let net = &out.job.net;
    let f = neuromap_sim::fidelity::compare(net, &base.chip.result, &out.chip.result, TAU_MS);
    // Means over neurons: each population weighted by its size.
    let size =
        |p: &neuromap_sim::fidelity::PopFidelity| net.find(&p.population).map_or(0.0, |id| f64::from(net.pop(id).size));
    let weight: f64 = f.iter().map(size).sum::<f64>().max(1.0);
    let mean = |g: &dyn Fn(&neuromap_sim::fidelity::PopFidelity) -> f64| {
        f.iter().map(|p| g(p) * size(p)).sum::<f64>() / weight
    };
    let total = |r: &neuromap_sim::RunResult| r.neuron_spikes(net);
    let (a, b) = (total(&base.chip.result), total(&out.chip.result));
    let l = &out.chip.counts.losses;
    Row {
        setting: s.name.clone(),
        seed,
        unmapped: None,
        spikes: b,
        count_error: if a == 0 { 0.0 } else { (b as f64 - a as f64) / a as f64 },
        same_step: mean(&|p| p.exact_match),
        van_rossum: mean(&|p| p.van_rossum),
        energy_j: out.energy.as_ref().map(|e| e.total(neuromap_cost::Basis::Allocated)),
        latency_max_us: out
            .chip
            .counts
            .timing
            .as_ref()
            .map(|t| t.latency_s(out.mapping.hw.clock_hz).into_iter().fold(0.0, f64::max) * 1e6),
        lost_congestion: l.congestion,
        lost_random: l.random,
        lost_dead_link: l.dead_link,
        lost_deliveries: l.lost_deliveries,
        emergency_routed: l.emergency_routed,
        cores: out.mapping.partition.slices.len(),
    }
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}

/// Mean and spread per setting, in the settings' order.
pub fn summarise(settings: &[Setting], rows: &[Row]) -> Vec<Summary> {
    settings
        .iter()
        .map(|s| {
            let all: Vec<&Row> = rows.iter().filter(|r| r.setting == s.name).collect();
            let ok: Vec<&Row> = all.iter().copied().filter(|r| r.unmapped.is_none()).collect();
            let col = |g: &dyn Fn(&Row) -> f64| mean_sd(&ok.iter().map(|r| g(r)).collect::<Vec<_>>());
            Summary {
                setting: s.name.clone(),
                runs: all.len(),
                mapped: ok.len(),
                count_error: col(&|r| r.count_error),
                same_step: col(&|r| r.same_step),
                van_rossum: col(&|r| r.van_rossum),
                energy_j: col(&|r| r.energy_j.unwrap_or(f64::NAN)),
                lost_packets: col(&|r| (r.lost_congestion + r.lost_random + r.lost_dead_link) as f64),
                lost_deliveries: col(&|r| r.lost_deliveries as f64),
            }
        })
        .collect()
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| format!("{v:e}"))
}

/// One CSV row per run.
pub fn rows_csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "setting,seed,mapped,spikes,count_error,same_step,van_rossum,energy_j,latency_max_us,lost_congestion,lost_random,lost_dead_link,lost_deliveries,emergency_routed,cores,note\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&r.setting),
            r.seed,
            r.unmapped.is_none(),
            r.spikes,
            r.count_error,
            r.same_step,
            r.van_rossum,
            opt(r.energy_j),
            opt(r.latency_max_us),
            r.lost_congestion,
            r.lost_random,
            r.lost_dead_link,
            r.lost_deliveries,
            r.emergency_routed,
            r.cores,
            csv_field(r.unmapped.as_deref().unwrap_or(""))
        );
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// The per-setting summary as a terminal table.
pub fn summary_text(sums: &[Summary]) -> String {
    let mut t = neuromap_report::table::Table::new([
        "setting",
        "runs mapped",
        "spike count error",
        "same step",
        "van Rossum",
        "energy (J)",
        "packets lost",
        "deliveries lost",
    ]);
    let pm = |(m, sd): (f64, f64), scale: f64, unit: &str| format!("{:.3}{unit} ± {:.3}", m * scale, sd * scale);
    for s in sums {
        t.row([
            s.setting.clone(),
            format!("{}/{}", s.mapped, s.runs),
            pm(s.count_error, 100.0, " %"),
            pm(s.same_step, 100.0, " %"),
            pm(s.van_rossum, 1.0, ""),
            format!("{:.4e}", s.energy_j.0),
            format!("{:.1} ± {:.1}", s.lost_packets.0, s.lost_packets.1),
            format!("{:.1} ± {:.1}", s.lost_deliveries.0, s.lost_deliveries.1),
        ]);
    }
    t.render()
}

/// The settings of a sweep: the fault-free one, then one per non-zero value of each
/// kind of fault, the others at zero.
pub fn sweep(
    dead_chips: &[u32],
    dead_cores: &[u32],
    dead_links: &[u32],
    drop_rates: &[f64],
    fail_links: &[u32],
) -> Vec<Setting> {
    let mut out = vec![Setting { name: "no faults".into(), ..Setting::default() }];
    let none = Setting::default();
    for &n in dead_chips.iter().filter(|&&n| n > 0) {
        out.push(Setting { name: format!("{n} dead chip(s)"), dead_chips: n, ..none.clone() });
    }
    for &n in dead_cores.iter().filter(|&&n| n > 0) {
        out.push(Setting { name: format!("{n} dead core(s)"), dead_cores: n, ..none.clone() });
    }
    for &n in dead_links.iter().filter(|&&n| n > 0) {
        out.push(Setting { name: format!("{n} dead link(s)"), dead_links: n, ..none.clone() });
    }
    for &p in drop_rates.iter().filter(|&&p| p > 0.0) {
        out.push(Setting { name: format!("drop rate {p}"), drop_rate: p, ..none.clone() });
    }
    for &n in fail_links.iter().filter(|&&n| n > 0) {
        out.push(Setting { name: format!("{n} link(s) fail at run time"), fail_links: n, ..none.clone() });
    }
    out
}
