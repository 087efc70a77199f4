"""Tests for jaxgan.summary: CRC-32C vectors, an independent record/protobuf decoder,
and (when installed) TensorBoard's own EventAccumulator."""

from __future__ import annotations

import glob
import math
import os
import struct

import numpy as np
import pytest

from jaxgan.images import encode_png
from jaxgan.summary import SummaryWriter, crc32c, masked_crc32c


def _bitwise_crc32c(data: bytes) -> int:
    """Reference CRC-32C, bit by bit (independent of the table-driven one)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def _mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", 0x00000000),
        (b"a", 0xC1D04330),
        (b"123456789", 0xE3069283),
        (bytes(32), 0x8A9136AA),  # RFC 3720 B.4 vectors
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
        (bytes(range(31, -1, -1)), 0x113FDB5C),
    ],
)
def test_crc32c_known_vectors(data: bytes, expected: int) -> None:
    assert crc32c(data) == expected
    assert _bitwise_crc32c(data) == expected


def test_crc32c_matches_reference_and_mask() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 7, 8, 100):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc32c(data) == _bitwise_crc32c(data)
        assert masked_crc32c(data) == _mask(_bitwise_crc32c(data))


# --- independent decoder -----------------------------------------------------------------


def _read_records(path: str) -> list[bytes]:
    """Split a TFRecord file into payloads, checking both masked CRCs."""
    with open(path, "rb") as f:
        data = f.read()
    records, pos = [], 0
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack_from("<I", data, pos + 8)
        assert length_crc == _mask(_bitwise_crc32c(header))
        payload = data[pos + 12:pos + 12 + length]
        assert len(payload) == length
        (data_crc,) = struct.unpack_from("<I", data, pos + 12 + length)
        assert data_crc == _mask(_bitwise_crc32c(payload))
        records.append(payload)
        pos += 16 + length
    assert pos == len(data)
    return records


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _parse(buf: bytes) -> dict[int, list]:
    """Decode one protobuf message into ``{field: [raw values]}`` (ints, bytes)."""
    fields: dict[int, list] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        fields.setdefault(field, []).append((wire, value))
    assert pos == len(buf)
    return fields


def _events(logdir: str) -> list[dict[int, list]]:
    (path,) = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    return [_parse(r) for r in _read_records(path)]


def _write_sample(logdir: str) -> bytes:
    png = encode_png(np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3))
    with SummaryWriter(logdir) as writer:
        writer.scalars(1, {"loss/g": 0.5, "loss/d": -2.25})
        writer.scalars(2, {"loss/g": 0.25})
        writer.image(3, "samples", png, height=4, width=5, channels=3)
        writer.flush()
    return png


def test_records_decode_by_hand(tmp_path) -> None:
    png = _write_sample(str(tmp_path))
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert path.endswith(f".{os.getpid()}.jaxgan")
    events = _events(str(tmp_path))
    assert len(events) == 4

    first = events[0]
    assert first[1][0][0] == 1 and math.isfinite(struct.unpack("<d", first[1][0][1])[0])
    assert first[2] == [(0, 0)]
    assert first[3] == [(2, b"brain.Event:2")]

    def scalar_values(event):
        out = {}
        for wire, value in _parse(event[5][0][1])[1]:
            assert wire == 2
            v = _parse(value)
            assert v[2][0][0] == 5  # simple_value is a fixed32 float
            out[v[1][0][1].decode()] = struct.unpack("<f", v[2][0][1])[0]
        return out

    assert events[1][2] == [(0, 1)]
    assert scalar_values(events[1]) == {"loss/g": 0.5, "loss/d": -2.25}
    assert events[2][2] == [(0, 2)]
    assert scalar_values(events[2]) == {"loss/g": 0.25}

    assert events[3][2] == [(0, 3)]
    (value,) = _parse(events[3][5][0][1])[1]
    value = _parse(value[1])
    assert value[1] == [(2, b"samples")]
    image = _parse(value[4][0][1])
    assert image[1] == [(0, 4)] and image[2] == [(0, 5)] and image[3] == [(0, 3)]
    assert image[4] == [(2, png)]


def test_close_is_idempotent_and_files_are_not_clobbered(tmp_path) -> None:
    first = SummaryWriter(str(tmp_path / "run"))
    second = SummaryWriter(str(tmp_path / "run"))
    assert first.path != second.path
    second.close()
    first.scalars(0, {"x": 1e300})  # beyond float32: stored as +inf rather than raising
    first.close()
    first.close()
    with pytest.raises(ValueError):
        first.scalars(1, {"x": 1.0})
    _, event = [_parse(r) for r in _read_records(first.path)]
    (value,) = _parse(event[5][0][1])[1]
    assert struct.unpack("<f", _parse(value[1])[2][0][1])[0] == math.inf


def test_tensorboard_event_accumulator_reads_file(tmp_path) -> None:
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        pytest.skip("tensorboard not installed; format already checked by the hand decoder")
    png = _write_sample(str(tmp_path))
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    tags = acc.Tags()
    assert sorted(tags["scalars"]) == ["loss/d", "loss/g"]
    assert tags["images"] == ["samples"]
    assert [(e.step, e.value) for e in acc.Scalars("loss/g")] == [(1, 0.5), (2, 0.25)]
    assert [(e.step, e.value) for e in acc.Scalars("loss/d")] == [(1, -2.25)]
    (img,) = acc.Images("samples")
    assert (img.step, img.height, img.width, img.encoded_image_string) == (3, 4, 5, png)
