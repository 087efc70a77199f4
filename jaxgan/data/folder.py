"""Image folders with one sub-folder per class: ``folder:DIR``; images directly in a folder, no
classes: ``images:DIR`` (and each domain of ``unpaired:DIR``); and the file checks that every
source of image files shares (``paired:``, ``aligned:`` and ``labelmap:`` use them too).

Layout: ``DIR/<class>/<image>`` (PNG, JPEG, BMP, GIF, WebP), or ``DIR/<split>/<class>/<image>``
when ``DIR`` holds a folder named after the split (``train``, ``test``). Classes are the
sub-folder names in sorted order, labels 0..K-1. Images are grayscale (1 channel) when all
files are, else RGB. jaxgan does not resize: give it images of one size. Needs Pillow.

What happens to a file that cannot be read is ``on_corrupt`` (``config.data.on_corrupt``):

* ``'error'`` (the default): every image header is read when the source opens, so an
  unreadable file or a size that differs from the rest is reported before training, with the
  file's name. Pixels are decoded per batch, so a file whose header reads but whose pixel data
  is cut short is reported, by name, when its batch is read.
* ``'skip'``: every image is decoded in full when the source opens (one pass over the data),
  and the files that cannot be are dropped; the source lists them in ``skipped``. A folder in
  which no file can be decoded is still an error. A size that differs is an error either way.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from jaxgan.errors import DataSourceError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
_SKIP_HINT = "remove or replace it, or set --config.data.on_corrupt=skip to train without such files"


def _pillow():
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as e:
        raise DataSourceError("folder: and paired: sources need Pillow to read images; pip install pillow") from e
    return Image, UnidentifiedImageError


def split_root(name: str, directory: str, split: str) -> str:
    """The folder holding ``split``: ``directory/<split>`` if there is one, else ``directory``
    itself, which serves only 'train'."""
    if not os.path.isdir(directory):
        raise DataSourceError(f"{name}: no such folder")
    root = os.path.join(directory, split)
    if os.path.isdir(root):
        return root
    if split != "train":
        raise DataSourceError(f"{name} has no {split!r} sub-folder; the folder itself serves only 'train'")
    return directory


def image_files(folder: str) -> List[str]:
    """The paths of the image files directly in ``folder``, in sorted order."""
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.lower().endswith(IMAGE_EXTENSIONS)]


@dataclasses.dataclass(frozen=True)
class Scan:
    """What opening a list of image files found."""

    paths: Tuple[str, ...]  # The readable files, in the order given.
    sizes: Dict[Tuple[int, int], List[str]]  # (width, height) -> the readable files of that size.
    channels: int  # 1 if every readable file is grayscale, else 3 (RGB).
    skipped: Tuple[str, ...]  # The unreadable files dropped (on_corrupt='skip').


def scan_images(name: str, paths: Sequence[str], on_corrupt: str = "error") -> Scan:
    """Opens every file of ``paths``: with ``on_corrupt='error'`` reads its header, and an unreadable
    file is a DataSourceError naming it; with ``'skip'`` decodes it in full, and drops it if that
    fails (an error only if no file is left)."""
    Image, Unidentified = _pillow()
    readable, sizes, modes, skipped = [], collections.defaultdict(list), set(), []
    for path in paths:
        try:
            with Image.open(path) as image:  # Reads the header only...
                if on_corrupt == "skip":
                    image.load()  # ...unless the pixels are decoded too, which catches files cut short.
                sizes[image.size].append(path)
                modes.add(image.mode)
            readable.append(path)
        except (OSError, Unidentified) as e:
            if on_corrupt != "skip":
                raise DataSourceError(f"{name}: cannot read image {path} ({e}); {_SKIP_HINT}") from e
            skipped.append(path)
    if not readable:
        raise DataSourceError(f"{name}: none of its {len(skipped)} image files can be decoded "
                              f"(e.g. {skipped[0]}); check that the files are complete images")
    return Scan(tuple(readable), dict(sizes), 1 if modes <= {"L", "1"} else 3, tuple(skipped))


def one_size(name: str, sizes: Dict[Tuple[int, int], List[str]]) -> Tuple[int, int]:
    """The (width, height) of every file; a DataSourceError with examples if they differ."""
    if len(sizes) > 1:
        listing = "; ".join(f"{w}x{h}: {len(p)} file(s), e.g. {p[0]}" for (w, h), p in sorted(sizes.items()))
        raise DataSourceError(f"{name}: images of different sizes ({listing}); jaxgan does not resize, "
                              "so convert them to one size first")
    (size,) = sizes
    return size


def read_pixels(name: str, paths: Sequence[str], shape: Tuple[int, int, int]) -> np.ndarray:
    """Decodes ``paths`` into uint8 ``[n, *shape]``, grayscale if ``shape[-1]`` is 1, else RGB."""
    Image, Unidentified = _pillow()
    mode = "L" if shape[-1] == 1 else "RGB"
    out = np.empty((len(paths),) + tuple(shape), np.uint8)
    for row, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                out[row] = np.asarray(image.convert(mode)).reshape(shape)
        except (OSError, Unidentified, ValueError) as e:
            raise DataSourceError(f"{name}: cannot decode image {path} ({e}); {_SKIP_HINT}") from e
    return out


@dataclasses.dataclass(frozen=True)
class FolderSource:
    name: str
    paths: Tuple[str, ...]
    labels: np.ndarray  # int32 [N]
    classes: Tuple[str, ...]
    image_shape: Tuple[int, int, int]
    skipped: Tuple[str, ...] = ()  # Files dropped as unreadable (on_corrupt='skip').

    @property
    def num_classes(self) -> Optional[int]:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def open(cls, directory: str, split: str, *, on_corrupt: str = "error") -> "FolderSource":
        """Lists and checks the images of ``split`` (see the module docstring for ``on_corrupt``)."""
        name = f"folder:{directory}"
        root = split_root(name, directory, split)
        classes = tuple(sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))))
        label_of = {path: label for label, c in enumerate(classes) for path in image_files(os.path.join(root, c))}
        if not label_of:
            raise DataSourceError(
                f"{name}: no images found in {root}; expected one sub-folder per class holding "
                f"{', '.join(IMAGE_EXTENSIONS)} files")
        scan = scan_images(name, list(label_of), on_corrupt)
        width, height = one_size(name, scan.sizes)
        labels = np.asarray([label_of[path] for path in scan.paths], np.int32)
        return cls(name, scan.paths, labels, classes, (height, width, scan.channels), scan.skipped)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        return {"image": read_pixels(self.name, [self.paths[i] for i in indices], self.image_shape),
                "label": self.labels[indices]}


@dataclasses.dataclass(frozen=True)
class ImagesSource:
    """Images directly in one folder, no classes: ``images:DIR`` (``DIR/<split>/`` or ``DIR`` for
    'train'), and each domain folder of CycleGAN's layout (``unpaired:DIR``'s ``DIR/trainA``).
    Examples are ``{'image'}``, uint8 ``[n, H, W, C]``."""

    name: str
    paths: Tuple[str, ...]
    image_shape: Tuple[int, int, int]
    skipped: Tuple[str, ...] = ()  # Files dropped as unreadable (on_corrupt='skip').

    @property
    def num_classes(self) -> Optional[int]:
        return None

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def open(cls, directory: str, split: str, *, on_corrupt: str = "error") -> "ImagesSource":
        """The images of ``split`` (``on_corrupt``: see the module docstring)."""
        name = f"images:{directory}"
        return cls.open_folder(split_root(name, directory, split), name, on_corrupt=on_corrupt)

    @classmethod
    def open_folder(cls, root: str, name: str, *, on_corrupt: str = "error") -> "ImagesSource":
        """The images directly in ``root``, whatever the split; errors name ``root``."""
        if not os.path.isdir(root):
            raise DataSourceError(f"{name}: no such folder {root}")
        paths = image_files(root)
        if not paths:
            raise DataSourceError(f"{name}: no images found in {root}; expected image files "
                                  f"({', '.join(IMAGE_EXTENSIONS)}) directly in it")
        scan = scan_images(name, paths, on_corrupt)
        width, height = one_size(name, scan.sizes)
        return cls(name, scan.paths, (height, width, scan.channels), scan.skipped)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        return {"image": read_pixels(self.name, [self.paths[i] for i in indices], self.image_shape)}
