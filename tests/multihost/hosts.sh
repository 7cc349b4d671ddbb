# Test hosts on one machine (sourced by the multihost tests; needs root and iproute2):
# N hosts as network namespaces on a bridge, each with its own address and host name, reached
# by Open MPI through a launch agent that runs a host's command inside its namespace, so that
# launch/mpirun.sh --hostfile runs across them exactly as across a cluster's nodes (TCP on the
# test network, nothing shared but the file system).
#   source tests/multihost/hosts.sh
#   hosts_up 3                  # hosts h1..h3 at 10.213.77.11.. ; hostfile in $HOSTS_FILE
#   launch/mpirun.sh --hostfile "$HOSTS_FILE" -- pretrain ...
#   host_cut h2 / host_restore h2 / host_freeze h2 / host_thaw h2 / host_kill h2
#   links_rate 40mbit           # every host's link limited (tc tbf); links_rate none lifts it
#   host_cpu_share h2 25        # host h2's processes get 25% of one core (cgroup cpu quota)
#   hosts_file h1 h2            # prints the path of a hostfile of these hosts only
# Each host runs on its own core of this machine (a cpuset; round robin when there are more hosts
# than cores), so that mpirun's binding on one host does not pile ranks of all hosts on core 0.
# Everything is removed by hosts_down, which hosts_up arranges to run on exit (also after a
# failure or SIGTERM/SIGINT); a test killed with SIGKILL leaves namespaces that the next
# hosts_up removes (their owner process is gone).
# The range 10.213.77.0/24 and the names emh<pid>-* are the tests' own.

HOSTS_SUBNET_PREFIX=10.213.77
HOSTS_SUBNET=$HOSTS_SUBNET_PREFIX.0/24
HOSTS_AGENT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/netns_agent.sh
PATH=$PATH:/usr/sbin:/sbin

hosts_require() {
  if [[ $EUID -ne 0 ]] || ! command -v ip >/dev/null || ! command -v tc >/dev/null ||
    ! ip netns list >/dev/null 2>&1; then
    echo "SKIP: the multihost tests need root, iproute2 and network namespaces"
    exit 77
  fi
}

# Namespaces and bridges left by a test that was killed (its pid no longer runs).
hosts_remove_stale() {
  local ns owner pid bridge group
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^emh[0-9]+-' || true); do
    owner=${ns#emh}; owner=${owner%%-*}
    kill -0 "$owner" 2>/dev/null && continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  for bridge in $(ip -o link show type bridge | awk -F': ' '{print $2}' | grep -E '^emhbr[0-9]+$' || true); do
    kill -0 "${bridge#emhbr}" 2>/dev/null || ip link del "$bridge" 2>/dev/null || true
  done
  for group in /sys/fs/cgroup/cpu/emh* /sys/fs/cgroup/cpuset/emh*; do
    [[ -d $group ]] || continue
    owner=${group##*/emh}; owner=${owner%%-*}
    kill -0 "$owner" 2>/dev/null || rmdir "$group" 2>/dev/null || true
  done
  true
}

# hosts_up N: hosts h1..hN. Sets HOSTS_FILE (an Open MPI hostfile: one slot per host, by
# address), HOSTS_DIR (a folder of this run) and the OMPI_MCA_* settings that make mpirun reach
# the hosts through the agent and talk TCP on the test network only.
hosts_up() {
  local count=$1 i
  hosts_require
  hosts_remove_stale
  HOSTS_OWNER=$$
  HOSTS_BRIDGE=emhbr$HOSTS_OWNER
  HOSTS_DIR=$(mktemp -d /tmp/electra-hosts.XXXXXX)
  HOSTS_COUNT=$count
  trap hosts_down EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  ip link add "$HOSTS_BRIDGE" type bridge
  ip addr add "$HOSTS_SUBNET_PREFIX.1/24" dev "$HOSTS_BRIDGE"
  ip link set "$HOSTS_BRIDGE" up
  : > "$HOSTS_DIR/hostfile"
  : > "$HOSTS_DIR/names"
  for i in $(seq "$count"); do
    local ns=emh$HOSTS_OWNER-h$i address=$HOSTS_SUBNET_PREFIX.$((10 + i))
    ip netns add "$ns"
    ip link add "emh$HOSTS_OWNER-$i" type veth peer name eth0 netns "$ns"
    ip link set "emh$HOSTS_OWNER-$i" master "$HOSTS_BRIDGE" up
    ip -n "$ns" addr add "$address/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    # The host's own core (cpuset): round robin over this machine's cores.
    local cpuset=/sys/fs/cgroup/cpuset/$ns
    if [[ -d /sys/fs/cgroup/cpuset ]] && mkdir -p "$cpuset" 2>/dev/null; then
      { echo $(((i - 1) % $(nproc))) > "$cpuset/cpuset.cpus" &&
        cat /sys/fs/cgroup/cpuset/cpuset.mems > "$cpuset/cpuset.mems"; } 2>/dev/null ||
        rmdir "$cpuset"  # not placeable here: the host runs on every core
    fi
    echo "$address slots=1" >> "$HOSTS_DIR/hostfile"
    echo "$address $ns h$i" >> "$HOSTS_DIR/names"
  done
  HOSTS_FILE=$HOSTS_DIR/hostfile
  export ELECTRA_TEST_HOSTS_NAMES=$HOSTS_DIR/names
  # mpirun starts each host's daemon through the agent (as it would through ssh); daemons talk
  # straight to mpirun (no tree); MPI traffic is TCP on the test network only.
  export OMPI_MCA_plm_rsh_agent=$HOSTS_AGENT
  export OMPI_MCA_plm_rsh_no_tree_spawn=1
  export OMPI_MCA_routed=direct
  export OMPI_MCA_btl=tcp,self
  export OMPI_MCA_btl_tcp_if_include=$HOSTS_SUBNET
  export OMPI_MCA_oob_tcp_if_include=$HOSTS_SUBNET
  export OMPI_MCA_pml=ob1
  # Each host's processes are on its core already (its cpuset): mpirun binds nothing (it would
  # bind to core 0 of the whole machine, outside a host's cpuset).
  export OMPI_MCA_hwloc_base_binding_policy=none
}

hosts_down() {
  local i ns pid
  [[ -n ${HOSTS_OWNER:-} ]] || return 0
  for i in $(seq "$HOSTS_COUNT"); do
    ns=emh$HOSTS_OWNER-h$i
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -CONT "$pid" 2>/dev/null || true
      kill -9 "$pid" 2>/dev/null || true
    done
  done
  sleep 0.2
  for i in $(seq "$HOSTS_COUNT"); do
    ip netns del "emh$HOSTS_OWNER-h$i" 2>/dev/null || true
    rmdir "/sys/fs/cgroup/cpu/emh$HOSTS_OWNER-h$i" 2>/dev/null || true
    rmdir "/sys/fs/cgroup/cpuset/emh$HOSTS_OWNER-h$i" 2>/dev/null || true
  done
  ip link del "$HOSTS_BRIDGE" 2>/dev/null || true
  rm -rf "$HOSTS_DIR"
  HOSTS_OWNER=""
  true
}

host_ns() { echo "emh$HOSTS_OWNER-$1"; }
hosts_file() {
  local file=$HOSTS_DIR/hostfile-$(IFS=-; echo "$*") host
  : > "$file"
  for host in "$@"; do echo "$(host_address "$host") slots=1" >> "$file"; done
  echo "$file"
}
host_address() { echo "$HOSTS_SUBNET_PREFIX.$((10 + ${1#h}))"; }
host_pids() { ip netns pids "$(host_ns "$1")" 2>/dev/null || true; }

# A cable pulled: the host's link goes down; its processes run on, unreachable.
host_cut() { ip -n "$(host_ns "$1")" link set eth0 down; }
host_restore() { ip -n "$(host_ns "$1")" link set eth0 up; }
# A frozen host: every process in it stopped (SIGSTOP); its kernel still answers TCP.
host_freeze() { local pid; for pid in $(host_pids "$1"); do kill -STOP "$pid" 2>/dev/null || true; done; }
host_thaw() { local pid; for pid in $(host_pids "$1"); do kill -CONT "$pid" 2>/dev/null || true; done; }
# A host that dies: every process in it killed.
host_kill() { local pid; for pid in $(host_pids "$1"); do kill -9 "$pid" 2>/dev/null || true; done; }

# links_rate RATE: every host's outgoing link shaped to RATE (tc tbf: NNmbit or NNgbit, bursts of
# 10 ms at that rate); "none" lifts it.
links_rate() {
  local i ns bytes=0
  case $1 in
    *gbit) bytes=$((${1%gbit} * 1000000000 / 8 / 100)) ;;
    *mbit) bytes=$((${1%mbit} * 1000000 / 8 / 100)) ;;
    none) ;;
    *) echo "links_rate: RATE is NNmbit, NNgbit or none, not '$1'" >&2; return 2 ;;
  esac
  ((bytes >= 32768)) || bytes=32768
  for i in $(seq "$HOSTS_COUNT"); do
    ns=emh$HOSTS_OWNER-h$i
    tc -n "$ns" qdisc del dev eth0 root 2>/dev/null || true
    [[ $1 == none ]] || tc -n "$ns" qdisc add dev eth0 root tbf rate "$1" burst "$bytes" latency 50ms
  done
}

# host_cpu_share HOST PERCENT: the host's processes (now and their children later) limited to
# PERCENT of one core (cgroup v1 cpu quota).
host_cpu_share() {
  local group=/sys/fs/cgroup/cpu/emh$HOSTS_OWNER-$1 pid
  [[ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]] || {
    echo "host_cpu_share: needs the cgroup v1 cpu controller at /sys/fs/cgroup/cpu" >&2
    return 1
  }
  mkdir -p "$group"
  echo 100000 > "$group/cpu.cfs_period_us"
  echo $(($2 * 1000)) > "$group/cpu.cfs_quota_us"
  for pid in $(host_pids "$1"); do echo "$pid" > "$group/cgroup.procs" 2>/dev/null || true; done
  true
}
