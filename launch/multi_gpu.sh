#!/usr/bin/env bash
# Train on a multi-GPU box: one process drives all its GPUs (the "data" mesh spans them; the global
# batch is split across GPUs and BatchNorm statistics are synchronized).
#   launch/multi_gpu.sh CONFIG WORKDIR [--resume] [--config.a.b=value ...]
# Select GPUs with CUDA_VISIBLE_DEVICES=0,1,2,3. The global batch must divide by the GPU count.
#
# Several GPU hosts (SLURM): run one process per host with jax.distributed auto-detection, e.g.
#   srun --nodes=2 --ntasks-per-node=1 launch/multi_gpu.sh CONFIG /shared/WORKDIR --config.distributed=true
# WORKDIR must then be on a filesystem every host sees (NFS, Lustre, a gcsfuse mount).
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: $0 CONFIG WORKDIR [--resume] [--config.a.b=value ...]" >&2
  exit 2
fi
CONFIG="$1"; WORKDIR="$2"; shift 2
cd "$(dirname "$0")/.."
# Let XLA take most of each GPU's memory, but not all of it at start-up.
export XLA_PYTHON_CLIENT_MEM_FRACTION="${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.9}"
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader || true
exec python -m transel_jax.cli train --config "$CONFIG" --workdir "$WORKDIR" "$@"
