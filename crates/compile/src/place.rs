//! Placement: slices onto cores.
//!
//! 1. Chips are ordered by a breadth-first walk over working links from the first
//!    working chip, so consecutive slices land on neighbouring chips, and chips the
//!    walk cannot reach (cut off by dead chips or links) are never used.
//! 2. Slices fill cores in population order along that walk.
//! 3. Simulated annealing swaps slices to lower Σ expected spikes × hops between
//!    communicating slices, under a move budget that also bounds the edges it reads;
//!    it is seeded, so placement is deterministic, and it reports why it stopped.

use std::collections::VecDeque;

use neuromap_hw::arm_core::ArmCore;
use neuromap_hw::{ChipId, Machine};
use rand::RngExt;
use serde::Serialize;

use crate::CompileError;
use crate::traffic::Traffic;

/// Where each slice runs.
#[derive(Clone, Debug)]
pub struct Placement {
    /// Per slice: chip and core number.
    pub core_of: Vec<(ChipId, u32)>,
    pub stats: PlaceStats,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PlaceStats {
    /// Σ expected spikes per step × hops, before and after refinement.
    pub initial_cost: f64,
    pub final_cost: f64,
    pub moves_tried: u64,
    pub moves_accepted: u64,
    pub stop_reason: String,
}

/// The most edges the default refinement budget reads (about a second's work).
const MAX_EDGE_READS: u64 = 1_000_000_000;

/// Breadth-first order of the working chips reachable from the first working chip.
pub fn chip_order(m: &Machine) -> Vec<ChipId> {
    let Some(start) = m.chip_ids().find(|&c| m.chip(c).alive) else {
        return Vec::new();
    };
    let g = crate::graph::Links(m);
    let mut bfs = petgraph::visit::Bfs::new(g, start);
    std::iter::from_fn(|| bfs.next(g)).collect()
}

/// Hop distances between the given chips (over working links), `dist[a * n + b]`.
fn distances(m: &Machine, chips: &[ChipId]) -> Vec<u16> {
    let n = chips.len();
    let mut local = vec![u32::MAX; m.chips().len()];
    for (i, c) in chips.iter().enumerate() {
        local[c.index()] = i as u32;
    }
    let mut dist = vec![u16::MAX; n * n];
    let mut hop = vec![u16::MAX; m.chips().len()];
    for (a, &src) in chips.iter().enumerate() {
        hop.iter_mut().for_each(|h| *h = u16::MAX);
        hop[src.index()] = 0;
        let mut q = VecDeque::from([src]);
        while let Some(c) = q.pop_front() {
            let h = hop[c.index()];
            if local[c.index()] != u32::MAX {
                dist[a * n + local[c.index()] as usize] = h;
            }
            for d in 0..m.topology.n_links() {
                if let Some(nb) = m.neighbour(c, d)
                    && hop[nb.index()] == u16::MAX
                {
                    hop[nb.index()] = h.saturating_add(1);
                    q.push_back(nb);
                }
            }
        }
    }
    dist
}

/// The cores of a chip that may run slices.
pub fn app_cores(m: &Machine, hw: &ArmCore, c: ChipId) -> Vec<u32> {
    let chip = m.chip(c);
    (hw.reserved_cores..hw.cores).filter(|k| !chip.dead_cores.contains(k)).collect()
}

/// The endpoints of a chip that may run slices of part `k` (0: the working cores; a
/// part's tiles are numbered after the cores).
pub fn endpoints(m: &Machine, hw: &ArmCore, parts: &crate::Parts, c: ChipId, k: u8) -> Vec<u32> {
    if k == 0 { app_cores(m, hw, c) } else { parts.endpoints(hw.cores, k).collect() }
}

pub fn place(
    m: &Machine,
    hw: &ArmCore,
    traffic: &Traffic,
    partition: &crate::partition::Partition,
    parts: &crate::Parts,
    seed: u64,
    budget: Option<u64>,
) -> Result<Placement, CompileError> {
    let n = traffic.targets.len();
    let order = chip_order(m);
    let kinds = parts.kinds.len() + 1;
    let kind_of: Vec<u8> = partition.slices.iter().map(|s| s.part).collect();
    let mut demand = vec![0usize; kinds];
    kind_of.iter().for_each(|&k| demand[usize::from(k)] += 1);
    for k in 0..kinds as u8 {
        let total: usize = order.iter().map(|&c| endpoints(m, hw, parts, c, k).len()).sum();
        let want = demand[usize::from(k)];
        if want <= total {
            continue;
        }
        if k > 0 {
            return Err(CompileError::DoesNotFit {
                resource: format!("{} tiles", parts.name(k)),
                demand: match parts.kinds[usize::from(k) - 1].max_neurons {
                    u32::MAX => format!("{} (a population each)", crate::plural(want, "tile")),
                    m => format!("{} (at most {m} neurons each)", crate::plural(want, "tile")),
                },
                capacity: format!("{} on {}", crate::plural(total, "tile"), crate::plural(order.len(), "reachable chip")),
                help: "assign fewer populations to this part (`--assign POP=cores`), or use a model with more tiles per chip".into(),
            });
        }
        let all: usize = m.chip_ids().map(|c| app_cores(m, hw, c).len()).sum();
        let cut = if all > total {
            format!(" ({} of {} working cores are cut off from the rest by dead chips or links)", all - total, all)
        } else {
            String::new()
        };
        return Err(CompileError::DoesNotFit {
            resource: "cores".into(),
            demand: format!("{}, one per slice", crate::plural(want, "core")),
            capacity: format!(
                "{} on {}{cut}",
                crate::plural(total, "usable core"),
                crate::plural(order.len(), "reachable chip")
            ),
            help: "use a larger machine (more chips or boards), or fewer or smaller populations".into(),
        });
    }
    // Slots: the endpoints of the chips the fill needs, plus a margin for refinement.
    let mut slots: Vec<(usize, u32)> = Vec::new();
    let mut slot_kind: Vec<u8> = Vec::new();
    let mut have = vec![0usize; kinds];
    let mut chips = Vec::new();
    for &c in &order {
        let mut here: Vec<(u8, Vec<u32>)> = (0..kinds as u8).map(|k| (k, endpoints(m, hw, parts, c, k))).collect();
        here.retain(|(_, e)| !e.is_empty());
        if here.is_empty() {
            continue;
        }
        if (0..kinds).all(|k| have[k] >= demand[k]) {
            // Enough: stop a quarter beyond the chips the fill needs at this chip's size.
            let limit = here
                .iter()
                .map(|(k, e)| (demand[usize::from(*k)].div_ceil(e.len()).max(1) * 5).div_ceil(4))
                .max()
                .unwrap_or(0);
            if chips.len() > limit {
                break;
            }
        }
        chips.push(c);
        for (k, e) in here {
            for x in e {
                slots.push((chips.len() - 1, x));
                slot_kind.push(k);
                have[usize::from(k)] += 1;
            }
        }
    }
    // The fill: each slice on the next free slot of its kind, in chip-walk order.
    // (Putting a source that feeds one slice right after that slice lowers the
    // source traffic but spreads each population over twice the chips: on the full
    // microcircuit it tripled the links crossed in a run, so population order stays.)
    let mut by_kind: Vec<Vec<usize>> = vec![Vec::new(); kinds];
    for (i, &k) in slot_kind.iter().enumerate() {
        by_kind[usize::from(k)].push(i);
    }
    let mut next = vec![0usize; kinds];
    let mut slot_of: Vec<usize> = Vec::with_capacity(n);
    for &k in &kind_of {
        let k = usize::from(k);
        slot_of.push(by_kind[k][next[k]]);
        next[k] += 1;
    }
    let mut held: Vec<Option<u32>> = vec![None; slots.len()];
    for (s, &x) in slot_of.iter().enumerate() {
        held[x] = Some(s as u32);
    }
    let dist = distances(m, &chips);
    let nc = chips.len();
    // Edges in both directions, weighted by the sender's spikes per step.
    let mut adj: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    for (s, ts) in traffic.targets.iter().enumerate() {
        for &t in ts {
            if t as usize != s {
                let w = traffic.spikes_per_step[s];
                adj[s].push((t, w));
                adj[t as usize].push((s as u32, w));
            }
        }
    }
    let chip_of = |slot_of: &Vec<usize>, s: usize| slots[slot_of[s]].0;
    let cost_of = |slot_of: &Vec<usize>, s: usize| -> f64 {
        let a = chip_of(slot_of, s);
        adj[s].iter().map(|&(t, w)| w * f64::from(dist[a * nc + chip_of(slot_of, t as usize)])).sum()
    };
    let total = |slot_of: &Vec<usize>| -> f64 { (0..n).map(|s| cost_of(slot_of, s)).sum::<f64>() / 2.0 };
    let initial_cost = total(&slot_of);
    // A move reads the edges of two slices, so a network whose slices all talk to
    // each other gets fewer moves: the default budget bounds the edges read.
    let edges: u64 = adj.iter().map(|a| a.len() as u64).sum();
    let per_move = (4 * edges).div_ceil(n.max(1) as u64).max(1);
    let budget = budget.unwrap_or_else(|| (200 * n as u64).min(2_000_000).min(MAX_EDGE_READS / per_move));
    let mut stats = PlaceStats {
        initial_cost,
        final_cost: initial_cost,
        moves_tried: 0,
        moves_accepted: 0,
        stop_reason: String::new(),
    };
    if nc <= 1 || n < 2 {
        stats.stop_reason = "nothing to refine: the slices share one chip".into();
    } else if initial_cost == 0.0 {
        stats.stop_reason = "nothing to refine: no traffic between chips".into();
    } else if budget == 0 {
        stats.stop_reason = "refinement disabled (a budget of 0 moves)".into();
    } else {
        let mut rng = neuromap_ir::rng::stream(seed, "place", "anneal", 0);
        // Move a slice to a slot (swapping with its holder); returns the cost change.
        let delta = |slot_of: &mut Vec<usize>, held: &[Option<u32>], a: usize, to: usize| -> f64 {
            let from = slot_of[a];
            let other = held[to];
            let before = cost_of(slot_of, a) + other.map_or(0.0, |b| cost_of(slot_of, b as usize));
            slot_of[a] = to;
            if let Some(b) = other {
                slot_of[b as usize] = from;
            }
            let after = cost_of(slot_of, a) + other.map_or(0.0, |b| cost_of(slot_of, b as usize));
            slot_of[a] = from;
            if let Some(b) = other {
                slot_of[b as usize] = to;
            }
            after - before
        };
        // Start hot enough to accept most uphill moves of a typical size.
        let mut sample = 0.0;
        for _ in 0..100 {
            let a = rng.random_range(0..n);
            let same = &by_kind[usize::from(kind_of[a])];
            let to = same[rng.random_range(0..same.len())];
            sample += delta(&mut slot_of, &held, a, to).abs();
        }
        let t0 = (sample / 100.0).max(1e-12);
        let start = slot_of.clone();
        for k in 0..budget {
            let temp = t0 * (1e-3f64).powf(k as f64 / budget as f64);
            let a = rng.random_range(0..n);
            let same = &by_kind[usize::from(kind_of[a])];
            let to = same[rng.random_range(0..same.len())];
            if slot_of[a] == to {
                continue;
            }
            stats.moves_tried += 1;
            let d = delta(&mut slot_of, &held, a, to);
            if d <= 0.0 || rng.random::<f64>() < (-d / temp).exp() {
                let from = slot_of[a];
                let other = held[to];
                slot_of[a] = to;
                held[to] = Some(a as u32);
                held[from] = other;
                if let Some(b) = other {
                    slot_of[b as usize] = from;
                }
                stats.moves_accepted += 1;
            }
        }
        stats.stop_reason = format!("move budget of {budget} used");
        if total(&slot_of) > initial_cost {
            // Annealing accepts uphill moves; never end worse than the fill.
            slot_of = start;
            stats.stop_reason.push_str("; the fill was better and is kept");
        }
    }
    stats.final_cost = total(&slot_of);
    let core_of = (0..n).map(|s| (chips[slots[slot_of[s]].0], slots[slot_of[s]].1)).collect();
    Ok(Placement { core_of, stats })
}
