"""Paired A|B images in pix2pix's format (Isola et al. 2017): ``paired:DIR``.

Each file holds an input image A on its left half and its target B on its right half, so its
width must be even. Layout: ``DIR/<split>/<image>``, or ``DIR/<image>``, which serves only
'train' (as for ``folder:`` sources, whose file checks apply: unreadable files, sizes that
differ, ``on_corrupt``; see ``jaxgan.data.folder``). Examples are
``{'image_a', 'image_b'}``, each uint8 ``[n, H, W/2, C]``; there are no labels.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

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


@dataclasses.dataclass(frozen=True)
class PairedSource:
    name: str
    paths: Tuple[str, ...]
    image_shape: Tuple[int, int, int]  # Of A and of B: (H, W/2, C).
    skipped: Tuple[str, ...] = ()  # Files dropped as unreadable (on_corrupt='skip').

    @property
    def num_classes(self) -> Optional[int]:
        return None

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def open(cls, directory: str, split: str, *, on_corrupt: str = "error") -> "PairedSource":
        """Lists and checks the A|B files of ``split`` (``on_corrupt``: see ``jaxgan.data.folder``)."""
        name = f"paired:{directory}"
        root = folder.split_root(name, directory, split)
        paths = folder.image_files(root)
        if not paths:
            raise DataSourceError(f"{name}: no images found in {root}; expected A|B image files "
                                  f"({', '.join(folder.IMAGE_EXTENSIONS)}) directly in it")
        scan = folder.scan_images(name, paths, on_corrupt)
        _check_even_widths(name, scan.sizes)
        width, height = folder.one_size(name, scan.sizes)
        return cls(name, scan.paths, (height, width // 2, scan.channels), scan.skipped)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        height, half, channels = self.image_shape
        pairs = folder.read_pixels(self.name, [self.paths[i] for i in indices], (height, 2 * half, channels))
        return {"image_a": pairs[:, :, :half], "image_b": pairs[:, :, half:]}
