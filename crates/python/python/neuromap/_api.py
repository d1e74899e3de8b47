"""The pipeline's entry points: run, simulate, sweep, diff."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from . import _neuromap
from ._network import Network, natives, resolve
from ._results import DiffResult, Mapping, RunResult, SimResult, SweepResult
from .hw import Hw
from .hw import resolve as resolve_hw

__all__ = ["compile", "run", "simulate", "sweep", "diff"]

ProgressArg = Union[bool, Callable[[int, int], Any], None]


class _Bar:
    """Progress as tqdm shows it when tqdm is installed, else a line on stderr."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.bar: Any = None
        self.plain = False
        try:
            from tqdm.auto import tqdm

            self.tqdm = tqdm
        except ImportError:
            self.tqdm = None

    def __call__(self, done: int, total: int) -> None:
        if self.tqdm is not None:
            if self.bar is None:
                self.bar = self.tqdm(total=total, desc=self.what, unit="step" if self.what != "sweep" else "point")
            self.bar.total = total
            self.bar.n = done
            self.bar.refresh()
            if done >= total:
                self.bar.close()
        else:
            end = "\n" if done >= total else "\r"
            sys.stderr.write(f"{self.what}: {done}/{total}{end}")
            sys.stderr.flush()


def _progress(p: ProgressArg, what: str) -> Optional[Callable[[int, int], Any]]:
    if p is True:
        return _Bar(what)
    if p is False or p is None:
        return None
    return p


def compile(
    network: Any,
    hw: Union[str, "os.PathLike[str]", Hw],
    *,
    placement_seed: int = 1,
    assumed_rate_hz: float = 10.0,
) -> Mapping:
    """Compiles ``network`` onto an arm-core chip model (or a hybrid chip's cores and
    parts) and verifies each stage, without simulating it: partition, place, route,
    keys, routing tables (``neuromap compile``). ``assumed_rate_hz`` is the firing rate
    traffic estimates assume. A network that does not fit raises
    :class:`neuromap.MappingError` naming the resource, the demand and the capacity."""
    net = resolve(network).native()
    return Mapping(*_neuromap.compile(net, resolve_hw(hw)._native, placement_seed, assumed_rate_hz))


def run(
    network: Any,
    hw: Union[str, "os.PathLike[str]", Hw],
    steps: Optional[int] = None,
    *,
    seed: Optional[int] = None,
    threads: int = 1,
    placement_seed: int = 1,
    fault_seed: Optional[int] = None,
    hold_to_dt: bool = False,
    progress: ProgressArg = None,
) -> RunResult:
    """Maps ``network`` (a path, a ``nir.NIRGraph`` or a :class:`Network`) onto the
    chip model ``hw`` (a name, a path or a :class:`neuromap.hw.Hw`), simulates the chip
    cycle by cycle, checks it against the quantised and f64 models and prices it: what
    ``neuromap run`` computes, without writing files.

    ``steps`` defaults to the netlist's (else 1000); ``threads`` are the chip
    simulator's (results do not depend on them). ``progress=True`` shows a bar (tqdm
    where installed), or pass ``callable(done, total)``. The interpreter is released
    while the run computes; Ctrl-C stops it after the current step and raises
    ``KeyboardInterrupt``. A network that does not fit raises
    :class:`neuromap.MappingError`."""
    net = resolve(network).native()
    model = resolve_hw(hw)
    out = _neuromap.run(
        net,
        model._native,
        steps,
        seed,
        threads,
        placement_seed,
        fault_seed,
        hold_to_dt,
        _progress(progress, "chip"),
    )
    return RunResult(out)


def simulate(
    network: Any,
    steps: Optional[int] = None,
    *,
    seed: Optional[int] = None,
    format: Optional[str] = None,
    rounding: Optional[str] = None,
    progress: ProgressArg = None,
) -> SimResult:
    """Simulates the network alone: the f64 reference, or with ``format`` (``s16.15``,
    ``f32``) the quantised functional model the chips compute (``rounding``:
    ``nearest``, ``truncate``, …), as ``neuromap simulate``."""
    net = resolve(network).native()
    return SimResult(_neuromap.simulate(net, steps, seed, format, rounding, _progress(progress, "simulate")))


def _set_arg(key: str, values: Any) -> str:
    if isinstance(values, str):
        return f"{key}={values}"
    if isinstance(values, Iterable):
        return f"{key}=" + ",".join(repr(v) if isinstance(v, float) else str(v) for v in values)
    return f"{key}={values}"


def sweep(
    networks: Union[Any, Sequence[Any]],
    hw: Union[str, "os.PathLike[str]", Hw],
    set: Dict[str, Any],
    steps: Optional[int] = None,
    *,
    sample: Optional[int] = None,
    sample_seed: int = 1,
    objectives: Sequence[str] = ("energy", "latency"),
    constraints: Sequence[str] = (),
    threads: int = 1,
    progress: ProgressArg = None,
) -> SweepResult:
    """A design-space sweep (``neuromap sweep --set``): every combination of the
    figures' values in ``set`` (``{"adc.bits": [4, 6, 8], "core.clock_hz": "1e8..2e8"}``),
    or ``sample`` of them drawn with ``sample_seed``, run on each network; the
    non-dominated points of ``objectives`` among those meeting every constraint
    (``"real_time"``, ``"latency<=1e-4"``) are marked ``front``. A point that does not
    map is a row that says why. Rows do not depend on ``threads``."""
    if isinstance(networks, (str, os.PathLike, Network)) or type(networks).__name__ == "NIRGraph":
        networks = [networks]
    sets = [_set_arg(k, v) for k, v in set.items()]
    labelled = natives(networks)
    rows = _neuromap.sweep(
        [n for _, n in labelled],
        [label for label, _ in labelled],
        resolve_hw(hw)._native,
        sets,
        steps,
        sample,
        sample_seed,
        list(objectives),
        list(constraints),
        threads,
        _progress(progress, "sweep"),
    )
    return SweepResult(json.loads(rows))


def _report_text(r: Any) -> str:
    if isinstance(r, RunResult):
        return json.dumps(r.report)
    if isinstance(r, dict):
        return json.dumps(r)
    if isinstance(r, (str, os.PathLike)):
        p = os.fspath(r)
        if os.path.isdir(p):
            p = os.path.join(p, "report.json")
        with open(p, encoding="utf-8") as f:
            return f.read()
    raise TypeError(f"cannot diff a {type(r).__name__}: give a RunResult, a report dict or a report.json path")


def diff(old: Any, new: Any, budgets: Sequence[str] = ()) -> DiffResult:
    """The semantic diff of two runs (``neuromap diff``): each a :class:`RunResult`, a
    ``report.json`` dict, or the path of a report or of a run's output folder.
    ``budgets`` (``"energy=+2%"``, ``"spikes=exact"``) that break are in
    ``breaches``."""
    text, d, breaches = _neuromap.diff(_report_text(old), _report_text(new), list(budgets))
    return DiffResult(text, json.loads(d), json.loads(breaches))
