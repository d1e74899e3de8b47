//! `Network::new` reads every synapse (the projections in parallel) and names the
//! first projection in order whose synapses are wrong.

use neuromap_ir::{Network, Projection, Synapses};

fn coba() -> Network {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../netlists/coba.toml");
    let netlist = neuromap_import::netlist::load_path(std::path::Path::new(path)).unwrap_or_else(|d| panic!("{d}"));
    netlist.spec.build().unwrap()
}

/// `net` again with projection `k`'s synapses replaced by one row of `post`, `weight`
/// from its first presynaptic neuron.
fn rebuilt(net: &Network, changes: &[(usize, u32, f32)]) -> Result<Network, String> {
    let mut projections: Vec<Projection> = net.projections().to_vec();
    for &(k, post, weight) in changes {
        let n_pre = projections[k].synapses.n_pre();
        projections[k].synapses = Synapses::from_unsorted(n_pre, &[0], vec![post], vec![weight], vec![1]).unwrap();
    }
    Network::new(net.name.clone(), net.dt, net.seed, net.populations().to_vec(), projections, Vec::new())
        .map_err(|e| e.to_string())
}

#[test]
fn wrong_synapses_are_refused_naming_the_first_projection() {
    let net = coba();
    let names: Vec<&str> = net.projections().iter().map(|p| p.name.as_str()).collect();
    assert!(rebuilt(&net, &[]).is_ok());
    let size = |k: usize| net.pop(net.projections()[k].post).size;

    let e = rebuilt(&net, &[(2, size(2), 0.1)]).unwrap_err();
    assert!(e.contains(names[2]) && e.contains(&format!("targets neuron {}", size(2))), "{e}");

    let e = rebuilt(&net, &[(1, 0, f32::NAN)]).unwrap_err();
    assert!(e.contains(names[1]) && e.contains("non-finite weight"), "{e}");

    let e = rebuilt(&net, &[(0, 0, -0.5)]).unwrap_err();
    assert!(e.contains(names[0]) && e.contains("negative weight -0.5"), "{e}");

    // Two wrong projections: the first in order is named, whichever is checked first.
    let e = rebuilt(&net, &[(3, size(3) + 7, 0.1), (1, 0, f32::INFINITY)]).unwrap_err();
    assert!(e.contains(names[1]) && !e.contains(names[3]), "{e}");
}

/// The checks read long rows in blocks: a bad value anywhere in them is found, an
/// extreme but finite one passes.
#[test]
fn a_bad_synapse_deep_in_a_long_row_is_found() {
    let net = coba();
    let k = 1;
    let n_pre = net.projections()[k].synapses.n_pre();
    let size = net.pop(net.projections()[k].post).size;
    let with = |at: usize, post: u32, weight: f32| {
        let n = 10_000;
        let mut posts = vec![0u32; n];
        let mut weights = vec![0.1f32; n];
        posts[at] = post;
        weights[at] = weight;
        let mut projections: Vec<Projection> = net.projections().to_vec();
        projections[k].synapses = Synapses::from_unsorted(n_pre, &vec![0; n], posts, weights, vec![1; n]).unwrap();
        Network::new(net.name.clone(), net.dt, net.seed, net.populations().to_vec(), projections, Vec::new())
            .map_err(|e| e.to_string())
    };
    for at in [0, 4095, 4096, 9_999] {
        for w in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let e = with(at, 0, w).unwrap_err();
            assert!(e.contains("non-finite weight"), "{at} {w}: {e}");
        }
        let e = with(at, size, 0.1).unwrap_err();
        assert!(e.contains(&format!("targets neuron {size}")), "{at}: {e}");
        assert!(with(at, size - 1, f32::MAX).is_ok(), "{at}");
        assert!(with(at, 0, f32::MIN_POSITIVE / 2.0).is_ok(), "{at}: a subnormal is finite");
    }
}
