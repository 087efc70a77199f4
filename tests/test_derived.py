"""Tests of jaxgan.data.derived: the builtin:mnist/NAME tasks and domains."""

import numpy as np
import pytest

from jaxgan.data import derived, mnist
from jaxgan.data.pipeline import to_float_image
from jaxgan.data.sources import build_source
from jaxgan.errors import DataSourceError

INDICES = np.array([0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765,
                    9999, 123, 456, 789, 1011, 1213, 1415, 1617, 1819, 2021, 2223, 2425])
G, RGB = (28, 28, 1), (28, 28, 3)
# name: {key: (per-example shape, dtype)}, image_shape, input_shape, num_classes
EXPECTED = {
    "edges2digit": ({"image_a": (G, np.uint8), "image_b": (G, np.uint8), "label": ((), np.int32)}, G, G, 10),
    "sr4x": ({"image_a": ((7, 7, 1), np.uint8), "image_b": (G, np.uint8), "label": ((), np.int32)},
             G, (7, 7, 1), 10),
    **{f"inpaint_{kind}": ({"image_a": (G, np.uint8), "image_b": (G, np.uint8), "mask": (G, np.float32),
                            "label": ((), np.int32)}, G, G, 10) for kind in ("center", "block", "region")},
    "scenes": ({"label_map": ((64, 64), np.int32), "instance_map": ((64, 64), np.int32),
                "image_b": ((64, 64, 3), np.uint8)}, (64, 64, 3), None, None),
    **{name: ({"image": (G, np.uint8), "label": ((), np.int32)}, G, None, 10)
       for name in ("plain", "negative", "edges", "grey_edges", "thick_slanted")},
    **{name: ({"image": (RGB, np.uint8), "label": ((), np.int32)}, RGB, None, 10) for name in ("plain_rgb", "coloured")},
    "attributes": ({"image": (RGB, np.uint8), "label": ((), np.int32), "attributes": ((4,), np.float32)},
                   RGB, None, 10),
    "attributes2": ({"image": (RGB, np.uint8), "label": ((), np.int32), "attributes": ((3,), np.float32)},
                    RGB, None, 10),
    "attribute_thick_slanted": ({"image": (G, np.uint8), "label": ((), np.int32), "attributes": ((1,), np.float32)},
                                G, None, 10),
    "attribute_coloured": ({"image": (RGB, np.uint8), "label": ((), np.int32), "attributes": ((1,), np.float32)},
                           RGB, None, 10),
}


@pytest.fixture(scope="module")
def raw():
    return {split: mnist.load_mnist(split) for split in ("train", "test")}


def get(name, indices=INDICES, split="train"):
    return build_source(f"builtin:mnist/{name}", split).get(np.asarray(indices))


def test_every_task_is_listed_and_tested():
    assert set(derived.TASKS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_keys_shapes_dtypes_and_description(name, raw):
    keys, image_shape, input_shape, num_classes = EXPECTED[name]
    for split in ("train", "test"):
        source = build_source(f"builtin:mnist/{name}", split)
        assert source.name == f"builtin:mnist/{name}"
        assert len(source) == len(raw[split][1])
        assert source.image_shape == image_shape and source.input_shape == input_shape
        assert source.num_classes == num_classes
        example = source.get(INDICES[:7])
        assert set(example) == set(keys)
        for key, (shape, dtype) in keys.items():
            assert example[key].shape == (7, *shape) and example[key].dtype == dtype, key
        assert {key: value.shape[1:] for key, value in source.get(np.array([], int)).items()} == {
            key: shape for key, (shape, _) in keys.items()}
        if "label" in example:
            np.testing.assert_array_equal(example["label"], raw[split][1][INDICES[:7]])
    assert source.label_classes == (11 if name == "scenes" else None)
    assert source.attribute_names == {"attributes": ("thick", "slanted", "coloured", "negative"),
                                      "attributes2": ("rotated_90", "small", "noisy"),
                                      "attribute_thick_slanted": ("thick_slanted",),
                                      "attribute_coloured": ("coloured",)}.get(name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_an_example_depends_only_on_split_and_index(name):
    first = get(name)
    again = build_source(f"builtin:mnist/{name}", "train").get(INDICES[::-1][:5])  # Other batch, order.
    test = get(name, split="test")
    main = "image" if "image" in first else "image_b"
    for key in first:
        np.testing.assert_array_equal(again[key], first[key][::-1][:5])
    images = first[main].reshape(len(INDICES), -1)
    assert len(np.unique(images, axis=0)) == len(INDICES)  # Different indices differ.
    assert not np.array_equal(test[main], first[main])  # So do the splits.


def test_unknown_task_and_split():
    with pytest.raises(DataSourceError, match="builtin:mnist/edges2digit.*builtin:mnist/attributes2"):
        build_source("builtin:mnist/nope")
    with pytest.raises(DataSourceError, match="'train' and 'test'"):
        build_source("builtin:mnist/sr4x", "validation")
    with pytest.raises(DataSourceError, match=r"indices must be in \[0, 10000\)"):
        build_source("builtin:mnist/sr4x", "test").get(np.array([10000]))


def test_edges_of_a_filled_square():
    square = np.zeros((1, 8, 8), np.uint8)
    square[0, 2:6, 2:6] = 255
    square[0, 0, 7] = 127  # Not stroke (the threshold is > 127): no outline around it.
    expected = np.zeros((8, 8), np.uint8)
    expected[1:7, 1:7] = 255
    expected[2:6, 2:6] = 0  # The interior (the square itself) is not an edge.
    np.testing.assert_array_equal(derived.edges(square)[0], expected)


def test_grey_edges_by_hand():
    """A stroke border 100, 255 at the centre of a 3x4 image of zeros: every pixel in reach of the 255 gets
    255 - itself (155 on the 100, 0 on the 255 itself); column 0 reaches only the 100, so it gets 100."""
    row = np.zeros((1, 3, 4), np.uint8)
    row[0, 1, 1:3] = [100, 255]
    expected = np.array([[100, 255, 255, 255], [100, 155, 0, 255], [100, 255, 255, 255]], np.uint8)
    np.testing.assert_array_equal(derived.grey_edges(row)[0], expected)
    np.testing.assert_array_equal(get("grey_edges")["image"][..., 0], derived.grey_edges(get("plain")["image"][..., 0]))


def test_dilate_and_shear_known_answers():
    dot = np.zeros((1, 5, 5), np.uint8)
    dot[0, 2, 2] = 9
    expected = np.zeros((5, 5), np.uint8)
    expected[1:4, 1:4] = 9
    np.testing.assert_array_equal(derived.dilate(dot, 1)[0], expected)
    # A vertical line at column 1 of a 4x4 image, shear 1: rows move 1.5, 0.5, -0.5, -1.5 pixels.
    line = np.zeros((1, 4, 4), np.uint8)
    line[0, :, 1] = 200
    np.testing.assert_array_equal(derived.shear(line, 1.0)[0], [[0, 0, 100, 100], [0, 100, 100, 0],
                                                               [100, 100, 0, 0], [100, 0, 0, 0]])


def test_box_downsample_rounds_half_up():
    block = np.zeros((1, 4, 4), np.uint8)
    block[0, :2, :2] = [[1, 0], [1, 0]]  # mean 0.5 -> 1
    block[0, 2:, 2:] = [[1, 1], [1, 2]]  # mean 1.25 -> 1
    block[0, :2, 2:] = 255
    np.testing.assert_array_equal(derived.box_downsample(block, 2)[0], [[1, 255], [0, 1]])


def test_paired_digit_tasks(raw):
    digits = raw["train"][0][INDICES]
    edges2digit, sr4x = get("edges2digit"), get("sr4x")
    for example in (edges2digit, sr4x):
        np.testing.assert_array_equal(example["image_b"][..., 0], digits)
    np.testing.assert_array_equal(edges2digit["image_a"][..., 0], derived.edges(digits))
    block_mean = digits.reshape(-1, 7, 4, 7, 4).astype(np.float64).mean(axis=(2, 4))
    np.testing.assert_array_equal(sr4x["image_a"][..., 0], np.floor(block_mean + 0.5))
    np.testing.assert_array_equal(get("edges")["image"], edges2digit["image_a"])


@pytest.mark.parametrize("kind", ["center", "block", "region"])
def test_inpainting(kind):
    example = get(f"inpaint_{kind}")
    hole = example["mask"][..., 0] == 1
    assert set(np.unique(example["mask"])) <= {0.0, 1.0}
    inputs, targets = example["image_a"][..., 0], example["image_b"][..., 0]
    np.testing.assert_array_equal(inputs[~hole], targets[~hole])
    assert (inputs[hole] == 128).all() and (targets[hole] != 128).any()
    assert abs(to_float_image(np.uint8(128))) < 0.005  # The fill is (nearly) 0 in [-1, 1].
    area = hole.mean(axis=(1, 2))
    if kind == "center":
        expected = np.zeros((28, 28), bool)
        expected[7:21, 7:21] = True
        assert (hole == expected).all()
    elif kind == "block":
        assert (area * 784 == 196).all()
        rows, cols = hole.any(axis=2), hole.any(axis=1)
        assert (rows.sum(axis=1) == 14).all() and (cols.sum(axis=1) == 14).all()  # One 14x14 square ...
        assert len({(r.argmax(), c.argmax()) for r, c in zip(rows, cols)}) > 10  # ... at random places.
    else:
        assert (area >= 0.25).all() and (area < 0.5).all()
        assert len(np.unique(hole.reshape(len(hole), -1), axis=0)) == len(hole)


def test_scenes_maps_follow_the_digits(raw):
    images, labels = raw["train"]
    example = get("scenes")
    label_map, instance_map = example["label_map"], example["instance_map"]
    assert label_map.min() >= 0 and label_map.max() < 11
    mnist_index, corners, count = derived.scene_layout("train", INDICES)
    assert set(count) == {2, 3, 4}
    for s in range(len(INDICES)):
        expected_label = np.zeros((64, 64), np.int32)
        expected_instance = np.zeros((64, 64), np.int32)
        for j in range(count[s]):
            (r, c), digit = corners[s, j], images[mnist_index[s, j]]
            box = (slice(r, r + 28), slice(c, c + 28))
            assert not expected_label[box][digit > 127].any()  # Digits do not overlap.
            expected_label[box][digit > 127] = 1 + labels[mnist_index[s, j]]
            expected_instance[box][digit > 127] = j + 1
        np.testing.assert_array_equal(label_map[s], expected_label)
        np.testing.assert_array_equal(instance_map[s], expected_instance)
    assert (mnist_index[:, 0] == INDICES).all()


def test_scenes_draw_each_digit_in_its_class_colour():
    example = get("scenes")
    image = example["image_b"].astype(np.float64)
    chroma = derived.CLASS_COLOURS / derived.CLASS_COLOURS.sum(axis=1, keepdims=True)
    for s in range(len(INDICES)):
        for instance in range(1, 5):
            pixels = example["instance_map"][s] == instance
            if not pixels.any():
                continue
            classes = np.unique(example["label_map"][s][pixels])
            assert len(classes) == 1  # One class per instance.
            colour = image[s][pixels].mean(axis=0)
            nearest = np.argmin(np.abs(chroma - colour / colour.sum()).sum(axis=1))
            assert nearest == classes[0] - 1
        background = image[s][~derived.dilate(example["label_map"][s:s + 1] > 0, 2)[0]]  # Away from digits.
        assert background.max() <= 0.35 * 255 + 1 and background.std() > 2  # Dark and textured.


def test_domains_are_maps_of_the_plain_digit(raw):
    digits = raw["train"][0][INDICES]
    plain = get("plain")["image"]
    np.testing.assert_array_equal(plain[..., 0], digits)
    np.testing.assert_array_equal(plain, build_source("builtin:mnist").get(INDICES)["image"])
    np.testing.assert_array_equal(get("negative")["image"], 255 - plain)
    np.testing.assert_array_equal(get("plain_rgb")["image"], np.repeat(plain, 3, axis=-1))
    coloured = get("coloured")["image"].astype(np.int32)
    assert (np.abs(np.diff(coloured, axis=-1)).max(axis=(1, 2, 3)) > 60).all()  # Coloured, not grey.
    stroke, background = digits > 127, digits == 0
    for c, s, b in zip(coloured, stroke, background):  # The digit is brighter than its background.
        assert c[s].max(axis=-1).mean() > c[b].max(axis=-1).mean() + 80


def test_thick_slanted_is_dilated_and_sheared(raw):
    digits = raw["train"][0][INDICES]
    out = get("thick_slanted")["image"][..., 0]
    assert ((out > 127).sum(axis=(1, 2)) > 1.3 * (digits > 127).sum(axis=(1, 2))).all()

    def row_centroids(images):  # Column centroid of each row with ink, NaN elsewhere.
        mass = images.astype(np.float64).sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (images * np.arange(28)).sum(axis=2) / np.where(mass > 0, mass, np.nan)

    shift = row_centroids(out) - row_centroids(digits)  # [n, 28]
    rows = np.broadcast_to(np.arange(28), shift.shape)
    ok = np.isfinite(shift)
    slope = np.polyfit(rows[ok], shift[ok], 1)[0]
    assert slope == pytest.approx(-derived.SHEAR, abs=0.05)  # x' = x + SHEAR (13.5 - y).


def test_attributes_render_exactly_their_vector(raw):
    digits = raw["train"][0][INDICES]
    example = get("attributes")
    on = example["attributes"].astype(bool)
    assert set(np.unique(example["attributes"])) == {0.0, 1.0}
    assert 0.2 < on.mean(axis=0).min() and on.mean(axis=0).max() < 0.8  # Each attribute varies.
    thick, slanted, coloured, negative = on.T
    image = example["image"].astype(np.int32)
    assert ((image.mean(axis=(1, 2, 3)) > 127) == negative).all()
    channels_differ = np.abs(np.diff(image, axis=-1)).max(axis=(1, 2, 3)) > 0
    assert (channels_differ == coloured).all()
    for i in np.flatnonzero(~coloured):  # Grey ones: exactly the plain digit with those operations.
        expected = digits[i:i + 1]
        expected = derived.dilate(expected) if thick[i] else expected
        expected = derived.shear(expected) if slanted[i] else expected
        expected = 255 - expected if negative[i] else expected
        np.testing.assert_array_equal(example["image"][i], np.repeat(expected[0][..., None], 3, axis=-1))


def test_attributes2_render_exactly_their_vector(raw):
    digits = raw["train"][0][INDICES]
    example = get("attributes2")
    on = example["attributes"].astype(bool)
    assert 0.2 < on.mean(axis=0).min() and on.mean(axis=0).max() < 0.8
    rotated, small, noisy = on.T
    for i in range(len(INDICES)):
        expected = digits[i]
        if small[i]:
            expected = np.zeros_like(expected)
            expected[7:21, 7:21] = derived.box_downsample(digits[i:i + 1], 2)[0]
        expected = np.rot90(expected) if rotated[i] else expected
        difference = example["image"][i].astype(np.float64) - expected[..., None]
        if noisy[i]:
            # Where the digit is 0 the noise is clipped below: a half-normal, std 0.58 * 48 = 28.
            assert 22 < difference[expected == 0].std() < 34
        else:
            assert (difference == 0).all()


@pytest.mark.parametrize("name", ["thick_slanted", "coloured"])
def test_one_attribute_tasks_render_one_of_the_two_domains(name, raw):
    """Each example is the plain digit (attribute 0) or the derived domain's rendering of it (1)."""
    digits = raw["train"][0][INDICES]
    example = get(f"attribute_{name}")
    on = example["attributes"][:, 0].astype(bool)
    assert 0.2 < on.mean() < 0.8
    image = example["image"]
    if name == "thick_slanted":
        np.testing.assert_array_equal(image[~on, ..., 0], digits[~on])
        np.testing.assert_array_equal(image[on, ..., 0], derived.shear(derived.dilate(digits[on])))
    else:
        np.testing.assert_array_equal(image[~on], np.repeat(digits[~on][..., None], 3, axis=-1))
        channels_differ = np.abs(np.diff(image.astype(np.int32), axis=-1)).max(axis=(1, 2, 3)) > 0
        assert channels_differ[on].all()
        coloured_digit = image[on].astype(np.float64)  # Bright digit over a dark background: it follows the strokes.
        strokes = digits[on] > 200
        assert (coloured_digit.max(-1)[strokes].mean() > coloured_digit.max(-1)[digits[on] == 0].mean() + 60)
