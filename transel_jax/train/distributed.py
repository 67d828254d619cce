"""Devices, the data mesh and moving host data onto it (single- and multi-host).

All devices of all hosts form one 1-d mesh with axis ``"data"``. A batch is sharded on its leading axis;
each host supplies its own contiguous share (``global_batch // process_count`` examples), which
:func:`shard_batch` stitches into one global array. The training state is replicated.
"""
from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS = "data"


def initialize_distributed(enabled: bool) -> None:
    """Call ``jax.distributed.initialize()`` (cluster auto-detected: TPU pod, SLURM, ...) when ``enabled``.

    Must run before any other jax call on every host of a multi-host job; a no-op when not enabled or
    already initialised.
    """
    if enabled and not jax.distributed.is_initialized():
        jax.distributed.initialize()


def make_mesh(devices=None) -> Mesh:
    """1-d mesh named ``"data"`` over ``devices`` (default: every device of every host)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.asarray(devices), (AXIS,))


def check_batch_divides(global_batch_size: int, mesh: Mesh, name: str = "global_batch_size") -> int:
    """Per-device batch size; ValueError (before anything compiles) when it does not divide evenly."""
    n_dev, n_proc = mesh.devices.size, jax.process_count()
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
        return jax.device_put(np.asarray(x), sharding)

    return jax.tree.map(put, tree)


def shard_batch(batch: dict, mesh: Mesh) -> dict:
    """Host-local numpy batch (this host's share on the leading axis) -> global arrays sharded on 'data'."""
    sharding = data_sharded(mesh)
    return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v)) for k, v in batch.items()}


def is_logging_process() -> bool:
    """Only process 0 writes logs and checkpoint metadata."""
    return jax.process_index() == 0
