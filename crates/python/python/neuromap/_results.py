"""What runs, simulations, sweeps and diffs return: numpy arrays, dicts of the JSON the
CLI writes, DataFrames where pandas is installed, HTML in Jupyter."""

from __future__ import annotations

import html as _html
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional

from ._lazy import np

__all__ = ["Spikes", "Energy", "Latency", "Mapping", "RunResult", "SimResult", "SweepResult", "DiffResult"]


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("to_pandas() needs pandas: pip install pandas") from e
    return pd


@dataclass(frozen=True)
class PopulationSpikes:
    """One population's spikes: parallel arrays of steps and neuron indices."""

    name: str
    size: int
    steps: np.ndarray
    neurons: np.ndarray
    dt_ms: float

    @property
    def times_ms(self) -> np.ndarray:
        return self.steps.astype(np.float64) * self.dt_ms

    @property
    def count(self) -> int:
        return int(self.steps.size)

    def counts(self) -> np.ndarray:
        """Spikes per neuron."""
        return np.bincount(self.neurons, minlength=self.size)


class Spikes(Mapping[str, PopulationSpikes]):
    """Spikes by population name (in network order); ``.to_pandas()`` gives one row a
    spike: population, neuron, step, time_ms (as ``spikes.csv``)."""

    def __init__(self, raw: List[Any], dt_ms: float) -> None:
        self._pops: Dict[str, PopulationSpikes] = {}
        for name, size, steps, neurons in raw:
            self._pops[name] = PopulationSpikes(
                name,
                int(size),
                np.frombuffer(steps, dtype="<u4").copy(),
                np.frombuffer(neurons, dtype="<u4").copy(),
                dt_ms,
            )

    def __getitem__(self, name: str) -> PopulationSpikes:
        return self._pops[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pops)

    def __len__(self) -> int:
        return len(self._pops)

    def counts(self) -> Dict[str, int]:
        return {k: v.count for k, v in self._pops.items()}

    def to_pandas(self) -> Any:
        pd = _pandas()
        frames = [
            pd.DataFrame(
                {"population": p.name, "neuron": p.neurons, "step": p.steps, "time_ms": p.times_ms}
            )
            for p in self._pops.values()
        ]
        if not frames:
            return pd.DataFrame(columns=["population", "neuron", "step", "time_ms"])
        return pd.concat(frames, ignore_index=True)

    def __repr__(self) -> str:
        return f"<neuromap.Spikes {self.counts()}>"


class Energy:
    """The run's energy ledger (``report.json``'s ``energy``), in joules.

    ``total`` is the machine allocated (every chip powered, idle or not); ``in_use``
    only the parts the network uses; ``dynamic`` the events alone. ``lines`` (and
    ``to_pandas()``) is the ledger line by line."""

    def __init__(self, raw: Dict[str, Any], per_step: Optional[np.ndarray]) -> None:
        self.raw = raw
        self.per_step = per_step

    def _basis(self, b: str) -> Dict[str, Any]:
        return self.raw.get(b) or {}

    @property
    def total(self) -> float:
        return float(self.raw["total_j"])

    @property
    def in_use(self) -> float:
        return float(self._basis("in_use")["joules"])

    @property
    def dynamic(self) -> float:
        return float(self._basis("dynamic")["joules"])

    @property
    def per_synaptic_event(self) -> Dict[str, Optional[float]]:
        """J per synaptic event on each basis (allocated, in_use, dynamic)."""
        return {b: self._basis(b).get("per_synaptic_event_j") for b in ("allocated", "in_use", "dynamic")}

    @property
    def per_inference(self) -> Optional[float]:
        return self._basis("allocated").get("per_inference_j")

    @property
    def components(self) -> Dict[str, float]:
        return dict(self.raw.get("components") or {})

    @property
    def area(self) -> Optional[Dict[str, Any]]:
        return self.raw.get("area")

    @property
    def lines(self) -> List[Dict[str, Any]]:
        return list(self.raw.get("lines") or [])

    def to_pandas(self) -> Any:
        return _pandas().DataFrame(self.lines)

    def __repr__(self) -> str:
        return f"<neuromap.Energy total {self.total:.6g} J, in use {self.in_use:.6g} J, dynamic {self.dynamic:.6g} J>"


class Latency:
    """Time per step (s): the chip's need each step, against the real-time tick.
    ``per_step`` is each step's need, ``per_step_taken`` what each step took under the
    chip's pace (numpy arrays; ``None`` where the model gives no timing)."""

    def __init__(self, time: Dict[str, Any], timing: Optional[Dict[str, Any]], per_step: Any = (None, None)) -> None:
        self.raw = time
        self.timing = timing
        self._per_step = per_step

    @property
    def per_step(self) -> Optional[np.ndarray]:
        need = self._per_step[0]
        return None if need is None else np.asarray(need, dtype=np.float64)

    @property
    def per_step_taken(self) -> Optional[np.ndarray]:
        taken = self._per_step[1]
        return None if taken is None else np.asarray(taken, dtype=np.float64)

    @property
    def mean_step(self) -> Optional[float]:
        return self.raw.get("need_mean_s")

    @property
    def max_step(self) -> Optional[float]:
        return self.raw.get("need_max_s")

    @property
    def wall(self) -> float:
        """The run's simulated duration on the chip (s)."""
        return float(self.raw["wall_s"])

    @property
    def slowdown(self) -> float:
        """Chip time ÷ biological time (1 keeps real time)."""
        return float(self.raw["slowdown"])

    @property
    def real_time(self) -> bool:
        return int(self.raw.get("overrun_steps") or 0) == 0

    def __repr__(self) -> str:
        return f"<neuromap.Latency mean step {self.mean_step} s, slow-down {self.slowdown:.3g}, real time {self.real_time}>"


class SimResult:
    """A functional simulation (``neuromap simulate``): ``summary`` (``summary.json``),
    the spikes and the counts. A chip run (:class:`RunResult`) is one too."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self.summary: Dict[str, Any] = json.loads(native.summary_json())
        self._spikes: Optional[Spikes] = None

    @property
    def steps(self) -> int:
        """The steps simulated (fewer than asked when a run was stopped)."""
        return self._native.steps

    @property
    def dt_ms(self) -> float:
        return self._native.dt_ms

    @property
    def spikes(self) -> Spikes:
        if self._spikes is None:
            self._spikes = Spikes(self._native.spikes(), self.dt_ms)
        return self._spikes

    @property
    def counts(self) -> Dict[str, int]:
        """Spikes per population."""
        return {p["name"]: int(p["spikes"]) for p in self.summary["populations"]}

    def text(self) -> str:
        """The summary as the CLI prints it."""
        return self._native.summary_text()

    def _repr_html_(self) -> str:
        return "<pre>" + _html.escape(self.text()) + "</pre>"

    def __repr__(self) -> str:
        return f"<neuromap.SimResult {self.steps} steps, {self.counts}>"


class RunResult(SimResult):
    """A chip run: ``report`` is ``report.json`` as ``neuromap run`` writes it;
    ``energy``, ``latency``, ``spikes`` and ``counts`` are views of it."""

    def __init__(self, native: Any) -> None:
        super().__init__(native)
        self.report: Dict[str, Any] = json.loads(native.report_json())
        self._per_step_raw = native.per_step_energy()

    @property
    def _per_step(self) -> Optional[np.ndarray]:
        e = self._per_step_raw
        return None if e is None else np.asarray(e, dtype=np.float64)

    @property
    def family(self) -> str:
        return self._native.family

    @property
    def stopped(self) -> bool:
        """Whether the run stopped before the steps asked for."""
        return self._native.stopped

    @property
    def energy(self) -> Energy:
        return Energy(self.report["energy"], self._per_step)

    @property
    def latency(self) -> Latency:
        return Latency(self.report["energy"]["time"], self.report.get("timing"), self._native.per_step_time())

    @property
    def workload(self) -> Dict[str, Any]:
        """NeuroBench's workload metrics (synaptic operations, sparsity, footprint)."""
        return self.report.get("workload") or self.summary.get("workload") or {}

    @property
    def warnings(self) -> List[str]:
        return list(self.report.get("warnings") or [])

    def text(self) -> str:
        """The account ``neuromap run`` prints."""
        return self._native.summary_text() + self._native.report_text()

    def html(self) -> str:
        """``report.html``."""
        return self._native.html()

    def _repr_html_(self) -> str:
        return self.html()

    def energy_per_step(self) -> Optional[np.ndarray]:
        """Energy of each step (J, machine allocated), where the family counts it."""
        return self._per_step

    def __repr__(self) -> str:
        return (
            f"<neuromap.RunResult {self.report.get('network')!r} on {self.report['energy'].get('model')!r}: "
            f"{self.steps} steps, {sum(self.counts.values())} spikes, {self.energy.total:.6g} J>"
        )


class SweepResult:
    """A sweep's rows (``sweep.json``): one per network and point, with the figures set
    (``set``), the measures, ``feasible`` and ``front``."""

    def __init__(self, rows: List[Dict[str, Any]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(self.rows)

    def front(self) -> List[Dict[str, Any]]:
        return [r for r in self.rows if r.get("front")]

    def to_pandas(self) -> Any:
        """One row a point; each figure set is a column."""
        pd = _pandas()
        flat = []
        for r in self.rows:
            row = {k: v for k, v in r.items() if k != "set"}
            for k, v in r.get("set") or []:
                row[k] = v
            flat.append(row)
        return pd.DataFrame(flat)

    def __repr__(self) -> str:
        return f"<neuromap.SweepResult {len(self.rows)} rows, {len(self.front())} on the front>"


class DiffResult:
    """A semantic diff of two reports: ``text`` as ``neuromap diff`` prints it,
    ``metrics`` each changed measure, ``breaches`` the budgets broken."""

    def __init__(self, text: str, diff: Dict[str, Any], breaches: List[Dict[str, Any]]) -> None:
        self.text = text
        self.diff = diff
        self.breaches = breaches

    @property
    def metrics(self) -> List[Dict[str, Any]]:
        return list(self.diff.get("metrics") or [])

    @property
    def changed(self) -> bool:
        return any(m.get("old") != m.get("new") for m in self.metrics)

    def __bool__(self) -> bool:
        return self.changed

    def __repr__(self) -> str:
        return self.text


class Mapping:
    """A network compiled onto a chip (``neuromap compile``): ``summary`` (cores, chips,
    routing tables, keys, the fit of each resource), its ``text``, and the
    deterministic mapping ``artifact`` (``neuromap compile -o``)."""

    def __init__(self, summary: str, text: str, artifact: str) -> None:
        self.summary: Dict[str, Any] = json.loads(summary)
        self.text = text
        self._artifact = artifact

    @property
    def artifact(self) -> Dict[str, Any]:
        return json.loads(self._artifact)

    def artifact_json(self) -> str:
        return self._artifact

    def _repr_html_(self) -> str:
        return "<pre>" + _html.escape(self.text) + "</pre>"

    def __repr__(self) -> str:
        return self.text
