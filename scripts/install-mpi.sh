#!/usr/bin/env bash
# Installs what `cargo build --features mpi` needs, from Debian's packages: an MPI
# (Open MPI: mpirun and libmpi) and libclang (the mpi crate generates its bindings
# with bindgen). Does nothing when they are there already.
set -euo pipefail
need=()
command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin)
[ -e /usr/include/x86_64-linux-gnu/openmpi/mpi.h ] || [ -e /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h ] \
    || command -v mpicc >/dev/null 2>&1 || need+=(libopenmpi-dev)
# libclang itself (libclang.so*, libclang-14.so*), not libclang-cpp, which other
# packages bring and bindgen cannot use.
ls /usr/lib/x86_64-linux-gnu/libclang.so* /usr/lib/x86_64-linux-gnu/libclang-[0-9]*.so* >/dev/null 2>&1 \
    || ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* >/dev/null 2>&1 \
    || need+=(libclang-dev)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${need[*]} (Debian packages) for the mpi feature"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q "${need[@]}" >/dev/null
