#!/usr/bin/env bash
# Installs exactly the Debian 12 packages electra needs to build, test and run, and checks that
# OpenBLAS is the active libblas.so.3 (LibTorch's CPU matmuls are ~30x slower on reference BLAS).
# Idempotent and quick when everything is present. As a non-root user it prints the apt command.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config  # toolchain
  libtorch-dev libopenblas0-pthread                     # LibTorch 1.13 (CPU) on OpenBLAS
  libopenmpi-dev openmpi-bin                            # MPI
  libhdf5-dev hdf5-tools                                # shards (h5dump to inspect them)
  libboost-program-options-dev                          # command line
  libgtest-dev libgmock-dev                             # tests
  nlohmann-json3-dev libutf8proc-dev libicu-dev        # JSON, Unicode
  xz-utils nodejs npm                                   # test data; tokenizer reference (npm)
  libprotobuf-dev protobuf-compiler                     # TensorBoard event files
  gnuplot-nox                                           # electra plot: curves to PNG
  python3-h5py                                          # reading shards from Python (tests, users)
  slurm-wlm munge                                       # the slurm test's local cluster
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
# nodejs may come from elsewhere (e.g. NodeSource) with npm included: accept working commands.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for package in "${missing[@]}"; do
    [[ $package == nodejs || $package == npm ]] || filtered+=("$package")
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  command="apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "electra needs these Debian packages; as root run:"
    echo "  apt-get update && $command"
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  $command >/dev/null
fi

blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [[ $blas != *openblas* ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    update-alternatives --set libblas.so.3-x86_64-linux-gnu \
      /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 >/dev/null
    blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)
  fi
  if [[ $blas != *openblas* ]]; then
    echo "setup: libblas.so.3 is $blas, not OpenBLAS; as root run:"
    echo "  update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"
    exit 1
  fi
fi
echo "setup: all packages present; libblas.so.3 -> $blas"
