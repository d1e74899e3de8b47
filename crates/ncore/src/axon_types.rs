//! TrueNorth's weight constraint: a core's input axons each have one of a few types
//! (TrueNorth: 4), and each neuron one signed weight per type (Merolla et al., Science
//! 345:668, 2014; Cassidy et al., IJCNN 2013). A synapse from axon `i` to neuron `j`
//! weighs `s_j[type(i)]`, so every neuron may see at most that many distinct weights
//! on a core, and two axons of one type must carry the same weight to every neuron
//! both reach.
//!
//! [`assign`] gives each core's axons types (first fit, axons in order); a network no
//! assignment expresses is refused, naming the neuron and the weights it needs, or,
//! when asked, quantised: each core's axons are grouped by their mean weight into the
//! available types, and each neuron's weight for a type is the mean of its weights from
//! that type's axons.

use std::collections::BTreeMap;

use neuromap_ir::Network;

use crate::{NcoreError, NcoreMapping};

/// What the assignment did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct AxonTypes {
    /// The types available per core.
    pub types: u32,
    /// The most types any core used.
    pub max_used: u32,
    /// Cores whose weights were quantised (none unless asked).
    pub quantised_cores: usize,
    /// The largest |quantised − given| weight, and the root mean square over synapses.
    pub max_error: f64,
    pub rms_error: f64,
}

/// One synapse as a core sees it: axon (pre population, neuron), target (post
/// population, neuron), weight, and where it sits (projection, index in it).
#[derive(Clone, Copy, Debug)]
struct Syn {
    core: u32,
    axon: (u32, u32),
    target: (u32, u32),
    w: f64,
    at: (u32, u32),
}

/// Checks (and, with `quantise`, enforces) `types` axon types per core on `net` as
/// `mapping` places it; returns the network with the weights the chip computes with.
/// `units` gives each population's potential unit (mV) when `net`'s weights are whole
/// numbers of it (an integer neuron): errors and refusals are then told in mV.
pub fn assign(
    net: &Network,
    mapping: &NcoreMapping,
    types: u32,
    quantise: bool,
    units: Option<&[f64]>,
) -> Result<(Option<Network>, AxonTypes), NcoreError> {
    let types = types.max(1);
    let unit = |pop: u32| units.map_or(1.0, |u| u[pop as usize]);
    let mut syns = Vec::with_capacity(net.n_synapses() as usize);
    for (q, pr) in net.projections().iter().enumerate() {
        for (k, (i, j, w, _)) in pr.synapses.iter().enumerate() {
            syns.push(Syn {
                core: mapping.core_of(pr.post.index(), j) as u32,
                axon: (pr.pre.index() as u32, i),
                target: (pr.post.index() as u32, j),
                w: f64::from(w),
                at: (q as u32, k as u32),
            });
        }
    }
    syns.sort_by_key(|s| (s.core, s.axon, s.target));
    let mut out = AxonTypes { types, ..Default::default() };
    let mut new_weights: Option<Vec<Vec<f32>>> = None;
    let mut sq = 0.0f64;
    for core in syns.chunk_by(|a, b| a.core == b.core) {
        // Per axon, its summed weight to each target (a crossbar connects once).
        let axons: Vec<Axon> = core
            .chunk_by(|a, b| a.axon == b.axon)
            .map(|ax| {
                let mut t: Vec<((u32, u32), f64)> = Vec::new();
                for s in ax {
                    match t.last_mut() {
                        Some(last) if last.0 == s.target => last.1 += s.w,
                        _ => t.push((s.target, s.w)),
                    }
                }
                (ax[0].axon, t)
            })
            .collect();
        match first_fit(&axons, types) {
            Ok(used) => out.max_used = out.max_used.max(used),
            Err(axon) if !quantise => return Err(refusal(net, core[0].core, &axons, axon, types, units)),
            Err(_) => {
                let (kind, weights) = quantised(&axons, types);
                out.quantised_cores += 1;
                out.max_used = out.max_used.max(types);
                let nw = new_weights
                    .get_or_insert_with(|| net.projections().iter().map(|p| p.synapses.weights().to_vec()).collect());
                // Each synapse takes its share of the neuron's weight for its axon's type.
                let mut count: BTreeMap<(Neuron, Neuron), u32> = BTreeMap::new();
                for s in core {
                    *count.entry((s.axon, s.target)).or_default() += 1;
                }
                for s in core {
                    let t = kind[&s.axon];
                    let total = weights[&(s.target, t)];
                    let w = total / f64::from(count[&(s.axon, s.target)]);
                    nw[s.at.0 as usize][s.at.1 as usize] = w as f32;
                    let e = (w - s.w).abs() * unit(s.target.0);
                    out.max_error = out.max_error.max(e);
                    sq += e * e;
                }
            }
        }
    }
    out.rms_error = (sq / syns.len().max(1) as f64).sqrt();
    let net = match new_weights {
        Some(w) => Some(net.with_all_weights(w).map_err(|e| NcoreError::Network(e.to_string()))?),
        None => None,
    };
    Ok((net, out))
}

/// A neuron: (population, index in it).
type Neuron = (u32, u32);

/// An axon (its presynaptic neuron) and its summed weight to each target it reaches.
type Axon = (Neuron, Vec<(Neuron, f64)>);

/// Types for a core's axons, first fit in axon order: the types used, or the index of
/// the first axon no type takes.
fn first_fit(axons: &[Axon], types: u32) -> Result<u32, usize> {
    let mut tables: Vec<BTreeMap<(u32, u32), f64>> = Vec::new();
    for (a, (_, targets)) in axons.iter().enumerate() {
        let fits = |t: &BTreeMap<(u32, u32), f64>| targets.iter().all(|(j, w)| t.get(j).is_none_or(|x| x == w));
        match tables.iter().position(fits) {
            Some(k) => tables[k].extend(targets.iter().copied()),
            None if tables.len() < types as usize => tables.push(targets.iter().copied().collect()),
            None => return Err(a),
        }
    }
    Ok(tables.len() as u32)
}

/// Why a core's weights cannot be expressed: a neuron needing more distinct weights
/// than there are types if there is one (no assignment can help), else the axon first
/// fit could not place.
fn refusal(net: &Network, core: u32, axons: &[Axon], failed: usize, types: u32, units: Option<&[f64]>) -> NcoreError {
    let mut distinct: BTreeMap<(u32, u32), Vec<f64>> = BTreeMap::new();
    for (_, targets) in axons {
        for &(j, w) in targets {
            let d = distinct.entry(j).or_default();
            if !d.contains(&w) {
                d.push(w);
            }
        }
    }
    let name = |(p, i): (u32, u32)| format!("neuron {i} of `{}`", net.populations()[p as usize].name);
    let worst = distinct.iter().max_by_key(|(j, d)| (d.len(), std::cmp::Reverse(**j)));
    match worst {
        Some((&j, d)) if d.len() > types as usize => {
            let mut d = d.clone();
            d.sort_by(f64::total_cmp);
            let shown: Vec<String> = d
                .iter()
                .take(8)
                .map(|w| match units {
                    Some(u) => format!("{w} = {:.4} mV", w * u[j.0 as usize]),
                    None => format!("{w}"),
                })
                .collect();
            NcoreError::AxonTypes {
                core: core as usize,
                why: format!(
                    "{} takes {} distinct weights ({}{}) from its axons on this core, and a neuron has one weight per axon type ({types} types)",
                    name(j),
                    d.len(),
                    shown.join(", "),
                    if d.len() > 8 { ", …" } else { "" }
                ),
            }
        }
        _ => NcoreError::AxonTypes {
            core: core as usize,
            why: format!(
                "no neuron needs more than {types} weights, but first-fit found no type for the axon from {} ({types} types; axons of one type must carry the same weight to every neuron both reach)",
                name(axons[failed].0)
            ),
        },
    }
}

/// Quantised types for a core: axons grouped by their mean weight into `types`
/// groups of consecutive means (1-D k-means from quantile starts); each neuron's
/// weight for a type, the mean of its weights from that type's axons.
fn quantised(axons: &[Axon], types: u32) -> (BTreeMap<Neuron, u32>, BTreeMap<(Neuron, u32), f64>) {
    let mean: Vec<f64> =
        axons.iter().map(|(_, t)| t.iter().map(|x| x.1).sum::<f64>() / t.len().max(1) as f64).collect();
    let mut sorted = mean.clone();
    sorted.sort_by(f64::total_cmp);
    let k = (types as usize).min(sorted.len()).max(1);
    let mut centres: Vec<f64> = (0..k).map(|c| sorted[(2 * c + 1) * sorted.len() / (2 * k)]).collect();
    let mut kind = vec![0u32; axons.len()];
    for _ in 0..50 {
        for (a, &m) in mean.iter().enumerate() {
            kind[a] =
                (0..k).min_by(|&x, &y| (m - centres[x]).abs().total_cmp(&(m - centres[y]).abs())).unwrap_or(0) as u32;
        }
        let mut moved = false;
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<f64> = (0..axons.len()).filter(|&a| kind[a] == c as u32).map(|a| mean[a]).collect();
            if !members.is_empty() {
                let m = members.iter().sum::<f64>() / members.len() as f64;
                moved |= m != *centre;
                *centre = m;
            }
        }
        if !moved {
            break;
        }
    }
    let mut sums: BTreeMap<(Neuron, u32), (f64, u32)> = BTreeMap::new();
    for (a, (_, targets)) in axons.iter().enumerate() {
        for &(j, w) in targets {
            let e = sums.entry((j, kind[a])).or_default();
            e.0 += w;
            e.1 += 1;
        }
    }
    let weights = sums.into_iter().map(|(key, (s, n))| (key, s / f64::from(n))).collect();
    let kinds = axons.iter().zip(kind).map(|((id, _), t)| (*id, t)).collect();
    (kinds, weights)
}
