#!/usr/bin/env bash
# CUDA-only code cannot rot unseen on a CPU machine: every source that a CUDA build compiles
# differently (it mentions ELECTRA_WITH_CUDA, or includes CUDA, NCCL or ATen/c10 CUDA headers;
# the gpu tests) is compiled here with -fsyntax-only and the project's CUDA define, against the
# headers at hand — on this machine Debian's LibTorch 1.13 ATen/cuda and c10/cuda headers and the
# CUDA toolkit's in /usr/local/cuda — with each file's own flags from compile_commands.json (a
# file that the CPU build does not compile borrows the flags of its folder's first file).
# It cannot see LibTorch 2.x API differences: 1.13's headers are what it checks against.
# usage: syntax_check.sh BUILD_DIR PROJECT_ROOT     Exit 77 (skipped) without the CUDA headers.
set -euo pipefail
build=$1 root=$2
cuda=${CUDA_HOME:-/usr/local/cuda}
if [[ ! -f $cuda/include/cuda_runtime_api.h || ! -f $cuda/include/nccl.h ]]; then
  echo "skipped: no CUDA toolkit or NCCL headers under $cuda/include"
  exit 77
fi
[[ -f $build/compile_commands.json ]] || { echo "no $build/compile_commands.json"; exit 1; }
cd "$root"
mapfile -t files < <(grep -rlE 'ELECTRA_WITH_CUDA|<(c10|ATen)/cuda/|<nccl\.h>|<cuda_runtime' \
  --include='*.cpp' app dist bench tests | sort; ls tests/gpu/*.cpp)
mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u)
python3 - "$build/compile_commands.json" "$root" "$cuda" "${files[@]}" <<'PY'
import json, os, shlex, subprocess, sys
commands, root, cuda, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
entries = {os.path.realpath(e["file"]): e for e in json.load(open(commands))}
failed = 0
for name in files:
    path = os.path.realpath(os.path.join(root, name))
    entry = entries.get(path)
    if entry is None:  # not in the CPU build: the flags of a file beside it
        folder = os.path.dirname(path)
        entry = next((e for f, e in sorted(entries.items()) if os.path.dirname(f) == folder), None)
        if entry is None:
            print(f"{name}: no compile command in its folder to borrow"); failed += 1; continue
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    out, i = [], 0
    while i < len(args):  # drop the output and the input, keep every flag
        if args[i] in ("-o", "-c"): i += 2; continue
        out.append(args[i]); i += 1
    out += ["-fsyntax-only", "-DELECTRA_WITH_CUDA=1", "-DC10_CUDA_NO_CMAKE_CONFIGURE_FILE",
            "-isystem", os.path.join(cuda, "include"), path]
    result = subprocess.run(out, cwd=entry["directory"], capture_output=True, text=True)
    if result.returncode != 0:
        failed += 1
        print(f"FAILED {name}:\n{result.stderr[-4000:]}")
    else:
        print(f"ok {name}")
print(f"{len(files) - failed} of {len(files)} CUDA sources compile (-fsyntax-only)")
sys.exit(1 if failed else 0)
PY
