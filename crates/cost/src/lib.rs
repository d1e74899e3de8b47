//! The cost layer: energy and time from the actions a chip simulator counted, the
//! time it needed per step, and the figures of the chip model, in one [`Ledger`] with
//! the same rules for every family (see [`ledger`]).
//!
//! **Architecture invariant:** simulators count, this crate prices, and figures come
//! only from the model file. A figure the model does not give makes the estimate
//! unknown (`None`), never a guess.
//!
//! `arm-core` (SpiNNaker 1 and 2): a fixed timer tick of `dt`; the run slows by the
//! busiest step's need over the tick (sPyNNaker's time-scale factor). Every powered
//! chip draws `idle_chip_w` over the wall time (the chips holding slices or routing
//! packets are in use); a core draws `busy_core_w` while it computes (its cycles ÷ its
//! clock) and, when the model gives it, `base_core_w` over the steps it is in use, at
//! the performance level the simulator chose for it (DVFS); every router pass costs
//! `packet_bits × router_bit_j`. With `busy_core_w` charged over the whole run for
//! every busy core and no slow-down, this is the SpiNNaker 1 vendor model of
//! SpiNNMachine's `version_spin1.py`.

pub mod binary;
pub mod crossbar;
pub mod ledger;
pub mod neurocore;

pub use ledger::{Basis, BasisTotals, Ledger, Line, Pace, Term, Timeline, Work};

use neuromap_compile::Mapping;
use neuromap_hw::HwModel;
use neuromap_ir::Network;
use neuromap_sim::chip::{ChipCounts, CoreWork, CycleCost};

/// How a DVFS-capable chip's cores are priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dvfs {
    /// Each core at the level the simulator chose for it, step by step.
    PerStep,
    /// Every core at the chip clock.
    Off,
}

/// Prices an `arm-core` run of `net` as mapped by `mapping` onto `model` over `steps`
/// steps. `None` when the model leaves out an energy figure the run needs.
pub fn arm_core_ledger(
    net: &Network,
    model: &HwModel,
    mapping: &Mapping,
    counts: &ChipCounts,
    steps: u32,
    dvfs: Dvfs,
) -> Option<Ledger> {
    let hw = &mapping.hw;
    let (idle_chip, busy_core, router_bit) = (hw.idle_chip_w?, hw.busy_core_w?, hw.router_bit_j?);
    let tick_s = net.dt / 1000.0;
    let timing = counts.timing.as_ref();
    // A step needs its busiest core's work; the network may run a tick behind the
    // cores (a core spreads its packets over the tick, so its last ones arrive in the
    // next tick, while the cores process them), so only a packet later than that makes
    // the step longer.
    // On a hybrid chip a step also waits for its slowest tile of another family.
    let tile = |i: usize| counts.tile_step_s.get(i).copied().unwrap_or(0.0);
    let need = timing.map(|t| {
        t.critical_cycles
            .iter()
            .enumerate()
            .map(|(i, &c)| (c / hw.clock_hz).max(t.network_s.get(i).map_or(0.0, |&n| n - tick_s)).max(tile(i)))
            .collect::<Vec<f64>>()
    });
    let mut time = Timeline::new(
        Pace::Timer { tick_s },
        steps,
        need.map(|mut n| {
            n.resize(steps as usize, 0.0);
            n
        }),
    );
    if let Some(t) = timing
        && time.slowdown > 1.0
    {
        time.cause = Some(overrun_cause(net, model, mapping, counts, t, tick_s));
    }
    let work = Work {
        synaptic_events: counts.synaptic_events.iter().sum(),
        neurons: net.n_neurons(),
        dt_ms: net.dt,
        inferences: None,
    };
    let mut l = Ledger::new(model, time, work);
    // Chips: every working chip is powered; those holding slices or routing packets
    // are in use.
    let mut used = vec![false; model.machine.chips().len()];
    for &(c, _) in &mapping.placement.core_of {
        used[c.index()] = true;
    }
    for (u, &p) in used.iter_mut().zip(&counts.router_passes) {
        *u |= p > 0;
    }
    let chips_in_use = used.iter().filter(|&&u| u).count() as u64;
    l.static_power(model, "chip", chips_in_use, model.machine.alive_chips() as u64, idle_chip, &["energy.idle_chip_w"]);
    let cores = mapping.partition.slices.iter().filter(|s| s.part == 0).count() as u64;
    l.parts.push(ledger::PartCount { part: "core".into(), in_use: cores, allocated: cores, area_mm2: None });
    // Cores: active power over active time, at each step's performance level.
    let levels = hw.levels();
    let top = levels.len() - 1;
    let names = |i: usize, what: &str| -> String {
        if i == top { format!("energy.{what}") } else { format!("dvfs.{what}_{}", i + 1) }
    };
    // A level's figures: active power (`None` when the model leaves it out: the estimate
    // is then unknown) and baseline (a model with one at the chip clock needs it at
    // every level).
    let mut figures = Vec::with_capacity(levels.len());
    for (i, lv) in levels.iter().enumerate() {
        let busy = if i == top { Some(busy_core) } else { lv.busy_core_w };
        let base = match (i == top, hw.base_core_w, lv.base_core_w) {
            (true, b, _) => b,
            (false, Some(_), None) => return None,
            (false, _, b) => b,
        };
        figures.push((busy, base));
    }
    // Per step, the cores' energy (active cycles and baseline at each core's level);
    // per level, its cores × seconds and its work.
    let mut step_core_j = vec![0.0f64; steps as usize];
    match (timing, CycleCost::of(hw)) {
        (Some(t), Some(cost)) if t.levels.len() == steps as usize || steps == 0 => {
            let mut at = vec![(0.0f64, CoreWork::default()); levels.len()];
            for (step, per) in t.levels.iter().enumerate() {
                let step_s = l.time.step_s.get(step).copied().unwrap_or(0.0);
                for (i, x) in per.iter().enumerate() {
                    let li = if dvfs == Dvfs::PerStep { i } else { top };
                    let (busy, base) = figures[li];
                    let cycles = x.work.cycles(&cost);
                    if cycles > 0.0 {
                        step_core_j[step] += cycles / levels[li].clock_hz * busy?;
                    }
                    step_core_j[step] += f64::from(x.cores) * step_s * base.unwrap_or(0.0);
                    at[li].0 += f64::from(x.cores) * step_s;
                    at[li].1.add(&x.work);
                }
            }
            for (i, (lv, (core_s, w))) in levels.iter().zip(&at).enumerate() {
                let (busy, base) = figures[i];
                let cycles = w.cycles(&cost);
                let mhz = lv.clock_hz / 1e6;
                if cycles > 0.0 {
                    // The active power, and the cycle costs of the work this level did.
                    let mut names = vec![names(i, "busy_core_w")];
                    names.extend(w.figures());
                    let figs: Vec<&str> = names.iter().map(String::as_str).collect();
                    let what = format!("active cycles at {mhz:.0} MHz");
                    l.dynamic(model, "core", &what, cycles, busy? / lv.clock_hz, &figs);
                }
                if *core_s > 0.0
                    && let Some(base) = base
                {
                    let name = names(i, "base_core_w");
                    let what = format!("baseline at {mhz:.0} MHz (in use)");
                    l.add(model, "core", &what, *core_s, core_s * base, Term::StaticInUse, &[name.as_str()]);
                }
            }
            if levels.len() > 1 {
                l.notes.push(match dvfs {
                    Dvfs::PerStep => format!(
                        "DVFS: each core at the slowest of {} that finishes its step's work within the tick",
                        levels.iter().map(|v| format!("{:.0} MHz", v.clock_hz / 1e6)).collect::<Vec<_>>().join(", ")
                    ),
                    Dvfs::Off => format!("DVFS off: every core at {:.0} MHz", hw.clock_hz / 1e6),
                });
            }
        }
        _ => {
            // Without cycle costs a core's active time is unknown: the vendor model's
            // rule, every core in use busy (and at its baseline) for the whole run.
            let watts = busy_core + hw.base_core_w.unwrap_or(0.0);
            let t = l.time.wall_s;
            let figs: &[&str] = if hw.base_core_w.is_some() {
                &["energy.busy_core_w", "energy.base_core_w"]
            } else {
                &["energy.busy_core_w"]
            };
            let what = "busy for the whole run (no [timing] figures)";
            l.add(model, "core", what, cores as f64 * t, cores as f64 * t * watts, Term::StaticInUse, figs);
            for (j, s) in step_core_j.iter_mut().zip(&l.time.step_s) {
                *j = cores as f64 * s * watts;
            }
            l.notes.push(
                "time per step unknown (no [timing] figures): priced at real time, every core in use busy throughout"
                    .into(),
            );
        }
    }
    let passes: u64 = counts.router_passes.iter().sum();
    let per_pass = f64::from(hw.packet_bits) * router_bit;
    l.dynamic(
        model,
        "router",
        "packets routed",
        passes as f64,
        per_pass,
        &["energy.router_bit_j", "router.packet_bits"],
    );
    l.by_population = arm_by_population(net, mapping, counts, &l);
    // Energy per step on the allocated basis: the chips' power over the step's wall
    // time, the step's router passes, its cores' energy.
    let chips_w = idle_chip * model.machine.alive_chips() as f64;
    l.per_step_j = (0..steps as usize)
        .map(|t| {
            chips_w * l.time.step_s.get(t).copied().unwrap_or(0.0)
                + counts.router_passes_per_step.get(t).copied().unwrap_or(0) as f64 * per_pass
                + step_core_j[t]
        })
        .collect();
    Some(l)
}

/// Energy and time by population: the cores' dynamic energy split by their cycles, the
/// static power of the parts in use by cores held, each population's worst core step.
/// (Router energy is not split: a pass does not know its population.)
fn arm_by_population(net: &Network, mapping: &Mapping, c: &ChipCounts, l: &Ledger) -> Vec<ledger::PopulationShare> {
    let hw = &mapping.hw;
    let (Some(t), Some(cost)) = (c.timing.as_ref(), CycleCost::of(hw)) else { return Vec::new() };
    let core_dyn: f64 =
        l.lines.iter().filter(|x| x.component == "core" && x.term == Term::Dynamic).map(|x| x.joules).sum();
    let in_use_static: f64 = l.lines.iter().filter(|x| x.term == Term::StaticInUse).map(|x| x.joules).sum();
    let slices = &mapping.partition.slices;
    let on_cores = slices.iter().filter(|s| s.part == 0).count();
    let cycles: Vec<f64> = (0..slices.len())
        .map(|s| {
            if slices[s].part > 0 {
                return 0.0;
            }
            c.work(s).cycles(&cost)
        })
        .collect();
    let all: f64 = cycles.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let mut out: Vec<ledger::PopulationShare> = net
        .populations()
        .iter()
        .map(|p| ledger::PopulationShare {
            population: p.name.clone(),
            parts: 0,
            dynamic_j: 0.0,
            static_j: 0.0,
            worst_step_s: 0.0,
        })
        .collect();
    for (s, sl) in slices.iter().enumerate().filter(|(_, s)| s.part == 0) {
        let o = &mut out[sl.pop.index()];
        o.parts += 1;
        o.dynamic_j += core_dyn * cycles[s] / all;
        o.static_j += in_use_static / on_cores.max(1) as f64;
        o.worst_step_s = o.worst_step_s.max(t.max_cycles[s] / hw.clock_hz);
    }
    out
}

/// How many neurons a core of `n` may hold so its worst step fits `budget` cycles,
/// when its worst step took `worst` cycles of which the share `fixed_share` was
/// packets taken (which do not shrink with the slice: every core of a population hears
/// the same senders). `None` when the packets alone fill the budget.
pub fn neurons_that_fit(n: u32, worst: f64, fixed_share: f64, budget: f64) -> Option<u32> {
    let fixed = fixed_share * worst;
    if fixed >= budget {
        return None;
    }
    if worst <= budget {
        return Some(n);
    }
    let fit = ((budget - fixed) / (worst - fixed) * f64::from(n)).floor();
    Some((fit as u32).clamp(1, n.saturating_sub(1).max(1)))
}

/// The share of a slice's worst step that was packets taken.
pub fn packet_share(t: &neuromap_sim::chip::Timing, slice: usize, cost: &CycleCost) -> f64 {
    let w = &t.worst_work[slice];
    let total = w.cycles(cost);
    if total > 0.0 { w.packets as f64 * cost.packet / total } else { 0.0 }
}

/// Why an `arm-core` run needed longer than its tick: the core with the longest step
/// and its work, and what would keep real time; or the network.
fn overrun_cause(
    net: &Network,
    model: &HwModel,
    mapping: &Mapping,
    c: &ChipCounts,
    t: &neuromap_sim::chip::Timing,
    tick_s: f64,
) -> String {
    let hw = &mapping.hw;
    let core_max = t.critical_cycles.iter().copied().fold(0.0, f64::max) / hw.clock_hz;
    let net_max = t.network_s.iter().copied().fold(0.0, f64::max);
    if net_max - tick_s > core_max {
        return format!(
            "the network: the last packet of the worst step arrives {:.1} µs after its tick starts, more than a tick late ({:.1} µs tick)",
            net_max * 1e6,
            tick_s * 1e6
        );
    }
    let tile_max = c.tile_step_s.iter().copied().fold(0.0, f64::max);
    if tile_max > core_max && tile_max > net_max - tick_s {
        return format!(
            "a tile of another family: its slowest step takes {:.1} µs ({:.1} µs tick); more tiles for the population, or fewer inputs per tile, would shorten it",
            tile_max * 1e6,
            tick_s * 1e6
        );
    }
    let Some(cost) = CycleCost::of(hw) else { return "unknown".into() };
    let s = (0..t.max_cycles.len())
        .max_by(|&a, &b| t.max_cycles[a].total_cmp(&t.max_cycles[b]).then(b.cmp(&a)))
        .unwrap_or(0);
    let w = c.work(s);
    let total = w.cycles(&cost).max(f64::MIN_POSITIVE);
    let updates = w.update_cycles(&cost);
    let slice = &mapping.partition.slices[s];
    let (chip, core) = mapping.placement.core_of[s];
    let ch = model.machine.chip(chip);
    let pop = &net.pop(slice.pop).name;
    let share = packet_share(t, s, &cost);
    let size = net.pop(slice.pop).size;
    let usable = model.machine.alive_chips() as u64 * u64::from(hw.app_cores());
    let remedy = match neurons_that_fit(slice.len(), t.max_cycles[s], share, 0.95 * t.budget_cycles) {
        Some(n) if u64::from(size.div_ceil(n)) > usable => format!(
            "keeping real time by smaller slices would take {} cores for `{pop}` alone ({n} neurons each), more than the machine's {usable}: run at the slow-down above, or with a longer dt or a faster clock",
            size.div_ceil(n)
        ),
        Some(n) => format!(
            "at most {n} neuron{} per core for `{pop}` should keep real time (--neurons-per-core {pop}={n}, or --fit-real-time to cut every population that overruns)",
            if n == 1 { "" } else { "s" }
        ),
        None => format!(
            "in its worst step the packets it takes fill {:.0} % of the tick by themselves, so smaller slices cannot keep real time: it needs a longer dt, a faster clock or cheaper packets (timing.cycles_per_packet = {})",
            100.0 * share * t.max_cycles[s] / t.budget_cycles,
            cost.packet
        ),
    };
    format!(
        "core {core} of chip ({}, {}) ({} neurons {}..{} of `{pop}`) needs {:.1} µs in its worst step and overran in {} steps; over the run its cycles were {:.0} % synaptic events ({} cycles each), {:.0} % packets taken ({}), {:.0} % neuron updates ({}); {remedy}",
        ch.x,
        ch.y,
        slice.len(),
        slice.lo,
        slice.hi,
        t.max_cycles[s] / hw.clock_hz * 1e6,
        t.overruns[s],
        100.0 * w.synaptic_events as f64 * cost.synaptic_event / total,
        cost.synaptic_event,
        100.0 * w.packets as f64 * cost.packet / total,
        cost.packet,
        100.0 * updates / total,
        updates / (w.neuron_updates.max(1) as f64),
    )
}
