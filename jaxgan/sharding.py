"""Data parallelism the jit way: one mesh axis over every device, batch sharded, state replicated.

The same code runs on one CPU, eight simulated CPU devices, a GPU and a multi-host
TPU pod. Each process builds its rows of the global batch and
``jax.make_array_from_process_local_data`` assembles the global array.
"""

from __future__ import annotations

import collections
import importlib.metadata
import os
import re
import sys
from typing import Any, Mapping, Optional, Sequence

import jax
import numpy as np
from jaxgan.errors import ConfigError
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def make_mesh() -> Mesh:
    """A 1-D mesh over all devices of all processes."""
    return Mesh(np.asarray(jax.devices()), (DATA_AXIS,))


# Name prefixes of the packages that give JAX a GPU or TPU backend: its CUDA and ROCm plugins
# (jax-cuda12-plugin, jax-cuda12-pjrt, jax-rocm7-plugin, ...) and the TPU runtime (libtpu).
_ACCELERATOR_PACKAGE_PREFIXES = ("jax-cuda", "jax-rocm", "libtpu")


def describe_devices(mesh: Mesh) -> str:
    """One line naming the devices of ``mesh``, e.g. ``Devices: 8 (8 x TPU v4) in 2 processes, ...``."""
    devices = list(mesh.devices.flat)
    kinds = collections.Counter(
        d.device_kind if d.device_kind == d.platform else f"{d.device_kind} ({d.platform})" for d in devices)
    processes = len({d.process_index for d in devices})
    return (f"Devices: {len(devices)} ({', '.join(f'{n} x {kind}' for kind, n in kinds.items())}) in "
            f"{processes} process{'es' if processes > 1 else ''}, the batch split over mesh axis "
            f"'{DATA_AXIS}'")


def accelerator_packages() -> list[str]:
    """The installed packages that give JAX a GPU or TPU backend (e.g. ``jax-cuda12-plugin``)."""
    names = {re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
             for dist in importlib.metadata.distributions() if dist.metadata["Name"]}
    return sorted(name for name in names if name.startswith(_ACCELERATOR_PACKAGE_PREFIXES))


def accelerator_fallback_warning(
    devices: Optional[Sequence[jax.Device]] = None,
    *,
    platforms: Optional[str] = None,
    packages: Optional[Sequence[str]] = None,
) -> Optional[str]:
    """A warning when a GPU/TPU build of JAX runs on CPU only, else ``None``.

    A GPU/TPU build is one with an accelerator package installed (``packages``, default
    ``accelerator_packages()``) or a ``JAX_PLATFORMS`` (``platforms``, default the environment's) that
    names a platform other than ``cpu``; JAX then falls back to the CPU when that backend does not
    start. ``JAX_PLATFORMS=cpu`` asks for the CPU on purpose and never warns. ``devices`` defaults to
    ``jax.devices()``."""
    devices = jax.devices() if devices is None else devices
    if any(d.platform != "cpu" for d in devices):
        return None
    platforms = os.environ.get("JAX_PLATFORMS", "") if platforms is None else platforms
    requested = [p.strip().lower() for p in platforms.split(",") if p.strip()]
    if requested and all(p == "cpu" for p in requested):
        return None
    packages = accelerator_packages() if packages is None else packages
    reasons = ([f"{', '.join(packages)} installed"] if packages else []) + (
        [f"JAX_PLATFORMS={platforms}"] if requested else [])
    if not reasons:
        return None
    return (f"warning: JAX was set up for a GPU or TPU ({'; '.join(reasons)}) but found none, and runs on "
            f"{len(devices)} CPU device{'s' if len(devices) > 1 else ''}, which is far slower. "
            "`JAX_PLATFORMS=cuda python -c 'import jax; jax.devices()'` (or tpu) shows why the backend "
            "did not start (often a driver older than the plugin's CUDA, or no visible device); set "
            "JAX_PLATFORMS=cpu to train on the CPU on purpose.")


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh, *, stacked: bool = False) -> NamedSharding:
    """The batch axis split over the data axis: the leading one, or the second of ``stacked`` batches
    (several steps' batches on a leading axis, ``train.steps_per_call``)."""
    return NamedSharding(mesh, P(None, DATA_AXIS) if stacked else P(DATA_AXIS))


def check_batch_size(global_batch_size: int, mesh: Mesh) -> None:
    devices = mesh.devices.size
    if global_batch_size % devices:
        raise ConfigError(
            f"train.batch_size={global_batch_size} is not divisible by the {devices} devices; "
            f"use a multiple of {devices} (e.g. --config.train.batch_size={devices * max(1, global_batch_size // devices)})"
        )


def global_batch(local_batch: Mapping[str, np.ndarray], mesh: Mesh, *, stacked: bool = False
                 ) -> Mapping[str, jax.Array]:
    """Assembles each process's rows into global arrays sharded along the batch axis (the second axis
    of ``stacked`` batches, :func:`batch_sharded`)."""
    sharding = batch_sharded(mesh, stacked=stacked)
    count, axis = jax.process_count(), int(stacked)

    def shape(v: np.ndarray) -> tuple:
        return v.shape[:axis] + (v.shape[axis] * count,) + v.shape[axis + 1:]

    return {k: jax.make_array_from_process_local_data(sharding, v, shape(v)) for k, v in local_batch.items()}


def replicate(tree: Any, mesh: Mesh) -> Any:
    return jax.device_put(tree, replicated(mesh))


def report_devices() -> None:
    """On process 0: print the devices the run uses, and warn on stderr when a GPU/TPU build of JAX
    found no accelerator and fell back to the CPU."""
    if jax.process_index() != 0:
        return
    print(describe_devices(make_mesh()))
    warning = accelerator_fallback_warning()
    if warning:
        print(warning, file=sys.stderr)
