#!/usr/bin/env bash
# Open MPI's launch agent for the test hosts (tests/multihost/hosts.sh sets it as
# OMPI_MCA_plm_rsh_agent): called as ssh would be, `netns_agent.sh [ssh options] HOST COMMAND...`,
# it runs COMMAND in HOST's network namespace, under HOST's own host name (a UTS namespace), on
# the host's own core (its cpuset) and in its CPU-quota group when the test limited its CPU.
set -euo pipefail
while [[ $# -gt 0 && $1 == -* ]]; do shift; done  # ssh options (-x ...) mean nothing here
host=${1:?netns_agent.sh: no host}
shift
names=${ELECTRA_TEST_HOSTS_NAMES:?netns_agent.sh: ELECTRA_TEST_HOSTS_NAMES is not set}
read -r _ ns name < <(awk -v h="$host" '$1 == h || $3 == h' "$names") || true
[[ -n ${ns:-} ]] || { echo "netns_agent.sh: unknown test host $host" >&2; exit 255; }
for group in /sys/fs/cgroup/cpuset/$ns /sys/fs/cgroup/cpu/$ns; do
  [[ -d $group ]] && { echo $$ > "$group/cgroup.procs"; } 2>/dev/null || true
done
exec ip netns exec "$ns" unshare --uts /bin/sh -c 'hostname "$0" && eval "$1"' "$name" "$*"
