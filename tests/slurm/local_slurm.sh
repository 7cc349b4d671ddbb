#!/usr/bin/env bash
# A one-node SLURM cluster on this machine for the slurm-labelled tests: munged, slurmctld and
# slurmd with a configuration written here (proctrack/linuxproc, task/none, all CPUs), everything
# under DIR, on ports of its own so that it touches no system SLURM.
#   local_slurm.sh start DIR   starts the daemons; prints "export SLURM_CONF=DIR/slurm.conf"
#   local_slurm.sh stop DIR    stops the daemons started by `start DIR`
# Needs root (slurmd runs jobs as their users) and the slurm-wlm and munge packages.
set -euo pipefail

action=${1:?usage: local_slurm.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: local_slurm.sh start|stop DIR}")

stop() {
  for daemon in slurmd slurmctld munged; do
    local pidfile="$dir/run/$daemon.pid"
    if [[ -s $pidfile ]]; then
      local pid
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

if [[ $action == stop ]]; then
  stop
  exit 0
fi
[[ $action == start ]] || { echo "local_slurm.sh: unknown action '$action' (start or stop)" >&2; exit 2; }
for tool in munged slurmctld slurmd sbatch; do
  command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
  command -v "$tool" >/dev/null || {
    echo "local_slurm.sh: $tool not found; install slurm-wlm and munge (launch/setup.sh does)" >&2
    exit 1
  }
done
[[ $EUID -eq 0 ]] || { echo "local_slurm.sh: run as root (slurmd starts jobs as their users)" >&2; exit 1; }

mkdir -p "$dir/run" "$dir/state" "$dir/spool" "$dir/log"
chmod 755 "$dir"
chown munge:munge "$dir/run"
chmod 755 "$dir/run"
# A free base port: the controller takes it, slurmd the next one.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node=$(hostname -s)
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))

cat > "$dir/slurm.conf" <<CONF
ClusterName=electra-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/run/munge.socket,cred_expire=10
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdParameters=config_overrides
JobRequeue=1
# (cred_expire above also delays a requeued job's restart: 10 s instead of the default 121 s)
KillWait=30
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF

runuser -u munge -- munged --socket="$dir/run/munge.socket" --pid-file="$dir/run/munged.pid" \
  --log-file="$dir/run/munged.log" --seed-file="$dir/run/munged.seed"
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$dir/slurm.conf" -i
slurmd -f "$dir/slurm.conf"
for _ in $(seq 100); do
  if sinfo -h -o %t 2>/dev/null | grep -q '^idle'; then
    echo "export SLURM_CONF=$dir/slurm.conf"
    exit 0
  fi
  sleep 0.2
done
echo "local_slurm.sh: the node did not become idle within 20 s; logs under $dir/log:" >&2
tail -n 20 "$dir"/log/*.log "$dir/run/munged.log" >&2 || true
sinfo >&2 || true
stop
exit 1
