//! How far a run is from the reference: per population, spike counts and rates, the
//! share of spikes at exactly the same step and neuron, and the van Rossum distance.

use neuromap_ir::Network;
use serde::Serialize;

use crate::RunResult;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PopFidelity {
    pub population: String,
    pub reference_spikes: u64,
    pub spikes: u64,
    /// (spikes − reference) / reference; 0 when both are 0.
    pub count_error: f64,
    pub reference_rate_hz: f64,
    pub rate_hz: f64,
    /// Spikes at the same (step, neuron) in both runs, over the reference's spikes.
    pub exact_match: f64,
    /// Mean over neurons of the van Rossum distance (τ as given), in units of spikes.
    pub van_rossum: f64,
}

/// Compares `run` with `reference` for every recorded neuron population.
pub fn compare(net: &Network, reference: &RunResult, run: &RunResult, tau_ms: f64) -> Vec<PopFidelity> {
    let secs = f64::from(reference.steps) * net.dt / 1000.0;
    let tau_steps = tau_ms / net.dt;
    net.populations()
        .iter()
        .enumerate()
        .filter(|(p, pop)| !pop.is_source() && reference.recorded[*p] && run.recorded[*p])
        .map(|(p, pop)| {
            let n = pop.size as usize;
            let (a, b) = (&reference.spikes[p], &run.spikes[p]);
            let trains = |r: &crate::SpikeRecord| {
                let mut t: Vec<Vec<u32>> = vec![Vec::new(); n];
                for (&s, &j) in r.steps.iter().zip(&r.neurons) {
                    t[j as usize].push(s);
                }
                t
            };
            let (ta, tb) = (trains(a), trains(b));
            let mut matched = 0u64;
            let mut distance = 0.0;
            for (x, y) in ta.iter().zip(&tb) {
                matched += common(x, y);
                distance += van_rossum(x, y, tau_steps);
            }
            let (ra, rb) = (reference.spike_counts[p], run.spike_counts[p]);
            PopFidelity {
                population: pop.name.clone(),
                reference_spikes: ra,
                spikes: rb,
                count_error: if ra == 0 {
                    if rb == 0 { 0.0 } else { f64::INFINITY }
                } else {
                    (rb as f64 - ra as f64) / ra as f64
                },
                reference_rate_hz: ra as f64 / n as f64 / secs.max(f64::MIN_POSITIVE),
                rate_hz: rb as f64 / n as f64 / secs.max(f64::MIN_POSITIVE),
                exact_match: if ra == 0 { 1.0 } else { matched as f64 / ra as f64 },
                van_rossum: distance / n as f64,
            }
        })
        .collect()
}

/// Spikes present in both sorted trains (a step counted as often as both have it).
fn common(a: &[u32], b: &[u32]) -> u64 {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The van Rossum distance between two spike trains (times in steps, τ in steps):
/// D² = ½ Σᵢⱼ e^{−|aᵢ−aⱼ|/τ} + ½ Σᵢⱼ e^{−|bᵢ−bⱼ|/τ} − Σᵢⱼ e^{−|aᵢ−bⱼ|/τ}, the squared
/// L2 distance of the trains filtered by an exponential kernel, divided by τ; one lone
/// spike against none gives D = √½.
pub fn van_rossum(a: &[u32], b: &[u32], tau: f64) -> f64 {
    let (a, b) = (sorted(a), sorted(b));
    (0.5 * kernel_sum(&a, &a, tau) + 0.5 * kernel_sum(&b, &b, tau) - kernel_sum(&a, &b, tau)).max(0.0).sqrt()
}

/// `x` sorted (borrowed when it already is).
fn sorted(x: &[u32]) -> std::borrow::Cow<'_, [u32]> {
    if x.is_sorted() {
        std::borrow::Cow::Borrowed(x)
    } else {
        let mut v = x.to_vec();
        v.sort_unstable();
        std::borrow::Cow::Owned(v)
    }
}

/// Σ over `x` × `y` of e^(−|p − q| / τ), for sorted trains, in one pass each way: a
/// decaying sum of the `y` spikes at or before each `x` spike, and one of those after
/// it (linear in the spikes, where the pairwise sum is quadratic).
fn kernel_sum(x: &[u32], y: &[u32], tau: f64) -> f64 {
    let decay = |from: u32, to: u32| (-(f64::from(to.abs_diff(from))) / tau).exp();
    let mut total = 0.0;
    // Forward: y at or before p.
    let (mut acc, mut at, mut j) = (0.0f64, 0u32, 0usize);
    for &p in x {
        while j < y.len() && y[j] <= p {
            acc = acc * decay(at, y[j]) + 1.0;
            at = y[j];
            j += 1;
        }
        total += acc * decay(at, p.max(at));
    }
    // Backward: y strictly after p.
    let (mut acc, mut at, mut j) = (0.0f64, u32::MAX, y.len());
    for &p in x.iter().rev() {
        while j > 0 && y[j - 1] > p {
            acc = if at == u32::MAX { 1.0 } else { acc * decay(at, y[j - 1]) + 1.0 };
            at = y[j - 1];
            j -= 1;
        }
        if at != u32::MAX {
            total += acc * decay(at, p);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn van_rossum_of_known_pairs() {
        assert_eq!(van_rossum(&[3, 9], &[3, 9], 5.0), 0.0);
        assert!((van_rossum(&[4], &[], 5.0) - 0.5f64.sqrt()).abs() < 1e-12);
        // Two single spikes d apart: D² = 1 − e^{−d/τ}.
        let d = van_rossum(&[10], &[13], 5.0);
        assert!((d * d - (1.0 - (-3.0f64 / 5.0).exp())).abs() < 1e-12);
        assert_eq!(common(&[1, 2, 5, 9], &[2, 3, 5, 9, 10]), 3);
    }

    /// The linear-time sum equals the pairwise definition on random trains.
    #[test]
    fn kernel_sum_equals_the_pairwise_sum() {
        let pairwise = |x: &[u32], y: &[u32], tau: f64| -> f64 {
            x.iter().flat_map(|&p| y.iter().map(move |&q| (-(f64::from(p) - f64::from(q)).abs() / tau).exp())).sum()
        };
        let mut s = 12345u64;
        let mut next = move |n: u64| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 33) % n
        };
        for _ in 0..200 {
            let mut x: Vec<u32> = (0..next(30)).map(|_| next(100) as u32).collect();
            let mut y: Vec<u32> = (0..next(30)).map(|_| next(100) as u32).collect();
            x.sort_unstable();
            y.sort_unstable();
            let tau = 1.0 + next(20) as f64;
            let (a, b) = (kernel_sum(&x, &y, tau), pairwise(&x, &y, tau));
            assert!((a - b).abs() <= 1e-9 * b.max(1.0), "{x:?} {y:?} {tau}: {a} vs {b}");
        }
    }
}
