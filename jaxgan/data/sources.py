"""Data sources: random-access collections of (image, label) examples.

A source is named in the config as ``KIND:ARG``:

* ``builtin:mnist``: MNIST shipped inside the package (works offline).
* ``builtin:mnist/NAME``: a task or domain derived from it on the fly (edges2digit, sr4x, inpainting,
  label-map scenes, negative/edges/thick_slanted/coloured domains, attributes; ``jaxgan.data.derived``).
* ``idx:DIR``: the four MNIST-format IDX files in a folder.
* ``tfds:NAME``: a TensorFlow Datasets dataset read with ``tfds.data_source``
  (no TensorFlow needed), e.g. ``tfds:mnist`` or ``tfds:fashion_mnist``.
* ``folder:DIR``: your own images, one sub-folder per class (``jaxgan.data.folder``).
* ``paired:DIR``: pix2pix's A|B image pairs, no labels (``jaxgan.data.paired``).
* ``aligned:DIR``: input and target in two folders ``DIR/A``, ``DIR/B`` with matching file names.
* ``labelmap:DIR``: class-id maps ``DIR/labels`` (+ ``DIR/instances``) with targets ``DIR/images``.
* ``images:DIR``: images directly in a folder, no classes (one domain of an unpaired source).
* ``attrs:DIR[:NAME1,NAME2,...]``: images with binary attributes from a CelebA-style list file
  (``jaxgan.data.attributes``; StarGAN).
* ``domains:SPEC_A|SPEC_B[|...]`` and ``unpaired:DIR`` (CycleGAN's trainA/trainB): one source per
  domain, keys suffixed by the domain's letter (``jaxgan.data.domains``).

Every source returns uint8 images ``[n, H, W, C]`` and int32 labels ``[n]``, except paired
sources, which return two uint8 images per example and no labels; the pipeline turns the
images into floats.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Protocol, Tuple

import numpy as np

from jaxgan.data import mnist
from jaxgan.data.split import parse_split, slice_source
from jaxgan.errors import DataSourceError

__all__ = ["ArraySource", "DataSourceError", "Source", "build_source", "check_labels"]


class Source(Protocol):
    """What the pipeline needs of a dataset: its length and random access by index."""

    image_shape: Tuple[int, int, int]
    num_classes: Optional[int]

    def __len__(self) -> int: ...

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        """Returns {'image': uint8 [n, H, W, C], 'label': int32 [n]} for the given indices
        (a paired source: {'image_a', 'image_b'}, both uint8 [n, H, W, C])."""


def check_labels(labels: np.ndarray, num_classes: Optional[int], where: str) -> None:
    """Raises DataSourceError if a label is outside [0, num_classes): such a label would silently
    index past a one-hot or embedding table inside jit (JAX clamps or fills, it does not raise)."""
    if num_classes is None or labels.size == 0:
        return
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        values = np.unique(labels[bad])
        raise DataSourceError(
            f"{where}: {int(bad.sum())} label(s) outside [0, {num_classes}), e.g. {values[:5].tolist()} "
            f"(first at position {int(np.argmax(bad))}); fix the labels or the number of classes of the source"
        )


@dataclasses.dataclass(frozen=True)
class ArraySource:
    """A source held in memory as numpy arrays (MNIST-sized datasets)."""

    images: np.ndarray  # uint8 [N, H, W, C]
    labels: np.ndarray  # int32 [N]
    num_classes: Optional[int]
    name: str

    def __post_init__(self):
        check_labels(self.labels, self.num_classes, self.name)

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def __len__(self) -> int:
        return len(self.images)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        return {"image": self.images[indices], "label": self.labels[indices]}


def _mnist_source(directory: str, split: str, name: str) -> ArraySource:
    images, labels = mnist.load_mnist(split, directory)
    return ArraySource(images[..., None], labels, num_classes=10, name=name)


def build_source(spec: str, split: str = "train", *, on_corrupt: str = "error", direction: str = "AtoB") -> Source:
    """Opens the source named ``spec`` (see the module docstring) for ``split``, a split name with
    an optional TFDS-style slice, e.g. ``train[:50000]`` or ``train[:83%]`` (``jaxgan.data.split``).

    ``on_corrupt`` (``config.data.on_corrupt``) is what folder: and paired: sources do with an image
    file they cannot decode: 'error' or 'skip' it (see ``jaxgan.data.folder``). builtin:, idx: and
    tfds: sources do not decode image files themselves and ignore it.

    ``direction`` (``config.data.direction``): 'AtoB', or 'BtoA' to swap input and target of
    paired: and aligned: sources; an error for any other source."""
    kind, _, arg = spec.partition(":")
    if direction != "AtoB" and kind not in ("paired", "aligned"):
        raise DataSourceError(f"data.direction={direction!r} swaps the input and target of paired: and aligned: "
                              f"sources; {spec!r} has no such pair: leave data.direction='AtoB'")
    if kind in ("domains", "unpaired"):  # Before slicing: each domain is sliced on its own.
        from jaxgan.data import domains

        return domains.open_source(kind, arg, split, on_corrupt=on_corrupt)
    sliced = parse_split(split)
    if sliced.is_sliced:  # Open the whole named split, then view the range (every kind alike).
        return slice_source(build_source(spec, sliced.name, on_corrupt=on_corrupt, direction=direction), sliced)
    if kind == "builtin":
        if arg.startswith("mnist/"):
            from jaxgan.data import derived

            return derived.open_task(arg[len("mnist/"):], split)
        if arg != "mnist":
            raise DataSourceError(f"unknown built-in dataset {arg!r} in {spec!r}; the built-in ones are "
                                  "'builtin:mnist' and its derived tasks 'builtin:mnist/NAME' (jaxgan.data.derived)")
        return _mnist_source(mnist.BUILTIN_DIR, split, spec)
    if kind == "idx":
        if not arg:
            raise DataSourceError(f"{spec!r} names no folder; write idx:/path/to/folder")
        return _mnist_source(arg, split, spec)
    if kind == "tfds":
        from jaxgan.data import tfds_source  # Imported lazily: tensorflow-datasets is optional.

        return tfds_source.TfdsSource.open(arg, split)
    if kind == "folder":
        from jaxgan.data import folder  # Imported lazily: Pillow is optional.

        return folder.FolderSource.open(arg, split, on_corrupt=on_corrupt)
    if kind == "paired":
        from jaxgan.data import paired  # Imported lazily: Pillow is optional.

        return paired.PairedSource.open(arg, split, on_corrupt=on_corrupt, direction=direction)
    if kind == "attrs":
        from jaxgan.data import attributes  # Imported lazily: Pillow is optional.

        return attributes.AttributeFolderSource.open(arg, split, on_corrupt=on_corrupt)
    if kind in ("aligned", "labelmap", "images"):
        from jaxgan.data import folder, paired  # Imported lazily: Pillow is optional.

        if kind == "images":
            return folder.ImagesSource.open(arg, split, on_corrupt=on_corrupt)
        if kind == "labelmap":
            return paired.LabelMapSource.open(arg, split, on_corrupt=on_corrupt)
        return paired.AlignedSource.open(arg, split, on_corrupt=on_corrupt, direction=direction)
    raise DataSourceError(
        f"unknown data source {spec!r}; use builtin:mnist, idx:DIR, tfds:NAME, folder:DIR, paired:DIR, aligned:DIR, "
        "labelmap:DIR, images:DIR, attrs:DIR, unpaired:DIR or domains:SPEC_A|SPEC_B"
    )
