//! Cores and shards: each slice's state and synaptic rows, and the split over threads.

use super::*;

/// The most neurons a slice (one core's neurons) may hold: rows index them in 16 bits.
pub(super) const MAX_SLICE: u32 = 1 << 16;

/// The synapses of one projection whose targets are on one core, by presynaptic
/// neuron: those carried by direct packets, or (`delayed`) by delay-extension packets.
#[derive(Debug)]
pub(super) struct Rows {
    pub(super) proj: usize,
    pub(super) pre: PopId,
    pub(super) receptor: usize,
    pub(super) delayed: bool,
    /// Where each presynaptic neuron's synapses start in `syn` (one more entry than
    /// there are rows, the last being `syn.len()`): when `listed` is `None`, for the
    /// neurons `base..` in order; else for the neurons listed there.
    pub(super) start: Vec<u32>,
    pub(super) base: u32,
    /// The presynaptic neurons with a synapse on this core, increasing, when that is
    /// the smaller index: a 10⁶-neuron network whose cores each hear from a few
    /// thousand of them scattered over all would otherwise hold a start per neuron
    /// per core.
    pub(super) listed: Option<Vec<u32>>,
    pub(super) syn: Vec<Syn>,
    /// The delay of every synapse in `syn`, when they all have one: a row is then
    /// added into one step's inputs.
    pub(super) delay: Option<u16>,
    /// Whether a synapse of its projection has no delay: its input is for the step it
    /// arrives in.
    pub(super) undelayed: bool,
}

impl Rows {
    /// The range in `syn` of presynaptic neuron `g`'s synapses (empty if it has none
    /// here).
    #[inline]
    pub(super) fn span(&self, g: usize) -> (usize, usize) {
        match &self.listed {
            None => match self.dense_at(g) {
                Some(i) if i + 1 < self.start.len() => (self.start[i] as usize, self.start[i + 1] as usize),
                _ => (0, 0),
            },
            Some(ids) => match ids.binary_search(&(g as u32)) {
                Ok(i) => (self.start[i] as usize, self.start[i + 1] as usize),
                Err(_) => (0, 0),
            },
        }
    }

    /// Where presynaptic neuron `g`'s entry is in `start` when the index is dense
    /// (`None` below its first neuron, or when the index is a list).
    #[inline]
    pub(super) fn dense_at(&self, g: usize) -> Option<usize> {
        if self.listed.is_some() { None } else { g.checked_sub(self.base as usize) }
    }

    /// Bytes of the index of a row of `syn` synapses from `listed` of `n_pre`
    /// presynaptic neurons, as [`dense_if_smaller`] chooses it for neurons spanning
    /// all `n_pre`, as random connectivity's do (a narrower span may get a dense
    /// index up to [`DENSE_SLACK`] times the list's bytes).
    pub(super) fn index_bytes(n_pre: usize, listed: usize, syn: usize) -> usize {
        let dense = 4 * (n_pre + 1);
        if Self::dense_is_chosen(dense, listed, syn) { dense } else { 8 * listed + 4 }
    }

    /// Whether a dense index of `dense` bytes is kept over a list of `listed`
    /// neurons indexing `syn` synapses: when it is no larger than the synapses, or
    /// than [`DENSE_SLACK`] times the list. A listed row costs a binary search per
    /// packet, a chain of dependent reads (11 of them for the 2,000 neurons a
    /// microcircuit core hears from in a sparse projection).
    pub(super) fn dense_is_chosen(dense: usize, listed: usize, syn: usize) -> bool {
        dense <= 6 * syn || dense <= DENSE_SLACK * (8 * listed + 4)
    }
}

/// How many times the bytes of a list of presynaptic neurons a dense index may take.
pub(super) const DENSE_SLACK: usize = 4;

const _: () = assert!(std::mem::size_of::<Syn>() == 6);

/// One synapse of a row in 6 bytes, read with one memory access: `(post, weight,
/// delay)`, the target neuron's index in its slice (a slice holds at most
/// [`MAX_SLICE`] neurons), the weight in accumulator units for one spike (SpiNNaker's
/// 16-bit words) and the delay in steps. A tuple rather than a struct so that a row
/// of them is allocated zeroed (`vec![(0, 0, 0); n]` takes fresh pages from the
/// system instead of writing every synapse before it is set).
pub(super) type Syn = (u16, i16, u16);

#[derive(Debug)]
pub(super) struct Core {
    pub(super) pop: PopId,
    pub(super) lo: u32,
    pub(super) extension: bool,
    pub(super) state: Option<CoreState>,
    /// The cost kind of its neurons' model ([`neuromap_hw::arm_core::cost_kind`]).
    pub(super) kind: u8,
    pub(super) rings: [Ring<i64>; 2],
    /// When its inputs wait in its shard's [`Shard::due`] ([`Core::queues`]): where
    /// each receptor's inputs for its neurons for the step start in [`Due::now`] (its
    /// rings are then empty).
    pub(super) queued: Option<[u32; 2]>,
    pub(super) q: [i32; 2],
    pub(super) rows: Vec<Rows>,
    /// Per row: [`Core::row_key`] of its presynaptic population and packet kind,
    /// increasing (the rows are in this order).
    pub(super) row_keys: Vec<u64>,
}

impl Core {
    /// Whether the core takes its inputs through [`Shard::due`]: some of its synapses
    /// have their own delays (a ring holding every step up to the longest delay is
    /// then written at random, and the rings of all cores are far larger than the
    /// caches), no projection into it has a synapse without delay (its input is for
    /// the step it arrives in), and no tile computes its input. The inputs are the
    /// same either way.
    fn queues(&self, tile: bool) -> bool {
        !tile && self.rows.iter().any(|r| r.delay.is_none()) && self.rows.iter().all(|r| !r.undelayed)
    }

    pub(super) fn row_key(pre: PopId, delayed: bool) -> u64 {
        (pre.index() as u64) << 1 | u64::from(delayed)
    }
}

/// One worker's cores and what it counted.
pub(super) struct Shard {
    /// Its slices (global indices), in order: core `i` of the shard is slice `ids[i]`.
    pub(super) ids: Vec<usize>,
    pub(super) id: u16,
    pub(super) cores: Vec<Core>,
    /// Per level: local core indices in update order.
    pub(super) order: Vec<Vec<usize>>,
    pub(super) result: RunResult,
    pub(super) counts: ChipCounts,
    pub(super) res_count: Vec<u64>,
    pub(super) step_work: Vec<CoreWork>,
    /// The next step's update work, when its cores are updated before this step's
    /// deliveries end ([`Shared::ahead`]).
    pub(super) next_work: Vec<CoreWork>,
    /// Per core: its work over the run.
    pub(super) work: Vec<CoreWork>,
    pub(super) critical: Vec<f64>,
    /// Per step, per performance level: the cores at that level and their work.
    pub(super) levels: Vec<Vec<LevelLoad>>,
    pub(super) network_ps: Vec<u64>,
    /// Router visits of this shard's packets, this step and per step.
    pub(super) step_passes: u64,
    pub(super) passes: Vec<u64>,
    pub(super) max_wait_ps: u64,
    /// Per core: its tile's counter, when the slice is on a hybrid chip's tile.
    pub(super) tiles: Vec<Option<Box<dyn TileCounter>>>,
    /// Per step: the slowest of this shard's tiles (s).
    pub(super) tile_s: Vec<f64>,
    /// Per core whose tile computes: the spikes that reached it and wait for the tile
    /// (projection, presynaptic neuron, count).
    pub(super) pending: Vec<Vec<(u32, u32, u32)>>,
    /// Scratch: rows found for a round's packets and not yet added ([`RowWork`]).
    pub(super) batch: Vec<RowWork>,
    /// The inputs of its queued cores ([`Core::queued`]) until their step.
    pub(super) due: Due,
}

/// A row to add into a core's inputs: local core, its row group, the presynaptic
/// neuron and its span in that group's synapses, the spike count.
#[derive(Clone, Copy, Debug)]
pub(super) struct RowWork {
    pub(super) core: u32,
    pub(super) rows: u32,
    pub(super) g: u32,
    pub(super) a: u32,
    pub(super) b: u32,
    pub(super) k: u32,
}

/// A slice's neurons in the chip's number format (`arith.format`).
#[derive(Debug)]
pub(super) enum CoreState {
    Fixed(PopState<S1615>),
    Float(PopState<crate::arith::F32>),
}

impl CoreState {
    fn new(
        net: &Network,
        pop: PopId,
        range: std::ops::Range<usize>,
        q: [i32; 2],
        options: crate::Options,
    ) -> CoreState {
        match options.format {
            crate::arith::Format::S1615 => CoreState::Fixed(PopState::new(net, pop, range, q, options)),
            crate::arith::Format::F32 => CoreState::Float(PopState::new(net, pop, range, q, options)),
        }
    }

    /// [`PopState::step`] in the core's format (both accumulate inputs in `i64`).
    #[inline]
    pub(super) fn step(
        &mut self,
        t: u32,
        se: &mut [i64],
        si: &mut [i64],
        q: [i32; 2],
        spikes: &mut Vec<(u32, u32)>,
    ) -> u64 {
        match self {
            CoreState::Fixed(s) => s.step(t, se, si, q, spikes),
            CoreState::Float(s) => s.step(t, se, si, q, spikes),
        }
    }
}

/// The cost kind of population `pop`'s model ([`neuromap_hw::arm_core::cost_kind`]).
pub(super) fn update_kind(net: &Network, pop: PopId) -> u8 {
    neuromap_hw::arm_core::cost_kind(net.pop(pop).model_name()) as u8
}

/// How many parts a projection's presynaptic neurons are cut into to build its rows in
/// parallel (parts have at least 1,024 neurons).
const CHUNKS: usize = 16;

/// Per slice: its state, ring buffers and synaptic rows (each projection read twice,
/// in parallel chunks: to count each target slice's synapses, then to write every
/// synapse in place in its slice's rows). Slices that `here`
/// rejects (another process's) get an empty core.
pub(super) fn build_cores(
    net: &Network,
    mapping: &Mapping,
    extension: &[bool],
    here: &(dyn Fn(usize) -> bool + Sync),
) -> Vec<Core> {
    let slices = &mapping.partition.slices;
    // The chip's own arithmetic (`arith.format`, `arith.rounding`), as the quantised
    // model takes it.
    let options = crate::Options::for_chip(&mapping.hw);
    let shifts = options.format.weight_shifts(net);
    let max_delay = mapping.hw.max_delay_steps;
    let mut cores: Vec<Core> = slices
        .iter()
        .enumerate()
        .map(|(s, sl)| {
            let pop = sl.pop;
            let n = if here(s) && !extension[s] && !net.pop(pop).is_source() { sl.len() as usize } else { 0 };
            let d = net.max_delay_into(pop);
            let q = shifts[pop.index()];
            Core {
                pop,
                lo: sl.lo,
                extension: extension[s],
                state: (here(s) && !extension[s])
                    .then(|| CoreState::new(net, pop, sl.lo as usize..sl.hi as usize, q, options)),
                kind: if extension[s] { 0 } else { update_kind(net, pop) },
                rings: [Ring::new(n, d), Ring::new(n, d)],
                queued: None,
                q,
                rows: Vec::new(),
                row_keys: Vec::new(),
            }
        })
        .collect();
    let built: Vec<Vec<(usize, Rows)>> = net
        .projections()
        .par_iter()
        .enumerate()
        .map(|(p, pr)| {
            let syn = &pr.synapses;
            // The neuron slices of the target population, by first neuron.
            let mut targets: Vec<usize> = (0..slices.len())
                .filter(|&s| slices[s].pop == pr.post && !extension[s] && !net.pop(pr.post).is_source())
                .collect();
            targets.sort_by_key(|&s| slices[s].lo);
            if targets.is_empty() {
                return Vec::new();
            }
            let receptor = receptor_index(pr.receptor);
            // Another process's slices take part in finding a target's slice only.
            let local: Vec<bool> = targets.iter().map(|&s| here(s)).collect();
            // Per target neuron, its slice among `targets` (the last starting at or
            // before it).
            let mut slot_of = vec![0u32; net.pop(pr.post).size as usize];
            let mut t = 0;
            for (post, slot) in slot_of.iter_mut().enumerate() {
                while t + 1 < targets.len() && slices[targets[t + 1]].lo as usize <= post {
                    t += 1;
                }
                *slot = t as u32;
            }
            let q = shifts[pr.post.index()][receptor];
            // Each synapse's group: direct packets carry the short delays, extensions
            // the long (`delayed`); then its target slice. None for another process's.
            let n_t = targets.len();
            let group = |post: u32, delay: u16| {
                let t = slot_of[post as usize] as usize;
                local[t].then(|| usize::from(u32::from(delay) > max_delay) * n_t + t)
            };
            // Each group's first neuron (its slice's).
            let lo: Vec<u32> = (0..2 * n_t).map(|g| slices[targets[g % n_t]].lo).collect();

            // The presynaptic neurons in chunks, each read twice in parallel: to count
            // each group's synapses and neurons, then to write them in place.
            let chunk = syn.n_pre().div_ceil(CHUNKS).max(1024);
            let chunks: Vec<std::ops::Range<usize>> =
                (0..syn.n_pre()).step_by(chunk).map(|a| a..(a + chunk).min(syn.n_pre())).collect();
            let counts: Vec<Vec<(u32, u32)>> = chunks
                .par_iter()
                .map(|range| {
                    let mut c = vec![(0u32, 0u32); 2 * n_t];
                    visit(syn, range.clone(), 2 * n_t, &group, |g, _, _, _, first| {
                        c[g].0 += 1;
                        c[g].1 += u32::from(first);
                    });
                    c
                })
                .collect();
            let mut built: Vec<Rows> = (0..2 * n_t)
                .map(|g| {
                    let (n_syn, n_pre) =
                        counts.iter().fold((0, 0), |a, c| (a.0 + c[g].0 as usize, a.1 + c[g].1 as usize));
                    Rows {
                        proj: p,
                        pre: pr.pre,
                        receptor,
                        delayed: g >= n_t,
                        // Without the end of the last row: [`dense_if_smaller`] adds it.
                        start: vec![0; n_pre],
                        base: 0,
                        listed: Some(vec![0; n_pre]),
                        syn: vec![(0, 0, 0); n_syn],
                        delay: None,
                        undelayed: syn.min_delay() == 0,
                    }
                })
                .collect();
            // Each chunk's part of every group: its synapses, its starts (as offsets in
            // the group's synapses) and its presynaptic neurons.
            type Part<'a> = (&'a mut [Syn], &'a mut [u32], &'a mut [u32], u32);
            let mut parts: Vec<Vec<Part>> = chunks.iter().map(|_| Vec::with_capacity(2 * n_t)).collect();
            for (g, r) in built.iter_mut().enumerate() {
                let (mut syn_rest, mut start_rest) = (&mut r.syn[..], &mut r.start[..]);
                let mut ids_rest = r.listed.as_mut().map_or(&mut [][..], |v| &mut v[..]);
                let mut offset = 0u32;
                for (c, part) in counts.iter().zip(&mut parts) {
                    let (s, st, id);
                    (s, syn_rest) = std::mem::take(&mut syn_rest).split_at_mut(c[g].0 as usize);
                    (st, start_rest) = std::mem::take(&mut start_rest).split_at_mut(c[g].1 as usize);
                    (id, ids_rest) = std::mem::take(&mut ids_rest).split_at_mut(c[g].1 as usize);
                    part.push((s, st, id, offset));
                    offset += c[g].0;
                }
            }
            chunks.par_iter().zip(parts).for_each(|(range, mut part)| {
                let mut at = vec![(0usize, 0usize); 2 * n_t];
                visit(syn, range.clone(), 2 * n_t, &group, |g, i, row, k, first| {
                    let (syns, start, ids, offset) = &mut part[g];
                    let (ns, np) = &mut at[g];
                    if first {
                        ids[*np] = i as u32;
                        start[*np] = *offset + *ns as u32;
                        *np += 1;
                    }
                    // Within a slice of at most MAX_SLICE neurons (checked before);
                    // the weight is both formats' 16-bit word: clamped to i16, so the
                    // conversion cannot fail.
                    let weight = S1615::acc_weight(row.weight[k], 1, q) as i16;
                    syns[*ns] = ((row.post[k] - lo[g]) as u16, weight, row.delay[k]);
                    *ns += 1;
                });
            });
            built
                .into_par_iter()
                .enumerate()
                .filter_map(|(g, mut r)| {
                    let d = r.syn.first()?.2;
                    r.delay = r.syn.iter().all(|x| x.2 == d).then_some(d);
                    Some((targets[g % n_t], dense_if_smaller(r)))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (s, r) in built.into_iter().flatten() {
        cores[s].row_keys.push(Core::row_key(r.pre, r.delayed));
        cores[s].rows.push(r);
    }
    // Each core's rows in key order (stable: a key's rows stay in projection order).
    for c in &mut cores {
        let mut by_key: Vec<(u64, Rows)> =
            std::mem::take(&mut c.row_keys).into_iter().zip(std::mem::take(&mut c.rows)).collect();
        by_key.sort_by_key(|r| r.0);
        (c.row_keys, c.rows) = by_key.into_iter().unzip();
    }
    cores
}

/// Calls `f(group, presynaptic neuron, its row, synapse index in the row, whether
/// it is the neuron's first synapse in that group)` for the synapses of the
/// presynaptic neurons `range` in order, each in the group `group(post, delay)` gives
/// it (of `groups`), skipping those it gives none.
fn visit(
    syn: &neuromap_ir::Synapses,
    range: std::ops::Range<usize>,
    groups: usize,
    group: &impl Fn(u32, u16) -> Option<usize>,
    mut f: impl FnMut(usize, usize, &neuromap_ir::Row, usize, bool),
) {
    let mut last = vec![u32::MAX; groups];
    for i in range {
        let row = syn.row(i);
        for (k, (&post, &delay)) in row.post.iter().zip(row.delay).enumerate() {
            if let Some(g) = group(post, delay) {
                f(g, i, &row, k, std::mem::replace(&mut last[g], i as u32) != i as u32);
            }
        }
    }
}

/// `r` (built with its presynaptic neurons listed) with a start per presynaptic
/// neuron of the range they span instead, found without a search, unless that index
/// would be both larger than the synapses it indexes and [`DENSE_SLACK`] times larger
/// than the list (as when a core of a 10⁶-neuron network hears from a few thousand
/// neurons scattered over all). A one-to-one projection's neurons on a core are one
/// range.
fn dense_if_smaller(mut r: Rows) -> Rows {
    let Some(ids) = r.listed.take() else { return r };
    let (Some(&lo), Some(&hi)) = (ids.first(), ids.last()) else { return r };
    let span = (hi - lo) as usize + 1;
    let dense = 4 * (span + 1);
    if !Rows::dense_is_chosen(dense, ids.len(), r.syn.len()) {
        r.start.push(r.syn.len() as u32);
        r.listed = Some(ids);
        return r;
    }
    // A neuron without synapses here starts (and ends) where the next listed one
    // starts.
    let mut start = vec![0u32; span + 1];
    let (mut k, mut next) = (ids.len(), r.syn.len() as u32);
    start[span] = next;
    for i in (0..span).rev() {
        if k > 0 && (ids[k - 1] - lo) as usize == i {
            k -= 1;
            next = r.start[k];
        }
        start[i] = next;
    }
    r.start = start;
    r.base = lo;
    r
}

/// A core's work for balancing shards: its neurons, and its synapse memory.
fn core_work(c: &neuromap_compile::partition::Slice) -> u64 {
    64 + 8 * u64::from(c.len()) + c.synapse_bytes / 128
}

/// Cores with synapses and cores without (sources, delay extensions) are balanced each
/// on its own: they are busy in different phases of a step (delivery, the update), and
/// the shards meet between the phases.
fn class(c: &neuromap_compile::partition::Slice) -> usize {
    usize::from(c.synapse_bytes == 0)
}

/// The most any rank's share of whole chips may exceed an even share, in either class
/// of work, for ranks to take whole chips.
const CHIP_SLACK: f64 = 0.08;

/// Assigns cores to `threads × ranks` shards (shard `g` is thread `g mod threads` of
/// rank `g / threads`) of similar work.
///
/// Over ranks, each rank takes whole chips (`chip_of`) when they balance within
/// [`CHIP_SLACK`]: a chip's router is then modelled where its cores run, and a packet
/// between cores of one chip (a source feeding its one-to-one targets) stays in its
/// process. Else, and between the threads of a rank, cores are assigned one by one
/// ([`assign_cores`]). The assignment only balances time and traffic; results do not
/// depend on it.
pub(super) fn assign(
    cores: &[neuromap_compile::partition::Slice],
    threads: usize,
    ranks: usize,
    chip_of: &[u32],
    peers: &[Vec<u32>],
) -> Vec<u16> {
    let threads = threads.max(1);
    let mut shard_of = vec![0u16; cores.len()];
    let Some(rank_of) = whole_chips(cores, ranks, chip_of) else {
        let all: Vec<usize> = (0..cores.len()).collect();
        assign_cores(cores, &all, threads * ranks, peers, &mut shard_of);
        return shard_of;
    };
    let mut by_rank = vec![Vec::new(); ranks];
    for (i, &r) in rank_of.iter().enumerate() {
        by_rank[r].push(i);
    }
    for (r, mine) in by_rank.iter().enumerate() {
        assign_cores(cores, mine, threads, peers, &mut shard_of);
        for &i in mine {
            shard_of[i] += (r * threads) as u16;
        }
    }
    shard_of
}

/// Per core, its rank when `ranks` ranks take whole chips, heaviest chip first to the
/// rank it leaves least loaded (both classes of work relative to their totals); None
/// when that is more than [`CHIP_SLACK`] off even in a class, or for one rank.
fn whole_chips(cores: &[neuromap_compile::partition::Slice], ranks: usize, chip_of: &[u32]) -> Option<Vec<usize>> {
    if ranks < 2 {
        return None;
    }
    let n_chips = chip_of.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut work = vec![[0u64; 2]; n_chips];
    let mut total = [0u64; 2];
    for (c, &chip) in cores.iter().zip(chip_of) {
        work[chip as usize][class(c)] += core_work(c);
        total[class(c)] += core_work(c);
    }
    let share = |w: u64, k: usize| if total[k] == 0 { 0.0 } else { w as f64 / total[k] as f64 };
    let mut order: Vec<usize> = (0..n_chips).filter(|&c| work[c] != [0, 0]).collect();
    order.sort_by(|&a, &b| {
        let (wa, wb) = (share(work[a][0], 0) + share(work[a][1], 1), share(work[b][0], 0) + share(work[b][1], 1));
        wb.total_cmp(&wa).then(a.cmp(&b))
    });
    let mut load = vec![[0u64; 2]; ranks];
    let mut rank_of_chip = vec![0usize; n_chips];
    for c in order {
        let after = |r: usize| (0..2).map(|k| share(load[r][k] + work[c][k], k)).fold(0.0, f64::max);
        let r = (0..ranks).min_by(|&a, &b| after(a).total_cmp(&after(b)).then(a.cmp(&b))).unwrap_or(0);
        load[r][0] += work[c][0];
        load[r][1] += work[c][1];
        rank_of_chip[c] = r;
    }
    let even = 1.0 / ranks as f64;
    let fits = (0..2).all(|k| total[k] == 0 || load.iter().all(|l| share(l[k], k) <= even * (1.0 + CHIP_SLACK)));
    fits.then(|| chip_of.iter().map(|&c| rank_of_chip[c as usize]).collect())
}

/// Assigns the cores `these` to shards `0..shards` in `shard_of`. Cores with synapses
/// go heaviest first, each to the least loaded shard (so a population's cores
/// alternate between shards). Cores without then go, heaviest first, to the shard
/// that holds most of the cores they exchange packets with (`peers`: their targets
/// and their senders), while that shard's share stays within one core's work of an
/// even share; else to the least loaded.
fn assign_cores(
    cores: &[neuromap_compile::partition::Slice],
    these: &[usize],
    shards: usize,
    peers: &[Vec<u32>],
    shard_of: &mut [u16],
) {
    let shards = shards.clamp(1, usize::from(u16::MAX));
    let mut by_weight = these.to_vec();
    by_weight.sort_by_key(|&i| (class(&cores[i]), std::cmp::Reverse(core_work(&cores[i])), i));
    let mut load = [vec![0u64; shards], vec![0u64; shards]];
    let free_total: u64 = these.iter().filter(|&&i| class(&cores[i]) == 1).map(|&i| core_work(&cores[i])).sum();
    let even = free_total.div_ceil(shards as u64);
    let mut near = vec![0u32; shards];
    // Placed by this call (`these` are one rank's, or all): a peer elsewhere has no
    // shard here.
    let mut placed = std::collections::HashSet::with_capacity(these.len());
    for i in by_weight {
        let (k, w) = (class(&cores[i]), core_work(&cores[i]));
        let load = &mut load[k];
        let least = (0..shards).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        let s = if k == 1 && shards > 1 {
            near.iter_mut().for_each(|n| *n = 0);
            for &p in peers.get(i).map_or(&[][..], |v| &v[..]) {
                if placed.contains(&(p as usize)) {
                    near[usize::from(shard_of[p as usize])] += 1;
                }
            }
            (0..shards)
                .filter(|&s| near[s] > 0 && load[s] + w <= even + w)
                .max_by_key(|&s| (near[s], std::cmp::Reverse((load[s], s))))
                .unwrap_or(least)
        } else {
            least
        };
        load[s] += w;
        shard_of[i] = s as u16;
        placed.insert(i);
    }
}

/// Moves the cores of this process's shards `local` into them (each holding its cores
/// in slice order).
pub(super) fn make_shards(
    shared: &Shared,
    cores: Vec<Core>,
    steps: u32,
    tiles: Option<&TileFactory>,
    local: std::ops::Range<usize>,
) -> Vec<Shard> {
    let npop = shared.net.populations().len();
    let mut parts: Vec<Vec<(usize, Core)>> = local.clone().map(|_| Vec::new()).collect();
    for (i, c) in cores.into_iter().enumerate() {
        let g = usize::from(shared.shard_of[i]);
        if local.contains(&g) {
            parts[g - local.start].push((i, c));
        }
    }
    parts
        .into_iter()
        .zip(local)
        .map(|(part, shard)| {
            let (ids, mut cores): (Vec<usize>, Vec<Core>) = part.into_iter().unzip();
            let mut order = vec![Vec::new(); shared.levels as usize];
            for &p in shared.net.update_order() {
                for (i, c) in cores.iter().enumerate() {
                    if c.pop == p && !c.extension {
                        order[shared.level[ids[i]] as usize].push(i);
                    }
                }
            }
            let k = ids.len();
            let tiles: Vec<Option<Box<dyn TileCounter>>> = ids.iter().map(|&s| tiles.and_then(|f| (f.0)(s))).collect();
            let (mut due_len, mut now) = (1, 0usize);
            for (c, tile) in cores.iter_mut().zip(&tiles) {
                if c.queues(tile.is_some()) {
                    due_len = due_len.max(c.rings[0].mask + 1);
                    let n = c.rings[0].n;
                    c.queued = Some([now as u32, (now + n) as u32]);
                    now += 2 * n;
                    c.rings = [Ring::new(0, 0), Ring::new(0, 0)];
                }
            }
            Shard {
                pending: vec![Vec::new(); tiles.len()],
                batch: Vec::new(),
                due: Due::new(now, due_len),
                tiles,
                tile_s: Vec::new(),
                id: shard as u16,
                ids,
                order,
                result: RunResult {
                    steps: 0,
                    spike_counts: vec![0; npop],
                    recorded: recorded(shared),
                    spikes: vec![SpikeRecord::default(); npop],
                    probes: Vec::new(),
                    synaptic_events: vec![0; shared.net.projections().len()],
                    neuron_updates: 0,
                },
                counts: ChipCounts::default(),
                res_count: vec![0; shared.n_res],
                step_work: vec![CoreWork::default(); k],
                next_work: vec![CoreWork::default(); k],
                work: vec![CoreWork::default(); k],
                critical: Vec::with_capacity(steps as usize),
                levels: Vec::with_capacity(if shared.cost.is_some() { steps as usize } else { 0 }),
                network_ps: Vec::with_capacity(steps as usize),
                step_passes: 0,
                passes: Vec::with_capacity(steps as usize),
                max_wait_ps: 0,
                cores,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use neuromap_compile::partition::{Slice, SliceKind};
    use neuromap_ir::PopId;

    fn slice(kind: SliceKind, synapse_bytes: u64) -> Slice {
        Slice { pop: PopId(0), lo: 0, hi: 200, kind, local_memory_bytes: 0, synapse_bytes, part: 0 }
    }

    /// Eight chips, each with three neuron cores and the three source cores feeding
    /// them one to one.
    fn chips() -> (Vec<Slice>, Vec<u32>, Vec<Vec<u32>>) {
        let mut cores = Vec::new();
        let mut chip_of = Vec::new();
        let mut peers = Vec::new();
        for c in 0..24u32 {
            // Neuron cores of different weights, in no order.
            cores.push(slice(SliceKind::Neurons, (1 << 20) + u64::from(c * 7 % 24) * (1 << 14)));
            cores.push(slice(SliceKind::Source, 0));
            chip_of.extend([c / 3, c / 3]);
            peers.push(vec![2 * c + 1]);
            peers.push(vec![2 * c]);
        }
        (cores, chip_of, peers)
    }

    /// Over ranks, a chip's cores stay in one process when whole chips balance; the
    /// ranks get equal work, and the threads of a rank share its cores.
    #[test]
    fn ranks_take_whole_chips_when_they_balance() {
        let (cores, chip_of, peers) = chips();
        let shard_of = assign(&cores, 2, 2, &chip_of, &peers);
        let rank = |i: usize| usize::from(shard_of[i]) / 2;
        for (i, &c) in chip_of.iter().enumerate() {
            assert_eq!(rank(i), rank(6 * c as usize), "chip {c}'s cores are split over ranks: {shard_of:?}");
        }
        let on = |r: usize| (0..cores.len()).filter(|&i| rank(i) == r).count();
        assert_eq!((on(0), on(1)), (24, 24), "{shard_of:?}");
        assert!((0..4).all(|g| shard_of.contains(&g)), "every shard has cores: {shard_of:?}");
    }

    /// One chip cannot be shared by whole chips: its cores go one by one over all
    /// shards, and a source still goes with the core it feeds.
    #[test]
    fn one_chip_is_shared_core_by_core_and_sources_follow_their_targets() {
        let (cores, _, peers) = chips();
        let shard_of = assign(&cores, 1, 2, &[0; 48], &peers);
        assert!(shard_of.contains(&0) && shard_of.contains(&1), "{shard_of:?}");
        for c in 0..24 {
            assert_eq!(shard_of[2 * c], shard_of[2 * c + 1], "source {} left its target: {shard_of:?}", 2 * c + 1);
        }
    }
}
