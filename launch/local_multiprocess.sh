#!/usr/bin/env bash
# Several processes on this machine joined by jax.distributed, as the hosts of a pod would be: try the
# multi-host code paths (per-host data shares, process-0 writes, orbax multi-process checkpoints, barriers)
# without a cluster.
#
#   launch/local_multiprocess.sh NPROC CONFIG WORKDIR [--resume] [--config.a.b=value ...]
#       transel train, one model spanning every device of every process (--config.distributed=true added)
#   launch/local_multiprocess.sh NPROC run --config CONFIG [--workdir DIR] [transel run options ...]
#       transel run, the study's models divided among the processes (--distributed added)
#   launch/local_multiprocess.sh NPROC -- PROGRAM [ARGS ...]
#       any program (the tests' workers); it calls transel_jax.train.distributed.initialize_distributed
#
# Each process gets TRANSEL_COORDINATOR=127.0.0.1:PORT, TRANSEL_NUM_PROCESSES=NPROC, TRANSEL_PROCESS_ID=i
# and its devices: with GPUs visible (nvidia-smi), an equal share of them (CUDA_VISIBLE_DEVICES); else
# DEVICES_PER_PROCESS CPU devices (default 1; XLA_FLAGS=--xla_force_host_platform_device_count) and gloo
# CPU collectives. PORT: COORDINATOR_PORT, or a free one. Output lines are prefixed with [i].
# PIN_CPUS=1 (CPU only, opt-in): process i runs on its own block of nproc/NPROC cores (taskset), so the
# processes' XLA thread pools do not compete; faster (two study-sized trainings on 2 cores: 18.8 and 19.7
# ms/step pinned, 21.5 and 22.0 unpinned), but XLA:CPU's float rounding depends on its thread count, so
# results differ from an unpinned or one-process run's at rounding level (README, The study).
# The script waits for every process, and as soon as one fails it kills the others and exits with the
# failed one's status (0 when all succeed).
set -uo pipefail
if [ "$#" -lt 2 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 NPROC CONFIG WORKDIR [--resume] [--config.a.b=value ...]" >&2
  echo "       $0 NPROC run --config CONFIG [--workdir DIR] [options ...]" >&2
  echo "       $0 NPROC -- PROGRAM [ARGS ...]" >&2
  exit 2
fi
NPROC="$1"; shift
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python}"
case "$1" in
  --) shift; CMD=("$@") ;;
  run) shift; CMD=("$PYTHON" -m transel_jax.cli run "$@" --distributed) ;;
  *)
    if [ "$#" -lt 2 ]; then echo "usage: $0 NPROC CONFIG WORKDIR [...]" >&2; exit 2; fi
    CONFIG="$1"; WORKDIR="$2"; shift 2
    CMD=("$PYTHON" -m transel_jax.cli train --config "$CONFIG" --workdir "$WORKDIR" "$@" --config.distributed=true) ;;
esac
if [ "${#CMD[@]}" -eq 0 ]; then echo "$0: no program after --" >&2; exit 2; fi
PIN=()
if [ "${PIN_CPUS:-0}" = "1" ]; then
  if ! command -v taskset > /dev/null 2>&1; then echo "$0: PIN_CPUS=1 needs taskset (util-linux)" >&2; exit 2; fi
  # the cores this launcher may use (its own affinity: a container's or a SLURM step's cpuset), in order
  read -r -a CORES <<< "$("$PYTHON" -c 'import os; print(*sorted(os.sched_getaffinity(0)))')"
  if [ "${#CORES[@]}" -lt "$NPROC" ]; then
    echo "$0: PIN_CPUS=1: expected at least NPROC=$NPROC cores, got ${#CORES[@]}" >&2; exit 2
  fi
elif [ "${PIN_CPUS:-0}" != "0" ]; then
  echo "$0: PIN_CPUS: expected 0 or 1, got '${PIN_CPUS}'" >&2; exit 2
fi

PORT="${COORDINATOR_PORT:-$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"

GPUS=()
if [ -z "${JAX_PLATFORMS:-}" ] || [[ "${JAX_PLATFORMS}" == *cuda* ]] || [[ "${JAX_PLATFORMS}" == *gpu* ]]; then
  if command -v nvidia-smi > /dev/null 2>&1; then
    mapfile -t GPUS < <(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null)
  fi
fi
if [ "${#GPUS[@]}" -gt 0 ] && [ $(( ${#GPUS[@]} % NPROC )) -ne 0 ]; then
  echo "$0: ${#GPUS[@]} GPUs do not divide among $NPROC processes" >&2; exit 2
fi

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2> /dev/null; done
}
trap 'cleanup; exit 143' TERM INT

for ((i = 0; i < NPROC; i++)); do
  (
    export TRANSEL_COORDINATOR="127.0.0.1:$PORT" TRANSEL_NUM_PROCESSES="$NPROC" TRANSEL_PROCESS_ID="$i"
    if [ "${#GPUS[@]}" -gt 0 ]; then
      per=$(( ${#GPUS[@]} / NPROC ))
      export CUDA_VISIBLE_DEVICES="$(IFS=,; echo "${GPUS[*]:$((i * per)):$per}")"
    else
      export JAX_PLATFORMS=cpu
      export XLA_FLAGS="${XLA_FLAGS:-} --xla_force_host_platform_device_count=${DEVICES_PER_PROCESS:-1}"
      if [ "${PIN_CPUS:-0}" = "1" ]; then  # block i of nproc/NPROC of the launcher's cores
        per=$(( ${#CORES[@]} / NPROC ))
        PIN=(taskset -c "$(IFS=,; echo "${CORES[*]:$((i * per)):$per}")")
      fi
    fi
    cd "$ROOT"
    exec "${PIN[@]}" "${CMD[@]}"
  ) > >(sed -u "s/^/[$i] /") 2> >(sed -u "s/^/[$i] /" >&2) &
  PIDS+=("$!")
done

status=0
remaining=("${PIDS[@]}")
while [ "${#remaining[@]}" -gt 0 ]; do
  wait -n -p done_pid "${remaining[@]}"
  rc=$?
  [ -z "${done_pid:-}" ] && continue
  next=()
  for p in "${remaining[@]}"; do [ "$p" != "$done_pid" ] && next+=("$p"); done
  remaining=("${next[@]}")
  if [ "$rc" -ne 0 ]; then
    for ((i = 0; i < NPROC; i++)); do [ "${PIDS[$i]}" = "$done_pid" ] && who=$i; done
    echo "$0: process ${who:-?} exited with status $rc; stopping the others" >&2
    status=$rc
    for p in "${remaining[@]}"; do kill -TERM "$p" 2> /dev/null; done
    sleep 2
    for p in "${remaining[@]}"; do kill -KILL "$p" 2> /dev/null; done
    wait 2> /dev/null
    break
  fi
done
exit "$status"
