#!/usr/bin/env bash
# The chip simulation split over 2 MPI ranks is the run in one process, bit for bit:
# builds neuromap with the `mpi` feature, runs the same job with `--threads 1` and
# under `mpirun -n 2 … --threads 2` (4 shards; once with 3 ranks), and compares every file written
# (reports without their wall-clock seconds; the configuration without the threads
# and ranks it records). Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-mpi.sh
cargo build --release -q --features mpi
bin=target/release/neuromap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Open MPI refuses root unless told; CI containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
check() {
    local name=$1
    shift
    "$bin" run "$@" --threads 1 -o "$work/$name-1" >"$work/$name-1.txt" 2>&1
    local ranks=${RANKS:-2}
    mpirun --oversubscribe -n "$ranks" "$bin" run "$@" --threads 2 -o "$work/$name-2" >"$work/$name-2.txt" 2>&1 \
        || { cat "$work/$name-2.txt"; exit 1; }
    if [ "${ALONE:-}" = 1 ]; then
        # Not split: rank 0 runs the job alone and says nothing of ranks.
        ! grep -q "MPI ranks" "$work/$name-2.txt" || { echo "$name: split over ranks"; exit 1; }
    else
        grep -q "$ranks MPI ranks × 2 threads" "$work/$name-2.txt" || { echo "$name: not split over $ranks ranks"; cat "$work/$name-2.txt"; exit 1; }
    fi
    python3 - "$work/$name-1" "$work/$name-2" "$ranks" <<'PY'
import json, os, sys
a, b = sys.argv[1:3]
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if k not in ("wall_seconds", "threads", "ranks")}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
files = sorted(os.listdir(a))
assert files == sorted(os.listdir(b)), (files, sorted(os.listdir(b)))
for f in files:
    x, y = open(os.path.join(a, f), "rb").read(), open(os.path.join(b, f), "rb").read()
    if f.endswith(".json"):
        same = clean(json.loads(x)) == clean(json.loads(y))
    elif f.endswith(".html"):
        continue  # the page embeds report.json, compared above
    else:
        same = x == y
    assert same, f"{f} differs between 1 process and {sys.argv[3]} ranks"
spikes = sum(1 for _ in open(os.path.join(a, "spikes.csv"))) - 1
assert spikes > 0, "the network is silent"
print(f"{os.path.basename(a)[:-2]}: {len(files)} files identical on 1 process and {sys.argv[3]} MPI ranks ({spikes} spikes)")
PY
}
# A plain run, random packet loss (drawn per link crossing, whichever rank models
# the link), and a 5 % microcircuit on the 1,296-chip machine model.
check brunel10k netlists/brunel_10k.toml --hw spinnaker1-spinn5 --steps 200
check lossy netlists/brunel_1k.toml --hw spinnaker1-spinn5 --steps 300 --drop-rate 0.01 --fault-seed 2
check microcircuit netlists/microcircuit.toml --scale 0.05 --hw spinnaker1-machine --steps 300
# Three ranks: a process then sees packets and flags from two others (the exchange's
# choice of one collective or two must be every process's).
RANKS=3 check lossy3 netlists/brunel_1k.toml --hw spinnaker1-spinn5 --steps 300 --drop-rate 0.01 --fault-seed 2
# A hybrid chip (its tiles count in one process) runs on rank 0 alone, as one process.
ALONE=1 check hybrid netlists/lsm.toml --hw hybrid-spinn2-rram --steps 200

# A deadline (--time-limit) on every rank stops them all cleanly after the same step,
# and rank 0 writes what was done. The deadline counts from the start, so it must fall
# inside the simulation: Brunel-1k loads and compiles in a fraction of a second (a
# deadline before the simulation starts refuses the run and writes nothing), and its
# 10^7 steps take far longer than 5 s.
mpirun --oversubscribe -n 2 "$bin" run netlists/brunel_1k.toml --hw spinnaker1-spinn5 --steps 10000000 \
    --time-limit 5 -o "$work/deadline" >"$work/deadline.txt" 2>&1 || { cat "$work/deadline.txt"; exit 1; }
grep -q "time limit: stopped after" "$work/deadline.txt" && [ -s "$work/deadline/report.json" ] \
    || { echo "deadline: not stopped cleanly"; cat "$work/deadline.txt"; exit 1; }
n=$(grep -c "^checking the" "$work/deadline.txt" || true)
[ "$n" = 1 ] || { echo "deadline: the checks announced $n times, not once"; cat "$work/deadline.txt"; exit 1; }
echo "deadline: $(grep -o "stopped after [0-9]* of 10000000 steps" "$work/deadline.txt") on both ranks, files written"

# An input warning is printed once, by rank 0, not once per rank.
sed 's/^weight = -6.25.*/weight = 6.25/' netlists/brunel_1k.toml >"$work/warn.toml"
mpirun --oversubscribe -n 2 "$bin" run "$work/warn.toml" --hw spinnaker1-spinn5 --steps 10 --no-output \
    >"$work/warn.txt" 2>&1 || { cat "$work/warn.txt"; exit 1; }
n=$(grep -c "warn.toml:88:10: warning" "$work/warn.txt" || true)
[ "$n" = 1 ] || { echo "warning: printed $n times over 2 ranks, not once"; cat "$work/warn.txt"; exit 1; }
echo "warning: printed once over 2 ranks"

# A sweep's points shared out over 2 ranks: the same rows, files and front.
sweep=(sweep netlists/lsm.toml --hw rram-lsm-40nm --set adc.bits=2,4,6,8,10 --objective energy,rate_error --steps 100)
"$bin" "${sweep[@]}" -o "$work/sweep-1" >"$work/sweep-1.txt" 2>&1
mpirun --oversubscribe -n 2 "$bin" "${sweep[@]}" -o "$work/sweep-2" >"$work/sweep-2.txt" 2>&1 \
    || { cat "$work/sweep-2.txt"; exit 1; }
grep -q "5 points on 2 MPI ranks" "$work/sweep-2.txt" || { echo "sweep: not shared over 2 ranks"; exit 1; }
# The page's summary says how long the sweep took; that is the one thing that may differ.
wallless() { sed -E 's/points in [0-9.]+ s;/points in … s;/' "$1"; }
for f in "$work"/sweep-1/*; do
    cmp -s <(wallless "$f") <(wallless "$work/sweep-2/$(basename "$f")") || { echo "sweep: $(basename "$f") differs"; exit 1; }
done
grep -q "front:" "$work/sweep-2.txt" || { echo "sweep: no point on the front"; exit 1; }
echo "sweep: $(ls "$work/sweep-1" | wc -l) files identical on 1 process and 2 MPI ranks"
