"""Tests for jaxgan.summary: what TensorBoard's own reader finds in the event files."""

from __future__ import annotations

import glob
import io
import math
import os
import time

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator

from jaxgan.summary import SummaryWriter


def _read(logdir: str) -> event_accumulator.EventAccumulator:
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={event_accumulator.IMAGES: 0})
    acc.Reload()
    return acc


def test_scalars_and_images_read_back_by_tensorboard(tmp_path) -> None:
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3) * 4
    gray = np.array([[0, 255, 7], [128, 64, 1]], np.uint8)[..., None]
    with SummaryWriter(str(tmp_path)) as writer:
        writer.scalars(1, {"loss/g": 0.5, "loss/d": -2.25})
        writer.scalars(2, {"loss/g": 0.25, "big": 1e300})  # Beyond float32: stored as +inf.
        writer.image(3, "samples", rgb)
        writer.image(4, "samples", gray)
    acc = _read(str(tmp_path))
    assert sorted(acc.Tags()["scalars"]) == ["big", "loss/d", "loss/g"]
    assert [(e.step, e.value) for e in acc.Scalars("loss/g")] == [(1, 0.5), (2, 0.25)]
    assert [(e.step, e.value) for e in acc.Scalars("loss/d")] == [(1, -2.25)]
    assert [(e.step, e.value) for e in acc.Scalars("big")] == [(2, math.inf)]
    first, second = acc.Images("samples")
    assert (first.step, first.height, first.width, second.step, second.height, second.width) == (3, 4, 5, 4, 2, 3)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(first.encoded_image_string))), rgb)
    # A grayscale grid is stored as RGB with the gray value in every channel.
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(second.encoded_image_string))),
                                  np.repeat(gray, 3, axis=-1))


def test_events_reach_disk_periodically_before_close(tmp_path) -> None:
    writer = SummaryWriter(str(tmp_path), flush_secs=0.2)
    try:
        writer.scalars(5, {"x": 3.0})
        deadline, seen = time.monotonic() + 20.0, []
        while not seen and time.monotonic() < deadline:
            time.sleep(0.1)
            acc = _read(str(tmp_path))
            seen = acc.Scalars("x") if "x" in acc.Tags()["scalars"] else []
        assert [(e.step, e.value) for e in seen] == [(5, 3.0)]
    finally:
        writer.close()


def test_writers_in_one_second_keep_separate_files_and_close_is_final(tmp_path) -> None:
    first = SummaryWriter(str(tmp_path))
    second = SummaryWriter(str(tmp_path))  # Same process, same second: must not truncate the first.
    first.scalars(0, {"a": 1.0})
    second.scalars(0, {"b": 2.0})
    second.close()
    first.close()
    first.close()  # Idempotent.
    with pytest.raises(ValueError, match="closed"):
        first.scalars(1, {"a": 1.0})
    files = sorted(glob.glob(str(tmp_path / "events.out.tfevents.*")))
    assert len(files) == 2
    tags = set()
    for path in files:
        acc = event_accumulator.EventAccumulator(path)
        acc.Reload()
        tags.update(acc.Tags()["scalars"])
    assert tags == {"a", "b"}
    assert all(f".{os.getpid()}." in os.path.basename(f) for f in files)


@pytest.mark.parametrize("pixels", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 4), np.uint8),
                                    np.zeros((4, 4), np.uint8)])
def test_image_rejects_wrong_dtype_or_shape(tmp_path, pixels) -> None:
    with SummaryWriter(str(tmp_path)) as writer, pytest.raises(ValueError, match=r"uint8 \[H, W, 1 or 3\]"):
        writer.image(0, "x", pixels)
