"""Split specs with TensorFlow Datasets' slicing syntax, for every kind of source.

``config.data.split`` names a split of the source and, optionally, a contiguous range of it:

* ``train``: the whole split;
* ``train[:50000]``, ``train[50000:]``, ``train[100:200]``, ``train[-10000:]``: example indices,
  negative ones counted from the end, as in Python;
* ``train[:83%]``, ``train[10%:20%]``: percentages of the split's length (in [-100, 100], decimals
  allowed), rounded to the closest index with Python's ``round`` (ties to even), as TFDS's default
  ``rounding='closest'`` does: ``int(round(p * n / 100))``
  (tensorflow_datasets/core/splits.py, ``_pct_to_abs_closest``, tfds 4.9).

Unlike TFDS, the two bounds of one slice must use the same unit (TFDS reads ``train[10:50%]`` as
percentages on both sides), and an empty slice is an error rather than an empty dataset.

The slice is applied by ``SlicedSource``, a view over the opened split that maps its indices
0..len-1 onto the range, so the same code slices builtin:, idx:, tfds:, folder: and paired: sources
(tfds: sources are sliced by this wrapper too, not by TFDS, so one set of rules and errors holds).

Why: the Parzen-window protocol of Goodfellow et al. (2014), which Mirza & Osindero (2014) follow,
chooses the window's sigma on a validation set the model did not train on: MNIST's last 10,000
training images, so a model compared with theirs trains on ``train[:50000]``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Dict, NamedTuple, Optional, Tuple, Union

import numpy as np

from jaxgan.errors import DataSourceError

if TYPE_CHECKING:  # sources.py imports this module.
    from jaxgan.data.sources import Source

__all__ = ["SlicedSource", "SplitSpec", "overlap", "parse_split", "slice_source"]

_SPEC = re.compile(r"(?P<name>[\w-]+)(?:\[(?P<start>[^:\[\]]*):(?P<stop>[^:\[\]]*)\])?")
_BOUND = re.compile(r"(?P<value>-?\d+(?:\.\d+)?)(?P<percent>%?)")
_SYNTAX = ("write NAME, NAME[START:STOP] with integer indices (e.g. train[:50000], train[50000:]) "
           "or NAME[START%:STOP%] with percentages (e.g. train[:83%])")

Bound = Optional[Union[int, float]]


class SplitSpec(NamedTuple):
    """A parsed split spec: the split's ``name`` and the slice bounds, each None (open), an int
    index (``unit='abs'``) or a percentage (``unit='%'``)."""

    name: str
    start: Bound = None
    stop: Bound = None
    unit: str = "abs"

    @property
    def is_sliced(self) -> bool:
        return self.start is not None or self.stop is not None

    def __str__(self) -> str:
        if not self.is_sliced:
            return self.name
        return f"{self.name}[{_format_bound(self.start, self.unit)}:{_format_bound(self.stop, self.unit)}]"

    def range(self, length: int, source_name: str = "the source") -> range:
        """The absolute indices of this slice of a split of ``length`` examples (TFDS's rules:
        percentages rounded to the closest index, negative bounds counted from the end, a bound
        beyond the length an error). Raises DataSourceError if it is out of range or empty."""
        bounds = []
        for bound, default in ((self.start, 0), (self.stop, length)):
            if bound is None:
                bounds.append(default)
                continue
            index = int(round(bound * length / 100.0)) if self.unit == "%" else bound
            if abs(index) > length:
                raise DataSourceError(
                    f"split {str(self)!r}: bound {_format_bound(bound, self.unit)} is outside "
                    f"{source_name}'s {self.name!r} split of {length} examples; use bounds in "
                    f"[-{length}, {length}], or data.split={self.name!r} for the whole split")
            bounds.append(index + length if index < 0 else index)
        start, stop = bounds
        if start >= stop:
            raise DataSourceError(
                f"split {str(self)!r} of {source_name}'s {self.name!r} split ({length} examples) is empty "
                f"(indices [{start}, {stop})); choose START < STOP")
        return range(start, stop)


def _format_bound(bound: Bound, unit: str) -> str:
    if bound is None:
        return ""
    text = str(int(bound)) if float(bound).is_integer() else repr(bound)
    return text + ("%" if unit == "%" else "")


def _parse_bound(text: str, spec: str) -> Tuple[Bound, bool]:
    """One bound: (value, is_percent); (None, False) if empty."""
    if not text:
        return None, False
    match = _BOUND.fullmatch(text.strip())
    if not match:
        raise DataSourceError(f"malformed split {spec!r}: bound {text!r} is neither an integer nor a "
                              f"percentage; {_SYNTAX}")
    percent = bool(match["percent"])
    value = match["value"]
    if not percent and "." in value:
        raise DataSourceError(f"malformed split {spec!r}: index {text!r} is not an integer; {_SYNTAX}")
    number = float(value) if percent else int(value)
    if percent and abs(number) > 100:
        raise DataSourceError(f"split {spec!r}: percentage {text!r} is outside [-100%, 100%]")
    return number, percent


def parse_split(spec: str) -> SplitSpec:
    """Parses ``NAME`` or ``NAME[START:STOP]`` (see the module docstring); a pure function of the
    text. Raises DataSourceError naming the problem if the spec is malformed."""
    if not isinstance(spec, str):
        raise DataSourceError(f"split {spec!r} is not a string; {_SYNTAX}")
    match = _SPEC.fullmatch(spec.strip())
    if not match:
        raise DataSourceError(f"malformed split {spec!r}; {_SYNTAX}")
    if match["start"] is None:
        return SplitSpec(match["name"])
    (start, start_pct), (stop, stop_pct) = (_parse_bound(match[k], spec) for k in ("start", "stop"))
    if start is None and stop is None:
        raise DataSourceError(f"malformed split {spec!r}: '[:]' gives no bound; for the whole split write "
                              f"{match['name']!r}")
    if start is not None and stop is not None and start_pct != stop_pct:
        raise DataSourceError(f"split {spec!r} mixes an index and a percentage; use one unit for both bounds")
    return SplitSpec(match["name"], start, stop, "%" if start_pct or stop_pct else "abs")


def overlap(a: str, b: str, length: int) -> bool:
    """Whether split specs ``a`` and ``b`` of one source, whose split of that name has ``length``
    examples, share an example (specs of differently named splits never do)."""
    spec_a, spec_b = parse_split(a), parse_split(b)
    if spec_a.name != spec_b.name:
        return False
    range_a, range_b = spec_a.range(length), spec_b.range(length)
    return max(range_a.start, range_b.start) < min(range_a.stop, range_b.stop)


@dataclasses.dataclass(frozen=True)
class SlicedSource:
    """A contiguous range of another source, indexed 0..len-1: example ``i`` is the underlying
    source's example ``indices.start + i``. Keeps the source's name, image shape and classes."""

    source: Source
    indices: range
    split: str  # The spec it was made from, e.g. 'train[:50000]'.

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        return self.source.image_shape

    @property
    def num_classes(self) -> Optional[int]:
        return self.source.num_classes

    @property
    def skipped(self) -> Tuple[str, ...]:
        """Files of the whole split that folder: and paired: sources dropped before slicing."""
        return getattr(self.source, "skipped", ())

    def __getattr__(self, name: str):
        """Every other fact of the source (attribute names, label-map classes, input shape) is the
        sliced one's too."""
        if name == "source":  # Not set yet (unpickling): no recursion.
            raise AttributeError(name)
        return getattr(self.source, name)

    def __len__(self) -> int:
        return len(self.indices)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        indices = np.asarray(indices)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            # An index past the range would read held-out examples: never clamp or wrap.
            raise IndexError(f"{self.name} {self.split}: indices must be in [0, {len(self)}), got "
                             f"[{indices.min()}, {indices.max()}]")
        return self.source.get(indices + self.indices.start)


def slice_source(source: Source, spec: SplitSpec) -> Source:
    """``source`` (the opened split ``spec.name``) restricted to ``spec``'s slice; the source itself
    if the spec has none."""
    if not spec.is_sliced:
        return source
    return SlicedSource(source, spec.range(len(source), getattr(source, "name", "the source")), str(spec))
