//! The declarative network: what a netlist or an importer says, before connectors are
//! expanded. [`NetworkSpec::build`] turns it into a validated [`Network`].

use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::connect::{self, Connector, Dist};
use crate::{
    IrError, Network, NeuronModel, Param, PopId, PopKind, Population, Probe, Projection, Receptor, SourceKind,
    Variable, rng,
};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum SourceSpec {
    Poisson {
        rate_hz: Param,
        start_ms: f64,
        stop_ms: Option<f64>,
    },
    Bernoulli {
        p: Param,
    },
    /// Spike times in ms per neuron.
    Array {
        times_ms: Vec<Vec<f64>>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PopSpecKind {
    Neurons {
        model: NeuronModel,
        /// Drawn per neuron (seeded) instead of the model's `v_init`.
        v_init_dist: Option<Dist>,
    },
    Source(SourceSpec),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PopSpec {
    pub name: String,
    /// Size at scale 1.
    pub size: u64,
    pub kind: PopSpecKind,
}

impl PopSpec {
    fn has_per_neuron_values(&self) -> bool {
        match &self.kind {
            PopSpecKind::Neurons { model: NeuronModel::Lif(l), .. } => {
                l.params().iter().any(|(_, p)| p.per_neuron_len().is_some())
            }
            PopSpecKind::Neurons { model: NeuronModel::Threshold(t), .. } => {
                t.theta.per_neuron_len().is_some() || t.bias.per_neuron_len().is_some()
            }
            PopSpecKind::Neurons { model: NeuronModel::Izhikevich(z), .. } => {
                z.params().iter().any(|(_, p)| p.per_neuron_len().is_some())
            }
            PopSpecKind::Source(SourceSpec::Poisson { rate_hz: p, .. } | SourceSpec::Bernoulli { p }) => {
                p.per_neuron_len().is_some()
            }
            PopSpecKind::Source(SourceSpec::Array { .. }) => true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjSpec {
    pub name: String,
    pub pre: usize,
    pub post: usize,
    pub receptor: Receptor,
    pub connector: Connector,
    /// Required unless the connector carries its own weights.
    pub weight: Option<Dist>,
    /// Delay in ms (converted to whole steps with `round(delay / dt)`).
    pub delay: Dist,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeSpec {
    pub population: usize,
    pub variable: Variable,
    /// `None`: every neuron.
    pub neurons: Option<Vec<u32>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkSpec {
    pub name: String,
    /// Timestep in ms.
    pub dt: f64,
    pub seed: u64,
    /// Multiplies population sizes and `fixed_total_number` counts (in-degrees kept).
    pub scale: f64,
    pub populations: Vec<PopSpec>,
    pub projections: Vec<ProjSpec>,
    pub probes: Vec<ProbeSpec>,
    /// Where the netlist pins populations on a hybrid chip (population → `cores`, or a
    /// part's family or model name): a mapping hint, not part of what the network
    /// computes. `--assign` overrides it.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub assign: std::collections::BTreeMap<String, String>,
}

impl NetworkSpec {
    /// Population size after scaling (at least 1).
    pub fn scaled_size(&self, pop: usize) -> u64 {
        scaled(self.populations[pop].size, self.scale)
    }

    /// Expected number of synapses per projection, before anything is allocated.
    pub fn expected_synapses(&self) -> Vec<f64> {
        self.projections
            .iter()
            .map(|p| {
                p.connector.expected_synapses(
                    self.scaled_size(p.pre),
                    self.scaled_size(p.post),
                    p.pre == p.post,
                    self.scale,
                )
            })
            .collect()
    }

    /// Bytes that building the network will take (synapses, per-neuron parameters and
    /// source spike lists), from the connectors' expected counts; nothing is allocated.
    pub fn estimate_bytes(&self) -> f64 {
        // 10 bytes per synapse, 8 per row start; transposing connectors need a copy.
        let syn: f64 = self
            .projections
            .iter()
            .zip(self.expected_synapses())
            .map(|(p, n)| {
                let rows = self.scaled_size(p.pre) as f64 * 8.0;
                let per = if matches!(
                    p.connector,
                    Connector::FixedNumberPre { .. }
                        | Connector::List { .. }
                        | Connector::Conv2d { .. }
                        | Connector::Pool2d { .. }
                ) {
                    24.0
                } else {
                    10.0
                };
                n * per + rows
            })
            .sum();
        let neurons: f64 = (0..self.populations.len()).map(|i| self.scaled_size(i) as f64 * 16.0 * 8.0).sum();
        syn + neurons
    }

    /// Like [`NetworkSpec::build`], but first refuses a network whose estimated size
    /// ([`NetworkSpec::estimate_bytes`]) exceeds `max_bytes`.
    pub fn build_within(&self, max_bytes: f64) -> Result<Network, IrError> {
        let need = self.estimate_bytes();
        if need > max_bytes {
            let biggest = self
                .projections
                .iter()
                .zip(self.expected_synapses())
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(p, n)| format!("; the largest projection, `{}`, has about {n:.3e} synapses", p.name))
                .unwrap_or_default();
            return Err(IrError::TooLarge(format!(
                "the network needs about {:.2} GiB to build{biggest}; the limit is {:.2} GiB",
                need / GIB,
                max_bytes / GIB
            )));
        }
        self.build()
    }

    /// Expands every connector and source and checks the result.
    pub fn build(&self) -> Result<Network, IrError> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(IrError::Invalid(format!("scale must be positive, got {}", self.scale)));
        }
        if self.scale != 1.0 {
            if let Some(p) = self.populations.iter().find(|p| p.has_per_neuron_values()) {
                return Err(IrError::Population {
                    pop: p.name.clone(),
                    msg: "has per-neuron values, so the network cannot be scaled".into(),
                });
            }
            if let Some(p) = self.projections.iter().find(|p| p.connector.fixes_sizes()) {
                return Err(IrError::Projection {
                    proj: p.name.clone(),
                    msg: format!(
                        "uses a `{}` connector, which fixes sizes, so the network cannot be scaled",
                        p.connector.kind()
                    ),
                });
            }
        }
        let mut sizes = Vec::with_capacity(self.populations.len());
        for (i, p) in self.populations.iter().enumerate() {
            let n = self.scaled_size(i);
            let n = u32::try_from(n).map_err(|_| IrError::Population {
                pop: p.name.clone(),
                msg: format!("has {n} neurons; at most {} fit a population", u32::MAX),
            })?;
            sizes.push(n);
        }
        let populations: Vec<Population> =
            self.populations.iter().zip(&sizes).map(|(p, &n)| self.build_population(p, n)).collect::<Result<_, _>>()?;
        let projections: Vec<Projection> = self
            .projections
            .par_iter()
            .map(|p| {
                let cx = connect::Context {
                    seed: self.seed,
                    name: &p.name,
                    n_pre: sizes[p.pre],
                    n_post: sizes[p.post],
                    same_pop: p.pre == p.post,
                    dt: self.dt,
                    scale: self.scale,
                };
                let synapses = connect::expand(&p.connector, p.weight.as_ref(), &p.delay, cx)?;
                Ok(Projection {
                    name: p.name.clone(),
                    pre: PopId(p.pre as u32),
                    post: PopId(p.post as u32),
                    receptor: p.receptor,
                    synapses,
                })
            })
            .collect::<Result<_, IrError>>()?;
        let probes = self
            .probes
            .iter()
            .map(|pb| Probe {
                population: PopId(pb.population as u32),
                variable: pb.variable,
                neurons: pb.neurons.clone().unwrap_or_else(|| (0..sizes[pb.population]).collect()),
            })
            .collect();
        Network::new(self.name.clone(), self.dt, self.seed, populations, projections, probes)
    }

    /// Checks every population as [`NetworkSpec::build`] will (sizes, parameter
    /// ranges, per-neuron lengths) without expanding a connector: what `check` and the
    /// importers can say before a run.
    pub fn check_populations(&self) -> Result<(), IrError> {
        for (i, p) in self.populations.iter().enumerate() {
            let n = u32::try_from(self.scaled_size(i)).map_err(|_| IrError::Population {
                pop: p.name.clone(),
                msg: format!("has {} neurons; at most {} fit a population", self.scaled_size(i), u32::MAX),
            })?;
            crate::validate_population(&self.build_population(p, n)?)?;
        }
        Ok(())
    }

    fn build_population(&self, p: &PopSpec, n: u32) -> Result<Population, IrError> {
        let kind = match &p.kind {
            PopSpecKind::Neurons { model, v_init_dist } => {
                let mut model = model.clone();
                if let (NeuronModel::Lif(l), Some(d)) = (&mut model, v_init_dist) {
                    let mut r: ChaCha8Rng = rng::stream(self.seed, "v_init", &p.name, 0);
                    l.v_init = Param::PerNeuron((0..n).map(|_| d.sample(&mut r)).collect());
                }
                PopKind::Neurons(model)
            }
            PopSpecKind::Source(s) => PopKind::Source(self.build_source(s)?),
        };
        Ok(Population { name: p.name.clone(), size: n, kind })
    }

    fn build_source(&self, s: &SourceSpec) -> Result<SourceKind, IrError> {
        let step = |ms: f64| -> u32 { (ms / self.dt).round().clamp(0.0, f64::from(u32::MAX)) as u32 };
        Ok(match s {
            SourceSpec::Poisson { rate_hz, start_ms, stop_ms } => SourceKind::Poisson {
                rate_hz: rate_hz.clone(),
                start_step: step(*start_ms),
                stop_step: stop_ms.map(step),
            },
            SourceSpec::Bernoulli { p } => SourceKind::Bernoulli { p: p.clone() },
            SourceSpec::Array { times_ms } => SourceKind::Array {
                steps: times_ms
                    .iter()
                    .map(|ts| {
                        let mut v: Vec<u32> = ts.iter().map(|&t| step(t)).collect();
                        v.sort_unstable();
                        v
                    })
                    .collect(),
            },
        })
    }
}

const GIB: f64 = (1u64 << 30) as f64;

fn scaled(size: u64, scale: f64) -> u64 {
    if scale == 1.0 { size } else { ((size as f64 * scale).round() as u64).max(1) }
}
