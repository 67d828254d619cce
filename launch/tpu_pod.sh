#!/usr/bin/env bash
# Cloud TPU pod slices (e.g. v3-32): the same command runs on every worker (--worker=all).
#
#   TPU_NAME=my-v3-32 ZONE=europe-west4-a REPO_DIR=~/transel_jax \
#     launch/tpu_pod.sh setup                                   # once: install the package on every worker
#   one model across all workers (SPMD; jax.distributed joins every TPU core into one "data" mesh, each
#   host reads its own share of every batch, process 0 writes logs and checkpoint metadata):
#     launch/tpu_pod.sh CONFIG WORKDIR [--resume] [--config.a.b=value ...]
#   the whole study, its models divided among the workers (each trains its share on its own 8 cores, as
#   the papers trained each model on one TPU v3-8; hosts meet between stages; host 0 runs the cheap stages):
#     launch/tpu_pod.sh run --config CONFIG --workdir RUN_DIR [transel run options ...]
#
# REPO_DIR must hold this repository on every worker (git clone it there, or scp). WORKDIR / RUN_DIR must
# be a path every worker sees (a gcsfuse-mounted bucket or Filestore NFS): checkpoints and results are
# written by all hosts. A run whose worker was preempted is resumed by the same command (only unfinished
# models are redone).
#
# `run` makes each worker an independent one-host TPU program (TPU_PROCESS_BOUNDS=1,1,1 and the worker's
# own chips; TPU_HOST_CHIPS / TPU_HOST_BOUNDS override the v3/v4 default of 4 chips as 2,2,1) that joins the
# others only through jax.distributed's coordination service on worker 0 (TRANSEL_COORDINATOR etc., from
# the TPU's network endpoints and each worker's metadata). These TPU variables are not verified here.
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
  echo "usage: $0 setup | CONFIG WORKDIR [--resume] [--config.a.b=value ...] | run --config CONFIG --workdir RUN_DIR [...]" >&2
  exit 2
fi
if [ "$1" = "run" ]; then
  shift
  EXTRA=$(printf ' %q' "$@")
  IPS=$(gcloud compute tpus tpu-vm describe "$TPU_NAME" --zone="$ZONE" $PROJECT_FLAG \
        --format='value(networkEndpoints[].ipAddress)' | tr ';,' '  ')
  read -r -a IP_LIST <<< "$IPS"
  NUM=${#IP_LIST[@]}
  PORT=${COORDINATOR_PORT:-8477}
  MDS="http://metadata.google.internal/computeMetadata/v1/instance/attributes/agent-worker-number"
  ssh_all "cd $REPO_DIR && export TRANSEL_COORDINATOR=${IP_LIST[0]}:$PORT TRANSEL_NUM_PROCESSES=$NUM \
TRANSEL_PROCESS_ID=\$(curl -s -H Metadata-Flavor:Google $MDS) TPU_PROCESS_BOUNDS=1,1,1 \
TPU_CHIPS_PER_PROCESS_BOUNDS=${TPU_HOST_BOUNDS:-2,2,1} TPU_VISIBLE_CHIPS=${TPU_HOST_CHIPS:-0,1,2,3} \
CLOUD_TPU_TASK_ID=0 TPU_PROCESS_ADDRESSES=localhost:8476 TPU_PROCESS_PORT=8476 && \
python -m transel_jax.cli run$EXTRA --distributed"
  exit 0
fi
CONFIG="$1"; WORKDIR="$2"; shift 2
EXTRA=$(printf ' %q' "$@")
ssh_all "cd $REPO_DIR && python -m transel_jax.cli train --config $CONFIG --workdir $WORKDIR --config.distributed=true$EXTRA"
