"""Split specs (jaxgan.data.split): parsing, TFDS's rounding, sliced sources, the pipeline over a
slice, and the Parzen protocol report of jaxgan.evaluate on runs trained with and without the
held-out images."""

import types

import numpy as np
import pytest

from jaxgan import evaluate
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.sources import ArraySource, build_source
from jaxgan.data.split import SplitSpec, overlap, parse_split, slice_source
from jaxgan.errors import DataSourceError
from jaxgan.train import Trainer

from conftest import tiny_cgan


@pytest.mark.parametrize("spec, parsed", [
    ("train", SplitSpec("train")),
    ("train[:50000]", SplitSpec("train", None, 50000, "abs")),
    ("train[50000:]", SplitSpec("train", 50000, None, "abs")),
    ("test[-100:-50]", SplitSpec("test", -100, -50, "abs")),
    ("train[:83%]", SplitSpec("train", None, 83.0, "%")),
    ("dev-train[10.5%:20%]", SplitSpec("dev-train", 10.5, 20.0, "%")),
])
def test_parse_split_hand_cases(spec, parsed):
    assert parse_split(spec) == parsed
    assert str(parse_split(spec)) == spec  # Round trip: the spec a source view records.


# Percent bounds round to the closest index with Python's round, ties to even: TFDS's default
# rounding='closest', int(round(p * n / 100)) (tensorflow_datasets/core/splits.py, _pct_to_abs_closest,
# tfds 4.9.10; the 101- and 200-example cases are from its splits_test.py).
@pytest.mark.parametrize("spec, length, expected", [
    ("train[:83%]", 60000, range(0, 49800)),
    ("train[:50%]", 5, range(0, 2)),  # 2.5 -> 2 (tie to even), not 3.
    ("train[:50%]", 3, range(0, 2)),  # 1.5 -> 2 (tie to even).
    ("train[50%:]", 5, range(2, 5)),  # The complement of train[:50%]: no example in both, none lost.
    ("test[:99%]", 101, range(0, 100)),  # 99.99 -> 100.
    ("train[-1%:]", 200, range(198, 200)),
    ("train[:0.5%]", 200, range(0, 1)),
    ("train[10:-10]", 200, range(10, 190)),
    ("train[-10:200]", 200, range(190, 200)),
    ("train[50000:]", 60000, range(50000, 60000)),
])
def test_range_follows_tfds(spec, length, expected):
    assert parse_split(spec).range(length) == expected


def test_range_agrees_with_tfds_itself():
    """The same specs through TFDS's own (private) conversion, where tensorflow-datasets is installed."""
    splits = pytest.importorskip("tensorflow_datasets.core.splits")
    rng = np.random.default_rng(0)
    for _ in range(300):
        length = int(rng.integers(1, 500))
        a, b = sorted(rng.uniform(-100, 100, size=2).round(int(rng.integers(0, 3))))
        percent = rng.random() < 0.5
        spec = f"train[{a:g}%:{b:g}%]" if percent else f"train[{int(a * length / 100)}:{int(b * length / 100)}]"
        ri = splits._str_to_relative_instruction(spec)
        absolute = splits._rel_to_abs_instr(ri, {"train": types.SimpleNamespace(num_examples=length)})
        start, stop = absolute.from_ or 0, length if absolute.to is None else absolute.to
        if start >= stop:
            with pytest.raises(DataSourceError, match="is empty"):
                parse_split(spec).range(length)
        else:
            assert parse_split(spec).range(length) == range(start, stop), (spec, length)


@pytest.mark.parametrize("spec, message", [
    ("train[", "malformed split"),
    ("train[:]", "gives no bound"),
    ("train[a:5]", "neither an integer nor a percentage"),
    ("train[1.5:]", "not an integer"),
    ("train[:101%]", r"outside \[-100%, 100%\]"),
    ("train[10:50%]", "mixes an index and a percentage"),
    ("train[1:2:3]", "malformed split"),
    ("[:10]", "malformed split"),
])
def test_malformed_specs_are_errors(spec, message):
    with pytest.raises(DataSourceError, match=message):
        parse_split(spec)


def test_empty_and_out_of_range_slices_name_the_length():
    with pytest.raises(DataSourceError, match="builtin:mnist's 'test' split of 10000 examples"):
        build_source("builtin:mnist", "test[:10001]")
    with pytest.raises(DataSourceError, match="outside builtin:mnist's 'test' split of 10000 examples"):
        build_source("builtin:mnist", "test[-10001:]")
    with pytest.raises(DataSourceError, match=r"is empty \(indices \[50, 40\)\)"):
        build_source("builtin:mnist", "test[50:40]")
    with pytest.raises(DataSourceError, match="MNIST has splits 'train' and 'test', not 'valid'"):
        build_source("builtin:mnist", "valid[:10]")


def test_sliced_source_returns_exactly_the_underlying_examples():
    whole = build_source("builtin:mnist", "train")
    head, tail = build_source("builtin:mnist", "train[:10]"), build_source("builtin:mnist", "train[-3:]")
    assert (len(head), len(tail)) == (10, 3)
    assert (head.name, head.image_shape, head.num_classes) == ("builtin:mnist", (28, 28, 1), 10)
    for sliced, underlying in ((head, np.arange(10)), (tail, np.arange(59997, 60000))):
        got, want = sliced.get(np.arange(len(sliced))), whole.get(underlying)
        np.testing.assert_array_equal(got["image"], want["image"])
        np.testing.assert_array_equal(got["label"], want["label"])
    assert head.get(np.arange(10))["label"].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MNIST's first labels.
    with pytest.raises(IndexError, match=r"indices must be in \[0, 10\)"):
        head.get(np.array([10]))  # Past the slice: would read an example outside it.


def test_pipeline_over_a_slice_never_reads_past_it():
    """Labels hold each example's index, so the batches say which underlying examples were read."""
    n = 60000
    source = ArraySource(np.zeros((n, 1, 1, 1), np.uint8), np.arange(n, dtype=np.int32), None, "indices")
    sliced = slice_source(source, parse_split("train[:50000]"))
    pipeline = Pipeline(sliced, global_batch_size=4096, seed=0)
    seen = np.concatenate([pipeline.local_batch(step)["label"] for step in range(37)])  # 3 epochs.
    assert seen.max() == 49999 and seen.min() == 0
    assert len(np.unique(seen[:49152])) == 49152  # 12 steps of the first epoch: no repeats...
    assert len(np.unique(seen)) == 50000  # ...and over 3 epochs every example of the slice is read.


def test_overlap():
    assert overlap("train", "train[50000:]", 60000)
    assert overlap("train[:50001]", "train[50000:]", 60000)
    assert not overlap("train[:50000]", "train[50000:]", 60000)
    assert not overlap("train[:83%]", "train[50000:]", 60000)  # 49,800 images.
    assert overlap("train[:84%]", "train[50000:]", 60000)  # 50,400.
    assert not overlap("test", "train[50000:]", 60000)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny MLP cGAN runs (one step) trained on all 60,000 training images and on the first 50,000."""
    workdirs = {}
    for split in ("train", "train[:50000]"):
        config = tiny_cgan()
        config.train.steps = config.train.checkpoint_every = config.train.sample_every = 1
        config.data.split = split
        workdirs[split] = str(tmp_path_factory.mktemp("run"))
        Trainer(config, workdirs[split]).run()
    return workdirs


@pytest.mark.parametrize("split, seen", [("train", True), ("train[:50000]", False)])
def test_evaluate_says_whether_the_parzen_validation_images_were_trained_on(runs, split, seen):
    result = evaluate.evaluate(runs[split], num_samples=20, batch_size=20, parzen=True, parzen_validation=200)
    assert result["parzen_validation"] == "builtin:mnist train[50000:]"
    assert result["parzen_validation_size"] == 200
    assert result["training_split"] == split
    assert result["parzen_validation_seen_in_training"] is seen
    table = evaluate.format_table(result)
    verdict = "TRAINED ON" if seen else "did not train on"
    assert (f"Parzen sigma chosen on 200 images of builtin:mnist train[50000:], which the run "
            f"(data.split '{split}') {verdict}\n") in table
    assert ("WARNING: the Parzen LL above is not comparable with Mirza & Osindero's 132" in table) is seen
