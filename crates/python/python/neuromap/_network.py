"""Networks: loaded from a netlist or a NIR graph, or built in code.

A network built in code is written as a TOML netlist and read by the same importer as a
file (``neuromap check`` semantics, diagnostics and all), so a network built here and
the same network written as a netlist are one network, bit for bit.
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._lazy import np

from . import _neuromap

__all__ = ["Network", "load"]

Number = Union[int, float]


def _bad(message: str) -> "_neuromap.InputError":
    """An input mistake found before neuromap's reader sees the network."""
    e = _neuromap.InputError(message)
    e.diagnostics = []
    return e


def _toml_value(v: Any, where: str) -> str:
    """One TOML value: numbers (finite), strings, booleans, lists, inline tables."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if not math.isfinite(x):
            raise _bad(f"{where}: {x} is not a finite number")
        return repr(x)
    if isinstance(v, str):
        # A TOML basic string: JSON's escapes (quotes, backslashes, control characters)
        # are TOML's.
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, np.ndarray):
        return _toml_value(v.tolist(), where)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(x, where)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x, where) for x in v) + "]"
    raise _bad(f"{where}: cannot write {type(v).__name__} into a netlist")


def _sparse_entries(weights: Any, delays: Any, where: str) -> List[List[Number]]:
    """``[pre, post, weight(, delay)]`` for every stored weight of a scipy.sparse
    matrix, or every nonzero weight of a dense one (rows are presynaptic)."""
    if hasattr(weights, "tocoo"):
        coo = weights.tocoo()
        rows, cols, vals = coo.row, coo.col, coo.data
        shape = coo.shape
    else:
        w = np.asarray(weights, dtype=float)
        if w.ndim != 2:
            raise _bad(f"{where}: weights must be a 2-D matrix (pre × post), not {w.ndim}-D")
        rows, cols = np.nonzero(w)
        vals = w[rows, cols]
        shape = w.shape
    if delays is None:
        return [[int(i), int(j), float(x)] for i, j, x in zip(rows, cols, vals)]
    if np.isscalar(delays):
        d = np.full(len(vals), float(delays))
    elif hasattr(delays, "tocsr"):
        dm = delays.tocsr()
        d = np.asarray(dm[rows, cols]).ravel()
    else:
        dm = np.asarray(delays, dtype=float)
        if dm.shape != tuple(shape):
            raise _bad(f"{where}: delays have shape {dm.shape}, the weights {tuple(shape)}")
        d = dm[rows, cols]
    return [[int(i), int(j), float(x), float(y)] for i, j, x, y in zip(rows, cols, vals, d)]


class Network:
    """A spiking or binary network.

    Build one in code::

        net = neuromap.Network("demo", dt=0.1, seed=1)
        net.population("exc", 800, "lif", tau_m=20.0, v_init={"uniform": [-65.0, -50.0]})
        net.source("noise", 100, "poisson", rate=20.0)
        net.project("noise", "exc", weights=w, delays=d)     # numpy or scipy.sparse
        net.project("exc", "exc", connector={"kind": "fixed_probability", "p": 0.1},
                    weight=0.1, delay=1.5)

    or load one with :func:`neuromap.load` (a netlist, a ``.nir`` file, a
    ``nir.NIRGraph``). Parameters, connectors and their meaning are the netlist's
    (docs/netlist.md): ms, mV, nF, nA, Hz.
    """

    def __init__(self, name: str = "network", dt: float = 0.1, seed: int = 0, steps: Optional[int] = None) -> None:
        self._header: Dict[str, Any] = {"name": name, "dt": dt, "seed": seed}
        if steps is not None:
            self._header["steps"] = steps
        self._tables: List[Tuple[str, Dict[str, Any]]] = []
        self._native: Optional[_neuromap.Network] = None
        self._loaded = False
        # What a sweep's rows call the network: a loaded file's stem (as the CLI's
        # rows do), else its name.
        self.label: str = name

    # -- building ---------------------------------------------------------------

    def _edit(self) -> None:
        if self._loaded:
            raise TypeError(
                "a loaded network cannot be edited: write it with to_toml(), edit the text, "
                "and load that with neuromap.load(text=...)"
            )
        self._native = None

    def population(self, name: str, size: int, model: str = "lif", **params: Any) -> str:
        """Adds a population of ``size`` neurons of ``model`` (lif, if, li, cuba_lif,
        cond_lif, adaptive_lif, threshold, izhikevich); each parameter one number, one
        per neuron (a list or array), or a distribution (``{"uniform": [a, b]}``).
        Returns the name."""
        self._edit()
        self._tables.append(("population", {"name": name, "size": int(size), "model": model, **params}))
        return name

    def source(self, name: str, size: int, kind: str = "poisson", **params: Any) -> str:
        """Adds a spike source: ``poisson`` (``rate`` Hz, ``start``, ``stop``),
        ``bernoulli`` (``p`` per step) or ``array`` (``spikes``: one list of times in
        ms per neuron). Returns the name."""
        self._edit()
        if kind == "array" and "spikes" in params:
            params["spikes"] = [[float(t) for t in np.asarray(s, dtype=float).ravel()] for s in params["spikes"]]
        self._tables.append(("source", {"name": name, "size": int(size), "kind": kind, **params}))
        return name

    def project(
        self,
        pre: str,
        post: str,
        weights: Any = None,
        delays: Any = None,
        *,
        connector: Union[str, Mapping[str, Any], None] = None,
        weight: Any = None,
        delay: Any = None,
        receptor: str = "excitatory",
        name: Optional[str] = None,
    ) -> str:
        """Adds a projection from ``pre`` (a population or source) to ``post``.

        Either ``weights``: a pre × post matrix (numpy, or scipy.sparse whose stored
        entries are the synapses; zeros of a dense matrix make no synapse), with
        ``delays`` (ms) a number or a matrix of the same shape; or a ``connector``
        (``"all_to_all"``, ``{"kind": "fixed_probability", "p": 0.1}``, …) with one
        ``weight`` and ``delay`` (a number or a distribution). Returns the name."""
        self._edit()
        where = name or f"{pre}->{post}"
        t: Dict[str, Any] = {"pre": pre, "post": post, "receptor": receptor}
        if name is not None:
            t["name"] = name
        if weights is not None:
            if connector is not None or weight is not None:
                raise _bad(f"{where}: give weights (a matrix) or a connector with a weight, not both")
            dense_delay = delays is None or np.isscalar(delays)
            if not hasattr(weights, "tocoo") and dense_delay:
                w = np.asarray(weights, dtype=float)
                if w.ndim != 2:
                    raise _bad(f"{where}: weights must be a 2-D matrix (pre × post), not {w.ndim}-D")
                t["connector"] = {"kind": "dense", "weights": w}
                if delays is not None:
                    t["delay"] = float(delays)
            else:
                t["connector"] = {"kind": "list", "entries": _sparse_entries(weights, delays, where)}
        else:
            if connector is None:
                raise _bad(f"{where}: give weights (a matrix) or a connector")
            t["connector"] = connector
            if weight is not None:
                t["weight"] = weight
            if delay is not None:
                t["delay"] = delay
        self._tables.append(("projection", t))
        return where

    def probe(self, population: str, variable: str = "v", neurons: Optional[Sequence[int]] = None) -> None:
        """Records a state variable of some neurons (docs/netlist.md, ``[[probe]]``)."""
        self._edit()
        t: Dict[str, Any] = {"population": population, "variable": variable}
        if neurons is not None:
            t["neurons"] = [int(i) for i in neurons]
        self._tables.append(("probe", t))

    def to_toml(self) -> str:
        """The network as a TOML netlist (for a loaded network, neuromap's writer's)."""
        if self._loaded:
            assert self._native is not None
            return self._native.to_toml()
        lines = ["[network]"]
        lines += [f"{k} = {_toml_value(v, 'network')}" for k, v in self._header.items()]
        for table, fields in self._tables:
            lines.append("")
            lines.append(f"[[{table}]]")
            where = str(fields.get("name") or (f"{fields['pre']}->{fields['post']}" if "pre" in fields else table))
            lines += [f"{k} = {_toml_value(v, where)}" for k, v in fields.items()]
        return "\n".join(lines) + "\n"

    # -- the network neuromap reads -----------------------------------------------

    def native(self) -> "_neuromap.Network":
        """The network as neuromap read it (built networks are read on first use)."""
        if self._native is None:
            self._native = _neuromap.network_from_toml(self.to_toml(), f"<{self._header['name']}>")
        return self._native

    @classmethod
    def _of(cls, native: "_neuromap.Network") -> "Network":
        n = cls(native.name, native.dt_ms, native.seed, native.steps)
        n._native = native
        n._loaded = True
        return n

    @property
    def name(self) -> str:
        return self.native().name

    @property
    def dt_ms(self) -> float:
        return self.native().dt_ms

    @property
    def steps(self) -> Optional[int]:
        """The run length the netlist gives, if any."""
        return self.native().steps

    @property
    def warnings(self) -> List[str]:
        return list(self.native().warnings)

    def size(self) -> Tuple[int, int]:
        """(neurons, synapses) once built (connectors drawn with the network's seed)."""
        return tuple(self.native().size())  # type: ignore[return-value]

    def spec(self) -> Dict[str, Any]:
        """The declaration neuromap read: populations, projections, probes."""
        import json

        return json.loads(self.native().spec_json())

    def __repr__(self) -> str:
        return repr(self.native()) if (self._loaded or self._native is not None) else (
            f"<neuromap.Network {self._header['name']!r} (built in code): {len(self._tables)} tables>"
        )


def load(
    source: Any = None,
    *,
    text: Optional[str] = None,
    dt_s: Optional[float] = None,
    input_p: Optional[float] = None,
    seed: Optional[int] = None,
) -> Network:
    """A network from a netlist or ``.nir`` path, a ``nir.NIRGraph`` (no file is
    written: the graph goes to neuromap's NIR reader in memory), netlist ``text``, or a
    :class:`Network` (returned as it is). ``dt_s``, ``input_p`` and ``seed`` are the NIR
    reader's options (seconds per step, the inputs' spike probability per step, their
    seed). Problems raise :class:`neuromap.InputError` whose ``diagnostics`` name the
    file, line and column, or the NIR node."""
    if text is not None:
        return Network._of(_neuromap.network_from_toml(text, "<text>"))
    if isinstance(source, Network):
        return source
    if isinstance(source, (str, os.PathLike)):
        n = Network._of(_neuromap.load_network(os.fspath(source), dt_s, input_p, seed))
        n.label = os.path.splitext(os.path.basename(os.fspath(source)))[0]
        return n
    if type(source).__name__ == "NIRGraph":
        import nir  # the graph came from it

        buf = io.BytesIO()
        nir.write(buf, source)
        return Network._of(_neuromap.network_from_nir_bytes(buf.getvalue(), "nir-graph", dt_s, input_p, seed))
    raise TypeError(f"cannot load a network from {type(source).__name__}: give a path, a nir.NIRGraph or text=")


def resolve(network: Any) -> Network:
    return network if isinstance(network, Network) else load(network)


def natives(networks: Iterable[Any]) -> List[Tuple[str, "_neuromap.Network"]]:
    """(label, network) of each."""
    out = []
    for n in networks:
        n = resolve(n)
        out.append((n.label, n.native()))
    return out
