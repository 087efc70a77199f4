"""Tests for jaxgan.images: uint8 conversion, grid layout, PNG files through Pillow."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from PIL import Image

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


@pytest.mark.parametrize("shape, mode", [((5, 7), "L"), ((5, 7, 1), "L"), ((6, 3, 3), "RGB"),
                                         ((1, 1, 3), "RGB")])
def test_png_round_trip_with_known_pixels(tmp_path, shape, mode) -> None:
    image = (np.arange(np.prod(shape)) * 37 % 256).astype(np.uint8).reshape(shape)
    path = tmp_path / "sub" / "dir" / "img.png"  # parent dirs are created
    write_png(str(path), image)
    assert [p.name for p in path.parent.iterdir()] == ["img.png"]  # no temp file left behind
    with Image.open(path) as im:  # What any viewer sees.
        assert (im.format, im.mode, im.size) == ("PNG", mode, (shape[1], shape[0]))
        np.testing.assert_array_equal(np.asarray(im), image.reshape(shape[0], shape[1], -1).squeeze(-1)
                                      if mode == "L" else image)
    back = read_png(str(path))
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, image.reshape(shape[0], shape[1], -1))
    assert path.read_bytes() == encode_png(image)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_png_gets_the_umask_permissions(tmp_path, umask) -> None:
    path = tmp_path / "grid.png"
    old = os.umask(umask)
    try:
        write_png(str(path), np.zeros((2, 2, 3), np.uint8))
        write_png(str(path), np.ones((2, 2, 3), np.uint8))  # Replacing a file: same mode.
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_read_png_reads_other_encoders_files(tmp_path) -> None:
    image = (np.arange(9 * 11 * 3) * 11 % 256).astype(np.uint8).reshape(9, 11, 3)
    path = str(tmp_path / "optimized.png")
    Image.fromarray(image).save(path, optimize=True)  # Adaptive row filters.
    np.testing.assert_array_equal(read_png(path), image)


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
    data[-20] ^= 1  # corrupt the IDAT payload
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bad.png: cannot read PNG"):
        read_png(str(bad))
    rgba = tmp_path / "rgba.png"
    Image.new("RGBA", (2, 2)).save(rgba)
    with pytest.raises(ValueError, match="mode RGBA"):
        read_png(str(rgba))
    jpeg = tmp_path / "photo.png"
    Image.new("RGB", (2, 2)).save(jpeg, format="JPEG")
    with pytest.raises(ValueError, match="got a JPEG"):
        read_png(str(jpeg))
    with pytest.raises(FileNotFoundError):
        read_png(str(tmp_path / "missing.png"))

