"""Data parallelism the jit way: one mesh axis over every device, batch sharded, state replicated.

The same code runs on one CPU, eight simulated CPU devices, a GPU and a multi-host
TPU pod. Each process builds its rows of the global batch and
``jax.make_array_from_process_local_data`` assembles the global array.
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import numpy as np
from jaxgan.errors import ConfigError
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def make_mesh() -> Mesh:
    """A 1-D mesh over all devices of all processes."""
    return Mesh(np.asarray(jax.devices()), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over the data axis."""
    return NamedSharding(mesh, P(DATA_AXIS))


def check_batch_size(global_batch_size: int, mesh: Mesh) -> None:
    devices = mesh.devices.size
    if global_batch_size % devices:
        raise ConfigError(
            f"train.batch_size={global_batch_size} is not divisible by the {devices} devices; "
            f"use a multiple of {devices} (e.g. --config.train.batch_size={devices * max(1, global_batch_size // devices)})"
        )


def global_batch(local_batch: Mapping[str, np.ndarray], mesh: Mesh) -> Mapping[str, jax.Array]:
    """Assembles each process's rows into global arrays sharded along the batch axis."""
    sharding = batch_sharded(mesh)
    count = jax.process_count()
    return {
        k: jax.make_array_from_process_local_data(sharding, v, (v.shape[0] * count,) + v.shape[1:])
        for k, v in local_batch.items()
    }


def replicate(tree: Any, mesh: Mesh) -> Any:
    return jax.device_put(tree, replicated(mesh))
