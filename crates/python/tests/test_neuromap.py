"""The Python package against the CLI and against its own promises: results equal the
CLI's on the same inputs (every family), a network built from numpy arrays equals the
same network written as a netlist, diagnostics arrive as exceptions naming file, line
and column, a NIR graph runs from memory, Ctrl-C stops a run, the interpreter is
released while a run computes.

Run from the repository root (``bash scripts/python-test.sh``): the tests read
``netlists/`` and ``hw-models/`` and call ``target/release/neuromap``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import neuromap

ROOT = Path(__file__).resolve().parents[3]
CLI = ROOT / "target" / "release" / "neuromap"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def cli(*args: str) -> str:
    out = subprocess.run([str(CLI), *args], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


def without_wall_clock(v):
    """A report without the host's wall-clock seconds (they differ run to run)."""
    if isinstance(v, dict):
        return {k: without_wall_clock(x) for k, x in v.items() if k != "wall_seconds"}
    if isinstance(v, list):
        return [without_wall_clock(x) for x in v]
    return v


def spike_rows(csv_text: str):
    rows = [line.split(",") for line in csv_text.strip().splitlines()[1:]]
    return sorted((p, int(n), int(s)) for p, n, s, _ in rows)


def test_the_readme_line():
    r = neuromap.run("netlists/brunel_1k.toml", hw="spinnaker1-spinn5", steps=100)
    assert r.energy.total > r.energy.in_use > r.energy.dynamic > 0
    assert r.counts["exc"] > 0, "the network is not silent"


@pytest.mark.parametrize(
    "net,hw,steps",
    [
        ("brunel_1k", "spinnaker1-spinn5", 200),
        ("lsm", "rram-lsm-40nm", 100),
        ("synfire_if", "truenorth", 100),
        ("binary_mlp", "tulip-40nm", 20),
        ("lsm", "hybrid-spinn2-rram", 50),
    ],
)
def test_results_equal_the_clis(tmp_path, net, hw, steps):
    cli("run", f"netlists/{net}.toml", "--hw", hw, "--steps", str(steps), "-o", str(tmp_path))
    r = neuromap.run(f"netlists/{net}.toml", hw=hw, steps=steps)
    cli_report = json.loads((tmp_path / "report.json").read_text())
    assert without_wall_clock(r.report) == without_wall_clock(cli_report)
    assert sum(r.counts.values()) > 0, "the network is not silent"
    # The spikes, neuron by neuron and step by step.
    py_rows = sorted(
        (p.name, int(n), int(s)) for p in r.spikes.values() for n, s in zip(p.neurons, p.steps)
    )
    assert py_rows == spike_rows((tmp_path / "spikes.csv").read_text())
    # And the semantic diff agrees that nothing changed.
    assert not neuromap.diff(cli_report, r).changed


def netlist_text(w_in, d_in, w_rec, stimulus):
    """The network of ``built_network``, written by hand as a netlist."""
    lines = [
        "[network]",
        'name = "arrays"',
        "dt = 0.1",
        "seed = 3",
        "",
        "[[source]]",
        'name = "stim"',
        f"size = {len(stimulus)}",
        'kind = "array"',
        "spikes = [" + ", ".join("[" + ", ".join(repr(float(t)) for t in s) + "]" for s in stimulus) + "]",
        "",
        "[[population]]",
        'name = "cells"',
        f"size = {w_in.shape[1]}",
        'model = "lif"',
        "tau_m = 10.0",
        "",
        "[[projection]]",
        'pre = "stim"',
        'post = "cells"',
        'receptor = "excitatory"',
    ]
    entries = [
        f"[{i}, {j}, {float(w_in[i, j])!r}, {float(d_in[i, j])!r}]" for i, j in zip(*np.nonzero(w_in))
    ]
    lines.append('connector = { kind = "list", entries = [' + ", ".join(entries) + "] }")
    lines += ["", "[[projection]]", 'pre = "cells"', 'post = "cells"', 'receptor = "inhibitory"']
    rows = ", ".join("[" + ", ".join(repr(float(x)) for x in row) + "]" for row in w_rec)
    lines.append('connector = { kind = "dense", weights = [' + rows + "] }")
    lines.append("delay = 1.0")
    return "\n".join(lines) + "\n"


def built_network():
    rng = np.random.default_rng(7)
    w_in = np.where(rng.random((20, 30)) < 0.3, rng.uniform(2.0, 4.0, (20, 30)), 0.0)
    d_in = np.round(rng.uniform(0.1, 3.0, (20, 30)), 1)
    w_rec = np.where(rng.random((30, 30)) < 0.1, -rng.uniform(0.5, 1.0, (30, 30)), 0.0)
    stimulus = [sorted(np.round(rng.uniform(0, 30, 5), 1)) for _ in range(20)]
    net = neuromap.Network("arrays", dt=0.1, seed=3)
    net.source("stim", 20, "array", spikes=stimulus)
    net.population("cells", 30, "lif", tau_m=10.0)
    net.project("stim", "cells", weights=w_in, delays=d_in)
    net.project("cells", "cells", weights=w_rec, delays=1.0, receptor="inhibitory")
    return net, netlist_text(w_in, d_in, w_rec, stimulus)


def test_a_network_from_arrays_equals_the_same_netlist():
    net, text = built_network()
    written = neuromap.load(text=text)
    assert net.spec() == written.spec()
    a = neuromap.run(net, hw="spinnaker1-spinn5", steps=400)
    b = neuromap.run(written, hw="spinnaker1-spinn5", steps=400)
    assert a.counts["cells"] > 0, "the built network fires"
    assert without_wall_clock(a.report) == without_wall_clock(b.report)
    for name in a.spikes:
        assert np.array_equal(a.spikes[name].steps, b.spikes[name].steps)
        assert np.array_equal(a.spikes[name].neurons, b.spikes[name].neurons)


def test_a_sparse_matrix_makes_the_synapses_it_stores():
    sparse = pytest.importorskip("scipy.sparse")
    w = np.zeros((4, 3))
    w[0, 1], w[3, 2] = 1.5, -0.5
    net = neuromap.Network("sparse", dt=1.0)
    net.source("s", 4, "poisson", rate=50.0)
    net.population("p", 3, "if")
    net.project("s", "p", weights=sparse.csr_matrix(w), delays=2.0)
    assert net.size() == (3, 2), "3 neurons (sources are not neurons), the 2 stored synapses"
    entries = net.spec()["projections"][0]["connector"]["entries"]
    assert [(e["pre"], e["post"], e["weight"], e["delay"]) for e in entries] == [(0, 1, 1.5, 2.0), (3, 2, -0.5, 2.0)]


def test_a_diagnostic_is_an_exception_naming_file_line_and_column():
    with pytest.raises(neuromap.InputError) as e:
        neuromap.load("netlists/invalid/01_syntax_error.toml")
    d = e.value.diagnostics[0]
    assert (d["file"], d["line"], d["column"]) == ("netlists/invalid/01_syntax_error.toml", 7, 7)
    assert "TOML syntax error" in d["message"] and "01_syntax_error.toml:7:7" in str(e.value)
    # A network built in code is checked by the same reader.
    net = neuromap.Network("bad")
    net.population("p", 10, "lif", tau_m=-1.0)
    with pytest.raises(neuromap.InputError) as e:
        net.size()
    assert e.value.diagnostics and "tau_m" in str(e.value)
    # The builder's own checks are InputErrors too, naming the projection.
    net = neuromap.Network("nan")
    net.population("p", 3, "lif")
    net.project("p", "p", weights=np.full((3, 3), np.nan))
    with pytest.raises(neuromap.InputError, match="p->p: nan is not a finite number"):
        net.size()
    # Names are written as TOML strings whatever they hold.
    odd = neuromap.Network('a "quoted"\nname')
    odd.population("p", 2, "lif")
    assert odd.name == 'a "quoted"\nname'
    # Chip models: an unknown figure names the closest one.
    hw = neuromap.hw.load("spinnaker1-spinn5")
    with pytest.raises(neuromap.InputError, match="did you mean `chip.clock_hz`"):
        hw.set("core.clock_hz", 1.5e8)
    # A NIR graph's problem names its node.
    with pytest.raises(neuromap.InputError, match="node `conv`: `groups`") as e:
        neuromap.load("tests/nir/invalid/conv_zero_groups.nir")
    assert e.value.diagnostics[0]["file"] == "tests/nir/invalid/conv_zero_groups.nir"
    # Not a NIR file: named as such.
    with pytest.raises(neuromap.InputError, match="HDF5"):
        neuromap._neuromap.network_from_nir_bytes(b"not hdf5", "junk.nir")
    assert issubclass(neuromap.InputError, neuromap.NeuromapError)


def test_what_does_not_fit_is_a_mapping_error():
    hw = neuromap.hw.load("truenorth").set("core.cores", 1)
    with pytest.raises(neuromap.MappingError) as e:
        neuromap.run("netlists/synfire_if.toml", hw=hw, steps=10)
    assert "cores" in str(e.value)


def test_a_nir_graph_runs_from_memory(tmp_path):
    nir = pytest.importorskip("nir")
    n_in, n_out = 16, 8
    rng = np.random.default_rng(1)
    graph = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([n_in])),
        nir.Linear(weight=rng.uniform(0.0, 0.6, (n_out, n_in)).astype(np.float32)),
        nir.IF(r=np.ones(n_out, dtype=np.float32), v_threshold=np.ones(n_out, dtype=np.float32)),
        nir.Output(output_type=np.array([n_out])),
    )
    before = set(os.listdir(tmp_path))
    os.chdir(tmp_path)
    r = neuromap.run(graph, hw=ROOT / "hw-models" / "loihi.toml", steps=50, seed=1)
    assert set(os.listdir(tmp_path)) == before, "no file was written"
    assert sum(r.counts.values()) > 0
    # The same graph from a file is the same network.
    nir.write(tmp_path / "g.nir", graph)
    assert neuromap.load(tmp_path / "g.nir").spec()["populations"] == neuromap.load(graph).spec()["populations"]


def test_ctrl_c_stops_a_run_and_the_next_run_works():
    """SIGINT sent by another thread once the run is under way (as Ctrl-C arrives,
    while the run computes): the run stops after its current step and raises
    KeyboardInterrupt; the package is usable after."""
    under_way = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done >= 20:
            under_way.set()

    def ctrl_c():
        under_way.wait()
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=ctrl_c)
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            neuromap.run("netlists/brunel_10k.toml", hw="spinnaker1-spinn5", steps=100_000, progress=progress)
    finally:
        under_way.set()
        t.join()
    assert seen and max(seen) < 100_000, "stopped long before the end"
    r = neuromap.run("netlists/brunel_1k.toml", hw="spinnaker1-spinn5", steps=20)
    assert r.steps == 20


def test_the_interpreter_is_released_while_a_run_computes():
    """Another Python thread counts as fast while a run computes as it does alone
    (holding the interpreter, the run would leave it a few ms of every 50)."""
    import time

    ticks = [0]
    running = threading.Event()

    def count():
        while running.is_set():
            ticks[0] += 1

    def rate(during):
        running.set()
        t = threading.Thread(target=count)
        t.start()
        try:
            return during()
        finally:
            running.clear()
            t.join()

    def alone():
        t0, k0 = time.perf_counter(), ticks[0]
        while time.perf_counter() - t0 < 0.3:
            pass
        return (ticks[0] - k0) / (time.perf_counter() - t0)

    marks = []

    def progress(done, total):
        marks.append((time.perf_counter(), ticks[0]))

    def running_a_chip():
        # Long enough to measure on any machine: twice as many steps until the run's
        # progress spans 0.2 s (400 steps took 0.19 s on a fast one).
        steps = 400
        while True:
            marks.clear()
            neuromap.run("netlists/brunel_10k.toml", hw="spinnaker1-spinn5", steps=steps, progress=progress)
            (t0, k0), (t1, k1) = marks[0], marks[-1]
            if t1 - t0 > 0.2 or steps >= 51_200:
                break
            steps *= 2
        assert t1 - t0 > 0.2, "the run computed long enough to measure"
        return (k1 - k0) / (t1 - t0)

    # Alone, the busy-waiting main thread shares the interpreter with the counter;
    # during the run the counter has it to itself, so it counts at least as fast.
    base, during = rate(alone), rate(running_a_chip)
    assert during > 0.5 * base, f"{during:.3g} ticks/s during the run against {base:.3g} with the main thread busy"


def test_a_changed_figure_moves_the_run_and_the_diff_says_so():
    base = neuromap.run("netlists/brunel_1k.toml", hw="spinnaker1-spinn5", steps=100)
    hw = neuromap.hw.load("spinnaker1-spinn5").set("chip.clock_hz", 1e8)
    assert hw.get("chip.clock_hz") == 1e8
    slow = neuromap.run("netlists/brunel_1k.toml", hw=hw, steps=100)
    assert slow.latency.mean_step > base.latency.mean_step
    assert slow.counts == base.counts, "the clock changes time, not spikes"
    d = neuromap.diff(base, slow, budgets=["latency=+1%"])
    assert d.changed and d.breaches
    assert not neuromap.diff(base, base).changed


def test_a_sweep_equals_the_clis(tmp_path):
    cli(
        "sweep", "netlists/brunel_1k.toml", "--hw", "spinnaker1", "--steps", "50",
        "--set", "timing.cycles_per_neuron_update=50,300", "-o", str(tmp_path),
    )
    rows = json.loads((tmp_path / "sweep.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    s = neuromap.sweep(
        "netlists/brunel_1k.toml", "spinnaker1", {"timing.cycles_per_neuron_update": [50, 300]}, steps=50, threads=2
    )
    assert s.rows == rows
    assert s.rows[0]["energy_in_use_j"] < s.rows[1]["energy_in_use_j"]


def test_simulate_equals_the_clis():
    out = json.loads(cli("simulate", "netlists/brunel_1k.toml", "--steps", "200", "--no-output", "--json"))
    s = neuromap.simulate("netlists/brunel_1k.toml", steps=200)
    assert s.counts == {p["name"]: p["spikes"] for p in out["populations"]}
    assert s.counts["exc"] > 0


def test_results_show_in_jupyter_and_as_dataframes():
    pd = pytest.importorskip("pandas")
    r = neuromap.run("netlists/brunel_1k.toml", hw="spinnaker1-spinn5", steps=50)
    page = r._repr_html_()
    assert page.startswith("<!DOCTYPE html>") and "brunel-1k" in page and "<svg" in page
    df = r.spikes.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == sum(p.count for p in r.spikes.values())
    assert set(r.energy.to_pandas()["term"]) >= {"dynamic"}
    assert r.energy_per_step() is not None and len(r.energy_per_step()) == 50
    # Each step's time: its mean is the report's, and no step takes less than its need.
    need, taken = r.latency.per_step, r.latency.per_step_taken
    assert len(need) == len(taken) == 50 and (taken >= need).all()
    assert abs(need.mean() - r.latency.mean_step) <= 1e-12 * r.latency.mean_step
    assert abs(taken.sum() - r.latency.wall) <= 1e-9 * r.latency.wall


def test_compile_equals_the_clis(tmp_path):
    cli("compile", "netlists/brunel_1k.toml", "--hw", "spinnaker1-spinn5", "-o", str(tmp_path / "m.json"))
    m = neuromap.compile("netlists/brunel_1k.toml", "spinnaker1-spinn5")
    assert m.artifact_json() == (tmp_path / "m.json").read_text()
    assert m.summary["cores_used"] > 0
    with pytest.raises(neuromap.MappingError, match="arm-core"):
        neuromap.compile("netlists/lsm.toml", "rram-lsm-40nm")


def test_the_examples_run(tmp_path):
    pytest.importorskip("matplotlib")
    py = [os.environ.get("PYTHON", __import__("sys").executable)]
    out = subprocess.run(py + ["examples/python/nir_energy.py", "64"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    families = [line.split()[1] for line in out.stdout.splitlines()[1:]]
    assert families == ["arm-core", "neurocore", "crossbar"]
    png = tmp_path / "adc.png"
    out = subprocess.run(py + ["examples/python/sweep_plot.py", str(png)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ctrl_c_stops_a_sweep():
    """SIGINT during a sweep: the points not started do not run, and KeyboardInterrupt
    is raised."""
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done >= 1:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        neuromap.sweep(
            "netlists/brunel_1k.toml", "spinnaker1", {"timing.cycles_per_neuron_update": list(range(50, 450, 5))},
            steps=100, progress=progress,
        )
    assert seen and seen[-1][0] < seen[-1][1] == 80, seen[-3:]
