"""Devices, the data mesh and moving host data onto it (single- and multi-host).

All devices of all hosts form one 1-d mesh with axis ``"data"``. A batch is sharded on its leading axis;
each host supplies its own contiguous share (``global_batch // process_count`` examples), which
:func:`shard_batch` stitches into one global array. The training state is replicated.

Two multi-host modes:

- **SPMD** (``transel train --config.distributed=true``): one model spans every device of every host;
  :func:`process_index`, :func:`process_count` and :func:`devices` are jax's global ones.
- **Host-local** (``transel run --distributed``: the study's independent models divided among hosts):
  inside ``with host_local():`` a model trains on this host's devices only, as if it were a one-process
  job: :func:`process_index` is 0, :func:`process_count` 1, :func:`devices` the local devices,
  :func:`is_logging_process` true, and orbax checkpoints involve this process alone
  (:func:`checkpoint_multiprocessing_options`). The hosts still share one ``jax.distributed`` runtime,
  which ``transel run`` uses for its barriers between stages (:mod:`transel_jax.run.hosts`).

Joining the processes: :func:`initialize_distributed` calls ``jax.distributed.initialize()``. On a TPU
pod, under SLURM and the other clusters jax detects, it needs no arguments; anywhere else (several
processes on one machine, ``launch/local_multiprocess.sh``) the environment variables
``TRANSEL_COORDINATOR`` (``host:port`` of process 0), ``TRANSEL_NUM_PROCESSES`` and ``TRANSEL_PROCESS_ID``
give them explicitly.
"""
from __future__ import annotations

import contextlib
import contextvars
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS = "data"
ENV_COORDINATOR = "TRANSEL_COORDINATOR"
ENV_NUM_PROCESSES = "TRANSEL_NUM_PROCESSES"
ENV_PROCESS_ID = "TRANSEL_PROCESS_ID"

_HOST_LOCAL = contextvars.ContextVar("transel_host_local", default=False)


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
def host_local():
    """Inside, training and evaluation use this host's devices only, as a one-process job (module docstring)."""
    token = _HOST_LOCAL.set(True)
    try:
        yield
    finally:
        _HOST_LOCAL.reset(token)


def is_host_local() -> bool:
    return _HOST_LOCAL.get()


def process_index() -> int:
    """This process's index among those one model spans (0 inside :func:`host_local`)."""
    return 0 if is_host_local() else jax.process_index()


def process_count() -> int:
    """The number of processes one model spans (1 inside :func:`host_local`)."""
    return 1 if is_host_local() else jax.process_count()


def devices() -> list:
    """The devices one model spans: every device of every host, or this host's inside :func:`host_local`."""
    return list(jax.local_devices() if is_host_local() else jax.devices())


def checkpoint_multiprocessing_options():
    """orbax ``MultiprocessingOptions``: every process (SPMD), or this process alone (:func:`host_local`)."""
    import orbax.checkpoint as ocp

    if is_host_local() and jax.process_count() > 1:
        pid = jax.process_index()
        return ocp.options.MultiprocessingOptions(primary_host=pid, active_processes={pid},
                                                  barrier_sync_key_prefix=f"host{pid}")
    return ocp.options.MultiprocessingOptions()


def barrier(name: str) -> None:
    """Wait until every process of the job reached ``barrier(name)`` (a no-op with one process, and inside
    :func:`host_local`, whose work is this process's alone)."""
    if jax.process_count() > 1 and not is_host_local():
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def make_mesh(devices_=None) -> Mesh:
    """1-d mesh named ``"data"`` over ``devices_`` (default :func:`devices`: every device of every host)."""
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
    """Only process 0 writes logs and checkpoint metadata (every host inside :func:`host_local`, for its
    own models)."""
    return process_index() == 0
