//! The crossbar chip, step by step: the quantised model's engine with synaptic input
//! computed by the tiles (word lines driven by the step's spikes, column currents
//! from the programmed conductances with read noise and first-order IR drop, ADC
//! conversion, digital partial sums), and the neuron updates in the periphery in
//! s16.15. Actions are counted; `neuromap_cost` prices them.

use neuromap_ir::{Network, ProjId};
use neuromap_sim::arith::S1615;
use neuromap_sim::{Deliver, Engine, Options, RunResult};
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::map::{Signed, XbarMapping};

/// What the chip did (summed over the run).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct XbarCounts {
    /// Array reads (a tile with at least one active word line in a step).
    pub tile_reads: u64,
    /// Word lines driven.
    pub active_rows: u64,
    /// Cells on driven word lines (each conducts).
    pub cell_reads: u64,
    /// Σ of the conductances of every cell read (S): the read energy is
    /// `V² · t_read ·` this.
    pub conductance_read_s: f64,
    pub conversions: u64,
    /// Partial sums added into neurons' inputs.
    pub adds: u64,
    /// Spike packets and the network-on-chip hops they took.
    pub packets: u64,
    pub hops: u64,
    /// Column results the ADC clipped (its range was exceeded).
    pub clipped: u64,
    /// Time of each step (s): per population in update order, its slowest tile read,
    /// plus the longest packet path.
    pub step_latency_s: Vec<f64>,
}

/// A chip run.
#[derive(Clone, Debug)]
pub struct XbarRun {
    pub result: RunResult,
    pub counts: XbarCounts,
}

struct TileDelivery<'m> {
    m: &'m XbarMapping,
    r: Reader,
}

/// The tiles' read of one projection's spikes, with its scratch and counts: what
/// [`run`] does through the engine and a hybrid chip's macro does for its slice.
#[derive(Debug)]
pub struct Reader {
    pub counts: XbarCounts,
    seed: u64,
    /// This step's slowest tile read per post population.
    pop_time: Vec<f64>,
    max_hops: u64,
    currents: Vec<f64>,
    /// Scratch: a row block's spiking rows `(row, count)`, and one pass's rows.
    active: Vec<(u32, u32)>,
    on: Vec<u32>,
}

impl Deliver<S1615> for TileDelivery<'_> {
    fn deliver<F: FnMut(u32, u16, i64)>(
        &mut self,
        net: &Network,
        proj: ProjId,
        t: u32,
        spikes: &[(u32, u32)],
        shift: i32,
        add: &mut F,
    ) -> u64 {
        self.r.read(self.m, net, proj, t, spikes, shift, add)
    }
}

impl Reader {
    /// A reader of `m`'s tiles for `net` (`seed` draws the read noise).
    pub fn new(net: &Network, seed: u64) -> Self {
        Self {
            counts: XbarCounts::default(),
            seed,
            pop_time: vec![0.0; net.populations().len()],
            max_hops: 0,
            currents: Vec::new(),
            active: Vec::new(),
            on: Vec::new(),
        }
    }

    /// Reads the tiles of projection `proj` for step `t`'s `spikes` (presynaptic
    /// neuron, count): drives their word lines, converts the columns, and calls
    /// `add(post, delay, value)` with each column's value in accumulator units at
    /// the engine's `shift`. Returns the synaptic events. The noise of a read is a
    /// function of the tile and the step, so a read repeated gives the same values.
    #[allow(clippy::too_many_arguments)]
    pub fn read<F: FnMut(u32, u16, i64)>(
        &mut self,
        m: &XbarMapping,
        net: &Network,
        proj: ProjId,
        t: u32,
        spikes: &[(u32, u32)],
        shift: i32,
        add: &mut F,
    ) -> u64 {
        let hw = &m.hw;
        let syn = &net.proj(proj).synapses;
        let events: u64 = spikes.iter().map(|&(j, k)| syn.row_len(j as usize) as u64 * u64::from(k)).sum();
        if spikes.is_empty() {
            return events;
        }
        let dg = (hw.g_max_s - hw.g_min_s) / (f64::from(hw.levels) - 1.0);
        let post = net.proj(proj).post.index();
        let home = m.home[net.proj(proj).pre.index()];
        for &mi in &m.by_proj[proj.index()] {
            let mat = &m.matrices[mi];
            // The input of one level step, in the engine's accumulator units.
            let unit = mat.ks << (shift - mat.shift0).clamp(0, 40);
            for tiles in &mat.row_tiles {
                let Some(&first) = tiles.first() else { continue };
                let (row0, rows) = (m.tiles[first].row0, m.tiles[first].rows);
                let mut active = std::mem::take(&mut self.active);
                active.clear();
                active
                    .extend(spikes.iter().filter(|&&(j, _)| j >= row0 && j < row0 + rows).map(|&(j, k)| (j - row0, k)));
                if active.is_empty() {
                    self.active = active;
                    continue;
                }
                let passes = active.iter().map(|a| a.1).max().unwrap_or(1);
                for &ti in tiles {
                    let tile = &m.tiles[ti];
                    let phys = tile.physical_cols(m.signed) as usize;
                    // Packets: one per spiking input to this tile.
                    let hops = u64::from(home.0.abs_diff(tile.at.0) + home.1.abs_diff(tile.at.1));
                    self.counts.packets += active.len() as u64;
                    self.counts.hops += hops * active.len() as u64;
                    self.max_hops = self.max_hops.max(hops);
                    // Read noise draws from the tile's stream for this step (only when there is noise).
                    let mut rng = (hw.read_noise > 0.0).then(|| {
                        neuromap_ir::rng::stream(self.seed, "read-noise", &m.model, u64::from(t) << 32 | ti as u64)
                    });
                    for pass in 1..=passes {
                        let mut on = std::mem::take(&mut self.on);
                        on.clear();
                        on.extend(active.iter().filter(|a| a.1 >= pass).map(|a| a.0));
                        self.counts.tile_reads += 1;
                        self.counts.active_rows += on.len() as u64;
                        self.counts.cell_reads += (on.len() * phys) as u64;
                        self.currents.clear();
                        self.currents.resize(phys, 0.0);
                        for &i in &on {
                            self.counts.conductance_read_s += tile.row_g[i as usize];
                            let row = &tile.g[i as usize * phys..(i as usize + 1) * phys];
                            for (cur, &g) in self.currents.iter_mut().zip(row) {
                                let seen = match &mut rng {
                                    Some(rng) => {
                                        let n: f64 = StandardNormal.sample(rng);
                                        g * (1.0 + hw.read_noise * n)
                                    }
                                    None => g,
                                };
                                *cur += hw.v_read * seen;
                            }
                        }
                        let (max_code, per_code) = hw.adc(tile.rows, mat.qmax);
                        for j in 0..tile.cols as usize {
                            let diff = match m.signed {
                                Signed::Differential => self.currents[2 * j] - self.currents[2 * j + 1],
                                Signed::Offset => self.currents[j] - self.currents[tile.cols as usize],
                            };
                            let steps = diff / (hw.v_read * dg);
                            let mut code = (steps / per_code as f64).round();
                            if code.abs() > max_code as f64 {
                                self.counts.clipped += 1;
                                code = code.clamp(-(max_code as f64), max_code as f64);
                            }
                            let value = code as i64 * per_code;
                            self.counts.conversions += 1;
                            self.counts.adds += 1;
                            if value != 0 {
                                add(tile.col0 + j as u32, mat.delay, value * unit);
                            }
                        }
                        let per_adc = tile.cols.min(hw.columns_per_adc);
                        let time = hw.t_read_s + f64::from(per_adc) * hw.adc_latency_s;
                        self.pop_time[post] = self.pop_time[post].max(time);
                        self.on = on;
                    }
                }
                self.active = active;
            }
        }
        events
    }
}

/// Runs `steps` steps of the mapped network (its [`XbarMapping::quantised_net`]) on
/// the chip; `seed` draws the read noise.
pub fn run(m: &XbarMapping, steps: u32, options: Options, seed: u64) -> XbarRun {
    run_on(m, &m.quantised_net, steps, options, seed)
}

/// Runs `net`, the mapped network with other source spikes (another input sample;
/// every projection as mapped), on the chip.
pub fn run_on(m: &XbarMapping, net: &Network, steps: u32, options: Options, seed: u64) -> XbarRun {
    let mut engine = Engine::<S1615>::new(net, options);
    let mut d = TileDelivery { m, r: Reader::new(net, seed) };
    for _ in 0..steps {
        d.r.pop_time.iter_mut().for_each(|x| *x = 0.0);
        d.r.max_hops = 0;
        engine.step_with(&mut d);
        let t: f64 = d.r.pop_time.iter().sum::<f64>() + d.r.max_hops as f64 * m.hw.hop_s;
        d.r.counts.step_latency_s.push(t);
    }
    XbarRun { result: engine.finish(), counts: d.r.counts }
}
