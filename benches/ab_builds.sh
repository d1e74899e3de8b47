#!/usr/bin/env bash
# Two builds of neuromap compared on one job, for changes too small to see in single
# runs on a shared machine. Both binaries run the job at the same time, one thread
# each, so the machine's load moves both alike; the pair is run $PAIRS times (default
# 2), the order swapped each time. Prints each pair's chip wall times (the report's
# `wall time`: the cores' build and the steps) and the ratio B / A, then the mean
# ratio, and checks that both runs did the same synaptic events.
#
#   bash benches/ab_builds.sh OLD_BINARY NEW_BINARY
#   bash benches/ab_builds.sh OLD NEW netlists/brunel_10k.toml --hw spinnaker1-spinn5 --steps 1000
#
# Default job: the full microcircuit on `spinnaker1-machine` for 1,250 steps (about
# 10 GB for the two runs at once). Build the old binary from a worktree, e.g.
#   git worktree add /tmp/old <commit> && CARGO_TARGET_DIR=/tmp/old-target \
#     cargo build --release --manifest-path /tmp/old/Cargo.toml
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
    echo "usage: bash benches/ab_builds.sh BINARY_A BINARY_B [NET --hw MODEL ...]" >&2
    exit 2
fi
a=$(realpath "$1")
b=$(realpath "$2")
shift 2
if [ $# -eq 0 ]; then
    set -- netlists/microcircuit.toml --hw spinnaker1-machine --steps 1250
fi
pairs=${PAIRS:-2}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# One run of binary $1 with the job's arguments, its report into file $2.
run() {
    "$1" run "${@:3}" --no-check --no-output --threads 1 >"$2" 2>&1 || {
        cat "$2" >&2
        exit 1
    }
}
# "seconds synaptic-events/s" of a report's wall-time line.
wall() { grep -oP "^wall time \K[0-9.]+ s  \([0-9.e+]+" "$1" | tr -d 's(' | tr -s ' '; }
ratios=()
for i in $(seq "$pairs"); do
    if [ $((i % 2)) -eq 1 ]; then first=$a second=$b; else first=$b second=$a; fi
    run "$first" "$logs/1" "$@" &
    pid=$!
    run "$second" "$logs/2" "$@"
    wait "$pid"
    if [ $((i % 2)) -eq 1 ]; then fa=1 fb=2; else fa=2 fb=1; fi
    read -r ta ra <<<"$(wall "$logs/$fa")"
    read -r tb rb <<<"$(wall "$logs/$fb")"
    [ -n "$ta" ] && [ -n "$tb" ] || { echo "no wall time in a run's report" >&2; exit 1; }
    # Events per second times seconds: the same events, to the report's rounding.
    awk -v ta="$ta" -v ra="$ra" -v tb="$tb" -v rb="$rb" 'BEGIN {
        ea = ta * ra; eb = tb * rb;
        if ((ea - eb) / ea > 1e-3 || (eb - ea) / ea > 1e-3) { print "the builds did different synaptic events" > "/dev/stderr"; exit 1 } }'
    r=$(awk -v ta="$ta" -v tb="$tb" 'BEGIN { printf "%.3f", tb / ta }')
    echo "pair $i ($( [ $((i % 2)) -eq 1 ] && echo "A started first" || echo "B started first")): A $ta s, B $tb s, B/A $r"
    ratios+=("$r")
done
awk -v x="${ratios[*]}" 'BEGIN { n = split(x, r, " "); s = 0; for (i = 1; i <= n; i++) s += r[i];
    printf "mean B/A over %d pairs: %.3f\n", n, s / n }'
