#!/usr/bin/env bash
# GPU boxes. One process drives all the GPUs it sees (the "data" mesh spans them; the global batch is split
# across GPUs and BatchNorm statistics are synchronized).
#
#   launch/multi_gpu.sh CONFIG WORKDIR [--resume] [--config.a.b=value ...]           transel train
#   launch/multi_gpu.sh run --config CONFIG [--workdir DIR] [transel run options]    transel run
# Select GPUs with CUDA_VISIBLE_DEVICES=0,1,2,3. The global batch must divide by the GPU count.
#
# Several GPU hosts (SLURM, one task per host; jax detects the cluster from the SLURM variables):
#   one model across all hosts (SPMD: big models, large global batches):
#     srun --nodes=2 --ntasks-per-node=1 launch/multi_gpu.sh CONFIG /shared/WORKDIR --config.distributed=true
#   the whole study, its models divided among the hosts (each trains its share on its own GPUs):
#     srun --nodes=4 --ntasks-per-node=1 launch/multi_gpu.sh run --config configs/paper.py \
#       --workdir /shared/runs/paper --distributed
# WORKDIR / the run directory must be on a filesystem every host sees (NFS, Lustre, a gcsfuse mount). A
# `transel run` whose host died is resumed by the same srun command: only unfinished models are redone.
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: $0 CONFIG WORKDIR [--resume] [--config.a.b=value ...]" >&2
  echo "       $0 run --config CONFIG [--workdir DIR] [--distributed] [options ...]" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
# Let XLA take most of each GPU's memory, but not all of it at start-up.
export XLA_PYTHON_CLIENT_MEM_FRACTION="${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.9}"
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader || true
if [ "$1" = "run" ]; then
  shift
  exec python -m transel_jax.cli run "$@"
fi
CONFIG="$1"; WORKDIR="$2"; shift 2
exec python -m transel_jax.cli train --config "$CONFIG" --workdir "$WORKDIR" "$@"
