//! A binary neuron as a circuit of threshold gates of bounded fan-in and weight.
//!
//! A neuron whose inputs fit one cell is one gate. A wider one is decomposed:
//! its literals (an input, or its complement for a negative weight, once per set bit
//! of the weight's magnitude) are counted by threshold-logic counters (a counter of
//! `t` literals has one gate per output bit, `bitᵢ = [Σℓ − Σ_{h>i} 2ʰ·bitₕ ≥ 2ⁱ]`;
//! with `t = 3` it is the full adder as two threshold gates) into a binary count, and
//! the count is compared with the threshold by a chain of gates least significant bits
//! first (`g' = [2·chunk + g ≥ 2·T_chunk + 1]`). Counters are applied eagerly, as the
//! literals arrive, so at most `m − 1` partial bits wait in any column: the live state
//! a processing element keeps in its registers stays a few dozen bits, whatever the
//! fan-in.

use crate::lower::Neuron;

/// What a cell can compute: `Σ wᵢxᵢ ≥ T` over at most `fan_in` inputs with
/// `|wᵢ| ≤ max_weight`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellLimits {
    pub fan_in: usize,
    pub max_weight: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecomposeError {
    #[error(
        "cells of fan-in {fan_in} with weights up to {max_weight} cannot build a full adder (it needs fan-in 4 and weight 2), so a neuron of fan-in {neuron_fan_in} cannot be decomposed"
    )]
    CellsTooSmall { fan_in: usize, max_weight: i64, neuron_fan_in: usize },
}

/// A gate input: the neuron's input `i` or the output of gate `g`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    Input(u32),
    Gate(u32),
}

const GATE_BIT: u32 = 1 << 31;

impl Src {
    fn encode(self) -> u32 {
        match self {
            Src::Input(i) => i,
            Src::Gate(g) => g | GATE_BIT,
        }
    }

    fn decode(x: u32) -> Self {
        if x & GATE_BIT != 0 { Src::Gate(x & !GATE_BIT) } else { Src::Input(x) }
    }
}

/// What the neuron's output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Const(bool),
    Signal(Src),
}

/// Gates in topological order (inputs before the gates that read them), stored flat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Circuit {
    starts: Vec<u32>,
    srcs: Vec<u32>,
    weights: Vec<i32>,
    thresholds: Vec<i64>,
    pub output: Output,
}

impl Circuit {
    pub fn len(&self) -> usize {
        self.thresholds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.thresholds.is_empty()
    }

    /// Gate `g`'s inputs and threshold.
    pub fn gate(&self, g: usize) -> (impl Iterator<Item = (Src, i32)> + '_, i64) {
        let r = self.starts[g] as usize..self.starts[g + 1] as usize;
        let it = self.srcs[r.clone()].iter().zip(&self.weights[r]).map(|(&s, &w)| (Src::decode(s), w));
        (it, self.thresholds[g])
    }

    /// Gate `g`'s fan-in and its largest weight magnitude.
    pub fn gate_shape(&self, g: usize) -> (usize, i64) {
        let r = self.starts[g] as usize..self.starts[g + 1] as usize;
        (r.len(), self.weights[r].iter().map(|w| i64::from(w.unsigned_abs())).max().unwrap_or(0))
    }

    /// Evaluates every gate (`values` is scratch, resized here) and returns the output.
    pub fn eval(&self, input: impl Fn(u32) -> bool, values: &mut Vec<bool>) -> bool {
        values.clear();
        values.reserve(self.len());
        for g in 0..self.len() {
            let r = self.starts[g] as usize..self.starts[g + 1] as usize;
            let mut s = 0i64;
            for (&src, &w) in self.srcs[r.clone()].iter().zip(&self.weights[r]) {
                let on = match Src::decode(src) {
                    Src::Input(i) => input(i),
                    Src::Gate(h) => values[h as usize],
                };
                if on {
                    s += i64::from(w);
                }
            }
            values.push(s >= self.thresholds[g]);
        }
        match self.output {
            Output::Const(b) => b,
            Output::Signal(Src::Input(i)) => input(i),
            Output::Signal(Src::Gate(g)) => values[g as usize],
        }
    }
}

/// A literal: a signal or its complement.
#[derive(Clone, Copy, Debug)]
struct Lit {
    src: Src,
    negated: bool,
}

struct Builder {
    c: Circuit,
}

impl Builder {
    /// Adds `[Σ coef·ℓ ≥ t]`, folding complements into weights and threshold.
    fn gate(&mut self, terms: &[(Lit, i64)], mut t: i64) -> Src {
        for &(l, coef) in terms {
            let w = if l.negated {
                t -= coef;
                -coef
            } else {
                coef
            };
            self.c.srcs.push(l.src.encode());
            self.c.weights.push(w as i32);
        }
        self.c.thresholds.push(t);
        self.c.starts.push(self.c.srcs.len() as u32);
        Src::Gate(self.c.thresholds.len() as u32 - 1)
    }
}

fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// The widest counter a cell supports: `t` literals, `b = bitlen(t)` output bits, the
/// low bit's gate has fan-in `t + b − 1` and weights up to `2^(b−1)`.
fn counter_width(lim: CellLimits) -> usize {
    let mut m = 0;
    for t in 2..=lim.fan_in {
        let b = bit_len(t as u64) as usize;
        if t + b - 1 <= lim.fan_in && (1i64 << (b - 1)) <= lim.max_weight {
            m = t;
        }
    }
    m
}

/// Decomposes `n` into gates a cell of `lim` can evaluate. The literals are dealt to
/// `lanes` independent counters (literal `i` to lane `i mod lanes`) whose columns are
/// merged at the end, so that `lanes` chains of full adders can run side by side on a
/// PE's cells.
pub fn decompose(n: &Neuron, lim: CellLimits, lanes: usize) -> Result<Circuit, DecomposeError> {
    let mut b = Builder {
        c: Circuit {
            starts: vec![0],
            srcs: Vec::new(),
            weights: Vec::new(),
            thresholds: Vec::new(),
            output: Output::Const(false),
        },
    };
    let lo: i64 = n.inputs.iter().map(|(_, w)| i64::from(*w).min(0)).sum();
    let hi: i64 = n.inputs.iter().map(|(_, w)| i64::from(*w).max(0)).sum();
    if n.threshold <= lo {
        b.c.output = Output::Const(true);
        return Ok(b.c);
    }
    if n.threshold > hi {
        return Ok(b.c);
    }
    let fits =
        n.inputs.len() <= lim.fan_in && n.inputs.iter().all(|(_, w)| i64::from(w.unsigned_abs()) <= lim.max_weight);
    if fits {
        let terms: Vec<(Lit, i64)> = (0..n.inputs.len())
            .map(|i| (Lit { src: Src::Input(i as u32), negated: false }, i64::from(n.inputs[i].1)))
            .collect();
        let g = b.gate(&terms, n.threshold);
        b.c.output = Output::Signal(g);
        return Ok(b.c);
    }
    let m = counter_width(lim);
    if m < 3 {
        return Err(DecomposeError::CellsTooSmall {
            fan_in: lim.fan_in,
            max_weight: lim.max_weight,
            neuron_fan_in: n.inputs.len(),
        });
    }
    // Count literals: Σ w·b = Σ|w|·ℓ − Σ_{w<0}|w|, ℓ = b or 1 − b.
    let t_count = n.threshold - lo;
    let mass = n.weight_mass();
    let bits = bit_len(mass as u64) as usize;
    let lanes = lanes.clamp(1, n.inputs.len().max(1));
    let mut lane_cols: Vec<Vec<Vec<Lit>>> = vec![vec![Vec::new(); bits + 1]; lanes];
    for (i, (_, w)) in n.inputs.iter().enumerate() {
        let lit = Lit { src: Src::Input(i as u32), negated: *w < 0 };
        let mag = u64::from(w.unsigned_abs());
        let cols = &mut lane_cols[i % lanes];
        for j in 0..bits {
            if mag >> j & 1 == 1 {
                cols[j].push(lit);
                settle(&mut b, cols, j, m, m);
            }
        }
    }
    let mut cols: Vec<Vec<Lit>> = vec![Vec::new(); bits + 1];
    for lane in lane_cols {
        for (j, col) in lane.into_iter().enumerate() {
            if j >= cols.len() {
                cols.resize(j + 1, Vec::new());
            }
            cols[j].extend(col);
        }
    }
    // Finish: reduce every column to one bit (half adders where two remain).
    for j in 0..bits {
        settle(&mut b, &mut cols, j, 2, m);
    }
    // Compare the count with t_count, chunks of r bits, least significant first.
    let mut r = 0;
    while r + 2 <= lim.fan_in && (1i64 << (r + 1)) <= lim.max_weight {
        r += 1;
    }
    let r = r.max(1);
    let mut g: Option<Lit> = None; // None: the constant 1 (empty prefix: C ≥ T holds)
    let mut a = 0;
    while a < bits {
        let hi_bit = (a + r).min(bits);
        let p_chunk = (t_count >> a) & ((1i64 << (hi_bit - a)) - 1);
        let mut terms: Vec<(Lit, i64)> = Vec::new();
        for (i, col) in cols.iter().enumerate().take(hi_bit).skip(a) {
            if let Some(&l) = col.first() {
                terms.push((l, 1i64 << (i - a + 1)));
            }
        }
        let mut t = 2 * p_chunk + 1;
        match g {
            Some(l) => terms.push((l, 1)),
            None => t -= 1,
        }
        let out = b.gate(&terms, t);
        g = Some(Lit { src: out, negated: false });
        a = hi_bit;
    }
    b.c.output = match g {
        Some(l) => Output::Signal(l.src),
        None => Output::Const(true),
    };
    Ok(b.c)
}

/// While column `j` holds at least `min` literals, counts up to `m` of them into bits
/// of columns `j, j + 1, …`, and settles the columns the carries reach.
fn settle(b: &mut Builder, cols: &mut Vec<Vec<Lit>>, j: usize, min: usize, m: usize) {
    while cols[j].len() >= min.max(2) {
        let t = cols[j].len().min(m);
        let group: Vec<Lit> = cols[j].drain(..t).collect();
        let nb = bit_len(t as u64) as usize;
        let mut outs: Vec<Lit> = Vec::with_capacity(nb);
        // bitᵢ from the top: [Σℓ − Σ_{h>i} 2ʰ·bitₕ ≥ 2ⁱ]
        for i in (0..nb).rev() {
            let mut terms: Vec<(Lit, i64)> = group.iter().map(|&l| (l, 1)).collect();
            for (k, &o) in outs.iter().enumerate() {
                let h = nb - 1 - k;
                terms.push((o, -(1i64 << h)));
            }
            let s = b.gate(&terms, 1i64 << i);
            outs.push(Lit { src: s, negated: false });
        }
        // outs[k] is bit nb − 1 − k.
        for (k, &o) in outs.iter().enumerate() {
            let col = j + nb - 1 - k;
            if col >= cols.len() {
                cols.resize(col + 1, Vec::new());
            }
            cols[col].push(o);
        }
        for col in j + 1..(j + nb).min(cols.len()) {
            if cols[col].len() >= m {
                settle(b, cols, col, m, m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::Input;
    use neuromap_ir::PopId;

    fn neuron(ws: &[i32], t: i64) -> Neuron {
        Neuron {
            inputs: ws
                .iter()
                .enumerate()
                .map(|(i, &w)| (Input { pop: PopId(0), neuron: i as u32, delay: 0 }, w))
                .collect(),
            threshold: t,
        }
    }

    #[test]
    fn exhaustive_small_neurons() {
        let lim = CellLimits { fan_in: 5, max_weight: 2 };
        for ws in [&[1, 1, 1, 1, 1, 1, 1][..], &[1, -1, 1, -1, 1, 1, -1, -1, 1], &[3, -2, 1, 5, -1, 1], &[-1; 10]] {
            let n = neuron(ws, 0);
            for t in -12..=12 {
                let n = Neuron { threshold: t, ..n.clone() };
                for lanes in [1, 2, 3] {
                    let c = decompose(&n, lim, lanes).expect("decomposes");
                    let mut v = Vec::new();
                    for bits in 0u32..(1 << ws.len()) {
                        let want = n.fires(|i| bits >> i & 1 == 1);
                        assert_eq!(c.eval(|i| bits >> i & 1 == 1, &mut v), want, "{ws:?} t={t} bits={bits:b}");
                    }
                    for g in 0..c.len() {
                        let (f, w) = c.gate_shape(g);
                        assert!(f <= lim.fan_in && w <= lim.max_weight, "gate {g}: fan-in {f}, weight {w}");
                    }
                }
            }
        }
    }

    #[test]
    fn cells_too_small_are_refused() {
        let n = neuron(&[1; 8], 4);
        let e = decompose(&n, CellLimits { fan_in: 3, max_weight: 2 }, 1).unwrap_err();
        assert!(e.to_string().contains("full adder"), "{e}");
    }
}
