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
. benches/sanafe/venv.sh
exec "$venv/bin/python" benches/sanafe/big_file.py "$@"
