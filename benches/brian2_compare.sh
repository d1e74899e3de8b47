#!/usr/bin/env bash
# Differential check of neuromap's f64 reference simulator against Brian2.
#
#   bash benches/brian2_compare.sh                  # CUBA, Brunel-1k, COBA and adaptive, 1 s each
#   bash benches/brian2_compare.sh --same-synapses  # only the identical-synapse check
#   bash benches/brian2_compare.sh NET.toml ...     # other netlists (same subset)
#
# Installs brian2 from the Python package registry into benches/.venv (once), builds
# neuromap in release mode, runs both simulators on the same netlists with the same
# parameters and the same input spike trains, twice: once with connectivity drawn by
# each tool, once with Brian2 given neuromap's synapses. Prints the mean rate per
# population from each, their difference, and the wall-time ratio. Exits non-zero if
# any rate differs by more than 5 % (with each tool's own connectivity: and by more
# than 3 standard deviations of neuromap's rate over 4 further seeds). With the same
# synapses it also times Brian2's C++ standalone device (compile time apart), replaying
# the same trains and drawing its own Poisson input (each one-to-one Poisson source a
# PoissonInput), against neuromap replaying and drawing its own.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=benches/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'brian2>=2.7,<3' 'numpy<2' 'cython>=3'
cargo build --release -q --bin neuromap
exec "$venv/bin/python" benches/brian2_compare.py "$@"
