"""Running a jitted function over a large image set in fixed-size batches."""

from __future__ import annotations

from typing import Callable

import jax
import numpy as np


def map_in_batches(fn: Callable, images: np.ndarray, batch_size: int):
    """``fn`` over ``images`` in batches of exactly ``batch_size`` (the last one zero-padded, so a jitted
    ``fn`` compiles once; no copy of the whole set is made); its outputs (arrays or tuples of arrays, one row
    per image) concatenated as numpy, padding dropped."""
    n = len(images)
    batch_size = min(batch_size, n)
    outputs = []
    for s in range(0, n, batch_size):
        batch = np.asarray(images[s:s + batch_size], np.float32)
        if len(batch) < batch_size:
            batch = np.concatenate([batch, np.zeros((batch_size - len(batch), *batch.shape[1:]), np.float32)])
        outputs.append(jax.device_get(fn(batch)))
    return jax.tree_util.tree_map(lambda *parts: np.concatenate(parts)[:n], *outputs)
