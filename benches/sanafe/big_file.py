"""A large SANA-FE network file, as SANA-FE writes it, loaded and run by both tools.

Builds the network of compare.py's largest configuration (8,192 LIF neurons with
recurrent probability 0.01 and 1,024 inputs, seed 103) through SANA-FE's Python API on
its Loihi, each neuron mapped as compare.py maps it, and saves it with SANA-FE's own
`Network.save` (about 39 MB). Then times, in one run:

- SANA-FE 2.2.9: `load_arch` + `load_net`, `SpikingChip.load`, `sim(STEPS)`;
- neuromap: the whole `neuromap sanafe tests/sanafe/loihi.yaml FILE --steps STEPS
  --no-output` process;

and prints both and the ratio. Run through `bash benches/sanafe_big_file.sh`.
"""

import os
import subprocess
import sys
import tempfile
import time

sys.argv = sys.argv[:1]
sys.path.insert(0, os.path.dirname(__file__))
import compare as c  # noqa: E402
import sanafe  # noqa: E402


def save(path):
    spikes, pops, projs = c.recurrent(8192, 0.01, 103)
    _, net = c.sanafe_graph(spikes, pops, projs)
    net.save(path)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big_snn.yaml")
        save(path)
        print("network file: %.1f MB, %d steps" % (os.path.getsize(path) / 1e6, c.STEPS))
        t0 = time.perf_counter()
        arch = sanafe.load_arch("tests/sanafe/loihi.yaml")
        net = sanafe.load_net(path, arch)
        t1 = time.perf_counter()
        chip = sanafe.SpikingChip(arch)
        chip.load(net)
        t2 = time.perf_counter()
        chip.sim(c.STEPS)
        t3 = time.perf_counter()
        sf = t3 - t0
        print("SANA-FE: load %.2f s, map %.2f s, simulate %.2f s: %.2f s" % (t1 - t0, t2 - t1, t3 - t2, sf))
        t0 = time.perf_counter()
        subprocess.run(
            ["target/release/neuromap", "sanafe", "tests/sanafe/loihi.yaml", path, "--steps", str(c.STEPS), "--no-output"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        nm = time.perf_counter() - t0
        print("neuromap (whole process): %.2f s" % nm)
        print("SANA-FE / neuromap: %.1f× (target ≥ 10×)" % (sf / nm))


if __name__ == "__main__":
    main()
