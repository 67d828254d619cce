#!/usr/bin/env bash
# Train on this machine: every local device (CPU cores as one device, or all local GPUs/TPU cores).
#   launch/local.sh CONFIG WORKDIR [--resume] [--config.a.b=value ...]
# e.g. launch/local.sh configs/train_tiny.py runs/tiny --config.train.steps=100
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: $0 CONFIG WORKDIR [--resume] [--config.a.b=value ...]" >&2
  exit 2
fi
CONFIG="$1"; WORKDIR="$2"; shift 2
cd "$(dirname "$0")/.."
exec python -m transel_jax.cli train --config "$CONFIG" --workdir "$WORKDIR" "$@"
