"""A trained network from NIR to energy per inference on three chip families.

The graph is the braille-reading SNN of the NIR paper (Pedersen et al., Nature
Communications 2024: tests/nir/braille_noDelay_bias_zero.nir, as the NIR fixtures
shipped it). It is read with the `nir` package and handed to neuromap in memory; each
chip model maps it, simulates the mapped chip and prices it. One inference here is one
presentation: `STEPS` steps of the input.

    python examples/python/nir_energy.py            # from the repository root
"""

import sys

import nir

import neuromap

STEPS = 256
MODELS = ["spinnaker2", "loihi", "rram-lsm-40nm"]  # arm-core, neurocore, crossbar


def main(steps: int = STEPS) -> None:
    graph = nir.read("tests/nir/braille_noDelay_bias_zero.nir")
    print(f"{'model':<16} {'family':<10} {'in use (J)':>12} {'dynamic (J)':>12} {'per event (J)':>14} {'slow-down':>9}  spikes")
    for name in MODELS:
        hw = neuromap.hw.load(name)
        r = neuromap.run(graph, hw=hw, steps=steps)
        e = r.energy
        spikes = sum(p.count for k, p in r.spikes.items() if k != "input")
        print(
            f"{name:<16} {hw.family:<10} {e.in_use:>12.4g} {e.dynamic:>12.4g} "
            f"{e.per_synaptic_event['in_use'] or float('nan'):>14.4g} {r.latency.slowdown:>9.3g}  {spikes}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else STEPS)
