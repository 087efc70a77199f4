"""Sample grids and PNG files (encoded and decoded by Pillow)."""

from __future__ import annotations

import io
import os
import uuid

import numpy as np
from PIL import Image

__all__ = ["to_uint8", "make_grid", "encode_png", "write_png", "read_png"]

_MODES = {1: "L", 3: "RGB"}  # channels -> Pillow mode (8-bit grayscale, RGB)


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


def encode_png(image: np.ndarray) -> bytes:
    """Encode uint8 ``[H, W]``/``[H, W, 1]`` (grayscale) or ``[H, W, 3]`` (RGB) as PNG bytes."""
    image = _check_uint8(image, (2, 3), "image")
    if image.ndim == 2:
        image = image[..., None]
    h, w, c = image.shape
    if c not in _MODES:
        raise ValueError(f"image must have 1 or 3 channels, got shape {image.shape}")
    if h == 0 or w == 0:
        raise ValueError(f"image must be non-empty, got shape {image.shape}")
    out = io.BytesIO()
    Image.fromarray(image[..., 0] if c == 1 else image).save(out, format="PNG")
    return out.getvalue()


def write_png(path: str, image: np.ndarray) -> None:
    """Write ``image`` as a PNG at ``path`` atomically (readers never see half a file), creating
    parent directories. The file gets the permissions of any new file (0o666 less the umask)."""
    data = encode_png(image)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{uuid.uuid4().hex}.png")
    # Not tempfile.mkstemp: its file is private (0o600), and os.replace would keep that mode.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_png(path: str) -> np.ndarray:
    """Read an 8-bit grayscale or RGB PNG as uint8 ``[H, W, C]``, C in {1, 3}."""
    try:
        with Image.open(path) as im:
            if im.format != "PNG" or im.mode not in _MODES.values():
                raise ValueError(f"{path}: expected an 8-bit grayscale or RGB PNG, got a {im.format} "
                                 f"image of mode {im.mode}")
            pixels = np.asarray(im)
    except (OSError, SyntaxError) as e:  # Pillow reports a corrupt PNG chunk as SyntaxError.
        if getattr(e, "errno", None) is not None:  # The OS's error (no file, no permission), not the data's.
            raise
        raise ValueError(f"{path}: cannot read PNG ({e})") from e
    return pixels[..., None] if pixels.ndim == 2 else pixels
