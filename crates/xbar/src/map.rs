//! Tiling, quantisation and device programming.

use std::collections::BTreeMap;

/// A tile's place while tiling: (delay, row block, column block).
type BlockKey = (u16, u32, u32);

use neuromap_hw::HwModel;
use neuromap_hw::crossbar::Crossbar;
use neuromap_ir::{Network, ProjId, Receptor};
use neuromap_sim::arith::S1615;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// How a signed weight is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signed {
    /// Two columns per weight, `G⁺ − G⁻`: `levels − 1` steps each way.
    Differential,
    /// One column per weight against a reference column at the middle level:
    /// `(levels − 1) / 2` steps each way, one column per tile for the reference.
    Offset,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XbarError {
    #[error("`{model}` is of family `{family}`, not `crossbar`")]
    Family { model: String, family: String },
    #[error("`{model}`: {what} must be at least {min}")]
    Parameter { model: String, what: &'static str, min: String },
    #[error(
        "crossbar tiles: the network needs {demand} tiles of {rows} × {columns}, the chip has {capacity} ({detail})"
    )]
    Tiles { demand: usize, capacity: usize, rows: u32, columns: u32, detail: String },
}

/// One array: a block of a weight matrix.
#[derive(Clone, Debug)]
pub struct Tile {
    /// Which matrix it belongs to.
    pub matrix: usize,
    pub row0: u32,
    pub rows: u32,
    pub col0: u32,
    /// Logical columns (weights); the physical columns are twice as many when
    /// differential, one more (the reference) with an offset column.
    pub cols: u32,
    /// The conductance a read sees, `rows × physical columns`, row-major: the programmed
    /// one, in series with the wire from the driver (column 0) and to the sense
    /// amplifier (last row) when the model gives a wire resistance, `1 / (1/G + R)`.
    pub g: Vec<f64>,
    /// Σ of each row's programmed conductances (the energy of reading it).
    pub row_g: Vec<f64>,
    /// Position on the network-on-chip mesh.
    pub at: (u32, u32),
}

impl Tile {
    pub fn physical_cols(&self, signed: Signed) -> u32 {
        match signed {
            Signed::Differential => 2 * self.cols,
            Signed::Offset => self.cols + 1,
        }
    }
}

/// One projection's synapses of one delay, as a matrix of cell levels.
#[derive(Clone, Debug)]
pub struct Matrix {
    pub proj: ProjId,
    pub delay: u16,
    pub receptor: Receptor,
    /// The weight of one level step: `ks · 2^-shift0`.
    pub ks: i64,
    pub shift0: i32,
    /// Largest level magnitude a cell holds.
    pub qmax: i64,
    /// Tiles of this matrix by row block: `row_tiles[b]` lists tile indices.
    pub row_tiles: Vec<Vec<usize>>,
}

impl Matrix {
    pub fn step_weight(&self) -> f64 {
        self.ks as f64 * 2f64.powi(-self.shift0)
    }
}

/// A network on a crossbar chip.
#[derive(Clone, Debug)]
pub struct XbarMapping {
    pub model: String,
    pub hw: Crossbar,
    pub signed: Signed,
    pub matrices: Vec<Matrix>,
    pub tiles: Vec<Tile>,
    /// Matrices by projection.
    pub by_proj: Vec<Vec<usize>>,
    /// The network with every weight replaced by its cell's quantised value: the
    /// quantised functional model the chip must equal when the devices are ideal.
    pub quantised_net: Network,
    /// The mesh's width (tiles).
    pub mesh_width: u32,
    /// Tile holding each population's neurons' periphery (by population index).
    pub home: Vec<(u32, u32)>,
    pub capacity: usize,
}

fn levels_each_way(levels: u32, signed: Signed) -> i64 {
    match signed {
        Signed::Differential => i64::from(levels) - 1,
        Signed::Offset => (i64::from(levels) - 1) / 2,
    }
}

/// One projection's weights on a crossbar's conductance grid.
#[derive(Clone, Debug)]
pub struct Quantised {
    /// Per synapse (in the projection's order): its cell's weight, level × step; 0
    /// for a multapse's later synapses (they share the first one's cell).
    pub weights: Vec<f32>,
    /// Per cell `(delay, pre, post)`: its level in `−qmax..=qmax`.
    pub cells: BTreeMap<(u16, u32, u32), i64>,
    /// One level's weight, `ks · 2^−shift0`.
    pub step: f64,
    pub ks: i64,
    pub shift0: i32,
    pub qmax: i64,
}

/// Puts projection `pid` of `net` on the conductance grid of `hw` (`shifts`: the
/// quantised model's weight shifts, [`neuromap_sim::reference::weight_shifts`]): the
/// largest weight takes the top level, every weight the nearest level, on the
/// quantised model's weight grid.
pub fn quantise(net: &Network, pid: ProjId, hw: &Crossbar, signed: Signed, shifts: &[[i32; 2]]) -> Quantised {
    let proj = net.proj(pid);
    let syn = &proj.synapses;
    let qmax = levels_each_way(hw.levels, signed);
    let r = match proj.receptor {
        Receptor::Excitatory => 0,
        Receptor::Inhibitory => 1,
    };
    let shift0 = shifts[proj.post.index()][r];
    let max = f64::from(syn.max_abs_weight());
    let ks = ((max * 2f64.powi(shift0)) / qmax as f64).floor().max(1.0) as i64;
    let step = ks as f64 * 2f64.powi(-shift0);
    let level =
        |w: f64| -> i64 { ((w * 2f64.powi(shift0)) / ks as f64).round().clamp(-(qmax as f64), qmax as f64) as i64 };
    let n_pre = net.pop(proj.pre).size;
    // One pass: cells by (delay, pre, post), weights summed (multapses share a cell);
    // the cell's quantised weight goes to its first synapse, 0 to the rest.
    let mut sums: BTreeMap<(u16, u32, u32), (f64, usize)> = BTreeMap::new();
    let mut idx = 0usize;
    for pre in 0..n_pre as usize {
        let row = syn.row(pre);
        for ((&post, &w), &d) in row.post.iter().zip(row.weight).zip(row.delay) {
            sums.entry((d, pre as u32, post)).or_insert((0.0, idx)).0 += f64::from(w);
            idx += 1;
        }
    }
    let mut weights: Vec<f32> = vec![0.0; syn.len()];
    let mut cells = BTreeMap::new();
    for (&k, &(w, first)) in &sums {
        let q = level(w);
        weights[first] = (q as f64 * step) as f32;
        cells.insert(k, q);
    }
    Quantised { weights, cells, step, ks, shift0, qmax }
}

/// Maps `net` onto the crossbar model `m`, programming devices from `seed`.
pub fn map(net: &Network, m: &HwModel, seed: u64) -> Result<XbarMapping, XbarError> {
    let Some(hw) = Crossbar::from_model(m) else {
        return Err(XbarError::Family { model: m.name.clone(), family: m.family.to_string() });
    };
    map_onto(net, &m.name, &hw, seed, m.machine.alive_chips())
}

/// Maps onto a typed crossbar (a sweep changes its figures) of `chips` chips.
pub fn map_onto(net: &Network, model: &str, hw: &Crossbar, seed: u64, chips: usize) -> Result<XbarMapping, XbarError> {
    map_some(net, model, hw, seed, chips, &|_| true)
}

/// Maps the projections `on` selects (the others keep their weights and get no
/// tiles): a hybrid chip's crossbar part holds only its populations' inputs.
pub fn map_some(
    net: &Network,
    model: &str,
    hw: &Crossbar,
    seed: u64,
    chips: usize,
    on: &dyn Fn(ProjId) -> bool,
) -> Result<XbarMapping, XbarError> {
    let signed = if hw.differential { Signed::Differential } else { Signed::Offset };
    let param = |what: &'static str, ok: bool, min: &str| {
        if ok { Ok(()) } else { Err(XbarError::Parameter { model: model.to_string(), what, min: min.to_string() }) }
    };
    param("tile.rows", hw.rows >= 1, "1")?;
    param("tile.columns", hw.columns >= 2, "2")?;
    param("tile.levels", hw.levels >= if signed == Signed::Offset { 3 } else { 2 }, "2 (3 for an offset column)")?;
    param("tile.g_max_s", hw.g_max_s > hw.g_min_s, "above g_min_s")?;
    param("adc.bits", hw.adc_bits >= 1 && hw.adc_bits <= 40, "1 (and at most 40)")?;
    param("adc.columns_per_adc", hw.columns_per_adc >= 1, "1")?;
    let shifts = neuromap_sim::reference::weight_shifts::<S1615>(net);
    let logical_per_tile = match signed {
        Signed::Differential => hw.columns / 2,
        Signed::Offset => hw.columns - 1,
    };
    // Tiles needed, counted before any is built: blocks holding at least one synapse.
    let capacity = (hw.tiles as usize).saturating_mul(chips);
    let mut demand = 0usize;
    let mut per_proj = Vec::new();
    for (pi, proj) in net.projections().iter().enumerate() {
        if !on(ProjId(pi as u32)) {
            continue;
        }
        let mut blocks = std::collections::HashSet::new();
        for (pre, post, w, d) in proj.synapses.iter() {
            if w != 0.0 {
                blocks.insert((d, pre / hw.rows, post / logical_per_tile));
            }
        }
        demand += blocks.len();
        per_proj.push(format!("{} {}", proj.name, blocks.len()));
    }
    if demand > capacity {
        return Err(XbarError::Tiles {
            demand,
            capacity,
            rows: hw.rows,
            columns: hw.columns,
            detail: per_proj.join(", "),
        });
    }
    let mut matrices = Vec::new();
    let mut tiles = Vec::new();
    let mut by_proj = vec![Vec::new(); net.projections().len()];
    let mut quantised_weights: Vec<Vec<f32>> = Vec::with_capacity(net.projections().len());
    for (pi, proj) in net.projections().iter().enumerate() {
        let pid = ProjId(pi as u32);
        if !on(pid) {
            quantised_weights.push(proj.synapses.weights().to_vec());
            continue;
        }
        let q = quantise(net, pid, hw, signed, &shifts);
        let (ks, shift0, qmax) = (q.ks, q.shift0, q.qmax);
        // Per delay, per row block: the nonzero levels by column block.
        let mut blocks: BTreeMap<BlockKey, Vec<(u32, u32, i64)>> = BTreeMap::new();
        for (&(d, i, j), &l) in &q.cells {
            if l != 0 {
                blocks.entry((d, i / hw.rows, j / logical_per_tile)).or_default().push((i, j, l));
            }
        }
        let cells = q.cells;
        quantised_weights.push(q.weights);
        let n_pre = net.pop(proj.pre).size;
        let n_post = net.pop(proj.post).size;
        let mut delays: Vec<u16> = cells.keys().map(|k| k.0).collect();
        delays.dedup();
        for d in delays {
            let mi = matrices.len();
            let mut row_tiles = vec![Vec::new(); n_pre.div_ceil(hw.rows) as usize];
            for (&(_, rb, cb), entries) in blocks.range((d, 0, 0)..=(d, u32::MAX, u32::MAX)) {
                let (row0, col0) = (rb * hw.rows, cb * logical_per_tile);
                let rows = hw.rows.min(n_pre - row0);
                let cols = logical_per_tile.min(n_post - col0);
                let mut q = vec![0i64; (rows * cols) as usize];
                for &(i, j, l) in entries {
                    q[((i - row0) * cols + (j - col0)) as usize] = l;
                }
                row_tiles[rb as usize].push(tiles.len());
                tiles.push(program(hw, signed, mi, row0, rows, col0, cols, &q, seed, tiles.len() as u64));
            }
            by_proj[pi].push(mi);
            matrices.push(Matrix { proj: pid, delay: d, receptor: proj.receptor, ks, shift0, qmax, row_tiles });
        }
    }
    let quantised = net.with_all_weights(quantised_weights).map_err(|e| XbarError::Parameter {
        model: model.to_string(),
        what: "weights",
        min: e.to_string(),
    })?;
    // Tiles on a square mesh in mapping order; a population's neurons live beside
    // the first tile that feeds them (sources beside the first tile they drive).
    let width = (tiles.len() as f64).sqrt().ceil().max(1.0) as u32;
    for (k, t) in tiles.iter_mut().enumerate() {
        t.at = (k as u32 % width, k as u32 / width);
    }
    let mut home = vec![(0, 0); net.populations().len()];
    let mut set = vec![false; net.populations().len()];
    for m in &matrices {
        let p = net.proj(m.proj);
        if let Some(&t) = m.row_tiles.iter().flatten().next() {
            for pop in [p.post.index(), p.pre.index()] {
                if !set[pop] {
                    home[pop] = tiles[t].at;
                    set[pop] = true;
                }
            }
        }
    }
    Ok(XbarMapping {
        model: model.to_string(),
        hw: hw.clone(),
        signed,
        matrices,
        tiles,
        by_proj,
        quantised_net: quantised,
        mesh_width: width,
        home,
        capacity,
    })
}

/// Programs one tile: target conductances from the levels, then variation and stuck-at
/// faults drawn from the tile's own stream.
#[allow(clippy::too_many_arguments)]
fn program(
    hw: &Crossbar,
    signed: Signed,
    matrix: usize,
    row0: u32,
    rows: u32,
    col0: u32,
    cols: u32,
    q: &[i64],
    seed: u64,
    index: u64,
) -> Tile {
    let dg = (hw.g_max_s - hw.g_min_s) / (f64::from(hw.levels) - 1.0);
    let mid = ((i64::from(hw.levels) - 1) / 2) as f64;
    let phys = match signed {
        Signed::Differential => 2 * cols,
        Signed::Offset => cols + 1,
    } as usize;
    let mut g = vec![0f64; rows as usize * phys];
    for i in 0..rows as usize {
        for j in 0..cols as usize {
            let l = q[i * cols as usize + j] as f64;
            match signed {
                Signed::Differential => {
                    g[i * phys + 2 * j] = hw.g_min_s + l.max(0.0) * dg;
                    g[i * phys + 2 * j + 1] = hw.g_min_s + (-l).max(0.0) * dg;
                }
                Signed::Offset => g[i * phys + j] = hw.g_min_s + (mid + l) * dg,
            }
        }
        if signed == Signed::Offset {
            g[i * phys + cols as usize] = hw.g_min_s + mid * dg;
        }
    }
    let mut rng = neuromap_ir::rng::stream(seed, "program", "tile", index);
    for x in g.iter_mut() {
        let u: f64 = rng.random();
        let n: f64 = StandardNormal.sample(&mut rng);
        if u < hw.stuck_low {
            *x = hw.g_min_s;
        } else if u < hw.stuck_low + hw.stuck_high {
            *x = hw.g_max_s;
        } else if hw.sigma > 0.0 {
            *x = (*x * (1.0 + hw.sigma * n)).max(0.0);
        }
    }
    let row_g = g.chunks(phys).map(|r| r.iter().sum()).collect();
    if hw.r_wire_ohm > 0.0 {
        for (i, row) in g.chunks_mut(phys).enumerate() {
            for (c, x) in row.iter_mut().enumerate() {
                let r = hw.r_wire_ohm * ((c as f64 + 1.0) + f64::from(rows - i as u32));
                *x /= 1.0 + *x * r;
            }
        }
    }
    Tile { matrix, row0, rows, col0, cols, g, row_g, at: (0, 0) }
}
