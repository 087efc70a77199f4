"""Multi-domain sources (domains:, unpaired:): one deterministic permutation per domain, keys suffixed
by the domain's letter, each process its rows, single-domain batches unchanged, clear errors."""

import numpy as np
import pytest

from jaxgan import images
from jaxgan.data.domains import DomainsSource
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.sources import ArraySource, build_source
from jaxgan.data.transforms import ResizeAndCrop
from jaxgan.errors import DataSourceError

pytest.importorskip("PIL")


def _array(n, offset=0, size=4, classes=None, channels=1):
    """Example i is an image filled with offset + i (so the pixels say which example it is)."""
    values = (offset + np.arange(n)).astype(np.uint8)
    pixels = values[:, None, None, None] * np.ones((1, size, size, channels), np.uint8)
    labels = np.arange(n, dtype=np.int32) % (classes or 1)
    return ArraySource(pixels, labels, num_classes=classes, name=f"toy{offset}")


def _two_domains():
    return DomainsSource.of("toy", [_array(5, 0, classes=3), _array(7, 100, classes=2)])


def _old_indices(seed, n, batch, step):
    """The single-source formula the pipeline has always used: epoch e's order is
    default_rng([seed, e]).permutation(n)."""
    positions = step * batch + np.arange(batch)
    return np.array([np.random.default_rng([seed, p // n]).permutation(n)[p % n] for p in positions])


def test_single_domain_batches_are_unchanged():
    pipe = Pipeline(_array(10, classes=3), global_batch_size=4, seed=1)
    for step in range(6):  # Crosses two epoch boundaries.
        np.testing.assert_array_equal(pipe.global_indices(step), _old_indices(1, 10, 4, step))
    # Hard-coded: what the pipeline before multi-domain sources (commit e5c15df~1) served.
    np.testing.assert_array_equal([pipe.global_indices(k) for k in range(3)],
                                  [[8, 4, 7, 0], [1, 2, 5, 9], [6, 3, 7, 2]])


def test_each_domain_has_its_own_permutation_from_seed_domain_and_epoch():
    pipe = Pipeline(_two_domains(), global_batch_size=4, seed=3)
    indices = np.concatenate([pipe.global_indices(s) for s in range(4)], axis=1)  # [2 domains, 16 positions]
    for domain, n in enumerate((5, 7)):
        expected = np.concatenate([np.random.default_rng([3, domain, e]).permutation(n) for e in range(4)])
        np.testing.assert_array_equal(indices[domain], expected[:16])
    assert pipe.global_indices(0).shape == (2, 4)


def test_batch_keys_carry_the_domain_letter_and_the_rows_match_the_indices():
    pipe = Pipeline(_two_domains(), global_batch_size=4, seed=0)
    batch, (ia, ib) = pipe.local_batch(2), pipe.global_indices(2)
    assert set(batch) == {"image_a", "label_a", "image_b", "label_b"}
    np.testing.assert_allclose(batch["image_a"][:, 0, 0, 0], ia / 127.5 - 1, rtol=1e-6)
    np.testing.assert_allclose(batch["image_b"][:, 0, 0, 0], (100 + ib) / 127.5 - 1, rtol=1e-6)
    np.testing.assert_array_equal(batch["label_a"], ia % 3)
    np.testing.assert_array_equal(batch["label_b"], ib % 2)
    assert batch["label_a"].dtype == np.int32


def test_processes_read_their_rows_of_every_domain():
    source = _two_domains()
    whole = Pipeline(source, global_batch_size=4, seed=5).local_batch(3)
    shares = [Pipeline(source, global_batch_size=4, seed=5, process_index=p, process_count=2) for p in range(2)]
    np.testing.assert_array_equal(np.concatenate([s.local_indices(3) for s in shares], axis=1),
                                  shares[0].global_indices(3))
    for key in whole:
        np.testing.assert_array_equal(np.concatenate([s.local_batch(3)[key] for s in shares]), whole[key])


def test_domains_are_augmented_independently_and_deterministically():
    same = _array(8, size=16, channels=3)
    source = DomainsSource.of("twins", [same, same])
    pipe = Pipeline(source, global_batch_size=8, seed=0, transform=ResizeAndCrop(crop_size=8, flip=True))
    batch = pipe.local_batch(0)
    # The two domains hold the same images, yet their crops and flips are drawn apart (stream = domain).
    draws = [[pipe.transform.draw(16, 16, seed=0, step=0, position=j, stream=d) for j in range(8)] for d in (0, 1)]
    assert draws[0] != draws[1]
    again = Pipeline(source, global_batch_size=8, seed=0, transform=ResizeAndCrop(crop_size=8, flip=True))
    for key in batch:
        np.testing.assert_array_equal(again.local_batch(0)[key], batch[key])


def _folder(root, n, size=16, channels=3, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (n, size, size, channels), dtype=np.uint8)
    root.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(pixels):
        images.write_png(str(root / f"{i:03d}.png"), image)
    return pixels


def test_unpaired_reads_cyclegan_folders(tmp_path):
    a, b = _folder(tmp_path / "trainA", 3), _folder(tmp_path / "trainB", 5, seed=1)
    test_b = _folder(tmp_path / "testB", 2, seed=3)
    _folder(tmp_path / "testA", 2, seed=2)
    source = build_source(f"unpaired:{tmp_path}")
    assert [len(d) for d in source.domains] == [3, 5] and len(source) == 5
    assert source.image_shape == (16, 16, 3) and source.num_classes is None
    example = source.get(np.array([4]))  # Example 4 of B, 4 % 3 = 1 of A.
    assert set(example) == {"image_a", "image_b"}
    np.testing.assert_array_equal(example["image_a"][0], a[1])
    np.testing.assert_array_equal(example["image_b"][0], b[4])
    np.testing.assert_array_equal(build_source(f"unpaired:{tmp_path}", "test").get(np.array([1]))["image_b"][0],
                                  test_b[1])
    _folder(tmp_path / "trainC", 2, seed=4)  # A third domain (ComboGAN-style).
    assert build_source(f"unpaired:{tmp_path}").letters == "abc"
    assert [len(d) for d in build_source(f"unpaired:{tmp_path}", "train[:2]").domains] == [2, 2, 2]
    batch = Pipeline(source, global_batch_size=2, seed=0).local_batch(0)
    assert batch["image_b"].shape == (2, 16, 16, 3) and batch["image_b"].dtype == np.float32


def test_domains_spec_of_any_single_domain_sources(tmp_path):
    _folder(tmp_path / "grey" / "test" / "zero", 2, size=28, channels=1)
    source = build_source(f"domains:builtin:mnist|folder:{tmp_path / 'grey'}", "test")
    assert [d.name for d in source.domains] == ["builtin:mnist", f"folder:{tmp_path / 'grey'}"]
    assert set(source.get(np.array([0]))) == {"image_a", "label_a", "image_b", "label_b"}
    assert source.get(np.array([1]))["label_a"].tolist() == [2]  # MNIST's second test digit.


@pytest.mark.parametrize("layout, message", [
    ("missing_b", r"unpaired:.*: no domain folder .*/trainB; CycleGAN's layout is"),
    ("empty_b", r"images:.*/trainB: no images found in .*/trainB"),
    ("sizes", r"differ in size or channels \(H x W x C: A \(.*trainA\): 16x16x3; B \(.*trainB\): 8x8x3\); "
              r"resize the images of every domain to one size"),
    ("channels", r"A \(.*trainA\): 16x16x3; B \(.*trainB\): 16x16x1\); convert every domain to RGB"),
])
def test_unusable_domains_are_named(tmp_path, layout, message):
    _folder(tmp_path / "trainA", 2)
    if layout == "empty_b":
        (tmp_path / "trainB").mkdir()
    elif layout == "sizes":
        _folder(tmp_path / "trainB", 2, size=8)
    elif layout == "channels":
        _folder(tmp_path / "trainB", 2, channels=1)
    with pytest.raises(DataSourceError, match=message):
        build_source(f"unpaired:{tmp_path}")


@pytest.mark.parametrize("spec, message", [
    ("domains:builtin:mnist", r"1 domain\(s\); write at least 2 sources separated by '\|'"),
    ("domains:builtin:mnist|idx:/no/such/dir", r"t10k-images-idx3-ubyte.*not found; tried /no/such/dir"),
    ("unpaired:/no/such/dir", r"unpaired:/no/such/dir: no such folder"),
    ("domains:builtin:mnist/plain|builtin:mnist/coloured",
     r"28x28x1; B \(builtin:mnist/coloured\): 28x28x3\); convert every domain to RGB .*; for the built-in grey "
     r"digits \(builtin:mnist/plain\) write builtin:mnist/plain_rgb"),
])
def test_bad_domain_specs(spec, message):
    with pytest.raises(DataSourceError, match=message):
        build_source(spec, "test")


def test_a_paired_source_is_not_a_domain(tmp_path):
    _folder(tmp_path / "pairs", 2)
    with pytest.raises(DataSourceError, match=r"domain B \(paired:.*\) yields \['image_a', 'image_b'\]; each domain "
                                              "must be a single-domain image source"):
        build_source(f"domains:images:{tmp_path / 'pairs'}|paired:{tmp_path / 'pairs'}")
