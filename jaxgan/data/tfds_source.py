"""TensorFlow Datasets sources read by random access (``tfds:NAME``), without TensorFlow.

The dataset must already be prepared on disk in a random-access format
(ArrayRecord): this module never downloads or builds anything. Images are
decoded by tensorflow-datasets with Pillow (or OpenCV).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from jaxgan.errors import DataSourceError

__all__ = ["TfdsSource"]


def _default_data_dir() -> str:
    """tfds's default data dir, read now rather than when tfds was imported."""
    return os.environ.get("TFDS_DATA_DIR", os.path.join(os.path.expanduser("~"), "tensorflow_datasets"))


def _how_to_prepare(name: str, data_dir: str) -> str:
    return (
        f"Prepare it on a machine with network access and TensorFlow "
        f"(`tfds build {name} --file_format=array_record --data_dir=DIR`), copy DIR here "
        f"and set TFDS_DATA_DIR=DIR (now {data_dir})."
    )


@dataclasses.dataclass(frozen=True)
class TfdsSource:
    """A prepared tfds dataset split, read example by example with ``tfds`` data sources."""

    name: str  # The spec, 'tfds:NAME'.
    split: str
    image_shape: Tuple[int, int, int]
    num_classes: Optional[int]
    image_key: str
    label_key: str
    data: Sequence[Any] = dataclasses.field(repr=False, compare=False)

    @classmethod
    def open(
        cls,
        name: str,
        split: str,
        image_key: str = "image",
        label_key: str = "label",
        data_dir: Optional[str] = None,
    ) -> "TfdsSource":
        """Opens ``split`` of the prepared dataset ``name`` in ``data_dir`` (default: $TFDS_DATA_DIR)."""
        spec = f"tfds:{name}"
        if not name:
            raise DataSourceError("'tfds:' names no dataset; write tfds:NAME, e.g. tfds:mnist")
        try:
            import tensorflow_datasets as tfds
        except ImportError as e:
            raise DataSourceError(
                f'{spec} needs tensorflow-datasets, which is not installed ({e}); '
                'pip install "jaxgan[tfds]" (or tensorflow-datasets and pillow)'
            ) from e
        data_dir = data_dir or _default_data_dir()

        try:
            builder = tfds.builder(name, data_dir=data_dir, try_gcs=False)
        except tfds.core.DatasetNotFoundError as e:
            raise DataSourceError(
                f"unknown dataset {spec}: {name!r} is neither in the tfds {tfds.__version__} catalog "
                f"nor prepared in {data_dir} ({str(e).strip().splitlines()[0]})"
            ) from e
        except (ValueError, AssertionError) as e:
            raise DataSourceError(f"cannot open {spec} in {data_dir}: {e}") from e
        if not builder.is_prepared():
            raise DataSourceError(
                f"{spec} (split {split!r}) is not prepared: tfds looked in {builder.data_dir}. "
                + _how_to_prepare(name, data_dir)
            )

        features = builder.info.features
        missing = [key for key in (image_key, label_key) if key not in features]
        if missing:
            raise DataSourceError(
                f"{spec} has no feature {', '.join(map(repr, missing))}; its features are {sorted(features)}"
            )
        image_feature, label_feature = features[image_key], features[label_key]
        shape = tuple(image_feature.shape)
        if len(shape) == 2:
            shape += (1,)
        if len(shape) != 3 or image_feature.np_dtype != np.uint8:
            raise DataSourceError(
                f"{spec} feature {image_key!r} is not a uint8 image [H, W] or [H, W, C]: "
                f"shape {tuple(image_feature.shape)}, dtype {np.dtype(image_feature.np_dtype)}"
            )
        if None in shape:
            raise DataSourceError(
                f"{spec} feature {image_key!r} has images of varying size (shape {shape}); "
                "jaxgan needs a fixed-size dataset or a resize to a fixed size"
            )
        if tuple(label_feature.shape) != ():
            raise DataSourceError(
                f"{spec} feature {label_key!r} is not a scalar label (shape {tuple(label_feature.shape)})"
            )
        is_class_label = isinstance(label_feature, tfds.features.ClassLabel)
        num_classes = label_feature.num_classes if is_class_label else None

        try:
            data = builder.as_data_source(split=split)
        except NotImplementedError as e:
            raise DataSourceError(
                f"{spec} is prepared in {builder.data_dir} in a format that cannot be read by "
                f"random access ({builder.info.file_format}); it must be in ArrayRecord format. "
                + _how_to_prepare(name, data_dir)
            ) from e
        except ValueError as e:
            raise DataSourceError(
                f"cannot open split {split!r} of {spec} (its splits are {sorted(builder.info.splits)}): {e}"
            ) from e
        return cls(spec, split, shape, num_classes, image_key, label_key, data)

    def __len__(self) -> int:
        return len(self.data)

    def get(self, indices: np.ndarray) -> Dict[str, np.ndarray]:
        """Returns {'image': uint8 [n, H, W, C], 'label': int32 [n]} for the given indices."""
        keys = [int(i) for i in np.asarray(indices).reshape(-1)]
        getitems = getattr(self.data, "__getitems__", None)
        try:
            examples = getitems(keys) if getitems else [self.data[k] for k in keys]
        except ImportError as e:  # tfds decodes images with Pillow or OpenCV.
            raise DataSourceError(f"{self.name}: cannot decode images ({e}); pip install pillow") from e
        images = np.array([ex[self.image_key] for ex in examples], dtype=np.uint8)
        images = images.reshape((len(keys),) + self.image_shape)
        labels = np.array([ex[self.label_key] for ex in examples], dtype=np.int32)
        return {"image": images, "label": labels}
