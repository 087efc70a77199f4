"""TensorBoard logging through tensorboardX: scalars and sample grids of one training run."""

from __future__ import annotations

import itertools
import os
from types import TracebackType
from typing import Mapping

import numpy as np
import tensorboardX

__all__ = ["SummaryWriter"]

# Distinguishes writers opened by one process in the same second: tensorboardX names a file by
# time (in seconds) and host only, and a second writer with the same name would truncate the first.
_WRITER_IDS = itertools.count()


class SummaryWriter:
    """Appends scalar and image summaries to a new TensorBoard event file in ``logdir``.

    tensorboardX queues events and a background thread writes them to disk every ``flush_secs``
    seconds (so TensorBoard shows a running job) and on ``close()``."""

    def __init__(self, logdir: str, *, flush_secs: float = 30.0):
        self.logdir = logdir
        self._writer: tensorboardX.SummaryWriter | None = tensorboardX.SummaryWriter(
            logdir, flush_secs=flush_secs, filename_suffix=f".{os.getpid()}.{next(_WRITER_IDS)}")

    def _open(self) -> tensorboardX.SummaryWriter:
        if self._writer is None:
            raise ValueError(f"SummaryWriter for {self.logdir} is closed")
        return self._writer

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Log every ``tag -> value`` pair at ``step``."""
        writer = self._open()
        for tag, value in values.items():
            writer.add_scalar(tag, float(value), int(step))

    def image(self, step: int, tag: str, pixels: np.ndarray) -> None:
        """Log a uint8 ``[H, W, C]`` image (C = 1 gray, 3 RGB) under ``tag``; tensorboardX stores it as
        an RGB PNG."""
        pixels = np.asarray(pixels)
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[-1] not in (1, 3):
            raise ValueError(f"image must be uint8 [H, W, 1 or 3], got {pixels.dtype} {pixels.shape}")
        self._open().add_image(tag, pixels, int(step), dataformats="HWC")

    def close(self) -> None:
        """Write queued events and close the file; further writes raise ``ValueError``. Idempotent."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
