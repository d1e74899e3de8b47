"""Times the CLI and the Python package on the same runs, alternating, and prints the
median wall times and the ratios (see python_overhead.sh):

- CLI: `neuromap run NET --hw MODEL --steps N --no-output`, as a process;
- call: `neuromap.run(NET, hw=MODEL, steps=N)` in this interpreter (what a notebook
  pays; the package imported once);
- process: `python -c "import neuromap; neuromap.run(...)"`, interpreter start and
  import included.
"""

import os
import statistics
import subprocess
import sys
import time

import neuromap

REPS = int(os.environ.get("REPS", "5"))
CASES = [
    ("netlists/brunel_1k.toml", "spinnaker1-spinn5", 2000),
    ("netlists/brunel_10k.toml", "spinnaker1-spinn5", 1000),
    ("netlists/lsm.toml", "rram-lsm-40nm", 1000),
    ("netlists/synfire_if.toml", "truenorth", 1000),
]


def timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def main():
    print(f"{'network':<18} {'model':<18} {'steps':>5} {'CLI (s)':>8} {'call (s)':>9} {'ratio':>6} {'process (s)':>12} {'ratio':>6}")
    worst = 0.0
    for net, hw, steps in CASES:
        cli = ["target/release/neuromap", "run", net, "--hw", hw, "--steps", str(steps), "--no-output"]
        py = [sys.executable, "-c", f"import neuromap; neuromap.run({net!r}, hw={hw!r}, steps={steps})"]
        quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        a, b, c = [], [], []
        for _ in range(REPS):
            a.append(timed(lambda: subprocess.run(cli, **quiet)))
            b.append(timed(lambda: neuromap.run(net, hw=hw, steps=steps)))
            c.append(timed(lambda: subprocess.run(py, **quiet)))
        ma, mb, mc = (statistics.median(x) for x in (a, b, c))
        worst = max(worst, mb / ma)
        name = os.path.basename(net).removesuffix(".toml")
        print(f"{name:<18} {hw:<18} {steps:>5} {ma:>8.3f} {mb:>9.3f} {mb / ma:>6.3f} {mc:>12.3f} {mc / ma:>6.3f}")
    print(f"largest call/CLI ratio: {worst:.3f} (target ≤ 1.05)")


if __name__ == "__main__":
    main()
