"""numpy, imported on first use: `import neuromap` stays quick (numpy alone takes
about 70 ms to import), and a script that only runs and reads the report never pays
for it."""

from typing import Any


class _Numpy:
    def __getattr__(self, name: str) -> Any:
        import numpy

        return getattr(numpy, name)


np: Any = _Numpy()
