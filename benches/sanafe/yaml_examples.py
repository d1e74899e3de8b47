"""SANA-FE 2.2.9's own figures for the three pairs of SANA-FE files in tests/sanafe/
(`bash benches/sanafe_compare.sh` installs sanafe; then
`benches/.venv-sanafe/bin/python benches/sanafe/yaml_examples.py`): total energy,
simulated time, synaptic events ("spikes"), and neurons fired over 20 steps, the figures
tests/sanafe.rs holds neuromap to."""
import sanafe

PAIRS = [
    ("tests/sanafe/example_chip.yaml", "tests/sanafe/example_snn.yaml"),
    ("tests/sanafe/tutorial_arch.yaml", "tests/sanafe/tutorial_snn.yaml"),
    ("tests/sanafe/loihi.yaml", "tests/sanafe/tiny_snn.yaml"),
]

for a, n in PAIRS:
    arch = sanafe.load_arch(a)
    net = sanafe.load_net(n, arch)
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    r = chip.sim(20)
    print("%s on %s: energy %r J, time %r s, synaptic events %d, neurons fired %d"
          % (n, a, r["energy"]["total"], r["sim_time"], r["spikes"], r["neurons_fired"]))
