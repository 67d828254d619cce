"""Devices, the data mesh and moving host data onto it (single- and multi-host).

All devices of all hosts form one 1-d mesh with axis ``"data"``. A batch is sharded on its leading axis;
each host supplies its own contiguous share (``global_batch // process_count`` examples), which
:func:`shard_batch` stitches into one global array. The training state is replicated.

Two multi-host modes:

- **SPMD** (``transel train --config.distributed=true``): :func:`initialize_distributed` makes one jax
  runtime of every process; one model spans every device of every host.
- **Independent hosts** (``transel run --distributed``: the study's models divided among hosts):
  :func:`join_job` connects the processes to jax.distributed's coordination service only. Each process
  stays a one-process jax program on its own devices (a model trains and checkpoints on one host, as the
  papers trained each on one TPU v3-8); :func:`barrier` and :func:`job_process_index` /
  :func:`job_process_count` span the job (:mod:`transel_jax.run.hosts`).

Finding the processes: on a TPU pod, under SLURM and the other clusters jax detects, nothing needs
setting; anywhere else (several
processes on one machine, ``launch/local_multiprocess.sh``) the environment variables
``TRANSEL_COORDINATOR`` (``host:port`` of process 0), ``TRANSEL_NUM_PROCESSES`` and ``TRANSEL_PROCESS_ID``
give them explicitly.
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS = "data"
ENV_COORDINATOR = "TRANSEL_COORDINATOR"
ENV_NUM_PROCESSES = "TRANSEL_NUM_PROCESSES"
ENV_PROCESS_ID = "TRANSEL_PROCESS_ID"


def _explicit_cluster() -> dict | None:
    """coordinator_address / num_processes / process_id from the TRANSEL_* variables, None if unset."""
    names = (ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID)
    values = {n: os.environ.get(n, "") for n in names}
    if not any(values.values()):
        return None
    missing = [n for n, v in values.items() if not v]
    if missing:
        raise ValueError(f"environment: {', '.join(names)} must be set together (launch/local_multiprocess.sh "
                         f"sets them); missing {missing}")
    try:
        count, pid = int(values[ENV_NUM_PROCESSES]), int(values[ENV_PROCESS_ID])
    except ValueError:
        raise ValueError(f"environment: {ENV_NUM_PROCESSES} and {ENV_PROCESS_ID} must be integers, got "
                         f"{values[ENV_NUM_PROCESSES]!r} and {values[ENV_PROCESS_ID]!r}") from None
    if count < 1 or not 0 <= pid < count:
        raise ValueError(f"environment: expected 0 <= {ENV_PROCESS_ID} < {ENV_NUM_PROCESSES}, got {pid} and {count}")
    if ":" not in values[ENV_COORDINATOR]:
        raise ValueError(f"environment: {ENV_COORDINATOR} must be host:port, got {values[ENV_COORDINATOR]!r}")
    return {"coordinator_address": values[ENV_COORDINATOR], "num_processes": count, "process_id": pid}


def initialize_distributed(enabled: bool) -> None:
    """Call ``jax.distributed.initialize()`` when ``enabled`` (module docstring: cluster auto-detection, or
    the ``TRANSEL_*`` variables of a local multi-process job).

    Must run before any other jax call on every host of a multi-host job; a no-op when not enabled or
    already initialised. On CPU the processes' collectives go through gloo.
    """
    if not enabled or jax.distributed.is_initialized():
        return
    explicit = _explicit_cluster()
    if "cpu" in os.environ.get("JAX_PLATFORMS", "").split(","):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(**(explicit or {}))
    except Exception as err:  # noqa: BLE001 -- re-raised with what to do
        if explicit is not None:
            raise
        raise RuntimeError(f"jax.distributed.initialize() found no cluster to join ({type(err).__name__}: "
                           f"{str(err).splitlines()[0] if str(err) else ''}); on a TPU pod or under SLURM it "
                           f"needs no arguments, elsewhere set {ENV_COORDINATOR}, {ENV_NUM_PROCESSES} and "
                           f"{ENV_PROCESS_ID} (launch/local_multiprocess.sh does)") from err


@contextlib.contextmanager
def exit_promptly_on_error():
    """In a job of several processes, a process whose work raises prints the traceback and exits at once
    (status 2 for a ValueError/TypeError, else 1) instead of returning: a normal exit waits in jax's
    shutdown barrier for its peers, which wait for it in a collective or a barrier. ``launch/
    local_multiprocess.sh`` then stops the others; on a pod or under SLURM, jax's coordination service
    ends them when the missing heartbeats time out. A no-op in a one-process job."""
    try:
        yield
    except BaseException as err:
        if job_process_count() == 1 or isinstance(err, SystemExit):
            raise
        import sys
        import traceback

        print(f"process {job_process_index()} of {job_process_count()} failed:", file=sys.stderr)
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(2 if isinstance(err, (ValueError, TypeError)) else 1)


def process_index() -> int:
    """This process's index among those one model spans (jax.process_index())."""
    return jax.process_index()


def process_count() -> int:
    """The number of processes one model spans (jax.process_count())."""
    return jax.process_count()


_MODEL_DEVICES: list | None = None  # set inside model_devices()


def devices() -> list:
    """The devices one model spans: every device of every process of the jax runtime, or the devices of the
    enclosing :func:`model_devices` block."""
    return list(_MODEL_DEVICES) if _MODEL_DEVICES is not None else list(jax.devices())


@contextlib.contextmanager
def model_devices(devices_):
    """Inside the block, models train and evaluate on ``devices_`` by default (:func:`make_mesh`)."""
    global _MODEL_DEVICES
    devices_ = list(devices_)
    if not devices_:
        raise ValueError("devices_: expected at least one device, got none")
    previous, _MODEL_DEVICES = _MODEL_DEVICES, devices_
    try:
        yield devices_
    finally:
        _MODEL_DEVICES = previous


def one_cpu_device_per_model():
    """``model_devices`` as ``transel run`` and ``transel select`` use it: on a CPU backend, one device per
    model; on accelerators (or with one CPU device), every device, i.e. no change.

    On a CPU, ``transel select`` (and ``transel run`` when XLA_FLAGS asks for it) has one XLA device per core
    so that the scoring engine, which runs one loop of small fused programs per device, uses every core. A
    model's step needs no such split: XLA's own threads run one device's convolutions on every core
    (resnet_tiny, 600 steps: the same wall time on one device of one and of two), and splitting its batch
    over CPU devices would change its float rounding. So a model trains on the first local device, bit for
    bit what a one-device process trains.
    """
    local = jax.local_devices()
    if jax.default_backend() != "cpu" or len(local) == 1 or jax.process_count() > 1:
        return contextlib.nullcontext(devices())
    return model_devices(local[:1])


# ------------------------------------------------------------------ a job of independent jax processes


@dataclasses.dataclass
class _Job:
    process_id: int
    num_processes: int
    client: object
    service: object | None


_JOB: _Job | None = None


def join_job(timeout_s: float = 300.0) -> None:
    """Join the processes of a job whose hosts run *independent* jax programs (``transel run
    --distributed``): each keeps its own devices (jax.process_count() stays 1, every model trains on this
    host's devices and checkpoints as a one-process job), and the processes share only jax.distributed's
    coordination service (process 0 serves it), which :func:`barrier` uses. The cluster is found as
    :func:`initialize_distributed` finds it (``TRANSEL_*`` variables, else jax's SLURM/TPU/MPI detection).
    A no-op when already joined or when a jax.distributed runtime is initialised.
    """
    global _JOB
    if _JOB is not None or jax.distributed.is_initialized():
        return
    params = _explicit_cluster()
    if params is None:
        from jax._src import clusters

        address, count, pid, _ = clusters.ClusterEnv.auto_detect_unset_distributed_params(
            None, None, None, None, None, int(timeout_s))
        if address is None or count is None or pid is None:
            raise RuntimeError(f"transel run --distributed found no cluster to join; on a TPU pod or under "
                               f"SLURM it needs no settings, elsewhere set {ENV_COORDINATOR}, "
                               f"{ENV_NUM_PROCESSES} and {ENV_PROCESS_ID} (launch/local_multiprocess.sh does)")
        params = {"coordinator_address": address, "num_processes": int(count), "process_id": int(pid)}
    from jax._src.lib import _jax  # jax.distributed's own service and client (no public handle to them alone)

    address, count, pid = params["coordinator_address"], params["num_processes"], params["process_id"]
    service = None
    if pid == 0:
        service = _jax.get_distributed_runtime_service("[::]:" + address.rsplit(":", 1)[1], count,
                                                       heartbeat_timeout=100, shutdown_timeout=300)
    client = _jax.get_distributed_runtime_client(address, pid, init_timeout=int(timeout_s), heartbeat_timeout=100)
    client.connect()
    _JOB = _Job(pid, count, client, service)
    atexit.register(_leave_job)


def _leave_job() -> None:
    global _JOB
    if _JOB is None:
        return
    job, _JOB = _JOB, None
    job.client.shutdown()  # waits for every process to leave (the coordination service's shutdown barrier)
    if job.service is not None:
        job.service.shutdown()


BARRIER_TIMEOUT_ENV = "TRANSEL_BARRIER_TIMEOUT_S"
DEFAULT_BARRIER_TIMEOUT_S = 7 * 24 * 3600.0  # a stage's work on one host may take days on a real pool


def job_process_index() -> int:
    """This process's index in the job: of :func:`join_job`'s job when joined, else jax.process_index()."""
    return _JOB.process_id if _JOB is not None else jax.process_index()


def job_process_count() -> int:
    """The number of processes of the job (:func:`join_job`'s, else jax.process_count())."""
    return _JOB.num_processes if _JOB is not None else jax.process_count()


def barrier(name: str, timeout_s: float | None = None) -> None:
    """Wait until every process of the job reached ``barrier(name)``; a no-op with one process.

    ``transel run`` meets all hosts here between stages (the :func:`join_job` job). It waits on the ``jax.distributed`` coordination service (no device collective, so a
    host may wait for hours while another trains), at most ``timeout_s`` (default
    ``$TRANSEL_BARRIER_TIMEOUT_S`` or 7 days); a dead peer makes it fail with an error, not hang. ``name``
    must be unique within the job (each call of the same name must be the same meeting on every host).
    """
    if job_process_count() == 1:
        return
    if timeout_s is None:
        timeout_s = float(os.environ.get(BARRIER_TIMEOUT_ENV, DEFAULT_BARRIER_TIMEOUT_S))
    from jax._src import distributed as _jax_distributed  # the coordination client: no public handle yet

    client = _JOB.client if _JOB is not None else _jax_distributed.global_state.client
    if client is None:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)
        return
    client.wait_at_barrier(f"transel:{name}", int(timeout_s * 1000))


def make_mesh(devices_=None) -> Mesh:
    """1-d mesh named ``"data"`` over ``devices_`` (default: :func:`devices`, every device of every host)."""
    devices_ = devices() if devices_ is None else list(devices_)
    return Mesh(np.asarray(devices_), (AXIS,))


def check_batch_divides(global_batch_size: int, mesh: Mesh, name: str = "global_batch_size") -> int:
    """Per-device batch size; ValueError (before anything compiles) when it does not divide evenly."""
    n_dev = mesh.devices.size
    n_proc = len({d.process_index for d in mesh.devices.flat})
    if global_batch_size <= 0 or global_batch_size % n_dev:
        raise ValueError(f"{name}: expected a positive multiple of the {n_dev} devices of the mesh, "
                         f"got {global_batch_size}")
    if global_batch_size % n_proc:
        raise ValueError(f"{name}: expected a multiple of the {n_proc} processes, got {global_batch_size}")
    return global_batch_size // n_dev


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def data_sharded(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P(AXIS))


def host_value(x) -> np.ndarray:
    """A host numpy copy of ``x``; for a replicated array spanning other hosts, this host's first shard."""
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        if not x.is_fully_replicated:
            raise ValueError(f"x: expected a replicated array to copy to the host, got sharding {x.sharding}")
        x = x.addressable_data(0)
    return np.asarray(x)


def replicate(tree, mesh: Mesh):
    """Place a pytree (identical on every host) replicated on every device of ``mesh``.

    Leaves that already carry exactly this sharding are kept; others go through host memory, which is
    what a multi-process ``device_put`` onto devices of other hosts needs. An *equivalent* sharding is not
    enough: on a one-device mesh a single-device array is equivalent, but jit keys its cache on the
    sharding itself, so a train step fed such a state would compile a second time on its own output.
    """
    sharding = replicated(mesh)

    def put(x):
        if isinstance(x, jax.Array) and x.sharding == sharding:
            return x
        return jax.device_put(host_value(x), sharding)

    return jax.tree.map(put, tree)


def shard_batch(batch: dict, mesh: Mesh) -> dict:
    """Host-local numpy batch (this host's share on the leading axis) -> global arrays sharded on 'data'."""
    sharding = data_sharded(mesh)
    return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v)) for k, v in batch.items()}


def is_logging_process() -> bool:
    """Only process 0 writes logs and checkpoint metadata."""
    return process_index() == 0
