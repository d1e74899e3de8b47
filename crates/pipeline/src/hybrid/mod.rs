//! Hybrid chips: tiles of other families (crossbar macros, threshold-logic arrays) on
//! the same chips and network-on-chip as an arm-core model's cores
//! (`[[part]]` in the chip model). One network is mapped across them: the compiler
//! assigns each population to the cores or to a part, by capability and by estimated
//! cost, unless the user pins it (`--assign POP=PART`); every spike travels as a
//! packet through the compiled tables whichever family sends or receives it; the
//! chip simulator runs every slice in s16.15 with the functional model's weights (a
//! crossbar part's conductance-quantised ones), each part's tile counts what it does
//! and a crossbar macro computes its input through its programmed arrays; one ledger
//! prices the cores, the routers and every part.
//!
//! A part's family is one [`PartFamily`] (its own file here: `crossbar`,
//! `binary`), returned by its line of [`crate::any::REGISTRY`]: what it can
//! hold, whether it suits a population, what it costs per step, the weights it
//! computes with, its tiles' counters and its prices. The generic passes (partition,
//! placement, routing, the simulator, the ledger) see only part numbers, tile counts
//! and named actions.

use std::sync::{Arc, Mutex};

use neuromap_compile::{PartKind, Parts};
use neuromap_cost::Ledger;
use neuromap_hw::HwModel;
use neuromap_hw::arm_core::ArmCore;
use neuromap_ir::{Network, PopId, ProjId};
use neuromap_sim::chip::{TileCounter, TileCounts, TileFactory};
use serde::Serialize;

mod binary;
mod crossbar;

pub use binary::{BinaryArrayPart, MAC_BNN, THRESHOLD_LOGIC};
pub use crossbar::CrossbarPart;

/// A family as a part of a hybrid chip (see [`crate::any::Family::part`]).
pub trait PartFamily: Sync + std::fmt::Debug {
    /// The family a part's model names.
    fn family(&self) -> &'static str;
    /// What the report calls this family's tiles.
    fn tile(&self) -> &'static str;
    /// Neurons of `pop` one tile of `part` holds on a chip whose cores are `host`, or
    /// why a tile cannot hold it.
    fn capacity(&self, net: &Network, pop: PopId, part: &HwModel, host: &ArmCore) -> Result<u32, String>;
    /// Why this family is the natural home of `pop` (the capability rule), or why not.
    fn suits(&self, net: &Network, pop: PopId, recurrent: bool) -> Result<&'static str, String>;
    /// Estimated energy of one step of `pop` on tiles of `part` (J), dynamic and the
    /// static power of the tiles it needs over one tick, at `inputs` input spikes per step.
    fn estimate_j(&self, net: &Network, pop: PopId, part: &HwModel, inputs: f64) -> Option<f64>;
    /// Prepares the part for the populations assigned to it; `seed` draws what the
    /// family draws (a crossbar's device programming and read noise, from the run's
    /// fault seed as the crossbar family's own runs do).
    fn prepare(&self, net: &Network, pops: &[PopId], part: &HwModel, seed: u64) -> Result<Box<dyn Prepared>, String>;
}

/// A part ready to run: its functional weights, its tiles' counters, its prices.
pub trait Prepared: Send + Sync {
    /// The weights projection `q` computes with on this part (`None`: as given).
    fn weights(&self, q: ProjId) -> Option<Vec<f32>>;
    /// The counter of a tile holding neurons `lo..hi` of `pop`.
    fn counter(&self, net: &Network, pop: PopId, lo: u32, hi: u32) -> Box<dyn TileCounter>;
    /// Prices what the part's tiles counted into `l`.
    fn price(&self, l: &mut Ledger, part: &HwModel, c: &TileCounts, updates: u64, in_use: u64, allocated: u64);
    /// What a reader of a run on this part must know.
    fn caveats(&self, part: &HwModel) -> Vec<String>;
    /// `Ok` when the tiles, having counted `c`, must have computed exactly what the
    /// functional model computes (a crossbar with ideal cells and an ADC that resolved
    /// every column sum); else what made them differ (a difference from the
    /// functional model is then the devices', not a bug).
    fn exact(&self, _c: &TileCounts) -> Result<(), String> {
        Ok(())
    }
}

/// The part family of `model`: a registered family that can be a part, else one of
/// `extra` (families a caller brings, e.g. a test's).
pub fn part_family(model: &HwModel, extra: &[&'static dyn PartFamily]) -> Option<&'static dyn PartFamily> {
    crate::any::family_of(model)
        .and_then(|f| f.part())
        .or_else(|| extra.iter().copied().find(|p| p.family() == model.family))
}

/// Every family that can be a part.
pub fn part_families() -> Vec<&'static str> {
    crate::any::REGISTRY.iter().filter(|f| f.part().is_some()).map(|f| f.name()).collect()
}

/// Where each population went, and why.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Placed {
    pub population: String,
    /// `cores`, or the part's model name.
    pub on: String,
    pub family: String,
    pub why: String,
}

/// The assignment of populations to the chip's cores and parts.
#[derive(Clone, Debug, Default)]
pub struct Assignment {
    pub parts: Parts,
    pub placed: Vec<Placed>,
}

/// Expected input spikes per step of `pop` (neurons at `rate_hz`, sources at theirs).
fn input_spikes(net: &Network, pop: PopId, rate_hz: f64) -> f64 {
    net.incoming(pop)
        .iter()
        .map(|&q| {
            let pre = net.proj(q).pre;
            neuromap_compile::traffic::expected_spikes(net, pre, 0..net.pop(pre).size as usize, rate_hz)
        })
        .sum()
}

/// Populations on a cycle of projections (themselves included): their input depends
/// on their own output.
fn recurrent(net: &Network) -> Vec<bool> {
    let mut g = petgraph::graph::DiGraph::<(), ()>::new();
    let nodes: Vec<_> = net.pop_ids().map(|_| g.add_node(())).collect();
    let mut out = vec![false; nodes.len()];
    for p in net.projections() {
        if p.pre == p.post {
            out[p.pre.index()] = true;
        }
        g.add_edge(nodes[p.pre.index()], nodes[p.post.index()], ());
    }
    for scc in petgraph::algo::tarjan_scc(&g) {
        if scc.len() > 1 {
            scc.iter().for_each(|n| out[n.index()] = true);
        }
    }
    out
}

/// The energy of one step of `pop` on cores (J): its synaptic events and updates at
/// the cores' cycle costs and active power, and the baseline of the cores it needs
/// over one tick. `None` when the model lacks a figure.
fn cores_estimate_j(net: &Network, pop: PopId, hw: &ArmCore, inputs: f64) -> Option<f64> {
    let p = net.pop(pop);
    let fan: f64 = net
        .incoming(pop)
        .iter()
        .map(|&q| {
            let pr = net.proj(q);
            pr.synapses.len() as f64 / f64::from(net.pop(pr.pre).size.max(1))
        })
        .fold(0.0, f64::max);
    let events = inputs * fan;
    let cycles = inputs * hw.cycles_per_packet?
        + events * hw.cycles_per_synaptic_event?
        + f64::from(p.size) * hw.cycles_per_neuron_update?;
    let cores = f64::from(p.size.div_ceil(hw.max_neurons.max(1)));
    Some(cycles / hw.clock_hz * hw.busy_core_w? + cores * hw.base_core_w.unwrap_or(0.0) * net.dt / 1000.0)
}

/// Assigns every population of `net` to the cores or to a part of `model`:
/// `pinned` first (population → `cores`, a part's family or its model name), then each
/// population a part's family suits goes to the cheapest such part by estimate,
/// when that is cheaper than the cores; the rest to the cores. Sources stay on cores.
pub fn assign(
    net: &Network,
    model: &HwModel,
    pinned: &std::collections::BTreeMap<String, String>,
    extra: &[&'static dyn PartFamily],
) -> Result<Assignment, String> {
    for name in pinned.keys() {
        if !net.populations().iter().any(|p| &p.name == name) {
            return Err(format!("--assign `{name}`: `{}` has no population of that name", net.name));
        }
    }
    let hw = ArmCore::from_model(model).ok_or_else(|| format!("`{}` is not a chip with cores", model.name))?;
    let mut families = Vec::new();
    for part in &model.parts {
        let f = part_family(&part.model, extra).ok_or_else(|| {
            let can = part_families();
            format!(
                "part `{}` of `{}` is of family `{}`; a hybrid chip's parts may be of: {}",
                part.model.name,
                model.name,
                part.model.family,
                can.join(", ")
            )
        })?;
        families.push(f);
    }
    let rec = recurrent(net);
    let name_of = |k: usize| model.parts[k].model.name.clone();
    let pin_why = "pinned (`assign` in the netlist or on the command line)";
    // Per population: the part (None: cores), why, and the neurons a tile takes.
    let mut choice: Vec<Option<(Option<usize>, String, u32)>> = vec![None; net.populations().len()];
    // The populations a part suits and costs less on: (saving, population, part,
    // tile capacity, why), placed by saving while the part has tiles left.
    let mut wanted: Vec<(f64, PopId, usize, u32, String)> = Vec::new();
    for id in net.pop_ids() {
        let p = net.pop(id);
        let inputs = input_spikes(net, id, 10.0);
        let on_cores = cores_estimate_j(net, id, &hw, inputs);
        if let Some(want) = pinned.get(&p.name) {
            if want == "cores" || want == model.family {
                choice[id.index()] = Some((None, pin_why.into(), 0));
                continue;
            }
            let Some(k) = model.parts.iter().position(|x| &x.model.name == want || x.model.family == want) else {
                let mut names = vec!["cores".to_string()];
                names.extend(model.parts.iter().map(|x| format!("{} ({})", x.model.family, x.model.name)));
                return Err(format!(
                    "`{}` pinned to `{want}` (`assign` in the netlist or --assign): `{}` has no part `{want}`; it has {}",
                    p.name,
                    model.name,
                    names.join(", ")
                ));
            };
            if p.is_source() {
                return Err(format!(
                    "`{}` pinned to `{want}` (`assign` in the netlist or --assign): `{}` is a spike source; sources run on cores",
                    p.name, p.name
                ));
            }
            let cap = families[k].capacity(net, id, &model.parts[k].model, &hw).map_err(|why| {
                format!("`{}` pinned to `{want}` (`assign` in the netlist or --assign): a tile of `{}` cannot hold `{}`: {why}", p.name, name_of(k), p.name)
            })?;
            choice[id.index()] = Some((Some(k), pin_why.into(), cap));
            continue;
        }
        if p.is_source() {
            choice[id.index()] = Some((None, "a spike source (sources run on cores)".into(), 0));
            continue;
        }
        // Parts whose family suits the population and whose tile can hold it.
        let mut best: Option<(usize, f64, u32, &'static str)> = None;
        let mut refused = Vec::new();
        for (k, f) in families.iter().enumerate() {
            let rule = match f.suits(net, id, rec[id.index()]) {
                Ok(rule) => rule,
                Err(why) => {
                    refused.push(format!("not {}: {why}", f.family()));
                    continue;
                }
            };
            match f.capacity(net, id, &model.parts[k].model, &hw) {
                Err(why) => refused.push(format!("{} cannot hold it: {why}", name_of(k))),
                Ok(cap) => {
                    let est = f.estimate_j(net, id, &model.parts[k].model, inputs).unwrap_or(f64::INFINITY);
                    if best.is_none_or(|b| est < b.1) {
                        best = Some((k, est, cap, rule));
                    }
                }
            }
        }
        let cores_txt = on_cores.map_or("unknown".into(), neuromap_report::fmt_joules);
        choice[id.index()] = match best {
            Some((k, est, cap, rule)) if on_cores.is_none_or(|c| est <= c) || !est.is_finite() => {
                let why = format!(
                    "{rule}; about {} per step there against {cores_txt} on cores",
                    neuromap_report::fmt_joules(est)
                );
                let saving = on_cores.map_or(f64::INFINITY, |c| c - est);
                wanted.push((saving, id, k, cap, why));
                None
            }
            Some((k, est, _, rule)) => Some((
                None,
                format!(
                    "{rule}, but cheaper on cores: about {cores_txt} per step against {} on {}",
                    neuromap_report::fmt_joules(est),
                    name_of(k)
                ),
                0,
            )),
            None => {
                let why = if refused.is_empty() { "no part suits it".to_string() } else { refused.join("; ") };
                Some((None, why, 0))
            }
        };
    }
    // Tiles: those of every working chip, less what the pinned populations take; the
    // largest savings first.
    let chips = model.machine.alive_chips();
    let tiles_of = |id: PopId, cap: u32| net.pop(id).size.div_ceil(cap.max(1)) as usize;
    let mut left: Vec<usize> = model.parts.iter().map(|x| chips * x.per_chip.value as usize).collect();
    for (i, c) in choice.iter().enumerate() {
        if let Some((Some(k), _, cap)) = c {
            left[*k] = left[*k].saturating_sub(tiles_of(PopId(i as u32), *cap));
        }
    }
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, id, k, cap, why) in wanted {
        let need = tiles_of(id, cap);
        choice[id.index()] = Some(if need <= left[k] {
            left[k] -= need;
            (Some(k), why, cap)
        } else {
            let all = chips * model.parts[k].per_chip.value as usize;
            (None, format!("{why}; but {} has {} of its {all} tiles left, it needs {need}", name_of(k), left[k]), 0)
        });
    }
    let mut of_pop = vec![0u8; net.populations().len()];
    let mut max_neurons = vec![u32::MAX; model.parts.len()];
    let mut placed = Vec::new();
    for (i, c) in choice.into_iter().enumerate() {
        let (k, why, cap) = c.unwrap_or((None, String::new(), 0));
        if let Some(k) = k {
            of_pop[i] = k as u8 + 1;
            max_neurons[k] = max_neurons[k].min(cap);
        }
        placed.push(Placed {
            population: net.populations()[i].name.clone(),
            on: k.map_or("cores".to_string(), name_of),
            family: k.map_or(model.family.to_string(), |k| families[k].family().to_string()),
            why,
        });
    }
    let kinds = model
        .parts
        .iter()
        .zip(&max_neurons)
        .map(|(x, &m)| PartKind { name: x.model.name.clone(), per_chip: x.per_chip.value as u32, max_neurons: m })
        .collect();
    Ok(Assignment { parts: Parts { kinds, of_pop }, placed })
}

/// Where each population went and why, as a table.
pub fn placed_text(placed: &[Placed]) -> String {
    let mut t = neuromap_report::table::Table::new(["population", "on", "family", "why"]);
    for p in placed {
        t.row([p.population.clone(), p.on.clone(), p.family.clone(), p.why.clone()]);
    }
    format!("populations on the hybrid chip\n{}", t.render())
}

/// The plan of a run on `model`: `None` for a chip of one family (then `pinned` must
/// be empty), else the assignment and the prepared parts.
pub fn plan(
    net: &Network,
    model: &HwModel,
    pinned: &std::collections::BTreeMap<String, String>,
) -> Result<Option<Hybrid>, String> {
    plan_with(net, model, pinned, &[], 0)
}

/// [`plan`] with part families beyond the registry's (a caller's own, e.g. a test's).
pub fn plan_with(
    net: &Network,
    model: &HwModel,
    pinned: &std::collections::BTreeMap<String, String>,
    extra: &[&'static dyn PartFamily],
    seed: u64,
) -> Result<Option<Hybrid>, String> {
    if model.parts.is_empty() {
        return match pinned.keys().next() {
            Some(name) => Err(format!(
                "--assign {name}=…: `{}` is a chip of one family; assigning populations needs a hybrid chip model (one with [[part]] tables)",
                model.name
            )),
            None => Ok(None),
        };
    }
    let a = assign(net, model, pinned, extra)?;
    Hybrid::new(net, model, a, extra, seed).map(Some)
}

/// A hybrid run's parts, prepared.
pub struct Hybrid {
    pub assignment: Assignment,
    prepared: Vec<Arc<dyn Prepared>>,
    /// The network the chip computes: every projection into a part's population with
    /// that part's weights.
    pub functional: Network,
    pub caveats: Vec<String>,
}

impl std::fmt::Debug for Hybrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hybrid").field("assignment", &self.assignment).finish_non_exhaustive()
    }
}

impl Hybrid {
    pub fn new(
        net: &Network,
        model: &HwModel,
        assignment: Assignment,
        extra: &[&'static dyn PartFamily],
        seed: u64,
    ) -> Result<Self, String> {
        let mut prepared: Vec<Arc<dyn Prepared>> = Vec::new();
        let mut caveats = Vec::new();
        let mut weights: Vec<Option<Vec<f32>>> = vec![None; net.projections().len()];
        for (k, part) in model.parts.iter().enumerate() {
            let f = part_family(&part.model, extra).ok_or("not a part family")?;
            let pops: Vec<PopId> = net.pop_ids().filter(|&p| usize::from(assignment.parts.of(p)) == k + 1).collect();
            let p: Arc<dyn Prepared> = Arc::from(f.prepare(net, &pops, &part.model, seed)?);
            for &pop in &pops {
                for &q in net.incoming(pop) {
                    if let Some(w) = p.weights(q) {
                        weights[q.index()] = Some(w);
                    }
                }
            }
            if !pops.is_empty() {
                caveats.extend(p.caveats(&part.model));
            }
            prepared.push(p);
        }
        let functional = if weights.iter().all(Option::is_none) {
            net.clone()
        } else {
            let all = weights
                .into_iter()
                .zip(net.projections())
                .map(|(w, p)| w.unwrap_or_else(|| p.synapses.weights().to_vec()))
                .collect();
            net.with_all_weights(all).map_err(|e| e.to_string())?
        };
        Ok(Self { assignment, prepared, functional, caveats })
    }

    /// Whether every part computed exactly what the functional model computes (see
    /// [`Prepared::exact`]), by what its tiles counted.
    pub fn exact(
        &self,
        model: &HwModel,
        mapping: &neuromap_compile::Mapping,
        counts: &neuromap_sim::chip::ChipCounts,
    ) -> Result<(), String> {
        let slices = &mapping.partition.slices;
        let mut why = Vec::new();
        for (k, p) in self.prepared.iter().enumerate() {
            let mut c = TileCounts::default();
            let on = |s: &u32| usize::from(slices[*s as usize].part) == k + 1;
            counts.tiles.iter().filter(|(s, _)| on(s)).for_each(|x| c.add(&x.1));
            if counts.tiles.iter().any(|(s, _)| on(s))
                && let Err(e) = p.exact(&c)
            {
                why.push(format!("{}: {e}", model.parts[k].model.name));
            }
        }
        if why.is_empty() { Ok(()) } else { Err(why.join("; ")) }
    }

    /// The counters of every slice on a part, for the chip simulator.
    pub fn tiles(&self, mapping: &neuromap_compile::Mapping) -> TileFactory {
        let counters: Vec<Option<Box<dyn TileCounter>>> = mapping
            .partition
            .slices
            .iter()
            .map(|s| {
                (s.part > 0)
                    .then(|| self.prepared[usize::from(s.part) - 1].counter(&self.functional, s.pop, s.lo, s.hi))
            })
            .collect();
        let cell = Arc::new(Mutex::new(counters));
        TileFactory(Arc::new(move |s| cell.lock().ok().and_then(|mut v| v.get_mut(s).and_then(Option::take))))
    }

    /// Adds every part's lines to `l` (the chip's own ledger), and each part's time.
    pub fn price(
        &self,
        l: &mut Ledger,
        model: &HwModel,
        mapping: &neuromap_compile::Mapping,
        counts: &neuromap_sim::chip::ChipCounts,
    ) {
        let slices = &mapping.partition.slices;
        let chips = model.machine.alive_chips() as u64;
        let mut times =
            vec![neuromap_cost::ledger::PartTime { part: "cores".into(), need_max_s: 0.0, need_mean_s: 0.0 }];
        let steps = l.time.steps.max(1);
        for (k, part) in model.parts.iter().enumerate() {
            let mut c = TileCounts::default();
            let (mut updates, mut in_use) = (0u64, 0u64);
            let (mut slowest, mut busiest) = (0.0f64, 0.0f64);
            for (s, tc) in &counts.tiles {
                if usize::from(slices[*s as usize].part) == k + 1 {
                    c.add(tc);
                    updates += counts.neuron_updates[*s as usize];
                    in_use += 1;
                    slowest = slowest.max(tc.get("slowest step (s)"));
                    busiest = busiest.max(tc.get("busy (s)") / f64::from(steps));
                }
            }
            let from = (l.lines.len(), l.parts.len());
            let allocated = chips * part.per_chip.value as u64;
            self.prepared[k].price(l, &part.model, &c, updates, in_use, allocated);
            l.tag_part(from.0, from.1, &part.model.name);
            // By population: each tile priced alone, its share of the part's static
            // power in use.
            let static_in_use: f64 =
                l.lines[from.0..].iter().filter(|x| x.term == neuromap_cost::Term::StaticInUse).map(|x| x.joules).sum();
            for (s, tc) in &counts.tiles {
                let sl = &slices[*s as usize];
                if usize::from(sl.part) != k + 1 || l.by_population.len() <= sl.pop.index() {
                    continue;
                }
                let mut one = Ledger::new(&part.model, l.time.clone(), neuromap_cost::Work::default());
                self.prepared[k].price(&mut one, &part.model, tc, counts.neuron_updates[*s as usize], 1, 1);
                let o = &mut l.by_population[sl.pop.index()];
                o.parts += 1;
                o.dynamic_j += one.total(neuromap_cost::Basis::Dynamic);
                o.static_j += static_in_use / in_use.max(1) as f64;
                o.worst_step_s = o.worst_step_s.max(tc.get("slowest step (s)"));
            }
            times.push(neuromap_cost::ledger::PartTime {
                part: part.model.name.clone(),
                need_max_s: slowest,
                need_mean_s: busiest,
            });
        }
        if let Some(t) = counts.timing.as_ref() {
            let need: Vec<f64> = t.critical_cycles.iter().map(|c| c / mapping.hw.clock_hz).collect();
            times[0].need_max_s = need.iter().copied().fold(0.0, f64::max);
            times[0].need_mean_s = need.iter().sum::<f64>() / need.len().max(1) as f64;
        }
        l.part_time = times;
        let parts: Vec<&str> = model.parts.iter().map(|p| p.model.family).collect();
        l.family = format!("hybrid: {} + {}", model.family, parts.join(" + "));
    }
}
