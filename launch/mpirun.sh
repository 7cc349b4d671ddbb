#!/usr/bin/env bash
# Starts an electra command on one node or many under Open MPI's mpirun with sensible defaults,
# printing the mpirun command line before it runs it:
#   launch/mpirun.sh [--hostfile FILE] [--ranks-per-node N] [--threads T] [--dry-run] \
#     [--electra PATH] -- pretrain --config configs/small.ini --data DIR --out RUN
# - Ranks per node: one per GPU (nvidia-smi), or 1 on a CPU node; --ranks-per-node overrides.
# - Nodes: this one, or every host of --hostfile (Open MPI format: "host slots=N" per line).
# - OpenMP/intra-op threads per rank: the node's cores divided among its ranks (--threads).
# - Each rank is bound to its share of cores when they fit (unless the shell sets Open MPI's
#   OMPI_MCA_hwloc_base_binding_policy, which is then used), and sees the NCCL settings below and
#   any NCCL_* / ELECTRA_* / UCX_* variable of this shell (exported to every node).
# - Run as root, mpirun's refusal is lifted (containers); a node oversubscribed is allowed.
# The exit status is mpirun's: 75 when the run stopped on SIGTERM/SIGUSR1 after a checkpoint
# (mpirun forwards both signals to the ranks), so a scheduler can requeue it; 76 when a rank gave
# up on silent peers (--peer-timeout) or a node was lost: mpirun is ended within
# ELECTRA_LAUNCHER_GRACE seconds (15) of that even when a host is frozen or unreachable
# (launch/launcher_watch.sh); run the same command to resume.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
hostfile="" ranks_per_node="" threads="" dry_run=0
electra=${ELECTRA_BINARY:-${ELECTRA_BUILD_DIR:-$root/build}/app/electra}
while [[ $# -gt 0 ]]; do
  case $1 in
    --hostfile) hostfile=${2:?--hostfile needs a file}; shift 2 ;;
    --ranks-per-node) ranks_per_node=${2:?--ranks-per-node needs a number}; shift 2 ;;
    --threads) threads=${2:?--threads needs a number}; shift 2 ;;
    --electra) electra=${2:?--electra needs a path}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "launch/mpirun.sh: unknown option '$1' (the electra command goes after --)" >&2
       usage >&2; exit 2 ;;
  esac
done
[[ $# -gt 0 ]] || { echo "launch/mpirun.sh: no electra command after --" >&2; usage >&2; exit 2; }
for value in "$ranks_per_node" "$threads"; do
  [[ -z $value || $value =~ ^[1-9][0-9]*$ ]] || {
    echo "launch/mpirun.sh: '$value' is not a positive number (--ranks-per-node, --threads)" >&2
    exit 2
  }
done
[[ -x $electra ]] || { echo "launch/mpirun.sh: $electra is not built; run launch/build.sh or pass --electra" >&2; exit 1; }

nodes=1
if [[ -n $hostfile ]]; then
  [[ -r $hostfile ]] || { echo "launch/mpirun.sh: cannot read --hostfile $hostfile" >&2; exit 1; }
  nodes=$(grep -cvE '^\s*(#|$)' "$hostfile" || true)
  [[ $nodes -gt 0 ]] || { echo "launch/mpirun.sh: $hostfile lists no hosts" >&2; exit 1; }
fi
gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true); fi
ranks_per_node=${ranks_per_node:-$(( gpus > 0 ? gpus : 1 ))}
cores=$(nproc)
threads=${threads:-$(( cores / ranks_per_node > 0 ? cores / ranks_per_node : 1 ))}
ranks=$(( nodes * ranks_per_node ))

command=(mpirun -np "$ranks")
[[ -n $hostfile ]] && command+=(--hostfile "$hostfile")
if [[ -n ${OMPI_MCA_hwloc_base_binding_policy:-} ]]; then
  # The shell's own Open MPI binding policy (e.g. none where a cpuset already places each node's
  # processes) is kept.
  command+=(--map-by "ppr:$ranks_per_node:node" --oversubscribe)
elif (( ranks_per_node * threads <= cores )); then
  command+=(--map-by "ppr:$ranks_per_node:node:PE=$threads" --bind-to core)
else
  command+=(--map-by "ppr:$ranks_per_node:node" --bind-to none --oversubscribe)
fi
[[ $EUID -eq 0 ]] && command+=(--allow-run-as-root)
# Every rank's threads, and NCCL: warnings visible, errors raised asynchronously and polled
# (dist/nccl_all_reduce.cpp) so that a dead peer ends the job.
command+=(-x "OMP_NUM_THREADS=$threads" -x "NCCL_DEBUG=${NCCL_DEBUG:-WARN}")
for variable in $(compgen -e | grep -E '^(NCCL_|ELECTRA_|UCX_|OMP_WAIT_POLICY$|LD_LIBRARY_PATH$)' || true); do
  [[ $variable == NCCL_DEBUG ]] || command+=(-x "$variable")
done
command+=("$electra" "$@")

echo "launch/mpirun.sh: $nodes node(s) x $ranks_per_node rank(s) x $threads thread(s)" \
  "($gpus GPU(s) here)" >&2
printf '%q ' "${command[@]}" >&2
echo >&2
(( dry_run )) && exit 0
# mpirun ends once a rank gave up on silent peers (launch/launcher_watch.sh).
exec bash "$root/launch/launcher_watch.sh" -- "${command[@]}"
