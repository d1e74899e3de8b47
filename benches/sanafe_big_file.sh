#!/usr/bin/env bash
# A 39 MB network file written by SANA-FE, loaded and run by SANA-FE and by neuromap in
# one run (benches/sanafe/big_file.py says what is timed).
#
#   bash benches/sanafe_big_file.sh
#
# Installs sanafe (2.2.9) from the Python package registry into benches/.venv-sanafe
# (once, as sanafe_compare.sh does) and builds neuromap in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=benches/.venv-sanafe
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'sanafe==2.2.9' 'numpy<3'
cargo build --release -q --bin neuromap
exec "$venv/bin/python" benches/sanafe/big_file.py "$@"
