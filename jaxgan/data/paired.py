"""Paired image-to-image data: the input A and its target B for every example.

* ``paired:DIR``: pix2pix's A|B files (Isola et al. 2017). Each file holds an input image A on its
  left half and its target B on its right half, so its width must be even. Layout:
  ``DIR/<split>/<image>``, or ``DIR/<image>``, which serves only 'train'.
* ``aligned:DIR``: two folders with matching file names, ``DIR/A/<split>/<name>`` and
  ``DIR/B/<split>/<name>`` (or ``DIR/A/<name>`` and ``DIR/B/<name>`` for 'train' only); files pair
  by name without the extension (``A/001.png`` with ``B/001.jpg``). A and B are read in one mode:
  RGB if any file of either is in colour, else grayscale.
* ``labelmap:DIR``: label maps for pix2pixHD (Wang et al. 2018) and SPADE (Park et al. 2019):
  ``DIR/[<split>/]labels/<stem>.png`` holding one class id per pixel (8-bit grayscale, or the palette
  index of a palette PNG), ``DIR/[<split>/]images/<stem>.jpg|png`` the targets, and optional
  ``DIR/[<split>/]instances/<stem>.png`` instance ids (8- or 16-bit grayscale, as Cityscapes'
  ``*_instanceIds.png``). The classes are declared in ``DIR/classes.txt``, one name per line, the
  line number (from 0) being the class id: the file travels with the data, so every command that
  opens the folder agrees on the number of classes. An id outside them is an error naming the file.

Examples: ``paired:`` and ``aligned:`` give ``{'image_a', 'image_b'}``, each uint8 ``[n, H, W, C]``
(``direction='BtoA'``, ``config.data.direction``, swaps them, as junyanz's ``--direction``);
``labelmap:`` gives ``{'label_map': int32 [n, H, W], 'image_b': uint8 [n, H, W, C]}`` and
``'instance_map': int32 [n, H, W]`` when there is an ``instances`` folder. None has class labels.
The file checks of ``folder:`` sources apply to all (unreadable files, sizes that differ,
``on_corrupt``; see ``jaxgan.data.folder``).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from jaxgan.data import folder
from jaxgan.errors import DataSourceError


def _check_even_widths(name: str, sizes: Dict[Tuple[int, int], List[str]]) -> None:
    """A DataSourceError naming a file of odd width: A and B could not be the same size."""
    odd = [(path, width) for (width, _), paths in sorted(sizes.items()) if width % 2 for path in paths]
    if odd:
        path, width = odd[0]
        others = f" (and {len(odd) - 1} more file(s) of odd width)" if len(odd) > 1 else ""
        raise DataSourceError(
            f"{name}: {path} is {width} pixels wide{others}; a paired file holds A on its left half and B on "
            "its right half, of the same width, so its width must be even: crop or pad it to an even width")


DIRECTIONS = ("AtoB", "BtoA")


def _check_direction(name: str, direction: str) -> None:
    if direction not in DIRECTIONS:
        raise DataSourceError(f"{name}: direction {direction!r} must be 'AtoB' or 'BtoA'")


def _directed(a: np.ndarray, b: np.ndarray, direction: str) -> Dict[str, np.ndarray]:
    """{'image_a': input, 'image_b': target}: A -> B, or B -> A."""
    return {"image_a": a, "image_b": b} if direction == "AtoB" else {"image_a": b, "image_b": a}


@dataclasses.dataclass(frozen=True)
class PairedSource:
    name: str
    paths: Tuple[str, ...]
    image_shape: Tuple[int, int, int]  # Of A and of B: (H, W/2, C).
    skipped: Tuple[str, ...] = ()  # Files dropped as unreadable (on_corrupt='skip').
    direction: str = "AtoB"

    @property
    def num_classes(self) -> Optional[int]:
        return None

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def open(cls, directory: str, split: str, *, on_corrupt: str = "error",
             direction: str = "AtoB") -> "PairedSource":
        """Lists and checks the A|B files of ``split`` (``on_corrupt``: see ``jaxgan.data.folder``)."""
        name = f"paired:{directory}"
        _check_direction(name, direction)
        root = folder.split_root(name, directory, split)
        paths = folder.image_files(root)
        if not paths:
            raise DataSourceError(f"{name}: no images found in {root}; expected A|B image files "
                                  f"({', '.join(folder.IMAGE_EXTENSIONS)}) directly in it")
        scan = folder.scan_images(name, paths, on_corrupt)
        _check_even_widths(name, scan.sizes)
        width, height = folder.one_size(name, scan.sizes)
        return cls(name, scan.paths, (height, width // 2, scan.channels), scan.skipped, direction)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        height, half, channels = self.image_shape
        pairs = folder.read_pixels(self.name, [self.paths[i] for i in indices], (height, 2 * half, channels))
        return _directed(pairs[:, :, :half], pairs[:, :, half:], self.direction)


def _by_stem(name: str, root: str) -> Dict[str, str]:
    """The image files directly in ``root`` by name without extension; an error if there are none,
    or if two share a name (``a.png`` and ``a.jpg``: which one pairs would be a guess)."""
    if not os.path.isdir(root):
        raise DataSourceError(f"{name}: no such folder {root}")
    out: Dict[str, str] = {}
    for path in folder.image_files(root):
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem in out:
            raise DataSourceError(f"{name}: {out[stem]} and {path} have the same name; keep one of them")
        out[stem] = path
    if not out:
        raise DataSourceError(f"{name}: no images found in {root}; expected "
                              f"{', '.join(folder.IMAGE_EXTENSIONS)} files directly in it")
    return out


def match_names(name: str, roots: Sequence[str], optional: Sequence[str] = ()) -> List[Tuple[str, ...]]:
    """The files of the folders ``roots`` (then of ``optional`` ones that exist), paired by name
    without extension, in sorted order: one tuple of paths per name. A name missing from a folder
    is an error listing a few such names."""
    found = {root: _by_stem(name, root) for root in list(roots) + [r for r in optional if os.path.isdir(r)]}
    names = set.union(*(set(files) for files in found.values()))
    for root, files in found.items():
        missing = sorted(names - set(files))
        if missing:
            examples = [next(found[r][m] for r in found if m in found[r]) for m in missing[:3]]
            raise DataSourceError(
                f"{name}: {len(missing)} file(s) have no file of the same name (extension aside) in {root}, "
                f"e.g. {', '.join(examples)}; add the missing files or remove these, so that every name is "
                f"in each of {', '.join(found)}")
    return [tuple(found[root][n] for root in found) for n in sorted(names)]


def _scan_columns(name: str, columns: Sequence[Sequence[str]], on_corrupt: str):
    """Scans each column of paired files; drops a pair (row) if any of its files is unreadable
    (``on_corrupt='skip'``). Returns (columns of kept rows, scans, skipped files)."""
    scans = [folder.scan_images(name, column, on_corrupt) for column in columns]
    readable = [set(scan.paths) for scan in scans]
    keep = [row for row in zip(*columns) if all(p in ok for p, ok in zip(row, readable))]
    skipped = tuple(p for scan in scans for p in scan.skipped)
    if not keep:
        raise DataSourceError(f"{name}: no example has all its files readable (e.g. {skipped[0]} is not)")
    return [tuple(c) for c in zip(*keep)], scans, skipped


def _same_size(name: str, sizes: Dict[str, Tuple[int, int]]) -> Tuple[int, int]:
    """The one (width, height) of the folders ``sizes`` (folder -> size); an error naming them if not."""
    if len(set(sizes.values())) > 1:
        listing = ", ".join(f"{root}: {w}x{h}" for root, (w, h) in sizes.items())
        raise DataSourceError(f"{name}: the images of the folders differ in size ({listing}); each input and "
                              "its target must be of one size: resize one folder to the other's size")
    return next(iter(sizes.values()))


@dataclasses.dataclass(frozen=True)
class AlignedSource:
    """``aligned:DIR``: inputs in ``DIR/A``, targets in ``DIR/B``, paired by file name."""

    name: str
    paths_a: Tuple[str, ...]
    paths_b: Tuple[str, ...]
    image_shape: Tuple[int, int, int]
    skipped: Tuple[str, ...] = ()
    direction: str = "AtoB"

    @property
    def num_classes(self) -> Optional[int]:
        return None

    def __len__(self) -> int:
        return len(self.paths_a)

    @classmethod
    def open(cls, directory: str, split: str, *, on_corrupt: str = "error",
             direction: str = "AtoB") -> "AlignedSource":
        name = f"aligned:{directory}"
        _check_direction(name, direction)
        if not os.path.isdir(directory):
            raise DataSourceError(f"{name}: no such folder")
        for side in "AB":
            if not os.path.isdir(os.path.join(directory, side)):
                raise DataSourceError(f"{name}: no folder {os.path.join(directory, side)}; the layout is "
                                      f"{directory}/A/<split>/<name> and {directory}/B/<split>/<name>")
        roots = [folder.split_root(name, os.path.join(directory, side), split) for side in "AB"]
        (paths_a, paths_b), scans, skipped = _scan_columns(name, list(zip(*match_names(name, roots))), on_corrupt)
        width, height = _same_size(name, {root: folder.one_size(name, scan.sizes) for root, scan in zip(roots, scans)})
        channels = max(scan.channels for scan in scans)
        return cls(name, paths_a, paths_b, (height, width, channels), skipped, direction)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        a = folder.read_pixels(self.name, [self.paths_a[i] for i in indices], self.image_shape)
        b = folder.read_pixels(self.name, [self.paths_b[i] for i in indices], self.image_shape)
        return _directed(a, b, self.direction)


def read_classes(name: str, path: str) -> Tuple[str, ...]:
    """The class names of a ``classes.txt``: one per line, class id = line number from 0."""
    if not os.path.isfile(path):
        raise DataSourceError(f"{name}: no {path}; write the class names there, one per line, line i naming "
                              "class id i (e.g. Cityscapes' 35 label ids: 'unlabeled', 'ego vehicle', ...)")
    with open(path, encoding="utf-8") as f:
        names = tuple(line.strip() for line in f.read().splitlines())
    blank = [i for i, n in enumerate(names) if not n]
    if blank or not names:
        raise DataSourceError(f"{name}: {path} " + (f"has a blank line {blank[0] + 1}" if names else "is empty")
                              + "; give every class id a name, one per line, no blank lines")
    return names


def _read_ids(name: str, paths: Sequence[str], shape: Tuple[int, int], modes: Tuple[str, ...],
              what: str) -> np.ndarray:
    """Decodes single-channel id maps (pixel values as they are stored, no conversion) to int32 [n, H, W]."""
    Image, Unidentified = folder._pillow()
    out = np.empty((len(paths),) + tuple(shape), np.int32)
    for row, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                if image.mode not in modes:
                    raise DataSourceError(
                        f"{name}: {path} is a {image.mode!r} image; {what} must be single-channel ids "
                        f"(PNG modes {', '.join(modes)}), not colours: convert colour-coded maps to ids first")
                out[row] = np.asarray(image).reshape(shape)
        except (OSError, Unidentified, ValueError) as e:
            if isinstance(e, DataSourceError):
                raise
            raise DataSourceError(f"{name}: cannot decode image {path} ({e}); {folder._SKIP_HINT}") from e
    return out


@dataclasses.dataclass(frozen=True)
class LabelMapSource:
    """``labelmap:DIR``: per-pixel class-id maps (and instance maps) with their target images."""

    name: str
    label_paths: Tuple[str, ...]
    image_paths: Tuple[str, ...]
    instance_paths: Optional[Tuple[str, ...]]
    classes: Tuple[str, ...]  # From DIR/classes.txt; label ids are 0..len(classes)-1.
    image_shape: Tuple[int, int, int]  # Of the targets; label maps are [H, W].
    skipped: Tuple[str, ...] = ()

    @property
    def num_classes(self) -> Optional[int]:
        return None  # No image-level class labels.

    @property
    def num_label_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.label_paths)

    @classmethod
    def open(cls, directory: str, split: str, *, on_corrupt: str = "error") -> "LabelMapSource":
        name = f"labelmap:{directory}"
        root = folder.split_root(name, directory, split)
        classes = read_classes(name, os.path.join(directory, "classes.txt"))
        roots = [os.path.join(root, "labels"), os.path.join(root, "images")]
        rows = match_names(name, roots, optional=[os.path.join(root, "instances")])
        columns, scans, skipped = _scan_columns(name, list(zip(*rows)), on_corrupt)
        sizes = {os.path.dirname(column[0]): folder.one_size(name, scan.sizes) for column, scan in zip(columns, scans)}
        width, height = _same_size(name, sizes)
        instances = columns[2] if len(columns) == 3 else None
        return cls(name, columns[0], columns[1], instances, classes, (height, width, scans[1].channels), skipped)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        size = self.image_shape[:2]
        labels = _read_ids(self.name, [self.label_paths[i] for i in indices], size, ("L", "P"), "label maps")
        bad = labels >= len(self.classes)
        if bad.any():
            row = int(np.argmax(bad.any(axis=(1, 2))))
            raise DataSourceError(
                f"{self.name}: {self.label_paths[indices[row]]} holds class id {int(labels[row].max())}, outside "
                f"the {len(self.classes)} classes (ids 0..{len(self.classes) - 1}) of its classes.txt; fix the map "
                "or declare the class in classes.txt")
        out = {"label_map": labels,
               "image_b": folder.read_pixels(self.name, [self.image_paths[i] for i in indices], self.image_shape)}
        if self.instance_paths is not None:
            out["instance_map"] = _read_ids(self.name, [self.instance_paths[i] for i in indices], size,
                                            ("L", "I", "I;16"), "instance maps")
        return out
