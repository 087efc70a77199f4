"""folder:DIR sources: class sub-folders of your own images, and clear errors on bad files."""

import numpy as np
import pytest

from jaxgan import images
from jaxgan.data.sources import build_source
from jaxgan.errors import DataSourceError
from jaxgan.train import Trainer

from conftest import tiny_cgan

pytest.importorskip("PIL")  # folder: sources need Pillow (in the test extra).


def _write(root, cls, name, pixels):
    images.write_png(str(root / cls / name), pixels)


def _digits(root, size=8, channels=1, per_class=3):
    rng = np.random.default_rng(0)
    written = {}
    for cls in ("cat", "dog"):
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, channels), dtype=np.uint8)
            _write(root, cls, f"{i}.png", pixels)
            written[(cls, i)] = pixels
    return written


def test_reads_class_folders_in_sorted_order(tmp_path):
    written = _digits(tmp_path)
    source = build_source(f"folder:{tmp_path}")
    assert (len(source), source.num_classes, source.image_shape) == (6, 2, (8, 8, 1))
    batch = source.get(np.array([4, 0]))
    np.testing.assert_array_equal(batch["label"], [1, 0])  # 'cat' < 'dog'.
    np.testing.assert_array_equal(batch["image"][0], written[("dog", 1)])
    np.testing.assert_array_equal(batch["image"][1], written[("cat", 0)])


def test_rgb_and_split_folders(tmp_path):
    _digits(tmp_path / "train", channels=3)
    _digits(tmp_path / "test", channels=3, per_class=1)
    assert build_source(f"folder:{tmp_path}", "train").image_shape == (8, 8, 3)
    assert len(build_source(f"folder:{tmp_path}", "test")) == 2


def test_corrupt_image_is_named(tmp_path):
    _digits(tmp_path)
    (tmp_path / "dog" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(DataSourceError, match=r"cannot read image .*dog/broken.png"):
        build_source(f"folder:{tmp_path}")


def test_mixed_sizes_are_refused_with_examples(tmp_path):
    _digits(tmp_path)
    _write(tmp_path, "cat", "big.png", np.zeros((10, 12, 1), np.uint8))
    with pytest.raises(DataSourceError, match=r"different sizes \(8x8: 6 file\(s\).*12x10: 1 file\(s\), e.g. .*big.png"):
        build_source(f"folder:{tmp_path}")


@pytest.mark.parametrize("layout, message", [("missing", "no such folder"), ("empty", "no images found"),
                                             ("no_test", "has no 'test' sub-folder")])
def test_unusable_folders(tmp_path, layout, message):
    if layout == "empty":
        (tmp_path / "cat").mkdir()
    if layout == "no_test":
        _digits(tmp_path)
    directory = tmp_path / "nope" if layout == "missing" else tmp_path
    with pytest.raises(DataSourceError, match=message):
        build_source(f"folder:{directory}", "test" if layout == "no_test" else "train")


def test_trains_on_a_folder(tmp_path):
    _digits(tmp_path / "data", per_class=4)
    config = tiny_cgan("dcgan")
    config.data.source = f"folder:{tmp_path / 'data'}"
    config.train.batch_size = 8
    metrics = Trainer(config, str(tmp_path / "run")).train_steps(2)
    assert np.isfinite(float(metrics["d/loss"])) and np.isfinite(float(metrics["g/loss"]))
