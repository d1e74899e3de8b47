#!/usr/bin/env bash
# The chip simulator over threads and MPI ranks, measured side by side in one run:
# the same job in one process on 1 and 2 threads and under `mpirun -n 2` with 1
# thread each (every run with --no-check: the chip alone, no checks beside it), best
# of $REPEATS (default 3; this machine is shared), the configurations taking turns.
# Prints the times and the ratios against one thread (of the best times, and the
# median of each repeat's own), and checks that every run sent
# the same packets.
#
# Each repeat also measures the machine itself, whatever the simulator does: one
# thread pinned to each of the first two cores in turn (a shared machine's cores
# need not be equally fast; shards split the work equally and meet every step, so 2
# threads finish with the slower core, while the best one-thread time is the
# faster core's), and two 1-thread processes side by side, each the whole job, for
# what running both cores at once costs. From the latter it prints an estimate of
# the machine's ceiling for 2 threads against one: 2 × alone / the slower of the
# two. The estimate errs low: the two processes touch twice the memory that 2
# threads do, so 2 threads can pass it. VERBOSE=1 prints every repeat's times.
#
#   bash benches/mpi_scaling.sh                      # brunel_10k on one SpiNN-5 board
#   bash benches/mpi_scaling.sh netlists/microcircuit.toml --hw spinnaker1-machine --steps 10000
#
# Builds neuromap with the `mpi` feature (scripts/install-mpi.sh installs Open MPI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-mpi.sh
cargo build --release -q --features mpi
# A copy: a build while the benchmark runs must not swap the binary under it.
log=$(mktemp)
log2=$(mktemp)
res2=$(mktemp)
bin=$(mktemp)
trap 'rm -f "$log" "$log2" "$res2" "$bin"' EXIT
cp target/release/neuromap "$bin"
chmod +x "$bin"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
repeats=${REPEATS:-3}
if [ $# -eq 0 ]; then
    set -- netlists/brunel_10k.toml --hw spinnaker1-spinn5 --steps 1000
fi
# One run of a configuration, its output in the file $LOG (default $log): its chip
# time (the slowest rank's, under mpirun), the packets sent and the peak memory of
# each rank.
once() {
    local out=${LOG:-$log}
    "$@" >"$out" 2>&1 || { cat "$out" >&2; echo "FAILED"; return; }
    local t mem="-"
    if grep -q "MPI ranks" "$out"; then
        t=$(grep -oP "rank \d+: chip simulated in \K[0-9.]+" "$out" | sort -g | tail -1)
        mem=$(grep -oP "peak memory \K[0-9.]+ GiB" "$out" | paste -sd/ -)
    else
        t=$(grep -oP "^wall time \K[0-9.]+" "$out")
    fi
    echo "$t $(grep -oP "packets sent \K[0-9]+" "$out") $mem"
}
# Two 1-thread runs at once: their chip times (each process does the whole job, so
# their simulations overlap).
pair() {
    LOG=$log2 once "$@" >"$res2" &
    local pid=$! x y
    read -r x _ < <(once "$@")
    wait "$pid"
    read -r y _ <"$res2"
    echo "$x $y"
}
# The configurations take turns, repeat by repeat, so that the machine's load moves
# them alike; each keeps its best time.
best() { if [ -z "$1" ] || awk "BEGIN{exit !($2 < $1)}"; then echo "$2"; else echo "$1"; fi; }
t1="" t2="" tr=""
r2=() rr=() rc=() c0=() c1=()
# The first two cores this process may run on.
read -r cpu0 cpu1 < <(taskset -cp $$ | grep -oP ': \K.*' | tr ',' '\n' | while IFS=- read -r lo hi; do seq "$lo" "${hi:-$lo}"; done | head -2 | paste -sd' ')
[ -n "$cpu1" ] || { echo "the machine-side measures need two cores"; exit 1; }
for _ in $(seq "$repeats"); do
    read -r a p1 _ < <(once "$bin" run "$@" --no-check --no-output --threads 1)
    read -r b p2 _ < <(once "$bin" run "$@" --no-check --no-output --threads 2)
    read -r c pr mr < <(once mpirun --oversubscribe -n 2 "$bin" run "$@" --no-check --no-output --threads 1)
    read -r d e < <(pair "$bin" run "$@" --no-check --no-output --threads 1)
    read -r f _ < <(once taskset -c "$cpu0" "$bin" run "$@" --no-check --no-output --threads 1)
    read -r g _ < <(once taskset -c "$cpu1" "$bin" run "$@" --no-check --no-output --threads 1)
    for x in "$a" "$b" "$c" "$d" "$e" "$f" "$g"; do [ "$x" != FAILED ] || { echo "a run failed (its output is above)"; exit 1; }; done
    [ "$p1" = "$p2" ] && [ "$p1" = "$pr" ] || { echo "packets differ: $p1 / $p2 / $pr"; exit 1; }
    t1=$(best "$t1" "$a") t2=$(best "$t2" "$b") tr=$(best "$tr" "$c")
    r2+=("$(awk "BEGIN{print $a/$b}")") rr+=("$(awk "BEGIN{print $a/$c}")")
    rc+=("$(awk "BEGIN{m = $d > $e ? $d : $e; print 2*$a/m}")")
    c0+=("$f") c1+=("$g")
    [ -z "${VERBOSE:-}" ] || echo "  repeat: 1 thread $a, 2 threads $b, 2 ranks $c, side by side $d and $e, pinned $f and $g" >&2
done
# The median of the repeats' own ratios: each from runs next to each other, which a
# change of the machine's load between repeats moves less than the best times' ratio.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
echo "$* (chip simulation alone, best of $repeats; $p1 packets in every run)"
printf "  1 process, 1 thread : %8.3f s\n" "$t1"
printf "  1 process, 2 threads: %8.3f s  speed-up %.2fx (target 1.8x); median of the repeats' own ratios %.2fx\n" "$t2" \
    "$(awk "BEGIN{print $t1/$t2}")" "$(median "${r2[@]}")"
printf "  2 ranks, 1 thread   : %8.3f s  speed-up %.2fx (target 1.7x); median of the repeats' own ratios %.2fx; peak memory per rank %s\n" \
    "$tr" "$(awk "BEGIN{print $t1/$tr}")" "$(median "${rr[@]}")" "$mr"
printf "  the machine (medians of the repeats): 1 thread on core %s %.3f s, on core %s %.3f s;\n" \
    "$cpu0" "$(median "${c0[@]}")" "$cpu1" "$(median "${c1[@]}")"
printf "    two 1-thread runs side by side: the machine's ceiling for 2 threads estimated at %.2fx (errs low)\n" "$(median "${rc[@]}")"
