//! A crossbar macro as a tile of a hybrid chip: one slice of a population whose
//! incoming projections sit in the macro's arrays (rows = presynaptic neurons, columns
//! = the slice's neurons), its neurons in the macro's periphery. The chip simulator
//! delivers the slice's packets with the conductance-quantised weights ([`quantise`]),
//! which is what ideal cells and an ADC that resolves every column sum compute;
//! [`MacroCounter`] counts what the macro does for them, as [`crate::sim`] counts a
//! crossbar chip: word lines driven, cells read and their conductance, array reads,
//! conversions, partial-sum adds, and the time of the slowest array read.

use neuromap_hw::crossbar::Crossbar;
use neuromap_ir::{Network, PopId};
use neuromap_sim::chip::{TileCounter, TileCounts};

use crate::map::{Quantised, Signed, XbarMapping};
use crate::sim::Reader;

/// The logical columns (neurons) one array holds.
pub fn neurons_per_array(hw: &Crossbar) -> u32 {
    if hw.differential { hw.columns / 2 } else { hw.columns.saturating_sub(1) }
}

/// The arrays a slice of `pop` needs at most: per incoming projection and delay, one
/// per block of `rows` presynaptic neurons.
pub fn arrays_needed(net: &Network, pop: PopId, hw: &Crossbar) -> u64 {
    net.incoming(pop)
        .iter()
        .map(|&q| {
            let p = net.proj(q);
            let mut delays: Vec<u16> = p.synapses.delays().to_vec();
            delays.sort_unstable();
            delays.dedup();
            delays.len() as u64 * u64::from(net.pop(p.pre).size.div_ceil(hw.rows.max(1)))
        })
        .sum()
}

/// Counts one macro's work for the slice `lo..hi` of its population.
#[derive(Debug)]
pub struct MacroCounter {
    hw: Crossbar,
    /// Per presynaptic population (by index): per neuron, the arrays its spike drives
    /// a word line of, and that row's conductance over the slice's columns (S).
    drives: Vec<Vec<Vec<(u32, f64)>>>,
    cols: u32,
    phys: u32,
    /// Per array: the most spikes one of its rows had this step (its read passes).
    passes: Vec<u32>,
    touched: Vec<u32>,
    counts: Counts,
    /// When the macro computes its slice's input: the programmed tiles, its reader,
    /// and the slice's first neuron and end.
    reads: Option<(std::sync::Arc<XbarMapping>, Box<Reader>, u32, u32)>,
}

#[derive(Debug, Default)]
struct Counts {
    tile_reads: u64,
    slowest_s: f64,
    busy_s: f64,
    active_rows: u64,
    cell_reads: u64,
    conductance_read_s: f64,
    conversions: u64,
    adds: u64,
}

impl MacroCounter {
    /// `quantised`: per projection of `net`, its cells when it is on crossbar arrays.
    pub fn new(net: &Network, hw: &Crossbar, quantised: &[Option<Quantised>], pop: PopId, lo: u32, hi: u32) -> Self {
        let signed = if hw.differential { Signed::Differential } else { Signed::Offset };
        let cols = hi - lo;
        let phys = match signed {
            Signed::Differential => 2 * cols,
            Signed::Offset => cols + 1,
        };
        let dg = (hw.g_max_s - hw.g_min_s) / (f64::from(hw.levels) - 1.0);
        let mid = ((i64::from(hw.levels) - 1) / 2) as f64;
        let mut drives: Vec<Vec<Vec<(u32, f64)>>> = vec![Vec::new(); net.populations().len()];
        let mut arrays = 0u32;
        for &q in net.incoming(pop) {
            let p = net.proj(q);
            let Some(cells) = &quantised[q.index()] else { continue };
            let n_pre = net.pop(p.pre).size;
            let rows = hw.rows.max(1);
            // Per delay and row block: the levels of each row over the slice's columns.
            let mut sums: std::collections::BTreeMap<(u16, u32), (i64, i64, bool)> = Default::default();
            for (&(d, i, j), &l) in &cells.cells {
                if j >= lo && j < hi {
                    let e = sums.entry((d, i)).or_insert((0, 0, false));
                    e.0 += l;
                    e.1 += l.abs();
                    e.2 |= l != 0;
                }
            }
            // Arrays: blocks of rows holding at least one nonzero cell, by delay.
            let mut block_of: std::collections::BTreeMap<(u16, u32), u32> = Default::default();
            for (&(d, i), &(_, _, nonzero)) in &sums {
                if nonzero {
                    block_of.entry((d, i / rows)).or_insert_with(|| {
                        arrays += 1;
                        arrays - 1
                    });
                }
            }
            let by_pre = &mut drives[p.pre.index()];
            by_pre.resize(n_pre as usize, Vec::new());
            let delays: std::collections::BTreeSet<u16> = block_of.keys().map(|k| k.0).collect();
            for i in 0..n_pre {
                for &d in &delays {
                    let Some(&a) = block_of.get(&(d, i / rows)) else { continue };
                    let (sum, abs, _) = sums.get(&(d, i)).copied().unwrap_or((0, 0, false));
                    let g = match signed {
                        Signed::Differential => 2.0 * f64::from(cols) * hw.g_min_s + abs as f64 * dg,
                        Signed::Offset => f64::from(cols + 1) * (hw.g_min_s + mid * dg) + sum as f64 * dg,
                    };
                    by_pre[i as usize].push((a, g));
                }
            }
        }
        Self {
            hw: hw.clone(),
            drives,
            cols,
            phys,
            passes: vec![0; arrays as usize],
            touched: Vec::new(),
            counts: Counts::default(),
            reads: None,
        }
    }

    /// The macro computes its slice's input through `m`'s programmed tiles (devices,
    /// read noise drawn from `seed`, IR drop, ADC), as [`crate::sim`] does.
    pub fn reading(mut self, net: &Network, m: std::sync::Arc<XbarMapping>, seed: u64, lo: u32, hi: u32) -> Self {
        self.reads = Some((m, Box::new(Reader::new(net, seed)), lo, hi));
        self
    }

    /// Arrays the slice occupies.
    pub fn arrays(&self) -> usize {
        self.passes.len()
    }
}

impl TileCounter for MacroCounter {
    fn packet(&mut self, pre: PopId, neuron: u32, k: u32) {
        let Some(rows) = self.drives.get(pre.index()).and_then(|v| v.get(neuron as usize)) else { return };
        for &(a, g) in rows {
            let p = &mut self.passes[a as usize];
            if *p == 0 {
                self.touched.push(a);
            }
            *p = (*p).max(k);
            self.counts.active_rows += u64::from(k);
            self.counts.cell_reads += u64::from(k) * u64::from(self.phys);
            self.counts.conductance_read_s += f64::from(k) * g;
        }
    }

    fn end_step(&mut self, _updates: u64) -> f64 {
        let per_adc = self.cols.min(self.hw.columns_per_adc);
        let read = self.hw.t_read_s + f64::from(per_adc) * self.hw.adc_latency_s;
        let mut slowest = 0.0f64;
        for a in self.touched.drain(..) {
            let passes = std::mem::take(&mut self.passes[a as usize]);
            self.counts.tile_reads += u64::from(passes);
            self.counts.conversions += u64::from(passes) * u64::from(self.cols);
            self.counts.adds += u64::from(passes) * u64::from(self.cols);
            // The macro's arrays read in parallel, each pass after the last.
            slowest = slowest.max(f64::from(passes) * read);
        }
        self.counts.slowest_s = self.counts.slowest_s.max(slowest);
        self.counts.busy_s += slowest;
        slowest
    }

    fn computes(&self) -> bool {
        self.reads.is_some()
    }

    fn compute(
        &mut self,
        net: &Network,
        proj: usize,
        t: u32,
        spikes: &[(u32, u32)],
        shift: i32,
        add: &mut dyn FnMut(u32, u16, i64),
    ) {
        let Some((m, reader, lo, hi)) = self.reads.as_mut() else { return };
        let (lo, hi) = (*lo, *hi);
        // A tile's columns may span slices: each reads the whole tile (a read is a
        // function of the tile and the step) and keeps its own columns.
        reader.read(m, net, neuromap_ir::ProjId(proj as u32), t, spikes, shift, &mut |post, d, v| {
            if post >= lo && post < hi {
                add(post - lo, d, v);
            }
        });
    }

    fn finish(self: Box<Self>) -> TileCounts {
        let c = &self.counts;
        let clipped = self.reads.as_ref().map_or(0, |r| r.1.counts.clipped);
        TileCounts {
            actions: vec![
                ("clipped columns", clipped as f64),
                ("array reads", c.tile_reads as f64),
                ("word lines driven", c.active_rows as f64),
                ("cell reads", c.cell_reads as f64),
                ("conductance read (S)", c.conductance_read_s),
                ("conversions", c.conversions as f64),
                ("partial-sum adds", c.adds as f64),
                ("arrays", self.passes.len() as f64),
                ("slowest step (s)", c.slowest_s),
                ("busy (s)", c.busy_s),
            ],
        }
    }
}
