"""jaxgan.metrics.attributes: the per-attribute metrics by hand with oracle classifiers, the classifiers
trained (briefly) on builtin:mnist/attributes and cached, and jaxgan.evaluate on tiny StarGAN (mask
vector) and Fader runs checked against the methods' own translations."""

import dataclasses
import os
import shutil

import jax
import numpy as np
import pytest

from jaxgan.errors import ConfigError
from jaxgan.metrics import attributes, domains, train_classifier
from jaxgan.metrics.domains import TrainingSettings

# ----------------------------------------------------------------------------- by hand, oracle classifiers
# Image i carries its attributes as pixels (0, k): +1 on, -1 off, and its digit l as the one bright pixel
# of row 1. The oracle attribute classifier's logit k is 5 x pixel (0, k) (its outputs past A are huge
# and must be ignored); the oracle digit classifier's logits are row 1.

A = 3
ATTRS = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 0], [1, 0, 1]], np.float32)
LABELS = np.array([0, 7, 2, 0, 9])


def _encode(attrs, labels):
    images = -np.ones((len(attrs), 28, 28, 3), np.float32)
    images[:, 0, :A, 0] = 2 * attrs - 1
    images[np.arange(len(labels)), 1, labels, 0] = 1.0
    return images


def _oracle(x):
    logits = np.full((len(x), 10), 100.0, np.float32)
    logits[:, :A] = 5 * np.asarray(x)[:, 0, :A, 0]
    return logits, np.zeros((len(x), 128), np.float32)


ORACLE = attributes.AttributeClassifiers("test:oracle", ("p", "q", "r"), _oracle,
                                         lambda x: (np.asarray(x)[:, 1, :10, 0], np.zeros((len(x), 128))),
                                         {"attributes": {"p": 1.0, "q": 1.0, "r": 1.0}, "digit": 1.0})


def _write_targets(x, t):
    out = np.array(x)
    out[:, 0, :A, 0] = 2 * t - 1
    return out


def test_flip_scores_by_hand():
    np.testing.assert_array_equal(attributes.flip_targets(ATTRS, 1)[:, 1], 1 - ATTRS[:, 1])
    read = np.array([[1, 0, 1], [1, 1, 0]], bool)
    targets = np.array([[1, 1, 1], [1, 1, 1]], np.float32)
    np.testing.assert_allclose(attributes.agreement(read, targets), [1.0, 0.5, 0.5])
    assert attributes.flip_scores(read, targets, 0) == (1.0, 0.5)  # Others: 2 of 4 right.
    assert attributes.flip_scores(read, targets, 1) == (0.5, 0.75)  # Others: 3 of 4 right.
    assert attributes.flip_scores(read[:, :1], targets[:, :1], 0) == (1.0, None)  # One attribute: nothing kept.
    np.testing.assert_array_equal(attributes.readings(np.array([[0.5, -1.0, 0.0, 9.0]]), 3), [[True, False, False]])


@pytest.mark.parametrize("batch_size", [2, 5])  # 2 pads the last batch.
def test_oracle_translators(batch_size):
    images = _encode(ATTRS, LABELS)
    real = images.copy()
    real[0, 0, 2, 0] = 1.0  # Image 0 reads r as on (it is off): the ceiling of r is 4/5.

    def metrics(fn, x=images):
        return attributes.attribute_metrics(fn, x, ATTRS, LABELS, ORACLE, batch_size=batch_size)

    perfect = metrics(_write_targets)
    assert perfect["mean"] == {"fidelity": 1.0, "kept": 1.0, "label_preservation": 1.0}
    identity = metrics(lambda x, t: x)
    for row in identity["flips"].values():
        assert (row["fidelity"], row["kept"], row["label_preservation"]) == (0.0, 1.0, 1.0)
    # Attribute p always written off, the digit row wiped (the oracle reads digit 0 from an all-dark row).
    def p_off_no_digit(x, t):
        out = _write_targets(x, t * np.array([0, 1, 1], np.float32))
        out[:, 1] = -1.0
        return out

    broken = metrics(p_off_no_digit)["flips"]
    p_on = ATTRS[:, 0].mean()  # 3/5: flipped, their target is off.
    assert broken["p"]["fidelity"] == pytest.approx(p_on)
    assert broken["q"]["kept"] == pytest.approx(((1 - p_on) + 1) / 2)  # p unchanged reads right only when off.
    assert broken["q"]["fidelity"] == 1.0
    assert broken["r"]["label_preservation"] == pytest.approx(np.mean(LABELS == 0))
    ceiling = metrics(_write_targets, real)
    assert ceiling["real"]["attribute_accuracy"] == {"p": 1.0, "q": 1.0, "r": 0.8}
    assert ceiling["flips"]["r"]["ceiling"] == {"fidelity": 0.8, "kept": 1.0, "label_preservation": 1.0}
    assert ceiling["flips"]["p"]["ceiling"]["kept"] == pytest.approx(0.9)
    table = attributes.format_attribute_table([ceiling])
    assert "1.0000 (0.8000)" in table and "test:oracle" in table
    no_digits = attributes.attribute_metrics(_write_targets, images, ATTRS, None, ORACLE, batch_size=batch_size)
    assert no_digits["mean"]["label_preservation"] is None and "-" in attributes.format_attribute_table([no_digits])
    with pytest.raises(ConfigError, match="3 attributes"):
        attributes.attribute_metrics(_write_targets, images, ATTRS[:, :2], LABELS, ORACLE)


def test_scores_by_direction_by_hand():
    """A translator that can add p but not remove it, and wipes the digit when asked to remove it: the
    by-direction scores of flip p say so (p is on in images 0, 2, 4: removed there, added in 1 and 3)."""
    def adds_only(x, t):
        out = _write_targets(x, np.maximum(t, [1, 0, 0]))
        out[t[:, 0] < 0.5, 1] = -1.0  # The oracle then reads digit 0.
        return out

    result = attributes.attribute_metrics(adds_only, _encode(ATTRS, LABELS), ATTRS, LABELS, ORACLE, batch_size=5)
    p = result["flips"]["p"]
    assert p["by_direction"] == {"add": {"images": 2, "fidelity": 1.0, "label_preservation": 1.0},
                                 "remove": {"images": 3, "fidelity": 0.0, "label_preservation": pytest.approx(1 / 3)}}
    assert p["fidelity"] == pytest.approx(2 / 5) and p["label_preservation"] == pytest.approx(3 / 5)
    # Flip q keeps p's target as is, so the digit is wiped where p is off (images 1 and 3). q is added in
    # 0, 3, 4 (3's wiped digit is a 0 and reads right) and removed in 1 (wiped 7: wrong) and 2.
    q = result["flips"]["q"]["by_direction"]
    assert q == {"add": {"images": 3, "fidelity": 1.0, "label_preservation": 1.0},
                 "remove": {"images": 2, "fidelity": 1.0, "label_preservation": 0.5}}
    table = attributes.format_attribute_table([result])
    assert "p remove" in table and "p add" in table
    no_digits = attributes.attribute_metrics(adds_only, _encode(ATTRS, LABELS), ATTRS, None, ORACLE, batch_size=5)
    assert no_digits["flips"]["p"]["by_direction"]["add"]["label_preservation"] is None
    one_way = attributes.direction_scores(np.ones((2, 1), bool), np.ones((2, 1), np.float32), 0, None)
    assert one_way["remove"] == {"images": 0, "fidelity": None, "label_preservation": None}


# ----------------------------------------------------------------------------- trained classifiers
# Trained once for the module, on both label sets of the mask-vector run (the first is Fader's source too):
# every later call, evaluate's included, must read them from the cache.

SPEC, MASK_SPEC = "builtin:mnist/attributes", "domains:builtin:mnist/attributes|builtin:mnist/attributes2"
# image_size 16: the tiny StarGAN and Fader runs' size, which evaluate trains the classifiers through.
BRIEF = TrainingSettings(steps=40, batch_size=32, train_size=640, test_size=128, image_size=16)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("attribute_classifiers"))
    return cache, attributes.attribute_classifiers(MASK_SPEC, cache, settings=BRIEF)


@pytest.fixture
def cached_only(monkeypatch):
    """Training fails: the classifiers must come from the cache."""
    monkeypatch.setattr(train_classifier, "train", None)
    monkeypatch.setattr(attributes, "train_attribute_classifier", None)


def test_trained_classifiers_on_mnist_attributes_and_their_cache(trained, cached_only):
    cache, (first, second) = trained
    assert (first.spec, second.spec) == (SPEC, "builtin:mnist/attributes2")
    assert first.names == ("thick", "slanted", "coloured", "negative")
    assert second.names == ("rotated_90", "small", "noisy")
    tested = first.test_accuracy
    assert min(tested["attributes"][name] for name in ("coloured", "negative")) > 0.9  # The easy ones, 40 steps.
    assert 0 <= tested["digit"] <= 1
    # The digit classifier is domains' label classifier of the spec (one cache entry for both).
    assert os.path.isfile(domains.cache_paths(cache, "label", SPEC, BRIEF)[0])
    test = domains.read_examples(attributes.label_set_sources(SPEC, "test")[0][1], 128, 1, BRIEF.image_size)
    # The identity translation: every flip reads as the source, so fidelity = 1 - the ceiling exactly,
    # and kept = its ceiling.
    identity = attributes.attribute_metrics(lambda x, t: x, test["image"], test["attributes"], test["label"],
                                            first, batch_size=64)
    for row in identity["flips"].values():
        assert row["fidelity"] == pytest.approx(1 - row["ceiling"]["fidelity"])
        assert row["kept"] == pytest.approx(row["ceiling"]["kept"])
        assert row["label_preservation"] == row["ceiling"]["label_preservation"]
    (cached,) = attributes.attribute_classifiers(SPEC, cache, settings=BRIEF)  # Fader's source alone: cached.
    assert cached.test_accuracy == tested
    np.testing.assert_allclose(cached.attribute(test["image"][:8])[0], first.attribute(test["image"][:8])[0],
                               rtol=1e-6)


def test_a_source_without_attributes_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no 'attributes'"):
        attributes.attribute_classifiers("builtin:mnist/plain", str(tmp_path), settings=BRIEF)


# ----------------------------------------------------------------------------- jaxgan.evaluate end to end

def _evaluate(workdir, trained, monkeypatch):
    """evaluate with the module's classifiers (BRIEF settings) in the run's cache."""
    from jaxgan import evaluate

    shutil.copytree(trained[0], os.path.join(workdir, "eval", "classifiers"))
    monkeypatch.setattr(attributes, "DEFAULT_SETTINGS", BRIEF)
    result = evaluate.evaluate(workdir, num_samples=4, batch_size=4)
    assert result["family"] == "attributes" and result["classifier_settings"] == dataclasses.asdict(BRIEF)
    return result


def _check_against_translate(workdir, result, translate):
    """Every entry of ``result`` equals the classifiers' reading of ``translate(run, x, target, k)``."""
    from jaxgan import evaluate, restore

    run = restore.restore_run(workdir)
    held_out = evaluate._held_out_pairs(run, 4, 4, 0)
    classifiers = attributes.attribute_classifiers(run.config.data.source, os.path.join(workdir, "eval", "classifiers"),
                                                   settings=BRIEF)
    suffixes = [""] if len(classifiers) == 1 else ["_a", "_b"]
    assert len(result["datasets"]) == len(classifiers)
    for k, (s, c, entry) in enumerate(zip(suffixes, classifiers, result["datasets"])):
        x, a, labels = held_out[f"image{s}"], held_out[f"attributes{s}"], held_out[f"label{s}"]
        assert entry["spec"] == c.spec and entry["attributes"] == list(c.names) and entry["num_images"] == 4
        for j, name in enumerate(c.names):
            t = a.copy()
            t[:, j] = 1 - t[:, j]
            y = domains.classifier_input(np.asarray(translate(run, x, t, k)))
            read = np.asarray(c.attribute(y)[0])[:, :len(c.names)] > 0
            right = read == (t > 0.5)
            row = entry["flips"][name]
            assert row["fidelity"] == pytest.approx(right[:, j].mean())
            assert row["kept"] == pytest.approx(np.delete(right, j, axis=1).mean())
            assert row["label_preservation"] == pytest.approx(np.mean(np.argmax(c.digit(y)[0], 1) == labels))


def test_fid_by_direction_against_the_real_images_with_the_given_value():
    """With ``inception`` (stand-in features here: each image's attribute pixels and digit row), adding p
    (images 1 and 3, p off) is compared with the real images that have p (0, 2, 4), removing it (0, 2, 4)
    with those that do not (1, 3); a direction with fewer than 2 images has no FID."""
    from jaxgan.metrics import fid

    def features(x):
        return np.asarray(x, np.float64)[:, :2, :10, 0].reshape(len(x), -1)

    images = _encode(ATTRS, LABELS)
    result = attributes.attribute_metrics(_write_targets, images, ATTRS, LABELS, ORACLE, batch_size=5,
                                          inception=features)
    p = result["flips"]["p"]["by_direction"]
    translated = _write_targets(images, attributes.flip_targets(ATTRS, 0))
    for direction, made, real in (("add", [1, 3], [0, 2, 4]), ("remove", [0, 2, 4], [1, 3])):
        expected = fid.fid_and_kid(features(translated[made]), features(images[real]))
        assert p[direction]["fid"] == pytest.approx(expected["fid"]) and p[direction]["kid"] == pytest.approx(
            expected["kid"])
    assert p["add"]["fid"] > 0.1  # The translations keep their own digits: not the real images'.
    assert "FID" in attributes.format_attribute_table([result])
    few = attributes.attribute_metrics(_write_targets, images[:3], ATTRS[:3], LABELS[:3], ORACLE, batch_size=3,
                                       inception=features)  # p is off in image 1 only: one image to add it to.
    assert few["flips"]["p"]["by_direction"]["add"]["fid"] is None


def test_evaluate_a_mask_vector_stargan_run(tmp_path, trained, cached_only, monkeypatch):
    from jaxgan import evaluate, train

    from conftest import tiny_stargan

    train.Trainer(tiny_stargan(steps=2, batch_size=8, variant="mask_vector"), str(tmp_path)).run()
    result = _evaluate(str(tmp_path), trained, monkeypatch)
    assert [d["spec"] for d in result["datasets"]] == [SPEC, "builtin:mnist/attributes2"]
    table = evaluate.format_table(result)
    assert "rotated_90" in table and "fidelity" in table

    def stargan(run, x, t, k):
        return jax.jit(run.method.translate, static_argnames="dataset")(run.state.generator_variables(), x,
                                                                        jax.random.PRNGKey(0), target=t, dataset=k)

    _check_against_translate(str(tmp_path), result, stargan)


def test_evaluate_a_fader_run(tmp_path, trained, cached_only, monkeypatch):
    from jaxgan import train

    from conftest import tiny_fader

    train.Trainer(tiny_fader(steps=2, batch_size=8), str(tmp_path)).run()
    result = _evaluate(str(tmp_path), trained, monkeypatch)
    assert [d["spec"] for d in result["datasets"]] == [SPEC]

    def fader(run, x, t, k):
        assert k == 0
        return jax.jit(run.method.translate)(run.state.generator_variables(), x, jax.random.PRNGKey(0), attributes=t)

    _check_against_translate(str(tmp_path), result, fader)
