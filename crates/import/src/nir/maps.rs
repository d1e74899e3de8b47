//! The linear maps of NIR weight nodes, and their composition along a path from a
//! spiking node to a neuron node.
//!
//! A path is carried in the shortest form that stays exact:
//!
//! - **elementwise** (`Scale`, `Delay`, `Flatten`, a nested graph's `Input`/`Output`): a
//!   gain and a delay per element;
//! - **local** (`Conv1d`, `Conv2d`, `SumPool2d`, `AvgPool2d`, compositions of them, and
//!   elementwise maps that are uniform per channel): one kernel shared by every position,
//!   one delay. Two local maps compose into one when the composite kernel reads exactly
//!   the inputs the two did (checked position by position along each axis), so a pooling
//!   followed by a convolution stays a convolution;
//! - **explicit**: `(input, output, weight, delay)` entries, when nothing shorter is
//!   exact. How many entries a composition makes is counted before it is made, and a
//!   count over the limit is refused with the count.

/// `(input element, output element, weight, delay in seconds)`.
pub(super) type Entry = (u32, u32, f64, f64);
pub(super) type Entries = Vec<Entry>;

/// A convolution-like map on channel-major feature maps (index = c·H·W + y·W + x):
/// `out[o, y, x] = Σ w[o, c, ky, kx] · in[c, y·s₀ + ky − p₀, x·s₁ + kx − p₁]`, a tap
/// outside the input reading nothing, every synapse with the same delay.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Local {
    pub in_shape: [usize; 3],
    pub out_shape: [usize; 3],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    /// `[out][in][kh][kw]`, or `[channel][kh][kw]` when `diagonal` (output channel `c`
    /// reads input channel `c` alone, as pooling does).
    pub weights: Vec<f64>,
    pub diagonal: bool,
    /// Seconds.
    pub delay: f64,
}

/// The output length along one axis, as NIR and the IR's connectors compute it.
pub(super) fn out_len(len: usize, k: usize, s: usize, p: usize) -> Option<usize> {
    let padded = len.checked_add(p.checked_mul(2)?)?;
    if s == 0 || k == 0 || padded < k { None } else { Some((padded - k) / s + 1) }
}

/// How many outputs along an axis a tap at kernel offset `k` reads a real input for.
fn span(out: usize, input: usize, s: usize, p: usize, k: usize) -> u64 {
    neuromap_ir::connect::taps_in_range(out as u64, input as u64, s as u64, p as u64, k as u64)
}

impl Local {
    fn kernel_len(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }

    /// The non-zero taps `(o, c, ky, kx, w)`.
    fn taps(&self) -> Vec<(usize, usize, usize, usize, f64)> {
        let [kh, kw] = self.kernel;
        let kl = self.kernel_len();
        let mut out = Vec::new();
        for (i, &w) in self.weights.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            let (oc, k) = (i / kl, i % kl);
            let (o, c) = if self.diagonal { (oc, oc) } else { (oc / self.in_shape[0], oc % self.in_shape[0]) };
            out.push((o, c, k / kw, k % kw, w));
            debug_assert!(k / kw < kh);
        }
        out
    }

    fn span(&self, axis: usize, k: usize) -> u64 {
        span(self.out_shape[axis + 1], self.in_shape[axis + 1], self.stride[axis], self.padding[axis], k)
    }

    /// The exact number of synapses (non-zero taps that land inside the input).
    pub(super) fn count(&self) -> u64 {
        self.taps().iter().map(|&(_, _, ky, kx, _)| self.span(0, ky) * self.span(1, kx)).sum()
    }

    /// Every synapse, in no particular order.
    pub(super) fn entries(&self) -> Entries {
        let mut out = Vec::with_capacity(self.count() as usize);
        self.each(|i, j, w| out.push((i as u32, j as u32, w, self.delay)));
        out
    }

    /// Calls `f(input, output, weight)` for every synapse.
    fn each(&self, mut f: impl FnMut(usize, usize, f64)) {
        let [_, h, wd] = self.in_shape;
        let [_, oh, ow] = self.out_shape;
        for (o, c, ky, kx, w) in self.taps() {
            for y in 0..oh {
                let iy = (y * self.stride[0] + ky) as isize - self.padding[0] as isize;
                if iy < 0 || iy >= h as isize {
                    continue;
                }
                for x in 0..ow {
                    let ix = (x * self.stride[1] + kx) as isize - self.padding[1] as isize;
                    if ix < 0 || ix >= wd as isize {
                        continue;
                    }
                    f((c * h + iy as usize) * wd + ix as usize, (o * oh + y) * ow + x, w);
                }
            }
        }
    }

    /// The map applied to a vector of inputs.
    pub(super) fn apply(&self, x: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.out_shape.iter().product()];
        self.each(|i, j, w| out[j] += w * x[i]);
        out
    }

    /// Every weight of channel `c` on `side` multiplied by `g[c]`.
    fn scale(mut self, side: Side, g: &[f64]) -> Local {
        let (kl, c_in) = (self.kernel_len(), self.in_shape[0]);
        for (i, w) in self.weights.iter_mut().enumerate() {
            let oc = i / kl;
            let ch = match (self.diagonal, side) {
                (true, _) => oc,
                (false, Side::Input) => oc % c_in,
                (false, Side::Output) => oc / c_in,
            };
            *w *= g[ch];
        }
        self
    }

    /// The elementwise map `e` folded into the kernel on `side` (before its input or
    /// after its output), when `e`'s gains are uniform within each channel and its delay
    /// is one for all.
    pub(super) fn fold(&self, side: Side, e: &Elem) -> Option<Local> {
        let shape = match side {
            Side::Input => self.in_shape,
            Side::Output => self.out_shape,
        };
        let g = per_channel(&e.gain, shape)?;
        let d = uniform(&e.delay)?;
        let mut l = self.clone().scale(side, &g);
        l.delay += d;
        Some(l)
    }

    /// The `[out][in][kh][kw]` weights, a diagonal kernel spelled out.
    pub(super) fn full_weights(&self) -> Vec<f64> {
        if !self.diagonal {
            return self.weights.clone();
        }
        let (o_n, c_n, kl) = (self.out_shape[0], self.in_shape[0], self.kernel_len());
        let mut full = vec![0.0; o_n * c_n * kl];
        for c in 0..c_n.min(o_n) {
            full[(c * c_n + c) * kl..(c * c_n + c + 1) * kl].copy_from_slice(&self.weights[c * kl..(c + 1) * kl]);
        }
        full
    }

    /// `b` after `self`, as one local map, when that is exact and its kernel has at most
    /// `max_kernel` weights.
    pub(super) fn then(&self, b: &Local, max_kernel: u64) -> Option<Local> {
        if self.out_shape != b.in_shape {
            return None;
        }
        let mut kernel = [0; 2];
        let mut stride = [0; 2];
        let mut padding = [0; 2];
        for d in 0..2 {
            let (sa, sb, ka, kb, pa, pb) =
                (self.stride[d], b.stride[d], self.kernel[d], b.kernel[d], self.padding[d], b.padding[d]);
            kernel[d] = (kb - 1).checked_mul(sa)?.checked_add(ka)?;
            stride[d] = sa.checked_mul(sb)?;
            padding[d] = pb.checked_mul(sa)?.checked_add(pa)?;
            let (n0, n1, n2) = (self.in_shape[d + 1], self.out_shape[d + 1], b.out_shape[d + 1]);
            if out_len(n0, kernel[d], stride[d], padding[d]) != Some(n2) {
                return None;
            }
            // Every input the composite tap reads must be one the pair read: the
            // intermediate position must exist whenever the input position does.
            for y2 in 0..n2 {
                for tb in 0..kb {
                    let y1 = (y2 * sb + tb) as i128 - pb as i128;
                    for ta in 0..ka {
                        let y0 = y1 * sa as i128 + ta as i128 - pa as i128;
                        if (0..n0 as i128).contains(&y0) && !(0..n1 as i128).contains(&y1) {
                            return None;
                        }
                    }
                }
            }
        }
        let diagonal = self.diagonal && b.diagonal;
        let (o_n, c_n) = (b.out_shape[0], self.in_shape[0]);
        let kl = kernel[0] * kernel[1];
        let size = if diagonal { c_n as u64 * kl as u64 } else { o_n as u64 * c_n as u64 * kl as u64 };
        if size > max_kernel {
            return None;
        }
        let mut weights = vec![0.0; size as usize];
        // The first map's taps by its output channel.
        let mut by_mid: Vec<Vec<(usize, usize, usize, f64)>> = vec![Vec::new(); self.out_shape[0]];
        for (m, c, ky, kx, w) in self.taps() {
            by_mid[m].push((c, ky, kx, w));
        }
        for (o, m, by, bx, wb) in b.taps() {
            for &(c, ay, ax, wa) in &by_mid[m] {
                let (ey, ex) = (by * self.stride[0] + ay, bx * self.stride[1] + ax);
                let at = if diagonal {
                    (c * kernel[0] + ey) * kernel[1] + ex
                } else {
                    ((o * c_n + c) * kernel[0] + ey) * kernel[1] + ex
                };
                weights[at] += wb * wa;
            }
        }
        Some(Local {
            in_shape: self.in_shape,
            out_shape: b.out_shape,
            kernel,
            stride,
            padding,
            weights,
            diagonal,
            delay: self.delay + b.delay,
        })
    }
}

/// Which side of a local map an elementwise map stands on.
#[derive(Clone, Copy, Debug)]
pub(super) enum Side {
    Input,
    Output,
}

/// An elementwise map: element `j` times `gain[j]`, delayed by `delay[j]` seconds (a
/// single value stands for every element).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Elem {
    pub n: usize,
    pub gain: Vec<f64>,
    pub delay: Vec<f64>,
}

pub(super) fn at(v: &[f64], j: usize) -> f64 {
    v[j.min(v.len().saturating_sub(1))]
}

/// One value per channel of a `[C, H, W]` map when `v` is uniform within each channel.
pub(super) fn per_channel(v: &[f64], shape: [usize; 3]) -> Option<Vec<f64>> {
    let per = shape[1] * shape[2];
    if v.len() == 1 {
        return Some(vec![v[0]; shape[0]]);
    }
    if per == 0 || v.len() != shape[0] * per {
        return None;
    }
    v.chunks(per).map(|c| c.iter().all(|x| *x == c[0]).then_some(c[0])).collect()
}

/// The single value of `v` when all are equal.
pub(super) fn uniform(v: &[f64]) -> Option<f64> {
    let first = *v.first()?;
    v.iter().all(|x| *x == first).then_some(first)
}

impl Elem {
    pub(super) fn identity(n: usize) -> Elem {
        Elem { n, gain: vec![1.0], delay: vec![0.0] }
    }

    fn entries(&self) -> Entries {
        (0..self.n)
            .map(|j| (j as u32, j as u32, at(&self.gain, j), at(&self.delay, j)))
            .filter(|e| e.2 != 0.0)
            .collect()
    }

    fn then(&self, b: &Elem) -> Elem {
        let n = self.n;
        let join = |x: &[f64], y: &[f64], f: fn(f64, f64) -> f64| -> Vec<f64> {
            if x.len() == 1 && y.len() == 1 {
                vec![f(x[0], y[0])]
            } else {
                (0..n).map(|j| f(at(x, j), at(y, j))).collect()
            }
        };
        Elem { n, gain: join(&self.gain, &b.gain, |a, b| a * b), delay: join(&self.delay, &b.delay, |a, b| a + b) }
    }
}

/// What one weight node does, once its input shape is known.
#[derive(Clone, Debug)]
pub(super) enum Lin {
    Elem(Elem),
    Local(Local),
    /// `[out][in]` weights, as NIR stores them.
    Dense {
        n_in: usize,
        n_out: usize,
        w: Vec<f64>,
    },
}

impl Lin {
    pub(super) fn n_in(&self) -> usize {
        match self {
            Lin::Elem(e) => e.n,
            Lin::Local(l) => l.in_shape.iter().product(),
            Lin::Dense { n_in, .. } => *n_in,
        }
    }

    /// The map applied to a vector (biases are carried this way).
    pub(super) fn apply(&self, x: &[f64]) -> Vec<f64> {
        match self {
            Lin::Elem(e) => x.iter().enumerate().map(|(j, v)| v * at(&e.gain, j)).collect(),
            Lin::Local(l) => l.apply(x),
            Lin::Dense { n_in, n_out, w } => {
                (0..*n_out).map(|o| (0..*n_in).map(|i| w[o * n_in + i] * x[i]).sum()).collect()
            }
        }
    }

    /// The synapses each input element makes, to be read by [`Rows::each`].
    fn rows(&self) -> Rows<'_> {
        match self {
            Lin::Dense { n_in, n_out, w } => Rows::Dense { n_in: *n_in, n_out: *n_out, w },
            _ => {
                let n_in = self.n_in();
                let entries: Entries = match self {
                    Lin::Elem(e) => e.entries(),
                    Lin::Local(l) => l.entries(),
                    Lin::Dense { .. } => unreachable!("read in place"),
                };
                let mut start = vec![0usize; n_in + 1];
                for e in &entries {
                    start[e.0 as usize + 1] += 1;
                }
                for i in 0..n_in {
                    start[i + 1] += start[i];
                }
                let mut fill = start.clone();
                let mut row = vec![(0u32, 0.0, 0.0); entries.len()];
                for (i, o, w, d) in entries {
                    row[fill[i as usize]] = (o, w, d);
                    fill[i as usize] += 1;
                }
                Rows::Csr { start, row }
            }
        }
    }

    /// How many synapses the node has on its own.
    pub(super) fn count(&self) -> u64 {
        match self {
            Lin::Elem(e) => e.n as u64,
            Lin::Local(l) => l.count(),
            Lin::Dense { w, .. } => w.iter().filter(|x| **x != 0.0).count() as u64,
        }
    }
}

/// A map's synapses by input element.
enum Rows<'a> {
    Csr {
        start: Vec<usize>,
        row: Vec<(u32, f64, f64)>,
    },
    /// `[out][in]` weights, read a column at a time.
    Dense {
        n_in: usize,
        n_out: usize,
        w: &'a [f64],
    },
}

impl Rows<'_> {
    /// How many synapses input element `m` makes.
    fn degree(&self, m: u32) -> u64 {
        match self {
            Rows::Csr { start, .. } => (start[m as usize + 1] - start[m as usize]) as u64,
            Rows::Dense { n_in, n_out, w } => (0..*n_out).filter(|o| w[o * n_in + m as usize] != 0.0).count() as u64,
        }
    }

    /// Calls `f(output, weight, delay)` for each synapse of input element `m`.
    fn each(&self, m: u32, mut f: impl FnMut(u32, f64, f64)) {
        match self {
            Rows::Csr { start, row } => {
                for &(o, w, d) in &row[start[m as usize]..start[m as usize + 1]] {
                    f(o, w, d);
                }
            }
            Rows::Dense { n_in, n_out, w } => {
                for o in 0..*n_out {
                    let x = w[o * n_in + m as usize];
                    if x != 0.0 {
                        f(o as u32, x, 0.0);
                    }
                }
            }
        }
    }
}

/// A path's map from a spiking node's elements, as far as it has been walked.
#[derive(Clone, Debug)]
pub(super) enum Carried {
    Elem(Elem),
    Local(Local),
    Explicit(Entries),
}

/// A composition refused: it would hold `count` explicit weights, more than `limit`.
#[derive(Debug)]
pub(super) struct TooMany {
    pub count: u64,
    pub limit: u64,
}

impl Carried {
    /// The path's map followed by `lin`; explicit entries are made only within `limit`.
    pub(super) fn then(self, lin: &Lin, limit: u64) -> Result<Carried, TooMany> {
        let next = match (&self, lin) {
            (Carried::Elem(a), Lin::Elem(b)) => Some(Carried::Elem(a.then(b))),
            (Carried::Elem(a), Lin::Local(l)) => l.fold(Side::Input, a).map(Carried::Local),
            (Carried::Local(l), Lin::Elem(b)) => l.fold(Side::Output, b).map(Carried::Local),
            (Carried::Local(a), Lin::Local(b)) => a.then(b, limit).map(Carried::Local),
            _ => None,
        };
        if let Some(n) = next {
            return Ok(n);
        }
        let entries = self.into_entries(limit)?;
        compose(entries, lin, limit).map(Carried::Explicit)
    }

    /// The map as explicit entries, refused over `limit`.
    pub(super) fn into_entries(self, limit: u64) -> Result<Entries, TooMany> {
        match self {
            Carried::Elem(e) => Ok(e.entries()),
            Carried::Local(l) => {
                let count = l.count();
                if count > limit {
                    return Err(TooMany { count, limit });
                }
                Ok(l.entries())
            }
            Carried::Explicit(e) => Ok(e),
        }
    }

    /// The least delay of any synapse (seconds).
    pub(super) fn min_delay(&self) -> Option<f64> {
        match self {
            Carried::Elem(e) => e.delay.iter().copied().reduce(f64::min),
            Carried::Local(l) => Some(l.delay),
            Carried::Explicit(e) => e.iter().map(|x| x.3).reduce(f64::min),
        }
    }

    /// The number of synapses the map makes.
    pub(super) fn count(&self) -> u64 {
        match self {
            Carried::Elem(e) => (0..e.n).filter(|&j| at(&e.gain, j) != 0.0).count() as u64,
            Carried::Local(l) => l.count(),
            Carried::Explicit(e) => e.len() as u64,
        }
    }
}

/// `b` after the explicit map `a`: the products are counted first and refused over
/// `limit`, then made one input element at a time, summed per (output, delay).
fn compose(mut a: Entries, b: &Lin, limit: u64) -> Result<Entries, TooMany> {
    if b.count() > limit {
        return Err(TooMany { count: b.count(), limit });
    }
    let rows = b.rows();
    let mut degree: Vec<Option<u64>> = vec![None; b.n_in()];
    let mut count = 0u64;
    for e in &a {
        count += *degree[e.1 as usize].get_or_insert_with(|| rows.degree(e.1));
    }
    if count > limit {
        return Err(TooMany { count, limit });
    }
    a.sort_unstable_by_key(|e| e.0);
    let mut out: Entries = Vec::with_capacity(count as usize);
    let mut group: Vec<(u32, u64, f64)> = Vec::new();
    for run in a.chunk_by(|x, y| x.0 == y.0) {
        group.clear();
        for &(_, m, w1, d1) in run {
            rows.each(m, |o, w2, d2| group.push((o, (d1 + d2).to_bits(), w1 * w2)));
        }
        if run.len() > 1 {
            group.sort_unstable_by_key(|p| (p.0, p.1));
        }
        let i = run[0].0;
        let from = out.len();
        for &(o, d, w) in &group {
            let same = out.len() > from && out.last().is_some_and(|l| l.1 == o && l.3.to_bits() == d);
            match out.last_mut() {
                Some(last) if same => last.2 += w,
                _ => out.push((i, o, w, f64::from_bits(d))),
            }
        }
    }
    out.retain(|e| e.2 != 0.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(in_shape: [usize; 3], oc: usize, k: usize, s: usize, p: usize, seed: u64) -> Local {
        let out = out_len(in_shape[1], k, s, p).unwrap();
        let outw = out_len(in_shape[2], k, s, p).unwrap();
        let mut x = seed;
        let weights = (0..oc * in_shape[0] * k * k)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 40) % 7) as f64 - 3.0
            })
            .collect();
        Local {
            in_shape,
            out_shape: [oc, out, outw],
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            weights,
            diagonal: false,
            delay: 0.0,
        }
    }

    fn pool(in_shape: [usize; 3], k: usize, s: usize) -> Local {
        Local {
            in_shape,
            out_shape: [in_shape[0], out_len(in_shape[1], k, s, 0).unwrap(), out_len(in_shape[2], k, s, 0).unwrap()],
            kernel: [k, k],
            stride: [s, s],
            padding: [0, 0],
            weights: vec![1.0; in_shape[0] * k * k],
            diagonal: true,
            delay: 0.0,
        }
    }

    /// The composed map as a sorted list, the reference to compare a local map with.
    fn sorted(mut e: Entries) -> Entries {
        e.sort_by_key(|a| (a.0, a.1));
        e
    }

    fn explicit(a: &Local, b: &Local) -> Entries {
        sorted(compose(a.entries(), &Lin::Local(b.clone()), u64::MAX).unwrap())
    }

    #[test]
    fn pooling_then_convolution_is_one_exact_convolution() {
        for (h, p) in [(16, 1), (16, 0), (12, 2)] {
            let a = pool([3, h, h], 2, 2);
            let b = conv([3, h / 2, h / 2], 4, 3, 1, p, 7);
            let c = a.then(&b, u64::MAX).expect("composes");
            assert_eq!(sorted(c.entries()), explicit(&a, &b), "h {h} padding {p}");
            assert_eq!(c.count() as usize, c.entries().len());
        }
    }

    #[test]
    fn a_composition_that_would_read_other_inputs_is_not_made() {
        // 17 rows pooled by 2 drop the last row; a padded convolution after it would
        // read that row through a composite kernel.
        let a = pool([1, 17, 17], 2, 2);
        let b = conv([1, 8, 8], 1, 3, 1, 1, 3);
        assert!(a.then(&b, u64::MAX).is_none());
        // Overlapping pools read rows a padded tap must not.
        let a = pool([1, 16, 16], 3, 1);
        let b = conv([1, 14, 14], 1, 3, 1, 1, 3);
        assert!(a.then(&b, u64::MAX).is_none());
        // Unpadded, both compose exactly.
        let b = conv([1, 14, 14], 2, 3, 1, 0, 5);
        let c = a.then(&b, u64::MAX).expect("composes");
        assert_eq!(sorted(c.entries()), explicit(&a, &b));
    }

    #[test]
    fn convolution_then_convolution_with_strides() {
        let a = conv([2, 11, 11], 3, 3, 2, 1, 1);
        let b = conv([3, 6, 6], 2, 2, 2, 0, 2);
        let c = a.then(&b, u64::MAX).expect("composes");
        assert_eq!(sorted(c.entries()), explicit(&a, &b));
    }

    #[test]
    fn counts_and_limits() {
        let a = conv([2, 10, 10], 3, 3, 1, 1, 9);
        assert_eq!(a.count() as usize, a.entries().len());
        let too = Carried::Local(a.clone()).into_entries(10).unwrap_err();
        assert_eq!((too.count, too.limit), (a.count(), 10));
        let dense = Lin::Dense { n_in: 300, n_out: 5, w: vec![1.0; 1500] };
        let e = Carried::Local(a).then(&dense, u64::MAX).unwrap().count();
        // Every input element that reaches some output reaches all 5 outputs.
        assert_eq!(e, 200 * 5);
    }

    #[test]
    fn elementwise_gains_fold_into_a_kernel_per_channel() {
        let l = conv([2, 5, 5], 2, 3, 1, 1, 4);
        let g = Elem { n: 50, gain: [vec![2.0; 25], vec![-1.0; 25]].concat(), delay: vec![0.001] };
        let folded = Carried::Elem(g.clone()).then(&Lin::Local(l.clone()), u64::MAX).unwrap();
        let Carried::Local(f) = &folded else { panic!("stays local: {folded:?}") };
        assert_eq!(f.delay, 0.001);
        let want = sorted(compose(g.entries(), &Lin::Local(l), u64::MAX).unwrap());
        assert_eq!(sorted(f.entries()), want);
        // A gain that varies within a channel cannot fold.
        let g = Elem { n: 50, gain: (0..50).map(|i| i as f64).collect(), delay: vec![0.0] };
        let c = Carried::Elem(g).then(&Lin::Local(f.clone()), u64::MAX).unwrap();
        assert!(matches!(c, Carried::Explicit(_)));
    }
}
