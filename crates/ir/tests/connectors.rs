//! Connectors produce exactly the promised counts and distributions for a seed.

use neuromap_ir::Synapses;
use neuromap_ir::connect::{Connector, Context, Dist, ListEntry, expand};
use proptest::prelude::*;

fn cx(name: &str, n_pre: u32, n_post: u32, same: bool, seed: u64) -> Context<'_> {
    Context { seed, name, n_pre, n_post, same_pop: same, dt: 0.1, scale: 1.0 }
}

fn build(c: &Connector, n_pre: u32, n_post: u32, same: bool, seed: u64) -> Synapses {
    expand(c, Some(&Dist::constant(1.0)), &Dist::constant(1.0), cx("p", n_pre, n_post, same, seed)).unwrap()
}

fn in_degrees(s: &Synapses, n_post: u32) -> Vec<usize> {
    let mut d = vec![0; n_post as usize];
    for &j in s.posts() {
        d[j as usize] += 1;
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn all_to_all_counts(n_pre in 1u32..40, n_post in 1u32..40, allow in any::<bool>(), same in any::<bool>()) {
        let n_post = if same { n_pre } else { n_post };
        let s = build(&Connector::AllToAll { allow_self: allow }, n_pre, n_post, same, 1);
        let expect = n_pre as usize * n_post as usize - if same && !allow { n_pre as usize } else { 0 };
        prop_assert_eq!(s.len(), expect);
        if same && !allow {
            prop_assert!(s.iter().all(|(i, j, _, _)| i != j));
        }
    }

    #[test]
    fn fixed_number_pre_gives_exact_in_degree(n_pre in 2u32..60, n_post in 1u32..60, k in 0u64..10,
                                               allow in any::<bool>(), replace in any::<bool>(), seed in any::<u64>()) {
        let avail = u64::from(n_pre) - u64::from(!allow);
        prop_assume!(replace || k <= avail);
        let c = Connector::FixedNumberPre { n: k, allow_self: allow, replace };
        let s = build(&c, n_pre, n_pre.min(n_post).max(1), !allow, seed);
        let n_post = n_pre.min(n_post).max(1);
        for d in in_degrees(&s, n_post) {
            prop_assert_eq!(d as u64, k);
        }
        if !allow {
            prop_assert!(s.iter().all(|(i, j, _, _)| i != j));
        }
        if !replace {
            let mut pairs: Vec<(u32, u32)> = s.iter().map(|(i, j, _, _)| (i, j)).collect();
            let n = pairs.len();
            pairs.sort_unstable();
            pairs.dedup();
            prop_assert_eq!(pairs.len(), n, "multapses without replacement");
        }
    }

    #[test]
    fn fixed_number_post_gives_exact_out_degree(n_pre in 1u32..60, n_post in 1u32..60, k in 0u64..10, seed in any::<u64>()) {
        prop_assume!(k <= u64::from(n_post));
        let s = build(&Connector::FixedNumberPost { n: k, allow_self: true, replace: false }, n_pre, n_post, false, seed);
        for i in 0..n_pre as usize {
            prop_assert_eq!(s.row_len(i) as u64, k);
        }
    }

    #[test]
    fn fixed_total_number_is_exact(n_pre in 1u32..80, n_post in 2u32..80, k in 0u64..5000, seed in any::<u64>()) {
        let s = build(&Connector::FixedTotalNumber { n: k, allow_self: true }, n_pre, n_post, false, seed);
        prop_assert_eq!(s.len() as u64, k);
        prop_assert!(s.posts().iter().all(|&j| j < n_post));
    }

    #[test]
    fn one_to_one_is_the_identity(n in 1u32..200) {
        let s = build(&Connector::OneToOne, n, n, false, 0);
        let got: Vec<(u32, u32)> = s.iter().map(|(i, j, _, _)| (i, j)).collect();
        let want: Vec<(u32, u32)> = (0..n).map(|i| (i, i)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn list_keeps_every_entry(entries in proptest::collection::vec((0u32..20, 0u32..30, -5.0f64..5.0, 0.0f64..3.0), 0..100)) {
        let list: Vec<ListEntry> = entries.iter().map(|&(pre, post, w, d)| ListEntry { pre, post, weight: Some(w), delay: Some(d) }).collect();
        let s = build(&Connector::List { entries: list }, 20, 30, false, 0);
        let mut got: Vec<(u32, u32, f32, u16)> = s.iter().collect();
        let mut want: Vec<(u32, u32, f32, u16)> =
            entries.iter().map(|&(i, j, w, d)| (i, j, w as f32, (d / 0.1).round() as u16)).collect();
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        prop_assert_eq!(got, want);
    }

    #[test]
    fn the_same_seed_gives_the_same_synapses(seed in any::<u64>()) {
        let c = Connector::FixedProbability { p: 0.1, allow_self: false };
        let w = Dist::Normal { mean: 0.5, sd: 0.1, min: Some(0.0), max: None };
        let d = Dist::Uniform { lo: 0.1, hi: 2.0 };
        let a = expand(&c, Some(&w), &d, cx("x", 100, 100, true, seed)).unwrap();
        let b = expand(&c, Some(&w), &d, cx("x", 100, 100, true, seed)).unwrap();
        prop_assert_eq!(&a, &b);
        let other = expand(&c, Some(&w), &d, cx("y", 100, 100, true, seed)).unwrap();
        prop_assert_ne!(&a, &other, "streams are keyed by projection name");
    }

    #[test]
    fn conv2d_matches_a_direct_convolution(c in 1u32..3, h in 3u32..8, w in 3u32..8, oc in 1u32..3,
                                           k in 1u32..4, s in 1u32..3, p in 0u32..2, seed in any::<u64>()) {
        prop_assume!(h + 2 * p >= k && w + 2 * p >= k);
        use rand::{RngExt, SeedableRng};
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let weights: Vec<f64> = (0..oc * c * k * k).map(|_| f64::from(r.random_range(-3i32..4))).collect();
        let conn = Connector::Conv2d { in_shape: [c, h, w], out_channels: oc, kernel: [k, k], stride: [s, s], padding: [p, p], weights: weights.clone() };
        let [_, oh, ow] = conn.out_shape().unwrap();
        let n_in = c * h * w;
        let n_out = oc * oh * ow;
        let syn = expand(&conn, None, &Dist::constant(0.0), cx("conv", n_in, n_out, false, 0)).unwrap();
        // Drive each input alone and compare the summed synaptic input with the direct sum.
        let x: Vec<f64> = (0..n_in).map(|_| f64::from(r.random_range(0i32..2))).collect();
        let mut via_synapses = vec![0.0; n_out as usize];
        for (i, j, wt, _) in syn.iter() {
            via_synapses[j as usize] += x[i as usize] * f64::from(wt);
        }
        let mut direct = vec![0.0; n_out as usize];
        for o in 0..oc {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0.0;
                    for ci in 0..c {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (oy * s + ky) as i64 - p as i64;
                                let ix = (ox * s + kx) as i64 - p as i64;
                                if iy >= 0 && ix >= 0 && (iy as u32) < h && (ix as u32) < w {
                                    acc += x[(ci * h * w + iy as u32 * w + ix as u32) as usize]
                                        * weights[(((o * c + ci) * k + ky) * k + kx) as usize];
                                }
                            }
                        }
                    }
                    direct[((o * oh + oy) * ow + ox) as usize] = acc;
                }
            }
        }
        prop_assert_eq!(via_synapses, direct);
    }
}

/// Connection probability: the count is Binomial(pairs, p); check it lies within 5 σ for
/// many seeds, and that self-connections are left out.
#[test]
fn fixed_probability_count_is_binomial() {
    let (n, p) = (300u32, 0.05);
    let pairs = f64::from(n) * f64::from(n - 1);
    let (mean, sd) = (pairs * p, (pairs * p * (1.0 - p)).sqrt());
    let mut total = 0.0;
    for seed in 0..20 {
        let s = build(&Connector::FixedProbability { p, allow_self: false }, n, n, true, seed);
        assert!(s.iter().all(|(i, j, _, _)| i != j));
        let c = s.len() as f64;
        assert!((c - mean).abs() < 5.0 * sd, "count {c} vs mean {mean} ± {sd}");
        total += c;
    }
    // Mean over 20 seeds: σ/√20.
    assert!((total / 20.0 - mean).abs() < 5.0 * sd / 20f64.sqrt());
}

#[test]
fn pooling_sums_each_window_once() {
    let conn = Connector::Pool2d { in_shape: [2, 4, 4], kernel: [2, 2], stride: [2, 2], padding: [0, 0] };
    let s = expand(&conn, Some(&Dist::constant(1.0)), &Dist::constant(0.0), cx("pool", 32, 8, false, 0)).unwrap();
    assert_eq!(s.len(), 32, "every input in exactly one window");
    assert_eq!(in_degrees(&s, 8), vec![4; 8]);
    // Channel 1 inputs only reach channel 1 outputs.
    assert!(s.iter().all(|(i, j, _, _)| (i >= 16) == (j >= 4)));
}

#[test]
fn truncated_normal_stays_in_bounds() {
    let d = Dist::Normal { mean: 1.5, sd: 0.75, min: Some(0.1), max: None };
    let mut r = neuromap_ir::rng::stream(3, "t", "t", 0);
    let xs: Vec<f64> = (0..20_000).map(|_| d.sample(&mut r)).collect();
    assert!(xs.iter().all(|&x| x >= 0.1));
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    // Truncation at −1.87 σ raises the mean by σ·φ(a)/(1−Φ(a)) ≈ 0.75·0.0694/0.9693 ≈ 0.0537.
    assert!((mean - 1.5537).abs() < 0.02, "mean {mean}");
}

#[test]
fn choice_draws_only_its_values_evenly() {
    let d = Dist::Choice { values: vec![-1.0, 1.0] };
    let mut r = neuromap_ir::rng::stream(9, "t", "t", 0);
    let xs: Vec<f64> = (0..10_000).map(|_| d.sample(&mut r)).collect();
    let plus = xs.iter().filter(|&&x| x == 1.0).count();
    assert!(xs.iter().all(|&x| x == 1.0 || x == -1.0));
    assert!((plus as f64 - 5000.0).abs() < 5.0 * 50.0, "plus {plus}");
}

/// A network too large for the memory limit is refused before anything is allocated,
/// with the demand and the limit in the message.
#[test]
fn oversized_networks_are_refused_before_allocation() {
    use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProjSpec};
    use neuromap_ir::{Encoding, NeuronModel, Receptor, Threshold};
    let model = NeuronModel::Threshold(Threshold { theta: 0.0.into(), bias: 0.0.into(), encoding: Encoding::Binary });
    let spec = NetworkSpec {
        name: "big".into(),
        dt: 1.0,
        seed: 0,
        scale: 1.0,
        populations: vec![PopSpec {
            name: "a".into(),
            size: 4_000_000_000,
            kind: PopSpecKind::Neurons { model, v_init_dist: None },
        }],
        projections: vec![ProjSpec {
            name: "aa".into(),
            pre: 0,
            post: 0,
            receptor: Receptor::Excitatory,
            connector: Connector::AllToAll { allow_self: true },
            weight: Some(Dist::constant(1.0)),
            delay: Dist::constant(0.0),
        }],
        probes: vec![],
        assign: Default::default(),
    };
    let err = spec.build_within(16.0 * (1u64 << 30) as f64).unwrap_err().to_string();
    assert!(err.contains("GiB") && err.contains("`aa`") && err.contains("1.600e19"), "{err}");
}
