"""Deterministic, resumable, multi-process batching.

The batch at step ``k`` is a pure function of ``(seed, k)``: example number
``k * B + j`` of an endless stream that walks through the dataset in a fresh
permutation each epoch (the epoch's permutation is drawn from ``(seed, epoch)``).
So resuming at step ``k`` restores the data position exactly, with nothing to
save, and each process reads only its own contiguous slice of every global batch.
"""

from __future__ import annotations

import functools
from typing import Dict

import numpy as np

from jaxgan.data.sources import Source
from jaxgan.errors import ConfigError, DataSourceError


def to_float_image(images: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1], the engine's image range."""
    return images.astype(np.float32) / 127.5 - 1.0


class Pipeline:
    """Serves each process its share of the global batch of any step."""

    def __init__(self, source: Source, *, global_batch_size: int, seed: int,
                 process_index: int = 0, process_count: int = 1):
        if len(source) == 0:
            raise DataSourceError(f"data source {getattr(source, 'name', source)!r} is empty")
        if global_batch_size % process_count:
            raise ConfigError(
                f"global batch size {global_batch_size} is not divisible by the {process_count} "
                "processes; choose a multiple of the process count"
            )
        self.source = source
        self.global_batch_size = global_batch_size
        self.local_batch_size = global_batch_size // process_count
        self.seed = seed
        self.process_index = process_index

    @functools.lru_cache(maxsize=2)
    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.source))

    def global_indices(self, step: int) -> np.ndarray:
        """Dataset indices of the whole global batch at ``step``."""
        n = len(self.source)
        positions = step * self.global_batch_size + np.arange(self.global_batch_size)
        epochs, offsets = np.divmod(positions, n)
        out = np.empty_like(positions)
        for epoch in np.unique(epochs):
            sel = epochs == epoch
            out[sel] = self._permutation(int(epoch))[offsets[sel]]
        return out

    def local_batch(self, step: int) -> Dict[str, np.ndarray]:
        """This process's rows of the global batch at ``step``: float images in [-1, 1], labels."""
        start = self.process_index * self.local_batch_size
        indices = self.global_indices(step)[start:start + self.local_batch_size]
        example = self.source.get(np.sort(indices))
        order = np.argsort(np.argsort(indices))  # Undo the sort (sorted reads are faster on disk sources).
        return {"image": to_float_image(example["image"][order]), "label": example["label"][order].astype(np.int32)}
