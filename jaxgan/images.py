"""Sample grids and a tiny dependency-free PNG encoder/decoder (numpy + zlib only)."""

from __future__ import annotations

import os
import struct
import tempfile
import zlib

import numpy as np

__all__ = ["to_uint8", "make_grid", "encode_png", "write_png", "read_png"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 3: 2}  # channels -> PNG colour type (grayscale, RGB)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Map floats in ``[-1, 1]`` to uint8 in ``[0, 255]`` (values clipped; NaN -> 0)."""
    x = np.nan_to_num(np.asarray(images, dtype=np.float32), nan=-1.0)
    x = np.clip(x, -1.0, 1.0)
    return np.rint((x + 1.0) * 127.5).astype(np.uint8)


def _check_uint8(image: np.ndarray, ndims: tuple[int, ...], what: str) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"{what} must have dtype uint8, got {image.dtype}")
    if image.ndim not in ndims:
        raise ValueError(f"{what} must have ndim in {ndims}, got shape {image.shape}")
    return image


def make_grid(
    images: np.ndarray, *, ncol: int, padding: int = 2, pad_value: int = 255
) -> np.ndarray:
    """Tile uint8 ``[N, H, W, C]`` images row-major into one ``[rows*(H+p)+p, ncol*(W+p)+p, C]``
    image; padding and empty cells are filled with ``pad_value``."""
    images = _check_uint8(images, (4,), "images")
    n, h, w, c = images.shape
    if n == 0:
        raise ValueError("images must contain at least one image")
    if ncol < 1 or padding < 0:
        raise ValueError(f"need ncol >= 1 and padding >= 0, got ncol={ncol}, padding={padding}")
    if not 0 <= pad_value <= 255:
        raise ValueError(f"pad_value must be in [0, 255], got {pad_value}")
    rows = -(-n // ncol)
    grid = np.full((rows * (h + padding) + padding, ncol * (w + padding) + padding, c),
                   pad_value, dtype=np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, ncol)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y:y + h, x:x + w] = image
    return grid


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(image: np.ndarray) -> bytes:
    """Encode uint8 ``[H, W]``/``[H, W, 1]`` (grayscale) or ``[H, W, 3]`` (RGB) as PNG bytes."""
    image = _check_uint8(image, (2, 3), "image")
    if image.ndim == 2:
        image = image[..., None]
    h, w, c = image.shape
    if c not in _COLOUR_TYPES:
        raise ValueError(f"image must have 1 or 3 channels, got shape {image.shape}")
    if h == 0 or w == 0:
        raise ValueError(f"image must be non-empty, got shape {image.shape}")
    rows = image.reshape(h, w * c)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOUR_TYPES[c], 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def write_png(path: str, image: np.ndarray) -> None:
    """Write ``image`` as a PNG at ``path`` atomically, creating parent directories."""
    data = encode_png(image)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _unfilter_slow(kind: int, line: bytes, prev: bytes, bpp: int) -> bytearray:
    """Undo the Average (3) or Paeth (4) filter of one row, byte by byte."""
    out = bytearray(len(line))
    for i, v in enumerate(line):
        a = out[i - bpp] if i >= bpp else 0
        b = prev[i]
        if kind == 3:
            pred = (a + b) // 2
        else:
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[i] = (v + pred) & 0xFF
    return out


def read_png(path: str) -> np.ndarray:
    """Read an 8-bit, non-interlaced grayscale or RGB PNG as uint8 ``[H, W, C]``, C in {1, 3}."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError(f"{path}: not a PNG file")
    pos, header, idat = len(_PNG_SIGNATURE), None, []
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"{path}: bad CRC in {kind!r} chunk")
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: missing IHDR chunk")
    w, h, depth, colour, _, _, interlace = header
    channels = {v: k for k, v in _COLOUR_TYPES.items()}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"{path}: unsupported PNG (bit depth {depth}, colour type {colour}, "
                         f"interlace {interlace}); only 8-bit gray/RGB non-interlaced")
    stride = w * channels
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, stride + 1)
    out = np.empty((h, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(h):
        kind, line = int(raw[y, 0]), raw[y, 1:]
        if kind == 0:
            out[y] = line
        elif kind == 1:  # Sub: running sum along each channel
            out[y] = (np.cumsum(line.reshape(w, channels), axis=0) % 256).reshape(stride)
        elif kind == 2:  # Up
            out[y] = line + prev
        elif kind in (3, 4):
            out[y] = np.frombuffer(_unfilter_slow(kind, line.tobytes(), prev.tobytes(), channels),
                                   np.uint8)
        else:
            raise ValueError(f"{path}: bad filter type {kind} in row {y}")
        prev = out[y]
    return out.reshape(h, w, channels)
