#!/usr/bin/env bash
# neuromap's Loihi model side by side with SANA-FE's on identical networks.
#
#   bash benches/sanafe_compare.sh            # random recurrent LIF networks, 1k-8k neurons
#   bash benches/sanafe_compare.sh --quick    # the two smallest
#   bash benches/sanafe_compare.sh --per-core 128   # few neurons per core (any N)
#
# Installs sanafe (2.2.9) from the Python package registry into benches/.venv-sanafe
# (once), builds neuromap in release mode, generates each network once (seeded), writes
# it as a neuromap netlist and builds the same network, with the same placement of
# neurons on cores, through SANA-FE's Python API on its own loihi.yaml. Runs both and
# prints per network: energy and time per step from each tool and their ratio, spikes
# from each, and the wall-time ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/sanafe/venv.sh
exec "$venv/bin/python" benches/sanafe/compare.py "$@"
