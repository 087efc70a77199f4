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
    config.data.split = "train"  # The config's train[:50000] is for MNIST.
    with pytest.raises(ConfigError, match=r"method 'cgan' needs labelled data; source 'paired:.*' has no class labels"):
        Trainer(config, str(tmp_path / "run"))


def test_direction_b_to_a_swaps_input_and_target(tmp_path):
    written = _pairs(tmp_path)
    batch = build_source(f"paired:{tmp_path}", direction="BtoA").get(np.array([1]))
    np.testing.assert_array_equal(batch["image_a"][0], written[1, :, 6:])
    np.testing.assert_array_equal(batch["image_b"][0], written[1, :, :6])
    with pytest.raises(DataSourceError, match=r"data.direction='BtoA' swaps .* 'builtin:mnist' has no such pair"):
        build_source("builtin:mnist", "test", direction="BtoA")


def _image(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    images.write_png(str(path), pixels)


def _aligned(root, names=("x", "y", "z"), split="", size=16, b_size=None, ext_b=".png"):
    """A/<split>/<name>.png and B/<split>/<name><ext_b>; returns the written (A, B) pixels by name."""
    rng, written = np.random.default_rng(0), {}
    for name in names:
        a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        b = rng.integers(0, 256, (b_size or size, b_size or size, 3), dtype=np.uint8)
        _image(root / "A" / split / f"{name}.png", a)
        _image(root / "B" / split / f"{name}{ext_b}", b)
        written[name] = (a, b)
    return written


def test_aligned_folders_pair_files_by_name(tmp_path):
    written = _aligned(tmp_path, ext_b=".bmp")  # Extensions may differ; names pair.
    source = build_source(f"aligned:{tmp_path}")
    assert (len(source), source.image_shape, source.num_classes) == (3, (16, 16, 3), None)
    batch = source.get(np.array([2, 0]))  # Sorted by name: x, y, z.
    np.testing.assert_array_equal(batch["image_a"], [written["z"][0], written["x"][0]])
    np.testing.assert_array_equal(batch["image_b"], [written["z"][1], written["x"][1]])
    swapped = build_source(f"aligned:{tmp_path}", direction="BtoA").get(np.array([1]))
    np.testing.assert_array_equal(swapped["image_a"][0], written["y"][1])
    pipe = Pipeline(source, global_batch_size=2, seed=0)
    assert pipe.local_batch(0)["image_a"].dtype == np.float32


def test_aligned_split_folders(tmp_path):
    _aligned(tmp_path, split="train")
    written = _aligned(tmp_path, names=("t",), split="test")
    assert len(build_source(f"aligned:{tmp_path}", "train")) == 3
    np.testing.assert_array_equal(build_source(f"aligned:{tmp_path}", "test").get(np.array([0]))["image_b"][0],
                                  written["t"][1])


def test_aligned_unmatched_names_are_listed(tmp_path):
    _aligned(tmp_path)
    for extra in ("p", "q", "r", "s"):
        _image(tmp_path / "A" / f"{extra}.png", np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(DataSourceError, match=r"aligned:.*: 4 file\(s\) have no file of the same name \(extension "
                                              r"aside\) in .*/B, e.g. .*/A/p.png, .*/A/q.png, .*/A/r.png; add"):
        build_source(f"aligned:{tmp_path}")


@pytest.mark.parametrize("layout, message", [
    ("sizes", r"aligned:.*: the images of the folders differ in size \(.*/A: 16x16, .*/B: 8x8\); .*resize one"),
    ("no_b", r"aligned:.*: no folder .*/B; the layout is"),
    ("empty", r"aligned:.*: no images found in .*/A"),
])
def test_aligned_errors_name_the_folder(tmp_path, layout, message):
    if layout == "sizes":
        _aligned(tmp_path, b_size=8)
    elif layout == "no_b":
        _image(tmp_path / "A" / "x.png", np.zeros((16, 16, 3), np.uint8))
    else:
        (tmp_path / "A").mkdir()
        _image(tmp_path / "B" / "x.png", np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(DataSourceError, match=message):
        build_source(f"aligned:{tmp_path}")


CLASSES = "sky\nroad\ncar\nperson\n"


def _labelmaps(root, n=3, classes=CLASSES, instances=True, max_id=4):
    """labels/<i>.png (8-bit ids < max_id), images/<i>.png targets, instances/<i>.png (16-bit ids)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    if classes is not None:
        (root / "classes.txt").write_text(classes)
    written = []
    for i in range(n):
        label = rng.integers(0, max_id, (16, 16), dtype=np.uint8)
        target = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        instance = (label.astype(np.int32) * 1000 + rng.integers(0, 3, (16, 16))).astype(np.uint16)
        _image(root / "labels" / f"{i}.png", label[..., None])
        _image(root / "images" / f"{i}.png", target)
        if instances:
            (root / "instances").mkdir(exist_ok=True)
            Image.fromarray(instance).save(root / "instances" / f"{i}.png")  # 16-bit, as Cityscapes' instanceIds.
        written.append((label, target, instance))
    return written


def test_labelmap_folders(tmp_path):
    written = _labelmaps(tmp_path)
    source = build_source(f"labelmap:{tmp_path}")
    assert (len(source), source.image_shape, source.num_label_classes) == (3, (16, 16, 3), 4)
    assert source.classes == ("sky", "road", "car", "person")
    batch = source.get(np.array([2, 1]))
    assert set(batch) == {"label_map", "image_b", "instance_map"}
    assert batch["label_map"].dtype == batch["instance_map"].dtype == np.int32
    np.testing.assert_array_equal(batch["label_map"], [written[2][0], written[1][0]])
    np.testing.assert_array_equal(batch["image_b"], [written[2][1], written[1][1]])
    np.testing.assert_array_equal(batch["instance_map"], [written[2][2], written[1][2]])
    piped = Pipeline(source, global_batch_size=2, seed=0).local_batch(0)
    assert piped["label_map"].dtype == np.int32 and piped["image_b"].dtype == np.float32
    _labelmaps(tmp_path / "plain", instances=False)  # The instances folder is optional.
    assert set(build_source(f"labelmap:{tmp_path / 'plain'}").get(np.array([0]))) == {"label_map", "image_b"}


def test_labelmap_id_outside_the_classes_names_the_file_and_the_id(tmp_path):
    _labelmaps(tmp_path, max_id=4)
    _image(tmp_path / "labels" / "1.png", np.full((16, 16, 1), 7, np.uint8))
    source = build_source(f"labelmap:{tmp_path}")
    source.get(np.array([0, 2]))  # The good maps read.
    with pytest.raises(DataSourceError, match=r"labelmap:.*: .*/labels/1.png holds class id 7, outside the 4 "
                                              r"classes \(ids 0..3\) of its classes.txt"):
        source.get(np.array([0, 1]))


@pytest.mark.parametrize("problem, message", [
    ("no_classes", r"labelmap:.*: no .*/classes.txt; write the class names there, one per line"),
    ("blank_class", r"classes.txt has a blank line 2; give every class id a name"),
    ("unmatched", r"1 file\(s\) have no file of the same name .* in .*/images, e.g. .*/labels/extra.png"),
    ("colour_map", r"labelmap:.*: .*/labels/0.png is a 'RGB' image; label maps must be single-channel ids"),
])
def test_labelmap_errors(tmp_path, problem, message):
    _labelmaps(tmp_path, classes=None if problem == "no_classes" else
               ("sky\n\nroad\n" if problem == "blank_class" else CLASSES))
    if problem == "unmatched":
        _image(tmp_path / "labels" / "extra.png", np.zeros((16, 16, 1), np.uint8))
    if problem == "colour_map":
        _image(tmp_path / "labels" / "0.png", np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(DataSourceError, match=message):
        build_source(f"labelmap:{tmp_path}").get(np.array([0]))
