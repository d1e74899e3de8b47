"""See benches/sanafe_compare.sh. Each network: `inputs` input neurons firing with
probability 0.1 per step (explicit spike trains, the same in both tools) into `n` LIF
neurons (threshold 1, leak 0.9 per step, reset 0; SANA-FE fires when the potential
exceeds the threshold, so neuromap's s16.15 threshold is one step, 2^-15, above it) with probability 0.1, and recurrent
connections with probability `p`. SANA-FE delivers a spike in the step after it is
sent, so every neuromap projection has a delay of one step. Neurons are placed as
neuromap places them: each population from a fresh core, 1,024 neurons per core.

neuromap runs benches/sanafe/loihi-no-axon-limit.toml: hw-models/loihi.toml without
Loihi's 4,096 input axons per core, which SANA-FE does not model (the 4k and 8k random
networks exceed it, and hw-models/loihi.toml refuses them, saying so)."""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sanafe

STEPS = 100
INPUTS = 64
PER_CORE = 1024
CONFIGS = [(1024, 0.10), (2048, 0.05), (4096, 0.02), (8192, 0.01)]


def network(n, p, seed):
    rng = np.random.default_rng(seed)
    spikes = [sorted(np.nonzero(rng.random(STEPS) < 0.1)[0].tolist()) for _ in range(INPUTS)]
    def edges(n_pre, n_post, prob, scale, mean):
        mask = rng.random((n_pre, n_post)) < prob
        pre, post = np.nonzero(mask)
        w = np.round(rng.normal(mean, scale, len(pre)), 4)
        return list(zip(pre.tolist(), post.tolist(), w.tolist()))
    inp = edges(INPUTS, n, 0.1, 0.2, 0.35)
    rec = edges(n, n, p, 0.3, 0.0)
    rec = [(a, b, w) for a, b, w in rec if a != b]
    return spikes, inp, rec


def netlist(n, spikes, inp, rec, path):
    tau = -1.0 / math.log(0.9)
    with open(path, "w") as f:
        f.write('[network]\nname = "sanafe-cmp"\ndt = 1.0\nseed = 1\nsteps = %d\n\n' % STEPS)
        f.write('[[source]]\nname = "in"\nsize = %d\nkind = "array"\nspikes = [\n' % INPUTS)
        for s in spikes:
            f.write("  [%s],\n" % ", ".join("%d.0" % t for t in s))
        f.write("]\n\n")
        f.write('[[population]]\nname = "liquid"\nsize = %d\nmodel = "lif"\ntau_m = %r\ncm = 1.0\n'
                'v_rest = 0.0\nv_reset = 0.0\nv_thresh = %r\nt_ref = 0.0\ntau_syn_e = 0.0\ntau_syn_i = 0.0\nv_init = 0.0\n\n' % (n, tau, 1.0 + 2.0 ** -15))
        for name, pre, es in (("input", "in", inp), ("recurrent", "liquid", rec)):
            f.write('[[projection]]\nname = "%s"\npre = "%s"\npost = "liquid"\ndelay = 1.0\n\n'
                    '[projection.connector]\nkind = "list"\nentries = [\n' % (name, pre))
            for a, b, w in es:
                f.write("  [%d, %d, %r],\n" % (a, b, w))
            f.write("]\n\n")


def run_sanafe(n, spikes, inp, rec):
    t_build = time.perf_counter()
    arch = sanafe.load_loihi()
    cores = arch.cores()
    net = sanafe.Network()
    gi = net.create_neuron_group("in", INPUTS, {}, soma_hw_name="loihi_inputs[0]")
    gl = net.create_neuron_group("liquid", n, {"threshold": 1.0, "leak_decay": 0.9, "reset": 0.0},
                                 soma_hw_name="loihi_lif")
    for i, nn in enumerate(gi.neurons):
        train = [0] * STEPS
        for t in spikes[i]:
            train[t] = 1
        nn.set_attributes(model_attributes={"spikes": train}, soma_hw_name="loihi_inputs[%d]" % i)
        nn.map_to_core(cores[0])
    for j, nn in enumerate(gl.neurons):
        nn.map_to_core(cores[1 + j // PER_CORE])
    for a, b, w in inp:
        gi.neurons[a].connect_to_neuron(gl.neurons[b], {"weight": w})
    for a, b, w in rec:
        gl.neurons[a].connect_to_neuron(gl.neurons[b], {"weight": w})
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    t0 = time.perf_counter()
    r = chip.sim(STEPS)
    wall = time.perf_counter() - t0
    return r["energy"]["total"], r["sim_time"], r["neurons_fired"] - sum(len(s) for s in spikes), wall, time.perf_counter() - t_build


def run_neuromap(path, out):
    t0 = time.perf_counter()
    subprocess.run(["target/release/neuromap", "run", path, "--hw", "benches/sanafe/loihi-no-axon-limit.toml", "--steps", str(STEPS), "-o", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    rep = json.load(open(os.path.join(out, "report.json")))
    spikes = sum(p["spikes"] for p in rep["populations"] if p["name"] == "liquid")
    return rep["energy"]["dynamic_j"], rep["energy"]["seconds"], spikes, rep["wall_seconds"], wall


def main():
    configs = CONFIGS[:2] if "--quick" in sys.argv else CONFIGS
    print("network       energy/step (nJ)          time/step (µs)          liquid spikes       simulation wall (s)       whole run wall (s)")
    print("n      p      SANA-FE  neuromap  ratio   SANA-FE neuromap ratio   SANA-FE neuromap   SANA-FE neuromap  ratio   SANA-FE neuromap ratio")
    with tempfile.TemporaryDirectory() as tmp:
        for k, (n, p) in enumerate(configs):
            spikes, inp, rec = network(n, p, 100 + k)
            path = os.path.join(tmp, "net%d.toml" % k)
            netlist(n, spikes, inp, rec, path)
            es, ts, ss, ws, wsa = run_sanafe(n, spikes, inp, rec)
            en, tn, sn, wn, wna = run_neuromap(path, os.path.join(tmp, "out%d" % k))
            print("%-6d %-5.2f %8.1f %9.1f %6.3f %9.3f %8.3f %5.3f %9d %8d %9.3f %8.3f %6.1f %9.2f %8.2f %5.1f" % (
                n, p, es / STEPS * 1e9, en / STEPS * 1e9, en / es, ts / STEPS * 1e6, tn / STEPS * 1e6, tn / ts,
                ss, sn, ws, wn, ws / wn, wsa, wna, wsa / wna), flush=True)


if __name__ == "__main__":
    main()
