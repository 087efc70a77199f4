"""Class-conditional sample grids: one row per class, the same noise in each column,
so grids from different steps (or checkpoints) are comparable."""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import images

GridFn = Callable[[dict], jax.Array]


def class_grid_fn(method, labels: Sequence[int], per_class: int, seed: int) -> GridFn:
    """A jitted ``variables -> images [len(labels) * per_class, H, W, C]`` with fixed noise."""
    z = method.sample_noise(jax.random.PRNGKey(seed), per_class)
    z = jnp.tile(z, (len(labels), 1))
    y = jnp.repeat(jnp.asarray(labels, jnp.int32), per_class)
    return jax.jit(lambda variables: method.generate(variables, z, y))


def write_grid(path: str, samples: jax.Array, per_class: int) -> np.ndarray:
    """Writes samples in [-1, 1] as a PNG grid with ``per_class`` columns; returns the grid."""
    grid = images.make_grid(images.to_uint8(np.asarray(jax.device_get(samples))), ncol=per_class)
    images.write_png(path, grid)
    return grid
