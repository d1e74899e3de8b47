"""Times neuromap on a large NIR CNN against the `nir` package reading the same file.

Run by benches/nir_cnn.sh. Each command runs as its own process; its wall time is
measured here and its peak resident memory read from os.wait4's rusage.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NEUROMAP = os.path.join(ROOT, "target", "release", "neuromap")


def measure(argv):
    """(seconds, peak GiB, stdout) of one process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{out}")
    return dt, ru.ru_maxrss / 2**20, out


def main():
    work = tempfile.mkdtemp(prefix="nir_cnn_")
    net = os.path.join(work, "dvs_cnn.nir")
    subprocess.run([sys.executable, os.path.join(ROOT, "benches", "nir_cnn", "make_cnn.py"), net], check=True)
    size = os.path.getsize(net) / 2**20
    print(f"network: {net} ({size:.1f} MiB): 2x128x128 -> conv 16 -> pool -> conv 64 -> pool -> 256 -> 11")
    nir_read = [sys.executable, "-c", f"import nir; g = nir.read({net!r}); print(len(g.nodes), 'nodes')"]
    rows = [
        ("nir.read (Python, the peer)", nir_read),
        ("neuromap check", [NEUROMAP, "check", net]),
        ("neuromap import (writes .toml)", [NEUROMAP, "import", net, "--nir-dt", "1", "-o", os.path.join(work, "dvs_cnn.toml")]),
    ]
    results = {}
    print(f"\n{'command':<34} {'wall (s)':>9} {'peak (GiB)':>11}")
    for name, argv in rows:
        dt, gib, out = measure(argv)
        results[name] = (dt, gib)
        print(f"{name:<34} {dt:>9.2f} {gib:>11.3f}")
    check_out = measure([NEUROMAP, "check", net])[2].strip()
    print(f"\n{check_out}")
    toml = os.path.join(work, "dvs_cnn.toml")
    print(f"the netlist `import` wrote: {os.path.getsize(toml) / 1e9:.2f} GB")
    one_step = [NEUROMAP, "simulate", net, "--nir-dt", "1", "--steps", "1", "--no-output", "--json"]
    summary = json.loads(subprocess.run(one_step, capture_output=True, text=True, check=True).stdout)
    print("synapses per projection (as built): " + ", ".join(
        f"{p['name']} {p['synapses']:,}" for p in summary["projections"]))
    peer = results["nir.read (Python, the peer)"][0]
    print(f"neuromap check / nir.read wall time: {results['neuromap check'][0] / peer:.2f}")
    run = [NEUROMAP, "run", net, "--nir-dt", "1", "--input-p", "0.05", "--hw", "spinnaker2-board",
           "--steps", "20", "--no-output"]
    dt, gib, out = measure(run)
    print(f"\nneuromap run, 20 steps on spinnaker2-board: {dt:.2f} s, peak {gib:.3f} GiB")
    for line in out.splitlines():
        if line.startswith(("neurons ", "compiled in", "chip = quantised")):
            print("  " + line)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
