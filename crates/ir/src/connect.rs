//! Connectors: rules that generate a projection's synapses, and value distributions.
//!
//! Generation is seeded per projection (three streams: connectivity, weights, delays),
//! so changing a weight distribution leaves connectivity unchanged, and building
//! projections in parallel gives the same synapses as building them one by one.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};
use serde::Serialize;

use crate::{IrError, Synapses, SynapsesBuilder, rng};

/// A value distribution (weights in nA or mV, delays in ms).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "snake_case")]
pub enum Dist {
    Const {
        value: f64,
    },
    Uniform {
        lo: f64,
        hi: f64,
    },
    /// Normal, truncated to [min, max] when given (values outside are drawn again).
    Normal {
        mean: f64,
        sd: f64,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// One of `values`, each equally likely (e.g. binary weights ±1).
    Choice {
        values: Vec<f64>,
    },
}

impl Dist {
    pub fn constant(value: f64) -> Self {
        Dist::Const { value }
    }

    /// The smallest value the distribution can produce.
    pub fn lower_bound(&self) -> f64 {
        match *self {
            Dist::Const { value } => value,
            Dist::Uniform { lo, .. } => lo,
            Dist::Normal { min, .. } => min.unwrap_or(f64::NEG_INFINITY),
            Dist::Choice { ref values } => values.iter().copied().fold(f64::INFINITY, f64::min),
        }
    }

    pub fn upper_bound(&self) -> f64 {
        match *self {
            Dist::Const { value } => value,
            Dist::Uniform { hi, .. } => hi,
            Dist::Normal { max, .. } => max.unwrap_or(f64::INFINITY),
            Dist::Choice { ref values } => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    pub fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        match *self {
            Dist::Const { value } => value,
            Dist::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
            Dist::Normal { mean, sd, min, max } => normal(rng, mean, sd, min, max),
            Dist::Choice { ref values } => values[rng.random_range(0..values.len())],
        }
    }

    /// `n` draws, the same as `n` calls of [`Dist::sample`], each passed to `f`: the
    /// kind of distribution is matched once, not per draw.
    #[inline]
    pub fn sample_each<E>(
        &self,
        rng: &mut ChaCha8Rng,
        n: usize,
        mut f: impl FnMut(f64) -> Result<(), E>,
    ) -> Result<(), E> {
        match *self {
            Dist::Const { value } => (0..n).try_for_each(|_| f(value)),
            Dist::Uniform { lo, hi } => (0..n).try_for_each(|_| f(lo + (hi - lo) * rng.random::<f64>())),
            Dist::Normal { mean, sd, min, max } => (0..n).try_for_each(|_| f(normal(rng, mean, sd, min, max))),
            Dist::Choice { ref values } => (0..n).try_for_each(|_| f(values[rng.random_range(0..values.len())])),
        }
    }
}

/// A normal draw, truncated to [min, max] when given (values outside are drawn again).
#[inline(always)]
fn normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64, min: Option<f64>, max: Option<f64>) -> f64 {
    let (lo, hi) = (min.unwrap_or(f64::NEG_INFINITY), max.unwrap_or(f64::INFINITY));
    for _ in 0..10_000 {
        let z: f64 = StandardNormal.sample(rng);
        let x = mean + sd * z;
        if x >= lo && x <= hi {
            return x;
        }
    }
    // The bounds sit far in a tail: fall back to the nearest bound.
    mean.clamp(lo, hi)
}

/// One explicit synapse of a `list` connector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListEntry {
    pub pre: u32,
    pub post: u32,
    pub weight: Option<f64>,
    pub delay: Option<f64>,
}

/// Shape of a 2-D feature map: channels, height, width (flattened channel-major, as NIR
/// and PyTorch lay them out: index = c·H·W + y·W + x).
pub type Shape3 = [u32; 3];

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Connector {
    AllToAll {
        allow_self: bool,
    },
    OneToOne,
    /// Each possible pair independently with probability `p`.
    FixedProbability {
        p: f64,
        allow_self: bool,
    },
    /// Each postsynaptic neuron receives exactly `n` inputs.
    FixedNumberPre {
        n: u64,
        allow_self: bool,
        replace: bool,
    },
    /// Each presynaptic neuron makes exactly `n` outputs.
    FixedNumberPost {
        n: u64,
        allow_self: bool,
        replace: bool,
    },
    /// `n` synapses in total, each (pre, post) pair drawn uniformly with replacement
    /// (multapses allowed), as in the Potjans–Diesmann microcircuit. `n` scales with the
    /// network's `scale`, which keeps in-degrees.
    FixedTotalNumber {
        n: u64,
        allow_self: bool,
    },
    List {
        entries: Vec<ListEntry>,
    },
    /// Row-major `n_pre × n_post` weights; zero entries make no synapse.
    Dense {
        weights: Vec<f64>,
    },
    Conv2d {
        in_shape: Shape3,
        out_channels: u32,
        kernel: [u32; 2],
        stride: [u32; 2],
        padding: [u32; 2],
        weights: Vec<f64>,
    },
    /// Sum pooling: every input in a window connects with the projection's weight.
    Pool2d {
        in_shape: Shape3,
        kernel: [u32; 2],
        stride: [u32; 2],
        padding: [u32; 2],
    },
}

fn out_len(len: u32, k: u32, s: u32, p: u32) -> Option<u32> {
    let padded = len.checked_add(p.checked_mul(2)?)?;
    if s == 0 || k == 0 || padded < k { None } else { Some((padded - k) / s + 1) }
}

impl Connector {
    pub fn kind(&self) -> &'static str {
        match self {
            Connector::AllToAll { .. } => "all_to_all",
            Connector::OneToOne => "one_to_one",
            Connector::FixedProbability { .. } => "fixed_probability",
            Connector::FixedNumberPre { .. } => "fixed_number_pre",
            Connector::FixedNumberPost { .. } => "fixed_number_post",
            Connector::FixedTotalNumber { .. } => "fixed_total_number",
            Connector::List { .. } => "list",
            Connector::Dense { .. } => "dense",
            Connector::Conv2d { .. } => "conv2d",
            Connector::Pool2d { .. } => "pool2d",
        }
    }

    /// Whether the weights come from the connector itself (no projection `weight`).
    pub fn carries_weights(&self) -> bool {
        matches!(self, Connector::Dense { .. } | Connector::Conv2d { .. })
    }

    /// Whether the connector's indices are tied to exact population sizes (so the
    /// network cannot be rescaled).
    pub fn fixes_sizes(&self) -> bool {
        matches!(
            self,
            Connector::List { .. } | Connector::Dense { .. } | Connector::Conv2d { .. } | Connector::Pool2d { .. }
        )
    }

    /// Output shape (channels, height, width) of a convolution or pooling.
    pub fn out_shape(&self) -> Option<Shape3> {
        match self {
            Connector::Conv2d { in_shape: [_, h, w], out_channels, kernel, stride, padding, .. } => Some([
                *out_channels,
                out_len(*h, kernel[0], stride[0], padding[0])?,
                out_len(*w, kernel[1], stride[1], padding[1])?,
            ]),
            Connector::Pool2d { in_shape: [c, h, w], kernel, stride, padding } => Some([
                *c,
                out_len(*h, kernel[0], stride[0], padding[0])?,
                out_len(*w, kernel[1], stride[1], padding[1])?,
            ]),
            _ => None,
        }
    }

    /// Checks the connector against the sizes it connects; the message says what is
    /// expected.
    pub fn check(&self, n_pre: u64, n_post: u64, same_pop: bool) -> Result<(), String> {
        let avail_pre = |allow_self: bool| {
            if same_pop && !allow_self { n_pre.saturating_sub(1) } else { n_pre }
        };
        let avail_post = |allow_self: bool| {
            if same_pop && !allow_self { n_post.saturating_sub(1) } else { n_post }
        };
        match self {
            Connector::AllToAll { .. } | Connector::FixedTotalNumber { .. } => Ok(()),
            Connector::OneToOne if n_pre != n_post => {
                Err(format!("one_to_one needs equal sizes, but pre has {n_pre} neurons and post has {n_post}"))
            }
            Connector::OneToOne => Ok(()),
            Connector::FixedProbability { p, .. } if !(0.0..=1.0).contains(p) => {
                Err(format!("probability {p} is outside [0, 1]"))
            }
            Connector::FixedProbability { .. } => Ok(()),
            Connector::FixedNumberPre { n, allow_self, replace } if !replace && *n > avail_pre(*allow_self) => Err(
                format!("each target needs {n} distinct sources, but only {} are available", avail_pre(*allow_self)),
            ),
            Connector::FixedNumberPost { n, allow_self, replace } if !replace && *n > avail_post(*allow_self) => Err(
                format!("each source needs {n} distinct targets, but only {} are available", avail_post(*allow_self)),
            ),
            Connector::FixedNumberPre { .. } | Connector::FixedNumberPost { .. } => Ok(()),
            Connector::List { entries } => {
                for e in entries {
                    if u64::from(e.pre) >= n_pre || u64::from(e.post) >= n_post {
                        return Err(format!(
                            "entry ({}, {}) is out of range: pre has {n_pre} neurons, post has {n_post}",
                            e.pre, e.post
                        ));
                    }
                }
                Ok(())
            }
            Connector::Dense { weights } => {
                let want = n_pre.saturating_mul(n_post);
                if weights.len() as u64 != want {
                    return Err(format!(
                        "a dense matrix for {n_pre} × {n_post} neurons needs {want} weights, found {}",
                        weights.len()
                    ));
                }
                Ok(())
            }
            Connector::Conv2d { in_shape, out_channels, kernel, weights, .. } => {
                let want =
                    u64::from(*out_channels) * u64::from(in_shape[0]) * u64::from(kernel[0]) * u64::from(kernel[1]);
                if weights.len() as u64 != want {
                    return Err(format!(
                        "conv2d weights must have out_channels × in_channels × kh × kw = {want} values, found {}",
                        weights.len()
                    ));
                }
                self.check_shapes(n_pre, n_post)
            }
            Connector::Pool2d { .. } => self.check_shapes(n_pre, n_post),
        }
    }

    fn check_shapes(&self, n_pre: u64, n_post: u64) -> Result<(), String> {
        let (Connector::Conv2d { in_shape, .. } | Connector::Pool2d { in_shape, .. }) = self else {
            return Ok(());
        };
        let n_in: u64 = in_shape.iter().map(|&x| u64::from(x)).product();
        if n_in != n_pre {
            return Err(format!(
                "input shape {}×{}×{} has {n_in} neurons, but pre has {n_pre}",
                in_shape[0], in_shape[1], in_shape[2]
            ));
        }
        let Some(o) = self.out_shape() else {
            return Err("kernel larger than the padded input, or a zero kernel or stride".into());
        };
        let n_out: u64 = o.iter().map(|&x| u64::from(x)).product();
        if n_out != n_post {
            return Err(format!("output shape {}×{}×{} has {n_out} neurons, but post has {n_post}", o[0], o[1], o[2]));
        }
        Ok(())
    }

    /// Expected number of synapses (exact for deterministic connectors).
    pub fn expected_synapses(&self, n_pre: u64, n_post: u64, same_pop: bool, scale: f64) -> f64 {
        let (a, b) = (n_pre as f64, n_post as f64);
        let pairs = |allow_self: bool| {
            if same_pop && !allow_self { a * (b - 1.0).max(0.0) } else { a * b }
        };
        match self {
            Connector::AllToAll { allow_self } => pairs(*allow_self),
            Connector::OneToOne => a,
            Connector::FixedProbability { p, allow_self } => p * pairs(*allow_self),
            Connector::FixedNumberPre { n, .. } => *n as f64 * b,
            Connector::FixedNumberPost { n, .. } => *n as f64 * a,
            Connector::FixedTotalNumber { n, .. } => (*n as f64 * scale).round(),
            Connector::List { entries } => entries.len() as f64,
            Connector::Dense { weights } => weights.iter().filter(|w| **w != 0.0).count() as f64,
            Connector::Conv2d { .. } | Connector::Pool2d { .. } => self.window_synapses() as f64,
        }
    }
}

/// How many outputs along one axis (of `out`) read a real input (of `input`) through the
/// tap at kernel offset `k`, with stride `s` and padding `p`: `0 ≤ y·s + k − p < input`.
pub fn taps_in_range(out: u64, input: u64, s: u64, p: u64, k: u64) -> u64 {
    let (s, p, k, input) = (i128::from(s.max(1)), i128::from(p), i128::from(k), i128::from(input));
    let lo = if p > k { (p - k + s - 1) / s } else { 0 };
    let top = input - 1 + p - k;
    if top < 0 {
        return 0;
    }
    let hi = (top / s).min(i128::from(out) - 1);
    if hi < lo { 0 } else { (hi - lo + 1) as u64 }
}

impl Connector {
    /// The exact synapse count of a convolution (its non-zero taps that land inside the
    /// input) or a pooling; 0 for other connectors or shapes that do not fit.
    fn window_synapses(&self) -> u64 {
        let (Connector::Conv2d { in_shape, kernel, stride, padding, .. }
        | Connector::Pool2d { in_shape, kernel, stride, padding }) = self
        else {
            return 0;
        };
        let Some(out) = self.out_shape() else { return 0 };
        let along = |axis: usize, k: u32| {
            taps_in_range(
                u64::from(out[axis + 1]),
                u64::from(in_shape[axis + 1]),
                u64::from(stride[axis]),
                u64::from(padding[axis]),
                u64::from(k),
            )
        };
        let rows: Vec<u64> = (0..kernel[0]).map(|k| along(0, k)).collect();
        let cols: Vec<u64> = (0..kernel[1]).map(|k| along(1, k)).collect();
        match self {
            Connector::Conv2d { weights, .. } => {
                let kl = (kernel[0] as usize * kernel[1] as usize).max(1);
                let kw = kernel[1].max(1) as usize;
                weights
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| **w != 0.0)
                    .map(|(i, _)| rows[(i % kl) / kw] * cols[i % kw])
                    .sum()
            }
            _ => u64::from(in_shape[0]) * rows.iter().sum::<u64>() * cols.iter().sum::<u64>(),
        }
    }
}

/// Everything `expand` needs besides the connector.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub seed: u64,
    /// Projection name: it keys the random streams.
    pub name: &'a str,
    pub n_pre: u32,
    pub n_post: u32,
    pub same_pop: bool,
    pub dt: f64,
    pub scale: f64,
}

struct Values<'a> {
    weight: Option<&'a Dist>,
    delay: &'a Dist,
    wrng: ChaCha8Rng,
    drng: ChaCha8Rng,
    dt: f64,
    /// `1 / dt`: a product is cheaper than the quotient, and is used where it rounds
    /// to the same whole number of steps.
    per_dt: f64,
    proj: &'a str,
}

impl Values<'_> {
    fn err(&self, msg: String) -> IrError {
        projection_error(self.proj, msg)
    }

    #[inline]
    fn weight(&mut self) -> Result<f32, IrError> {
        match self.weight {
            Some(d) => Ok(d.sample(&mut self.wrng) as f32),
            None => Err(needs_weight(self.proj)),
        }
    }

    /// The weights and delays of the targets `b` holds without them ([`Values::weight`]
    /// and [`Values::delay`] for each in order: each has a stream of its own).
    #[inline]
    fn fill(&mut self, b: &mut SynapsesBuilder) -> Result<(), IrError> {
        let Values { weight, delay, wrng, drng, dt, per_dt, proj } = self;
        b.fill_values(
            |n, out| match weight {
                Some(d) => d.sample_each(wrng, n, |x| {
                    out.push(x as f32);
                    Ok(())
                }),
                None => Err(needs_weight(proj)),
            },
            |n, out| {
                delay.sample_each(drng, n, |ms| {
                    out.push(steps(ms, *dt, *per_dt, proj)?);
                    Ok(())
                })
            },
        )
    }

    #[inline]
    fn delay(&mut self) -> Result<u16, IrError> {
        let ms = self.delay.sample(&mut self.drng);
        self.steps(ms)
    }

    #[inline]
    fn steps(&self, ms: f64) -> Result<u16, IrError> {
        steps(ms, self.dt, self.per_dt, self.proj)
    }
}

/// A delay of `ms` in whole steps of `dt` (`per_dt` = 1 / dt), the rounded quotient;
/// out of range, an error naming projection `proj`.
#[inline]
fn steps(ms: f64, dt: f64, per_dt: f64, proj: &str) -> Result<u16, IrError> {
    // `ms · (1/dt)` is within a few units in the last place of `ms / dt` (below 2^16
    // steps, about 10⁻¹¹ steps), so it rounds to the same whole number unless it lies
    // that close to a half; there, and for NaN, the quotient decides. (The fraction by
    // truncation: `floor` is a call on the baseline x86-64 target.)
    let q = ms * per_dt;
    let frac = q - q as i64 as f64;
    let s = if (frac.abs() - 0.5).abs() > 1e-6 { crate::num::round(q) } else { crate::num::round(ms / dt) };
    if !(0.0..=f64::from(u16::MAX)).contains(&s) {
        return steps_of_quotient(ms, dt, proj);
    }
    Ok(s as u16)
}

/// An error in projection `proj`.
fn projection_error(proj: &str, msg: String) -> IrError {
    IrError::Projection { proj: proj.to_string(), msg }
}

/// A projection whose connector gives no weights has none of its own.
fn needs_weight(proj: &str) -> IrError {
    projection_error(proj, "needs a `weight`".into())
}

/// [`steps`] by the quotient alone.
#[cold]
fn steps_of_quotient(ms: f64, dt: f64, proj: &str) -> Result<u16, IrError> {
    let s = crate::num::round(ms / dt);
    if !(0.0..=f64::from(u16::MAX)).contains(&s) {
        return Err(projection_error(proj, format!("delay {ms} ms is {s} steps, outside 0..={}", u16::MAX)));
    }
    Ok(s as u16)
}

/// Generates the synapses of one projection.
pub fn expand(conn: &Connector, weight: Option<&Dist>, delay: &Dist, cx: Context<'_>) -> Result<Synapses, IrError> {
    conn.check(u64::from(cx.n_pre), u64::from(cx.n_post), cx.same_pop).map_err(|msg| projection_error(cx.name, msg))?;
    let mut crng = rng::stream(cx.seed, "connect", cx.name, 0);
    let mut v = Values {
        weight,
        delay,
        wrng: rng::stream(cx.seed, "weight", cx.name, 0),
        drng: rng::stream(cx.seed, "delay", cx.name, 0),
        dt: cx.dt,
        per_dt: 1.0 / cx.dt,
        proj: cx.name,
    };
    let (n_pre, n_post) = (cx.n_pre as usize, cx.n_post as usize);
    let exclude_self = |allow: bool| cx.same_pop && !allow;
    let est = conn.expected_synapses(n_pre as u64, n_post as u64, cx.same_pop, cx.scale);
    let mut b = SynapsesBuilder::with_capacity(n_pre, (est * 1.02) as usize + 16);
    match conn {
        Connector::AllToAll { allow_self } => {
            for i in 0..n_pre {
                for j in 0..n_post {
                    if !(exclude_self(*allow_self) && i == j) {
                        b.push_post(j as u32);
                    }
                }
                v.fill(&mut b)?;
                b.end_row();
            }
        }
        Connector::OneToOne => {
            for i in 0..n_pre {
                b.push_post(i as u32);
                v.fill(&mut b)?;
                b.end_row();
            }
        }
        Connector::FixedProbability { p, allow_self } => {
            let ln1mp = (1.0 - p).ln();
            for i in 0..n_pre {
                if *p >= 1.0 {
                    for j in 0..n_post {
                        if !(exclude_self(*allow_self) && i == j) {
                            b.push_post(j as u32);
                        }
                    }
                    v.fill(&mut b)?;
                } else if *p > 0.0 {
                    // Geometric skipping: one draw per synapse, not per pair.
                    let mut j: i64 = -1;
                    loop {
                        let u: f64 = crng.random();
                        let skip = ((1.0 - u).ln() / ln1mp).floor() as i64;
                        j = j.saturating_add(skip).saturating_add(1);
                        if j >= n_post as i64 {
                            break;
                        }
                        if exclude_self(*allow_self) && j as usize == i {
                            continue;
                        }
                        b.push_post(j as u32);
                    }
                    v.fill(&mut b)?;
                }
                b.end_row();
            }
        }
        Connector::FixedNumberPost { n, allow_self, replace } => {
            for i in 0..n_pre {
                for j in choose(&mut crng, n_post, *n as usize, *replace, exclude_self(*allow_self).then_some(i)) {
                    b.push_post(j as u32);
                }
                v.fill(&mut b)?;
                b.end_row();
            }
        }
        Connector::FixedTotalNumber { n, allow_self } => {
            // Multinomial counts per presynaptic neuron by sequential binomials, then
            // uniform targets: the same distribution as drawing each pair uniformly.
            let mut remaining = (*n as f64 * cx.scale).round() as u64;
            let span = if exclude_self(*allow_self) { n_post.saturating_sub(1) } else { n_post };
            for i in 0..n_pre {
                let left = (n_pre - i) as f64;
                let c = if i + 1 == n_pre {
                    remaining
                } else {
                    Binomial::new(remaining, 1.0 / left).map_err(|e| v.err(e.to_string()))?.sample(&mut crng)
                };
                remaining -= c;
                if span > 0 {
                    for _ in 0..c {
                        let mut j = crng.random_range(0..span);
                        if exclude_self(*allow_self) && j >= i {
                            j += 1;
                        }
                        b.push_post(j as u32);
                    }
                    v.fill(&mut b)?;
                }
                b.end_row();
            }
        }
        Connector::Dense { weights } => {
            for i in 0..n_pre {
                for j in 0..n_post {
                    let w = weights[i * n_post + j];
                    if w != 0.0 {
                        b.push(j as u32, w as f32, v.delay()?);
                    }
                }
                b.end_row();
            }
        }
        Connector::FixedNumberPre { .. }
        | Connector::List { .. }
        | Connector::Conv2d { .. }
        | Connector::Pool2d { .. } => {
            return column_major(conn, &mut crng, &mut v, cx);
        }
    }
    debug_assert_eq!(b.rows_done(), n_pre);
    Ok(b.finish())
}

/// Connectors whose natural order is by target: collect, then transpose.
fn column_major(
    conn: &Connector,
    crng: &mut ChaCha8Rng,
    v: &mut Values<'_>,
    cx: Context<'_>,
) -> Result<Synapses, IrError> {
    let (n_pre, n_post) = (cx.n_pre as usize, cx.n_post as usize);
    let (mut pre, mut post, mut w, mut d) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut push = |i: usize, j: usize, wt: f32, dl: u16| {
        pre.push(i as u32);
        post.push(j as u32);
        w.push(wt);
        d.push(dl);
    };
    match conn {
        Connector::FixedNumberPre { n, allow_self, replace } => {
            for j in 0..n_post {
                for i in choose(crng, n_pre, *n as usize, *replace, (cx.same_pop && !allow_self).then_some(j)) {
                    push(i, j, v.weight()?, v.delay()?);
                }
            }
        }
        Connector::List { entries } => {
            for e in entries {
                let wt = match e.weight {
                    Some(x) => x as f32,
                    None => v.weight()?,
                };
                let dl = match e.delay {
                    Some(ms) => v.steps(ms)?,
                    None => v.delay()?,
                };
                push(e.pre as usize, e.post as usize, wt, dl);
            }
        }
        Connector::Conv2d { in_shape: [ic, h, wd], kernel: [kh, kw], stride: [sh, sw], padding: [ph, pw], .. }
        | Connector::Pool2d { in_shape: [ic, h, wd], kernel: [kh, kw], stride: [sh, sw], padding: [ph, pw] } => {
            let weights: &[f64] = match conn {
                Connector::Conv2d { weights, .. } => weights,
                _ => &[],
            };
            let conv = matches!(conn, Connector::Conv2d { .. });
            let Some([oc, oh, ow]) = conn.out_shape() else {
                return Err(v.err("invalid convolution shape".into()));
            };
            let (ic, h, wd, kh, kw) = (*ic as i64, *h as i64, *wd as i64, *kh as i64, *kw as i64);
            for o in 0..oc as i64 {
                for oy in 0..oh as i64 {
                    for ox in 0..ow as i64 {
                        let j = ((o * oh as i64 + oy) * ow as i64 + ox) as usize;
                        let channels = if conv { 0..ic } else { o..o + 1 };
                        for c in channels {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = oy * i64::from(*sh) + ky - i64::from(*ph);
                                    let ix = ox * i64::from(*sw) + kx - i64::from(*pw);
                                    if iy < 0 || iy >= h || ix < 0 || ix >= wd {
                                        continue;
                                    }
                                    let i = ((c * h + iy) * wd + ix) as usize;
                                    let wt = if conv {
                                        let x = weights[(((o * ic + c) * kh + ky) * kw + kx) as usize];
                                        if x == 0.0 {
                                            continue;
                                        }
                                        x as f32
                                    } else {
                                        v.weight()?
                                    };
                                    push(i, j, wt, v.delay()?);
                                }
                            }
                        }
                    }
                }
            }
        }
        _ => unreachable!("row-major connectors are expanded in `expand`"),
    }
    Synapses::from_unsorted(n_pre, &pre, post, w, d)
}

/// `k` indices from `0..len`, distinct unless `replace`, never `exclude`; ascending when
/// distinct.
fn choose(rng: &mut ChaCha8Rng, len: usize, k: usize, replace: bool, exclude: Option<usize>) -> Vec<usize> {
    let span = len - usize::from(exclude.is_some());
    let shift = |x: usize| match exclude {
        Some(e) if x >= e => x + 1,
        _ => x,
    };
    if span == 0 {
        return Vec::new();
    }
    if replace {
        (0..k).map(|_| shift(rng.random_range(0..span))).collect()
    } else {
        distinct(rng, span, k.min(span)).into_iter().map(shift).collect()
    }
}

/// `amount` distinct indices from `0..length`, ascending: the set
/// `rand::seq::index::sample` (rand 0.10) draws, from the same draws of `rng`. Where
/// that picks its in-place algorithm (a partial Fisher–Yates shuffle of `0..length`),
/// the shuffle is done here in a buffer kept per thread and put back afterwards, and
/// the set read in order from a bitmap: a fixed in-degree of 800 out of 8,000 then
/// costs its 800 draws, not 8,000 writes to start and a sort to end. The choice
/// between algorithms is rand 0.10's ([`in_place`]); Floyd's and rejection sampling
/// are rand's own.
fn distinct(rng: &mut ChaCha8Rng, length: usize, amount: usize) -> Vec<usize> {
    if length > u32::MAX as usize || !in_place(length as u32, amount as u32) {
        let mut v = rand::seq::index::sample(rng, length, amount).into_vec();
        v.sort_unstable();
        return v;
    }
    let (length, amount) = (length as u32, amount as u32);
    thread_local! {
        /// The identity `0..n`, left as found after each use; the swaps made.
        static SCRATCH: std::cell::RefCell<(Vec<u32>, Vec<u32>, Vec<u64>)> = const {
            std::cell::RefCell::new((Vec::new(), Vec::new(), Vec::new()))
        };
    }
    SCRATCH.with_borrow_mut(|(identity, swaps, bits)| {
        if identity.len() < length as usize {
            let from = identity.len() as u32;
            identity.extend(from..length);
        }
        let buf = &mut identity[..length as usize];
        swaps.clear();
        for i in 0..amount {
            let j: u32 = rng.random_range(i..length);
            buf.swap(i as usize, j as usize);
            swaps.push(j);
        }
        bits.clear();
        bits.resize((length as usize).div_ceil(64), 0);
        for &x in &buf[..amount as usize] {
            bits[x as usize / 64] |= 1 << (x % 64);
        }
        for (i, &j) in swaps.iter().enumerate().rev() {
            buf.swap(i, j as usize);
        }
        let mut out = Vec::with_capacity(amount as usize);
        for (w, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                out.push(w * 64 + word.trailing_zeros() as usize);
                word &= word - 1;
            }
        }
        out
    })
}

/// Whether `rand::seq::index::sample(_, length, amount)` (rand 0.10) shuffles in
/// place, as its own choice between algorithms decides.
fn in_place(length: u32, amount: u32) -> bool {
    let j = usize::from(length >= 500_000);
    if amount < 163 {
        const C: [[f32; 2]; 2] = [[1.6, 8.0 / 45.0], [10.0, 70.0 / 9.0]];
        let m4 = C[0][j] * amount as f32;
        amount > 11 && (length as f32) < (C[1][j] + m4) * amount as f32
    } else {
        const C: [f32; 2] = [270.0, 330.0 / 9.0];
        (length as f32) < C[j] * amount as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The distinct indices are rand's, sorted, and leave the stream where rand
    /// leaves it: over lengths and amounts on both sides of rand's choices between
    /// its algorithms, the whole range, nothing, and one thread's buffer reused
    /// across lengths.
    #[test]
    fn distinct_indices_are_rands_sorted() {
        let mut seeds = ChaCha8Rng::seed_from_u64(11);
        let mut in_place_seen = 0;
        let cases = [
            (1, 1),
            (5, 0),
            (40, 12),
            (40, 40),
            (300, 11),
            (300, 13),
            (8_000, 800),
            (2_000, 200),
            (100_000, 5),
            (600_000, 200),
            (600_000, 30_000),
            (20, 163),
            (50_000, 163),
            (9, 9),
        ];
        for (length, amount) in cases {
            if amount > length {
                continue;
            }
            for _ in 0..4 {
                let seed = seeds.random::<u64>();
                let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(seed), ChaCha8Rng::seed_from_u64(seed));
                let mut want = rand::seq::index::sample(&mut a, length, amount).into_vec();
                want.sort_unstable();
                assert_eq!(distinct(&mut b, length, amount), want, "{amount} of {length}");
                assert_eq!(a.random::<u64>(), b.random::<u64>(), "the stream after {amount} of {length}");
                in_place_seen += usize::from(in_place(length as u32, amount as u32));
            }
        }
        assert!(in_place_seen >= 16, "the in-place path was hardly taken");
    }

    /// A delay in steps by the product with `1/dt` is the rounded quotient `ms / dt`,
    /// bit for bit: at halves (where the product alone can round the other way, e.g.
    /// 0.15 ms at dt 0.1), next to them, at random, out of range and NaN.
    #[test]
    fn delay_steps_are_the_rounded_quotient() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let delay = Dist::Const { value: 1.0 };
        let mut near_half = 0;
        for dt in [0.1, 1.0, 0.025, 0.3, 1.0 / 3.0, 0.0625, 7e-3] {
            let v = Values {
                weight: None,
                delay: &delay,
                wrng: ChaCha8Rng::seed_from_u64(0),
                drng: ChaCha8Rng::seed_from_u64(0),
                dt,
                per_dt: 1.0 / dt,
                proj: "p",
            };
            let mut ms: Vec<f64> = (0..2_000).map(|k| (f64::from(k) + 0.5) * dt).collect();
            ms.extend((0..2_000).map(|k| f64::from(k) * 0.05));
            ms.extend((0..200_000).map(|_| rng.random::<f64>() * 100.0 * dt));
            ms.extend([-0.3 * dt, -0.5 * dt, -0.7 * dt, 65_535.4 * dt, 65_535.6 * dt, 1e30, f64::NAN, f64::INFINITY]);
            for x in ms.iter().flat_map(|&m| [m, m.next_up(), m.next_down()]) {
                let q = x / dt;
                near_half += usize::from(((q - q.trunc()).abs() - 0.5).abs() < 1e-9);
                let want = crate::num::round(q);
                match v.steps(x) {
                    Ok(s) => assert_eq!(f64::from(s), want, "{x} ms at dt {dt}"),
                    Err(_) => assert!(!(0.0..=65_535.0).contains(&want), "{x} ms at dt {dt}: {want} refused"),
                }
            }
        }
        assert!(near_half > 1_000, "too few delays at a half step ({near_half})");
    }
}
