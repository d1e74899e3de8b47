#!/usr/bin/env bash
# Side by side with sPyNNaker/PACMAN: map Brunel-10k onto a 48-chip SpiNN-5 board.
#
#   bash benches/spynnaker_compare.sh
#
# Installs sPyNNaker from the Python package registry into benches/.venv-spynnaker
# (once), writes a sPyNNaker configuration with virtual_board = True for one 48-chip
# board into a private HOME (~/.spynnaker.cfg there, so yours is untouched), builds
# neuromap in release mode, maps the same network with both, and prints the mapping
# wall time, cores used and routing entries per chip of each. Exits non-zero when
# neuromap is less than 20× faster or uses more cores.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(pwd)/benches/.venv-spynnaker"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'spynnaker==1!7.4.1'
cargo build --release -q --bin neuromap
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/.spynnaker.cfg" <<CFG
[Machine]
version = 5
virtual_board = True
width = 8
height = 8

[Mode]
mode = Production
CFG
# sPyNNaker writes reports into the folder it runs in: run it in the private HOME.
root=$(pwd)
cd "$home"
HOME="$home" "$venv/bin/python" "$root/benches/spynnaker_compare.py" "$@"
