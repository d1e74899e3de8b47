//! The f64 reference simulator: the oracle every other simulator is compared with.
//!
//! # Discretisation (the one definition; `docs/semantics.md` says the same in prose)
//!
//! Clock-driven with step `dt`. In step `t` (time `t·dt`), populations are updated in
//! [`Network::update_order`]; each population:
//!
//! 1. takes the input that arrives in step `t` (spikes sent in step `t − d` over a
//!    synapse of delay `d` steps; with `d = 0`, spikes of step `t` itself from a
//!    population earlier in the update order), summed per receptor;
//! 2. LIF kernel: for an exponential receptor the current jumps, `I_r += input_r`; for a
//!    delta receptor (`tau_syn_r = 0`) the input is a voltage jump `ΔV += input_r`. If the
//!    neuron is refractory, its counter counts down and `V` is held (inputs to `V` are
//!    lost). Otherwise `V ← a·V + k·(I_e + I_i + i_offset) + c + ΔV`, the exact solution
//!    over one step with the current held constant: `a = exp(−dt/τm)`,
//!    `k = (τm/cm)(1 − a)`, `c = (1 − a)·v_rest`; with no leak (`τm = ∞`) `a = 1`,
//!    `k = dt/cm`, `c = 0`. Then `I_r ← I_r·exp(−dt/τ_r)`. If `V ≥ v_thresh` the neuron
//!    spikes, `V` resets (to `v_reset`, or down by `v_thresh − v_reset`), and it is
//!    refractory for `round(t_ref/dt)` steps;
//!    threshold neuron: `x = Σ input` (`2·Σ input − Σ w` for bipolar encoding); it
//!    spikes iff `x + bias ≥ theta`;
//!    source: draws its spikes for step `t` (a Poisson source may emit a count);
//! 3. sends each spike (× its count) along every outgoing synapse into the target's
//!    input for step `t + d`.

use neuromap_ir::{
    Encoding, Lif, Network, NeuronModel, PopId, PopKind, Receptor, Reset, Threshold, Variable,
};

use crate::sources::SourceState;

/// Spikes of one population: parallel arrays (a source spike with count k appears k times).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpikeRecord {
    pub steps: Vec<u32>,
    pub neurons: Vec<u32>,
}

impl SpikeRecord {
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Spike count per neuron.
    pub fn counts(&self, n: usize) -> Vec<u32> {
        let mut c = vec![0u32; n];
        for &i in &self.neurons {
            c[i as usize] += 1;
        }
        c
    }
}

/// Values of one probe: `values[step * neurons + k]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProbeTrace {
    pub neurons: usize,
    pub values: Vec<f64>,
}

/// What a run records besides counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Record the spike trains of sources too. They can be regenerated from the seed,
    /// and a Poisson background can hold far more spikes than the network's neurons,
    /// so by default only their counts are kept.
    pub record_sources: bool,
}

/// What a run produced and counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunResult {
    pub steps: u32,
    /// Spikes per population, in network order (every population, recorded or not).
    pub spike_counts: Vec<u64>,
    /// Whether each population's spike train was recorded in `spikes`.
    pub recorded: Vec<bool>,
    /// Spike trains per population, in network order; empty where not recorded.
    pub spikes: Vec<SpikeRecord>,
    /// Per probe, in network order.
    pub probes: Vec<ProbeTrace>,
    /// Per projection: synapses traversed by spikes (a spike with count k counts k times).
    pub synaptic_events: Vec<u64>,
    /// Neuron state updates (one per non-source neuron per step).
    pub neuron_updates: u64,
}

impl RunResult {
    pub fn total_synaptic_events(&self) -> u64 {
        self.synaptic_events.iter().sum()
    }

    pub fn total_spikes(&self) -> u64 {
        self.spike_counts.iter().sum()
    }
}

/// Input ring buffer of one receptor of one population: `slots` (a power of two, more
/// than the largest delay) rows of `n` accumulators.
#[derive(Debug)]
struct Ring {
    n: usize,
    mask: usize,
    data: Vec<f64>,
}

impl Ring {
    fn new(n: usize, max_delay: u16) -> Self {
        let slots = (usize::from(max_delay) + 1).next_power_of_two();
        Self {
            n,
            mask: slots - 1,
            data: vec![0.0; slots * n],
        }
    }

    #[inline]
    fn slot(&mut self, t: usize) -> &mut [f64] {
        let s = (t & self.mask) * self.n;
        &mut self.data[s..s + self.n]
    }
}

#[derive(Debug)]
struct LifState {
    v: Vec<f64>,
    i_e: Vec<f64>,
    i_i: Vec<f64>,
    refractory: Vec<u32>,
    a: Vec<f64>,
    k: Vec<f64>,
    c: Vec<f64>,
    decay_e: Vec<f64>,
    decay_i: Vec<f64>,
    delta_e: Vec<bool>,
    delta_i: Vec<bool>,
    i_offset: Vec<f64>,
    v_thresh: Vec<f64>,
    v_reset: Vec<f64>,
    t_ref: Vec<u32>,
    reset: Reset,
}

impl LifState {
    fn new(l: &Lif, n: usize, dt: f64) -> Self {
        let per = |f: &dyn Fn(usize) -> f64| (0..n).map(f).collect::<Vec<f64>>();
        let a = per(&|i| {
            let tau = l.tau_m.get(i);
            if tau.is_infinite() {
                1.0
            } else {
                (-dt / tau).exp()
            }
        });
        let k = per(&|i| {
            let (tau, cm) = (l.tau_m.get(i), l.cm.get(i));
            if tau.is_infinite() {
                dt / cm
            } else {
                tau / cm * (1.0 - a[i])
            }
        });
        let c = per(&|i| {
            if l.tau_m.get(i).is_infinite() {
                0.0
            } else {
                (1.0 - a[i]) * l.v_rest.get(i)
            }
        });
        let decay = |p: &neuromap_ir::Param| {
            per(&|i| {
                if p.get(i) > 0.0 {
                    (-dt / p.get(i)).exp()
                } else {
                    0.0
                }
            })
        };
        Self {
            v: per(&|i| l.v_init.get(i)),
            i_e: vec![0.0; n],
            i_i: vec![0.0; n],
            refractory: vec![0; n],
            decay_e: decay(&l.tau_syn_e),
            decay_i: decay(&l.tau_syn_i),
            delta_e: (0..n).map(|i| l.tau_syn_e.get(i) == 0.0).collect(),
            delta_i: (0..n).map(|i| l.tau_syn_i.get(i) == 0.0).collect(),
            i_offset: per(&|i| l.i_offset.get(i)),
            v_thresh: per(&|i| l.v_thresh.get(i)),
            v_reset: per(&|i| l.v_reset.get(i)),
            t_ref: (0..n)
                .map(|i| (l.t_ref.get(i) / dt).round() as u32)
                .collect(),
            a,
            k,
            c,
            reset: l.reset,
        }
    }

    fn update(&mut self, in_e: &mut [f64], in_i: &mut [f64], spikes: &mut Vec<(u32, u32)>) {
        for j in 0..self.v.len() {
            let (ie, ii) = (in_e[j], in_i[j]);
            in_e[j] = 0.0;
            in_i[j] = 0.0;
            let mut dv = 0.0;
            if self.delta_e[j] {
                dv += ie
            } else {
                self.i_e[j] += ie
            }
            if self.delta_i[j] {
                dv += ii
            } else {
                self.i_i[j] += ii
            }
            let refractory = self.refractory[j] > 0;
            if refractory {
                self.refractory[j] -= 1;
            } else {
                let i_total = self.i_e[j] + self.i_i[j] + self.i_offset[j];
                self.v[j] = self.a[j] * self.v[j] + self.k[j] * i_total + self.c[j] + dv;
            }
            self.i_e[j] *= self.decay_e[j];
            self.i_i[j] *= self.decay_i[j];
            if !refractory && self.v[j] >= self.v_thresh[j] {
                spikes.push((j as u32, 1));
                self.v[j] = match self.reset {
                    Reset::ToValue => self.v_reset[j],
                    Reset::Subtract => self.v[j] - (self.v_thresh[j] - self.v_reset[j]),
                };
                self.refractory[j] = self.t_ref[j];
            }
        }
    }
}

#[derive(Debug)]
struct ThresholdState {
    theta: Vec<f64>,
    bias: Vec<f64>,
    /// Σ of incoming weights per neuron (for bipolar encoding), else empty.
    w_sum: Vec<f64>,
}

impl ThresholdState {
    fn new(net: &Network, pop: PopId, t: &Threshold) -> Self {
        let n = net.pop(pop).size as usize;
        let mut w_sum = Vec::new();
        if t.encoding == Encoding::Bipolar {
            w_sum = vec![0.0; n];
            for &q in net.incoming(pop) {
                let s = &net.proj(q).synapses;
                for (&j, &w) in s.posts().iter().zip(s.weights()) {
                    w_sum[j as usize] += f64::from(w);
                }
            }
        }
        Self {
            theta: (0..n).map(|i| t.theta.get(i)).collect(),
            bias: (0..n).map(|i| t.bias.get(i)).collect(),
            w_sum,
        }
    }

    fn update(&mut self, in_e: &mut [f64], in_i: &mut [f64], spikes: &mut Vec<(u32, u32)>) {
        for j in 0..self.theta.len() {
            let mut x = in_e[j] + in_i[j];
            in_e[j] = 0.0;
            in_i[j] = 0.0;
            if !self.w_sum.is_empty() {
                x = 2.0 * x - self.w_sum[j];
            }
            if x + self.bias[j] >= self.theta[j] {
                spikes.push((j as u32, 1));
            }
        }
    }
}

#[derive(Debug)]
enum PopState {
    Lif(LifState),
    Threshold(ThresholdState),
    Source(SourceState),
}

/// A reference simulation in progress.
#[derive(Debug)]
pub struct Reference<'n> {
    net: &'n Network,
    t: u32,
    states: Vec<PopState>,
    rings: Vec<[Ring; 2]>,
    scratch: Vec<(u32, u32)>,
    result: RunResult,
}

impl<'n> Reference<'n> {
    pub fn new(net: &'n Network, options: Options) -> Self {
        let states = net
            .pop_ids()
            .map(|id| {
                let p = net.pop(id);
                match &p.kind {
                    PopKind::Neurons(NeuronModel::Lif(l)) => {
                        PopState::Lif(LifState::new(l, p.size as usize, net.dt))
                    }
                    PopKind::Neurons(NeuronModel::Threshold(t)) => {
                        PopState::Threshold(ThresholdState::new(net, id, t))
                    }
                    PopKind::Source(s) => {
                        PopState::Source(SourceState::new(p, s, net.seed, net.dt))
                    }
                }
            })
            .collect();
        let rings = net
            .pop_ids()
            .map(|id| {
                let (n, d) = if net.pop(id).is_source() {
                    (0, 0)
                } else {
                    (net.pop(id).size as usize, net.max_delay_into(id))
                };
                [Ring::new(n, d), Ring::new(n, d)]
            })
            .collect();
        let result = RunResult {
            steps: 0,
            spike_counts: vec![0; net.populations().len()],
            recorded: net
                .populations()
                .iter()
                .map(|p| options.record_sources || !p.is_source())
                .collect(),
            spikes: vec![SpikeRecord::default(); net.populations().len()],
            probes: net
                .probes()
                .iter()
                .map(|p| ProbeTrace {
                    neurons: p.neurons.len(),
                    values: Vec::new(),
                })
                .collect(),
            synaptic_events: vec![0; net.projections().len()],
            neuron_updates: 0,
        };
        Self {
            net,
            t: 0,
            states,
            rings,
            scratch: Vec::new(),
            result,
        }
    }

    /// The next step to simulate.
    pub fn time_step(&self) -> u32 {
        self.t
    }

    /// Simulates one timestep.
    pub fn step(&mut self) {
        let net = self.net;
        let t = self.t as usize;
        for &pop in net.update_order() {
            let p = pop.index();
            let spikes = &mut self.scratch;
            spikes.clear();
            let [re, ri] = &mut self.rings[p];
            match &mut self.states[p] {
                PopState::Lif(s) => {
                    s.update(re.slot(t), ri.slot(t), spikes);
                    self.result.neuron_updates += s.v.len() as u64;
                }
                PopState::Threshold(s) => {
                    s.update(re.slot(t), ri.slot(t), spikes);
                    self.result.neuron_updates += s.theta.len() as u64;
                }
                PopState::Source(s) => s.step(self.t, spikes),
            }
            self.result.spike_counts[p] += spikes.iter().map(|&(_, k)| u64::from(k)).sum::<u64>();
            if self.result.recorded[p] {
                let rec = &mut self.result.spikes[p];
                for &(j, k) in spikes.iter() {
                    for _ in 0..k {
                        rec.steps.push(self.t);
                        rec.neurons.push(j);
                    }
                }
            }
            for &q in net.outgoing(pop) {
                let proj = net.proj(q);
                let ring = &mut self.rings[proj.post.index()][match proj.receptor {
                    Receptor::Excitatory => 0,
                    Receptor::Inhibitory => 1,
                }];
                let mut events = 0u64;
                for &(j, k) in spikes.iter() {
                    let row = proj.synapses.row(j as usize);
                    let kf = f64::from(k);
                    for ((&post, &w), &d) in row.post.iter().zip(row.weight).zip(row.delay) {
                        let at = ((t + usize::from(d)) & ring.mask) * ring.n + post as usize;
                        ring.data[at] += f64::from(w) * kf;
                    }
                    events += row.post.len() as u64 * u64::from(k);
                }
                self.result.synaptic_events[q.index()] += events;
            }
        }
        for (k, probe) in net.probes().iter().enumerate() {
            let trace = &mut self.result.probes[k];
            if let PopState::Lif(s) = &self.states[probe.population.index()] {
                let var = match probe.variable {
                    Variable::V => &s.v,
                    Variable::ISynE => &s.i_e,
                    Variable::ISynI => &s.i_i,
                };
                trace
                    .values
                    .extend(probe.neurons.iter().map(|&j| var[j as usize]));
            } else {
                trace
                    .values
                    .extend(std::iter::repeat_n(f64::NAN, probe.neurons.len()));
            }
        }
        self.t += 1;
        self.result.steps = self.t;
    }

    pub fn finish(self) -> RunResult {
        self.result
    }
}

/// Bytes the reference simulator allocates for `net` (state and input ring buffers),
/// so that a caller can refuse a run before it starts.
pub fn memory_estimate(net: &Network) -> f64 {
    net.pop_ids()
        .map(|id| {
            let p = net.pop(id);
            let n = f64::from(p.size);
            if p.is_source() {
                // A stream per neuron (ChaCha8 with its buffer) and the spike cursor.
                n * 400.0
            } else {
                let slots = (usize::from(net.max_delay_into(id)) + 1).next_power_of_two() as f64;
                n * (2.0 * slots * 8.0 + 20.0 * 8.0)
            }
        })
        .sum()
}

/// Runs `steps` timesteps from the initial state.
pub fn simulate(net: &Network, steps: u32, options: Options) -> RunResult {
    let mut sim = Reference::new(net, options);
    for _ in 0..steps {
        sim.step();
    }
    sim.finish()
}
