"""See benches/sanafe_compare.sh. The networks, generated once (seeded) and given to
both tools with the same synapses, input spike trains and placement:

- random recurrent: 64 inputs firing with probability 0.1 per step into `n` LIF neurons
  with probability 0.1, and recurrent connections with probability `p`;
- convolutional: a 16 x 16 input, two 3 x 3 convolutions of 8 channels, feed-forward.

LIF neurons: threshold 1, leak 0.9 per step, reset 0. SANA-FE's Python API stores a float
attribute in single precision (pymodule.cpp casts a Python float to C++ float), so its
leak is float32(0.9) = 0.89999997615814..., and neuromap's netlists give the time
constant whose exp(-1/tau) is that value to the last bit. SANA-FE fires when the potential
exceeds the threshold, so neuromap's threshold is the next double above it. Weights are
multiples of 1/256 below 1 in magnitude: Loihi weights (a 9-bit mantissa at exponent -8),
which neuromap's Loihi model holds exactly and SANA-FE takes as they are.
SANA-FE delivers a spike in the step after it is sent: every neuromap projection has a
delay of one step. Neurons are placed as neuromap places them: the neuron populations in
order, each from a fresh core, 1,024 neurons per core, then the inputs.

neuromap runs benches/sanafe/loihi-no-axon-limit.toml: hw-models/loihi.toml without
Loihi's 4,096 input axons per core, which SANA-FE does not model (the 4k and 8k random
networks exceed it, and hw-models/loihi.toml refuses them, saying so). Last, TrueNorth's
energy per synaptic event at its published operating point, beside the published 26 pJ."""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sanafe

# The leak as SANA-FE's Python API holds it (single precision).
LEAK = float(np.float32(0.9))


def tau_for(a):
    """The time constant (steps) whose exp(-1/tau) is `a` exactly."""
    t = -1.0 / math.log(a)
    for _ in range(64):
        d = math.exp(-1.0 / t)
        if d == a:
            return t
        t = math.nextafter(t, math.inf if d < a else -math.inf)
    raise ValueError("no time constant gives a decay of %r exactly" % a)


# Loihi weights: mantissa/256, |mantissa| <= 255.
def loihi_weights(w):
    return np.clip(np.round(np.asarray(w) * 256.0), -255, 255) / 256.0

STEPS = 100
INPUTS = 64
# Neurons per core: 1,024 (Loihi's compartments), or `--per-core N` for placements of
# few neurons per core (more cores, more messages between them).
PER_CORE = int(sys.argv[sys.argv.index("--per-core") + 1]) if "--per-core" in sys.argv else 1024
CONFIGS = [(1024, 0.10), (2048, 0.05), (4096, 0.02), (8192, 0.01)]


def network(n, p, seed):
    rng = np.random.default_rng(seed)
    spikes = [sorted(np.nonzero(rng.random(STEPS) < 0.1)[0].tolist()) for _ in range(INPUTS)]
    def edges(n_pre, n_post, prob, scale, mean):
        mask = rng.random((n_pre, n_post)) < prob
        pre, post = np.nonzero(mask)
        w = loihi_weights(rng.normal(mean, scale, len(pre)))
        return list(zip(pre.tolist(), post.tolist(), w.tolist()))
    inp = edges(INPUTS, n, 0.1, 0.2, 0.35)
    rec = edges(n, n, p, 0.3, 0.0)
    rec = [(a, b, w) for a, b, w in rec if a != b]
    return spikes, inp, rec


def conv_network(seed):
    """A feed-forward convolutional network: a 16 x 16 input, two 3 x 3 convolutions of
    8 channels (8 x 14 x 14 and 8 x 12 x 12 LIF neurons), explicit synapses."""
    rng = np.random.default_rng(seed)
    side, ch = 16, 8
    spikes = [sorted(np.nonzero(rng.random(STEPS) < 0.1)[0].tolist()) for _ in range(side * side)]
    def conv(cin, hin, cout, scale, mean):
        hout = hin - 2
        w = loihi_weights(rng.normal(mean, scale, (cout, cin, 3, 3)))
        edges = []
        for o in range(cout):
            for y in range(hout):
                for x in range(hout):
                    post = (o * hout + y) * hout + x
                    for c in range(cin):
                        for ky in range(3):
                            for kx in range(3):
                                pre = (c * hin + y + ky) * hin + x + kx
                                edges.append((pre, post, float(w[o, c, ky, kx])))
        return edges, cout * hout * hout
    e1, n1 = conv(1, side, ch, 0.3, 0.25)
    e2, n2 = conv(ch, side - 2, ch, 0.15, 0.05)
    return spikes, [("c1", n1), ("c2", n2)], [("in", "c1", e1), ("c1", "c2", e2)]


def recurrent(n, p, seed):
    spikes, inp, rec = network(n, p, seed)
    return spikes, [("liquid", n)], [("in", "liquid", inp), ("liquid", "liquid", rec)]


def netlist(spikes, pops, projs, path):
    tau = tau_for(LEAK)
    with open(path, "w") as f:
        f.write('[network]\nname = "sanafe-cmp"\ndt = 1.0\nseed = 1\nsteps = %d\n\n' % STEPS)
        f.write('[[source]]\nname = "in"\nsize = %d\nkind = "array"\nspikes = [\n' % len(spikes))
        for s in spikes:
            f.write("  [%s],\n" % ", ".join("%d.0" % t for t in s))
        f.write("]\n\n")
        for name, n in pops:
            f.write('[[population]]\nname = "%s"\nsize = %d\nmodel = "lif"\ntau_m = %r\ncm = 1.0\n'
                    'v_rest = 0.0\nv_reset = 0.0\nv_thresh = %r\nt_ref = 0.0\ntau_syn_e = 0.0\ntau_syn_i = 0.0\nv_init = 0.0\n\n'
                    % (name, n, tau, math.nextafter(1.0, 2.0)))
        for k, (pre, post, es) in enumerate(projs):
            # The synapses in a list file beside the netlist (`file` connector).
            csv = "%s.p%d.csv" % (os.path.splitext(os.path.basename(path))[0], k)
            f.write('[[projection]]\nname = "p%d"\npre = "%s"\npost = "%s"\ndelay = 1.0\n'
                    'connector = { kind = "file", path = "%s" }\n\n' % (k, pre, post, csv))
            with open(os.path.join(os.path.dirname(path), csv), "w") as g:
                g.write("".join("%d %d %r\n" % (a, b, w) for a, b, w in es))


def sanafe_graph(spikes, pops, projs):
    """The network through SANA-FE's Python API on its Loihi, each neuron mapped as
    neuromap places it: the neuron populations in order, each from a fresh core, then
    the inputs. Returns (architecture, network)."""
    arch = sanafe.load_loihi()
    cores = arch.cores()
    net = sanafe.Network()
    first, core = {}, 0
    for name, n in pops:
        first[name] = core
        core += (n + PER_CORE - 1) // PER_CORE
    first["in"] = core
    gi = net.create_neuron_group("in", len(spikes), {}, soma_hw_name="loihi_inputs[0]")
    groups = {"in": gi}
    for i, nn in enumerate(gi.neurons):
        train = [0] * STEPS
        for t in spikes[i]:
            train[t] = 1
        nn.set_attributes(model_attributes={"spikes": train}, soma_hw_name="loihi_inputs[%d]" % i)
        nn.map_to_core(cores[first["in"] + i // PER_CORE])
    for name, n in pops:
        g = net.create_neuron_group(name, n, {"threshold": 1.0, "leak_decay": LEAK, "reset": 0.0}, soma_hw_name="loihi_lif")
        for j, nn in enumerate(g.neurons):
            nn.map_to_core(cores[first[name] + j // PER_CORE])
        groups[name] = g
    for pre, post, es in projs:
        a, b = groups[pre].neurons, groups[post].neurons
        for i, j, w in es:
            a[i].connect_to_neuron(b[j], {"weight": w})
    return arch, net


def run_sanafe_graph(spikes, pops, projs):
    t_build = time.perf_counter()
    arch, net = sanafe_graph(spikes, pops, projs)
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    t0 = time.perf_counter()
    r = chip.sim(STEPS)
    wall = time.perf_counter() - t0
    return r["energy"]["total"], r["sim_time"], r["neurons_fired"] - sum(len(s) for s in spikes), wall, time.perf_counter() - t_build


def model_file(tmp):
    """benches/sanafe/loihi-no-axon-limit.toml with PER_CORE neurons per core."""
    path = os.path.join(tmp, "loihi-%d.toml" % PER_CORE)
    text = open("benches/sanafe/loihi-no-axon-limit.toml").read()
    base = os.path.abspath("hw-models/loihi.toml")
    text = text.replace('base = "../../hw-models/loihi.toml"', 'base = "%s"' % base)
    with open(path, "w") as f:
        f.write(text.replace("[core]\n", "[core]\nneurons_per_core = { value = %d, assumption = \"the placement of the comparison\" }\n" % PER_CORE, 1))
    return path


def run_neuromap(path, out):
    t0 = time.perf_counter()
    hw = model_file(os.path.dirname(path))
    subprocess.run(["target/release/neuromap", "run", path, "--hw", hw, "--steps", str(STEPS), "-o", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    rep = json.load(open(os.path.join(out, "report.json")))
    spikes = sum(p["spikes"] for p in rep["populations"] if p["name"] != "in")
    # SANA-FE prices events only: the ledger's dynamic basis; its time is the wall time.
    return rep["energy"]["dynamic"]["joules"], rep["energy"]["time"]["wall_s"], spikes, rep["wall_seconds"], wall


def truenorth(tmp):
    path = os.path.join(tmp, "tn.toml")
    subprocess.run(["target/release/neuromap", "generate", "truenorth-operating-point", "-o", path], check=True,
                   stdout=subprocess.DEVNULL)
    out = os.path.join(tmp, "tn")
    subprocess.run(["target/release/neuromap", "run", path, "--hw", "truenorth", "-o", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rep = json.load(open(os.path.join(out, "report.json")))
    # A published point is a chip whose every core runs the workload: the parts in use.
    return rep["energy"]["in_use"]["per_synaptic_event_j"]


def main():
    configs = CONFIGS[:2] if "--quick" in sys.argv else CONFIGS
    nets = [("%d, %g" % (n, p), lambda n=n, p=p, k=k: recurrent(n, p, 100 + k)) for k, (n, p) in enumerate(configs)]
    nets.append(("conv 16x16", lambda: conv_network(7)))
    print("network       energy/step (nJ)          time/step (µs)          spikes               simulation wall (s)       whole run wall (s)")
    print("              SANA-FE  neuromap  ratio   SANA-FE neuromap ratio   SANA-FE neuromap   SANA-FE neuromap  ratio   SANA-FE neuromap ratio")
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, make) in enumerate(nets):
            spikes, pops, projs = make()
            path = os.path.join(tmp, "net%d.toml" % k)
            netlist(spikes, pops, projs, path)
            es, ts, ss, ws, wsa = run_sanafe_graph(spikes, pops, projs)
            en, tn, sn, wn, wna = run_neuromap(path, os.path.join(tmp, "out%d" % k))
            print("%-12s %8.1f %9.1f %6.3f %9.3f %8.3f %5.3f %9d %8d %9.3f %8.3f %6.1f %9.2f %8.2f %5.1f" % (
                label, es / STEPS * 1e9, en / STEPS * 1e9, en / es, ts / STEPS * 1e6, tn / STEPS * 1e6, tn / ts,
                ss, sn, ws, wn, ws / wn, wsa, wna, wsa / wna), flush=True)
        e = truenorth(tmp)
        print("\nTrueNorth at its operating point (20 Hz, 128 active synapses per neuron): %.2f pJ per synaptic event;"
              " published 26 pJ (Merolla et al. 2014)" % (e * 1e12))


if __name__ == "__main__":
    main()
