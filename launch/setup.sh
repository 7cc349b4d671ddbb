#!/usr/bin/env bash
# Installs what electra needs to build, test and run: Debian 12 packages (compiler, MPI, HDF5,
# Boost, GoogleTest, ...) and the project's Python environment (.venv, or $ELECTRA_VENV) with
# PyPI's torch wheel, whose LibTorch electra builds against (ELECTRA_TORCH_VERSION, default
# 2.11.0, as the GPU hosts run), and the HuggingFace references (launch/requirements.txt).
# Idempotent and quick when everything is present. As a non-root user it prints the apt command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${ELECTRA_VENV:-$root/.venv}
torch_version=${ELECTRA_TORCH_VERSION:-2.11.0}

packages=(
  build-essential cmake ninja-build ccache pkg-config  # toolchain
  libopenmpi-dev openmpi-bin                            # MPI
  libhdf5-dev hdf5-tools                                # shards (h5dump to inspect them)
  libboost-program-options-dev                          # command line
  libgtest-dev libgmock-dev                             # tests
  nlohmann-json3-dev libutf8proc-dev libicu-dev        # JSON, Unicode
  xz-utils                                              # test data
  libprotobuf-dev protobuf-compiler                     # TensorBoard event files
  gnuplot-nox                                           # electra plot: curves to PNG
  python3-h5py                                          # reading shards from Python (tests, users)
  slurm-wlm munge                                       # the slurm test's local cluster
  iproute2 bc                                           # the multihost tests: namespaces, tc
)
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
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

# The Python environment: reused when it already has this torch and the pinned references.
wanted="torch==$torch_version $(grep -v '^#' "$root/launch/requirements.txt" | xargs)"
have_all() {
  "$venv/bin/python" - $wanted <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    if version(name).split("+")[0] != want:
        sys.exit(1)
PY
}
if ! have_all; then
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
  echo "setup: installing $wanted into $venv (the torch wheel with its CUDA libraries: about 4 GB)"
  start=$(date +%s)
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $wanted
  echo "setup: Python environment ready in $(($(date +%s) - start)) s"
fi
echo "setup: packages present; $("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)') in $venv"
