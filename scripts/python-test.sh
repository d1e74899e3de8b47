#!/usr/bin/env bash
# Builds the Python package from this checkout into a virtual environment of its own
# and runs its tests (crates/python/tests, pytest).
#
#   bash scripts/python-test.sh            # install (or reinstall) and test
#   bash scripts/python-test.sh -k nir     # pytest's arguments pass through
#
# The environment is .venv-python/ (made once; NEUROMAP_VENV moves it). It takes
# pytest, numpy, pandas, nir and h5py from the Python package registry, and builds the
# package with the README's command, `pip install ./crates/python` (maturin, from the
# registry too, and cargo: the release build of the workspace is shared with
# `cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${NEUROMAP_VENV:-.venv-python}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check 'pytest>=7' 'numpy>=1.21' pandas 'nir>=1.0' h5py scipy matplotlib
"$py" -m pip install -q --disable-pip-version-check ./crates/python
# The tests run from the checkout (netlists/, hw-models/) against the installed
# package, with the CLI beside them for the comparisons.
cargo build --release -q --bin neuromap
exec "$py" -m pytest -q crates/python/tests "$@"
