"""jaxgan.metrics.domains: the unpaired-translation metrics by hand with stub classifiers, and with
classifiers trained (very briefly) on built-in MNIST domains, their cache and their errors."""

import glob
import os

import numpy as np
import pytest

from jaxgan.data.pipeline import to_float_image
from jaxgan.data.sources import build_source
from jaxgan.errors import ConfigError, DataSourceError
from jaxgan.metrics import domains, frechet_classifier_distance, train_classifier

# ----------------------------------------------------------------------------- by hand, stub classifiers
# Domain a: label k is a white pixel (0, k) on black; domain b: its negative. C_a reads row 0 as the
# logits, C_b its negative; D says 'a' for dark images and 'b' for bright ones, and puts a huge logit on
# output 5 (no domain) that the metrics must ignore. Features are the logits, so FCD is of one-hot codes.

LABELS_A = np.array([3, 3, 1, 4, 4, 4])
LABELS_B = np.array([0, 7, 7, 2, 9, 5])


def _digits(labels, polarity):
    images = -np.ones((len(labels), 28, 28, 1), np.float32)
    images[np.arange(len(labels)), 0, labels, 0] = 1.0
    return polarity * images


def _label_classifier(polarity):
    def classify(x):
        logits = polarity * np.asarray(x)[:, 0, :10, 0]
        return logits, logits

    return classify


def _domain_classifier(x):
    brightness = np.asarray(x).mean(axis=(1, 2, 3))
    logits = np.full((len(x), 10), -100.0, np.float32)
    logits[:, 0], logits[:, 1], logits[:, 5] = -brightness, brightness, 1000.0
    return logits, logits[:, :2]


STUBS = domains.DomainClassifiers(label={"a": _label_classifier(1), "b": _label_classifier(-1)},
                                  domain=_domain_classifier, test_accuracy={"label_a": 0.9, "label_b": 0.8,
                                                                            "domain": 0.99},
                                  num_classes={"a": 10, "b": 10})
IMAGES = {"a": _digits(LABELS_A, 1), "b": _digits(LABELS_B, -1)}
LABELS = {"a": LABELS_A, "b": LABELS_B}


def _one_hot(labels):
    return np.eye(10)[labels] * 2 - 1  # The stubs' logits of a pixel (0, k) = +1 on -1: one-hot in [-1, 1].


def test_exact_map_by_hand():
    shapes = []

    def negate(x, source, target):
        shapes.append((x.shape, source, target))
        return -x

    result = domains.unpaired_metrics(negate, IMAGES, LABELS, STUBS, batch_size=4,
                                      reference_images_by_domain={"b": IMAGES["b"][::-1]})
    assert list(result) == ["AtoB", "BtoA"]
    # 6 images in batches of exactly 4 (the last one padded), there and back, each direction.
    assert shapes == [((4, 28, 28, 1), "a", "b")] * 2 + [((4, 28, 28, 1), "b", "a")] * 2 \
        + [((4, 28, 28, 1), "b", "a")] * 2 + [((4, 28, 28, 1), "a", "b")] * 2
    ab = result["AtoB"]
    assert (ab["source"], ab["target"], ab["num_images"]) == ("a", "b", 6)
    assert ab["label_preservation"] == 1.0 and ab["domain_fidelity"] == 1.0 and ab["cycle_error"] == 0.0
    # Translations of a read by C_b: the one-hot codes of LABELS_A, against real b's of LABELS_B.
    assert ab["fcd"] == pytest.approx(frechet_classifier_distance(_one_hot(LABELS_A), _one_hot(LABELS_B)))
    assert ab["fcd"] > 0.1 and ab["fcd_features"] == "label"
    assert ab["classifier_test_accuracy"] == {"label": 0.8, "domain": 0.99}
    assert ab["real_target"] == {"label_accuracy": 1.0, "domain_fidelity": 1.0,
                                 "fcd_train_vs_test": pytest.approx(0.0, abs=1e-9), "num_images": 6}
    assert result["BtoA"]["real_target"]["fcd_train_vs_test"] is None  # No reference images of a.
    assert result["BtoA"]["fcd"] == pytest.approx(ab["fcd"])


def test_other_image_sizes_are_resized_for_the_classifiers():
    # 56x56 images (each pixel a 2x2 block): read at 28x28, pixel (0, k) is still the brightest of row 0;
    # read unresized, C_b would answer the block's column 2k.
    large = {letter: x.repeat(2, axis=1).repeat(2, axis=2) for letter, x in IMAGES.items()}
    result = domains.unpaired_metrics(lambda x, s, t: -x, large, LABELS, STUBS, batch_size=4)
    assert [row["label_preservation"] for row in result.values()] == [1.0, 1.0]
    assert [row["real_target"]["label_accuracy"] for row in result.values()] == [1.0, 1.0]
    assert [row["domain_fidelity"] for row in result.values()] == [1.0, 1.0]


def test_identity_and_shuffle_by_hand():
    identity = domains.unpaired_metrics(lambda x, s, t: x, IMAGES, LABELS, STUBS, directions=[("a", "b")])
    assert list(identity) == ["AtoB"]
    # C_b reads a white pixel on black as the first black pixel: 0, or 1 for label 0; never the label.
    assert identity["AtoB"]["label_preservation"] == 0.0
    assert identity["AtoB"]["domain_fidelity"] == 0.0 and identity["AtoB"]["cycle_error"] == 0.0

    # Negate and move every image one place down the batch: image i becomes x_{i-1}'s negative.
    shuffle = domains.unpaired_metrics(lambda x, s, t: -np.roll(x, 1, axis=0), IMAGES, LABELS, STUBS,
                                       directions=[("a", "b")], batch_size=6)["AtoB"]
    # LABELS_A[i - 1] == LABELS_A[i] at i = 1, 4, 5.
    assert shuffle["label_preservation"] == pytest.approx(3 / 6)
    assert shuffle["domain_fidelity"] == 1.0
    # There and back: x_{i-2} against x_i; 5 of the 6 pairs differ in 2 pixels by 2 each.
    assert shuffle["cycle_error"] == pytest.approx(5 * 4 / (6 * 28 * 28))


def test_unlabelled_domain_and_table():
    unlabelled = STUBS._replace(label={"a": STUBS.label["a"], "b": None}, num_classes={"a": 10, "b": None},
                                test_accuracy={"label_a": 0.9, "domain": 0.99})
    result = domains.unpaired_metrics(lambda x, s, t: -x, IMAGES, {"a": LABELS_A, "b": None}, unlabelled)
    ab, ba = result["AtoB"], result["BtoA"]
    assert ab["label_preservation"] is None and ab["real_target"]["label_accuracy"] is None
    assert ab["fcd_features"] == "domain" and ab["classifier_test_accuracy"]["label"] is None
    # In D's features (minus and plus the mean pixel), negated a and real b are all (-782, 782) / 784.
    assert ab["fcd"] == pytest.approx(0.0, abs=1e-9)
    assert ba["label_preservation"] is None  # b has no labels to preserve.
    assert ba["real_target"]["label_accuracy"] == 1.0 and ba["fcd_features"] == "label"
    table = domains.format_unpaired_table(result).splitlines()
    assert table[0].split() == ["direction", "row", "label", "pres.", "domain", "fid.", "cycle", "L1", "FCD",
                                "FCD", "in", "images"]
    assert table[1].split() == ["AtoB", "translated", "-", "1.0000", "0.0000", "0.00", "domain", "6"]
    assert table[2].split() == ["real", "B", "-", "1.0000", "-", "-", "domain", "6"]
    assert table[3].split()[:3] == ["BtoA", "translated", "-"]
    assert table[4].split() == ["real", "A", "1.0000", "1.0000", "-", "-", "label", "A", "6"]
    assert table[-1] == "classifier test accuracy: domain 0.9900, label A 0.9000"


def test_unknown_domains_are_config_errors():
    with pytest.raises(ConfigError, match=r"domain\(s\) \['c'\]"):
        domains.unpaired_metrics(lambda x, s, t: x, {**IMAGES, "c": IMAGES["a"]}, LABELS, STUBS)
    with pytest.raises(ConfigError, match=r"need test images of domain\(s\) \['b'\]"):
        domains.unpaired_metrics(lambda x, s, t: x, {"a": IMAGES["a"]}, LABELS, STUBS, directions=[("a", "b")])
    with pytest.raises(ConfigError, match="domains:SPEC_A"):
        domains.domain_classifiers("builtin:mnist", "/nonexistent")


# ----------------------------------------------------------------------------- trained classifiers

TINY = dict(steps=40, batch_size=32, train_size=1000, test_size=200, seed=0)
PLAIN_NEGATIVE = "domains:builtin:mnist/plain|builtin:mnist/negative"


@pytest.fixture
def training_count(monkeypatch):
    calls = []
    real_train = train_classifier.train

    def counting_train(images, labels, **kwargs):
        calls.append(images.shape)
        return real_train(images, labels, **kwargs)

    monkeypatch.setattr(train_classifier, "train", counting_train)
    return calls


def _test_images(spec, n):
    images, labels = domains.by_domain(build_source(spec, "test").get(np.arange(n)))
    return {letter: to_float_image(x) for letter, x in images.items()}, labels


def test_trained_classifiers_on_plain_and_negative(tmp_path, training_count):
    cache = str(tmp_path / "classifiers")
    classifiers = domains.domain_classifiers(PLAIN_NEGATIVE, cache, **TINY)
    # Two label classifiers and the domain one, all on 1000 images (500 of each domain for D).
    assert training_count == [(1000, 28, 28, 1)] * 3
    assert classifiers.letters == ("a", "b") and classifiers.num_classes == {"a": 10, "b": 10}
    assert set(classifiers.test_accuracy) == {"label_a", "label_b", "domain"}
    assert min(classifiers.test_accuracy.values()) > 0.7
    images, labels = _test_images(PLAIN_NEGATIVE, 200)

    # The exact map between the domains: x -> -x in [-1, 1] (255 - x in uint8).
    exact = domains.unpaired_metrics(lambda x, s, t: -x, images, labels, classifiers, batch_size=100)
    for row in exact.values():
        assert row["label_preservation"] > 0.7 and row["domain_fidelity"] > 0.95 and row["cycle_error"] == 0.0
        assert row["label_preservation"] == pytest.approx(row["real_target"]["label_accuracy"], abs=0.02)
    identity = domains.unpaired_metrics(lambda x, s, t: x, images, labels, classifiers, batch_size=100)
    assert identity["AtoB"]["domain_fidelity"] < 0.05 and identity["BtoA"]["domain_fidelity"] < 0.05
    assert identity["AtoB"]["fcd"] > 10 * exact["AtoB"]["fcd"] + 1.0
    # Images exchanged across the batch: the right domain, labels at chance (10 classes).
    shuffled = domains.unpaired_metrics(lambda x, s, t: -np.roll(x, 1, axis=0), images, labels, classifiers,
                                        batch_size=100)
    assert shuffled["AtoB"]["label_preservation"] < 0.25 and shuffled["AtoB"]["domain_fidelity"] > 0.95
    assert shuffled["AtoB"]["cycle_error"] > 0.1

    # A second evaluation reads the cache: nothing trains, the same classifiers come back.
    assert len(glob.glob(os.path.join(cache, "*.msgpack"))) == 3 and len(glob.glob(os.path.join(cache, "*.json"))) == 3
    again = domains.domain_classifiers(PLAIN_NEGATIVE, cache, **TINY)
    assert len(training_count) == 3 and again.test_accuracy == classifiers.test_accuracy
    np.testing.assert_allclose(again.label["b"](images["b"][:8])[0], classifiers.label["b"](images["b"][:8])[0],
                               rtol=1e-6)
    # Another pairing with plain reuses plain's label classifier: only thick_slanted's and D train.
    domains.domain_classifiers("domains:builtin:mnist/plain|builtin:mnist/thick_slanted", cache, **TINY)
    assert len(training_count) == 5


def test_cache_key_follows_spec_and_settings():
    def path(kind="label", spec="builtin:mnist/plain", **changes):
        return domains.cache_paths("/c", kind, spec, domains.TrainingSettings(**{**TINY, **changes}))

    weights, note = path()
    assert (weights, note) == path()
    assert os.path.basename(weights).startswith("label-builtin_mnist_plain-") and note.endswith(".json")
    others = [path(spec="builtin:mnist/negative"), path(kind="domain"), path(seed=1), path(steps=41)]
    assert len({weights, *(other[0] for other in others)}) == 5


def test_rgb_domains(tmp_path, training_count):
    classifiers = domains.domain_classifiers("domains:builtin:mnist/plain_rgb|builtin:mnist/coloured",
                                             str(tmp_path), steps=20, batch_size=16, train_size=64, test_size=64)
    assert training_count == [(64, 28, 28, 3)] * 3
    # Grey digits on black and colour digits on textured backgrounds: told apart after 20 steps.
    assert classifiers.test_accuracy["domain"] > 0.9


def test_unpaired_folder_without_labels(tmp_path, training_count):
    image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for letter, (low, high) in {"A": (0, 100), "B": (155, 256)}.items():  # dark A, bright B
            os.makedirs(tmp_path / f"{split}{letter}")
            for i in range(8):
                pixels = rng.integers(low, high, (16, 16, 3), dtype=np.uint8)
                image.fromarray(pixels).save(tmp_path / f"{split}{letter}" / f"{i}.png")
    spec = f"unpaired:{tmp_path}"
    classifiers = domains.domain_classifiers(spec, str(tmp_path / "cache"), steps=5, batch_size=4, train_size=8,
                                             test_size=8)
    # No labels: only the domain classifier trains, on 4 + 4 images resized from 16x16 to 28x28.
    assert training_count == [(8, 28, 28, 3)]
    assert classifiers.label == {"a": None, "b": None} and set(classifiers.test_accuracy) == {"domain"}
    assert os.path.basename(glob.glob(str(tmp_path / "cache" / "*.json"))[0]).startswith("domain-unpaired_")
    images = {letter: to_float_image(x["image"]) for letter, x in
              zip("ab", (d.get(np.arange(8)) for d in build_source(spec, "test").domains))}
    result = domains.unpaired_metrics(lambda x, s, t: -x, images, {"a": None, "b": None}, classifiers)
    assert result["AtoB"]["label_preservation"] is None and result["AtoB"]["fcd_features"] == "domain"
    assert np.isfinite(result["AtoB"]["fcd"]) and result["AtoB"]["cycle_error"] == 0.0
    os.rename(tmp_path / "testB", tmp_path / "elsewhere")
    with pytest.raises(DataSourceError, match="scored on its 'test' split.*testB"):
        domains.domain_classifiers(spec, str(tmp_path / "cache"), steps=5, batch_size=4, train_size=8, test_size=8)


def test_classifier_examples_go_through_the_runs_resize():
    """With image_size, the classifiers' images are the stored ones resized as the run's evaluation pipeline
    resizes its held-out images (Pillow bicubic to image_size), then to 28x28: what evaluate's classifiers read."""
    from PIL import Image

    source = build_source("builtin:mnist/plain", "test")
    stored = domains.read_examples(source, 3, 0)
    through_16 = domains.read_examples(source, 3, 0, image_size=16)
    indices = np.random.default_rng(0).choice(len(source), 3, replace=False)
    raw = source.get(indices)
    np.testing.assert_array_equal(stored["label"], raw["label"])
    np.testing.assert_array_equal(through_16["label"], raw["label"])
    np.testing.assert_allclose(stored["image"], to_float_image(raw["image"]))  # 28x28 already: as stored.
    small = np.stack([np.asarray(Image.fromarray(x[..., 0]).resize((16, 16), Image.Resampling.BICUBIC))[..., None]
                      for x in raw["image"]])
    np.testing.assert_allclose(through_16["image"], domains.classifier_input(to_float_image(small)), atol=1e-6)
    assert np.abs(through_16["image"] - stored["image"]).max() > 0.1
