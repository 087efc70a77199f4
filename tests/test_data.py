"""Sources and the deterministic, resumable, per-process pipeline."""

import gzip
import shutil

import numpy as np
import pytest

from jaxgan.data import mnist
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.sources import ArraySource, DataSourceError, build_source


def _toy(n=10):
    images = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 1), np.uint8)
    return ArraySource(images, np.arange(n, dtype=np.int32) % 3, num_classes=3, name="toy")


def test_builtin_mnist():
    source = build_source("builtin:mnist", "test")
    assert len(source) == 10000 and source.image_shape == (28, 28, 1) and source.num_classes == 10
    batch = source.get(np.array([0, 1]))
    assert batch["image"].dtype == np.uint8 and batch["label"].tolist() == [7, 2]  # First two test digits.


def test_batches_are_a_pure_function_of_seed_and_step():
    a, b = Pipeline(_toy(), global_batch_size=4, seed=1), Pipeline(_toy(), global_batch_size=4, seed=1)
    for step in (0, 7, 3):
        np.testing.assert_array_equal(a.local_batch(step)["image"], b.local_batch(step)["image"])
    other = Pipeline(_toy(), global_batch_size=4, seed=2)
    assert not all(np.array_equal(a.global_indices(s), other.global_indices(s)) for s in range(3))


def test_each_epoch_visits_every_example_once():
    pipe = Pipeline(_toy(10), global_batch_size=5, seed=0)
    epoch0 = np.concatenate([pipe.global_indices(s) for s in (0, 1)])
    epoch1 = np.concatenate([pipe.global_indices(s) for s in (2, 3)])
    assert sorted(epoch0) == list(range(10)) and sorted(epoch1) == list(range(10))
    assert not np.array_equal(epoch0, epoch1)  # A fresh permutation per epoch.


def test_batch_values_scaled_to_minus_one_one_and_labels_kept():
    pipe = Pipeline(_toy(10), global_batch_size=4, seed=0)
    batch, indices = pipe.local_batch(2), pipe.global_indices(2)
    np.testing.assert_allclose(batch["image"][:, 0, 0, 0], indices / 127.5 - 1.0, rtol=1e-6)
    np.testing.assert_array_equal(batch["label"], indices % 3)


def test_processes_read_disjoint_shares_of_the_global_batch():
    shares = [Pipeline(_toy(12), global_batch_size=6, seed=3, process_index=p, process_count=3) for p in range(3)]
    joined = np.concatenate([s.local_batch(1)["image"] for s in shares])
    whole = Pipeline(_toy(12), global_batch_size=6, seed=3).local_batch(1)["image"]
    np.testing.assert_array_equal(joined, whole)
    assert shares[0].local_batch_size == 2


def test_batch_not_divisible_by_processes():
    with pytest.raises(ValueError, match="not divisible by the 4 processes"):
        Pipeline(_toy(), global_batch_size=6, seed=0, process_count=4)


def test_empty_source():
    empty = ArraySource(np.zeros((0, 2, 2, 1), np.uint8), np.zeros((0,), np.int32), 3, "empty")
    with pytest.raises(DataSourceError, match="empty"):
        Pipeline(empty, global_batch_size=2, seed=0)


def test_idx_folder_reads_gzipped_and_plain(tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(f"{mnist.BUILTIN_DIR}/{name}.gz") as src, open(tmp_path / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    source = build_source(f"idx:{tmp_path}", "test")
    np.testing.assert_array_equal(source.get(np.arange(5))["image"],
                                  build_source("builtin:mnist", "test").get(np.arange(5))["image"])


@pytest.mark.parametrize("spec, message", [
    ("idx:/nonexistent/folder", "t10k-images-idx3-ubyte.*not found; tried /nonexistent/folder"),
    ("idx:", "names no folder"),
    ("builtin:cifar", "unknown built-in dataset 'cifar'"),
    ("s3:bucket", "unknown data source 's3:bucket'"),
])
def test_unreadable_sources_name_the_source(spec, message):
    with pytest.raises(DataSourceError, match=message):
        build_source(spec, "test")


def test_corrupt_and_truncated_idx_files(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") * 3 + b"\x01")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"garbage!")
    with pytest.raises(DataSourceError, match="truncated or corrupt"):
        build_source(f"idx:{tmp_path}", "test")
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") * 3 + b"\x01" * 8)
    with pytest.raises(DataSourceError, match="not an IDX file"):
        build_source(f"idx:{tmp_path}", "test")
