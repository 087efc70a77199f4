"""jaxgan.data.transforms: resize / random crop / flip drawn from (seed, step, position), identical on
every image of an example, the same whatever the process split, wired into the Pipeline."""

import dataclasses

import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.transforms import ResizeAndCrop
from jaxgan.errors import ConfigError

PIL = pytest.importorskip("PIL.Image")


@dataclasses.dataclass(frozen=True)
class PairSource:
    """In-memory pairs whose target is the input plus 7 (so any crop/flip mismatch shows)."""

    images: np.ndarray  # uint8 [N, H, W, C], values <= 248.
    name: str = "pairs"
    num_classes = None

    @property
    def image_shape(self):
        return self.images.shape[1:]

    def __len__(self):
        return len(self.images)

    def get(self, indices):
        return {"image_a": self.images[indices], "image_b": self.images[indices] + 7}


def _pairs(n=6, size=16, channels=3):
    return PairSource(np.random.default_rng(0).integers(0, 249, (n, size, size, channels), dtype=np.uint8))


def test_default_is_the_identity():
    example = {"image_a": np.zeros((2, 4, 4, 3), np.uint8)}
    assert ResizeAndCrop().is_identity
    assert ResizeAndCrop()(example, seed=0, step=0, positions=[0, 1]) is example


def test_crop_and_flip_are_the_drawn_ones_and_the_same_on_both_halves_of_a_pair():
    transform = ResizeAndCrop(crop_size=8, flip=True)
    images = _pairs(n=16).images
    out = transform({"image_a": images, "image_b": images + 7}, seed=3, step=5, positions=range(16))
    assert out["image_a"].shape == out["image_b"].shape == (16, 8, 8, 3)
    np.testing.assert_array_equal(out["image_b"], out["image_a"] + 7)
    draws = [transform.draw(16, 16, seed=3, step=5, position=j) for j in range(16)]
    for image, result, d in zip(images, out["image_a"], draws):
        crop = image[d.top:d.top + 8, d.left:d.left + 8]
        np.testing.assert_array_equal(result, crop[:, ::-1] if d.flip else crop)
    assert {d.flip for d in draws} == {True, False}  # Both outcomes occur among 16 draws...
    assert len({(d.top, d.left) for d in draws}) > 4  # ...and the offsets vary with the position.
    assert ResizeAndCrop(crop_size=8).draw(16, 16, seed=3, step=5, position=0).flip is False  # flip=False.


def test_resize_is_bicubic_for_images_and_nearest_for_label_maps_and_masks():
    rng = np.random.default_rng(1)
    label_map = rng.integers(0, 4, (2, 16, 16), dtype=np.int32)
    image = rng.integers(0, 256, (2, 16, 16, 1), dtype=np.uint8)
    example = {"image_b": image, "label_map": label_map,
               "mask": (label_map == 1).astype(np.float32)[..., None], "label": np.array([3, 4])}
    transform = ResizeAndCrop(load_size=24, crop_size=20, flip=True)
    out = transform(example, seed=0, step=2, positions=[6, 7])
    np.testing.assert_array_equal(out["label"], [3, 4])  # Not an image: untouched.
    # Nearest keeps the ids, and a mask made from the map stays that mask after crop and flip.
    np.testing.assert_array_equal(out["mask"][..., 0], (out["label_map"] == 1).astype(np.float32))
    for row, position in enumerate((6, 7)):
        d = transform.draw(24, 24, seed=0, step=2, position=position)
        expected = {}
        for key, plane, resample in (("image_b", image[row, ..., 0], PIL.Resampling.BICUBIC),
                                     ("label_map", label_map[row], PIL.Resampling.NEAREST)):
            resized = np.asarray(PIL.fromarray(plane).resize((24, 24), resample))
            crop = resized[d.top:d.top + 20, d.left:d.left + 20]
            expected[key] = crop[:, ::-1] if d.flip else crop
        np.testing.assert_array_equal(out["image_b"][row, ..., 0], expected["image_b"])
        np.testing.assert_array_equal(out["label_map"][row], expected["label_map"])
    assert out["label_map"].dtype == np.int32 and out["mask"].dtype == np.float32


def test_nearest_upsampling_of_a_label_map_repeats_its_pixels():
    label_map = np.array([[[0, 1], [2, 3]]], np.int32)
    out = ResizeAndCrop(load_size=4)({"label_map": label_map}, seed=0, step=0, positions=[0])["label_map"]
    np.testing.assert_array_equal(out[0], [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])


def test_pipeline_batches_are_the_same_whatever_the_process_split_and_the_worker_count():
    source, transform = _pairs(n=6), ResizeAndCrop(load_size=20, crop_size=12, flip=True)
    whole = Pipeline(source, global_batch_size=4, seed=2, transform=transform)
    assert whole.image_shape == (12, 12, 3)
    for step in (0, 3):
        expected = whole.local_batch(step)
        assert expected["image_a"].shape == (4, 12, 12, 3) and expected["image_a"].dtype == np.float32
        for count in (2, 4):
            shares = [Pipeline(source, global_batch_size=4, seed=2, process_index=p, process_count=count,
                               transform=transform).local_batch(step) for p in range(count)]
            for key in ("image_a", "image_b"):
                np.testing.assert_array_equal(np.concatenate([s[key] for s in shares]), expected[key])
    threaded = Pipeline(source, global_batch_size=4, seed=2, transform=transform, num_workers=2)
    for step in (0, 1, 2, 0, 5):  # In order (prefetched) and out of order.
        for key, value in threaded.local_batch(step).items():
            np.testing.assert_array_equal(value, whole.local_batch(step)[key])
    np.testing.assert_array_equal(whole.full_batch(3)["image_a"], whole.local_batch(3)["image_a"])


def test_the_crop_depends_on_the_step_and_the_seed():
    source, transform = _pairs(n=4), ResizeAndCrop(crop_size=8, flip=True)
    a = Pipeline(source, global_batch_size=4, seed=0, transform=transform)
    b = Pipeline(source, global_batch_size=4, seed=1, transform=transform)
    # Steps 0 and 1 read the same 4 examples (one epoch each) in other orders and crops.
    assert sorted(a.global_indices(0)) == sorted(a.global_indices(1)) == [0, 1, 2, 3]
    assert not np.array_equal(a.local_batch(0)["image_a"], a.local_batch(1)["image_a"])
    assert not np.array_equal(a.local_batch(0)["image_a"], b.local_batch(0)["image_a"])


def test_a_crop_larger_than_the_images_is_a_config_error():
    with pytest.raises(ConfigError, match=r"data.crop_size=20 does not fit in the images of pairs \(16x16, not "
                                          r"resized\); set data.crop_size <= data.load_size"):
        Pipeline(_pairs(), global_batch_size=2, seed=0, transform=ResizeAndCrop(crop_size=20))
    with pytest.raises(ConfigError, match=r"crop_size=32 .* \(24x24, resized to data.load_size=24\)"):
        Pipeline(_pairs(), global_batch_size=2, seed=0, transform=ResizeAndCrop(load_size=24, crop_size=32))


def test_from_config_and_for_evaluation():
    config = config_lib.base_config()
    assert ResizeAndCrop.from_config(config.data).is_identity  # Existing configs are unchanged.
    config.data.update(load_size=286, crop_size=256, flip=True)
    transform = ResizeAndCrop.from_config(config.data)
    assert transform == ResizeAndCrop(286, 256, True)
    assert transform.for_evaluation() == ResizeAndCrop(load_size=256)  # junyanz's test: load = crop, no flip.


@pytest.mark.parametrize("key, value, message", [
    ("direction", "AtoC", "data.direction='AtoC' must be one of 'AtoB', 'BtoA'"),
    ("crop_size", -1, "data.crop_size=-1 must be an integer >= 0"),
    ("num_workers", -2, "data.num_workers=-2 must be an integer >= 0"),
])
def test_data_config_values_are_validated(key, value, message):
    config = config_lib.base_config()
    config.data[key] = value
    with pytest.raises(ConfigError, match=message):
        config_lib.validate(config)
