# Shared by the slurm tests (sourced): skip without root or SLURM, a work folder munged can
# read, the local one-node cluster started there and stopped on exit.
#   source slurm_test_common.sh ELECTRA_BINARY PROJECT_ROOT NAME
# Sets electra, root, work; defines fail MESSAGE (prints $work/*.out and exits 1) — a test may
# redefine show_logs to print more.
electra=$(realpath "$1")
root=$(realpath "$2")
PATH=$PATH:/usr/sbin
if [[ $EUID -ne 0 ]] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "SKIP: needs root and slurm-wlm + munge (launch/setup.sh installs them)"
  exit 77
fi
work=$(mktemp -d "/tmp/electra-$3.XXXXXX")
chmod 755 "$work"  # munged runs as the munge user
show_logs() { for f in "$work"/*.out; do [[ -f $f ]] && { echo "--- $f"; cat "$f"; }; done; }
fail() {
  echo "FAIL: $*"
  show_logs
  exit 1
}
stop_cluster() {
  bash "$root/tests/slurm/local_slurm.sh" stop "$work/cluster"
  rm -rf "$work"
}
trap stop_cluster EXIT
settings=$(bash "$root/tests/slurm/local_slurm.sh" start "$work/cluster") ||
  fail "the local SLURM did not start"
eval "$settings"
