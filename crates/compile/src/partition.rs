//! Partitioning: populations into core-sized slices under every per-core limit.
//!
//! Slices of a population are equal (the last may be shorter), as in sPyNNaker. The
//! size starts at the smaller of the core's neuron limit and what fits its local
//! memory, and shrinks until every slice's synaptic matrix fits the core's share of
//! its chip's shared memory. Delays longer than a core's ring buffer go through a
//! delay-extension core per source slice.

use neuromap_hw::arm_core::ArmCore;
use neuromap_ir::{Network, PopId};
use serde::Serialize;

use crate::CompileError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SliceKind {
    Neurons,
    Source,
    /// Re-sends the spikes of slice `of` after multiples of the core's longest delay.
    DelayExtension {
        of: u32,
    },
}

/// A range of neurons `lo..hi` of one population, simulated by one core.
#[derive(Clone, Debug, Serialize)]
pub struct Slice {
    pub pop: PopId,
    pub lo: u32,
    pub hi: u32,
    pub kind: SliceKind,
    pub local_memory_bytes: u64,
    pub synapse_bytes: u64,
    /// 0: a core; `k`: a tile of the hybrid chip's part `k − 1` (its memory is the
    /// part's: the core figures above are 0).
    pub part: u8,
}

impl Slice {
    pub fn len(&self) -> u32 {
        self.hi - self.lo
    }

    pub fn is_empty(&self) -> bool {
        self.hi == self.lo
    }
}

/// Slices and how to find the slice of any neuron.
#[derive(Clone, Debug)]
pub struct Partition {
    pub slices: Vec<Slice>,
    /// Per population: (first slice index, slice size).
    pub pop_slices: Vec<(u32, u32)>,
    /// Per neuron/source slice: its delay-extension slice, if it has one.
    pub delay_extension: Vec<Option<u32>>,
}

impl Partition {
    /// The slice of each of population `pop`'s neurons: its first slice plus the
    /// neuron over the slice size ([`Partition::pop_slices`]), divided by a
    /// multiplication.
    pub fn slicer(&self, pop: PopId) -> SliceOf {
        let (first, size) = self.pop_slices[pop.index()];
        SliceOf { first, size, by_size: Divisor::new(size) }
    }
}

/// The slice of a population's neuron ([`Partition::slicer`]).
#[derive(Clone, Copy, Debug)]
pub struct SliceOf {
    first: u32,
    size: u32,
    by_size: Divisor,
}

impl SliceOf {
    /// The slice of `neuron`.
    #[inline]
    pub fn of(&self, neuron: u32) -> u32 {
        self.first + self.by_size.quotient(neuron)
    }

    /// The place of `neuron`'s slice among its population's (0 for the first), and
    /// the neuron's index in that slice.
    #[inline]
    pub fn place(&self, neuron: u32) -> (u32, u32) {
        let t = self.by_size.quotient(neuron);
        (t, neuron - t * self.size)
    }
}

/// Division of a `u32` by a divisor fixed beforehand, by one multiplication: the
/// quotient is the high word of `m · n` with `m = ⌈2⁶⁴ / d⌉`, exact for every `u32`
/// numerator (Lemire, Kaser and Kurz, "Faster remainder by direct computation",
/// 2019). Finding a synapse's target slice divides by its population's slice size
/// ([`SliceOf`]: the traffic, the chip simulator's synapses by sender).
#[derive(Clone, Copy, Debug)]
struct Divisor {
    /// `⌈2⁶⁴ / d⌉`; 0 for `d = 1` (2⁶⁴ does not fit), which divides by returning `n`.
    m: u64,
}

impl Divisor {
    /// For `d ≥ 1`.
    fn new(d: u32) -> Divisor {
        debug_assert!(d >= 1);
        Divisor { m: if d <= 1 { 0 } else { u64::MAX / u64::from(d) + 1 } }
    }

    #[inline]
    fn quotient(self, n: u32) -> u32 {
        if self.m == 0 {
            return n;
        }
        ((u128::from(self.m) * u128::from(n)) >> 64) as u32
    }
}

/// Cuts every population into slices of at most the model's neurons per core (fewer
/// where `caps` names the population), each of whose synaptic matrix fits a core's
/// share of shared memory.
pub fn partition(
    net: &Network,
    hw: &ArmCore,
    caps: &std::collections::BTreeMap<String, u32>,
    parts: &crate::Parts,
) -> Result<Partition, CompileError> {
    // Neurons per core by local memory, at the state bytes of the population's model
    // (`check_models` has refused a model the chip does not give them for).
    let cap_for = |p: &neuromap_ir::Population| -> Result<(u64, u64), CompileError> {
        let state = hw.state_bytes(p.model_name()).unwrap_or(hw.neuron_state_bytes);
        let by_memory = hw.local_memory_bytes.saturating_sub(hw.overhead_bytes) / state.max(1);
        let cap = u64::from(hw.max_neurons).min(by_memory);
        if cap == 0 {
            return Err(CompileError::DoesNotFit {
                resource: "core local memory".into(),
                demand: format!("{} bytes for one {} neuron", crate::group(hw.overhead_bytes + state), p.model_name()),
                capacity: format!("{} bytes", crate::group(hw.local_memory_bytes)),
                help: "the model's overhead_bytes and the neuron's state bytes leave no room for a neuron".into(),
            });
        }
        Ok((cap, state))
    };
    let budget = hw.sdram_per_core();
    let mut slices = Vec::new();
    let mut pop_slices = Vec::with_capacity(net.populations().len());
    for id in net.pop_ids() {
        let p = net.pop(id);
        let n = u64::from(p.size);
        let part = parts.of(id);
        if part > 0 {
            // A tile of another family: slices of at most what one tile holds.
            let max = u64::from(parts.kinds[usize::from(part) - 1].max_neurons).max(1);
            let size = n.div_ceil(n.div_ceil(max)).max(1);
            pop_slices.push((slices.len() as u32, size as u32));
            let mut lo = 0u64;
            while lo < n {
                let hi = (lo + size).min(n);
                let kind = SliceKind::Neurons;
                slices.push(Slice {
                    pop: id,
                    lo: lo as u32,
                    hi: hi as u32,
                    kind,
                    local_memory_bytes: 0,
                    synapse_bytes: 0,
                    part,
                });
                lo = hi;
            }
            continue;
        }
        // Synapses into each neuron, and per projection the source count (a bound on rows).
        let mut sources = 0u64;
        for &q in net.incoming(id) {
            let pr = net.proj(q);
            let longest = u32::from(pr.synapses.max_delay());
            if longest > hw.longest_delay() {
                return Err(CompileError::DoesNotFit {
                    resource: "delay range".into(),
                    demand: format!("{longest} steps in projection `{}`", pr.name),
                    capacity: format!(
                        "{} steps ({} in a core × {} with {} delay-extension stages)",
                        hw.longest_delay(),
                        hw.max_delay_steps,
                        hw.delay_extension_stages + 1,
                        hw.delay_extension_stages
                    ),
                    help: "shorten the delays, or use a larger dt".into(),
                });
            }
            sources += u64::from(net.pop(pr.pre).size);
        }
        let mut prefix = in_degrees(net, id);
        for i in 0..p.size as usize {
            prefix[i + 1] += prefix[i];
        }
        let bytes = |lo: u64, hi: u64| {
            let syn = prefix[hi as usize] - prefix[lo as usize];
            syn * hw.synapse_bytes + syn.min(sources) * hw.row_header_bytes
        };
        let (cap, state) = cap_for(p)?;
        let cap = caps.get(&p.name).map_or(cap, |&c| cap.min(u64::from(c)));
        let mut size = cap.min(n).max(1);
        loop {
            let worst = (0..n.div_ceil(size)).map(|k| bytes(k * size, ((k + 1) * size).min(n))).max().unwrap_or(0);
            if worst <= budget {
                break;
            }
            if size == 1 {
                return Err(CompileError::DoesNotFit {
                    resource: "shared memory (synaptic matrix)".into(),
                    demand: format!("{} bytes for one neuron of population `{}`", crate::group(worst), p.name),
                    capacity: format!(
                        "{} bytes, a core's share of a chip's {} bytes over {} cores",
                        crate::group(budget),
                        crate::group(hw.sdram_bytes),
                        hw.app_cores()
                    ),
                    help: "reduce that neuron's in-degree, or use a chip with more shared memory".into(),
                });
            }
            size = (size * budget / worst).clamp(1, size - 1);
        }
        // Equal slices: as many as the size needs, as even as they can be.
        let size = n.div_ceil(n.div_ceil(size));
        let first = slices.len() as u32;
        pop_slices.push((first, size as u32));
        let kind = if p.is_source() { SliceKind::Source } else { SliceKind::Neurons };
        let mut lo = 0u64;
        while lo < n {
            let hi = (lo + size).min(n);
            slices.push(Slice {
                pop: id,
                lo: lo as u32,
                hi: hi as u32,
                kind,
                local_memory_bytes: hw.overhead_bytes + (hi - lo) * state,
                synapse_bytes: bytes(lo, hi),
                part: 0,
            });
            lo = hi;
        }
    }
    // A delay-extension core for every slice that sends over a delay too long for a core.
    let mut delay_extension = vec![None; slices.len()];
    let needs: Vec<bool> = net
        .pop_ids()
        .map(|id| net.outgoing(id).iter().any(|&q| u32::from(net.proj(q).synapses.max_delay()) > hw.max_delay_steps))
        .collect();
    for s in 0..slices.len() {
        let sl = &slices[s];
        if needs[sl.pop.index()] {
            delay_extension[s] = Some(slices.len() as u32);
            let n = u64::from(sl.len());
            let (pop, lo, hi) = (sl.pop, sl.lo, sl.hi);
            slices.push(Slice {
                pop,
                lo,
                hi,
                kind: SliceKind::DelayExtension { of: s as u32 },
                // A bit per neuron and stage of pending spikes.
                local_memory_bytes: hw.overhead_bytes
                    + n * u64::from(hw.delay_extension_stages + 1).div_ceil(8).max(1) * u64::from(hw.max_delay_steps),
                synapse_bytes: 0,
                part: 0,
            });
        }
    }
    delay_extension.resize(slices.len(), None);
    Ok(Partition { slices, pop_slices, delay_extension })
}

/// Population `id`'s synapses into each neuron `j`, at `j + 1` (index 0 holds 0): the
/// targets of its incoming projections (checked to lie in the population when the
/// network was built) counted in parallel, in blocks of a million.
fn in_degrees(net: &Network, id: PopId) -> Vec<u64> {
    use rayon::prelude::*;
    let n = net.pop(id).size as usize + 1;
    let blocks: Vec<&[u32]> =
        net.incoming(id).iter().flat_map(|&q| net.proj(q).synapses.posts().chunks(1 << 20)).collect();
    blocks
        .into_par_iter()
        .fold(
            || vec![0u64; n],
            |mut count, block| {
                for &j in block {
                    count[j as usize + 1] += 1;
                }
                count
            },
        )
        .reduce(
            || vec![0u64; n],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn a_divisor_divides_as_integer_division_does(n in proptest::prelude::any::<u32>(), d in 1u32..=u32::MAX) {
            proptest::prop_assert_eq!(Divisor::new(d).quotient(n), n / d);
        }
    }

    #[test]
    fn a_neurons_slice_and_place_are_the_division_and_remainder() {
        for size in [1u32, 3, 255, 256, 1000] {
            let slicer = SliceOf { first: 7, size, by_size: Divisor::new(size) };
            for n in 0..3 * size + 2 {
                assert_eq!(slicer.of(n), 7 + n / size, "{n} over {size}");
            }
            for n in (0..3 * size + 2).chain([u32::MAX / size * size, u32::MAX]) {
                assert_eq!(slicer.place(n), (n / size, n % size), "{n} over {size}");
            }
        }
    }

    #[test]
    fn a_divisor_divides_every_edge_exactly() {
        let ds = (1u32..=1025).chain([u32::MAX, u32::MAX - 1, 1 << 16, (1 << 16) + 1, 1 << 31, (1 << 31) + 1, 3 << 20]);
        for d in ds {
            let by = Divisor::new(d);
            for n in [
                0,
                1,
                d - 1,
                d,
                d.saturating_add(1),
                u32::MAX,
                u32::MAX - 1,
                u32::MAX / d * d,
                (u32::MAX / d * d).wrapping_sub(1),
            ] {
                assert_eq!(by.quotient(n), n / d, "{n} / {d}");
            }
        }
    }
}
