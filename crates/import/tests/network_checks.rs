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
