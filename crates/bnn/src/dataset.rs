//! A seeded synthetic dataset for binary networks, and a binary MLP trained on it, in
//! the repository (no downloads): ten classes of 16 × 16 binary images, each a class
//! prototype (seeded random pixels) with every pixel flipped with probability
//! `noise`. The MLP is a random ±1 projection to `hidden` sign units followed by a
//! trained ±1 readout: output `c`'s weights are the signs of (mean hidden activity on
//! class `c`) − (mean on the other classes), its threshold the one that best separates
//! class `c` from the rest on the training samples.
//!
//! [`netlist`] writes the network with the held-out samples as its input, one sample per
//! step; a sample is classified correctly when exactly its class's output neuron fires.

use std::fmt::Write as _;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// The dataset's and the network's shape and seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    pub seed: u64,
    pub side: usize,
    pub classes: usize,
    pub hidden: usize,
    pub noise: f64,
    pub train: usize,
    pub test: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { seed: 7, side: 16, classes: 10, hidden: 128, noise: 0.2, train: 600, test: 200 }
    }
}

/// Samples (pixels, label).
pub type Samples = Vec<(Vec<bool>, usize)>;

#[derive(Clone, Debug)]
pub struct Dataset {
    pub prototypes: Vec<Vec<bool>>,
    pub train: Samples,
    pub test: Samples,
}

/// The dataset's stream for `what` (prototypes, samples, training).
fn rng(seed: u64, what: &str) -> ChaCha8Rng {
    neuromap_ir::rng::stream(seed, "digits", what, 0)
}

pub fn generate(c: &Config) -> Dataset {
    let pixels = c.side * c.side;
    let mut r = rng(c.seed, "prototypes");
    let prototypes: Vec<Vec<bool>> =
        (0..c.classes).map(|_| (0..pixels).map(|_| r.random_bool(0.5)).collect()).collect();
    let draw = |n: usize, r: &mut ChaCha8Rng| -> Samples {
        (0..n)
            .map(|_| {
                let label = r.random_range(0..c.classes);
                let px = prototypes[label].iter().map(|&b| b ^ r.random_bool(c.noise)).collect();
                (px, label)
            })
            .collect()
    };
    let mut r2 = rng(c.seed, "samples");
    let train = draw(c.train, &mut r2);
    let test = draw(c.test, &mut r2);
    Dataset { prototypes, train, test }
}

/// A trained binary MLP: `w1[i][j]` input `i` → hidden `j`, `w2[j][c]` hidden → output,
/// both ±1; hidden units fire iff `Σ w·x ≥ 0` and output `c` iff `Σ w·h ≥ theta2[c]`,
/// with `x, h ∈ {−1, +1}` (bipolar encoding).
#[derive(Clone, Debug)]
pub struct Mlp {
    pub w1: Vec<Vec<i8>>,
    pub w2: Vec<Vec<i8>>,
    pub theta2: Vec<i64>,
}

fn bipolar(b: bool) -> i64 {
    if b { 1 } else { -1 }
}

impl Mlp {
    pub fn hidden(&self, x: &[bool]) -> Vec<bool> {
        let h = self.w1[0].len();
        (0..h)
            .map(|j| x.iter().enumerate().map(|(i, &b)| i64::from(self.w1[i][j]) * bipolar(b)).sum::<i64>() >= 0)
            .collect()
    }

    pub fn scores(&self, h: &[bool]) -> Vec<i64> {
        let k = self.w2[0].len();
        (0..k).map(|c| h.iter().enumerate().map(|(j, &b)| i64::from(self.w2[j][c]) * bipolar(b)).sum()).collect()
    }

    /// The outputs that fire for `x`.
    pub fn outputs(&self, x: &[bool]) -> Vec<bool> {
        self.scores(&self.hidden(x)).iter().zip(&self.theta2).map(|(s, t)| s >= t).collect()
    }
}

/// Trains the readout on `d.train` (see the module docs).
pub fn train(c: &Config, d: &Dataset) -> Mlp {
    let pixels = c.side * c.side;
    let mut r = rng(c.seed, "training");
    let w1: Vec<Vec<i8>> =
        (0..pixels).map(|_| (0..c.hidden).map(|_| if r.random_bool(0.5) { 1 } else { -1 }).collect()).collect();
    let mut m = Mlp { w1, w2: Vec::new(), theta2: Vec::new() };
    let hs: Vec<(Vec<bool>, usize)> = d.train.iter().map(|(x, l)| (m.hidden(x), *l)).collect();
    let mut w2 = vec![vec![1i8; c.classes]; c.hidden];
    for cl in 0..c.classes {
        let (mut on, mut off) = (vec![0f64; c.hidden], vec![0f64; c.hidden]);
        let (mut n_on, mut n_off) = (0f64, 0f64);
        for (h, l) in &hs {
            let (acc, n) = if *l == cl { (&mut on, &mut n_on) } else { (&mut off, &mut n_off) };
            *n += 1.0;
            for (a, &b) in acc.iter_mut().zip(h) {
                *a += bipolar(b) as f64;
            }
        }
        for ((row, a), b) in w2.iter_mut().zip(&on).zip(&off) {
            row[cl] = if a / n_on.max(1.0) >= b / n_off.max(1.0) { 1 } else { -1 };
        }
    }
    m.w2 = w2;
    // Thresholds: the one that classifies most training samples right (one against the rest).
    let scores: Vec<(Vec<i64>, usize)> = hs.iter().map(|(h, l)| (m.scores(h), *l)).collect();
    let span = c.hidden as i64;
    m.theta2 = (0..c.classes)
        .map(|cl| {
            (-span..=span + 1)
                .max_by_key(|&t| {
                    let right = scores.iter().filter(|(s, l)| (s[cl] >= t) == (*l == cl)).count();
                    (right, -t) // ties: the lower threshold
                })
                .unwrap_or(0)
        })
        .collect();
    m
}

/// The fraction of samples whose firing outputs are exactly their class.
pub fn accuracy(outputs: &[Vec<bool>], samples: &Samples) -> f64 {
    let right =
        outputs.iter().zip(samples).filter(|(o, (_, l))| o.iter().enumerate().all(|(c, &f)| f == (c == *l))).count();
    right as f64 / samples.len().max(1) as f64
}

fn row(out: &mut String, xs: impl Iterator<Item = String>) {
    out.push('[');
    out.push_str(&xs.collect::<Vec<_>>().join(", "));
    out.push(']');
}

/// The network as a netlist whose input presents `d.test`, one sample per step.
pub fn netlist(c: &Config, d: &Dataset, m: &Mlp) -> String {
    let pixels = c.side * c.side;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Binary MLP {pixels}-{}-{} on a synthetic dataset, written by `neuromap generate binary-digits`\n\
         # (seed {}, noise {}): {} classes of {side}×{side} binary images, each a seeded random prototype\n\
         # with every pixel flipped with probability {}. Random ±1 projection to sign units, a ±1\n\
         # readout trained on {} samples; the input presents {} held-out samples, one per step.\n\
         # Output c fires iff Σ w·h ≥ theta[c] (bipolar encoding); a sample is right when exactly\n\
         # its class's output fires. Do not edit: regenerate (a test checks this file).",
        c.hidden,
        c.classes,
        c.seed,
        c.noise,
        c.classes,
        c.noise,
        c.train,
        c.test,
        side = c.side,
    );
    let _ = writeln!(s, "\n[network]\nname = \"binary-digits\"\ndt = 1.0\nseed = {}\nsteps = {}\n", c.seed, c.test);
    let labels: Vec<String> = d.test.iter().map(|(_, l)| l.to_string()).collect();
    let _ = writeln!(s, "# labels of the steps' samples: {}\n", labels.join(" "));
    let _ = writeln!(s, "[[source]]\nname = \"pixels\"\nsize = {pixels}\nkind = \"array\"\nspikes = [");
    for i in 0..pixels {
        s.push_str("  ");
        row(&mut s, d.test.iter().enumerate().filter(|(_, (x, _))| x[i]).map(|(t, _)| format!("{t}.0")));
        s.push_str(",\n");
    }
    s.push_str("]\n\n");
    let _ = writeln!(
        s,
        "[[population]]\nname = \"hidden\"\nsize = {}\nmodel = \"threshold\"\ntheta = 0.0\nencoding = \"bipolar\"\n",
        c.hidden
    );
    s.push_str("[[population]]\nname = \"output\"\nsize = ");
    let _ = write!(s, "{}\nmodel = \"threshold\"\ntheta = ", c.classes);
    row(&mut s, m.theta2.iter().map(|t| format!("{t}.0")));
    s.push_str("\nencoding = \"bipolar\"\n\n");
    for (pre, post, w) in [("pixels", "hidden", &m.w1), ("hidden", "output", &m.w2)] {
        let _ = writeln!(
            s,
            "[[projection]]\npre = \"{pre}\"\npost = \"{post}\"\ndelay = 0.0\n\n[projection.connector]\nkind = \"dense\"\nweights = ["
        );
        for r in w.iter() {
            s.push_str("  ");
            row(&mut s, r.iter().map(|x| format!("{x}")));
            s.push_str(",\n");
        }
        s.push_str("]\n\n");
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readout_learns_the_classes() {
        let c = Config::default();
        let d = generate(&c);
        let m = train(&c, &d);
        let outs: Vec<Vec<bool>> = d.test.iter().map(|(x, _)| m.outputs(x)).collect();
        let acc = accuracy(&outs, &d.test);
        assert!(acc > 0.8, "held-out accuracy {acc}");
    }
}
