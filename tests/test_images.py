"""Tests for jaxgan.images: uint8 conversion, grid layout, PNG encode/decode."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from jaxgan.images import encode_png, make_grid, read_png, to_uint8, write_png


def test_to_uint8_endpoints_and_clipping() -> None:
    x = np.array([-1.0, 1.0, 0.0, -5.0, 7.0, np.nan, 0.5]).reshape(1, 7, 1, 1)
    np.testing.assert_array_equal(
        to_uint8(x).ravel(), [0, 255, 128, 0, 255, 0, 191])  # 0.0 -> 127.5 rounds to even
    assert to_uint8(x).dtype == np.uint8 and to_uint8(x).shape == x.shape


def test_make_grid_layout_and_padding() -> None:
    n, h, w, c = 5, 3, 4, 2
    tiles = np.stack([np.full((h, w, c), 10 * (i + 1), np.uint8) for i in range(n)])
    grid = make_grid(tiles, ncol=3, padding=2, pad_value=7)
    assert grid.shape == (2 * (h + 2) + 2, 3 * (w + 2) + 2, c)
    for i in range(n):
        r, col = divmod(i, 3)
        y, x = 2 + r * (h + 2), 2 + col * (w + 2)
        np.testing.assert_array_equal(grid[y:y + h, x:x + w], tiles[i])
    mask = np.ones(grid.shape[:2], bool)
    for i in range(n):
        r, col = divmod(i, 3)
        y, x = 2 + r * (h + 2), 2 + col * (w + 2)
        mask[y:y + h, x:x + w] = False
    assert np.all(grid[mask] == 7)  # borders, gaps and the empty sixth cell


def test_make_grid_without_padding_is_a_plain_tiling() -> None:
    tiles = np.arange(4 * 2 * 2 * 1, dtype=np.uint8).reshape(4, 2, 2, 1)
    grid = make_grid(tiles, ncol=2, padding=0)
    expected = np.block([[tiles[0, ..., 0], tiles[1, ..., 0]], [tiles[2, ..., 0], tiles[3, ..., 0]]])
    np.testing.assert_array_equal(grid[..., 0], expected)


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (6, 3, 3), (1, 1, 3)])
def test_png_round_trip(tmp_path, shape) -> None:
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "sub" / "dir" / "img.png"  # parent dirs are created
    write_png(str(path), image)
    assert [p.name for p in path.parent.iterdir()] == ["img.png"]  # no temp file left behind
    back = read_png(str(path))
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, image.reshape(shape[0], shape[1], -1))
    assert path.read_bytes() == encode_png(image)


def test_png_readable_by_pillow(tmp_path) -> None:
    try:
        from PIL import Image
    except ImportError:
        pytest.skip("Pillow not installed; encoding already checked by the round trip")
    rng = np.random.default_rng(1)
    for image, mode in [(rng.integers(0, 256, (9, 11, 3), dtype=np.uint8), "RGB"),
                        (rng.integers(0, 256, (9, 11), dtype=np.uint8), "L")]:
        path = str(tmp_path / f"{mode}.png")
        write_png(path, image)
        with Image.open(path) as im:
            assert im.mode == mode
            np.testing.assert_array_equal(np.asarray(im), image)
        # Pillow's encoder uses adaptive filters, which read_png must undo too.
        pillow_path = str(tmp_path / f"pillow_{mode}.png")
        Image.fromarray(image, mode).save(pillow_path, optimize=True)
        np.testing.assert_array_equal(read_png(pillow_path)[..., 0 if mode == "L" else slice(None)],
                                      image)


def _filtered_png(image: np.ndarray) -> bytes:
    """Encode RGB ``image`` using filter type ``row % 5`` (reference filters, per byte)."""
    h, w, c = image.shape
    rows = image.reshape(h, w * c).astype(int)
    raw = bytearray()
    for y in range(h):
        kind, line = y % 5, rows[y]
        prev = rows[y - 1] if y else np.zeros_like(line)
        raw.append(kind)
        for i in range(w * c):
            a = line[i - c] if i >= c else 0
            b, up_left = prev[i], (prev[i - c] if i >= c else 0)
            p = a + b - up_left
            paeth = min((abs(p - a), 0, a), (abs(p - b), 1, b), (abs(p - up_left), 2, up_left))[2]
            pred = [0, a, b, (a + b) // 2, paeth][kind]
            raw.append((line[i] - pred) % 256)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def test_read_png_undoes_all_filter_types(tmp_path) -> None:
    image = np.random.default_rng(2).integers(0, 256, (10, 6, 3), dtype=np.uint8)
    path = tmp_path / "filtered.png"
    path.write_bytes(_filtered_png(image))
    np.testing.assert_array_equal(read_png(str(path)), image)


def test_invalid_inputs_raise_value_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="channels"):
        encode_png(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="ndim"):
        encode_png(np.zeros((1, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        make_grid(np.zeros((2, 4, 4, 3), np.int32), ncol=2)
    with pytest.raises(ValueError, match="ncol"):
        make_grid(np.zeros((2, 4, 4, 3), np.uint8), ncol=0)
    bad = tmp_path / "bad.png"
    data = bytearray(encode_png(np.zeros((2, 2), np.uint8)))
    data[-20] ^= 1  # corrupt the IDAT payload/CRC
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC"):
        read_png(str(bad))
