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
        t.defaulted.sort_unstable();
        t.uncompressed = t.entries.len();
    }
    out
}

/// Merges entries with equal routes into key/mask blocks until the table fits
/// `capacity`, largest route groups first, stopping as soon as it fits. A merged
/// block never covers a key of another route or a key that passes on its default
/// route, so entry order does not matter and every key routes as before.
pub fn compress(t: &mut Table, capacity: usize, block_bits: u32) {
    if t.entries.len() <= capacity {
        return;
    }
    let mut groups: BTreeMap<Route, Vec<u32>> = BTreeMap::new();
    for e in &t.entries {
        groups.entry(e.route).or_default().push(e.key >> block_bits);
    }
    let mut order: Vec<(Route, Vec<u32>)> = groups.into_iter().collect();
    order.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut count = t.entries.len();
    let mut result: Vec<Entry> = Vec::new();
    let mut merged_routes = std::collections::BTreeSet::new();
    for (route, keys) in &order {
        if count <= capacity {
            break;
        }
        // Blockers: every other key present at this router.
        let mut blockers: Vec<u32> =
            t.entries.iter().filter(|e| e.route != *route).map(|e| e.key >> block_bits).collect();
        blockers.extend(t.defaulted.iter().map(|k| k >> block_bits));
        blockers.sort_unstable();
        let mut merged = Vec::new();
        merge(keys, &blockers, 0, 32 - block_bits, &mut merged);
        count = count - keys.len() + merged.len();
        result.extend(merged.into_iter().map(|(prefix, bits)| {
            let shift = block_bits + bits;
            let mask = if shift >= 32 { 0 } else { u32::MAX << shift };
            Entry { key: prefix << block_bits & mask, mask, route: *route }
        }));
        merged_routes.insert(*route);
    }
    result.extend(t.entries.iter().filter(|e| !merged_routes.contains(&e.route)).copied());
    result.sort();
    t.entries = result;
}

/// Covers the sorted block indices `keys` (all within the aligned range starting at
/// `base` of size 2^`bits`) with aligned ranges that hold no blocker.
fn merge(keys: &[u32], blockers: &[u32], base: u32, bits: u32, out: &mut Vec<(u32, u32)>) {
    if keys.is_empty() {
        return;
    }
    let end = u64::from(base) + (1u64 << bits);
    let lo = blockers.partition_point(|&b| b < base);
    let hi = blockers.partition_point(|&b| u64::from(b) < end);
    if lo == hi || bits == 0 {
        out.push((base, bits));
        return;
    }
    let mid = base + (1u32 << (bits - 1));
    let split = keys.partition_point(|&k| k < mid);
    merge(&keys[..split], &blockers[lo..hi], base, bits - 1, out);
    merge(&keys[split..], &blockers[lo..hi], mid, bits - 1, out);
}

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
    let hit = tables.get(&chip).and_then(|t| t.entries.iter().find(|e| key & e.mask == e.key));
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
        }
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
