"""Maps Brunel-10k with sPyNNaker/PACMAN on a virtual SpiNN-5 board and with neuromap.

Called by spynnaker_compare.sh. The PyNN network is built from the same netlist
(netlists/brunel_10k.toml): IF_curr_delta populations, FixedNumberPreConnector, one
SpikeSourcePoisson per neuron, the same weights and delays. sPyNNaker maps it with
`virtual_board = True` (no hardware: partitioning, placement, routing, key allocation
and routing tables run, nothing executes). Printed for both tools: wall time, cores
used, and routing entries per chip.

Two sPyNNaker times are printed, because they answer different questions: the whole
`sim.run` on a virtual board (network to machine data: mapping plus data
specification generation, which builds the synaptic matrices), and the sum of the
mapping algorithms alone (splitters, placer, router, key allocator, table generator,
compressor) as sPyNNaker logs them. neuromap's time is its whole `compile` command:
netlist, synapse generation, mapping and verification.
"""

import logging
import re

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETLIST = ROOT / "netlists" / "brunel_10k.toml"


def run_spynnaker():
    import pyNN.spiNNaker as sim
    from spinn_front_end_common.data import FecDataView

    cfg = tomllib.loads(NETLIST.read_text())
    dt = cfg["network"]["dt"]
    sim.setup(timestep=dt)
    pops = {}
    for p in cfg["population"]:
        params = dict(tau_m=p["tau_m"], v_rest=p["v_rest"], v_reset=p["v_reset"], v_thresh=p["v_thresh"],
                      tau_refrac=p["t_ref"], cm=1.0, i_offset=0.0)
        pops[p["name"]] = sim.Population(p["size"], sim.IF_curr_delta(**params), label=p["name"])
    for s in cfg["source"]:
        pops[s["name"]] = sim.Population(s["size"], sim.SpikeSourcePoisson(rate=s["rate"]), label=s["name"])
    for pr in cfg["projection"]:
        c = pr["connector"]
        if c == "one_to_one":
            conn = sim.OneToOneConnector()
        else:
            conn = sim.FixedNumberPreConnector(c["n"], allow_self_connections=c.get("allow_self", True))
        receptor = "inhibitory" if pr.get("receptor") == "inhibitory" else "excitatory"
        sim.Projection(pops[pr["pre"]], pops[pr["post"]], conn,
                       sim.StaticSynapse(weight=abs(pr["weight"]), delay=pr["delay"]), receptor_type=receptor)
    took = []

    class Took(logging.Handler):
        def emit(self, record):
            m = re.match(r"(.*) took (\d+):(\d+):(\d+(?:\.\d+)?)", record.getMessage())
            if m:
                took.append((m.group(1).strip(), int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))))

    logging.getLogger().addHandler(Took())
    t0 = time.perf_counter()
    sim.run(dt)  # maps (and, on a virtual board, does not execute)
    wall = time.perf_counter() - t0
    mapping = [(n, t) for n, t in took if re.search(r"splitter|partitioner|placer|router|routing|compress|delay", n, re.I)]
    from pacman.model.graphs.machine import MachineVertex

    labels = set(pops)
    cores = 0
    for pl in FecDataView.iterate_placements_by_vertex_type(MachineVertex):
        app = getattr(pl.vertex, "app_vertex", None)
        if app is not None and getattr(app, "label", None) in labels:
            cores += 1
    # The routing tables before compression (a virtual board compresses nothing that
    # can be read back here).
    entries = [t.number_of_entries for t in FecDataView.get_uncompressed().routing_tables]
    sim.end()
    return wall, sum(t for _, t in mapping), cores, entries


def run_neuromap():
    exe = ROOT / "target" / "release" / "neuromap"
    t0 = time.perf_counter()
    out = subprocess.run([str(exe), "compile", str(NETLIST), "--hw", "spinnaker1-spinn5", "--json"],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    wall = time.perf_counter() - t0
    s = json.loads(out)
    return wall, s["cores_used"], s["routing"]


def main():
    n_wall, n_cores, n_routing = run_neuromap()
    s_wall, s_map, s_cores, s_entries = run_spynnaker()
    print()
    print("routing entries per chip before compression (sPyNNaker's uncompressed tables;")
    print("neuromap's tables after default routes are left out, before compression)")
    print(f"{'':<34} {'wall (s)':>9} {'cores':>6} {'max entries/chip':>17}")
    s_max = max(s_entries) if s_entries else float("nan")
    print(f"{'sPyNNaker 7.4 sim.run (virtual)':<34} {s_wall:>9.2f} {s_cores:>6} {s_max:>17}")
    print(f"{'  of which mapping algorithms':<34} {s_map:>9.3f}")
    print(f"{'neuromap compile (whole command)':<34} {n_wall:>9.2f} {n_cores:>6} {n_routing['max_uncompressed']:>17}")
    print(f"\nwhole pipeline: neuromap is {s_wall / n_wall:.0f}× faster (target ≥ 20×); "
          f"sPyNNaker's mapping algorithms alone take {s_map:.3f} s ({s_map / n_wall:.2f}× neuromap's whole command); "
          f"cores: neuromap {n_cores}, sPyNNaker {s_cores} (target: no more)")
    ok = s_wall / n_wall >= 20 and n_cores <= s_cores
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
