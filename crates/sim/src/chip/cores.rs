//! Cores and shards: each slice's state and synaptic rows, and the split over threads.

use super::*;

/// The most neurons a slice (one core's neurons) may hold: rows index them in 16 bits.
pub(super) const MAX_SLICE: u32 = 1 << 16;

/// One projection's row group on one core: the synapses of that projection whose
/// targets are on the core, carried by direct packets, or by delay-extension packets
/// (the group's [`Core::row_key`] says which). The synapses themselves are in the senders' [`Block`]s;
/// a core keeps what its row groups are.
#[derive(Debug)]
pub(super) struct Rows {
    pub(super) proj: usize,
    pub(super) receptor: usize,
    /// The delay of every synapse of the group, when they all have one.
    pub(super) delay: Option<u16>,
}

/// One sender's synapses on the cores of one shard, by presynaptic neuron: for neuron
/// `j` of the sender's slice, its synapses onto every target core of the shard lie
/// together, so that a packet reads one stretch of memory, however many cores of the
/// shard it reaches (a row per target core, each in that core's own table, was a
/// cache miss per core: 600 of them for one spike of the full microcircuit).
///
/// Neuron `j`'s entries are `ent[first[j]..first[j + 1]]`; entry `e` is its
/// synapses in one [`Seg`], `syn[end(e - 1)..end(e)]` (0 before the first entry).
#[derive(Debug, Default)]
pub(super) struct Block {
    pub(super) segs: Vec<Seg>,
    pub(super) first: Vec<u32>,
    /// Per entry: its seg and where its synapses end in `syn`.
    pub(super) ent: Vec<(u32, u32)>,
    pub(super) syn: Vec<Syn>,
    /// Per synapse, its delay in steps, beside `syn`: only when some seg of the block
    /// has synapses of different delays ([`Seg::delay`]); else empty, each seg's one
    /// delay in the seg.
    pub(super) delays: Vec<u16>,
}

impl Block {
    /// Neuron `j`'s entries and where its first entry's synapses start.
    #[inline]
    pub(super) fn of(&self, j: usize) -> (&[(u32, u32)], usize) {
        let (a, b) = (self.first[j] as usize, self.first[j + 1] as usize);
        (&self.ent[a..b], if a == 0 { 0 } else { self.ent[a - 1].1 as usize })
    }

    /// The delays of the synapses `syn[range]` of `seg`.
    #[inline]
    pub(super) fn delays(&self, seg: &Seg, range: std::ops::Range<usize>) -> Delays<'_> {
        match seg.delay() {
            Some(d) => Delays::One(d),
            None => Delays::Each(&self.delays[range]),
        }
    }
}

/// The delays of a run of synapses: one for all, or one each.
#[derive(Clone, Copy, Debug)]
pub(super) enum Delays<'a> {
    One(u16),
    Each(&'a [u16]),
}

/// A row group of a block: one projection's synapses onto one target core.
#[derive(Clone, Copy, Debug)]
pub(super) struct Seg {
    /// The target core (local index in the shard) and its entry among the sender's
    /// destinations on the shard ([`Shared::dest`], for the copies that reached it).
    pub(super) core: u32,
    pub(super) dest: u32,
    pub(super) proj: u32,
    pub(super) receptor: u8,
    /// The delay of all its synapses when they share one ([`SEG_MIXED`] when not).
    pub(super) delay: u16,
}

/// [`Seg::delay`] of a seg whose synapses have different delays (or all the longest
/// delay a `u16` holds, which then takes the same path).
pub(super) const SEG_MIXED: u16 = u16::MAX;

/// Whether a projection's synapses may make a [`SEG_MIXED`] seg, whose delays a
/// block keeps beside its synapses ([`Block::delays`]): more than one delay, or the
/// one delay that stands for mixed.
pub(super) fn delays_apart(syn: &neuromap_ir::Synapses) -> bool {
    syn.min_delay() != syn.max_delay() || syn.max_delay() == SEG_MIXED
}

impl Seg {
    #[inline]
    pub(super) fn delay(&self) -> Option<u16> {
        (self.delay != SEG_MIXED).then_some(self.delay)
    }
}

const _: () = assert!(std::mem::size_of::<Syn>() == 4);

/// One synapse of a row in 4 bytes: `(post, weight)`, the target neuron's index in
/// its slice (a slice holds at most [`MAX_SLICE`] neurons) and the weight in
/// accumulator units for one spike (SpiNNaker's 16-bit words). Its delay is its
/// seg's when the seg's synapses share one (most do: a projection of one delay), else
/// in [`Block::delays`]; a delivery reads only the bytes it adds.
pub(super) type Syn = (u16, i16);

/// A synapse with its delay, `(post, weight, delay)`, as a block is built (before
/// the delay goes to its seg or to [`Block::delays`]).
pub(super) type SynDelay = (u16, i16, u16);

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
    /// caches), its population is of level 0 (no projection into it has a synapse
    /// without delay, whose input would be for the step it arrives in; so every queued
    /// core is updated before a step's first delivery, [`Due::is_next`]), and no tile
    /// computes its input. The inputs are the same either way.
    fn queues(&self, tile: bool, level: u32) -> bool {
        !tile && level == 0 && self.rows.iter().any(|r| r.delay.is_none())
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
    /// The senders' synapses on its cores ([`Block`]), and per sender (slice) its
    /// block's index there (`u32::MAX`: none).
    pub(super) blocks: Vec<Block>,
    pub(super) block_of: Vec<u32>,
    /// Scratch: per destination of the packet being delivered, its copies that
    /// reached it.
    pub(super) reached: Vec<u32>,
    /// The inputs of its queued cores ([`Core::queued`]) until their step.
    pub(super) due: Due,
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

/// Per slice: its state and ring buffers (its rows come from the blocks,
/// [`group_rows`]). Slices that `here` rejects (another process's) get an empty core.
pub(super) fn build_cores(
    net: &Network,
    mapping: &Mapping,
    extension: &[bool],
    shifts: &[[i32; 2]],
    here: &(dyn Fn(usize) -> bool + Sync),
) -> Vec<Core> {
    let slices = &mapping.partition.slices;
    // The chip's own arithmetic (`arith.format`, `arith.rounding`), as the quantised
    // model takes it.
    let options = crate::Options::for_chip(&mapping.hw);
    slices
        .par_iter()
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
        .collect()
}

/// What building the blocks reads: the network, the partition (a population's
/// neuron slices are consecutive and of one size, [`Partition::slicer`]), the
/// weights' scales and a core's longest delay.
///
/// [`Partition::slicer`]: neuromap_compile::partition::Partition::slicer
struct Targets<'a> {
    net: &'a Network,
    part: &'a neuromap_compile::partition::Partition,
    shifts: &'a [[i32; 2]],
    max_delay: u32,
}

/// Every sender's [`Block`] on each of this process's shards `local`, in parallel over
/// neuron slices (each with its delay extension): per local shard, `(sender, block)`.
/// `ids[h]` are the slices of local shard `h` (the cores the destinations' local
/// indices name).
pub(super) fn build_blocks(
    net: &Network,
    mapping: &Mapping,
    shared: &Shared,
    extension: &[bool],
    shifts: &[[i32; 2]],
    local: std::ops::Range<usize>,
    ids: &[Vec<usize>],
) -> Vec<Vec<(u32, Block)>> {
    let targets = Targets { net, part: &mapping.partition, shifts, max_delay: mapping.hw.max_delay_steps };
    // One slice a job: slices differ in cost by orders of magnitude and lie in
    // population order, so halves of the range (rayon's split) can differ by seconds.
    let per_slice: Vec<Vec<(u32, usize, Block)>> = (0..extension.len())
        .into_par_iter()
        .with_max_len(1)
        .map(|s| if extension[s] { Vec::new() } else { sender_blocks(&targets, shared, s, local.clone(), ids) })
        .collect();
    let mut out: Vec<Vec<(u32, Block)>> = local.map(|_| Vec::new()).collect();
    for (sender, h, b) in per_slice.into_iter().flatten() {
        out[h].push((sender, b));
    }
    out
}

/// A place a synapse of a neuron slice can go: a block (sender × local shard), the
/// target core and its entry among the sender's destinations there, the projection.
struct Place {
    block: usize,
    core: u32,
    dest: u32,
    proj: u32,
    receptor: u8,
}

/// A projection out of a sender slice, as its blocks are built: the place of each
/// target slice (by its place in the population, `t`) for direct then for delayed
/// synapses, and how its rows are read.
struct Out {
    q: usize,
    place_of: Vec<u32>,
    shift: i32,
    slicer: neuromap_compile::partition::SliceOf,
    /// Some synapse's delay is beyond a core's (it goes by the delay extension).
    beyond: bool,
    /// Whether a row's synapses with a local place are listed first (`kept`): where
    /// some may have none (over ranks, their targets are another process's cores; a
    /// delay extension's places count only when some synapse is delayed beyond a
    /// core's delays), unless the rows are in target order
    /// ([`neuromap_ir::Synapses::rows_in_target_order`]), where a target slice's
    /// synapses lie together and a branch on each predicts well.
    compact: bool,
    /// For rows in target order, per target slice, the first target of the next slice
    /// with a local place (the population's size past the last): the stretch of
    /// slices without one (another process's cores) that a row enters there is passed
    /// over at once ([`below`]). Empty for other projections.
    next_local: Vec<u32>,
}

/// The blocks of neuron slice `s` and of its delay extension (which carries its
/// synapses of delays beyond a core's) on the local shards that hold their targets,
/// read in one pass over each presynaptic neuron's synapses: each goes to its place's
/// scratch list, and the lists are then laid out one after another, each an entry of
/// its place's seg (made when its first synapse comes).
fn sender_blocks(
    tg: &Targets,
    shared: &Shared,
    s: usize,
    local: std::ops::Range<usize>,
    ids: &[Vec<usize>],
) -> Vec<(u32, usize, Block)> {
    let (net, part) = (tg.net, tg.part);
    let sl = &part.slices[s];
    // The senders: the slice (direct packets), and its extension (delayed ones).
    let senders: Vec<u32> = std::iter::once(s as u32).chain(part.delay_extension[s]).collect();
    let n_local = local.len();
    // Every place, and the projections out of the slice's population with one.
    let mut places: Vec<Place> = Vec::new();
    let mut by_proj: Vec<Out> = Vec::new();
    for &q in net.outgoing(sl.pop) {
        let pr = net.proj(q);
        if net.pop(pr.post).is_source() || pr.synapses.is_empty() {
            continue;
        }
        let receptor = receptor_index(pr.receptor);
        let (first, size) = part.pop_slices[pr.post.index()];
        let n_t = net.pop(pr.post).size.div_ceil(size) as usize;
        let mut place_of = vec![u32::MAX; 2 * n_t];
        for (i, &sender) in senders.iter().enumerate() {
            for h in local.clone() {
                let at = sender as usize * shared.shards + h;
                let dests = &shared.dest[shared.dest_start[at] as usize..shared.dest_start[at + 1] as usize];
                for (d, &(core, _)) in dests.iter().enumerate() {
                    let c = ids[h - local.start][core as usize];
                    if part.slices[c].pop != pr.post || shared.slice[c].2 {
                        continue;
                    }
                    place_of[i * n_t + c - first as usize] = places.len() as u32;
                    places.push(Place {
                        block: i * n_local + (h - local.start),
                        core,
                        dest: d as u32,
                        proj: q.index() as u32,
                        receptor: receptor as u8,
                    });
                }
            }
        }
        if place_of.iter().all(|&x| x == u32::MAX) {
            continue;
        }
        let syn = &pr.synapses;
        let beyond = u32::from(syn.max_delay()) > tg.max_delay;
        let (direct, delayed) = place_of.split_at(n_t);
        let some_elsewhere = direct.contains(&u32::MAX) || (beyond && delayed.contains(&u32::MAX));
        let mut next_local = Vec::new();
        if syn.rows_in_target_order() {
            next_local = vec![0u32; n_t];
            let mut at = net.pop(pr.post).size;
            for t in (0..n_t).rev() {
                next_local[t] = at;
                if place_of[t] != u32::MAX || place_of[n_t + t] != u32::MAX {
                    at = t as u32 * size;
                }
            }
        }
        by_proj.push(Out {
            q: q.index(),
            shift: tg.shifts[pr.post.index()][receptor],
            slicer: part.slicer(pr.post),
            beyond,
            compact: some_elsewhere && !syn.rows_in_target_order(),
            next_local,
            place_of,
        });
    }
    if by_proj.is_empty() {
        return Vec::new();
    }
    // Whether a seg may be [`SEG_MIXED`]: only a projection of more than one delay
    // (or of the delay that stands for mixed) makes one. Else no synapse's delay is
    // kept but in its seg.
    let mixed = by_proj.iter().any(|o| delays_apart(&net.projections()[o.q].synapses));
    // Each block's synapses are reserved at once rather than grown by doubling, which
    // copies them and takes pages for about twice as many: for its share of the
    // slice's rows, each projection's synapses in the proportion of the sender's
    // target slices of that projection (wherever they run) that have a place in the
    // block (none in the extension's block for a projection whose delays a core
    // holds), with an eighth more. The reservation is address space (a page is taken
    // when first written; the block is cut to size at the end without a copy), kept
    // near what is used so that it stays within a strict overcommit limit; a block
    // that outgrows it grows as any vector does.
    let mut reserve = vec![0.0f64; senders.len() * n_local];
    for Out { q, place_of, beyond, .. } in &by_proj {
        let pr = &net.projections()[*q];
        let rows = pr.synapses.rows_len(sl.lo as usize..(sl.lo + sl.len()) as usize) as f64;
        let n_t = place_of.len() / 2;
        for (i, &sender) in senders.iter().enumerate().filter(|&(i, _)| i == 0 || *beyond) {
            let targets = shared.trees[sender as usize]
                .dest
                .iter()
                .filter(|&&(d, _)| part.slices[d as usize].pop == pr.post && !shared.slice[d as usize].2)
                .count();
            for &x in place_of[i * n_t..(i + 1) * n_t].iter().filter(|&&x| x != u32::MAX) {
                reserve[places[x as usize].block] += rows / targets.max(1) as f64;
            }
        }
    }
    let mut blocks: Vec<Block> = reserve
        .iter()
        .map(|&r| {
            let n = (r * 1.125) as usize;
            Block {
                syn: Vec::with_capacity(n),
                delays: if mixed { Vec::with_capacity(n) } else { Vec::new() },
                ..Block::default()
            }
        })
        .collect();
    // Per place while building: this neuron's synapses; its seg in its block once it
    // has one; the delay its synapses share (u32::MAX - 1 before the first, u32::MAX
    // if mixed).
    let mut lists: Vec<Vec<SynDelay>> = vec![Vec::new(); places.len()];
    let mut seg = vec![u32::MAX; places.len()];
    let mut delay = vec![u32::MAX - 1; places.len()];
    let mut touched: Vec<u32> = Vec::new();
    for b in &mut blocks {
        b.first.push(0);
    }
    // A row's synapses with a local place, by index.
    let mut kept: Vec<(u32, u32, u32)> = Vec::new();
    for j in 0..sl.len() as usize {
        let g = sl.lo as usize + j;
        for Out { q, place_of, shift, slicer, compact, next_local, .. } in &by_proj {
            let pr = &net.projections()[*q];
            let n_t = place_of.len() / 2;
            let row = pr.synapses.row(g);
            let place = |post: u32, d: u16| {
                let (t, at) = slicer.place(post);
                (place_of[usize::from(u32::from(d) > tg.max_delay) * n_t + t as usize], at)
            };
            // The last weight converted: a projection's weights often repeat.
            let mut last: Option<(u32, i16)> = None;
            let mut add = |x: u32, at: u32, d: u16, w: f32| {
                let x = x as usize;
                let list = &mut lists[x];
                if list.is_empty() {
                    touched.push(x as u32);
                }
                // The weight is both formats' 16-bit word: clamped to i16, so the
                // conversion cannot fail.
                let word = match last {
                    Some((bits, word)) if bits == w.to_bits() => word,
                    _ => {
                        let word = S1615::acc_weight(w, 1, *shift) as i16;
                        last = Some((w.to_bits(), word));
                        word
                    }
                };
                // Within a slice of at most MAX_SLICE neurons (checked before).
                list.push((at as u16, word, d));
                delay[x] = match delay[x] {
                    v if v == u32::MAX - 1 || v == u32::from(d) => u32::from(d),
                    _ => u32::MAX,
                };
            };
            if *compact {
                // First the synapses with a local place, listed without a branch on
                // each (where about half go elsewhere, it would mispredict about as
                // often as not); then those alone.
                if kept.len() < row.post.len() {
                    kept.resize(row.post.len(), (0, 0, 0));
                }
                let mut n = 0;
                for (i, (&post, &d)) in row.post.iter().zip(row.delay).enumerate() {
                    let (x, at) = place(post, d);
                    kept[n] = (i as u32, x, at);
                    n += usize::from(x != u32::MAX);
                }
                for &(i, x, at) in &kept[..n] {
                    let i = i as usize;
                    add(x, at, row.delay[i], row.weight[i]);
                }
            } else {
                // Rows in target order (or all of whose targets are local): a target
                // slice's synapses lie together. Its places are found when a synapse
                // leaves the slice before; a slice with no local place is passed
                // over with the stretch of such slices after it, 16 targets a read
                // where the rows are known in target order, else reading its targets.
                let size = part.pop_slices[pr.post.index()].1;
                let (mut lo, mut hi, mut xs) = (1u32, 0u32, [u32::MAX; 2]);
                let mut i = 0;
                while i < row.post.len() {
                    let post = row.post[i];
                    if !(lo..hi).contains(&post) {
                        let (t, at) = slicer.place(post);
                        lo = post - at;
                        hi = lo.saturating_add(size);
                        xs = [place_of[t as usize], place_of[n_t + t as usize]];
                        if xs == [u32::MAX; 2] {
                            i += 1 + match next_local.get(t as usize) {
                                Some(&end) => below(&row.post[i + 1..], end),
                                None => row.post[i + 1..].iter().take_while(|&&p| (lo..hi).contains(&p)).count(),
                            };
                            continue;
                        }
                    }
                    let d = row.delay[i];
                    let x = xs[usize::from(u32::from(d) > tg.max_delay)];
                    if x != u32::MAX {
                        add(x, post - lo, d, row.weight[i]);
                    }
                    i += 1;
                }
            }
        }
        // Its entries, each place's synapses after the last.
        for &x in &touched {
            let p = &places[x as usize];
            let b = &mut blocks[p.block];
            if seg[x as usize] == u32::MAX {
                seg[x as usize] = b.segs.len() as u32;
                b.segs.push(Seg { core: p.core, dest: p.dest, proj: p.proj, receptor: p.receptor, delay: SEG_MIXED });
            }
            let list = &lists[x as usize];
            b.syn.extend(list.iter().map(|&(post, w, _)| (post, w)));
            if mixed {
                b.delays.extend(list.iter().map(|&(_, _, d)| d));
            }
            b.ent.push((seg[x as usize], b.syn.len() as u32));
            lists[x as usize].clear();
        }
        touched.clear();
        for b in &mut blocks {
            b.first.push(b.ent.len() as u32);
        }
    }
    // Each seg's shared delay.
    for ((p, &i), &d) in places.iter().zip(&seg).zip(&delay) {
        if i != u32::MAX {
            blocks[p.block].segs[i as usize].delay = u16::try_from(d).unwrap_or(SEG_MIXED);
        }
    }
    blocks
        .into_iter()
        .enumerate()
        .filter(|(_, b)| !b.ent.is_empty())
        .map(|(at, mut b)| {
            b.syn.shrink_to_fit();
            b.ent.shrink_to_fit();
            if b.segs.iter().all(|g| g.delay().is_some()) {
                b.delays = Vec::new();
            } else {
                b.delays.shrink_to_fit();
            }
            (senders[at / n_local], at % n_local, b)
        })
        .collect()
}

/// How many of `posts`, in increasing order, are below `end`: read 16 at a time by
/// the last of each 16 (a row's stretch of another process's targets is hundreds
/// long), then one by one.
fn below(posts: &[u32], end: u32) -> usize {
    let mut n = 0;
    for c in posts.chunks_exact(16) {
        if c[15] >= end {
            break;
        }
        n += 16;
    }
    n + posts[n..].iter().take_while(|&&p| p < end).count()
}

/// Each of this process's cores' row groups (`ids[h]`: the slices of local shard `h`),
/// from the segs of the blocks that reach it, in [`Core::row_key`] order and then
/// projection order: a group's delay is shared when every seg's is.
pub(super) fn group_rows(cores: &mut [Core], blocks: &[Vec<(u32, Block)>], ids: &[Vec<usize>], shared: &Shared) {
    let mut found: Vec<(usize, u64, u32, u8, Option<u16>)> = Vec::new();
    for (h, these) in blocks.iter().enumerate() {
        for (sender, b) in these {
            let (pop, _, delayed) = shared.slice[*sender as usize];
            let key = Core::row_key(pop, delayed);
            found.extend(b.segs.iter().map(|g| (ids[h][g.core as usize], key, g.proj, g.receptor, g.delay())));
        }
    }
    found.sort_unstable_by_key(|f| (f.0, f.1, f.2));
    let mut i = 0;
    while i < found.len() {
        let (c, key, proj, receptor, delay) = found[i];
        let mut shared_delay = delay;
        i += 1;
        while i < found.len() && (found[i].0, found[i].1, found[i].2) == (c, key, proj) {
            if found[i].4 != shared_delay {
                shared_delay = None;
            }
            i += 1;
        }
        cores[c].row_keys.push(key);
        cores[c].rows.push(Rows { proj: proj as usize, receptor: usize::from(receptor), delay: shared_delay });
    }
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
/// in slice order), with their blocks ([`build_blocks`]).
pub(super) fn make_shards(
    shared: &Shared,
    cores: Vec<Core>,
    blocks: Vec<Vec<(u32, Block)>>,
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
        .zip(blocks)
        .map(|((part, shard), these)| {
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
            for (i, (c, tile)) in cores.iter_mut().zip(&tiles).enumerate() {
                if c.queues(tile.is_some(), shared.level[ids[i]]) {
                    due_len = due_len.max(c.rings[0].mask + 1);
                    let n = c.rings[0].n;
                    c.queued = Some([now as u32, (now + n) as u32]);
                    now += 2 * n;
                    c.rings = [Ring::new(0, 0), Ring::new(0, 0)];
                }
            }
            Shard {
                pending: vec![Vec::new(); tiles.len()],
                block_of: {
                    let mut of = vec![u32::MAX; shared.slice.len()];
                    for (i, (sender, _)) in these.iter().enumerate() {
                        of[*sender as usize] = i as u32;
                    }
                    of
                },
                blocks: these.into_iter().map(|(_, b)| b).collect(),
                reached: Vec::new(),
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

    /// [`below`] counts what reading one by one counts, at every length and bound.
    #[test]
    fn targets_below_a_bound_are_counted_as_one_by_one() {
        let posts: Vec<u32> = (0..100u32).map(|k| k * 7 + k % 7).collect();
        assert!(posts.is_sorted());
        for len in 0..posts.len() {
            for end in 0..710 {
                let p = &posts[..len];
                assert_eq!(below(p, end), p.iter().take_while(|&&x| x < end).count(), "{len} {end}");
            }
        }
    }

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
