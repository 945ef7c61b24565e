#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/test_slurm.py (run as root; CI runs it from the test).
#
#   tests/slurm/setup.sh start   install slurm-wlm + munge (apt) if missing, write /etc/slurm/{slurm,gres}.conf,
#                                start munged, slurmctld and slurmd, wait until the node is idle
#   tests/slurm/setup.sh stop    stop the daemons this script started (by the process ids it recorded)
#                                and remove the config files it wrote
#
# The node is this host (hostname -s) with all its CPUs, its memory and one fake GPU (gres gpu:1 backed
# by /dev/null): enough for the workflow's `resources: gpu=1` jobs to be scheduled as `sbatch --gpus=1`.
# No accounting (no slurmdbd): job states come from squeue (the slurm profile's `slurm-status-command`).
# An existing slurm.conf that this script did not write is never overwritten.
set -euo pipefail

STATE=/run/mesr-slurm-test          # pid files of the daemons started here, and their logs
MARKER="# written by mesr tests/slurm/setup.sh"

die() { echo "slurm setup: $*" >&2; exit 1; }

stop() {
    local pids=() name pid
    for name in slurmd slurmctld munged; do
        if [[ -f "$STATE/$name.pid" ]]; then
            pid=$(cat "$STATE/$name.pid")
            rm -f "$STATE/$name.pid"
            # only a process that still runs the daemon this script started (pids get reused)
            if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$name" ]]; then
                kill "$pid" 2>/dev/null && pids+=("$pid")
            fi
        fi
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    # Without a controller, a slurm.conf makes every SLURM client command wait its MessageTimeout (10 s),
    # and with it every snakemake start (the slurm executor plugin asks `scontrol show config`): remove ours.
    for conf in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
        if [[ -f "$conf" ]] && grep -qF "$MARKER" "$conf"; then rm -f "$conf"; fi
    done
}

start() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"
    if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
        command -v apt-get >/dev/null || die "slurm-wlm is not installed and apt-get is not available"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null || die "apt-get update failed"
        apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null || die "apt-get install slurm-wlm munge failed"
    fi
    mkdir -p "$STATE" /etc/slurm /var/spool/slurmctld /var/spool/slurmd /run/munge
    if [[ -f /etc/slurm/slurm.conf ]] && ! grep -qF "$MARKER" /etc/slurm/slurm.conf; then
        die "/etc/slurm/slurm.conf exists and was not written by this script: not touching a real cluster"
    fi

    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
    cat > /etc/slurm/slurm.conf <<CONF
$MARKER
ClusterName=mesr-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    cat > /etc/slurm/gres.conf <<CONF
$MARKER
AutoDetect=off
NodeName=$host Name=gpu File=/dev/null
CONF
    if ! munge -n >/dev/null 2>&1 </dev/null; then
        [[ -s /etc/munge/munge.key ]] || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; }
        chown munge:munge /etc/munge/munge.key /run/munge && chmod 400 /etc/munge/munge.key
        runuser -u munge -- /usr/sbin/munged || die "munged failed to start"
        for _ in $(seq 50); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.1; done
        cp /run/munge/munged.pid "$STATE/munged.pid"   # stop() ends only what this script started
        munge -n </dev/null | unmunge >/dev/null || die "munge does not work"
    fi
    slurmctld -c || die "slurmctld failed to start: $(tail -5 "$STATE/slurmctld.log" 2>/dev/null)"
    slurmd || die "slurmd failed to start: $(tail -5 "$STATE/slurmd.log" 2>/dev/null)"
    for _ in $(seq 60); do
        state=$(sinfo --noheader --nodes="$host" --format=%t 2>/dev/null | head -1 || true)
        [[ "$state" == idle ]] && { echo "slurm setup: node $host idle"; return 0; }
        sleep 1
    done
    die "node $host did not become idle (state: '${state:-none}'); slurmd log: $(tail -5 "$STATE/slurmd.log" 2>/dev/null)"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 [start|stop]" ;;
esac
