"""Deterministic, resumable, multi-process batching.

The batch at step ``k`` is a pure function of ``(seed, k)``: example number
``k * B + j`` of an endless stream that walks through the dataset in a fresh
permutation each epoch (the epoch's permutation is drawn from ``(seed, epoch)``).
So resuming at step ``k`` restores the data position exactly, with nothing to
save, and each process reads only its own contiguous slice of every global batch.
A multi-domain source (``jaxgan.data.domains``: CycleGAN's trainA/trainB) has one such
stream per domain, each over its own length, domain ``d``'s permutations drawn from
``(seed, d, epoch)``; row ``j`` of a batch holds example ``j`` of every domain's stream.
An optional ``transform`` (``jaxgan.data.transforms``: resize, random crop, flip) is drawn
from ``(seed, k, j)``, so it too is the same on any number of processes and after a resume.
Every uint8 image array of an example becomes float32 in [-1, 1]. Labels, where a
source has them, are checked against the source's number of classes as they are read, for
every kind of source (a tfds dataset is too large to scan when it is opened).

With ``num_workers > 0`` the rows of a batch are read (decoded, transformed) by that many
threads (Pillow releases the GIL while it decodes and resizes), and the next step's batch is
read in the background while the caller trains on this one. Neither changes a single value.
"""

from __future__ import annotations

import concurrent.futures
import functools
import threading
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from jaxgan.data.domains import DomainsSource
from jaxgan.data.sources import Source, check_labels
from jaxgan.data.transforms import ResizeAndCrop
from jaxgan.errors import ConfigError, DataSourceError


def to_float_image(images: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1], the engine's image range."""
    return images.astype(np.float32) / 127.5 - 1.0


def _is_image(value: np.ndarray) -> bool:
    """Whether a value of an example is a batch of images (uint8 [n, H, W, C]): 'image', or a paired
    source's 'image_a' and 'image_b'."""
    return value.dtype == np.uint8 and value.ndim == 4


def _source_name(source: Source) -> str:
    return getattr(source, "name", repr(source))


class Pipeline:
    """Serves each process its share of the global batch of any step.

    ``transform`` (``ResizeAndCrop.from_config(config.data)``; None: none) augments every example;
    ``image_shape`` is the shape of the images it yields. ``num_workers`` (``config.data.num_workers``)
    threads read the rows of a batch and prefetch the next one (0: the caller's thread reads)."""

    def __init__(self, source: Source, *, global_batch_size: int, seed: int,
                 process_index: int = 0, process_count: int = 1,
                 transform: Optional[ResizeAndCrop] = None, num_workers: int = 0):
        if len(source) == 0:
            raise DataSourceError(f"data source {_source_name(source)!r} is empty")
        if global_batch_size % process_count:
            raise ConfigError(
                f"global batch size {global_batch_size} is not divisible by the {process_count} "
                "processes; choose a multiple of the process count"
            )
        self.source = source
        # One (stream, key suffix, seed prefix) per domain; a single-domain source is one stream
        # whose permutations are seeded with (seed, epoch), as they always were.
        if isinstance(source, DomainsSource):
            self._streams: List[Tuple[Source, str, Tuple[int, ...]]] = [
                (domain, f"_{letter}", (seed, d)) for d, (domain, letter) in enumerate(zip(source.domains,
                                                                                           source.letters))]
        else:
            self._streams = [(source, "", (seed,))]
        self.global_batch_size = global_batch_size
        self.local_batch_size = global_batch_size // process_count
        self.seed = seed
        self.process_index = process_index
        self.transform = transform or ResizeAndCrop()
        height, width, channels = source.image_shape
        self.image_shape = (*self.transform.output_size(height, width, f"the images of {_source_name(source)}"),
                            channels)  # Of every image the batches hold.
        self.num_workers = num_workers
        if num_workers:
            self._pool = concurrent.futures.ThreadPoolExecutor(num_workers, thread_name_prefix="jaxgan-read")
            self._prefetcher = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jaxgan-prefetch")
            self._prefetched: Optional[Tuple[int, concurrent.futures.Future]] = None
            self._lock = threading.Lock()

    @functools.lru_cache(maxsize=16)  # Two epochs of each of up to 8 domains.
    def _permutation(self, prefix: Tuple[int, ...], length: int, epoch: int) -> np.ndarray:
        return np.random.default_rng([*prefix, epoch]).permutation(length)

    def _stream_indices(self, stream: int, step: int) -> np.ndarray:
        source, _, prefix = self._streams[stream]
        n = len(source)
        positions = step * self.global_batch_size + np.arange(self.global_batch_size)
        epochs, offsets = np.divmod(positions, n)
        out = np.empty_like(positions)
        for epoch in np.unique(epochs):
            sel = epochs == epoch
            out[sel] = self._permutation(prefix, n, int(epoch))[offsets[sel]]
        return out

    def global_indices(self, step: int) -> np.ndarray:
        """Dataset indices of the whole global batch at ``step``: ``[B]``, or ``[D, B]`` (one row per
        domain) for a multi-domain source."""
        rows = [self._stream_indices(s, step) for s in range(len(self._streams))]
        return rows[0] if len(rows) == 1 and not isinstance(self.source, DomainsSource) else np.stack(rows)

    def _local_slice(self) -> slice:
        start = self.process_index * self.local_batch_size
        return slice(start, start + self.local_batch_size)

    def local_indices(self, step: int) -> np.ndarray:
        """Dataset indices of this process's rows of the global batch at ``step`` (``[..., B / P]``)."""
        return self.global_indices(step)[..., self._local_slice()]

    def local_batch(self, step: int) -> Dict[str, np.ndarray]:
        """This process's rows of the global batch at ``step``: the source's keys (a multi-domain
        source's with the domain's letter appended: 'image_a', 'label_a', 'image_b', ...), with every
        image as float32 in [-1, 1] and labels (if any) as int32."""
        if not self.num_workers:
            return self._local_batch(step)
        with self._lock:
            prefetched, self._prefetched = self._prefetched, None
            future = prefetched[1] if prefetched and prefetched[0] == step else None
            if prefetched and future is None:
                prefetched[1].cancel()
            self._prefetched = (step + 1, self._prefetcher.submit(self._local_batch, step + 1))
        return future.result() if future is not None else self._local_batch(step)

    def _local_batch(self, step: int) -> Dict[str, np.ndarray]:
        positions = np.arange(self.global_batch_size)[self._local_slice()]
        return self._read(self.local_indices(step), positions, step)

    def full_batch(self, step: int) -> Dict[str, np.ndarray]:
        """The whole global batch at ``step``, read by this one process (to report on a bad batch)."""
        return self._read(self.global_indices(step), np.arange(self.global_batch_size), step)

    def _read(self, indices: np.ndarray, positions: np.ndarray, step: int) -> Dict[str, np.ndarray]:
        batch: Dict[str, np.ndarray] = {}
        for stream, (source, suffix, _) in enumerate(self._streams):
            rows = indices if indices.ndim == 1 else indices[stream]
            if self.num_workers and len(rows) > 1:
                chunks = np.array_split(np.arange(len(rows)), min(self.num_workers, len(rows)))
                parts = list(self._pool.map(
                    lambda c, src=source, s=stream: self._read_rows(src, rows[c], positions[c], step, s), chunks))
                example = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
            else:
                example = self._read_rows(source, rows, positions, step, stream)
            for key, value in example.items():
                batch[key + suffix] = value
            label = "label" + suffix
            if label in batch:
                batch[label] = batch[label].astype(np.int32)
                check_labels(batch[label], source.num_classes,
                             f"data source {_source_name(source)!r}, batch of step {step}")
        return batch

    def _read_rows(self, source: Source, indices: np.ndarray, positions: np.ndarray, step: int,
                   stream: int) -> Dict[str, np.ndarray]:
        """Rows ``indices`` of ``source`` (at global batch ``positions``), transformed, images as floats."""
        example = source.get(np.sort(indices))
        order = np.argsort(np.argsort(indices))  # Undo the sort (sorted reads are faster on disk sources).
        example = {key: value[order] for key, value in example.items()}
        example = self.transform(example, seed=self.seed, step=step, positions=positions, stream=stream)
        return {key: to_float_image(value) if _is_image(value) else value for key, value in example.items()}


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
