//! The machine as a graph for `petgraph`'s traversals: chips are nodes, working links
//! edges (a dead chip has none), in the order of the topology's link directions, so a
//! traversal visits chips in the same order on every run.

use neuromap_hw::{ChipId, Machine};
use petgraph::visit::{GraphBase, GraphRef, IntoNeighbors, VisitMap, Visitable};

/// The working links of a machine.
#[derive(Clone, Copy, Debug)]
pub struct Links<'m>(pub &'m Machine);

impl GraphBase for Links<'_> {
    type NodeId = ChipId;
    type EdgeId = (ChipId, u8);
}

impl GraphRef for Links<'_> {}

impl<'m> IntoNeighbors for Links<'m> {
    type Neighbors = std::vec::IntoIter<ChipId>;

    fn neighbors(self, c: ChipId) -> Self::Neighbors {
        let m = self.0;
        (0..m.topology.n_links()).filter_map(|d| m.neighbour(c, d)).collect::<Vec<_>>().into_iter()
    }
}

/// Chips seen, by index.
#[derive(Clone, Debug)]
pub struct Seen(Vec<bool>);

impl VisitMap<ChipId> for Seen {
    fn visit(&mut self, c: ChipId) -> bool {
        !std::mem::replace(&mut self.0[c.index()], true)
    }

    fn is_visited(&self, c: &ChipId) -> bool {
        self.0[c.index()]
    }

    fn unvisit(&mut self, c: ChipId) -> bool {
        std::mem::replace(&mut self.0[c.index()], false)
    }
}

impl Visitable for Links<'_> {
    type Map = Seen;

    fn visit_map(&self) -> Seen {
        Seen(vec![false; self.0.chips().len()])
    }

    fn reset_map(&self, map: &mut Seen) {
        map.0.iter_mut().for_each(|x| *x = false);
    }
}
