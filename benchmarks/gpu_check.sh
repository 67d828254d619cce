#!/usr/bin/env bash
# Issue 15's accelerator figures in one run of at most about 9 minutes (the device tool's budget is 15
# minutes per session, machine start included): device facts, the scorer's plan sweep on the headline case,
# the headline case with the default plan (random and peaked pools, against the numpy loop), and the
# N=64, n=1,000,000, C=134 case. Each step has its own time limit and writes its table to $OUT (the device
# tool brings $OUT back), so a step that runs over costs only itself.
#
#   benchmarks/gpu_check.sh                 # on the GPU machine, from the repository root
#   SMOKE=1 benchmarks/gpu_check.sh         # tiny sizes, any machine: checks that every step runs
#
# Needs only what the scorer imports (jax, numpy, scipy, optax, tqdm): no install; the repository is put
# on PYTHONPATH.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/gpu_check}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"

step() {  # step NAME SECONDS COMMAND... : run with a time limit, output to the terminal and $OUT/NAME.txt
  local name="$1" limit="$2"; shift 2
  echo "=== $name (limit ${limit} s): $*"
  local start=$SECONDS
  timeout --signal=INT --kill-after=10 "$limit" "$@" 2>&1 | tee "$OUT/$name.txt"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: exit $rc after $((SECONDS - start)) s" | tee -a "$OUT/$name.txt"
}

if [ "${SMOKE:-0}" = 1 ]; then
  SWEEP=(--N 8 --n 4000 --C 5 --chunks 512,1024 --batches 1,4 --repeats 1 --memory-budget-mb 64)
  HEAD=(--N 8 --n 4000 --C 5 --repeats 1 --loop-sample 4)
  BIG=(--N 8 --n 20000 --C 12 --repeats 1 --loop-sample 2)
else
  SWEEP=(--chunks 8192,32768,131072 --batches 256,1024,4096 --repeats 2)
  HEAD=(--repeats 3 --loop-sample 20)
  BIG=(--n 1000000 --C 134 --repeats 1 --loop-sample 2)
fi

{ date -u; git rev-parse HEAD 2>/dev/null; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm \
    --format=csv 2>/dev/null || echo "no nvidia-smi"; nproc; free -g | head -2
  "$PY" -c "import jax; print(jax.__version__, jax.default_backend(), jax.devices())"; } 2>&1 | tee "$OUT/device.txt"

step plan_sweep 170 "$PY" benchmarks/plan_sweep.py "${SWEEP[@]}"
step headline_random 80 "$PY" benchmarks/score_ensembles.py "${HEAD[@]}"
step headline_peaked 80 "$PY" benchmarks/score_ensembles.py "${HEAD[@]}" --pool peaked
step big_134 200 "$PY" benchmarks/score_ensembles.py "${BIG[@]}"
echo "tables in $OUT"
