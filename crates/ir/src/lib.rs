//! The network IR: what a network *is*, independent of any file format or chip.
//!
//! **Architecture invariant:** no I/O here. Importers build a [`spec::NetworkSpec`] (the
//! declarative description: connectors, distributions, seeds) and [`spec::NetworkSpec::build`]
//! expands it into a [`Network`] whose projections hold explicit synapses in compressed
//! sparse rows. [`Network::new`] checks every invariant; a `Network` that exists is valid.

pub mod connect;
mod model;
pub mod num;
pub mod rng;
pub mod spec;
mod synapses;

pub use model::*;
pub use synapses::{Row, Synapses, SynapsesBuilder};

use serde::Serialize;

/// Dense index of a population (sources included) in [`Network::populations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PopId(pub u32);

impl PopId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Dense index of a projection in [`Network::projections`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ProjId(pub u32);

impl ProjId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum IrError {
    #[error("zero-delay connections form a cycle: {0}; give one of these projections a delay of at least one timestep")]
    ZeroDelayCycle(String),
    #[error("projection `{proj}`: {msg}")]
    Projection { proj: String, msg: String },
    #[error("population `{pop}`: {msg}")]
    Population { pop: String, msg: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    TooLarge(String),
}

#[derive(Clone, Debug)]
pub struct Projection {
    pub name: String,
    pub pre: PopId,
    pub post: PopId,
    pub receptor: Receptor,
    pub synapses: Synapses,
}

/// A recorded state variable of some neurons of a population.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Probe {
    pub population: PopId,
    pub variable: Variable,
    pub neurons: Vec<u32>,
}

#[derive(Clone, Debug)]
pub struct Network {
    pub name: String,
    /// Timestep in ms.
    pub dt: f64,
    /// The run seed every stream derives from.
    pub seed: u64,
    populations: Vec<Population>,
    projections: Vec<Projection>,
    probes: Vec<Probe>,
    update_order: Vec<PopId>,
    incoming: Vec<Vec<ProjId>>,
    outgoing: Vec<Vec<ProjId>>,
}

impl Network {
    /// Checks every invariant and computes the update order.
    pub fn new(
        name: String,
        dt: f64,
        seed: u64,
        populations: Vec<Population>,
        projections: Vec<Projection>,
        probes: Vec<Probe>,
    ) -> Result<Self, IrError> {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(IrError::Invalid(format!("dt must be a positive number of ms, got {dt}")));
        }
        let np = populations.len();
        for (i, p) in populations.iter().enumerate() {
            if populations[..i].iter().any(|q| q.name == p.name) {
                return Err(IrError::Population { pop: p.name.clone(), msg: "duplicate name".into() });
            }
            validate_population(p)?;
        }
        let mut incoming = vec![Vec::new(); np];
        let mut outgoing = vec![Vec::new(); np];
        // Every synapse is read once, the projections in parallel (3×10⁸ synapses in
        // the full microcircuit); the first projection in order that fails is named.
        let synapse_errors: Vec<Option<String>> = {
            use rayon::prelude::*;
            projections.par_iter().map(|pr| synapse_error(pr, &populations)).collect()
        };
        for (k, pr) in projections.iter().enumerate() {
            let err = |msg: String| IrError::Projection { proj: pr.name.clone(), msg };
            let (pre, post) = (pr.pre.index(), pr.post.index());
            if pre >= np || post >= np {
                return Err(err("refers to a population that does not exist".into()));
            }
            if populations[post].is_source() {
                return Err(err(format!("targets `{}`, which is a spike source", populations[post].name)));
            }
            if pr.synapses.n_pre() != populations[pre].size as usize {
                return Err(err(format!(
                    "has {} rows but `{}` has {} neurons",
                    pr.synapses.n_pre(),
                    populations[pre].name,
                    populations[pre].size
                )));
            }
            if let Some(msg) = &synapse_errors[k] {
                return Err(err(msg.clone()));
            }
            incoming[post].push(ProjId(k as u32));
            outgoing[pre].push(ProjId(k as u32));
        }
        for pb in &probes {
            let Some(p) = populations.get(pb.population.index()) else {
                return Err(IrError::Invalid("probe refers to a population that does not exist".into()));
            };
            if !matches!(p.kind, PopKind::Neurons(NeuronModel::Lif(_))) {
                return Err(IrError::Population {
                    pop: p.name.clone(),
                    msg: "only LIF-family populations have membrane state to probe".into(),
                });
            }
            if let Some(n) = pb.neurons.iter().find(|&&n| n >= p.size) {
                return Err(IrError::Population {
                    pop: p.name.clone(),
                    msg: format!("probe names neuron {n}, the population has {}", p.size),
                });
            }
        }
        let update_order = update_order(&populations, &projections)?;
        Ok(Self { name, dt, seed, populations, projections, probes, update_order, incoming, outgoing })
    }

    pub fn populations(&self) -> &[Population] {
        &self.populations
    }

    /// A copy whose source `pop` draws from `kind` instead (e.g. another input sample).
    pub fn with_source(&self, pop: PopId, kind: SourceKind) -> Result<Network, IrError> {
        let mut pops = self.populations.clone();
        let p = pops.get_mut(pop.index()).ok_or_else(|| IrError::Invalid("no such population".into()))?;
        if !p.is_source() {
            return Err(IrError::Population { pop: p.name.clone(), msg: "is not a spike source".into() });
        }
        p.kind = PopKind::Source(kind);
        validate_population(p)?;
        Ok(Network { populations: pops, ..self.clone() })
    }

    /// A copy with the neuron populations' models replaced where `models[p]` is given
    /// (a source keeps its kind; a neuron population keeps its size).
    pub fn with_neuron_models(&self, models: Vec<Option<NeuronModel>>) -> Result<Network, IrError> {
        let mut pops = self.populations.clone();
        for (p, m) in pops.iter_mut().zip(models) {
            if let Some(m) = m {
                if p.is_source() {
                    return Err(IrError::Population {
                        pop: p.name.clone(),
                        msg: "is a spike source, not neurons".into(),
                    });
                }
                p.kind = PopKind::Neurons(m);
                validate_population(p)?;
            }
        }
        Ok(Network { populations: pops, ..self.clone() })
    }

    /// A copy with every projection's weights replaced (`weights[p]` in storage order).
    pub fn with_all_weights(&self, weights: Vec<Vec<f32>>) -> Result<Network, IrError> {
        if weights.len() != self.projections.len() {
            return Err(IrError::Invalid(format!(
                "weights for {} projections given, the network has {}",
                weights.len(),
                self.projections.len()
            )));
        }
        let projections = self
            .projections
            .iter()
            .zip(weights)
            .map(|(pr, w)| {
                let synapses = pr
                    .synapses
                    .with_weights(w)
                    .map_err(|e| IrError::Projection { proj: pr.name.clone(), msg: e.to_string() })?;
                Ok(Projection { synapses, ..pr.clone() })
            })
            .collect::<Result<Vec<_>, IrError>>()?;
        Ok(Network { projections, ..self.clone() })
    }

    pub fn projections(&self) -> &[Projection] {
        &self.projections
    }

    pub fn probes(&self) -> &[Probe] {
        &self.probes
    }

    #[inline]
    pub fn pop(&self, id: PopId) -> &Population {
        &self.populations[id.index()]
    }

    #[inline]
    pub fn proj(&self, id: ProjId) -> &Projection {
        &self.projections[id.index()]
    }

    pub fn find(&self, name: &str) -> Option<PopId> {
        self.populations.iter().position(|p| p.name == name).map(|i| PopId(i as u32))
    }

    /// The population called `name`.
    pub fn pop_by_name(&self, name: &str) -> Option<PopId> {
        self.populations.iter().position(|p| p.name == name).map(|i| PopId(i as u32))
    }

    pub fn pop_ids(&self) -> impl Iterator<Item = PopId> + use<> {
        (0..self.populations.len() as u32).map(PopId)
    }

    /// Populations in the order a timestep updates them: every zero-delay projection's
    /// source comes before its target; otherwise declaration order.
    pub fn update_order(&self) -> &[PopId] {
        &self.update_order
    }

    pub fn incoming(&self, pop: PopId) -> &[ProjId] {
        &self.incoming[pop.index()]
    }

    pub fn outgoing(&self, pop: PopId) -> &[ProjId] {
        &self.outgoing[pop.index()]
    }

    /// Largest delay (steps) of any projection into `pop`.
    pub fn max_delay_into(&self, pop: PopId) -> u16 {
        self.incoming(pop).iter().map(|&p| self.proj(p).synapses.max_delay()).max().unwrap_or(0)
    }

    pub fn n_neurons(&self) -> u64 {
        self.populations.iter().filter(|p| !p.is_source()).map(|p| u64::from(p.size)).sum()
    }

    pub fn n_sources(&self) -> u64 {
        self.populations.iter().filter(|p| p.is_source()).map(|p| u64::from(p.size)).sum()
    }

    pub fn n_synapses(&self) -> u64 {
        self.projections.iter().map(|p| p.synapses.len() as u64).sum()
    }

    /// Bytes held by synapse arrays.
    pub fn synapse_bytes(&self) -> usize {
        self.projections.iter().map(|p| p.synapses.heap_bytes()).sum()
    }
}

pub(crate) fn validate_population(p: &Population) -> Result<(), IrError> {
    let err = |msg: String| IrError::Population { pop: p.name.clone(), msg };
    if p.size == 0 {
        return Err(err("has no neurons".into()));
    }
    let check_len = |name: &str, prm: &Param| -> Result<(), IrError> {
        match prm.per_neuron_len() {
            Some(n) if n != p.size as usize => Err(err(format!("`{name}` has {n} values for {} neurons", p.size))),
            _ => Ok(()),
        }
    };
    match &p.kind {
        PopKind::Neurons(NeuronModel::Lif(l)) => {
            for (name, prm) in l.params() {
                check_len(name, prm)?;
                if prm.values().iter().any(|x| x.is_nan()) {
                    return Err(err(format!("`{name}` is not a number")));
                }
            }
            for (name, prm) in [("tau_m", &l.tau_m), ("cm", &l.cm)] {
                if prm.min() <= 0.0 {
                    return Err(err(format!("`{name}` must be positive")));
                }
            }
            for (name, prm) in [("t_ref", &l.t_ref), ("tau_syn_e", &l.tau_syn_e), ("tau_syn_i", &l.tau_syn_i)] {
                if prm.min() < 0.0 {
                    return Err(err(format!("`{name}` must not be negative")));
                }
            }
            if l.conductance.is_some() {
                for (name, prm) in [("tau_syn_e", &l.tau_syn_e), ("tau_syn_i", &l.tau_syn_i)] {
                    if prm.min() <= 0.0 {
                        return Err(err(format!("`{name}` must be positive: a conductance decays with it")));
                    }
                }
            }
            if let Some(a) = &l.adaptation
                && a.tau_w.min() <= 0.0
            {
                return Err(err("`tau_w` must be positive".into()));
            }
            if let Some(l) = &l.linear_leak
                && l.min() < 0.0
            {
                return Err(err("`leak` must not be negative".into()));
            }
            for (name, prm) in l.params().into_iter().skip(10) {
                if prm.values().iter().any(|x| !x.is_finite()) {
                    return Err(err(format!("`{name}` must be a finite number")));
                }
            }
        }
        PopKind::Neurons(NeuronModel::Threshold(t)) => {
            check_len("theta", &t.theta)?;
            check_len("bias", &t.bias)?;
        }
        PopKind::Neurons(NeuronModel::Izhikevich(z)) => {
            for (name, prm) in z.params() {
                check_len(name, prm)?;
                if prm.values().iter().any(|x| !x.is_finite()) {
                    return Err(err(format!("`{name}` must be a finite number")));
                }
            }
            for (name, prm) in [("tau_syn_e", &z.tau_syn_e), ("tau_syn_i", &z.tau_syn_i)] {
                if prm.min() < 0.0 {
                    return Err(err(format!("`{name}` must not be negative")));
                }
            }
        }
        PopKind::Source(SourceKind::Poisson { rate_hz, .. }) => {
            check_len("rate", rate_hz)?;
            if rate_hz.min() < 0.0 {
                return Err(err("`rate` must not be negative".into()));
            }
        }
        PopKind::Source(SourceKind::Bernoulli { p: prob }) => {
            check_len("p", prob)?;
            if prob.min() < 0.0 || prob.max() > 1.0 {
                return Err(err("`p` must lie in [0, 1]".into()));
            }
        }
        PopKind::Source(SourceKind::Array { steps }) => {
            if steps.len() != p.size as usize {
                return Err(err(format!("has spike lists for {} neurons, size is {}", steps.len(), p.size)));
            }
            if steps.iter().any(|s| s.windows(2).any(|w| w[0] > w[1])) {
                return Err(err("spike steps must be sorted".into()));
            }
        }
    }
    Ok(())
}

/// Kahn's algorithm over zero-delay edges, taking the earliest-declared ready population.
/// What is wrong with a projection's synapses, if anything: a target past its
/// population, a non-finite weight, a negative conductance. Its populations exist
/// (`None` when they do not: [`Network::new`] says so).
fn synapse_error(pr: &Projection, populations: &[Population]) -> Option<String> {
    let post = populations.get(pr.post.index())?;
    let n_post = post.size;
    // A branch-free pass over each array (vectorised), and a search only when it
    // finds something.
    let posts = pr.synapses.posts();
    if posts.iter().copied().max().is_some_and(|m| m >= n_post)
        && let Some(bad) = posts.iter().find(|&&j| j >= n_post)
    {
        return Some(format!("targets neuron {bad} but `{}` has {n_post}", post.name));
    }
    let weights = pr.synapses.weights();
    // Not finite: all exponent bits set.
    let infinite = |w: &f32| w.to_bits() & 0x7fff_ffff >= 0x7f80_0000;
    if weights.chunks(4096).any(|c| c.iter().fold(false, |any, w| any | infinite(w)))
        && let Some(w) = weights.iter().find(|w| !w.is_finite())
    {
        return Some(format!("has a non-finite weight {w}"));
    }
    if let PopKind::Neurons(NeuronModel::Lif(Lif { conductance: Some(_), .. })) = &post.kind
        && let Some(w) = pr.synapses.weights().iter().find(|&&w| w < 0.0)
    {
        return Some(format!(
            "has a negative weight {w} onto `{}`, whose synapses are conductances (µS); an inhibitory projection is a positive conductance with receptor = \"inhibitory\" (its reversal potential e_rev_i makes it inhibit)",
            post.name
        ));
    }
    None
}

fn update_order(pops: &[Population], projs: &[Projection]) -> Result<Vec<PopId>, IrError> {
    let n = pops.len();
    let mut indeg = vec![0usize; n];
    let mut succ = vec![Vec::new(); n];
    for p in projs {
        if !p.synapses.is_empty() && p.synapses.min_delay() == 0 {
            succ[p.pre.index()].push(p.post.index());
            indeg[p.post.index()] += 1;
        }
    }
    let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(PopId(i as u32));
        for &j in &succ[i] {
            indeg[j] -= 1;
            if indeg[j] == 0 {
                ready.insert(j);
            }
        }
    }
    if order.len() < n {
        let names: Vec<String> = projs
            .iter()
            .filter(|p| !p.synapses.is_empty() && p.synapses.min_delay() == 0)
            .filter(|p| indeg[p.post.index()] > 0 && indeg[p.pre.index()] > 0)
            .map(|p| format!("`{}` ({} → {})", p.name, pops[p.pre.index()].name, pops[p.post.index()].name))
            .collect();
        return Err(IrError::ZeroDelayCycle(names.join(", ")));
    }
    Ok(order)
}
