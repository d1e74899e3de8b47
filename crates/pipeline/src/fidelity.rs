//! Fidelity studies: how far a network's spikes move from the f64 reference under each
//! chip arithmetic (number format and rounding), per population, over several seeds.
//!
//! A recurrent network is chaotic: one seed's error mixes the arithmetic's bias with
//! where that run's spike trains happened to go, so a study reports the mean and the
//! standard deviation over seeds (connectivity, initial state and inputs redrawn).

use neuromap_ir::spec::NetworkSpec;
use neuromap_sim::arith::{Format, Rounding};
use neuromap_sim::{Options, Stop};
use rayon::prelude::*;
use serde::Serialize;

/// One chip arithmetic: a number format and, for s16.15, how products round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Arithmetic {
    pub format: Format,
    pub rounding: Rounding,
    /// The Izhikevich kernel's constants in [0, 2) held wide (`arith.constants`).
    pub wide: bool,
}

impl Arithmetic {
    /// An ARM-core chip model's own arithmetic.
    pub fn of(hw: &neuromap_hw::arm_core::ArmCore) -> Arithmetic {
        let o = Options::for_chip(hw);
        Arithmetic { format: o.format, rounding: o.rounding, wide: o.wide_constants }
    }

    /// s16.15 under each rounding mode, then f32.
    pub const ALL: [Arithmetic; 4] = [
        Arithmetic { format: Format::S1615, rounding: Rounding::Truncate, wide: false },
        Arithmetic { format: Format::S1615, rounding: Rounding::Nearest, wide: false },
        Arithmetic { format: Format::S1615, rounding: Rounding::Stochastic, wide: false },
        Arithmetic { format: Format::F32, rounding: Rounding::Truncate, wide: false },
    ];

    /// "s16.15 truncate", "f32", "s16.15 stochastic, wide constants".
    pub fn name(&self) -> String {
        let base = match self.format {
            Format::F32 => Format::F32.name().into(),
            Format::S1615 => format!("{} {}", Format::S1615.name(), self.rounding.name()),
        };
        if self.wide { format!("{base}, wide constants") } else { base }
    }

    /// `f32`, `s16.15` (truncating), or `s16.15:MODE`; `:wide` after any of them holds
    /// the Izhikevich kernel's constants wide.
    pub fn parse(s: &str) -> Result<Arithmetic, String> {
        let (s, wide) = s.strip_suffix(":wide").map_or((s, false), |s| (s, true));
        let (f, r) = s.split_once(':').map_or((s, None), |(f, r)| (f, Some(r)));
        let format = Format::from_name(f)
            .ok_or_else(|| format!("`{f}` is not a number format; the formats are s16.15 and f32"))?;
        let rounding = match (format, r) {
            (_, None) => Rounding::Truncate,
            (Format::F32, Some(_)) => return Err("f32 rounds to nearest even and takes no rounding mode".into()),
            (Format::S1615, Some(r)) => Rounding::from_name(r)
                .ok_or_else(|| format!("`{r}` is not a rounding mode; the modes are truncate, nearest, stochastic"))?,
        };
        Ok(Arithmetic { format, rounding, wide })
    }
}

/// A quantity's mean and standard deviation over seeds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stat {
    pub mean: f64,
    /// Sample standard deviation (0 with one seed).
    pub sd: f64,
}

impl Stat {
    fn of(x: &[f64]) -> Stat {
        let n = x.len().max(1) as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = if x.len() > 1 { x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        Stat { mean, sd: var.sqrt() }
    }
}

/// One population under one arithmetic.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub population: String,
    pub arithmetic: String,
    /// (spikes − reference spikes) / reference spikes.
    pub count_error: Stat,
    /// Share of the reference's spikes at the same step and neuron.
    pub same_step: Stat,
    /// Mean van Rossum distance per neuron.
    pub van_rossum: Stat,
}

/// A fidelity study's result.
#[derive(Clone, Debug, Serialize)]
pub struct Study {
    pub network: String,
    pub steps: u32,
    pub seeds: Vec<u64>,
    pub tau_ms: f64,
    pub arithmetics: Vec<String>,
    /// Population-major, arithmetic-minor.
    pub cells: Vec<Cell>,
}

/// Runs `spec` for `steps` steps under each seed: the f64 reference and the quantised
/// model in each arithmetic, compared population by population. Seeds run in parallel;
/// each run is deterministic, so the result does not depend on the thread count.
pub fn study(
    spec: &NetworkSpec,
    steps: u32,
    seeds: &[u64],
    arithmetics: &[Arithmetic],
    tau_ms: f64,
    stop: &Stop,
) -> Result<Study, String> {
    if seeds.is_empty() || arithmetics.is_empty() {
        return Err("a study needs at least one seed and one arithmetic".into());
    }
    type PerSeed = Vec<Vec<neuromap_sim::fidelity::PopFidelity>>;
    let runs: Vec<Result<PerSeed, String>> = seeds
        .par_iter()
        .map(|&seed| {
            let net = NetworkSpec { seed, ..spec.clone() }.build().map_err(|e| e.to_string())?;
            let reference = neuromap_sim::reference::simulate_until::<neuromap_sim::arith::F64>(
                &net,
                steps,
                Options::default(),
                stop,
            );
            Ok(arithmetics
                .iter()
                .map(|a| {
                    let o = Options {
                        format: a.format,
                        rounding: a.rounding,
                        wide_constants: a.wide,
                        ..Options::default()
                    };
                    let q = neuromap_sim::simulate_quantised_until(&net, reference.steps, o, stop);
                    let r = if q.steps < reference.steps {
                        std::borrow::Cow::Owned(reference.first_steps(q.steps))
                    } else {
                        std::borrow::Cow::Borrowed(&reference)
                    };
                    neuromap_sim::fidelity::compare(&net, &r, &q, tau_ms)
                })
                .collect())
        })
        .collect();
    let runs: Vec<PerSeed> = runs.into_iter().collect::<Result<_, _>>()?;
    if stop.reason().is_some() {
        return Err(format!("the study was {}", stop.reason().unwrap_or("stopped")));
    }
    let pops: Vec<String> = runs[0][0].iter().map(|f| f.population.clone()).collect();
    let mut cells = Vec::new();
    for (p, pop) in pops.iter().enumerate() {
        for (k, a) in arithmetics.iter().enumerate() {
            let col = |f: &dyn Fn(&neuromap_sim::fidelity::PopFidelity) -> f64| {
                Stat::of(&runs.iter().map(|r| f(&r[k][p])).collect::<Vec<_>>())
            };
            cells.push(Cell {
                population: pop.clone(),
                arithmetic: a.name(),
                count_error: col(&|f| f.count_error),
                same_step: col(&|f| f.exact_match),
                van_rossum: col(&|f| f.van_rossum),
            });
        }
    }
    Ok(Study {
        network: spec.name.clone(),
        steps,
        seeds: seeds.to_vec(),
        tau_ms,
        arithmetics: arithmetics.iter().map(Arithmetic::name).collect(),
        cells,
    })
}

impl Study {
    /// The table: per population and arithmetic, mean ± sd over seeds; then each
    /// arithmetic's largest |mean count error|.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let seeds = match self.seeds.as_slice() {
            [one] => format!("seed {one}"),
            all => format!("{} seeds ({}..{}), mean ± sd over seeds", all.len(), all[0], all[all.len() - 1]),
        };
        let _ = writeln!(
            s,
            "fidelity of {} against the f64 reference: {} steps, {seeds}; van Rossum τ = {} ms\n",
            self.network, self.steps, self.tau_ms
        );
        if self.cells.is_empty() {
            s.push_str("no neuron population to compare (sources only)\n");
            return s;
        }
        let pm = |x: Stat, scale: f64, unit: &str, sign: bool| {
            let m = if sign { format!("{:+.2}", x.mean * scale) } else { format!("{:.2}", x.mean * scale) };
            if self.seeds.len() > 1 { format!("{m} ± {:.2}{unit}", x.sd * scale) } else { format!("{m}{unit}") }
        };
        let rows: Vec<[String; 5]> = self
            .cells
            .iter()
            .map(|c| {
                [
                    c.population.clone(),
                    c.arithmetic.clone(),
                    pm(c.count_error, 100.0, " %", true),
                    pm(c.same_step, 100.0, " %", false),
                    pm(c.van_rossum, 1.0, "", false),
                ]
            })
            .collect();
        let head = ["population", "arithmetic", "count error", "same step", "van Rossum"];
        let w: Vec<usize> =
            (0..5).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(head[i].len())).collect();
        let line = |cells: [&str; 5]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = w[i] - c.chars().count();
                if i < 2 {
                    let _ = write!(l, "{c}{}  ", " ".repeat(pad));
                } else {
                    let _ = write!(l, "{}{c}  ", " ".repeat(pad));
                }
            }
            l.trim_end().to_string()
        };
        let _ = writeln!(s, "{}", line(head));
        let dashes: [String; 5] = std::array::from_fn(|i| "-".repeat(w[i]));
        let _ = writeln!(s, "{}", line(dashes.each_ref().map(|x| x.as_str())));
        for r in &rows {
            let _ = writeln!(s, "{}", line(r.each_ref().map(|x| x.as_str())));
        }
        let _ = writeln!(s, "\nlargest |mean count error| per arithmetic:");
        for a in &self.arithmetics {
            if let Some(c) = self
                .cells
                .iter()
                .filter(|c| &c.arithmetic == a)
                .max_by(|x, y| x.count_error.mean.abs().total_cmp(&y.count_error.mean.abs()))
            {
                let _ = writeln!(s, "  {a}: {:.2} % ({})", c.count_error.mean.abs() * 100.0, c.population);
            }
        }
        s
    }
}
