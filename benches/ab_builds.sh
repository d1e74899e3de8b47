#!/usr/bin/env bash
# Two builds of neuromap compared on one job, for changes too small to see in single
# runs on a shared machine. Both binaries run the job at the same time, one thread
# each, so the machine's load moves both alike; the pair is run $PAIRS times (default
# 2), the order swapped each time. Prints each pair's chip wall times (the report's
# `wall time`: the cores' build and the steps) and the ratio B / A, then the mean
# ratio, and checks that both runs did the same synaptic events and sent the same
# packets. With DIFFERENT_WORK=1 a difference is printed and the runs go on (for a
# change that draws different spikes, as a new sampler does: compare the work too).
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
# The chip's wall time in a report, and what the run did (its synaptic events and
# packets, exact counts).
wall() { grep -oP "^wall time \K[0-9.]+" "$1"; }
work() { grep -oP "synaptic events \d+|^packets sent \d+" "$1" | paste -sd' ' -; }
ratios=()
for i in $(seq "$pairs"); do
    # Odd pairs start A a moment before B, even pairs B before A.
    if [ $((i % 2)) -eq 1 ]; then first=a second=b order="A started first"; else first=b second=a order="B started first"; fi
    run "${!first}" "$logs/$first" "$@" &
    pid=$!
    run "${!second}" "$logs/$second" "$@"
    wait "$pid"
    ta=$(wall "$logs/a") tb=$(wall "$logs/b")
    [ -n "$ta" ] && [ -n "$tb" ] || { echo "no wall time in a run's report" >&2; exit 1; }
    if [ -z "$(work "$logs/a")" ] || [ "$(work "$logs/a")" != "$(work "$logs/b")" ]; then
        echo "the builds did different work: A $(work "$logs/a"); B $(work "$logs/b")" >&2
        [ -n "${DIFFERENT_WORK:-}" ] || exit 1
    fi
    r=$(awk -v ta="$ta" -v tb="$tb" 'BEGIN { printf "%.3f", tb / ta }')
    echo "pair $i ($order): A $ta s, B $tb s, B/A $r"
    ratios+=("$r")
done
awk -v x="${ratios[*]}" 'BEGIN { n = split(x, r, " "); s = 0; for (i = 1; i <= n; i++) s += r[i];
    printf "mean B/A over %d pairs: %.3f\n", n, s / n }'
