//! Neuron models, spike sources and per-neuron parameters.

use serde::Serialize;

/// A parameter shared by a population or given per neuron.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Param {
    Shared(f64),
    PerNeuron(Vec<f64>),
}

impl Param {
    #[inline]
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Param::Shared(x) => *x,
            Param::PerNeuron(v) => v[i],
        }
    }

    /// Number of values when given per neuron.
    pub fn per_neuron_len(&self) -> Option<usize> {
        match self {
            Param::Shared(_) => None,
            Param::PerNeuron(v) => Some(v.len()),
        }
    }

    pub fn values(&self) -> &[f64] {
        match self {
            Param::Shared(x) => std::slice::from_ref(x),
            Param::PerNeuron(v) => v,
        }
    }

    pub fn min(&self) -> f64 {
        self.values().iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn max(&self) -> f64 {
        self.values().iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

impl From<f64> for Param {
    fn from(x: f64) -> Self {
        Param::Shared(x)
    }
}

/// What happens to the membrane after a spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reset {
    /// `v ← v_reset`.
    ToValue,
    /// `v ← v − (v_thresh − v_reset)`.
    Subtract,
}

/// Which front-end model a LIF kernel came from (for reports; the maths is shared).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LifFlavour {
    Lif,
    If,
    CubaLif,
    Li,
    /// PyNN's `IF_cond_exp`: conductance-based synapses (see [`Conductance`]).
    CondLif,
    /// A LIF neuron with a spike-triggered adaptation current (see [`Adaptation`]).
    AdaptiveLif,
}

/// The leaky integrate-and-fire kernel behind `lif`, `if`, `cuba_lif` and `li`.
///
/// Units: ms, mV, nF, nA (so nA/nF = mV/ms). Dynamics
/// `dV/dt = (v_rest − V)/tau_m + (I_e + I_i + i_offset)/cm`, with exponential synaptic
/// currents `dI_r/dt = −I_r/tau_syn_r`. `tau_m = ∞` means no leak (IF);
/// `v_thresh = ∞` means no spikes (LI); `tau_syn_r = 0` means a delta synapse whose weight
/// is a voltage jump in mV. The discretisation is in `neuromap_sim::reference` and
/// `docs/semantics.md`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lif {
    pub flavour: LifFlavour,
    pub tau_m: Param,
    pub cm: Param,
    pub v_rest: Param,
    pub v_reset: Param,
    pub v_thresh: Param,
    pub t_ref: Param,
    pub tau_syn_e: Param,
    pub tau_syn_i: Param,
    pub i_offset: Param,
    pub reset: Reset,
    pub v_init: Param,
    /// Conductance-based synapses: the receptors' states are conductances (µS) and the
    /// synaptic current is `g_e·(e_rev_e − V) + g_i·(e_rev_i − V)`; `None`: currents.
    pub conductance: Option<Conductance>,
    /// A spike-triggered adaptation current subtracted from the input; `None`: none.
    pub adaptation: Option<Adaptation>,
    /// A linear leak (mV/ms, not negative): after its inputs, each step `V` moves by
    /// `leak·dt` toward zero, `V ← V − leak·dt·sgn(V)` (sgn 0 = 0), as TrueNorth's leak
    /// with leak reversal does (Cassidy et al., IJCNN 2013); `None`: none. It may
    /// overshoot zero by less than one step's leak. The `if` model's `leak`.
    pub linear_leak: Option<Param>,
}

/// The reversal potentials (mV) of conductance-based synapses (PyNN's `IF_cond_exp`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conductance {
    pub e_rev_e: Param,
    pub e_rev_i: Param,
}

/// A spike-triggered adaptation current `w` (nA): `dw/dt = −w/tau_w`, and `w ← w + b`
/// at each spike; the neuron's input current is reduced by `w`. This is the adaptive
/// exponential model's adaptation with `a = 0` (Brette and Gerstner 2005), and
/// sPyNNaker's `IF_curr_exp_ca2_adaptive` (`tau_ca2`, `i_alpha`, `i_ca2`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Adaptation {
    pub tau_w: Param,
    pub b: Param,
    pub w_init: Param,
}

impl Lif {
    /// A LIF neuron in units where the threshold is 1: rest, reset and initial
    /// potential 0, capacitance 1 nF, no bias, reset to a value; the time constants
    /// and refractory period (ms) as given (`tau_syn` 0: delta synapses). Random
    /// networks in tests and fuzzing are built from it.
    pub fn unit(tau_m: f64, t_ref: f64, tau_syn: f64) -> Self {
        let p = Param::Shared;
        Lif {
            flavour: LifFlavour::Lif,
            tau_m: p(tau_m),
            cm: p(1.0),
            v_rest: p(0.0),
            v_reset: p(0.0),
            v_thresh: p(1.0),
            t_ref: p(t_ref),
            tau_syn_e: p(tau_syn),
            tau_syn_i: p(tau_syn),
            i_offset: p(0.0),
            reset: Reset::ToValue,
            v_init: p(0.0),
            conductance: None,
            adaptation: None,
            linear_leak: None,
        }
    }

    /// Every numeric parameter with its name, for validation and reports.
    pub fn params(&self) -> Vec<(&'static str, &Param)> {
        let mut v = vec![
            ("tau_m", &self.tau_m),
            ("cm", &self.cm),
            ("v_rest", &self.v_rest),
            ("v_reset", &self.v_reset),
            ("v_thresh", &self.v_thresh),
            ("t_ref", &self.t_ref),
            ("tau_syn_e", &self.tau_syn_e),
            ("tau_syn_i", &self.tau_syn_i),
            ("i_offset", &self.i_offset),
            ("v_init", &self.v_init),
        ];
        if let Some(c) = &self.conductance {
            v.extend([("e_rev_e", &c.e_rev_e), ("e_rev_i", &c.e_rev_i)]);
        }
        if let Some(a) = &self.adaptation {
            v.extend([("tau_w", &a.tau_w), ("b", &a.b), ("w_init", &a.w_init)]);
        }
        if let Some(l) = &self.linear_leak {
            v.push(("leak", l));
        }
        v
    }
}

/// Izhikevich's neuron (IEEE TNN 14(6):1569, 2003), as PyNN's `Izhikevich`:
/// `dv/dt = 0.04·v² + 5·v + 140 − u + I`, `du/dt = a·(b·v − u)` (v in mV, t in ms, I in
/// mV/ms); at `v ≥ 30` mV a spike, then `v ← c`, `u ← u + d`. Synaptic input is a
/// current: for one step (`tau_syn` 0, delta) or decaying with `tau_syn` (ms).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Izhikevich {
    pub a: Param,
    pub b: Param,
    pub c: Param,
    pub d: Param,
    pub tau_syn_e: Param,
    pub tau_syn_i: Param,
    pub i_offset: Param,
    pub v_init: Param,
    pub u_init: Param,
}

impl Izhikevich {
    /// Every numeric parameter with its name, for validation and reports.
    pub fn params(&self) -> [(&'static str, &Param); 9] {
        [
            ("a", &self.a),
            ("b", &self.b),
            ("c", &self.c),
            ("d", &self.d),
            ("tau_syn_e", &self.tau_syn_e),
            ("tau_syn_i", &self.tau_syn_i),
            ("i_offset", &self.i_offset),
            ("v_init", &self.v_init),
            ("u_init", &self.u_init),
        ]
    }
}

/// How a binary threshold neuron reads its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// A spike is 1, no spike is 0.
    Binary,
    /// A spike is +1, no spike is −1 (XNOR-popcount BNNs).
    Bipolar,
}

/// Binary threshold neuron: fires in a step iff `Σ wᵢ·xᵢ + bias ≥ theta` over that step's
/// inputs. Stateless.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Threshold {
    pub theta: Param,
    pub bias: Param,
    pub encoding: Encoding,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum NeuronModel {
    Lif(Lif),
    Threshold(Threshold),
    Izhikevich(Izhikevich),
}

impl NeuronModel {
    pub fn name(&self) -> &'static str {
        match self {
            NeuronModel::Lif(l) => match l.flavour {
                LifFlavour::Lif => "lif",
                LifFlavour::If => "if",
                LifFlavour::CubaLif => "cuba_lif",
                LifFlavour::Li => "li",
                LifFlavour::CondLif => "cond_lif",
                LifFlavour::AdaptiveLif => "adaptive_lif",
            },
            NeuronModel::Threshold(_) => "threshold",
            NeuronModel::Izhikevich(_) => "izhikevich",
        }
    }
}

/// A population of spike sources. Spikes are drawn per neuron from its own seeded stream
/// (see [`crate::rng`]), so every simulator sees the same source spikes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum SourceKind {
    /// Poisson process at `rate_hz`; a step can hold several spikes (a count), as for
    /// the background drive of the cortical microcircuit.
    Poisson { rate_hz: Param, start_step: u32, stop_step: Option<u32> },
    /// One spike per step with probability `p` (random binary patterns).
    Bernoulli { p: Param },
    /// Explicit spike steps per neuron, sorted ascending.
    Array { steps: Vec<Vec<u32>> },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PopKind {
    Neurons(NeuronModel),
    Source(SourceKind),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Population {
    pub name: String,
    pub size: u32,
    pub kind: PopKind,
}

impl Population {
    pub fn is_source(&self) -> bool {
        matches!(self.kind, PopKind::Source(_))
    }

    pub fn model_name(&self) -> &'static str {
        match &self.kind {
            PopKind::Neurons(m) => m.name(),
            PopKind::Source(SourceKind::Poisson { .. }) => "poisson",
            PopKind::Source(SourceKind::Bernoulli { .. }) => "bernoulli",
            PopKind::Source(SourceKind::Array { .. }) => "spike_array",
        }
    }
}

/// Which synaptic input a projection drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Receptor {
    Excitatory,
    Inhibitory,
}

/// A state variable that can be recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variable {
    V,
    ISynE,
    ISynI,
}

impl Variable {
    pub fn name(self) -> &'static str {
        match self {
            Variable::V => "v",
            Variable::ISynE => "i_syn_e",
            Variable::ISynI => "i_syn_i",
        }
    }
}
