"""paired:DIR sources: pix2pix's A|B files split into two images, and clear errors on bad files."""

import numpy as np
import pytest

from jaxgan import images
from jaxgan.data.pipeline import Pipeline, summarize_batch
from jaxgan.data.sources import build_source
from jaxgan.errors import ConfigError, DataSourceError
from jaxgan.train import Trainer

from conftest import tiny_cgan

pytest.importorskip("PIL")  # paired: sources need Pillow (in the test extra).


def _pairs(root, n=4, height=8, width=12, channels=3, seed=0):
    """``n`` random A|B files ``root/<i>.png``; returns their pixels [n, height, width, channels]."""
    pixels = np.random.default_rng(seed).integers(0, 256, (n, height, width, channels), dtype=np.uint8)
    root.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(pixels):
        images.write_png(str(root / f"{i}.png"), image)
    return pixels


def test_splits_each_file_into_a_left_and_b_right(tmp_path):
    written = _pairs(tmp_path)
    source = build_source(f"paired:{tmp_path}")
    assert (len(source), source.num_classes, source.image_shape) == (4, None, (8, 6, 3))
    batch = source.get(np.array([2, 0]))
    assert set(batch) == {"image_a", "image_b"}
    assert batch["image_a"].shape == batch["image_b"].shape == (2, 8, 6, 3)
    assert batch["image_a"].dtype == batch["image_b"].dtype == np.uint8
    np.testing.assert_array_equal(batch["image_a"], written[[2, 0], :, :6])
    np.testing.assert_array_equal(batch["image_b"], written[[2, 0], :, 6:])


def test_grayscale_pairs(tmp_path):
    written = _pairs(tmp_path, channels=1)
    source = build_source(f"paired:{tmp_path}")
    assert source.image_shape == (8, 6, 1)
    np.testing.assert_array_equal(source.get(np.array([1]))["image_b"][0], written[1, :, 6:])


def test_split_folders(tmp_path):
    _pairs(tmp_path / "train", n=4)
    test = _pairs(tmp_path / "test", n=2, seed=1)
    assert len(build_source(f"paired:{tmp_path}", "train")) == 4
    source = build_source(f"paired:{tmp_path}", "test")
    np.testing.assert_array_equal(source.get(np.array([1]))["image_a"][0], test[1, :, :6])
    with pytest.raises(DataSourceError, match="has no 'validation' sub-folder"):
        build_source(f"paired:{tmp_path}", "validation")


@pytest.mark.parametrize("evens", [0, 3], ids=["all_odd", "one_odd_among_even"])
def test_odd_width_is_named_with_the_fix(tmp_path, evens):
    _pairs(tmp_path, n=evens)
    images.write_png(str(tmp_path / "odd.png"), np.zeros((8, 13, 3), np.uint8))
    with pytest.raises(DataSourceError, match=r"paired:.*: .*/odd.png is 13 pixels wide; .*A on its left half "
                                              r"and B on its right half.*width must be even: crop or pad"):
        build_source(f"paired:{tmp_path}")


def test_unreadable_files_mixed_sizes_and_empty_folders_as_for_folders(tmp_path):
    _pairs(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(DataSourceError, match=r"cannot read image .*/broken.png"):
        build_source(f"paired:{tmp_path}")
    source = build_source(f"paired:{tmp_path}", on_corrupt="skip")
    assert len(source) == 4 and source.skipped == (str(tmp_path / "broken.png"),)
    (tmp_path / "broken.png").unlink()
    images.write_png(str(tmp_path / "big.png"), np.zeros((10, 12, 3), np.uint8))
    with pytest.raises(DataSourceError, match=r"different sizes \(12x8: 4 file\(s\).*12x10: 1 file\(s\), e.g. .*big"):
        build_source(f"paired:{tmp_path}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSourceError, match="no images found"):
        build_source(f"paired:{tmp_path / 'empty'}")


def test_batches_are_floats_in_minus_one_one_for_both_images(tmp_path):
    written = _pairs(tmp_path, n=6)
    pipeline = Pipeline(build_source(f"paired:{tmp_path}"), global_batch_size=4, seed=0)
    batch, indices = pipeline.local_batch(1), pipeline.global_indices(1)
    assert set(batch) == {"image_a", "image_b"}  # No labels to check or to carry.
    for key, half in (("image_a", slice(None, 6)), ("image_b", slice(6, None))):
        assert batch[key].dtype == np.float32 and batch[key].shape == (4, 8, 6, 3)
        assert -1.0 <= batch[key].min() and batch[key].max() <= 1.0
        np.testing.assert_allclose(batch[key], written[indices][:, :, half] / 127.5 - 1.0, atol=1e-6)
    assert set(summarize_batch(batch, None)) == {"image_a", "image_b"}


def test_processes_read_disjoint_shares_of_a_paired_batch(tmp_path):
    _pairs(tmp_path, n=6)
    source = build_source(f"paired:{tmp_path}")
    shares = [Pipeline(source, global_batch_size=4, seed=3, process_index=p, process_count=2).local_batch(2)
              for p in range(2)]
    whole = Pipeline(source, global_batch_size=4, seed=3).local_batch(2)
    for key in ("image_a", "image_b"):
        np.testing.assert_array_equal(np.concatenate([s[key] for s in shares]), whole[key])


def test_label_conditional_method_refuses_a_paired_source(tmp_path):
    _pairs(tmp_path / "data")
    config = tiny_cgan("mlp")
    config.data.source = f"paired:{tmp_path / 'data'}"
    with pytest.raises(ConfigError, match=r"method 'cgan' needs labelled data; source 'paired:.*' has no class labels"):
        Trainer(config, str(tmp_path / "run"))
