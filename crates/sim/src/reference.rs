//! The simulation engine, and the f64 reference simulator built from it: the oracle
//! every other simulator is compared with.
//!
//! [`Engine`] is generic over a number format ([`Arith`]): with [`F64`] it is the
//! reference ([`Reference`], [`simulate`]); with [`S1615`] it is the quantised
//! functional model in SpiNNaker's formats ([`Quantised`], [`simulate_quantised`]).
//! Both share every rule below; only the arithmetic differs.
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
//!    `k = dt/cm`, `c = 0` (on a potential grid, [`Engine::with_potential_grid`], `a·V`
//!    is first truncated toward zero to the grid). A linear leak (`Lif::linear_leak`)
//!    then moves `V` by `leak·dt` toward zero, and a saturating range
//!    ([`Engine::with_potential_range`]) clamps it. Then `I_r ← I_r·exp(−dt/τ_r)`. If
//!    `V ≥ v_thresh` the neuron spikes, `V` resets (to `v_reset`, or down by
//!    `v_thresh − v_reset`), and it is refractory for `round(t_ref/dt)` steps;
//!    threshold neuron: `x = Σ input` (`2·Σ input − Σ w` for bipolar encoding); it
//!    spikes iff `x + bias ≥ theta`;
//!    source: draws its spikes for step `t` (a Poisson source may emit a count);
//! 3. sends each spike (× its count) along every outgoing synapse into the target's
//!    input for step `t + d`.

use neuromap_ir::{Encoding, Lif, Network, NeuronModel, PopId, PopKind, Receptor, Reset, Threshold, Variable};

use crate::arith::{Arith, F64, Round, S1615};

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
    /// How the quantised formats round their products (the chip model's
    /// `arith.rounding`; the f64 reference ignores it).
    pub rounding: crate::arith::Rounding,
    /// The quantised model's number format (the chip model's `arith.format`;
    /// [`simulate_quantised`] runs in it, the f64 reference ignores it).
    pub format: crate::arith::Format,
    /// Hold the Izhikevich kernel's constants in [0, 2) (0.04, a, b) in the decay
    /// factors' wider format (the chip model's `arith.constants` = `wide`).
    pub wide_constants: bool,
}

impl Options {
    /// The arithmetic of an ARM-core chip model (its `arith.format`, `arith.rounding`
    /// and `arith.constants`), sources not recorded: what the chip and the quantised
    /// model it is checked against both compute in.
    pub fn for_chip(hw: &neuromap_hw::arm_core::ArmCore) -> Options {
        Options {
            rounding: crate::arith::Rounding::of(hw),
            format: crate::arith::Format::of(hw),
            wide_constants: hw.constants == 1,
            ..Options::default()
        }
    }

    /// Sources recorded too, products truncated, s16.15.
    pub const RECORD_ALL: Options = Options {
        record_sources: true,
        rounding: crate::arith::Rounding::Truncate,
        format: crate::arith::Format::S1615,
        wide_constants: false,
    };
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

    /// The recorded spikes of the first `k` steps, to compare a run with one that was
    /// cut short: counts follow the records, and a population that was not recorded
    /// counts 0 (its count covers all the steps). Probes and event counts are left out.
    pub fn first_steps(&self, k: u32) -> RunResult {
        let spikes: Vec<SpikeRecord> = self
            .spikes
            .iter()
            .map(|r| {
                let n = r.steps.partition_point(|&t| t < k);
                SpikeRecord { steps: r.steps[..n].to_vec(), neurons: r.neurons[..n].to_vec() }
            })
            .collect();
        let spike_counts =
            spikes.iter().zip(&self.recorded).map(|(r, &rec)| if rec { r.len() as u64 } else { 0 }).collect();
        RunResult {
            steps: k.min(self.steps),
            spike_counts,
            recorded: self.recorded.clone(),
            spikes,
            probes: Vec::new(),
            synaptic_events: Vec::new(),
            neuron_updates: 0,
        }
    }

    /// Spikes of `net`'s neuron populations (its sources left out).
    pub fn neuron_spikes(&self, net: &Network) -> u64 {
        self.spike_counts.iter().zip(net.populations()).filter(|(_, p)| !p.is_source()).map(|(c, _)| c).sum()
    }
}

/// Input ring buffer of one receptor of one population: `slots` (a power of two, more
/// than the largest delay) rows of `n` accumulators.
#[derive(Debug)]
pub(crate) struct Ring<Acc> {
    pub(crate) n: usize,
    pub(crate) mask: usize,
    pub(crate) data: Vec<Acc>,
}

impl<Acc: Copy + Default> Ring<Acc> {
    pub(crate) fn new(n: usize, max_delay: u16) -> Self {
        let slots = (usize::from(max_delay) + 1).next_power_of_two();
        Self { n, mask: slots - 1, data: vec![Acc::default(); slots * n] }
    }

    #[inline]
    pub(crate) fn slot(&mut self, t: usize) -> &mut [Acc] {
        let s = (t & self.mask) * self.n;
        &mut self.data[s..s + self.n]
    }
}

/// The synaptic currents of a population's two receptors: a delta receptor
/// (`tau_syn` 0) adds its weights for one step; an exponential one adds them to a
/// current that decays with `tau_syn`.
#[derive(Debug)]
pub(crate) struct SynCurrents<A: Arith> {
    i_e: Vec<A::V>,
    i_i: Vec<A::V>,
    decay_e: Vec<A::Decay>,
    decay_i: Vec<A::Decay>,
    delta_e: Vec<bool>,
    delta_i: Vec<bool>,
}

impl<A: Arith> SynCurrents<A> {
    fn new(tau_e: &neuromap_ir::Param, tau_i: &neuromap_ir::Param, lo: usize, n: usize, dt: f64) -> Self {
        let decay = |p: &neuromap_ir::Param| {
            (0..n)
                .map(|i| A::decay(if p.get(lo + i) > 0.0 { (-dt / p.get(lo + i)).exp() } else { 0.0 }))
                .collect::<Vec<_>>()
        };
        Self {
            i_e: vec![A::zero(); n],
            i_i: vec![A::zero(); n],
            decay_e: decay(tau_e),
            decay_i: decay(tau_i),
            delta_e: (0..n).map(|i| tau_e.get(lo + i) == 0.0).collect(),
            delta_i: (0..n).map(|i| tau_i.get(lo + i) == 0.0).collect(),
        }
    }

    /// Takes this step's inputs of neuron `j`: an exponential receptor's into its
    /// current; the delta receptors' sum is returned.
    #[inline]
    fn take(&mut self, j: usize, ie: A::V, ii: A::V) -> A::V {
        let mut delta = A::zero();
        if self.delta_e[j] {
            delta = A::add(delta, ie)
        } else {
            self.i_e[j] = A::add(self.i_e[j], ie)
        }
        if self.delta_i[j] {
            delta = A::add(delta, ii)
        } else {
            self.i_i[j] = A::add(self.i_i[j], ii)
        }
        delta
    }

    /// `I_e + I_i` of neuron `j`.
    #[inline]
    fn sum(&self, j: usize) -> A::V {
        A::add(self.i_e[j], self.i_i[j])
    }

    /// Both currents decay by one step, each product rounded by its own `Round`.
    #[inline]
    fn decay(&mut self, j: usize, re: Round, ri: Round) {
        self.i_e[j] = A::decay_by(self.decay_e[j], self.i_e[j], re);
        self.i_i[j] = A::decay_by(self.decay_i[j], self.i_i[j], ri);
    }

    /// Whether both currents of neuron `j` are zero.
    fn quiet(&self, j: usize) -> bool {
        let z = A::zero();
        self.i_e[j] == z && self.i_i[j] == z
    }
}

#[derive(Debug)]
pub(crate) struct LifState<A: Arith> {
    v: Vec<A::V>,
    syn: SynCurrents<A>,
    refractory: Vec<u32>,
    a: Vec<A::Decay>,
    k: Vec<A::V>,
    c: Vec<A::V>,
    i_offset: Vec<A::V>,
    v_thresh: Vec<A::V>,
    v_reset: Vec<A::V>,
    /// `v_thresh − v_reset`, for reset by subtraction.
    v_drop: Vec<A::V>,
    t_ref: Vec<u32>,
    reset: Reset,
    /// Conductance-based synapses: the reversal potentials `(e_rev_e, e_rev_i)`.
    reversal: Option<Reversal<A>>,
    /// A spike-triggered adaptation current.
    adapt: Option<Adapt<A>>,
    /// A linear leak toward zero: per neuron, how far `V` moves in one step.
    linear_leak: Option<Vec<A::V>>,
    /// The range of whole numbers `V` is held in after its inputs and leak (a
    /// register's width, see [`Engine::with_potential_range`]).
    range: Option<(A::V, A::V)>,
    /// How products round, and the population's index and first neuron (they key
    /// stochastic rounding's random bits).
    rounding: crate::arith::Rounding,
    pop: u64,
    lo: usize,
    /// `2^bits` when the decayed potential is truncated toward zero to a multiple of
    /// `2^-bits` (see [`Engine::with_potential_grid`]).
    grid: Option<f64>,
    /// When recording: the neurons whose state was away from zero entering this step
    /// (see [`Engine::with_held_state`]).
    held: Option<Vec<u32>>,
    /// Scratch: whether each neuron fired in the step being updated.
    fired: Vec<bool>,
    /// Whether every neuron has the same constants (decays, gains, thresholds, reset,
    /// refractory period, bias, receptor kinds): the plain update then reads one copy.
    uniform: bool,
}

/// The excitatory and inhibitory reversal potentials of each neuron.
type Reversal<A> = (Vec<<A as Arith>::V>, Vec<<A as Arith>::V>);

/// The adaptation current `w` of each neuron, its decay per step and its increment per
/// spike.
#[derive(Debug)]
pub(crate) struct Adapt<A: Arith> {
    w: Vec<A::V>,
    decay: Vec<A::Decay>,
    b: Vec<A::V>,
}

impl<A: Arith> LifState<A> {
    /// The neurons `lo..lo + n` of a population.
    fn new(l: &Lif, pop: PopId, lo: usize, n: usize, dt: f64, rounding: crate::arith::Rounding) -> Self {
        let per = |f: &dyn Fn(usize) -> f64| (0..n).map(f).collect::<Vec<f64>>();
        let a = per(&|i| {
            let tau = l.tau_m.get(lo + i);
            if tau.is_infinite() { 1.0 } else { (-dt / tau).exp() }
        });
        let k = per(&|i| {
            let (tau, cm) = (l.tau_m.get(lo + i), l.cm.get(lo + i));
            if tau.is_infinite() { dt / cm } else { tau / cm * (1.0 - a[i]) }
        });
        let c = per(&|i| if l.tau_m.get(lo + i).is_infinite() { 0.0 } else { (1.0 - a[i]) * l.v_rest.get(lo + i) });
        let v = |xs: Vec<f64>| xs.into_iter().map(A::v).collect::<Vec<_>>();
        let d = |xs: Vec<f64>| xs.into_iter().map(A::decay).collect::<Vec<_>>();
        let v_thresh = per(&|i| l.v_thresh.get(lo + i));
        let v_reset = per(&|i| l.v_reset.get(lo + i));
        let mut s = Self {
            v: v(per(&|i| l.v_init.get(lo + i))),
            syn: SynCurrents::new(&l.tau_syn_e, &l.tau_syn_i, lo, n, dt),
            refractory: vec![0; n],
            i_offset: v(per(&|i| l.i_offset.get(lo + i))),
            v_drop: v((0..n).map(|i| v_thresh[i] - v_reset[i]).collect()),
            v_thresh: v(v_thresh),
            v_reset: v(v_reset),
            t_ref: (0..n).map(|i| (l.t_ref.get(lo + i) / dt).round() as u32).collect(),
            a: d(a),
            k: v(k),
            c: v(c),
            reset: l.reset,
            reversal: l
                .conductance
                .as_ref()
                .map(|c| (v(per(&|i| c.e_rev_e.get(lo + i))), v(per(&|i| c.e_rev_i.get(lo + i))))),
            adapt: l.adaptation.as_ref().map(|a| Adapt {
                w: v(per(&|i| a.w_init.get(lo + i))),
                decay: d(per(&|i| (-dt / a.tau_w.get(lo + i)).exp())),
                b: v(per(&|i| a.b.get(lo + i))),
            }),
            linear_leak: l.linear_leak.as_ref().map(|k| v(per(&|i| k.get(lo + i) * dt))),
            range: None,
            rounding,
            pop: pop.index() as u64,
            lo,
            grid: None,
            held: None,
            fired: vec![false; n],
            uniform: false,
        };
        s.uniform = s.constants_uniform();
        s
    }

    /// The arrays [`lif_plain`] updates and reads, with this step's inputs.
    fn arrays<'s>(&'s mut self, in_e: &'s mut [A::Acc], in_i: &'s mut [A::Acc]) -> LifArrays<'s, A> {
        let syn = &mut self.syn;
        let (w, w_decay, w_b) = match &mut self.adapt {
            Some(ad) => (&mut ad.w[..], &ad.decay[..], &ad.b[..]),
            None => (&mut [][..], &[][..], &[][..]),
        };
        LifArrays {
            w,
            w_decay,
            w_b,
            in_e,
            in_i,
            v: &mut self.v,
            refr: &mut self.refractory,
            fired: &mut self.fired,
            i_e: &mut syn.i_e,
            i_i: &mut syn.i_i,
            decay_e: &syn.decay_e,
            decay_i: &syn.decay_i,
            delta_e: &syn.delta_e,
            delta_i: &syn.delta_i,
            a: &self.a,
            k: &self.k,
            c: &self.c,
            i_offset: &self.i_offset,
            v_thresh: &self.v_thresh,
            v_reset: &self.v_reset,
            v_drop: &self.v_drop,
            t_ref: &self.t_ref,
        }
    }

    /// Whether the constants [`lif_plain`] reads are the same for every neuron.
    fn constants_uniform(&self) -> bool {
        fn same<T: PartialEq>(xs: &[T]) -> bool {
            xs.iter().all(|x| *x == xs[0])
        }
        same(&self.a)
            && same(&self.k)
            && same(&self.c)
            && same(&self.i_offset)
            && same(&self.v_thresh)
            && same(&self.v_reset)
            && same(&self.v_drop)
            && same(&self.t_ref)
            && same(&self.syn.decay_e)
            && same(&self.syn.decay_i)
            && same(&self.syn.delta_e)
            && same(&self.syn.delta_i)
    }

    fn update(&mut self, t: u32, in_e: &mut [A::Acc], in_i: &mut [A::Acc], q: [i32; 2], spikes: &mut Vec<(u32, u32)>) {
        if let Some(h) = &mut self.held {
            h.clear();
            let z = A::zero();
            h.extend((0..self.v.len() as u32).filter(|&j| {
                let j = j as usize;
                self.v[j] != z
                    || !self.syn.quiet(j)
                    || self.i_offset[j] != z
                    || self.adapt.as_ref().is_some_and(|a| a.w[j] != z)
            }));
        }
        // One loop per kind of neuron, so the plain LIF loop tests nothing per neuron.
        match (self.reversal.is_some(), self.adapt.is_some(), self.linear_leak.is_some() || self.range.is_some()) {
            (false, adapt, false) if self.grid.is_none() => {
                let n = self.v.len();
                let (rounding, pop, first) = (self.rounding, self.pop, self.lo);
                let (subtract, uniform) = (self.reset == Reset::Subtract, self.uniform);
                let arrays = self.arrays(&mut in_e[..n], &mut in_i[..n]);
                let t4 = u64::from(t) << 2;
                match (uniform, adapt) {
                    (true, false) => lif_plain_by_mode::<A, true, false>(arrays, q, subtract, rounding, pop, first, t4),
                    (false, false) => {
                        lif_plain_by_mode::<A, false, false>(arrays, q, subtract, rounding, pop, first, t4)
                    }
                    (true, true) => lif_plain_by_mode::<A, true, true>(arrays, q, subtract, rounding, pop, first, t4),
                    (false, true) => lif_plain_by_mode::<A, false, true>(arrays, q, subtract, rounding, pop, first, t4),
                }
                push_fired(&self.fired, spikes);
            }
            (false, false, false) => self.update_as::<false, false, false, true>(t, in_e, in_i, q, spikes),
            (true, false, false) => self.update_as::<true, false, false, true>(t, in_e, in_i, q, spikes),
            (false, true, false) => self.update_as::<false, true, false, true>(t, in_e, in_i, q, spikes),
            (true, true, false) => self.update_as::<true, true, false, true>(t, in_e, in_i, q, spikes),
            // A linear leak and a saturating range are TrueNorth's, which has neither
            // conductances nor adaptation: one loop serves it with or without them.
            (_, _, true) => self.update_as::<true, true, true, true>(t, in_e, in_i, q, spikes),
        }
    }

    /// The update of every neuron, with conductance synapses (`COND`, when `reversal`
    /// is set), an adaptation current (`ADAPT`, when `adapt` is set) and a linear leak
    /// and a saturating range (`LEAK`, when `linear_leak` or `range` is set), and a
    /// potential grid (`GRID`, when `grid` is set).
    ///
    /// Two passes: the first updates every neuron and marks the ones that fire, with
    /// every choice a select rather than a jump (so that the plain LIF loop is
    /// vectorised: every neuron's candidate potential is computed and a refractory
    /// neuron keeps its old one); the second lists the marked neurons in order. Each
    /// neuron's arithmetic, and its order, is the one the module docs define.
    #[inline(always)]
    fn update_as<const COND: bool, const ADAPT: bool, const LEAK: bool, const GRID: bool>(
        &mut self,
        t: u32,
        in_e: &mut [A::Acc],
        in_i: &mut [A::Acc],
        q: [i32; 2],
        spikes: &mut Vec<(u32, u32)>,
    ) {
        let n = self.v.len();
        let (rounding, pop, first) = (self.rounding, self.pop, self.lo);
        let grid = self.grid.filter(|_| GRID);
        let subtract = self.reset == Reset::Subtract;
        // How product `purpose` (0..8) of neuron `j` rounds: stochastic rounding's bits
        // are keyed by (population, neuron in it, step, purpose), so a slice of the
        // population on a chip core draws what the whole model draws. (Purposes 4..8,
        // the conductances' and the adaptation's, are keyed apart from the step's first
        // four, which keep the keys they had before those models.)
        let round = |j: usize, purpose: u64| round_for(rounding, pop, first + j, lif_slot(u64::from(t) << 2, purpose));
        let z = A::zero();
        // Every array cut to `n`, so that the loop checks no bounds.
        let (in_e, in_i) = (&mut in_e[..n], &mut in_i[..n]);
        let v = &mut self.v[..n];
        let refr = &mut self.refractory[..n];
        let fired = &mut self.fired[..n];
        let syn = &mut self.syn;
        let (i_e, i_i) = (&mut syn.i_e[..n], &mut syn.i_i[..n]);
        let (decay_e, decay_i) = (&syn.decay_e[..n], &syn.decay_i[..n]);
        let (delta_e, delta_i) = (&syn.delta_e[..n], &syn.delta_i[..n]);
        let (a, k, c, i_offset) = (&self.a[..n], &self.k[..n], &self.c[..n], &self.i_offset[..n]);
        let (v_thresh, v_reset, v_drop, t_ref) =
            (&self.v_thresh[..n], &self.v_reset[..n], &self.v_drop[..n], &self.t_ref[..n]);
        let mut adapt = self.adapt.as_mut().filter(|_| ADAPT);
        let reversal = self.reversal.as_ref().filter(|_| COND);
        let linear_leak = self.linear_leak.as_deref().filter(|_| LEAK);
        let range = self.range.filter(|_| LEAK);
        for j in 0..n {
            let (ie, ii) = (A::input(in_e[j], q[0]), A::input(in_i[j], q[1]));
            in_e[j] = A::Acc::default();
            in_i[j] = A::Acc::default();
            // A delta receptor's input jumps `V`; an exponential one's adds to its current.
            let dv = A::add(A::add(z, if delta_e[j] { ie } else { z }), if delta_i[j] { ii } else { z });
            let ge = if delta_e[j] { i_e[j] } else { A::add(i_e[j], ie) };
            let gi = if delta_i[j] { i_i[j] } else { A::add(i_i[j], ii) };
            let refractory = refr[j] > 0;
            // The adaptation current decays every step, refractory or not.
            let w = match &mut adapt {
                Some(ad) => {
                    ad.w[j] = A::decay_by(ad.decay[j], ad.w[j], round(j, 4));
                    ad.w[j]
                }
                None => z,
            };
            let old = v[j];
            // Conductances become a current at the potential entering the step, held
            // over the step (sPyNNaker's `input_type_conductance`).
            let current = match reversal {
                Some((e, i)) => {
                    A::add(A::mul(ge, A::sub(e[j], old), round(j, 5)), A::mul(gi, A::sub(i[j], old), round(j, 6)))
                }
                None => A::add(ge, gi),
            };
            let mut i_total = A::add(current, i_offset[j]);
            if ADAPT {
                i_total = A::sub(i_total, w);
            }
            let mut decayed = A::decay_by(a[j], old, round(j, 0));
            if let Some(s) = grid {
                // Toward zero; a cast instead of `trunc`, which is a libm call on
                // baseline x86-64. Beyond 2^52 every double is already whole.
                let y = A::to_f64(decayed) * s;
                decayed = A::v(if y.abs() < 4_503_599_627_370_496.0 { (y as i64) as f64 / s } else { y / s });
            }
            let mut next = A::add(A::add(A::add(decayed, A::mul(k[j], i_total, round(j, 1))), c[j]), dv);
            // The linear leak, toward zero from where the inputs left `V`.
            if let Some(l) = linear_leak {
                next = if next > z {
                    A::sub(next, l[j])
                } else if next < z {
                    A::add(next, l[j])
                } else {
                    next
                };
            }
            if let Some((lo, hi)) = range {
                // A whole number: its inputs, bias and leak are, but `leak·dt` may miss
                // the whole number by an ulp.
                let r = A::v(A::to_f64(next).round());
                next = if r < lo {
                    lo
                } else if r > hi {
                    hi
                } else {
                    r
                };
            }
            // A refractory neuron counts down and holds `V` (its inputs to `V` are lost).
            let next = if refractory { old } else { next };
            i_e[j] = A::decay_by(decay_e[j], ge, round(j, 2));
            i_i[j] = A::decay_by(decay_i[j], gi, round(j, 3));
            let fire = !refractory && next >= v_thresh[j];
            fired[j] = fire;
            let after = if subtract { A::sub(next, v_drop[j]) } else { v_reset[j] };
            v[j] = if fire { after } else { next };
            refr[j] = if fire { t_ref[j] } else { refr[j].saturating_sub(1) };
            if let Some(ad) = &mut adapt
                && fire
            {
                ad.w[j] = A::add(ad.w[j], ad.b[j]);
            }
        }
        push_fired(fired, spikes);
    }
}

/// Appends `(j, 1)` for each neuron `j` marked in `fired`, in order. Blocks with no
/// mark are skipped whole (a step's spikes are few).
fn push_fired(fired: &[bool], spikes: &mut Vec<(u32, u32)>) {
    const BLOCK: usize = 64;
    for (b, block) in fired.chunks(BLOCK).enumerate() {
        if block.iter().fold(false, |any, &f| any | f) {
            let first = b * BLOCK;
            spikes.extend(block.iter().enumerate().filter(|(_, f)| **f).map(|(j, _)| ((first + j) as u32, 1)));
        }
    }
}

/// The arrays of a population's plain LIF update ([`lif_plain`]); the adaptation's
/// are empty without one.
struct LifArrays<'s, A: Arith> {
    w: &'s mut [A::V],
    w_decay: &'s [A::Decay],
    w_b: &'s [A::V],
    in_e: &'s mut [A::Acc],
    in_i: &'s mut [A::Acc],
    v: &'s mut [A::V],
    refr: &'s mut [u32],
    fired: &'s mut [bool],
    i_e: &'s mut [A::V],
    i_i: &'s mut [A::V],
    decay_e: &'s [A::Decay],
    decay_i: &'s [A::Decay],
    delta_e: &'s [bool],
    delta_i: &'s [bool],
    a: &'s [A::Decay],
    k: &'s [A::V],
    c: &'s [A::V],
    i_offset: &'s [A::V],
    v_thresh: &'s [A::V],
    v_reset: &'s [A::V],
    v_drop: &'s [A::V],
    t_ref: &'s [u32],
}

/// Defines an entry point to [`lif_plain`] compiled with the attributes given.
macro_rules! lif_plain_entry {
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        fn $name<A: Arith, R: Fn(usize, u64) -> Round, const UNIFORM: bool, const ADAPT: bool>(
            x: LifArrays<'_, A>,
            q: [i32; 2],
            subtract: bool,
            round: R,
        ) {
            let LifArrays {
                w, w_decay, w_b, in_e, in_i, v, refr, fired, i_e, i_i, decay_e, decay_i, delta_e, delta_i, a, k, c,
                i_offset, v_thresh, v_reset, v_drop, t_ref,
            } = x;
            lif_plain::<A, R, UNIFORM, ADAPT>(
                q, subtract, round, w, w_decay, w_b, in_e, in_i, v, refr, fired, i_e, i_i, decay_e, decay_i,
                delta_e, delta_i, a, k, c, i_offset, v_thresh, v_reset, v_drop, t_ref,
            )
        }
    };
}

lif_plain_entry!(
    #[inline(never)]
    lif_plain_portable
);
#[cfg(target_arch = "x86_64")]
lif_plain_entry!(
    #[target_feature(enable = "avx2")]
    #[inline(never)]
    lif_plain_avx2
);

/// [`lif_plain_dispatch`] with the rounding mode a constant of the kernel (one kernel
/// per mode), so that the loop asks no mode per product: truncation and rounding to
/// nearest are then vectorised (stochastic rounding's keyed random bits are not).
/// `t4` is the step shifted left by two, the products' slots below it.
#[allow(clippy::too_many_arguments)]
fn lif_plain_by_mode<A: Arith, const UNIFORM: bool, const ADAPT: bool>(
    x: LifArrays<'_, A>,
    q: [i32; 2],
    subtract: bool,
    mode: crate::arith::Rounding,
    pop: u64,
    first: usize,
    t4: u64,
) {
    // The keys of `update_as`.
    fn keyed<const MODE: usize>(pop: u64, first: usize, t4: u64) -> impl Fn(usize, u64) -> Round {
        move |j, purpose| round_for(crate::arith::Rounding::ALL[MODE], pop, first + j, lif_slot(t4, purpose))
    }
    match mode as usize {
        0 => lif_plain_dispatch::<A, _, UNIFORM, ADAPT>(x, q, subtract, keyed::<0>(pop, first, t4)),
        1 => lif_plain_dispatch::<A, _, UNIFORM, ADAPT>(x, q, subtract, keyed::<1>(pop, first, t4)),
        _ => lif_plain_dispatch::<A, _, UNIFORM, ADAPT>(x, q, subtract, keyed::<2>(pop, first, t4)),
    }
}

/// [`lif_plain`] in 256-bit vectors where the CPU has AVX2 (checked once, cached by
/// the standard library), else in the baseline instruction set. The two give the same
/// bits: the same IEEE operations in the same order (Rust never fuses a multiply and
/// an add), only more neurons at a time. (Brian2 compiles its standalone code with
/// `-march=native` for the same reason.)
fn lif_plain_dispatch<A: Arith, R: Fn(usize, u64) -> Round, const UNIFORM: bool, const ADAPT: bool>(
    x: LifArrays<'_, A>,
    q: [i32; 2],
    subtract: bool,
    round: R,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the only requirement of a `target_feature` function is that the CPU
        // has the feature, and the line above has just checked that it does.
        #[allow(unsafe_code)]
        return unsafe { lif_plain_avx2::<A, R, UNIFORM, ADAPT>(x, q, subtract, round) };
    }
    lif_plain_portable::<A, R, UNIFORM, ADAPT>(x, q, subtract, round)
}

/// The plain LIF update (no conductances, linear leak, range or grid; with `ADAPT`,
/// an adaptation current) of every neuron, the same arithmetic as
/// [`LifState::update_as`], marking in `fired` the neurons that fire. Every array is
/// an argument of its own, so that the compiler knows they do not overlap and
/// vectorises the loop (cut from one struct, they might). The adaptation's constants
/// are read per neuron, uniform or not.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn lif_plain<A: Arith, R: Fn(usize, u64) -> Round, const UNIFORM: bool, const ADAPT: bool>(
    q: [i32; 2],
    subtract: bool,
    round: R,
    w: &mut [A::V],
    w_decay: &[A::Decay],
    w_b: &[A::V],
    in_e: &mut [A::Acc],
    in_i: &mut [A::Acc],
    v: &mut [A::V],
    refr: &mut [u32],
    fired: &mut [bool],
    i_e: &mut [A::V],
    i_i: &mut [A::V],
    decay_e: &[A::Decay],
    decay_i: &[A::Decay],
    delta_e: &[bool],
    delta_i: &[bool],
    a: &[A::Decay],
    k: &[A::V],
    c: &[A::V],
    i_offset: &[A::V],
    v_thresh: &[A::V],
    v_reset: &[A::V],
    v_drop: &[A::V],
    t_ref: &[u32],
) {
    let n = v.len();
    let z = A::zero();
    let (in_e, in_i, refr, fired, i_e, i_i) =
        (&mut in_e[..n], &mut in_i[..n], &mut refr[..n], &mut fired[..n], &mut i_e[..n], &mut i_i[..n]);
    let na = if ADAPT { n } else { 0 };
    let (w, w_decay, w_b) = (&mut w[..na], &w_decay[..na], &w_b[..na]);
    // With `UNIFORM`, every neuron has the first neuron's constants.
    if n == 0 {
        return;
    }
    // Cut to `n` (no bounds checks in the loop), or read once when uniform.
    let m = if UNIFORM { 1 } else { n };
    let (decay_e, decay_i, delta_e, delta_i) = (&decay_e[..m], &decay_i[..m], &delta_e[..m], &delta_i[..m]);
    let (a, k, c, i_offset) = (&a[..m], &k[..m], &c[..m], &i_offset[..m]);
    let (v_thresh, v_reset, v_drop, t_ref) = (&v_thresh[..m], &v_reset[..m], &v_drop[..m], &t_ref[..m]);
    let first = (
        (decay_e[0], decay_i[0], delta_e[0], delta_i[0]),
        (a[0], k[0], c[0], i_offset[0]),
        (v_thresh[0], v_reset[0], v_drop[0], t_ref[0]),
    );
    for j in 0..n {
        let ((decay_e, decay_i, delta_e, delta_i), (a, k, c, i_offset), (v_thresh, v_reset, v_drop, t_ref)) = if UNIFORM
        {
            first
        } else {
            (
                (decay_e[j], decay_i[j], delta_e[j], delta_i[j]),
                (a[j], k[j], c[j], i_offset[j]),
                (v_thresh[j], v_reset[j], v_drop[j], t_ref[j]),
            )
        };
        let (ie, ii) = (A::input(in_e[j], q[0]), A::input(in_i[j], q[1]));
        in_e[j] = A::Acc::default();
        in_i[j] = A::Acc::default();
        let dv = A::add(A::add(z, if delta_e { ie } else { z }), if delta_i { ii } else { z });
        let ge = if delta_e { i_e[j] } else { A::add(i_e[j], ie) };
        let gi = if delta_i { i_i[j] } else { A::add(i_i[j], ii) };
        let refractory = refr[j] > 0;
        // The adaptation current decays every step, refractory or not.
        let wj = if ADAPT { A::decay_by(w_decay[j], w[j], round(j, 4)) } else { z };
        let old = v[j];
        let mut i_total = A::add(A::add(ge, gi), i_offset);
        if ADAPT {
            i_total = A::sub(i_total, wj);
        }
        let decayed = A::decay_by(a, old, round(j, 0));
        let next = A::add(A::add(A::add(decayed, A::mul(k, i_total, round(j, 1))), c), dv);
        let next = if refractory { old } else { next };
        i_e[j] = A::decay_by(decay_e, ge, round(j, 2));
        i_i[j] = A::decay_by(decay_i, gi, round(j, 3));
        let fire = !refractory && next >= v_thresh;
        fired[j] = fire;
        let after = if subtract { A::sub(next, v_drop) } else { v_reset };
        v[j] = if fire { after } else { next };
        refr[j] = if fire { t_ref } else { refr[j].saturating_sub(1) };
        if ADAPT {
            w[j] = if fire { A::add(wj, w_b[j]) } else { wj };
        }
    }
}

/// The slot of a LIF neuron's product `purpose` (0..8) in the step whose number
/// shifted left by two is `t4`: purposes 4..8 (the conductances' and the
/// adaptation's) apart from the first four, which keep the keys they had before those
/// models. The general loop and the plain kernel key their products by it alike.
#[inline]
fn lif_slot(t4: u64, purpose: u64) -> u64 {
    let slot = t4 | (purpose & 3);
    if purpose < 4 { slot } else { 1 << 62 | slot }
}

/// How one product of neuron `neuron` (its index in population `pop`) rounds; `slot`
/// tells the step and the product apart. Stochastic rounding's bits are keyed by these
/// alone, so a slice of a population on a chip core draws what the whole model draws.
#[inline]
fn round_for(mode: crate::arith::Rounding, pop: u64, neuron: usize, slot: u64) -> Round {
    match mode {
        crate::arith::Rounding::Truncate => Round::TRUNCATE,
        mode => Round { mode, key: crate::arith::splitmix((pop << 40) ^ neuron as u64) ^ slot },
    }
}

/// Izhikevich neurons, integrated as sPyNNaker does (`neuron_model_izh_impl.c`): one
/// explicit midpoint (RK2) step of `h = dt` per step, the form Hopkins and Furber
/// (Neural Computation 27(10):2148, 2015) derived for fixed point. Every product rounds
/// by the run's mode, keyed by (population, neuron, step, product).
#[derive(Debug)]
pub(crate) struct IzhState<A: Arith> {
    v: Vec<A::V>,
    u: Vec<A::V>,
    a: Vec<Coef<A>>,
    b: Vec<Coef<A>>,
    c: Vec<A::V>,
    d: Vec<A::V>,
    i_offset: Vec<A::V>,
    syn: SynCurrents<A>,
    h: A::V,
    half_h: A::V,
    k140: A::V,
    k5: A::V,
    k004: Coef<A>,
    v_peak: A::V,
    rounding: crate::arith::Rounding,
    pop: u64,
    lo: usize,
}

impl<A: Arith> IzhState<A> {
    fn new(
        z: &neuromap_ir::Izhikevich,
        pop: PopId,
        lo: usize,
        n: usize,
        dt: f64,
        rounding: crate::arith::Rounding,
        wide: bool,
    ) -> Self {
        let v = |p: &neuromap_ir::Param| (0..n).map(|i| A::v(p.get(lo + i))).collect::<Vec<_>>();
        let coef = |p: &neuromap_ir::Param| (0..n).map(|i| Coef::new(p.get(lo + i), wide)).collect::<Vec<_>>();
        Self {
            v: v(&z.v_init),
            u: v(&z.u_init),
            a: coef(&z.a),
            b: coef(&z.b),
            c: v(&z.c),
            d: v(&z.d),
            i_offset: v(&z.i_offset),
            syn: SynCurrents::new(&z.tau_syn_e, &z.tau_syn_i, lo, n, dt),
            h: A::v(dt),
            half_h: A::v(dt / 2.0),
            k140: A::v(140.0),
            k5: A::v(5.0),
            k004: Coef::new(0.04, wide),
            v_peak: A::v(30.0),
            rounding,
            pop: pop.index() as u64,
            lo,
        }
    }

    fn update(&mut self, t: u32, in_e: &mut [A::Acc], in_i: &mut [A::Acc], q: [i32; 2], spikes: &mut Vec<(u32, u32)>) {
        for j in 0..self.v.len() {
            let (ie, ii) = (A::input(in_e[j], q[0]), A::input(in_i[j], q[1]));
            in_e[j] = A::Acc::default();
            in_i[j] = A::Acc::default();
            // This step's current: the bias, delta inputs, decaying synaptic currents.
            let delta = self.syn.take(j, ie, ii);
            let input = A::add(A::add(self.i_offset[j], delta), self.syn.sum(j));
            let (mode, pop, neuron) = (self.rounding, self.pop, self.lo + j);
            let r = move |p: u64| round_for(mode, pop, neuron, u64::from(t) << 4 | p);
            let (v, u, a, b, k004) = (self.v[j], self.u[j], self.a[j], self.b[j], self.k004);
            // pre = 140 + I − u; alpha = pre + (5 + 0.04·v)·v; eta = v + h/2·alpha
            let pre = A::sub(A::add(self.k140, input), u);
            let alpha = A::add(pre, A::mul(A::add(self.k5, k004.times(v, r(0))), v, r(1)));
            let eta = A::add(v, A::mul(self.half_h, alpha, r(2)));
            // beta = h/2 · (b·v − u) · a
            let beta = a.times(A::mul(self.half_h, A::sub(b.times(v, r(3)), u), r(4)), r(5));
            // v += h · (pre − beta + (5 + 0.04·eta)·eta); u += a·h · (b·eta − u − beta)
            let dv = A::add(A::sub(pre, beta), A::mul(A::add(self.k5, k004.times(eta, r(6))), eta, r(7)));
            let mut v_new = A::add(v, A::mul(self.h, dv, r(8)));
            let mut u_new =
                A::add(u, A::mul(a.times(self.h, r(9)), A::sub(b.times(eta, r(10)), A::add(u, beta)), r(11)));
            self.syn.decay(j, r(12), r(13));
            if v_new >= self.v_peak {
                spikes.push((j as u32, 1));
                v_new = self.c[j];
                u_new = A::add(u_new, self.d[j]);
            }
            self.v[j] = v_new;
            self.u[j] = u_new;
        }
    }
}

/// A constant of a product: in the state format, or (wide) in the decay factors'
/// format, which holds [0, 2) with more fraction bits (u1.31 beside s16.15).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Coef<A: Arith> {
    State(A::V),
    Wide(A::Decay),
}

impl<A: Arith> Coef<A> {
    /// `x` held wide when asked and it lies in [0, 2), else in the state format.
    fn new(x: f64, wide: bool) -> Self {
        if wide && (0.0..2.0).contains(&x) { Coef::Wide(A::decay(x)) } else { Coef::State(A::v(x)) }
    }

    /// `self · x`, rounded by `r`.
    #[inline]
    fn times(self, x: A::V, r: Round) -> A::V {
        match self {
            Coef::State(k) => A::mul(k, x, r),
            Coef::Wide(k) => A::decay_by(k, x, r),
        }
    }
}

#[derive(Debug)]
pub(crate) struct ThresholdState<A: Arith> {
    theta: Vec<A::V>,
    bias: Vec<A::V>,
    /// Σ of incoming weights per neuron (for bipolar encoding), else empty.
    w_sum: Vec<A::V>,
}

impl<A: Arith> ThresholdState<A> {
    /// The neurons `range` of a population.
    fn new(net: &Network, pop: PopId, t: &Threshold, q: [i32; 2], range: std::ops::Range<usize>) -> Self {
        let n = net.pop(pop).size as usize;
        let mut w_sum = Vec::new();
        if t.encoding == Encoding::Bipolar {
            let mut acc = vec![[A::Acc::default(); 2]; n];
            for &p in net.incoming(pop) {
                let proj = net.proj(p);
                let r = receptor_index(proj.receptor);
                let s = &proj.synapses;
                for (&j, &w) in s.posts().iter().zip(s.weights()) {
                    acc[j as usize][r] += A::acc_weight(w, 1, q[r]);
                }
            }
            w_sum = acc.iter().map(|[e, i]| A::add(A::input(*e, q[0]), A::input(*i, q[1]))).collect();
        }
        if !w_sum.is_empty() {
            w_sum = w_sum[range.clone()].to_vec();
        }
        let v = |p: &neuromap_ir::Param| range.clone().map(|i| A::v(p.get(i))).collect();
        Self { theta: v(&t.theta), bias: v(&t.bias), w_sum }
    }

    fn update(&mut self, in_e: &mut [A::Acc], in_i: &mut [A::Acc], q: [i32; 2], spikes: &mut Vec<(u32, u32)>) {
        for j in 0..self.theta.len() {
            let mut x = A::add(A::input(in_e[j], q[0]), A::input(in_i[j], q[1]));
            in_e[j] = A::Acc::default();
            in_i[j] = A::Acc::default();
            if !self.w_sum.is_empty() {
                x = A::sub(A::add(x, x), self.w_sum[j]);
            }
            if A::add(x, self.bias[j]) >= self.theta[j] {
                spikes.push((j as u32, 1));
            }
        }
    }
}

#[derive(Debug)]
pub(crate) enum PopState<A: Arith> {
    Lif(LifState<A>),
    Izh(IzhState<A>),
    Threshold(ThresholdState<A>),
    Source(SourceState),
}

impl<A: Arith> PopState<A> {
    /// The state of neurons `range` of population `id`.
    pub(crate) fn new(net: &Network, id: PopId, range: std::ops::Range<usize>, q: [i32; 2], options: Options) -> Self {
        let rounding = options.rounding;
        let p = net.pop(id);
        match &p.kind {
            PopKind::Neurons(NeuronModel::Lif(l)) => {
                PopState::Lif(LifState::new(l, id, range.start, range.len(), net.dt, rounding))
            }
            PopKind::Neurons(NeuronModel::Threshold(t)) => {
                PopState::Threshold(ThresholdState::new(net, id, t, q, range))
            }
            PopKind::Neurons(NeuronModel::Izhikevich(z)) => {
                PopState::Izh(IzhState::new(z, id, range.start, range.len(), net.dt, rounding, options.wide_constants))
            }
            PopKind::Source(s) => PopState::Source(SourceState::new(p, s, net.seed, net.dt, range)),
        }
    }

    /// Updates for step `t` from the inputs in `in_e`/`in_i` (cleared), appending
    /// (local neuron, count) spikes; returns the neuron updates done.
    pub(crate) fn step(
        &mut self,
        t: u32,
        in_e: &mut [A::Acc],
        in_i: &mut [A::Acc],
        q: [i32; 2],
        spikes: &mut Vec<(u32, u32)>,
    ) -> u64 {
        match self {
            PopState::Lif(s) => {
                s.update(t, in_e, in_i, q, spikes);
                s.v.len() as u64
            }
            PopState::Threshold(s) => {
                s.update(in_e, in_i, q, spikes);
                s.theta.len() as u64
            }
            PopState::Izh(s) => {
                s.update(t, in_e, in_i, q, spikes);
                s.v.len() as u64
            }
            PopState::Source(s) => {
                s.step(t, spikes);
                0
            }
        }
    }
}

pub(crate) fn receptor_index(r: Receptor) -> usize {
    match r {
        Receptor::Excitatory => 0,
        Receptor::Inhibitory => 1,
    }
}

/// Weight scale exponents per population and receptor (0 for f64).
pub fn weight_shifts<A: Arith>(net: &Network) -> Vec<[i32; 2]> {
    net.pop_ids()
        .map(|id| {
            let mut max = [0.0f64; 2];
            for &p in net.incoming(id) {
                let proj = net.proj(p);
                let r = receptor_index(proj.receptor);
                let m = f64::from(proj.synapses.max_abs_weight());
                max[r] = max[r].max(m);
            }
            [A::weight_shift(max[0]), A::weight_shift(max[1])]
        })
        .collect()
}

/// How spikes become synaptic input: for projection `proj`, the spikes `(neuron,
/// count)` its presynaptic population sent in step `t`, call `add(post, delay, input)`
/// for the input each target receives `delay` steps later (in the accumulator format
/// of `A` at the receptor's weight `shift`); return the synaptic events.
pub trait Deliver<A: Arith> {
    fn deliver<F: FnMut(u32, u16, A::Acc)>(
        &mut self,
        net: &Network,
        proj: neuromap_ir::ProjId,
        t: u32,
        spikes: &[(u32, u32)],
        shift: i32,
        add: &mut F,
    ) -> u64;
}

/// The default delivery: every synapse of every spiking neuron's row.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowDelivery;

impl<A: Arith> Deliver<A> for RowDelivery {
    #[inline]
    fn deliver<F: FnMut(u32, u16, A::Acc)>(
        &mut self,
        net: &Network,
        proj: neuromap_ir::ProjId,
        _t: u32,
        spikes: &[(u32, u32)],
        shift: i32,
        add: &mut F,
    ) -> u64 {
        let syn = &net.proj(proj).synapses;
        let mut events = 0u64;
        for &(j, k) in spikes {
            let row = syn.row(j as usize);
            for ((&post, &w), &d) in row.post.iter().zip(row.weight).zip(row.delay) {
                add(post, d, A::acc_weight(w, k, shift));
            }
            events += row.post.len() as u64 * u64::from(k);
        }
        events
    }
}

/// A simulation in progress, in number format `A`.
#[derive(Debug)]
pub struct Engine<'n, A: Arith> {
    net: &'n Network,
    t: u32,
    states: Vec<PopState<A>>,
    rings: Vec<[Ring<A::Acc>; 2]>,
    shifts: Vec<[i32; 2]>,
    scratch: Vec<(u32, u32)>,
    result: RunResult,
}

/// The f64 reference simulator.
pub type Reference<'n> = Engine<'n, F64>;
/// The quantised functional model in SpiNNaker's s16.15 formats.
pub type Quantised<'n> = Engine<'n, S1615>;

impl<'n, A: Arith> Engine<'n, A> {
    pub fn new(net: &'n Network, options: Options) -> Self {
        let shifts = weight_shifts::<A>(net);
        let states = net
            .pop_ids()
            .map(|id| PopState::new(net, id, 0..net.pop(id).size as usize, shifts[id.index()], options))
            .collect();
        let rings = net
            .pop_ids()
            .map(|id| {
                let (n, d) =
                    if net.pop(id).is_source() { (0, 0) } else { (net.pop(id).size as usize, net.max_delay_into(id)) };
                [Ring::new(n, d), Ring::new(n, d)]
            })
            .collect();
        let result = RunResult {
            steps: 0,
            spike_counts: vec![0; net.populations().len()],
            recorded: net.populations().iter().map(|p| options.record_sources || !p.is_source()).collect(),
            spikes: vec![SpikeRecord::default(); net.populations().len()],
            probes: net.probes().iter().map(|p| ProbeTrace { neurons: p.neurons.len(), values: Vec::new() }).collect(),
            synaptic_events: vec![0; net.projections().len()],
            neuron_updates: 0,
        };
        Self { net, t: 0, states, rings, shifts, scratch: Vec::new(), result }
    }

    /// The same run with every LIF potential held on a grid of `2^-bits`: after its
    /// decay, `a·V` is truncated toward zero to a multiple of `2^-bits` before the
    /// inputs are added (Loihi keeps integer potentials in units of `2^-6` of a weight
    /// step and truncates its decay products toward zero; SANA-FE's Loihi soma does the
    /// same on a 1/64 grid). Inputs, currents and thresholds are not rounded.
    pub fn with_potential_grid(mut self, bits: u32) -> Self {
        let s = 2f64.powi(bits.min(60) as i32);
        for st in &mut self.states {
            if let PopState::Lif(l) = st {
                l.grid = Some(s);
            }
        }
        self
    }

    /// The same run with every LIF potential a whole number saturating to `lo..=hi`:
    /// after its inputs and any linear leak, before the threshold test, it is rounded
    /// to the nearest whole number and clamped (TrueNorth holds an integer potential
    /// in a 20-bit signed register; its network's values are whole numbers already, see
    /// `neuromap_ncore::integer`, so the rounding only takes off what `leak·dt` missed).
    pub fn with_potential_range(mut self, lo: f64, hi: f64) -> Self {
        for st in &mut self.states {
            if let PopState::Lif(l) = st {
                l.range = Some((A::v(lo), A::v(hi)));
            }
        }
        self
    }

    /// The same run, keeping after each step which LIF neurons entered it with a
    /// state away from zero (potential, a synaptic current or a bias): the neurons a
    /// chip must update even when no spike reaches them (see [`Engine::held`]).
    pub fn with_held_state(mut self) -> Self {
        for st in &mut self.states {
            if let PopState::Lif(l) = st {
                l.held = Some(Vec::new());
            }
        }
        self
    }

    /// For the step just simulated, per population (network order), the LIF neurons
    /// that entered it with a state away from zero; empty unless
    /// [`Engine::with_held_state`] asked for them.
    pub fn held(&self) -> impl Iterator<Item = &[u32]> {
        self.states.iter().map(|st| match st {
            PopState::Lif(LifState { held: Some(h), .. }) => h.as_slice(),
            _ => &[],
        })
    }

    /// The next step to simulate.
    pub fn time_step(&self) -> u32 {
        self.t
    }

    /// Simulates one timestep.
    pub fn step(&mut self) {
        self.step_with(&mut RowDelivery);
    }

    /// Simulates one timestep with `deliver` turning each population's spikes into
    /// synaptic input (the default reads the synapse rows; a chip model may compute
    /// the sums its own way, e.g. through crossbar tiles).
    pub fn step_with<D: Deliver<A>>(&mut self, deliver: &mut D) {
        let net = self.net;
        let t = self.t as usize;
        for &pop in net.update_order() {
            let p = pop.index();
            let spikes = &mut self.scratch;
            spikes.clear();
            let [re, ri] = &mut self.rings[p];
            let q = self.shifts[p];
            self.result.neuron_updates += self.states[p].step(self.t, re.slot(t), ri.slot(t), q, spikes);
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
            for &qid in net.outgoing(pop) {
                let proj = net.proj(qid);
                let r = receptor_index(proj.receptor);
                let shift = self.shifts[proj.post.index()][r];
                let ring = &mut self.rings[proj.post.index()][r];
                let syn = &proj.synapses;
                let events = if syn.min_delay() == syn.max_delay() {
                    // One delay: every input of this projection lands in one step's slot.
                    let d0 = syn.min_delay();
                    let slot = ring.slot(t + usize::from(d0));
                    deliver.deliver(net, qid, self.t, spikes, shift, &mut |post: u32, d: u16, x: A::Acc| {
                        debug_assert_eq!(d, d0, "a delivery reports its synapses' delays");
                        slot[post as usize] += x;
                    })
                } else {
                    let mut add = |post: u32, d: u16, x: A::Acc| {
                        let at = ((t + usize::from(d)) & ring.mask) * ring.n + post as usize;
                        ring.data[at] += x;
                    };
                    deliver.deliver(net, qid, self.t, spikes, shift, &mut add)
                };
                self.result.synaptic_events[qid.index()] += events;
            }
        }
        for (k, probe) in net.probes().iter().enumerate() {
            let trace = &mut self.result.probes[k];
            let (v, syn) = match &self.states[probe.population.index()] {
                PopState::Lif(s) => (&s.v, &s.syn),
                PopState::Izh(s) => (&s.v, &s.syn),
                _ => continue,
            };
            let var = match probe.variable {
                Variable::V => v,
                Variable::ISynE => &syn.i_e,
                Variable::ISynI => &syn.i_i,
            };
            trace.values.extend(probe.neurons.iter().map(|&j| A::to_f64(var[j as usize])));
        }
        self.t += 1;
        self.result.steps = self.t;
    }

    /// What the run has recorded and counted so far (the spikes of the step just
    /// simulated are at the end of each population's record).
    pub fn result(&self) -> &RunResult {
        &self.result
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
                // A stream per neuron (ChaCha8 with its buffer), the spike cursor and
                // the spikes drawn ahead (at most one (neuron, count) a step).
                n * (400.0 + 8.0 * crate::sources::AHEAD as f64)
            } else {
                let slots = (usize::from(net.max_delay_into(id)) + 1).next_power_of_two() as f64;
                n * (2.0 * slots * 8.0 + 20.0 * 8.0)
            }
        })
        .sum()
}

/// Runs `steps` timesteps from the initial state, in number format `A`.
pub fn simulate_in<A: Arith>(net: &Network, steps: u32, options: Options) -> RunResult {
    simulate_until::<A>(net, steps, options, &Stop::default())
}

/// Runs up to `steps` timesteps in number format `A`, stopping early when `stop` says
/// so (checked before each step); the result's `steps` says how many ran.
pub fn simulate_until<A: Arith>(net: &Network, steps: u32, options: Options, stop: &Stop) -> RunResult {
    let mut sim = Engine::<A>::new(net, options);
    for t in 0..steps {
        if stop.reason().is_some()
            || stop.limit.as_ref().is_some_and(|l| t >= l.load(std::sync::atomic::Ordering::Relaxed))
        {
            break;
        }
        sim.step();
    }
    sim.finish()
}

/// Runs up to `steps` timesteps: the f64 reference when `quantised` is false, else the
/// quantised model in `options.format`; `after(t)` is called once step `t` (from 1) is
/// done and says whether to go on. For front ends that show progress or stop on
/// request.
pub fn simulate_stepped(
    net: &Network,
    steps: u32,
    quantised: bool,
    options: Options,
    after: &mut dyn FnMut(u32) -> bool,
) -> RunResult {
    fn run<A: Arith>(net: &Network, steps: u32, options: Options, after: &mut dyn FnMut(u32) -> bool) -> RunResult {
        let mut sim = Engine::<A>::new(net, options);
        for t in 1..=steps {
            sim.step();
            if !after(t) {
                break;
            }
        }
        sim.finish()
    }
    match (quantised, options.format) {
        (false, _) => run::<F64>(net, steps, options, after),
        (true, crate::arith::Format::S1615) => run::<S1615>(net, steps, options, after),
        (true, crate::arith::Format::F32) => run::<crate::arith::F32>(net, steps, options, after),
    }
}

/// Why a long computation should stop early: a flag another thread sets (Ctrl-C,
/// SIGTERM), a deadline (`--time-limit`), and a step another thread may lower (a check
/// running beside a chip simulation that ended early stops where the chip did). The
/// default never stops.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    pub flag: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    pub deadline: Option<std::time::Instant>,
    /// Simulate no step at or past this one.
    pub limit: Option<std::sync::Arc<std::sync::atomic::AtomicU32>>,
}

impl Stop {
    /// `Some("interrupted")` once the flag is set, `Some("time limit")` once the
    /// deadline has passed, else `None`.
    pub fn reason(&self) -> Option<&'static str> {
        if self.flag.as_ref().is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst)) {
            Some("interrupted")
        } else if self.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            Some("time limit")
        } else {
            None
        }
    }
}

/// Runs the f64 reference for `steps` timesteps from the initial state.
pub fn simulate(net: &Network, steps: u32, options: Options) -> RunResult {
    simulate_in::<F64>(net, steps, options)
}

/// Runs the quantised functional model for `steps` timesteps, in the format
/// `options.format` names (s16.15 by default).
pub fn simulate_quantised(net: &Network, steps: u32, options: Options) -> RunResult {
    simulate_quantised_until(net, steps, options, &Stop::default())
}

/// [`simulate_quantised`], stopping early when `stop` says so.
pub fn simulate_quantised_until(net: &Network, steps: u32, options: Options, stop: &Stop) -> RunResult {
    match options.format {
        crate::arith::Format::S1615 => simulate_until::<S1615>(net, steps, options, stop),
        crate::arith::Format::F32 => simulate_until::<crate::arith::F32>(net, steps, options, stop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neuromap_ir::Param;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A LIF population of `n` with constants drawn per neuron (`uniform`: one draw
    /// for all), delta and exponential receptors mixed, refractory periods of 0–3 steps.
    fn population(n: usize, uniform: bool, reset: Reset, adapt: bool, rng: &mut ChaCha8Rng) -> Lif {
        let mut draw = |lo: f64, hi: f64| -> Param {
            if uniform {
                Param::Shared(rng.random_range(lo..hi))
            } else {
                Param::PerNeuron((0..n).map(|_| rng.random_range(lo..hi)).collect())
            }
        };
        let mut lif = Lif::unit(10.0, 0.0, 0.0);
        lif.tau_m = draw(2.0, 30.0);
        lif.cm = draw(0.5, 2.0);
        lif.v_rest = draw(-0.2, 0.2);
        lif.v_reset = draw(-0.3, 0.1);
        lif.v_thresh = draw(0.8, 1.2);
        lif.t_ref = draw(0.0, 0.35);
        lif.i_offset = draw(-0.05, 0.2);
        lif.v_init = Param::PerNeuron((0..n).map(|_| rng.random_range(-0.5..1.1)).collect());
        // Delta (0) or exponential receptors: per neuron unless uniform.
        let mut tau = || -> Param {
            let pick = |r: &mut ChaCha8Rng| if r.random_bool(0.5) { 0.0 } else { r.random_range(1.0..10.0) };
            if uniform { Param::Shared(pick(rng)) } else { Param::PerNeuron((0..n).map(|_| pick(rng)).collect()) }
        };
        lif.tau_syn_e = tau();
        lif.tau_syn_i = tau();
        lif.reset = reset;
        if adapt {
            // Its constants per neuron whatever `uniform` says (the kernel reads them so).
            let mut per = |lo: f64, hi: f64| Param::PerNeuron((0..n).map(|_| rng.random_range(lo..hi)).collect());
            lif.adaptation =
                Some(neuromap_ir::Adaptation { tau_w: per(5.0, 200.0), b: per(0.0, 0.2), w_init: per(-0.1, 0.3) });
        }
        lif
    }

    fn bits<A: Arith>(xs: &[A::V]) -> Vec<u64> {
        xs.iter().map(|&x| A::to_f64(x).to_bits()).collect()
    }

    /// Steps the fast plain update (`update`) and the general loop (`update_as`) side
    /// by side on the same inputs, products rounded by `rounding`: the state and the
    /// spikes agree bit for bit.
    fn fast_equals_general<A: Arith>(
        uniform: bool,
        reset: Reset,
        adapt: bool,
        rounding: crate::arith::Rounding,
        seed: u64,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = 37; // not a multiple of a vector's lanes
        let lif = population(n, uniform, reset, adapt, &mut rng);
        let dt = 0.1;
        let mut fast = LifState::<A>::new(&lif, PopId(0), 0, n, dt, rounding);
        let mut general = LifState::<A>::new(&lif, PopId(0), 0, n, dt, rounding);
        assert_eq!(fast.uniform, uniform);
        let q = [A::weight_shift(1.0), A::weight_shift(1.0)];
        let mut fired_any = false;
        for t in 0..200 {
            let input: Vec<A::Acc> = (0..n).map(|_| A::acc_weight(rng.random_range(-0.2f32..0.6), 1, q[0])).collect();
            let input_i: Vec<A::Acc> = (0..n).map(|_| A::acc_weight(rng.random_range(-0.4f32..0.1), 1, q[1])).collect();
            let (mut e1, mut i1, mut e2, mut i2) = (input.clone(), input_i.clone(), input, input_i);
            let (mut s1, mut s2) = (Vec::new(), Vec::new());
            fast.update(t, &mut e1, &mut i1, q, &mut s1);
            if adapt {
                general.update_as::<false, true, false, true>(t, &mut e2, &mut i2, q, &mut s2);
                let w = |s: &LifState<A>| bits::<A>(&s.adapt.as_ref().expect("an adaptation").w);
                assert_eq!(w(&fast), w(&general), "w at step {t}");
            } else {
                general.update_as::<false, false, false, true>(t, &mut e2, &mut i2, q, &mut s2);
            }
            assert_eq!(s1, s2, "spikes at step {t}");
            assert_eq!(bits::<A>(&fast.v), bits::<A>(&general.v), "V at step {t}");
            assert_eq!(bits::<A>(&fast.syn.i_e), bits::<A>(&general.syn.i_e), "I_e at step {t}");
            assert_eq!(bits::<A>(&fast.syn.i_i), bits::<A>(&general.syn.i_i), "I_i at step {t}");
            assert_eq!(fast.refractory, general.refractory, "refractory counters at step {t}");
            assert!(e1.iter().chain(&i1).all(|x| format!("{x:?}") == format!("{:?}", A::Acc::default())));
            fired_any |= !s1.is_empty();
        }
        assert!(fired_any, "the population never fired: the test would check nothing");
    }

    #[test]
    fn the_plain_lif_kernel_computes_what_the_general_loop_does() {
        for seed in 0..4 {
            for uniform in [false, true] {
                for reset in [Reset::ToValue, Reset::Subtract] {
                    for adapt in [false, true] {
                        use crate::arith::Rounding::*;
                        fast_equals_general::<F64>(uniform, reset, adapt, Truncate, seed);
                        for rounding in [Truncate, Nearest, Stochastic] {
                            fast_equals_general::<S1615>(uniform, reset, adapt, rounding, seed);
                        }
                    }
                }
            }
        }
    }

    /// The AVX2 build of the plain kernel gives the portable build's bits.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_kernel_gives_the_portable_kernels_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 1001;
        let lif = population(n, false, Reset::Subtract, true, &mut rng);
        let mut states: Vec<LifState<F64>> =
            (0..2).map(|_| LifState::new(&lif, PopId(0), 0, n, 0.1, crate::arith::Rounding::Truncate)).collect();
        let mut spikes = 0;
        for t in 0..300u32 {
            let input: Vec<f64> = (0..n).map(|_| rng.random_range(-0.2..0.6)).collect();
            let input_i: Vec<f64> = (0..n).map(|_| rng.random_range(-0.4..0.1)).collect();
            for (k, s) in states.iter_mut().enumerate() {
                let (mut e, mut i) = (input.clone(), input_i.clone());
                let arrays = s.arrays(&mut e, &mut i);
                let round = |_: usize, _: u64| Round::TRUNCATE;
                if k == 0 {
                    lif_plain_portable::<F64, _, false, true>(arrays, [0, 0], true, round);
                } else {
                    // SAFETY: the CPU has AVX2, checked at the top of the test.
                    #[allow(unsafe_code)]
                    unsafe {
                        lif_plain_avx2::<F64, _, false, true>(arrays, [0, 0], true, round)
                    };
                }
            }
            let [a, b] = &states[..] else { unreachable!() };
            assert_eq!(bits::<F64>(&a.v), bits::<F64>(&b.v), "V at step {t}");
            assert_eq!(bits::<F64>(&a.syn.i_e), bits::<F64>(&b.syn.i_e), "I_e at step {t}");
            let w = |s: &LifState<F64>| bits::<F64>(&s.adapt.as_ref().expect("an adaptation").w);
            assert_eq!(w(a), w(b), "w at step {t}");
            assert_eq!(a.fired, b.fired, "spikes at step {t}");
            spikes += a.fired.iter().filter(|f| **f).count();
        }
        assert!(spikes > 0, "no neuron fired: the test would check nothing");
    }
}
