#!/usr/bin/env bash
# The Python package's overhead against the CLI on the same runs (issue: ≤ 5 %).
#
#   bash benches/python_overhead.sh            # brunel_1k and brunel_10k on spinnaker1-spinn5, lsm on rram-lsm-40nm
#   REPS=9 bash benches/python_overhead.sh
#
# Builds and installs the package into .venv-python (scripts/python-test.sh's
# environment), then times, in one run and alternating, `neuromap run NET --hw MODEL
# --steps N --no-output` as a process, and `python -c "neuromap.run(...)"` as a
# process (interpreter start and import included); prints the medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${NEUROMAP_VENV:-.venv-python}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'numpy>=1.21'
"$venv/bin/python" -m pip install -q --disable-pip-version-check ./crates/python
cargo build --release -q --bin neuromap
exec "$venv/bin/python" benches/python_overhead.py "$@"
