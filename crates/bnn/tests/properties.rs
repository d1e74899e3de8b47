//! Property tests of the threshold-logic decomposition and schedule: random fan-ins,
//! weights, thresholds, cell limits and lanes.

use neuromap_bnn::gates::{CellLimits, Circuit, Output, Src, decompose};
use neuromap_bnn::lower::{Input, Neuron};
use neuromap_bnn::schedule::{PeLimits, schedule};
use neuromap_ir::PopId;
use proptest::prelude::*;

fn neuron(ws: &[i32], threshold: i64) -> Neuron {
    Neuron {
        inputs: ws.iter().enumerate().map(|(i, &w)| (Input { pop: PopId(0), neuron: i as u32, delay: 0 }, w)).collect(),
        threshold,
    }
}

fn weights() -> impl Strategy<Value = Vec<i32>> {
    prop::collection::vec(prop_oneof![-5i32..=-1, 1i32..=5], 1..60)
}

fn limits() -> impl Strategy<Value = CellLimits> {
    (4usize..=9, 2i64..=8).prop_map(|(fan_in, max_weight)| CellLimits { fan_in, max_weight })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The circuit computes Σ w·b ≥ T: on every input when the fan-in is small, on
    /// random inputs otherwise; and every gate fits a cell.
    #[test]
    fn circuits_equal_the_arithmetic(ws in weights(), t_off in -3i64..=3, frac in 0.0f64..=1.0,
                                     lim in limits(), lanes in 1usize..=4, seed in any::<u64>()) {
        let lo: i64 = ws.iter().map(|&w| i64::from(w.min(0))).sum();
        let hi: i64 = ws.iter().map(|&w| i64::from(w.max(0))).sum();
        let t = lo + ((hi - lo) as f64 * frac) as i64 + t_off;
        let n = neuron(&ws, t);
        let c = decompose(&n, lim, lanes).unwrap();
        for g in 0..c.len() {
            let (f, w) = c.gate_shape(g);
            prop_assert!(f <= lim.fan_in && w <= lim.max_weight, "gate {} has fan-in {} weight {}", g, f, w);
        }
        let mut v = Vec::new();
        if ws.len() <= 10 {
            for bits in 0u32..(1 << ws.len()) {
                prop_assert_eq!(c.eval(|i| bits >> i & 1 == 1, &mut v), n.fires(|i| bits >> i & 1 == 1));
            }
        } else {
            let mut x = seed | 1;
            for _ in 0..200 {
                let mut bits = vec![false; ws.len()];
                for b in &mut bits {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    *b = x & 1 == 1;
                }
                prop_assert_eq!(c.eval(|i| bits[i as usize], &mut v), n.fires(|i| bits[i]));
            }
        }
    }

    /// A schedule respects dependencies, cells per cycle, the input bus and the
    /// registers, and runs every gate once.
    #[test]
    fn schedules_respect_the_processing_element(ws in weights(), lim in limits(), lanes in 1usize..=4,
                                                cells in 1usize..=6, bus in 1usize..=12) {
        let lo: i64 = ws.iter().map(|&w| i64::from(w.min(0))).sum();
        let hi: i64 = ws.iter().map(|&w| i64::from(w.max(0))).sum();
        let n = neuron(&ws, (lo + hi) / 2 + 1);
        let c = decompose(&n, lim, lanes).unwrap();
        let pe = PeLimits { cells, register_bits: 512, input_bits_per_cycle: bus };
        let s = schedule(&c, pe).unwrap();
        prop_assert_eq!(s.evals as usize, c.len());
        prop_assert!(s.cycles as usize >= c.len().div_ceil(cells));
        check(&c, &s.slots, s.cycles, pe, s.peak_live)?;
    }
}

fn check(c: &Circuit, slots: &[(u32, u16)], cycles: u32, pe: PeLimits, peak: u32) -> Result<(), TestCaseError> {
    let n = c.len();
    let mut per_cycle = vec![0usize; cycles as usize];
    let mut bus = vec![(0usize, 0usize); cycles as usize]; // (bits, gates taking bits)
    let mut last_use = vec![None::<u32>; n];
    for g in 0..n {
        let (cyc, _) = slots[g];
        prop_assert!(cyc < cycles);
        per_cycle[cyc as usize] += 1;
        let mut inputs = 0;
        for (src, _) in c.gate(g).0 {
            match src {
                Src::Gate(h) => {
                    prop_assert!(slots[h as usize].0 < cyc, "gate {} reads gate {} of the same or a later cycle", g, h);
                    let u = &mut last_use[h as usize];
                    *u = Some(u.map_or(cyc, |x: u32| x.max(cyc)));
                }
                Src::Input(_) => inputs += 1,
            }
        }
        bus[cyc as usize].0 += inputs;
        bus[cyc as usize].1 += usize::from(inputs > 0);
    }
    for (cyc, &k) in per_cycle.iter().enumerate() {
        prop_assert!(k <= pe.cells, "cycle {} runs {} gates", cyc, k);
        let (bits, gates) = bus[cyc];
        prop_assert!(bits <= pe.input_bits_per_cycle || gates == 1, "cycle {} takes {} bus bits", cyc, bits);
    }
    // Live register bits: a gate with readers holds a bit from its cycle to its last reader's.
    if let Output::Signal(Src::Gate(o)) = c.output {
        last_use[o as usize] = Some(cycles);
    }
    let mut most = 0;
    for cyc in 0..cycles {
        let live = (0..n).filter(|&g| last_use[g].is_some_and(|u| slots[g].0 <= cyc && cyc <= u)).count();
        most = most.max(live);
    }
    prop_assert!(most as u32 <= peak && most <= pe.register_bits, "live {} (peak reported {})", most, peak);
    Ok(())
}
