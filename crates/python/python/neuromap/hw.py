"""Chip models: list, load and edit the models of ``hw-models/`` (or any model file).

>>> hw = neuromap.hw.load("spinnaker1-spinn5")
>>> hw.get("core.clock_hz")
>>> hw.set("core.clock_hz", 1.5e8)           # checked as a model file's value would be
>>> hw.figures()                              # every figure with its provenance
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Union

from . import _neuromap

__all__ = ["Hw", "load", "names", "models"]


class Hw:
    """A chip model: every figure with its provenance (source, derived, borrowed,
    assumption). ``set`` changes a figure as ``neuromap sweep --set`` does."""

    def __init__(self, native: "_neuromap.Hw") -> None:
        self._native = native

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def family(self) -> str:
        """The chip family: arm-core, crossbar, neurocore, threshold-logic, mac-bnn."""
        return self._native.family

    @property
    def description(self) -> str:
        return self._native.description

    @property
    def parts(self) -> List[str]:
        """A hybrid chip's parts (their model names); empty for one family."""
        return list(self._native.parts)

    def get(self, key: str) -> Optional[Union[float, str]]:
        """A figure's value (``section.key``, or ``PART/section.key`` on a hybrid
        chip): a number, or a choice's name; ``None`` when the model does not give it."""
        return self._native.get(key)

    def set(self, key: str, value: Union[float, int, str], why: Optional[str] = None) -> "Hw":
        """Sets a figure in place (and returns the model, so calls chain). The value is
        checked as a model file's would be; ``why`` becomes its provenance (an
        assumption). Raises :class:`neuromap.InputError` naming the closest figure when
        ``key`` is not one."""
        if isinstance(value, float):
            value = repr(value)
        self._native.set(key, value, why)
        return self

    def copy(self) -> "Hw":
        return Hw(self._native.copy())

    def figures(self) -> List[Dict[str, Any]]:
        """Every figure: key, value (or choice), unit, certainty, provenance, steps."""
        return json.loads(self._native.figures_json())

    def to_pandas(self) -> Any:
        """The figures as a DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.figures())

    def to_dict(self) -> Dict[str, Any]:
        """The whole validated model."""
        return json.loads(self._native.to_json())

    def __repr__(self) -> str:
        return repr(self._native)


def load(name: Union[str, "os.PathLike[str]"]) -> Hw:
    """Loads a chip model by name (``hw-models/NAME.toml``) or path. A model with
    problems raises :class:`neuromap.InputError` whose ``diagnostics`` name file, line
    and column."""
    return Hw(_neuromap.load_hw(os.fspath(name)))


def names() -> List[str]:
    """The names of the models in ``hw-models/``."""
    return [os.path.splitext(os.path.basename(p))[0] for p in _neuromap.hw_files()]


def models() -> List[Hw]:
    """Every model in ``hw-models/``, loaded (the invalid ones left out)."""
    out = []
    for p in _neuromap.hw_files():
        try:
            out.append(Hw(_neuromap.load_hw(p)))
        except _neuromap.InputError:
            pass
    return out


def resolve(hw: Union[str, "os.PathLike[str]", Hw]) -> Hw:
    """A model given by name, path or object."""
    return hw if isinstance(hw, Hw) else load(hw)
