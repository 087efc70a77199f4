"""Image folders with one sub-folder per class: ``folder:DIR``.

Layout: ``DIR/<class>/<image>`` (PNG, JPEG, BMP, GIF, WebP), or ``DIR/<split>/<class>/<image>``
when ``DIR`` holds a folder named after the split (``train``, ``test``). Classes are the
sub-folder names in sorted order, labels 0..K-1. Every image header is read when the source
opens, so an unreadable file or a size that differs from the rest is reported before training,
with the file's name; pixels are decoded per batch. Images are grayscale (1 channel) when all
files are, else RGB. jaxgan does not resize: give it images of one size. Needs Pillow.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from typing import Dict, Optional, Tuple

import numpy as np

from jaxgan.errors import DataSourceError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def _pillow():
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as e:
        raise DataSourceError("folder: sources need Pillow to read images; pip install pillow") from e
    return Image, UnidentifiedImageError


@dataclasses.dataclass(frozen=True)
class FolderSource:
    name: str
    paths: Tuple[str, ...]
    labels: np.ndarray  # int32 [N]
    classes: Tuple[str, ...]
    image_shape: Tuple[int, int, int]

    @property
    def num_classes(self) -> Optional[int]:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def open(cls, directory: str, split: str) -> "FolderSource":
        name = f"folder:{directory}"
        if not os.path.isdir(directory):
            raise DataSourceError(f"{name}: no such folder")
        root = os.path.join(directory, split) if os.path.isdir(os.path.join(directory, split)) else directory
        if root == directory and split != "train":
            raise DataSourceError(f"{name} has no {split!r} sub-folder; the folder itself serves only 'train'")
        classes = tuple(sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))))
        files = [(os.path.join(root, c, f), label) for label, c in enumerate(classes)
                 for f in sorted(os.listdir(os.path.join(root, c))) if f.lower().endswith(IMAGE_EXTENSIONS)]
        if not files:
            raise DataSourceError(
                f"{name}: no images found in {root}; expected one sub-folder per class holding "
                f"{', '.join(IMAGE_EXTENSIONS)} files")
        Image, Unidentified = _pillow()
        sizes, modes = collections.defaultdict(list), set()
        for path, _ in files:
            try:
                with Image.open(path) as image:  # Reads the header only.
                    sizes[image.size].append(path)
                    modes.add(image.mode)
            except (OSError, Unidentified) as e:
                raise DataSourceError(f"{name}: cannot read image {path} ({e}); remove or replace it") from e
        if len(sizes) > 1:
            listing = "; ".join(f"{w}x{h}: {len(p)} file(s), e.g. {p[0]}" for (w, h), p in sorted(sizes.items()))
            raise DataSourceError(f"{name}: images of different sizes ({listing}); jaxgan does not resize, "
                                  "so convert them to one size first")
        (width, height), = sizes
        channels = 1 if modes <= {"L", "1"} else 3
        paths, labels = zip(*files)
        return cls(name, paths, np.asarray(labels, np.int32), classes, (height, width, channels))

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        Image, Unidentified = _pillow()
        mode = "L" if self.image_shape[-1] == 1 else "RGB"
        out = np.empty((len(indices),) + self.image_shape, np.uint8)
        for row, i in enumerate(indices):
            try:
                with Image.open(self.paths[i]) as image:
                    out[row] = np.asarray(image.convert(mode)).reshape(self.image_shape)
            except (OSError, Unidentified, ValueError) as e:
                raise DataSourceError(f"{self.name}: cannot decode image {self.paths[i]} ({e}); "
                                      "remove or replace it") from e
        return {"image": out, "label": self.labels[indices]}
