"""Deterministic, resumable, multi-process batching.

The batch at step ``k`` is a pure function of ``(seed, k)``: example number
``k * B + j`` of an endless stream that walks through the dataset in a fresh
permutation each epoch (the epoch's permutation is drawn from ``(seed, epoch)``).
So resuming at step ``k`` restores the data position exactly, with nothing to
save, and each process reads only its own contiguous slice of every global batch.
Every uint8 image array of an example becomes float32 in [-1, 1]. Labels, where a
source has them, are checked against the source's number of classes as they are read, for
every kind of source (a tfds dataset is too large to scan when it is opened).
"""

from __future__ import annotations

import functools
from typing import Any, Dict

import numpy as np

from jaxgan.data.sources import Source, check_labels
from jaxgan.errors import ConfigError, DataSourceError


def to_float_image(images: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1], the engine's image range."""
    return images.astype(np.float32) / 127.5 - 1.0


def _is_image(value: np.ndarray) -> bool:
    """Whether a value of an example is a batch of images (uint8 [n, H, W, C]): 'image', or a paired
    source's 'image_a' and 'image_b'."""
    return value.dtype == np.uint8 and value.ndim == 4


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

    def local_indices(self, step: int) -> np.ndarray:
        """Dataset indices of this process's rows of the global batch at ``step``."""
        start = self.process_index * self.local_batch_size
        return self.global_indices(step)[start:start + self.local_batch_size]

    def local_batch(self, step: int) -> Dict[str, np.ndarray]:
        """This process's rows of the global batch at ``step``: the source's keys, with every image
        as float32 in [-1, 1] and labels (if any) as int32."""
        return self._read(self.local_indices(step), step)

    def full_batch(self, step: int) -> Dict[str, np.ndarray]:
        """The whole global batch at ``step``, read by this one process (to report on a bad batch)."""
        return self._read(self.global_indices(step), step)

    def _read(self, indices: np.ndarray, step: int) -> Dict[str, np.ndarray]:
        example = self.source.get(np.sort(indices))
        order = np.argsort(np.argsort(indices))  # Undo the sort (sorted reads are faster on disk sources).
        batch = {key: to_float_image(value[order]) if _is_image(value) else value[order]
                 for key, value in example.items()}
        if "label" in batch:
            batch["label"] = batch["label"].astype(np.int32)
            check_labels(batch["label"], self.source.num_classes,
                         f"data source {getattr(self.source, 'name', self.source)!r}, batch of step {step}")
        return batch


def summarize_batch(batch: Dict[str, np.ndarray], num_classes: int | None) -> Dict[str, Any]:
    """A JSON-able summary of a batch (per key: shape, dtype, min, max, mean, count of non-finite
    values; label histogram): what to look at first when a step diverges on it."""
    out: Dict[str, Any] = {}
    for key, value in batch.items():
        value = np.asarray(value)
        finite = value[np.isfinite(value)] if value.dtype.kind == "f" else value
        out[key] = dict(shape=list(value.shape), dtype=str(value.dtype),
                        nonfinite=int(value.size - finite.size),
                        min=float(finite.min()) if finite.size else None,
                        max=float(finite.max()) if finite.size else None,
                        mean=float(finite.mean()) if finite.size else None)
    if "label" in batch and num_classes:
        out["label"]["histogram"] = np.bincount(np.asarray(batch["label"]), minlength=num_classes).tolist()
    return out
