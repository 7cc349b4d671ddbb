#!/usr/bin/env bash
# Stages what the GPU host lacks into .device/ (git-ignored): the Boost packages of
# ../shared/device/stage.sh plus utf8proc, ICU, nlohmann-json and protobuf (TensorBoard events),
# which the project also needs.
# .device/gpu.sh unpacks every .deb there into a prefix that CMake searches.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash "$root/../shared/device/stage.sh"
(cd "$root/.device/debs" && apt-get download -q libutf8proc-dev libutf8proc2 libicu-dev libicu72 nlohmann-json3-dev libprotobuf-dev libprotobuf32 libprotobuf-lite32 protobuf-compiler libprotoc32 >/dev/null) ||
  { echo "apt-get download of utf8proc / ICU / nlohmann-json / protobuf failed (run apt-get update first)"; exit 1; }
echo "staged: $(ls "$root/.device/debs" | tr '\n' ' ')"
