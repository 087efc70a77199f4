"""MNIST in the original IDX format (LeCun, Cortes and Burges).

The four IDX files ship inside the package (``jaxgan/data/mnist``) so that
``builtin:mnist`` works offline; ``idx:DIR`` reads the same files from a folder.
"""

from __future__ import annotations

import gzip
import os
import struct
from typing import Tuple

import numpy as np

from jaxgan.errors import DataSourceError

BUILTIN_DIR = os.path.join(os.path.dirname(__file__), "mnist")

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# IDX type codes (third byte of the magic number) -> numpy dtype.
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _find(directory: str, stem: str) -> str:
    tried = [os.path.join(directory, stem + suffix) for suffix in (".gz", "")]
    for path in tried:
        if os.path.isfile(path):
            return path
    raise DataSourceError(
        f"MNIST file {stem!r} not found; tried {', '.join(tried)}. "
        "An idx: source needs the four original IDX files (gzipped or not) in one folder."
    )


def read_idx(path: str) -> np.ndarray:
    """Reads one IDX file (gzipped or plain) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataSourceError(f"cannot read IDX file {path}: {e}") from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DataSourceError(f"{path} is not an IDX file (bad magic number {data[:4]!r})")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataSourceError(
            f"{path} is truncated or corrupt: header says shape {shape} ({expected} bytes), "
            f"file holds {len(data) - header} bytes of data"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def load_mnist(split: str = "train", directory: str = BUILTIN_DIR) -> Tuple[np.ndarray, np.ndarray]:
    """Returns (images uint8 [N, 28, 28], labels int32 [N]) of one split, 'train' or 'test'."""
    if split not in _FILES:
        raise DataSourceError(f"MNIST has splits 'train' and 'test', not {split!r}")
    image_stem, label_stem = _FILES[split]
    images = read_idx(_find(directory, image_stem))
    labels = read_idx(_find(directory, label_stem)).astype(np.int32)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataSourceError(
            f"MNIST files in {directory} disagree: images {images.shape}, labels {labels.shape}"
        )
    return images, labels
