//! The `neurocore` family (Loihi, TrueNorth) as one vertical slice: neurons placed on
//! the cores of a tile mesh, the network's weights put in the chip's format, and a run
//! of the chip's functional model (f64 on the chip's potential grid) whose events are
//! counted per core and step, as the steps are simulated, the way SANA-FE counts them
//! (every neuron's state is read every step; a neuron that received input or holds a
//! state away from zero is updated; a spike leaves its soma, passes each of its
//! synapses, and is sent as one message to every core it reaches, its own included,
//! over XY hops between tiles). Nothing is priced here.

pub mod axon_types;
pub mod integer;
mod schedule;

use neuromap_hw::HwModel;
use neuromap_hw::neurocore::NeuroCore;
use neuromap_ir::Network;
use neuromap_sim::arith::F64;
use neuromap_sim::{Deliver, RowDelivery};
use neuromap_sim::{Engine, Options, RunResult};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NcoreError {
    #[error("`{model}` is of family `{family}`, not `neurocore`")]
    Family { model: String, family: String },
    #[error("cores: the network needs {demand} cores of {per} neurons, the chip has {capacity}")]
    Cores { demand: usize, per: u32, capacity: usize },
    #[error("neurons per core: the placement puts {demand} neurons on core {core}, a core holds {capacity}")]
    Placed { core: usize, demand: u32, capacity: u32 },
    #[error(
        "input axons: core {core} (population `{pop}`) takes spikes from {demand} presynaptic neurons, a core takes {capacity}"
    )]
    Axons { core: usize, pop: String, demand: usize, capacity: u32 },
    #[error("destination cores: neuron {neuron} of `{pop}` reaches {demand} cores, a neuron may reach {capacity}")]
    DestCores { pop: String, neuron: u32, demand: usize, capacity: u32 },
    #[error(
        "weights: projection `{proj}` has a weight of magnitude {demand}, the largest a {bits}-bit weight holds at the largest exponent ({exp}) is {capacity}"
    )]
    WeightRange { proj: String, demand: f64, bits: u32, exp: i32, capacity: f64 },
    #[error(
        "axon types: core {core}: {why}; `--quantise-axon-types` gives each neuron the mean weight of each type's axons instead, and reports the weight error"
    )]
    AxonTypes { core: usize, why: String },
    #[error("integer neuron: population `{pop}` {why}")]
    Neuron { pop: String, why: String },
    #[error("{0}")]
    Network(String),
}

/// The network as the chip holds it: each projection's weights in the model's weight
/// format (see [`NeuroCore::weights`]), with the exponent chosen for each; the given
/// network itself when the model has no format.
#[derive(Clone, Debug)]
pub struct ChipWeights<'n> {
    pub net: std::borrow::Cow<'n, Network>,
    /// Per projection: `Some(exp)` when its weights were put on the `2^exp` grid.
    pub exponents: Vec<Option<i32>>,
    /// The largest |rounded − given| weight over the network.
    pub max_error: f64,
}

/// Rounds every projection's weights to the model's format: one exponent per
/// projection, the finest at which its largest weight fits (as Loihi's compiler picks
/// a weight exponent per connection), each weight rounded to the nearest mantissa.
/// Without a format the network is returned as it is.
pub fn chip_weights<'n>(net: &'n Network, hw: &NeuroCore) -> Result<ChipWeights<'n>, NcoreError> {
    let Some(f) = hw.weights else {
        return Ok(ChipWeights {
            net: std::borrow::Cow::Borrowed(net),
            exponents: vec![None; net.projections().len()],
            max_error: 0.0,
        });
    };
    let mut exponents = Vec::with_capacity(net.projections().len());
    let mut weights = Vec::with_capacity(net.projections().len());
    let mut max_error = 0f64;
    for pr in net.projections() {
        let w = pr.synapses.weights();
        let max = w.iter().fold(0f64, |m, &x| m.max(f64::from(x).abs()));
        let Some(exp) = f.exponent(max) else {
            return Err(NcoreError::WeightRange {
                proj: pr.name.clone(),
                demand: max,
                bits: f.bits,
                exp: f.exp_max,
                capacity: f.max_mantissa() * 2f64.powi(f.exp_max),
            });
        };
        let q: Vec<f32> = w
            .iter()
            .map(|&x| {
                let r = f.quantise(f64::from(x), exp);
                max_error = max_error.max((r - f64::from(x)).abs());
                r as f32
            })
            .collect();
        exponents.push(Some(exp));
        weights.push(q);
    }
    let net = net.with_all_weights(weights).map_err(|e| NcoreError::Network(e.to_string()))?;
    Ok(ChipWeights { net: std::borrow::Cow::Owned(net), exponents, max_error })
}

/// The model's integer neuron, if it has one (TrueNorth).
pub fn integer_format(hw: &NeuroCore) -> Option<integer::IntegerFormat> {
    hw.integer.map(|(potential_bits, weight_bits, leak_bits)| integer::IntegerFormat {
        potential_bits,
        weight_bits,
        leak_bits,
    })
}

/// A short name of the functional model's arithmetic, for reports.
pub fn arithmetic(hw: &NeuroCore) -> String {
    if let Some(f) = integer_format(hw) {
        return format!(
            "integers: {}-bit potentials, {}-bit weights, {}-bit leak",
            f.potential_bits, f.weight_bits, f.leak_bits
        );
    }
    let mut s = String::from("f64");
    if let Some(b) = hw.potential_frac_bits {
        s.push_str(&format!(", potentials on a 2^-{b} grid"));
    }
    if let Some(f) = hw.weights {
        s.push_str(&format!(", {}-bit weights", f.bits));
    }
    s
}

/// Neurons on cores.
#[derive(Clone, Debug)]
pub struct NcoreMapping {
    pub model: String,
    pub hw: NeuroCore,
    /// Mesh height (tiles): tile `t` sits at `(t / height, t % height)`, filling each
    /// column first, as SANA-FE numbers the tiles of its mesh.
    pub height: u32,
    /// Per population: the first core and neurons per core (each population starts a
    /// new core and fills cores in order).
    pub pop_core: Vec<(usize, u32)>,
    /// A placement given with the network (per population, each neuron's core), which
    /// replaces the one above.
    pub explicit: Option<Vec<Vec<u32>>>,
    pub cores_used: usize,
    /// Per core: the population it holds.
    pub core_pop: Vec<usize>,
    pub max_axons_in: usize,
    /// Tiles with at least one core holding neurons (the barrier's reach).
    pub tiles_used: u32,
    /// Per neuron, the cores its spikes reach.
    fanout: Fanout,
}

impl NcoreMapping {
    pub fn core_of(&self, pop: usize, neuron: u32) -> usize {
        if let Some(e) = &self.explicit {
            return e[pop][neuron as usize] as usize;
        }
        let (first, per) = self.pop_core[pop];
        first + (neuron / per) as usize
    }

    /// The tile of a core, as (x, y) on the mesh.
    pub fn tile(&self, core: usize) -> (u32, u32) {
        let t = core as u32 / self.hw.cores_per_tile.max(1);
        (t / self.height, t % self.height)
    }
}

/// Places `net` on the model's cores and checks the per-core limits.
pub fn map(net: &Network, m: &HwModel) -> Result<NcoreMapping, NcoreError> {
    map_with(net, m, None)
}

/// As [`map`], with each neuron's core given (`placement[pop][neuron]`), as a SANA-FE
/// network file maps them.
pub fn map_with(net: &Network, m: &HwModel, placement: Option<Vec<Vec<u32>>>) -> Result<NcoreMapping, NcoreError> {
    let Some(hw) = NeuroCore::from_model(m) else {
        return Err(NcoreError::Family { model: m.name.clone(), family: m.family.to_string() });
    };
    let per = hw.neurons_per_core.max(1);
    let mut pop_core = Vec::new();
    let mut core_pop: Vec<usize> = Vec::new();
    for (i, p) in net.populations().iter().enumerate() {
        pop_core.push((core_pop.len(), per));
        for _ in 0..p.size.div_ceil(per) {
            core_pop.push(i);
        }
    }
    let capacity = hw.cores as usize;
    if let Some(p) = &placement {
        let mut load = vec![0u32; capacity];
        let mut pop_of = vec![0usize; capacity];
        for (pi, cores) in p.iter().enumerate() {
            for &c in cores {
                let Some(l) = load.get_mut(c as usize) else {
                    return Err(NcoreError::Cores { demand: c as usize + 1, per, capacity });
                };
                *l += 1;
                pop_of[c as usize] = pi;
                if *l > per {
                    return Err(NcoreError::Placed { core: c as usize, demand: *l, capacity: per });
                }
            }
        }
        let used = load.iter().rposition(|&l| l > 0).map_or(0, |i| i + 1);
        core_pop = pop_of[..used].to_vec();
    } else if core_pop.len() > capacity {
        return Err(NcoreError::Cores { demand: core_pop.len(), per, capacity });
    }
    // Tiles with a core that holds neurons.
    let cores_per_tile = hw.cores_per_tile.max(1) as usize;
    let mut tile_used = vec![false; core_pop.len().div_ceil(cores_per_tile)];
    match &placement {
        Some(p) => p.iter().flatten().for_each(|&c| tile_used[c as usize / cores_per_tile] = true),
        None => tile_used.fill(true),
    }
    let height = m.machine.height.max(1);
    let mapping = NcoreMapping {
        model: m.name.clone(),
        hw: hw.clone(),
        height,
        pop_core,
        explicit: placement,
        cores_used: core_pop.len(),
        core_pop,
        max_axons_in: 0,
        tiles_used: tile_used.iter().filter(|&&u| u).count() as u32,
        fanout: Fanout::default(),
    };
    // Destination cores per neuron, then input axons per core (each presynaptic neuron
    // counts once on every core it reaches).
    let fanout = Fanout::new(net, &mapping);
    for p in net.pop_ids() {
        for pre in 0..net.pop(p).size {
            let demand = fanout.of(p.index(), pre).len();
            if demand > hw.max_dest_cores as usize {
                return Err(NcoreError::DestCores {
                    pop: net.pop(p).name.clone(),
                    neuron: pre,
                    demand,
                    capacity: hw.max_dest_cores,
                });
            }
        }
    }
    let mut axons = vec![0usize; mapping.cores_used];
    for &(core, _) in &fanout.entries {
        axons[core as usize] += 1;
    }
    for (c, &a) in axons.iter().enumerate() {
        if a > hw.max_axons_in as usize {
            return Err(NcoreError::Axons {
                core: c,
                pop: net.populations()[mapping.core_pop[c]].name.clone(),
                demand: a,
                capacity: hw.max_axons_in,
            });
        }
    }
    let max_axons = axons.iter().copied().max().unwrap_or(0);
    Ok(NcoreMapping { max_axons_in: max_axons, fanout, ..mapping })
}

/// Events of a run, summed, with each step's time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NcoreCounts {
    pub neuron_accesses: u64,
    pub neuron_updates: u64,
    pub spikes_out: u64,
    pub synaptic_events: u64,
    pub messages: u64,
    pub hops_x: u64,
    pub hops_y: u64,
    /// Per step: the slowest core's time (the longer of its input side and its soma
    /// side) plus its longest message path, plus the barrier (at least the tick on a
    /// real-time chip).
    pub step_s: Vec<f64>,
}

/// Runs the chip: the functional model of `net` (weights already in the chip's format,
/// see [`chip_weights`], or the whole network in integers, see [`integer::to_integers`])
/// for `steps` steps, every population recorded, in f64 with the membrane potential on
/// the model's grid when it has one ([`NeuroCore::potential_frac_bits`]) or saturating
/// to the integer neuron's register; and the events of each step counted on the
/// mapping as the step is simulated, so memory grows with the neurons and the longest
/// delay, not with the run's length.
pub fn run(net: &Network, m: &NcoreMapping, steps: u32) -> (RunResult, NcoreCounts) {
    let hw = &m.hw;
    let mut e = Engine::<F64>::new(net, Options::RECORD_ALL).with_held_state();
    if let Some(bits) = hw.potential_frac_bits {
        e = e.with_potential_grid(bits);
    }
    if let Some(f) = integer_format(hw) {
        let (lo, hi) = f.range();
        e = e.with_potential_range(lo, hi);
    }
    let n_cores = m.cores_used;
    let mut c = NcoreCounts::default();
    let neurons: Vec<bool> = net.populations().iter().map(|p| !p.is_source()).collect();
    let sizes: Vec<usize> = net.populations().iter().map(|p| if p.is_source() { 0 } else { p.size as usize }).collect();
    // Each neuron's core (sources included), looked up once.
    let cores: Vec<Vec<u32>> = net
        .populations()
        .iter()
        .enumerate()
        .map(|(pi, p)| (0..p.size).map(|j| m.core_of(pi, j) as u32).collect())
        .collect();
    let per_step_accesses: u64 = sizes.iter().map(|&n| n as u64).sum();
    // A spike sent in step t reaches its targets in step t + d: per population, a ring
    // of the steps ahead, each the neurons that will have received a spike.
    let span = (net.pop_ids().map(|p| usize::from(net.max_delay_into(p))).max().unwrap_or(0) + 1).next_power_of_two();
    let mask = span - 1;
    let mut marks = Marking { received: sizes.iter().map(|&n| vec![false; n * span]).collect(), mask };
    let fanout = &m.fanout;
    let sync = hw.sync_for(m.tiles_used);
    // Each core's neurons in the order it works through them (populations in order,
    // neurons in index order).
    let n_all = cores.iter().flatten().map(|&c| c as usize + 1).max().unwrap_or(0).max(n_cores);
    let mut on_core: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n_all];
    for (pi, cs) in cores.iter().enumerate() {
        for (j, &core) in cs.iter().enumerate() {
            on_core[core as usize].push((pi as u32, j as u32));
        }
    }
    let tiles = (n_all as u32).div_ceil(hw.cores_per_tile.max(1));
    let tile = |core: usize| m.tile(core);
    let mesh = schedule::Mesh {
        width: tiles.div_ceil(m.height.max(1)).max(1),
        height: m.height.max(1),
        cores_per_tile: hw.cores_per_tile.max(1),
        tile: &tile,
        buffer: hw.link_buffer,
    };
    // This step: which neurons were updated and which fired, per population.
    let mut updated: Vec<Vec<bool>> = net.populations().iter().map(|p| vec![false; p.size as usize]).collect();
    // Spikes this step, per neuron (a source may send more than one).
    let mut fired: Vec<Vec<u32>> = net.populations().iter().map(|p| vec![0; p.size as usize]).collect();
    let mut messages: Vec<Vec<schedule::Message>> = vec![Vec::new(); n_all];
    let mut seen: Vec<usize> = vec![0; net.populations().len()];
    let mut fired_any: Vec<(usize, u32)> = Vec::new();
    for t in 0..steps as usize {
        e.step_with(&mut marks);
        c.neuron_accesses += per_step_accesses;
        // Updated this step: a neuron a spike reached, or one that entered the step with
        // a state away from zero (SANA-FE and Loihi update such a neuron too).
        let slot = t & mask;
        for (pi, held) in e.held().enumerate() {
            let n = sizes[pi];
            let got = &mut marks.received[pi][slot * n..(slot + 1) * n];
            for &j in held {
                got[j as usize] = true;
            }
            for (on, u) in got.iter_mut().zip(updated[pi].iter_mut()) {
                *u = std::mem::take(on);
                c.neuron_updates += u64::from(*u);
            }
        }
        fired_any.clear();
        for (pi, rec) in e.result().spikes.iter().enumerate() {
            let new = seen[pi]..rec.neurons.len();
            seen[pi] = rec.neurons.len();
            for &j in &rec.neurons[new] {
                if fired[pi][j as usize] == 0 {
                    fired_any.push((pi, j));
                }
                fired[pi][j as usize] += 1;
            }
        }
        // Each core's messages, in the order its neurons produce them.
        for (core, list) in on_core.iter().enumerate() {
            let out = &mut messages[core];
            out.clear();
            let mut soma = 0.0f64;
            let (sx, sy) = m.tile(core);
            for &(pi, j) in list {
                let (pi, j) = (pi as usize, j as usize);
                if neurons[pi] {
                    soma += hw.neuron_access_s;
                    if updated[pi][j] {
                        soma += hw.neuron_update_s;
                    }
                }
                for _ in 0..fired[pi][j] {
                    if neurons[pi] {
                        c.spikes_out += 1;
                        soma += hw.spike_out_s;
                    }
                    for &(dest, synapses) in fanout.of(pi, j as u32) {
                        c.synaptic_events += u64::from(synapses);
                        // A spike leaves its core as a message to every core it reaches, its
                        // own included (as SANA-FE counts it: Loihi's axons route through
                        // the mesh).
                        c.messages += 1;
                        let (dx, dy) = m.tile(dest as usize);
                        let (hx, hy) = (sx.abs_diff(dx), sy.abs_diff(dy));
                        c.hops_x += u64::from(hx);
                        c.hops_y += u64::from(hy);
                        out.push(schedule::Message {
                            src: core as u32,
                            dest: Some(dest),
                            generation_s: soma + hw.message_out_s,
                            processing_s: hw.message_in_s + f64::from(synapses) * hw.synapse_s,
                            hop_s: f64::from(hx) * hw.hop_x_s + f64::from(hy) * hw.hop_y_s,
                            hops: hx + hy,
                        });
                        soma = 0.0;
                    }
                }
            }
            if soma > 0.0 {
                out.push(schedule::Message {
                    src: core as u32,
                    dest: None,
                    generation_s: soma,
                    processing_s: 0.0,
                    hop_s: 0.0,
                    hops: 0,
                });
            }
        }
        for &(pi, j) in &fired_any {
            fired[pi][j as usize] = 0;
        }
        let step = schedule::step_time(&messages, &mesh) + sync;
        c.step_s.push(hw.tick_s.map_or(step, |tick| step.max(tick)));
    }
    (e.finish(), c)
}

/// The engine's row delivery ([`RowDelivery`]) that also marks, per population, each
/// neuron a spike reaches in the step it arrives (a ring of the steps ahead, `mask + 1`
/// long): one pass over the synapses serves the simulation and the count of updates.
struct Marking {
    received: Vec<Vec<bool>>,
    mask: usize,
}

impl Deliver<F64> for Marking {
    #[inline]
    fn deliver<F: FnMut(u32, u16, f64)>(
        &mut self,
        net: &Network,
        proj: neuromap_ir::ProjId,
        t: u32,
        spikes: &[(u32, u32)],
        shift: i32,
        add: &mut F,
    ) -> u64 {
        let pr = net.proj(proj);
        let n = net.pop(pr.post).size as usize;
        let (received, mask) = (&mut self.received[pr.post.index()], self.mask);
        let mut add_and_mark = |post: u32, d: u16, x: f64| {
            add(post, d, x);
            // A zero-delay synapse counts in the next step, as a message arrives.
            received[((t as usize + usize::from(d.max(1))) & mask) * n + post as usize] = true;
        };
        <RowDelivery as Deliver<F64>>::deliver(&mut RowDelivery, net, proj, t, spikes, shift, &mut add_and_mark)
    }
}

/// Per neuron, the cores its spikes reach and the synapses into each (in core order),
/// built once so that each spike costs its destination cores, not its synapses.
#[derive(Clone, Debug, Default)]
struct Fanout {
    /// Per population, each neuron's first entry (and one past the last neuron's).
    start: Vec<Vec<usize>>,
    entries: Vec<(u32, u32)>,
}

impl Fanout {
    fn new(net: &Network, m: &NcoreMapping) -> Self {
        let mut start = Vec::with_capacity(net.populations().len());
        let mut entries = Vec::new();
        let mut per_core: Vec<u32> = vec![0; m.cores_used];
        let mut touched: Vec<usize> = Vec::new();
        for p in net.pop_ids() {
            let mut s = Vec::with_capacity(net.pop(p).size as usize + 1);
            for j in 0..net.pop(p).size {
                s.push(entries.len());
                for &q in net.outgoing(p) {
                    let pr = net.proj(q);
                    for &post in pr.synapses.row(j as usize).post {
                        let core = m.core_of(pr.post.index(), post);
                        if per_core[core] == 0 {
                            touched.push(core);
                        }
                        per_core[core] += 1;
                    }
                }
                touched.sort_unstable();
                for &core in &touched {
                    entries.push((core as u32, per_core[core]));
                    per_core[core] = 0;
                }
                touched.clear();
            }
            s.push(entries.len());
            start.push(s);
        }
        Fanout { start, entries }
    }

    fn of(&self, pop: usize, neuron: u32) -> &[(u32, u32)] {
        let s = &self.start[pop];
        &self.entries[s[neuron as usize]..s[neuron as usize + 1]]
    }
}

/// The TrueNorth operating point of Merolla et al. (2014) as a network: `cores` cores of
/// 256 integrate-and-fire neurons, each firing at 20 Hz (a bias current, seeded phases)
/// with 128 synapses (weight 0: they carry spikes without changing the rhythm) to
/// neurons of the next core (whose 256 axons take the 256 neurons, one each). One step is 1 ms.
pub fn operating_point(cores: u32, seed: u64) -> neuromap_ir::spec::NetworkSpec {
    use neuromap_ir::connect::{Connector, Dist, ListEntry};
    use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProjSpec};
    use neuromap_ir::{Lif, LifFlavour, NeuronModel, Param, Receptor, Reset};
    let n = cores * 256;
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let phases: Vec<f64> = (0..n).map(|_| (next() % 1000) as f64 / 1000.0).collect();
    let lif = Lif {
        flavour: LifFlavour::If,
        tau_m: Param::Shared(f64::INFINITY),
        cm: Param::Shared(1.0),
        v_rest: Param::Shared(0.0),
        v_reset: Param::Shared(0.0),
        v_thresh: Param::Shared(1.0),
        t_ref: Param::Shared(0.0),
        tau_syn_e: Param::Shared(0.0),
        tau_syn_i: Param::Shared(0.0),
        // 50 steps of 0.0201 cross the threshold: one spike every 50 ms, 20 Hz.
        i_offset: Param::Shared(0.0201),
        reset: Reset::ToValue,
        v_init: Param::PerNeuron(phases),
        conductance: None,
        adaptation: None,
        linear_leak: None,
    };
    let mut entries = Vec::with_capacity(n as usize * 128);
    for i in 0..n {
        // Each core's 256 neurons drive the next core's 256 axons, one each.
        let core = (i / 256 + 1) % cores.max(1);
        let mut picked: Vec<u32> = Vec::with_capacity(128);
        while picked.len() < 128 {
            let j = core * 256 + (next() % 256) as u32;
            if !picked.contains(&j) {
                picked.push(j);
            }
        }
        picked.sort_unstable();
        entries.extend(picked.into_iter().map(|j| ListEntry { pre: i, post: j, weight: Some(0.0), delay: Some(1.0) }));
    }
    NetworkSpec {
        name: "truenorth-operating-point".into(),
        dt: 1.0,
        seed,
        scale: 1.0,
        populations: vec![PopSpec {
            name: "neurons".into(),
            size: u64::from(n),
            kind: PopSpecKind::Neurons { model: NeuronModel::Lif(lif), v_init_dist: None },
        }],
        projections: vec![ProjSpec {
            name: "recurrent".into(),
            pre: 0,
            post: 0,
            receptor: Receptor::Excitatory,
            connector: Connector::List { entries },
            weight: None,
            delay: Dist::Const { value: 1.0 },
        }],
        probes: Vec::new(),
        assign: Default::default(),
    }
}
