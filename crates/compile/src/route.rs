//! Routing keys, multicast trees, routing tables, compression and their verification.

use std::collections::BTreeMap;

use neuromap_hw::{ChipId, Machine};
use serde::Serialize;

use crate::CompileError;

/// The set of a chip's endpoints (cores, and a hybrid chip's tiles) a route names.
pub type CoreSet = bitvec::BitArr!(for MAX_CORES as usize, in u64);

/// Where a router sends a packet: a set of links and a set of local cores. Routes
/// order by links, then by the core set's words (compression's tie-break).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Route {
    pub links: u8,
    pub cores: CoreSet,
}

/// Most cores per chip a route can name.
pub const MAX_CORES: u32 = 192;

impl Ord for Route {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.links, self.cores.into_inner()).cmp(&(o.links, o.cores.into_inner()))
    }
}

impl PartialOrd for Route {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Route {
    /// A route on `links` only.
    pub fn links(links: u8) -> Self {
        Route { links, cores: CoreSet::ZERO }
    }

    pub fn add_core(&mut self, c: u32) {
        self.cores.set(c as usize, true);
    }

    pub fn core_list(&self) -> Vec<u32> {
        self.cores.iter_ones().map(|c| c as u32).collect()
    }

    pub fn has_cores(&self) -> bool {
        self.cores.any()
    }
}

/// A routing table entry: a packet whose key k has `k & mask == key` takes `route`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub key: u32,
    pub mask: u32,
    pub route: Route,
}

/// The routing table of one chip.
#[derive(Clone, Debug)]
pub struct Table {
    pub entries: Vec<Entry>,
    /// Entries before default routes were left out.
    pub routed: usize,
    /// Entries after default routes were left out, before compression.
    pub uncompressed: usize,
    /// Keys that pass this chip on its default route (needed by compression: a
    /// merged entry must not capture them).
    pub defaulted: Vec<u32>,
    /// How [`Table::find`] searches, set by [`Table::seal`].
    pub index: TableIndex,
}

/// How a table is searched for a key's first matching entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TableIndex {
    /// Entry by entry, in order (a table built by hand and never sealed).
    #[default]
    Scan,
    /// The entries are aligned key/mask blocks sorted by key and no two match a
    /// common key: the first match is the only one, found by binary search.
    Disjoint,
    /// The entries are aligned blocks in runs of one mask each (the start index of
    /// each run), keys increasing within a run: the first match is found by a binary
    /// search in each run, in order. Ordered covering writes its tables so.
    Runs(Vec<usize>),
}

impl Table {
    /// Records how the entries, in their present order, can be searched.
    pub fn seal(&mut self) {
        let aligned = |e: &Entry| e.mask.leading_ones() + e.mask.trailing_zeros() == 32 && e.key & !e.mask == 0;
        self.index = if !self.entries.iter().all(aligned) {
            TableIndex::Scan
        } else if self.entries.windows(2).all(|w| u64::from(w[0].key | !w[0].mask) < u64::from(w[1].key)) {
            TableIndex::Disjoint
        } else {
            let mut runs = vec![0];
            for (i, w) in self.entries.windows(2).enumerate() {
                if w[0].mask != w[1].mask {
                    runs.push(i + 1);
                } else if w[0].key >= w[1].key {
                    runs.clear();
                    break;
                }
            }
            if runs.is_empty() || runs.len() > 33 { TableIndex::Scan } else { TableIndex::Runs(runs) }
        };
    }

    /// The first entry that matches `key`.
    pub fn find(&self, key: u32) -> Option<&Entry> {
        fn in_run(run: &[Entry], key: u32) -> Option<&Entry> {
            let i = run.partition_point(|e| e.key <= key);
            i.checked_sub(1).map(|i| &run[i]).filter(|e| key & e.mask == e.key)
        }
        match &self.index {
            TableIndex::Scan => self.entries.iter().find(|e| key & e.mask == e.key),
            TableIndex::Disjoint => in_run(&self.entries, key),
            TableIndex::Runs(starts) => starts.iter().enumerate().find_map(|(k, &a)| {
                let b = starts.get(k + 1).copied().unwrap_or(self.entries.len());
                in_run(&self.entries[a..b], key)
            }),
        }
    }
}

/// The multicast tree of one sender: for every chip it visits, the route there and the
/// direction it arrived from (`None` at the source chip).
#[derive(Clone, Debug)]
pub struct Tree {
    pub chips: BTreeMap<ChipId, (Route, Option<u8>)>,
}

/// A sending slice, its chip, and the (chip, core) of every target.
pub type Sender = (u32, ChipId, Vec<(ChipId, u32)>);

/// Breadth-first parents from `src` over working links: (parent, direction taken).
fn bfs_parents(m: &Machine, src: ChipId) -> Vec<Option<(ChipId, u8)>> {
    let mut parent = vec![None; m.chips().len()];
    let mut seen = vec![false; m.chips().len()];
    seen[src.index()] = true;
    let mut q = std::collections::VecDeque::from([src]);
    while let Some(c) = q.pop_front() {
        for d in 0..m.topology.n_links() {
            if let Some(n) = m.neighbour(c, d)
                && !seen[n.index()]
            {
                seen[n.index()] = true;
                parent[n.index()] = Some((c, d as u8));
                q.push_back(n);
            }
        }
    }
    parent
}

/// Builds each sender's tree: the union of shortest paths from its chip to the cores
/// of its targets. A breadth-first tree is a tree, so no router receives a packet
/// twice; it avoids dead chips and links by construction.
pub fn trees(m: &Machine, senders: &[Sender]) -> Result<Vec<Tree>, CompileError> {
    let mut cache: BTreeMap<ChipId, Vec<Option<(ChipId, u8)>>> = BTreeMap::new();
    let mut out = Vec::with_capacity(senders.len());
    for (_, src, targets) in senders {
        let parent = cache.entry(*src).or_insert_with(|| bfs_parents(m, *src));
        let mut chips: BTreeMap<ChipId, (Route, Option<u8>)> = BTreeMap::new();
        chips.insert(*src, (Route::default(), None));
        for &(chip, core) in targets {
            // Walk up from the target until the tree, then attach that path from the
            // tree downwards, so every chip added has its parent in the tree.
            let mut path = Vec::new();
            let mut c = chip;
            while !chips.contains_key(&c) {
                let Some((p, d)) = parent[c.index()] else {
                    let (a, b) = (m.chip(*src), m.chip(chip));
                    return Err(CompileError::NoRoute(format!(
                        "no working path from chip ({}, {}) to chip ({}, {}): dead chips or links cut the machine",
                        a.x, a.y, b.x, b.y
                    )));
                };
                path.push((c, p, d));
                c = p;
            }
            for &(x, p, d) in path.iter().rev() {
                if let Some(e) = chips.get_mut(&p) {
                    e.0.links |= 1 << d;
                }
                chips.insert(x, (Route::default(), Some(d)));
            }
            if let Some(e) = chips.get_mut(&chip) {
                e.0.add_core(core);
            }
        }
        out.push(Tree { chips });
    }
    Ok(out)
}

/// Routing tables from trees; entries that the default route (straight through)
/// already covers are left out.
pub fn tables(keys: &[u32], mask: u32, trees: &[Tree]) -> BTreeMap<ChipId, Table> {
    let mut out: BTreeMap<ChipId, Table> = BTreeMap::new();
    for (tree, &key) in trees.iter().zip(keys) {
        for (&chip, &(route, arrived)) in &tree.chips {
            let t = out.entry(chip).or_insert_with(|| Table {
                entries: Vec::new(),
                routed: 0,
                uncompressed: 0,
                defaulted: Vec::new(),
                index: TableIndex::Scan,
            });
            t.routed += 1;
            let straight = arrived.is_some_and(|d| !route.has_cores() && route.links == 1 << d);
            if straight {
                t.defaulted.push(key);
            } else {
                t.entries.push(Entry { key, mask, route });
            }
        }
    }
    for t in out.values_mut() {
        t.entries.sort();
        t.seal();
        t.defaulted.sort_unstable();
        t.uncompressed = t.entries.len();
    }
    out
}

/// Merges entries with equal routes into key/mask blocks until the table fits
/// `capacity`, largest route groups first, stopping as soon as it fits. A merged
/// block never covers a key of another route or a key that passes on its default
/// route, so entry order does not matter and every key routes as before.
///
/// One pass over the router's keys in key order finds every route's blocks at once
/// (a range is one block when all the keys in it share one route), so the cost grows
/// with the keys at this router times the key width, not with routes × keys.
///
/// Returns whether ordered covering wrote the table.
pub fn compress(t: &mut Table, capacity: usize, block_bits: u32) -> bool {
    if t.entries.len() <= capacity {
        return false;
    }
    let mut routes: Vec<Route> = t.entries.iter().map(|e| e.route).collect();
    routes.sort_unstable();
    routes.dedup();
    // Every key present, by block index, with its route (`DEFAULT` for a key that
    // passes on the default route).
    let mut keys: Vec<(u32, u32)> = t
        .entries
        .iter()
        .map(|e| (e.key >> block_bits, routes.binary_search(&e.route).unwrap_or(0) as u32))
        .chain(t.defaulted.iter().map(|k| (k >> block_bits, DEFAULT)))
        .collect();
    keys.sort_unstable();
    // The tree of aligned ranges: its leaves are each route's largest blocks that
    // hold no other key (merging), and the whole tree is what ordered covering reads.
    let mut nodes = Vec::new();
    let root = cover_tree(&keys, 0, 32 - block_bits, &mut nodes);
    let mut blocks: Vec<Vec<(u32, u32)>> = vec![Vec::new(); routes.len()];
    for n in nodes.iter().filter(|n| n.halves == [None, None]) {
        if let [r] = n.candidates[..] {
            blocks[r as usize].push((n.base, n.bits));
        }
    }
    let mut size = vec![0usize; routes.len()];
    keys.iter().filter(|k| k.1 != DEFAULT).for_each(|k| size[k.1 as usize] += 1);
    let mut order: Vec<usize> = (0..routes.len()).collect();
    order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(routes[a].cmp(&routes[b])));
    let mut count = t.entries.len();
    let mut merged = vec![false; routes.len()];
    for r in order {
        if count <= capacity {
            break;
        }
        count = count - size[r] + blocks[r].len();
        merged[r] = true;
    }
    if count > capacity
        && let Some(root) = root
    {
        // Merging without covering cannot make it fit: cover with order instead.
        let covered = ordered_cover(&nodes, root, &routes, block_bits);
        if covered.len() < count {
            t.entries = covered;
            t.seal();
            return true;
        }
    }
    let mut result: Vec<Entry> =
        t.entries.iter().filter(|e| routes.binary_search(&e.route).is_ok_and(|r| !merged[r])).copied().collect();
    for (r, _) in merged.iter().enumerate().filter(|m| *m.1) {
        result.extend(blocks[r].iter().map(|&(prefix, bits)| block_entry(prefix, bits, block_bits, routes[r])));
    }
    result.sort();
    t.entries = result;
    t.seal();
    false
}

/// The entry for the aligned range of block indices `prefix..prefix + 2^bits`.
fn block_entry(prefix: u32, bits: u32, block_bits: u32, route: Route) -> Entry {
    let shift = block_bits + bits;
    let mask = if shift >= 32 { 0 } else { u32::MAX << shift };
    Entry { key: prefix << block_bits & mask, mask, route }
}

/// Ordered covering: the fewest aligned entries such that a key's *first* match
/// (entries most specific first, so the first match is the longest) gives its route,
/// by ORTC (Draves, King, Venkatachary & Zill, "Constructing optimal IP routing
/// tables", INFOCOM 1999) over the tree of block indices ([`cover_tree`]). Keys
/// absent from this router may match anything (they never arrive); a key that
/// passes on its default route must match nothing, so no entry covers one.
fn ordered_cover(nodes: &[CoverNode], root: usize, routes: &[Route], block_bits: u32) -> Vec<Entry> {
    let mut picked = Vec::new();
    choose(nodes, root, None, &mut picked);
    // Most specific first; within one mask, by key.
    picked.sort_by_key(|&(base, bits, _)| (bits, base));
    picked.into_iter().map(|(base, bits, r)| block_entry(base, bits, block_bits, routes[r as usize])).collect()
}

/// A node of the tree of block indices: an aligned range, the routes any one entry
/// for the whole range could take (ORTC's candidate set; empty where a default-routed
/// key forbids any entry), and its non-empty halves.
struct CoverNode {
    base: u32,
    bits: u32,
    candidates: Vec<u32>,
    /// A default-routed key lies in the range: no entry may cover it.
    blocked: bool,
    halves: [Option<usize>; 2],
}

/// The tree of aligned ranges over the sorted (block index, route index or
/// `DEFAULT`) pairs `keys`, all within `base..base + 2^bits`: a range whose keys
/// share one route is a leaf; otherwise its non-empty halves are its children. Nodes
/// are pushed children first; returns the root's index.
fn cover_tree(keys: &[(u32, u32)], base: u32, bits: u32, nodes: &mut Vec<CoverNode>) -> Option<usize> {
    let &(_, first) = keys.first()?;
    let uniform = keys.iter().all(|k| k.1 == first);
    let mut node = CoverNode { base, bits, candidates: Vec::new(), blocked: false, halves: [None, None] };
    if uniform || bits == 0 {
        // One route covers the range; a default-routed key blocks it, and so do two
        // routes for one block (impossible: each sender has its own keys).
        node.blocked = !uniform || first == DEFAULT;
        if !node.blocked {
            node.candidates = vec![first];
        }
    } else {
        let mid = base + (1u32 << (bits - 1));
        let split = keys.partition_point(|k| k.0 < mid);
        node.halves =
            [cover_tree(&keys[..split], base, bits - 1, nodes), cover_tree(&keys[split..], mid, bits - 1, nodes)];
        let sets: Vec<&CoverNode> = node.halves.iter().flatten().map(|&h| &nodes[h]).collect();
        node.blocked = sets.iter().any(|h| h.blocked);
        if !node.blocked {
            node.candidates = match sets[..] {
                [one] => one.candidates.clone(),
                [a, b] => {
                    let both: Vec<u32> = a.candidates.iter().copied().filter(|r| b.candidates.contains(r)).collect();
                    if both.is_empty() {
                        let mut either = [a.candidates.as_slice(), b.candidates.as_slice()].concat();
                        either.sort_unstable();
                        either.dedup();
                        either
                    } else {
                        both
                    }
                }
                _ => Vec::new(),
            };
        }
    }
    nodes.push(node);
    Some(nodes.len() - 1)
}

/// ORTC's top-down pass: a node whose range already inherits one of its candidate
/// routes needs no entry; otherwise it gets an entry with its first candidate.
fn choose(nodes: &[CoverNode], at: usize, inherited: Option<u32>, out: &mut Vec<(u32, u32, u32)>) {
    let n = &nodes[at];
    let mut here = inherited;
    if n.blocked {
        // Only possible under no entry at all (a blocked node's ancestors are blocked).
        debug_assert!(inherited.is_none());
    } else if !inherited.is_some_and(|r| n.candidates.contains(&r)) {
        let r = n.candidates[0];
        out.push((n.base, n.bits, r));
        here = Some(r);
    }
    for h in n.halves.iter().flatten() {
        choose(nodes, *h, here, out);
    }
}

/// The route index of a key that passes on the default route.
const DEFAULT: u32 = u32::MAX;

/// What a packet does on its way: the cores it reaches, the routers it passes
/// (one entry per router visit) and the links it crosses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Walk {
    pub cores: Vec<(ChipId, u32)>,
    pub routers: Vec<ChipId>,
    pub links: Vec<(ChipId, u8)>,
}

/// What the router of `chip` does with `key`, which arrived from direction `arrived`
/// (`None` at the source chip): the first matching entry, else the default route
/// straight through; a key with no entry at its source chip is an error.
pub fn lookup(
    m: &Machine,
    tables: &BTreeMap<ChipId, Table>,
    chip: ChipId,
    key: u32,
    arrived: Option<u8>,
) -> Result<Route, String> {
    let hit = tables.get(&chip).and_then(|t| t.find(key));
    match (hit, arrived) {
        (Some(e), _) => Ok(e.route),
        (None, Some(d)) => Ok(Route::links(1 << d)),
        (None, None) => {
            let c = m.chip(chip);
            Err(format!("key {key:#010x} has no entry at its source chip ({}, {})", c.x, c.y))
        }
    }
}

/// The error of a route that sends `key` out of `chip` on link `d`, which is dead or
/// does not exist.
pub fn lost_on_link(m: &Machine, chip: ChipId, key: u32, d: usize) -> String {
    let c = m.chip(chip);
    format!("key {key:#010x} leaves chip ({}, {}) on the dead or missing {} link", c.x, c.y, m.topology.link_name(d))
}

/// Follows a packet with `key` from `src` through the tables (first matching entry,
/// else the default route straight on), or says why it was lost.
pub fn walk(m: &Machine, tables: &BTreeMap<ChipId, Table>, src: ChipId, key: u32) -> Result<Walk, String> {
    let mut w = Walk::default();
    let mut stack = vec![(src, None::<u8>)];
    // A router's choice depends only on where the packet is and where it came from:
    // meeting the same (chip, arrival) twice is a loop, exactly.
    let mut seen: std::collections::BTreeSet<(ChipId, Option<u8>)> = Default::default();
    while let Some((chip, arrived)) = stack.pop() {
        w.routers.push(chip);
        if !seen.insert((chip, arrived)) {
            let c = m.chip(chip);
            return Err(format!(
                "key {key:#010x} reaches chip ({}, {}) twice from the same side: the tables loop, or two branches meet",
                c.x, c.y
            ));
        }
        let route = lookup(m, tables, chip, key, arrived)?;
        for c in route.core_list() {
            w.cores.push((chip, c));
        }
        for d in 0..m.topology.n_links() {
            if route.links >> d & 1 == 1 {
                match m.neighbour(chip, d) {
                    Some(n) => {
                        w.links.push((chip, d as u8));
                        stack.push((n, Some(d as u8)));
                    }
                    None => return Err(lost_on_link(m, chip, key, d)),
                }
            }
        }
    }
    w.cores.sort();
    Ok(w)
}

/// The cores a packet with `key` from `src` reaches (see [`walk`]).
pub fn follow(
    m: &Machine,
    tables: &BTreeMap<ChipId, Table>,
    src: ChipId,
    key: u32,
) -> Result<Vec<(ChipId, u32)>, String> {
    walk(m, tables, src, key).map(|w| w.cores)
}

/// Routing-table statistics for the report and the artifact.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TableStats {
    pub chips_with_tables: usize,
    /// Largest table (entries) of any chip at each stage.
    pub max_routed: usize,
    pub max_uncompressed: usize,
    pub max_compressed: usize,
    pub total_compressed: usize,
    pub capacity: usize,
    /// Tables that only ordered covering made fit.
    pub ordered_covered: usize,
    pub keys: crate::keys::KeyScheme,
}

#[cfg(test)]
mod tests {
    use neuromap_hw::Topology;

    use super::*;

    fn table(route: Route) -> Table {
        Table {
            entries: vec![Entry { key: 0, mask: u32::MAX, route }],
            routed: 1,
            uncompressed: 1,
            defaulted: Vec::new(),
            index: TableIndex::Scan,
        }
    }

    /// Eight senders of one route but the fourth: merging without covering needs
    /// four entries (three blocks of the first route and one of the second), ordered
    /// covering two (the exception first, then one entry over all eight). A key that
    /// passes on the default route is never covered.
    #[test]
    fn ordered_covering_fits_where_merging_cannot() {
        let (a, b) = (Route::links(1), Route::links(2));
        let bits = 4;
        let mut t = Table {
            entries: (0..8u32)
                .map(|k| Entry { key: k << bits, mask: u32::MAX << bits, route: if k == 3 { b } else { a } })
                .collect(),
            routed: 8,
            uncompressed: 8,
            defaulted: vec![9 << bits],
            index: TableIndex::Scan,
        };
        let before = t.clone();
        compress(&mut t, 2, bits);
        assert_eq!(t.entries.len(), 2, "{:?}", t.entries);
        assert!(matches!(t.index, TableIndex::Runs(_)), "{:?}", t.index);
        for k in 0..8u32 {
            assert_eq!(t.find(k << bits | 5).map(|e| e.route), before.find(k << bits).map(|e| e.route), "key {k}");
        }
        assert_eq!(t.find(9 << bits), None, "the default-routed key stays uncovered");
        // Without the default-routed key in the way, the same two entries.
        t = before.clone();
        t.defaulted.clear();
        compress(&mut t, 2, bits);
        assert_eq!(t.entries.len(), 2);
    }

    /// Two chips that send a key to each other forever: the walk says so at once, and
    /// names the chip where the packet came back.
    #[test]
    fn a_routing_loop_is_found_exactly() {
        let m = Machine::new(Topology::Mesh, 2, 1, false, None, |_, _| true);
        let (a, b) = (ChipId(0), ChipId(1));
        let (east, west) = (Route::links(1 << 0), Route::links(1 << 2));
        let tables: BTreeMap<ChipId, Table> = [(a, table(east)), (b, table(west))].into_iter().collect();
        let e = walk(&m, &tables, a, 0).unwrap_err();
        assert!(e.contains("twice from the same side") && e.contains("chip ("), "{e}");
        // Without the loop: the packet reaches b's core 3 and stops.
        let mut stop = Route::default();
        stop.add_core(3);
        let tables: BTreeMap<ChipId, Table> = [(a, table(east)), (b, table(stop))].into_iter().collect();
        assert_eq!(follow(&m, &tables, a, 0).unwrap(), vec![(b, 3)]);
    }
}
