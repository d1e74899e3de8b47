#!/usr/bin/env bash
# Throughput of a design-space sweep: 200 points on brunel_1k (20 values of
# timing.cycles_per_neuron_update × 10 of timing.cycles_per_synaptic_event on
# spinnaker1, 200 steps each) on 1 thread and on 2, in one run; prints the wall times,
# the speed-up, and whether the two CSVs are the same byte for byte (exit status 1 if
# they are not).
#
#   bash benches/dse_sweep.sh [THREADS]     # default 2
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
cargo build --release -q --bin neuromap
bin=target/release/neuromap
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
neurons=$(seq -s, 20 20 400)
synapses=$(seq -s, 10 10 100)
run() {
  local t=$1
  local start end
  start=$(date +%s.%N)
  "$bin" sweep netlists/brunel_1k.toml --hw spinnaker1 --steps 200 --threads "$t" \
    --set "timing.cycles_per_neuron_update=$neurons" --set "timing.cycles_per_synaptic_event=$synapses" \
    -o "$out/t$t" > "$out/log$t" 2>&1 || { cat "$out/log$t" >&2; echo "the sweep on $t threads failed" >&2; return 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
one=$(run 1)
many=$(run "$threads")
points=$(($(wc -l < "$out/t1/sweep.csv") - 1))
printf 'points: %d\n1 thread:  %.2f s (%.1f points/s)\n%d threads: %.2f s (%.1f points/s)\nspeed-up: %.2fx\n' \
  "$points" "$one" "$(echo "$points / $one" | bc -l)" "$threads" "$many" "$(echo "$points / $many" | bc -l)" \
  "$(echo "$one / $many" | bc -l)"
if cmp -s "$out/t1/sweep.csv" "$out/t$threads/sweep.csv"; then
  echo "rows: identical on 1 and $threads threads"
else
  echo "rows: DIFFER between 1 and $threads threads" >&2
  exit 1
fi
