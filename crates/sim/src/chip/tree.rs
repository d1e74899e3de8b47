//! Multicast trees: a sender's packets followed through the compiled tables.

use super::*;

/// One hop of a packet's path: a router or a link (a resource), under its parent hop.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hop {
    /// Resource index ([`Net::router`], [`Net::link`]) or [`DEAD`].
    pub(super) res: u32,
    pub(super) parent: u32,
    /// The first link of an emergency detour.
    pub(super) detour: bool,
}

pub(super) const NONE: u32 = u32::MAX;
pub(super) const DEAD: u32 = u32::MAX;

/// The multicast tree of one sender's packets: hops with parents before children,
/// and the cores reached, each under the router hop of its chip.
#[derive(Clone, Debug, Default)]
pub struct PacketTree {
    pub(super) hops: Vec<Hop>,
    /// (slice, router hop), sorted by slice.
    pub(super) dest: Vec<(u32, u32)>,
    /// Some hop is a dead link or a detour: fates must be worked out per packet.
    pub(super) faulty: bool,
    /// Per hop: time from emission to arrival there without waiting (ps).
    pub(super) offset_ps: Vec<u64>,
    /// The latest time from emission to a delivery to a core, without waiting (ps).
    pub(super) deliver_ps: u64,
    /// Router hops (the passes one copy makes when nothing is lost).
    pub(super) routers: u32,
}

impl PacketTree {
    pub(super) fn time(&mut self, rt: Option<RouterPs>, n_chips: usize) {
        let n = self.hops.len();
        self.routers = self.hops.iter().filter(|h| (h.res as usize) < n_chips).count() as u32;
        self.offset_ps = vec![0; n];
        if let Some(rt) = rt {
            for h in 0..n {
                let p = self.hops[h].parent;
                if p != NONE {
                    let up = self.hops[p as usize].res;
                    let router = up != DEAD && (up as usize) < n_chips;
                    self.offset_ps[h] =
                        self.offset_ps[p as usize] + if router { rt.router_ps + rt.pipe_ps } else { rt.link_ps };
                }
            }
            self.deliver_ps = self
                .dest
                .iter()
                .map(|&(_, via)| self.offset_ps[via as usize] + rt.router_ps + rt.pipe_ps)
                .max()
                .unwrap_or(0);
        }
    }
}

/// Resource numbering and the run-time link state of a machine.
pub(super) struct Net<'a> {
    pub(super) m: &'a Machine,
    pub(super) nl: usize,
    pub(super) dead: Vec<bool>,
}

impl Net<'_> {
    pub(super) fn router(&self, c: ChipId) -> u32 {
        c.0
    }
    pub(super) fn link(&self, c: ChipId, d: usize) -> u32 {
        (self.m.chips().len() + c.index() * self.nl + d) as u32
    }
    pub(super) fn n_res(&self) -> usize {
        self.m.chips().len() * (1 + self.nl)
    }
    /// The neighbour across a link that works at run time.
    pub(super) fn live(&self, c: ChipId, d: usize) -> Option<ChipId> {
        self.m.neighbour(c, d).filter(|_| !self.dead[c.index() * self.nl + d])
    }
}

/// The tree of a packet with `key` sent from `src`, through `tables`, with the
/// run-time dead links of `net`.
pub(super) fn packet_tree(
    net: &Net,
    tables: &BTreeMap<ChipId, neuromap_compile::route::Table>,
    at: &BTreeMap<(ChipId, u32), usize>,
    src: ChipId,
    key: u32,
) -> Result<PacketTree, String> {
    let m = net.m;
    let mut tree = PacketTree::default();
    // (chip, direction it arrived from, parent hop)
    let mut stack = vec![(src, None::<u8>, NONE)];
    while let Some((chip, arrived, parent)) = stack.pop() {
        if tree.hops.len() > 16 * m.chips().len() * (net.nl + 1) + 16 {
            return Err(format!("key {key:#010x} loops between routers"));
        }
        let here = tree.hops.len() as u32;
        tree.hops.push(Hop {
            res: if parent != NONE && tree.hops[parent as usize].res == DEAD { DEAD } else { net.router(chip) },
            parent,
            detour: false,
        });
        let route = neuromap_compile::route::lookup(m, tables, chip, key, arrived)?;
        for c in route.core_list() {
            let s = at.get(&(chip, c)).ok_or("a packet reaches a core that holds no slice")?;
            tree.dest.push((*s as u32, here));
        }
        for d in 0..net.nl {
            if route.links >> d & 1 == 0 {
                continue;
            }
            let Some(n) = m.neighbour(chip, d) else {
                return Err(neuromap_compile::route::lost_on_link(m, chip, key, d));
            };
            let mut from = here;
            if net.live(chip, d).is_some() {
                tree.hops.push(Hop { res: net.link(chip, d), parent: from, detour: false });
            } else {
                tree.faulty = true;
                // SpiNNaker's emergency route: the other two sides of the triangle.
                let detour = (m.topology == Topology::Hex)
                    .then(|| {
                        let (d1, d2) = ((d + 1) % 6, (d + 5) % 6);
                        let mid = net.live(chip, d1)?;
                        (net.live(mid, d2)? == n).then_some((d1, mid, d2))
                    })
                    .flatten();
                match detour {
                    Some((d1, mid, d2)) => {
                        tree.hops.push(Hop { res: net.link(chip, d1), parent: from, detour: true });
                        from = tree.hops.len() as u32 - 1;
                        tree.hops.push(Hop { res: net.router(mid), parent: from, detour: false });
                        from = tree.hops.len() as u32 - 1;
                        tree.hops.push(Hop { res: net.link(mid, d2), parent: from, detour: false });
                    }
                    None => tree.hops.push(Hop { res: DEAD, parent: from, detour: false }),
                }
            }
            stack.push((n, Some(d as u8), tree.hops.len() as u32 - 1));
        }
    }
    tree.dest.sort_unstable();
    Ok(tree)
}
