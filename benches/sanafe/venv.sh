# Sourced by the SANA-FE benchmarks: sanafe (2.2.9) from the Python package registry in
# benches/.venv-sanafe (made once), and neuromap built in release mode. Sets $venv.
venv=benches/.venv-sanafe
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'sanafe==2.2.9' 'numpy<3'
cargo build --release -q --bin neuromap
