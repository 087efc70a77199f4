"""Minimal TensorBoard event-file writer (numpy-free, stdlib only).

An event file is a TFRecord stream: each record is a little-endian uint64 length,
the masked CRC-32C of those 8 bytes, the payload, and the masked CRC-32C of the payload.
Each payload is a serialized ``tensorflow.Event`` protobuf, encoded here by hand;
the first one carries ``file_version`` and later ones a ``Summary`` of scalars or images.
"""

from __future__ import annotations

import math
import os
import socket
import struct
import time
from types import TracebackType
from typing import Mapping

__all__ = ["SummaryWriter", "crc32c", "masked_crc32c"]


def _make_crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _make_crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, as used by TFRecord framing."""
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C: rotate right by 15 bits and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# --- protobuf wire format -------------------------------------------------------------

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values are encoded as 10-byte two's complement
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def _len_field(field: int, payload: bytes) -> bytes:
    return _key(field, _LEN) + _varint(len(payload)) + payload


def _float32(value: float) -> bytes:
    try:
        return struct.pack("<f", value)
    except OverflowError:  # finite but beyond float32 range
        return struct.pack("<f", math.copysign(math.inf, value))


def _event(step: int, *, file_version: str | None = None, summary: bytes | None = None) -> bytes:
    """Serialize ``Event{wall_time=1, step=2, file_version=3, summary=5}``."""
    out = _key(1, _FIXED64) + struct.pack("<d", time.time())
    out += _key(2, _VARINT) + _varint(step)
    if file_version is not None:
        out += _len_field(3, file_version.encode())
    if summary is not None:
        out += _len_field(5, summary)
    return out


def _record(data: bytes) -> bytes:
    """Wrap ``data`` in TFRecord framing."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


class SummaryWriter:
    """Appends scalar and image summaries to a new TensorBoard event file in ``logdir``."""

    def __init__(self, logdir: str):
        os.makedirs(logdir, exist_ok=True)
        base = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}"
        suffix, counter = "", 0
        while True:  # never clobber a file from another writer opened in the same second
            path = os.path.join(logdir, f"{base}{suffix}.jaxgan")
            try:
                self._file = open(path, "xb")
                break
            except FileExistsError:
                counter += 1
                suffix = f".{counter}"
        self.path = path
        self._write(_event(0, file_version="brain.Event:2"))

    def _write(self, event: bytes) -> None:
        self._file.write(_record(event))
        self._file.flush()

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Write one event holding every ``tag -> value`` pair as a ``simple_value``."""
        summary = b"".join(
            _len_field(1, _len_field(1, tag.encode()) + _key(2, _FIXED32) + _float32(float(v)))
            for tag, v in values.items()
        )
        self._write(_event(int(step), summary=summary))

    def image(
        self, step: int, tag: str, png_bytes: bytes, height: int, width: int, channels: int
    ) -> None:
        """Write one encoded image (e.g. PNG) under ``tag``; ``channels`` is its colorspace."""
        image = (
            _key(1, _VARINT) + _varint(int(height))
            + _key(2, _VARINT) + _varint(int(width))
            + _key(3, _VARINT) + _varint(int(channels))
            + _len_field(4, bytes(png_bytes))
        )
        value = _len_field(1, tag.encode()) + _len_field(4, image)
        self._write(_event(int(step), summary=_len_field(1, value)))

    def flush(self) -> None:
        """Flush buffered bytes to the OS (writes already flush after each event)."""
        self._file.flush()

    def close(self) -> None:
        """Close the event file; further writes raise ``ValueError``. Idempotent."""
        self._file.close()

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
