#!/usr/bin/env bash
# A throw-away single-node Slurm cluster for the tests: `cluster.sh start|stop|status DIR`.
#
# Everything lives in DIR: a munge key, socket, pid and log files for a private munged; a
# slurm.conf for one node at 127.0.0.1 on free ports; the controller's state, slurmd's spool
# and the daemons' logs and pid files. Clients reach it with SLURM_CONF=DIR/slurm.conf, so a
# system Slurm or munge configuration is never read nor touched.
#
# start   installs Debian's slurm-wlm and munge when missing (apt-get, as root), writes the
#         configuration on first use, starts munged, slurmctld and slurmd unless they already
#         run, and waits until the node is idle. Idempotent.
# stop    cancels the cluster's jobs and stops exactly the daemons whose pid files are in DIR.
# status  says which daemons run and shows sinfo; exits 1 unless all three run.
#
# Choices forced by containers: proctrack/linuxproc and task/none (no cgroups), no slurmdbd
# (accounting_storage/none; jobcomp/filetxt keeps finished jobs for `sacct -c`, and a large
# MinJobAge keeps them in the controller's memory for squeue/scontrol).
set -euo pipefail

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
if [ "$action" = start ]; then mkdir -p "$2"; fi
if [ ! -d "$2" ]; then echo "cluster.sh: no cluster in $2 (no such folder)" >&2; exit 1; fi
dir=$(cd "$2" && pwd)
export PATH="$PATH:/usr/sbin:/sbin"
export SLURM_CONF="$dir/slurm.conf"
daemons=(munged slurmctld slurmd)

say() { echo "cluster.sh: $*" >&2; }

# The pid recorded in DIR/NAME.pid when that process is alive and is NAME; empty otherwise.
running_pid() {
  local name=$1 pid
  [ -s "$dir/$name.pid" ] || return 0
  pid=$(tr -dc '0-9' 2>/dev/null <"$dir/$name.pid" || true)
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 0
  # A zombie (exited, not yet reaped) keeps its name: it does not count.
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] &&
    [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" != Z ] && echo "$pid"
  return 0
}

ensure_installed() {
  local missing=()
  for b in sbatch squeue sacct scancel sinfo slurmctld slurmd munged; do
    command -v "$b" >/dev/null || missing+=("$b")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "missing ${missing[*]}; installing slurm-wlm and munge with apt-get"
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    say "cannot install: needs root and apt-get. Install Debian's slurm-wlm and munge by hand."
    exit 1
  fi
  local log="$dir/apt.log"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           slurm-wlm munge >"$log" 2>&1 ||
         { apt-get update -qq >>"$log" 2>&1 &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
             slurm-wlm munge >>"$log" 2>&1; }; }; then
    tail -n 20 "$log" >&2
    say "apt-get could not install slurm-wlm and munge (full log: $log)"
    exit 1
  fi
}

# A TCP port on which nothing listens, from a pseudo-random start.
free_port() {
  local p=$(( 20000 + (RANDOM * 7 + $$) % 30000 )) used
  used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r _ addr _ st _; do
           [ "$st" = 0A ] && echo $(( 16#${addr##*:} )); done || true)
  while grep -qx "$p" <<<"$used" || grep -qx "$(( p + 1 ))" <<<"$used"; do p=$(( p + 2 )); done
  echo "$p"
}

write_config() {
  local host cpus mem port
  host=$(hostname -s 2>/dev/null || true); host=${host:-localhost}
  cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  port=$(free_port)
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  : >"$dir/plugstack.conf"
  cat >"$dir/slurm.conf" <<EOF
# Single-node test cluster written by tests/slurm/cluster.sh; all paths under $dir.
ClusterName=l2tww-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$(( port + 1 ))
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MinJobAge=65533
ReturnToService=2
InactiveLimit=0
KillWait=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

logs() {
  for f in "$dir/munge/munged.log" "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
    [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 15 "$f" >&2; }
  done
  return 0
}

fail() { say "$*"; logs; exit 1; }

# Waits up to $2 tenths of a second for the shell test "$1" to hold.
wait_for() {
  local i
  for (( i = 0; i < $2; i++ )); do eval "$1" && return 0; sleep 0.1; done
  return 1
}

start() {
  ensure_installed
  local all=1 d
  for d in "${daemons[@]}"; do [ -n "$(running_pid "$d")" ] || all=0; done
  if [ $all -eq 1 ]; then say "already running in $dir"; echo "export SLURM_CONF=$SLURM_CONF"; return 0; fi
  stop_daemons
  # munged wants every folder above its socket to be searchable by all.
  chmod 755 "$dir"
  mkdir -p "$dir/munge"; chmod 700 "$dir/munge"
  [ -f "$dir/slurm.conf" ] || write_config
  if [ ! -s "$dir/munge/munge.key" ]; then
    if command -v mungekey >/dev/null; then
      mungekey -c -b 1024 -k "$dir/munge/munge.key"
    else
      (umask 077; dd if=/dev/urandom bs=128 count=1 of="$dir/munge/munge.key" 2>/dev/null)
    fi
  fi
  chmod 711 "$dir/munge"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" || fail "munged did not start"
  wait_for '[ -S "$dir/munge/munge.socket" ]' 50 || fail "munged made no socket"
  slurmctld || fail "slurmctld did not start"
  wait_for '[ -n "$(running_pid slurmctld)" ]' 100 || fail "slurmctld wrote no pid file"
  slurmd -N "$(awk -F'[= ]' '/^NodeName=/ { print $2 }' "$SLURM_CONF")" || fail "slurmd did not start"
  wait_for '[ -n "$(running_pid slurmd)" ]' 100 || fail "slurmd wrote no pid file"
  wait_for '[ "$(sinfo -h -o %T 2>/dev/null)" = idle ]' 600 \
    || fail "the node is not idle after 60 s: $(sinfo -h -o '%T %E' 2>&1 || true)"
  say "running in $dir"
  echo "export SLURM_CONF=$SLURM_CONF"
}

stop_daemons() {
  local d pid
  for d in slurmd slurmctld munged; do
    pid=$(running_pid "$d")
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait_for "[ -z \"\$(running_pid $d)\" ]" 100 || kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$d.pid"
  done
}

stop() {
  if [ -n "$(running_pid slurmctld)" ]; then
    # Jobs' slurmstepd processes outlive slurmd: cancel everything first and let it end.
    local jobs
    jobs=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ' || true)
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      wait_for '[ -z "$(squeue -h -t running,completing -o %i 2>/dev/null)" ]' 150 || true
    fi
  fi
  stop_daemons
  say "stopped in $dir"
}

status() {
  local d pid rc=0
  for d in "${daemons[@]}"; do
    pid=$(running_pid "$d")
    if [ -n "$pid" ]; then echo "$d: running (pid $pid)"; else echo "$d: not running"; rc=1; fi
  done
  [ $rc -eq 0 ] && sinfo
  return $rc
}

case $action in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
