#!/usr/bin/env python3
"""Writes the netlists that are too repetitive to write by hand.

    python3 netlists/generate.py          # rewrites synfire.toml, synfire_if.toml, microcircuit.toml, binary_conv.toml

Standard library only; the output is deterministic (fixed seeds), so running it again
changes nothing unless this script changes.
"""
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))



def background(groups, width, weight, delay):
    """One Poisson source per neuron of a synfire chain, as a list per group (index ranges)."""
    out = []
    for g in range(groups):
        entries = ", ".join(f"[{g * width + i}, {i}]" for i in range(width))
        out += [
            "[[projection]]",
            f'name = "background->g{g}"',
            'pre = "background"',
            f'post = "g{g}"',
            f"connector = {{ kind = \"list\", entries = [{entries}] }}",
            f"weight = {weight}",
            f"delay = {delay}",
            "",
        ]
    return out

def synfire():
    groups, width = 10, 100
    rng = random.Random(12345)
    out = [
        "# Synfire chain: 10 groups of 100 LIF neurons, each neuron driven by every neuron of",
        "# the previous group; a synchronous pulse packet injected into group 0 every 50 ms",
        "# travels down the chain over Poisson background noise.",
        "#",
        "# Source: M. Diesmann, M.-O. Gewaltig & A. Aertsen, \"Stable propagation of synchronous",
        "# spiking in cortical neural networks\", Nature 402:529–533 (1999): groups of w = 100,",
        "# full feed-forward connectivity, tau_m 10 ms, threshold 15 mV above rest, t_ref 1 ms.",
        "# Here with exponential instead of alpha synapses (tau_syn 0.5 ms); 0.15 nA per synapse",
        "# gives 0.3 mV of charge per input, so about half of a packet reaches threshold.",
        "# Written by netlists/generate.py.",
        "",
        "[network]",
        'name = "synfire"',
        "dt = 0.1",
        "seed = 5",
        "steps = 1500   # 150 ms",
        "",
    ]
    for g in range(groups):
        out += [
            "[[population]]",
            f'name = "g{g}"',
            f"size = {width}",
            'model = "lif"',
            "tau_m = 10.0",
            "cm = 0.25",
            "v_rest = -70.0",
            "v_reset = -70.0",
            "v_thresh = -55.0",
            "t_ref = 1.0",
            "tau_syn_e = 0.5",
            "tau_syn_i = 0.5",
            "",
        ]
    times = []
    for _ in range(width):
        times.append([round(t0 + rng.gauss(0.0, 0.5), 1) for t0 in (10.0, 60.0, 110.0)])
    out += ["[[source]]", 'name = "stimulus"', f"size = {width}", 'kind = "array"', "spikes = ["]
    out += ["  [" + ", ".join(f"{t:.1f}" for t in ts) + "]," for ts in times]
    out += ["]", ""]
    out += ["[[source]]", 'name = "background"', f"size = {groups * width}", 'kind = "poisson"', "rate = 2000.0", ""]
    out += [
        "[[projection]]",
        'pre = "stimulus"',
        'post = "g0"',
        'connector = "all_to_all"',
        "weight = 0.15",
        "delay = 1.0",
        "",
    ]
    for g in range(1, groups):
        out += [
            "[[projection]]",
            f'pre = "g{g - 1}"',
            f'post = "g{g}"',
            'connector = "all_to_all"',
            "weight = 0.15",
            "delay = 1.0",
            "",
        ]
    out += background(groups, width, weight=0.1, delay=0.1)
    return "\n".join(out)


def synfire_if():
    """The synfire chain in TrueNorth's own neuron: integrate-and-fire with a linear
    leak and delta synapses, a 1 ms step (TrueNorth's tick)."""
    groups, width = 10, 100
    rng = random.Random(4242)
    out = [
        "# Synfire chain of integrate-and-fire neurons with a linear leak: TrueNorth's own",
        "# neuron (Cassidy et al., IJCNN 2013: delta synapses, a constant leak toward zero,",
        "# no refractory period, a 1 ms tick), so the network runs on hw-models/truenorth.toml",
        "# in the chip's integer arithmetic as well as on every other family.",
        "#",
        "# 10 groups of 100 neurons, each driven by every neuron of the previous group, as in",
        "# Diesmann, Gewaltig & Aertsen, Nature 402:529 (1999); a pulse packet (100 spikes,",
        "# jitter 0.5 ms) enters group 0 every 50 ms over Poisson background noise. A packet",
        "# puts 100 × 0.2 mV on a 15 mV threshold; the leak of 0.25 mV/ms holds the",
        "# background's 0.2 mV/ms (200 Hz × 1 mV) below it. Written by netlists/generate.py.",
        "",
        "[network]",
        'name = "synfire_if"',
        "dt = 1.0",
        "seed = 7",
        "steps = 150   # 150 ms",
        "",
    ]
    for g in range(groups):
        out += [
            "[[population]]",
            f'name = "g{g}"',
            f"size = {width}",
            'model = "if"',
            "v_reset = 0.0",
            "v_thresh = 15.0",
            "leak = 0.25",
            "",
        ]
    times = []
    for _ in range(width):
        times.append([round(t0 + rng.gauss(0.0, 0.5)) for t0 in (10.0, 60.0, 110.0)])
    out += ["[[source]]", 'name = "stimulus"', f"size = {width}", 'kind = "array"', "spikes = ["]
    out += ["  [" + ", ".join(f"{t:.1f}" for t in ts) + "]," for ts in times]
    out += ["]", ""]
    out += ["[[source]]", 'name = "background"', f"size = {groups * width}", 'kind = "poisson"', "rate = 200.0", ""]
    chain = [("stimulus", "g0")] + [(f"g{g - 1}", f"g{g}") for g in range(1, groups)]
    for pre, post in chain:
        out += ["[[projection]]", f'pre = "{pre}"', f'post = "{post}"', 'connector = "all_to_all"', "weight = 0.2",
                "delay = 1.0", ""]
    out += background(groups, width, weight=1.0, delay=1.0)
    return "\n".join(out)



# Potjans & Diesmann (2014), Cereb. Cortex 24:785–806, Table 5; NEST's microcircuit example.
POPS = ["L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i"]
SIZES = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
# conn_probs[target][source]
PROBS = [
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
]
K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]
BG_RATE = 8.0  # Hz per external input
W = 0.0878  # nA (87.8 pA PSC amplitude)
G = -4.0


def microcircuit():
    out = [
        "# Potjans–Diesmann cortical microcircuit: 8 populations (L2/3, L4, L5, L6; E and I),",
        "# 77,169 neurons and about 3×10⁸ synapses at scale 1, Poisson background drive.",
        "#",
        "# Source: T. C. Potjans & M. Diesmann, \"The cell-type specific cortical microcircuit\",",
        "# Cereb. Cortex 24(3):785–806 (2014), Tables 4–5, and NEST's microcircuit example:",
        "# iaf_psc_exp (C_m 250 pF, tau_m 10 ms, E_L = V_reset −65 mV, V_th −50 mV, t_ref 2 ms,",
        "# tau_syn 0.5 ms), PSC 87.8 pA ± 10 % (×2 for L4e→L23e), g = −4, delays 1.5 ± 0.75 ms",
        "# (E) and 0.75 ± 0.375 ms (I) truncated at dt, V0 ~ N(−58, 10) mV, background",
        "# K_ext × 8 Hz Poisson per neuron. Total synapses per projection",
        "# K = log(1 − p)/log(1 − 1/(N_pre·N_post)), drawn with multapses (fixed_total_number).",
        "# `scale` multiplies sizes and K (in-degrees kept): `--scale 0.1` runs a 10 % model.",
        "# Written by netlists/generate.py.",
        "",
        "[network]",
        'name = "microcircuit"',
        "dt = 0.1",
        "seed = 55",
        "scale = 1.0",
        "steps = 1000   # 100 ms",
        "",
    ]
    for name, n in zip(POPS, SIZES):
        out += [
            "[[population]]",
            f'name = "{name}"',
            f"size = {n}",
            'model = "lif"',
            "tau_m = 10.0",
            "cm = 0.25",
            "v_rest = -65.0",
            "v_reset = -65.0",
            "v_thresh = -50.0",
            "t_ref = 2.0",
            "tau_syn_e = 0.5",
            "tau_syn_i = 0.5",
            "v_init = { normal = [-58.0, 10.0] }",
            "",
        ]
    for name, n, k in zip(POPS, SIZES, K_EXT):
        out += [
            "[[source]]",
            f'name = "bg_{name}"',
            f"size = {n}",
            'kind = "poisson"',
            f"rate = {k * BG_RATE:.1f}   # {k} inputs × {BG_RATE} Hz",
            "",
        ]
        out += [
            "[[projection]]",
            f'pre = "bg_{name}"',
            f'post = "{name}"',
            'connector = "one_to_one"',
            f"weight = {W}",
            "delay = 0.1",
            "",
        ]
    for t, (tname, nt) in enumerate(zip(POPS, SIZES)):
        for s, (sname, ns) in enumerate(zip(POPS, SIZES)):
            p = PROBS[t][s]
            if p == 0.0:
                continue
            k = round(math.log(1.0 - p) / math.log((ns * nt - 1.0) / (ns * nt)))
            exc = sname.endswith("e")
            w = W * (2.0 if (sname, tname) == ("L4e", "L23e") else 1.0) * (1.0 if exc else G)
            out += [
                "[[projection]]",
                f'pre = "{sname}"',
                f'post = "{tname}"',
            ]
            if not exc:
                out.append('receptor = "inhibitory"')
            out.append(f'connector = {{ kind = "fixed_total_number", n = {k} }}')
            bound = "min = 0.0" if exc else "max = 0.0"
            out.append(f"weight = {{ normal = [{w:.4f}, {abs(w) * 0.1:.5f}], {bound} }}")
            d, sd = (1.5, 0.75) if exc else (0.75, 0.375)
            out.append(f"delay = {{ normal = [{d}, {sd}], min = 0.1 }}")
            out.append("")
    return "\n".join(out)


def binary_conv():
    """A binary convolutional network: every kernel weight is shared by all positions."""
    rng = random.Random(2020)
    side, ch = 16, 8

    def kernel(cout, cin):
        return [rng.choice((-1, 1)) for _ in range(cout * cin * 9)]

    def flat(ws):
        rows = [", ".join("%d.0" % w for w in ws[i:i + 18]) for i in range(0, len(ws), 18)]
        return "[\n  " + ",\n  ".join(rows) + ",\n]"

    out = [
        "# Binary convolutional network 1x16x16 -> conv 3x3 (8 channels) -> conv 3x3 (8) -> 10,",
        "# ±1 weights (seeded), sign activations read as ±1 (bipolar encoding), one input",
        "# pattern per step. Every output position of a channel applies the same kernel, so",
        "# an array that broadcasts a weight to all the PEs of a batch computing that channel",
        "# reads it once per batch (weight reuse), unlike binary_mlp.toml, whose weights are",
        "# each used once.",
        "#",
        "# Source: the convolutional BNN layers of Courbariaux et al., \"Binarized Neural",
        "# Networks\" (NeurIPS 2016), at a small size; TULIP (Wagle et al., ICCD 2020) reports",
        "# its 3x energy efficiency over a MAC-based design on such networks. Weights are random",
        "# (no training data is downloaded). Written by netlists/generate.py.",
        "",
        "[network]",
        'name = "binary-conv"',
        "dt = 1.0",
        "seed = 5",
        "steps = 100",
        "",
        "[[source]]",
        'name = "input"',
        "size = %d" % (side * side),
        'kind = "bernoulli"',
        "p = 0.5",
        "",
    ]
    for name, size in [("c1", ch * 14 * 14), ("c2", ch * 12 * 12), ("output", 10)]:
        out += ["[[population]]", 'name = "%s"' % name, "size = %d" % size, 'model = "threshold"',
                "theta = 0.0", 'encoding = "bipolar"', ""]
    for pre, post, cin, hin in [("input", "c1", 1, side), ("c1", "c2", ch, side - 2)]:
        out += ["[[projection]]", 'pre = "%s"' % pre, 'post = "%s"' % post,
                "connector = { kind = \"conv2d\", in_shape = [%d, %d, %d], out_channels = %d, kernel = 3, weights = %s }"
                % (cin, hin, hin, ch, flat(kernel(ch, cin))),
                "delay = 0.0", ""]
    out += ["[[projection]]", 'pre = "c2"', 'post = "output"', 'connector = "all_to_all"',
            "weight = { choice = [-1.0, 1.0] }", "delay = 0.0", ""]
    return "\n".join(out)


if __name__ == "__main__":
    for name, text in [("synfire.toml", synfire()), ("synfire_if.toml", synfire_if()), ("microcircuit.toml", microcircuit()), ("binary_conv.toml", binary_conv())]:
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            f.write(text.rstrip() + "\n")
        print("wrote", name)
