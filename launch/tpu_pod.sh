#!/usr/bin/env bash
# Train on a Cloud TPU pod slice (e.g. v3-32): the same command runs on every worker (--worker=all);
# jax.distributed.initialize() (--config.distributed=true) joins them into one "data" mesh over all
# TPU cores; each host reads its own share of every batch; process 0 writes logs and checkpoint metadata.
#
#   TPU_NAME=my-v3-32 ZONE=europe-west4-a REPO_DIR=~/transel_jax \
#     launch/tpu_pod.sh setup                                   # once: install the package on every worker
#   TPU_NAME=... ZONE=... REPO_DIR=... \
#     launch/tpu_pod.sh CONFIG WORKDIR [--resume] [--config.a.b=value ...]
#
# REPO_DIR must hold this repository on every worker (git clone it there, or scp). WORKDIR must be a path
# every worker sees (a gcsfuse-mounted bucket or Filestore NFS), as checkpoints are written by all hosts.
set -euo pipefail
: "${TPU_NAME:?set TPU_NAME}" "${ZONE:?set ZONE}" "${REPO_DIR:?set REPO_DIR}"
PROJECT_FLAG=${PROJECT:+--project="$PROJECT"}
ssh_all() {
  gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" $PROJECT_FLAG --worker=all --command="$1"
}
if [ "${1:-}" = "setup" ]; then
  ssh_all "cd $REPO_DIR && pip install -U 'jax[tpu]' && pip install -e ."
  exit 0
fi
if [ "$#" -lt 2 ]; then
  echo "usage: $0 setup | CONFIG WORKDIR [--resume] [--config.a.b=value ...]" >&2
  exit 2
fi
CONFIG="$1"; WORKDIR="$2"; shift 2
EXTRA=$(printf ' %q' "$@")
ssh_all "cd $REPO_DIR && python -m transel_jax.cli train --config $CONFIG --workdir $WORKDIR --config.distributed=true$EXTRA"
