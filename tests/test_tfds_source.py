"""tfds: sources, read from tiny datasets prepared offline by tfds's own builder (no TensorFlow)."""

import io
import json
import shutil
import socket
import sys

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")
PIL_Image = pytest.importorskip("PIL.Image")

from jaxgan.data.mnist import DataSourceError, load_mnist  # noqa: E402
from jaxgan.data.sources import build_source  # noqa: E402
from jaxgan.data.tfds_source import TfdsSource  # noqa: E402

N_TRAIN, N_TEST = 32, 8


def _png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image; tfds would need TensorFlow to encode numpy images itself."""
    out = io.BytesIO()
    PIL_Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(out, format="png")
    return out.getvalue()


def _prepare(data_dir, dataset_name, version, features, splits) -> None:
    """Writes a real prepared tfds dataset (ArrayRecord files, examples in order) to data_dir."""

    class Builder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
        name = dataset_name
        VERSION = version

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=features, disable_shuffling=True)

        def _split_generators(self, dl_manager):
            return {split: self._generate_examples(examples) for split, examples in splits.items()}

        def _generate_examples(self, examples):
            yield from enumerate(examples)

    Builder(data_dir=str(data_dir), file_format="array_record").download_and_prepare()


def _mnist_examples(split: str, n: int):
    images, labels = load_mnist(split)
    return [{"image": _png(images[i][..., None]), "label": int(labels[i])} for i in range(n)]


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """A TFDS data dir holding a small 'mnist' (the first builtin MNIST examples) and 'jaxgan_test_photos'."""
    data_dir = tmp_path_factory.mktemp("tfds")
    mnist_features = tfds.features.FeaturesDict(
        {"image": tfds.features.Image(shape=(28, 28, 1)), "label": tfds.features.ClassLabel(num_classes=10)}
    )
    splits = {"train": _mnist_examples("train", N_TRAIN), "test": _mnist_examples("test", N_TEST)}
    _prepare(data_dir, "mnist", tfds.builder_cls("mnist").VERSION, mnist_features, splits)

    photo_features = tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(shape=(4, 4, 3)),
            "photo": tfds.features.Image(shape=(None, None, 3)),
            "label": tfds.features.Scalar(dtype=np.int64),
        }
    )
    rng = np.random.default_rng(0)
    photos = [
        {
            "image": _png(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)),
            "photo": _png(rng.integers(0, 256, (5 + i, 6, 3), dtype=np.uint8)),
            "label": 100 + i,
        }
        for i in range(3)
    ]
    _prepare(data_dir, "jaxgan_test_photos", "1.0.0", photo_features, {"train": photos})
    return data_dir


def test_mnist_through_build_source(tfds_dir, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tfds_dir))
    source = build_source("tfds:mnist", "train")
    assert len(source) == N_TRAIN
    assert source.image_shape == (28, 28, 1)
    assert source.num_classes == 10

    indices = np.array([3, 0, N_TRAIN - 1, 3])
    batch = source.get(indices)
    assert batch["image"].dtype == np.uint8 and batch["image"].shape == (4, 28, 28, 1)
    assert batch["label"].dtype == np.int32 and batch["label"].shape == (4,)
    assert ((batch["label"] >= 0) & (batch["label"] < 10)).all()
    images, labels = load_mnist("train")
    np.testing.assert_array_equal(batch["image"][..., 0], images[indices])
    np.testing.assert_array_equal(batch["label"], labels[indices])

    again = source.get(indices)
    np.testing.assert_array_equal(again["image"], batch["image"])
    np.testing.assert_array_equal(again["label"], batch["label"])

    empty = source.get(np.zeros([0], np.int64))
    assert empty["image"].shape == (0, 28, 28, 1) and empty["label"].shape == (0,)
    assert len(build_source("tfds:mnist", "test")) == N_TEST


def test_unknown_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with pytest.raises(DataSourceError, match="no_such_dataset_xyz"):
        build_source("tfds:no_such_dataset_xyz")
    with pytest.raises(DataSourceError, match="names no dataset"):
        build_source("tfds:")


def test_unprepared_dataset_fails_without_network(tmp_path, monkeypatch):
    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with pytest.raises(DataSourceError) as error:
        build_source("tfds:mnist", "train")
    message = str(error.value)
    assert "tfds:mnist" in message and str(tmp_path) in message and "tfds build mnist" in message
    assert attempts == []


def test_missing_split_names_the_available_ones(tfds_dir):
    with pytest.raises(DataSourceError, match=r"'validation'.*\['test', 'train'\]"):
        TfdsSource.open("mnist", "validation", data_dir=str(tfds_dir))


def test_missing_feature_names_the_available_ones(tfds_dir):
    with pytest.raises(DataSourceError, match=r"'pixels'.*\['image', 'label'\]"):
        TfdsSource.open("mnist", "train", image_key="pixels", data_dir=str(tfds_dir))


def test_rgb_images_and_plain_integer_labels(tfds_dir):
    source = TfdsSource.open("jaxgan_test_photos", "train", data_dir=str(tfds_dir))
    assert source.image_shape == (4, 4, 3)
    assert source.num_classes is None
    batch = source.get(np.array([2, 0]))
    assert batch["image"].dtype == np.uint8 and batch["image"].shape == (2, 4, 4, 3)
    assert batch["label"].dtype == np.int32
    np.testing.assert_array_equal(batch["label"], [102, 100])


def test_data_source_without_getitems():
    images = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    data = [{"image": image, "label": i} for i, image in enumerate(images)]
    source = TfdsSource("tfds:plain", "train", (2, 2, 1), None, "image", "label", data)
    batch = source.get(np.array([2, 1]))
    np.testing.assert_array_equal(batch["image"], images[[2, 1], ..., None])
    np.testing.assert_array_equal(batch["label"], np.array([2, 1], np.int32))


def test_variable_size_images_are_refused(tfds_dir):
    with pytest.raises(DataSourceError, match="fixed-size"):
        TfdsSource.open("jaxgan_test_photos", "train", image_key="photo", data_dir=str(tfds_dir))


def test_non_random_access_format_is_refused(tfds_dir, tmp_path):
    shutil.copytree(tfds_dir / "mnist", tmp_path / "mnist")
    (info_path,) = tmp_path.glob("mnist/*/dataset_info.json")
    info = json.loads(info_path.read_text())
    info["fileFormat"] = "tfrecord"
    info_path.write_text(json.dumps(info))
    with pytest.raises(DataSourceError, match="ArrayRecord.*--file_format=array_record"):
        TfdsSource.open("mnist", "train", data_dir=str(tmp_path))


def test_missing_tensorflow_datasets(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    with pytest.raises(DataSourceError, match=r'pip install "jaxgan\[tfds\]"'):
        build_source("tfds:mnist")


def test_missing_image_decoder(tfds_dir, monkeypatch):
    from tensorflow_datasets.core.features import image_feature

    source = TfdsSource.open("mnist", "train", data_dir=str(tfds_dir))
    monkeypatch.setattr(image_feature, "PIL_Image", None)
    monkeypatch.setattr(image_feature, "cv2", None)
    with pytest.raises(DataSourceError, match="pip install pillow"):
        source.get(np.array([0]))
