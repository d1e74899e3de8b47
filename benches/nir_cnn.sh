#!/usr/bin/env bash
# A NIR convolutional network of 56 million synapses: import, check and run, timed.
#
#   bash benches/nir_cnn.sh
#
# Installs the `nir` package (1.0.8) from the Python package registry into
# benches/.venv-nir (once), writes the network with benches/nir_cnn/make_cnn.py (a
# DVS-gesture-sized CNN in the node layout of a Sinabs export, seeded), builds neuromap
# in release mode, and prints wall time and peak memory of `neuromap check`, `neuromap
# import` and `neuromap run` on it, beside the `nir` package reading the same file (the
# peer, measured in the same run).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=benches/.venv-nir
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'nir==1.0.8' 'numpy<3' 'h5py<4'
cargo build --release -q --bin neuromap
exec "$venv/bin/python" benches/nir_cnn/measure.py "$@"
