#!/usr/bin/env bash
# The microcircuit at scale 0.1 over 500 ms under each s16.15 rounding mode: spike-count
# error of the quantised model against the f64 reference, per population, over several
# network seeds (the network is chaotic, so one seed's error mixes the rounding's bias
# with where the run's spike trains happened to go).
#
#   bash benches/rounding_microcircuit.sh [SEEDS]     # default 6 seeds: 1..6
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-6}
cargo build --release -q --bin neuromap
out=$(mktemp)
for seed in $(seq 1 "$seeds"); do
  for mode in truncate nearest stochastic; do
    ./target/release/neuromap simulate netlists/microcircuit.toml --scale 0.1 --steps 5000 \
      --quantised --rounding "$mode" --seed "$seed" --no-output |
      awk -v m="$mode" -v s="$seed" '/count error/{on=1; next} on && /^L/{gsub("%","",$4); print m, s, $1, $4}' >> "$out"
  done
done
python3 - "$out" "$seeds" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
modes = ["truncate", "nearest", "stochastic"]
pops = sorted({r[2] for r in rows})
err = {(m, p): [float(r[3]) for r in rows if r[0] == m and r[2] == p] for m in modes for p in pops}
print(f"spike-count error against the f64 reference, mean ± standard deviation over {sys.argv[2]} seeds (%)\n")
print(f"| population | {' | '.join(modes)} |")
print("|---|" + "---|" * len(modes))
for p in pops:
    cells = [f"{statistics.mean(err[m, p]):+.2f} ± {statistics.stdev(err[m, p]):.2f}" for m in modes]
    print(f"| {p} | {' | '.join(cells)} |")
worst = {m: max(abs(statistics.mean(err[m, p])) for p in pops) for m in modes}
print("\nlargest |mean error|: " + ", ".join(f"{m} {worst[m]:.2f} %" for m in modes))
PY
rm -f "$out"
