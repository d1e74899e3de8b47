"""Writes the small random network tests/neurocore.rs holds neuromap to
(tests/neurocore/sanafe_random.toml and its synapse list) and prints SANA-FE 2.2.9's
figures for it: 256 LIF neurons, 5 % recurrent connectivity, 64 inputs, 100 steps, the
generator and placement of benches/sanafe/compare.py.

    bash benches/sanafe_compare.sh --quick        # installs sanafe once
    benches/.venv-sanafe/bin/python benches/sanafe/pin_random.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402

path = "tests/neurocore/sanafe_random.toml"
spikes, pops, projs = compare.recurrent(256, 0.05, 11)
compare.netlist(spikes, pops, projs, path)
with open(path) as f:
    body = f.read()
with open(path, "w") as f:
    f.write("# Written by benches/sanafe/pin_random.py (the generator of benches/sanafe/compare.py,\n"
            "# seed 11): 64 inputs into 256 LIF neurons, 5 % recurrent; tests/neurocore.rs compares\n"
            "# neuromap's Loihi model with SANA-FE 2.2.9 on it.\n" + body)
energy, time, fired, _, _ = compare.run_sanafe_graph(spikes, pops, projs)
print("SANA-FE: energy %r J, simulated time %r s, spikes %d (inputs not counted)" % (energy, time, fired))
