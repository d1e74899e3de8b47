//! Machines: chips on a grid, the links between them, and what is dead.

use std::collections::BTreeSet;

use serde::Serialize;

/// How chips are linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// Six links per chip (SpiNNaker's triangular mesh): E, NE, N, W, SW, S.
    Hex,
    /// Four links per chip: E, N, W, S.
    Mesh,
}

const HEX: [(&str, i64, i64); 6] =
    [("east", 1, 0), ("north_east", 1, 1), ("north", 0, 1), ("west", -1, 0), ("south_west", -1, -1), ("south", 0, -1)];
const MESH: [(&str, i64, i64); 4] = [("east", 1, 0), ("north", 0, 1), ("west", -1, 0), ("south", 0, -1)];

impl Topology {
    fn dirs(self) -> &'static [(&'static str, i64, i64)] {
        match self {
            Topology::Hex => &HEX,
            Topology::Mesh => &MESH,
        }
    }

    pub fn n_links(self) -> usize {
        self.dirs().len()
    }

    pub fn link_name(self, d: usize) -> &'static str {
        self.dirs()[d].0
    }

    pub fn link_by_name(self, name: &str) -> Option<usize> {
        self.dirs().iter().position(|x| x.0 == name)
    }

    pub fn link_names(self) -> Vec<&'static str> {
        self.dirs().iter().map(|x| x.0).collect()
    }

    /// The link a packet arrives on when sent out on `d` (the opposite direction).
    pub fn opposite(self, d: usize) -> usize {
        (d + self.n_links() / 2) % self.n_links()
    }
}

/// Dense index of a chip in [`Machine::chips`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ChipId(pub u32);

impl ChipId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Chip {
    pub x: u32,
    pub y: u32,
    pub alive: bool,
    /// Dead core numbers on this chip.
    pub dead_cores: Vec<u32>,
}

/// A machine: its chips (only those that exist in its shape) and links.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub topology: Topology,
    pub width: u32,
    pub height: u32,
    pub wrap: bool,
    /// Boards, for board-built machines (informational).
    pub boards: Option<u32>,
    chips: Vec<Chip>,
    #[serde(skip)]
    grid: Vec<Option<u32>>,
    /// Dead links as (chip, direction), both directions of each dead cable.
    dead_links: BTreeSet<(u32, u8)>,
}

/// Chips of one 48-chip SpiNN-5-style board in its 8 × 8 bounding box: the chips
/// whose nearest board centre, in hexagonal distance, is this board's (SpiNNMachine's
/// triad geometry: roots (0,0), (4,8), (8,4) in a 12 × 12 triad, centres offset
/// (3.6, 3.4)). Row y holds x ∈ [0, 4+y] for y < 4 and x ∈ [y−3, 7] for y ≥ 4.
pub fn board48_contains(x: u32, y: u32) -> bool {
    x < 8 && y < 8 && if y < 4 { x <= 4 + y } else { x + 3 >= y }
}

impl Machine {
    /// A machine whose chips are the grid positions for which `exists` holds.
    pub fn new(
        topology: Topology,
        width: u32,
        height: u32,
        wrap: bool,
        boards: Option<u32>,
        exists: impl Fn(u32, u32) -> bool,
    ) -> Self {
        let mut chips = Vec::new();
        let mut grid = vec![None; (width as usize) * (height as usize)];
        for y in 0..height {
            for x in 0..width {
                if exists(x, y) {
                    grid[(y * width + x) as usize] = Some(chips.len() as u32);
                    chips.push(Chip { x, y, alive: true, dead_cores: Vec::new() });
                }
            }
        }
        Self { topology, width, height, wrap, boards, chips, grid, dead_links: BTreeSet::new() }
    }

    pub fn chips(&self) -> &[Chip] {
        &self.chips
    }

    pub fn chip(&self, id: ChipId) -> &Chip {
        &self.chips[id.index()]
    }

    pub fn chip_ids(&self) -> impl Iterator<Item = ChipId> + use<> {
        (0..self.chips.len() as u32).map(ChipId)
    }

    pub fn at(&self, x: u32, y: u32) -> Option<ChipId> {
        if x >= self.width || y >= self.height {
            return None;
        }
        self.grid[(y * self.width + x) as usize].map(ChipId)
    }

    /// The chip across link `d`, if it exists (alive or not).
    pub fn across(&self, id: ChipId, d: usize) -> Option<ChipId> {
        let c = &self.chips[id.index()];
        let (_, dx, dy) = self.topology.dirs()[d];
        let (w, h) = (i64::from(self.width), i64::from(self.height));
        let (mut x, mut y) = (i64::from(c.x) + dx, i64::from(c.y) + dy);
        if self.wrap {
            x = x.rem_euclid(w);
            y = y.rem_euclid(h);
        } else if x < 0 || y < 0 || x >= w || y >= h {
            return None;
        }
        self.at(x as u32, y as u32)
    }

    /// The neighbour across link `d` if both chips and the link work.
    pub fn neighbour(&self, id: ChipId, d: usize) -> Option<ChipId> {
        let n = self.across(id, d)?;
        let ok =
            self.chips[id.index()].alive && self.chips[n.index()].alive && !self.dead_links.contains(&(id.0, d as u8));
        ok.then_some(n)
    }

    /// The link named `dir` of chip (x, y).
    pub fn link_at(&self, x: u32, y: u32, dir: &str) -> Result<(ChipId, usize), String> {
        let id = self.at(x, y).ok_or_else(|| format!("({x}, {y}, {dir}): chip ({x}, {y}) is not in the machine"))?;
        let d = self
            .topology
            .link_by_name(dir)
            .ok_or_else(|| format!("({x}, {y}, {dir}): links are {}", self.topology.link_names().join(", ")))?;
        Ok((id, d))
    }

    pub fn kill_chip(&mut self, id: ChipId) {
        self.chips[id.index()].alive = false;
    }

    pub fn kill_core(&mut self, id: ChipId, core: u32) {
        let c = &mut self.chips[id.index()];
        if !c.dead_cores.contains(&core) {
            c.dead_cores.push(core);
            c.dead_cores.sort_unstable();
        }
    }

    /// Kills the cable on link `d` of `id` (both directions).
    pub fn kill_link(&mut self, id: ChipId, d: usize) {
        self.dead_links.insert((id.0, d as u8));
        if let Some(n) = self.across(id, d) {
            self.dead_links.insert((n.0, self.topology.opposite(d) as u8));
        }
    }

    pub fn dead_links(&self) -> impl Iterator<Item = (ChipId, usize)> + '_ {
        self.dead_links.iter().map(|&(c, d)| (ChipId(c), usize::from(d)))
    }

    pub fn alive_chips(&self) -> usize {
        self.chips.iter().filter(|c| c.alive).count()
    }
}

/// Width and height of a torus of 12 × 12-chip triads (three 48-chip boards each)
/// holding at least `boards` boards, laid out as SpiNNMachine's
/// `size_from_n_boards` does: ⌈boards/3⌉ triads in a near-square rectangle.
pub fn triad_torus(boards: u32) -> (u32, u32) {
    let triads = boards.div_ceil(3).max(1);
    let w = (f64::from(triads).sqrt().ceil() as u32).max(1);
    let h = triads.div_ceil(w);
    (12 * w, 12 * h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_board_has_48_chips() {
        let n = (0..8).flat_map(|y| (0..8).map(move |x| (x, y))).filter(|&(x, y)| board48_contains(x, y)).count();
        assert_eq!(n, 48);
    }

    #[test]
    fn hex_links_are_symmetric_on_a_torus() {
        let m = Machine::new(Topology::Hex, 12, 12, true, Some(3), |_, _| true);
        for id in m.chip_ids() {
            for d in 0..6 {
                let n = m.across(id, d).unwrap();
                assert_eq!(m.across(n, m.topology.opposite(d)), Some(id));
            }
        }
    }

    #[test]
    fn dead_links_cut_both_directions() {
        let mut m = Machine::new(Topology::Hex, 2, 2, false, None, |_, _| true);
        let a = m.at(0, 0).unwrap();
        m.kill_link(a, 1);
        let b = m.at(1, 1).unwrap();
        assert_eq!(m.neighbour(a, 1), None);
        assert_eq!(m.neighbour(b, 4), None);
        assert_eq!(m.neighbour(a, 0), m.at(1, 0));
    }

    #[test]
    fn triads_cover_the_boards() {
        assert_eq!(triad_torus(1), (12, 12));
        assert_eq!(triad_torus(3), (12, 12));
        assert_eq!(triad_torus(4), (24, 12));
        assert_eq!(triad_torus(24), (36, 36));
    }
}
