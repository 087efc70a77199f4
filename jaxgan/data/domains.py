"""Several unpaired image domains, one source each: ``domains:SPEC_A|SPEC_B[|...]`` and ``unpaired:DIR``.

The unpaired methods (CycleGAN, Zhu et al. 2017; StarGAN; ComboGAN, ...) learn from one set of
images per domain with no pairing between them. A ``DomainsSource`` holds one single-domain source
per domain; the pipeline walks each in its own permutation (``jaxgan.data.pipeline``), so the
domains may differ in length. Domain ``d``'s keys get the suffix of its letter: ``image_a`` (and
``label_a`` if the domain has labels), ``image_b``, ``image_c``, ...

* ``domains:SPEC_A|SPEC_B[|SPEC_C...]``: any single-domain sources, e.g.
  ``domains:folder:/data/horses|folder:/data/zebras`` or ``domains:builtin:mnist|builtin:mnist/NAME``.
* ``unpaired:DIR``: CycleGAN's layout (junyanz/pytorch-CycleGAN-and-pix2pix): images directly in
  ``DIR/trainA`` and ``DIR/trainB`` (``testA``/``testB`` for split 'test'), no class sub-folders;
  further domains ``DIR/trainC``, ``DIR/trainD``, ... are read when they exist.

All domains must hold images of one size and channel count (the networks see both).
"""

from __future__ import annotations

import dataclasses
import os
import string
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from jaxgan.data.split import parse_split, slice_source
from jaxgan.errors import DataSourceError

LETTERS = string.ascii_lowercase


@dataclasses.dataclass(frozen=True)
class DomainsSource:
    """One source per domain. ``len`` is the longest domain's length (an epoch of junyanz's
    unaligned dataset); ``get(indices)`` reads example ``i % len(domain)`` of every domain, for
    fixed panels; training batches come from the pipeline, which permutes each domain on its own."""

    name: str
    domains: Tuple[object, ...]  # Single-domain sources (jaxgan.data.sources.Source).

    @classmethod
    def of(cls, name: str, domains: Sequence[object]) -> "DomainsSource":
        """Checks that there are at least 2 domains, each non-empty and yielding one image per
        example, all of one image size and channel count."""
        if len(domains) < 2:
            raise DataSourceError(f"{name}: {len(domains)} domain(s); an unpaired source needs at least 2, "
                                  "e.g. domains:folder:/data/horses|folder:/data/zebras")
        if len(domains) > len(LETTERS):
            raise DataSourceError(f"{name}: {len(domains)} domains; at most {len(LETTERS)} are supported")
        for letter, domain in zip(LETTERS, domains):
            domain_name = getattr(domain, "name", repr(domain))
            if len(domain) == 0:
                raise DataSourceError(f"{name}: domain {letter.upper()} ({domain_name}) is empty")
            keys = set(domain.get(np.array([0])))
            if "image" not in keys or {"image_a", "image_b"} & keys:
                raise DataSourceError(
                    f"{name}: domain {letter.upper()} ({domain_name}) yields {sorted(keys)}; each domain must be "
                    "a single-domain image source (folder:, images:, builtin:mnist, ...), not a paired one")
        shapes = {tuple(d.image_shape) for d in domains}
        if len(shapes) > 1:
            listing = "; ".join(f"{letter.upper()} ({getattr(d, 'name', d)}): {'x'.join(map(str, d.image_shape))}"
                                for letter, d in zip(LETTERS, domains))
            channels = {s[-1] for s in shapes}
            fix = ("convert every domain to RGB (or every one to grayscale)" if len(channels) > 1 else
                   "resize the images of every domain to one size (data.load_size resizes only after "
                   "the source is opened)")
            grey_digits = [getattr(d, "name", "") for d in domains
                           if getattr(d, "name", "").startswith("builtin:mnist") and d.image_shape[-1] == 1]
            if len(channels) > 1 and grey_digits:
                fix += (f"; for the built-in grey digits ({', '.join(grey_digits)}) write builtin:mnist/plain_rgb, "
                        "the plain digit in three channels")
            raise DataSourceError(f"{name}: the domains' images differ in size or channels (H x W x C: {listing}); "
                                  f"{fix}")
        return cls(name, tuple(domains))

    @property
    def letters(self) -> str:
        return LETTERS[:len(self.domains)]

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        return tuple(self.domains[0].image_shape)

    @property
    def num_classes(self) -> Optional[int]:
        return None  # No 'label' key; domain d's labels ('label_<letter>') have domains[d].num_classes.

    @property
    def skipped(self) -> Tuple[str, ...]:
        return tuple(path for d in self.domains for path in getattr(d, "skipped", ()))

    def __len__(self) -> int:
        return max(len(d) for d in self.domains)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        out = {}
        for letter, domain in zip(self.letters, self.domains):
            for key, value in domain.get(np.asarray(indices) % len(domain)).items():
                out[f"{key}_{letter}"] = value
        return out


def open_domains(specs: str, split: str, *, on_corrupt: str = "error") -> DomainsSource:
    """``domains:SPEC_A|SPEC_B|...``: each SPEC opened with ``jaxgan.data.sources.build_source``."""
    from jaxgan.data.sources import build_source

    name = f"domains:{specs}"
    parts = [p for p in specs.split("|") if p.strip()]
    if len(parts) < 2:
        raise DataSourceError(f"{name}: {len(parts)} domain(s); write at least 2 sources separated by '|', "
                              "e.g. domains:folder:/data/horses|folder:/data/zebras")
    return DomainsSource.of(name, [build_source(p.strip(), split, on_corrupt=on_corrupt) for p in parts])


def open_source(kind: str, arg: str, split: str, *, on_corrupt: str = "error") -> DomainsSource:
    """Opens ``domains:ARG`` or ``unpaired:ARG`` for ``split`` (a slice such as ``train[:50%]`` is
    taken of each domain on its own)."""
    return (open_domains if kind == "domains" else open_unpaired)(arg, split, on_corrupt=on_corrupt)


def open_unpaired(directory: str, split: str, *, on_corrupt: str = "error") -> DomainsSource:
    """``unpaired:DIR``: the flat image folders ``DIR/<split>A``, ``DIR/<split>B``, ... ."""
    from jaxgan.data.folder import ImagesSource

    name = f"unpaired:{directory}"
    sliced = parse_split(split)
    split = sliced.name
    if not os.path.isdir(directory):
        raise DataSourceError(f"{name}: no such folder")
    roots = [os.path.join(directory, split + letter.upper()) for letter in LETTERS]
    count = next((i for i, root in enumerate(roots) if not os.path.isdir(root)), len(roots))
    if count < 2:
        raise DataSourceError(f"{name}: no domain folder {roots[count]}; CycleGAN's layout is {directory}/"
                              f"{split}A and {directory}/{split}B (and testA, testB), each holding images directly")
    domains = [ImagesSource.open_folder(root, f"images:{root}", on_corrupt=on_corrupt) for root in roots[:count]]
    return DomainsSource.of(name, [slice_source(d, sliced) for d in domains])
