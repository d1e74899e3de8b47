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
    let k = |x: &[u32], y: &[u32]| -> f64 {
        let mut s = 0.0;
        for &p in x {
            for &q in y {
                s += (-(f64::from(p) - f64::from(q)).abs() / tau).exp();
            }
        }
        s
    };
    (0.5 * k(a, a) + 0.5 * k(b, b) - k(a, b)).max(0.0).sqrt()
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
}
