#!/usr/bin/env bash
# Runs a launcher (mpirun, srun) so that it ends once its job has failed for lost peers:
#   launch/launcher_watch.sh -- mpirun ... electra pretrain ...
# When a rank gives up on silent peers (electra's line "... exit status 76: run the same
# command again ...", dist/peer_watch.h) or Open MPI reports a lost node ("ORTE has lost
# communication with a remote daemon"), the launcher gets ELECTRA_LAUNCHER_GRACE seconds (15) to
# end the job on the hosts it still reaches; then it is killed. Open MPI 4's mpirun otherwise
# waits forever for the daemon of a frozen host (or about 15 minutes of TCP retries for a cut
# one), and srun until SLURM declares the node down (SlurmdTimeout, 300 s by default).
# SIGTERM, SIGUSR1 and SIGINT are passed on to the launcher (a scheduler's stop signals).
# The exit status: 76 (kExitPeerLost: resume from the last checkpoint) after a lost peer or
# node, else the launcher's own.
set -uo pipefail
[[ ${1:-} == -- ]] && shift
[[ $# -gt 0 ]] || { echo "launch/launcher_watch.sh: no launcher command after --" >&2; exit 2; }
grace=${ELECTRA_LAUNCHER_GRACE:-15}
[[ $grace =~ ^[0-9]+$ ]] || {
  echo "launch/launcher_watch.sh: ELECTRA_LAUNCHER_GRACE=$grace is not a whole number of seconds" >&2
  exit 2
}
readonly peer_lost=76
marker=$(mktemp "${TMPDIR:-/tmp}/electra-launcher-watch.XXXXXX")
trap 'rm -f "$marker"' EXIT

launcher=""
for signal in TERM USR1 INT; do
  trap "[[ -n \$launcher ]] && kill -s $signal \$launcher 2>/dev/null" "$signal"
done
# The launcher's stderr passes through unchanged; the first sign of a lost peer is timed.
exec {watch_fd}> >(
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s\n' "$line" >&2
    case $line in
      *"exit status $peer_lost: run the same command again"* | \
        *"ORTE has lost communication with a remote daemon"*)
        [[ -s $marker ]] || date +%s > "$marker" ;;
    esac
  done
)
watcher=$!
# Its own session: the launcher and what it started (ssh, local daemons) are killed together.
setsid "$@" 2>&"$watch_fd" &
launcher=$!
exec {watch_fd}>&-

killed=0
while kill -0 "$launcher" 2>/dev/null; do
  if [[ -s $marker ]] && (( $(date +%s) - $(cat "$marker") >= grace )); then
    echo "launch/launcher_watch.sh: the launcher did not end ${grace} s after a rank gave up on" \
      "its peers (a host is unreachable or frozen); killing it" >&2
    kill -9 -- "-$launcher" 2>/dev/null || kill -9 "$launcher" 2>/dev/null
    killed=1
    break
  fi
  sleep 0.5
done
status=0
while :; do
  wait "$launcher" 2>/dev/null  # no "Killed" notice from the shell
  status=$?
  kill -0 "$launcher" 2>/dev/null || break  # else a trapped signal interrupted the wait
done
# The watcher sees the launcher's last lines (up to 2 s: a lost host's agent may hold the pipe).
for _ in $(seq 20); do kill -0 "$watcher" 2>/dev/null || break; sleep 0.1; done
if [[ -s $marker ]]; then
  (( killed )) || [[ $status -eq $peer_lost ]] ||
    echo "launch/launcher_watch.sh: the launcher ended with status $status after a lost peer" \
      "or node: exit status $peer_lost (resume from the last checkpoint)" >&2
  exit "$peer_lost"
fi
exit "$status"
