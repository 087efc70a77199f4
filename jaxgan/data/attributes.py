"""Attribute-labelled image folders with a CelebA-style attribute list: ``attrs:DIR`` or
``attrs:DIR:NAME1,NAME2,...`` (StarGAN, Choi et al. 2018; Fader Networks).

Layout (CelebA's, as StarGAN's ``data/celeba``): an attribute list file ``DIR/list_attr_celeba.txt``
(else the one ``.txt`` file in ``DIR``) and the images in ``DIR/images/`` (else in ``DIR`` itself). The
list file's first line is the number of images, its second the attribute names separated by spaces,
and each further line a file name followed by one value per attribute: 1 (has it) or -1 / 0 (has it
not), e.g. ``000001.jpg -1 1 1 -1 ...``.

``NAME1,NAME2,...`` selects attributes in that order (StarGAN's CelebA setting:
``Black_Hair,Blond_Hair,Brown_Hair,Male,Young``); without it, every attribute of the file. Examples are
``{'image': uint8 [n, S, S, C], 'attributes': float32 [n, A] in {0, 1}}``; the source has
``attribute_names``. Each image is centre-cropped to a square of its shorter side S (the authors'
``CenterCrop(178)`` of CelebA's 178x218 faces) before the pipeline resizes it (``data.load_size``).

Splits as the authors' data loader: the list's lines shuffled by Python's ``random.seed(1234);
random.shuffle`` (the same permutation), the first 1,999 are 'test', the rest 'train'.
"""

from __future__ import annotations

import dataclasses
import os
import random
from typing import Dict, List, Optional, Tuple

import numpy as np

from jaxgan.data.folder import IMAGE_EXTENSIONS, one_size, read_pixels, scan_images
from jaxgan.errors import DataSourceError

LIST_FILE = "list_attr_celeba.txt"
SPLIT_SEED = 1234  # yunjey/stargan data_loader.py: random.seed(1234) before shuffling the list.
TEST_LINES = 1999  # The authors' test split: lines i with i + 1 < 2000 after the shuffle.


def _list_file(name: str, directory: str) -> str:
    if os.path.isfile(os.path.join(directory, LIST_FILE)):
        return os.path.join(directory, LIST_FILE)
    texts = sorted(f for f in os.listdir(directory) if f.lower().endswith(".txt"))
    if len(texts) != 1:
        raise DataSourceError(f"{name}: expected the attribute list {LIST_FILE} (or one .txt file) in {directory}, "
                              f"found {texts or 'none'}")
    return os.path.join(directory, texts[0])


def _parse(name: str, path: str) -> Tuple[Tuple[str, ...], List[Tuple[str, List[str]]]]:
    """(attribute names, [(file name, values)]) of a CelebA-style list file, checked line by line."""
    with open(path) as f:
        lines = [line.rstrip() for line in f]
    if len(lines) < 3:
        raise DataSourceError(f"{name}: {path} has {len(lines)} line(s); a CelebA-style list has the image count, "
                              "the attribute names, then one line per image")
    names = tuple(lines[1].split())
    rows = []
    for number, line in enumerate(lines[2:], start=3):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != len(names) + 1 or any(v not in ("1", "-1", "0") for v in fields[1:]):
            raise DataSourceError(f"{name}: {path} line {number} should be a file name and {len(names)} values "
                                  f"of 1, -1 or 0, got {line[:80]!r}")
        rows.append((fields[0], fields[1:]))
    return names, rows


@dataclasses.dataclass(frozen=True)
class AttributeFolderSource:
    name: str
    paths: Tuple[str, ...]
    attributes: np.ndarray  # float32 [N, A] in {0, 1}.
    attribute_names: Tuple[str, ...]
    file_shape: Tuple[int, int, int]  # (H, W, C) of the files; image_shape is its centred square.
    skipped: Tuple[str, ...] = ()  # Files dropped as unreadable (on_corrupt='skip'), with their lines.

    @property
    def num_classes(self) -> Optional[int]:
        return None

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        side = min(self.file_shape[:2])
        return (side, side, self.file_shape[2])

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def open(cls, spec: str, split: str, *, on_corrupt: str = "error") -> "AttributeFolderSource":
        """``spec`` = ``DIR`` or ``DIR:NAME1,NAME2,...`` (module docstring); ``split`` 'train' or 'test'."""
        name = f"attrs:{spec}"
        directory, selected = spec, None
        head, sep, tail = spec.rpartition(":")
        if sep and head and os.sep not in tail:
            directory, selected = head, tuple(n for n in tail.split(",") if n)
        if not os.path.isdir(directory):
            raise DataSourceError(f"{name}: no such folder {directory}")
        if split not in ("train", "test"):
            raise DataSourceError(f"{name} has splits 'train' and 'test' (the authors' 1,999 test images), "
                                  f"not {split!r}")
        names, rows = _parse(name, _list_file(name, directory))
        selected = selected or names
        unknown = [n for n in selected if n not in names]
        if unknown:
            raise DataSourceError(f"{name}: unknown attribute(s) {unknown}; the list has {', '.join(names)}")
        image_dir = os.path.join(directory, "images")
        image_dir = image_dir if os.path.isdir(image_dir) else directory
        present = set(os.listdir(image_dir))
        missing = [f for f, _ in rows if f not in present]  # Checked over the whole list, whatever the split.
        if missing:
            raise DataSourceError(f"{name}: {len(missing)} image(s) of the attribute list are not in {image_dir}, "
                                  f"e.g. {os.path.join(image_dir, missing[0])}")
        bad = [f for f, _ in rows if not f.lower().endswith(IMAGE_EXTENSIONS)]
        if bad:
            raise DataSourceError(f"{name}: {bad[0]} of the attribute list is not an image file "
                                  f"({', '.join(IMAGE_EXTENSIONS)})")
        random.Random(SPLIT_SEED).shuffle(rows)  # random.seed(1234); random.shuffle(lines): the same draws.
        rows = rows[:TEST_LINES] if split == "test" else rows[TEST_LINES:]
        if not rows:
            raise DataSourceError(f"{name}: split {split!r} is empty: the first {TEST_LINES} images of the shuffled "
                                  "list are 'test', the rest 'train'")
        paths = [os.path.join(image_dir, f) for f, _ in rows]
        scan = scan_images(name, paths, on_corrupt)
        readable = set(scan.paths)  # With on_corrupt='skip', the unreadable files leave with their lines.
        rows = [row for row, path in zip(rows, paths) if path in readable]
        width, height = one_size(name, scan.sizes)
        columns = [names.index(n) for n in selected]
        values = np.asarray([[int(v[c]) > 0 for c in columns] for _, v in rows], np.float32).reshape(-1, len(columns))
        return cls(name, scan.paths, values, tuple(selected), (height, width, scan.channels), scan.skipped)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        indices = np.asarray(indices, np.int64)
        images = read_pixels(self.name, [self.paths[i] for i in indices], self.file_shape)
        (height, width, _), (side, _, _) = self.file_shape, self.image_shape
        top, left = int(round((height - side) / 2)), int(round((width - side) / 2))  # torchvision's CenterCrop.
        return {"image": images[:, top:top + side, left:left + side], "attributes": self.attributes[indices]}
