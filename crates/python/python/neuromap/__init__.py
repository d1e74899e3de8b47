"""neuromap: compile spiking and binary neural networks onto models of neuromorphic
chips, simulate the mapped chip and price it: from Python.

Every computation is the Rust workspace's (the same code the ``neuromap`` command runs);
this package moves networks, chip models and results across, as numpy arrays and, where
pandas is installed, DataFrames.

>>> import neuromap
>>> r = neuromap.run("netlists/brunel_1k.toml", hw="spinnaker1-spinn5", steps=200)
>>> r.energy.total            # joules, on the machine allocated
>>> r.spikes["exc"].times_ms  # numpy arrays
>>> r                          # in Jupyter: the HTML report
"""

from __future__ import annotations

from . import _neuromap
from ._neuromap import InputError, MappingError, NeuromapError
from . import hw
from ._network import Network, load
from ._results import DiffResult, Energy, Latency, Mapping, RunResult, SimResult, Spikes, SweepResult
from ._api import compile, diff, run, simulate, sweep

__version__: str = _neuromap.__version__

__all__ = [
    "Network",
    "load",
    "hw",
    "compile",
    "run",
    "simulate",
    "sweep",
    "diff",
    "RunResult",
    "SimResult",
    "SweepResult",
    "DiffResult",
    "Energy",
    "Latency",
    "Mapping",
    "Spikes",
    "NeuromapError",
    "InputError",
    "MappingError",
    "__version__",
]
