"""Tests of jaxgan.metrics.inception: the Inception-score analogue (Salimans et al. 2016)."""

import numpy as np
import pytest

from jaxgan.metrics import inception_score

CONFIDENT = 60.0  # A logit margin that makes the softmax one-hot to float32 precision.


def _one_hot_logits(classes, num_classes):
    return CONFIDENT * np.eye(num_classes, dtype=np.float32)[classes]


@pytest.mark.parametrize("num_classes", [2, 4, 10])
def test_confident_uniform_predictions_score_the_number_of_classes(num_classes):
    logits = _one_hot_logits(np.arange(20 * num_classes) % num_classes, num_classes)  # Balanced splits.
    result = inception_score(logits)
    assert result["mean"] == pytest.approx(num_classes, rel=1e-5)
    assert result["std"] == pytest.approx(0.0, abs=1e-4)


def test_identical_predictions_score_one():
    logits = np.tile(np.array([[0.3, -1.0, 2.0, 0.5]], np.float32), (50, 1))
    assert inception_score(logits) == pytest.approx({"mean": 1.0, "std": 0.0}, abs=1e-6)
    collapsed = _one_hot_logits(np.full(50, 3), 10)  # Confident, but one class only.
    assert inception_score(collapsed)["mean"] == pytest.approx(1.0, abs=1e-6)


def test_hand_computed_single_split():
    # p(y|x) = (1/2, 1/2) and (1, 0): p(y) = (3/4, 1/4).
    logits = np.array([[0.0, 0.0], [CONFIDENT, 0.0]], np.float32)
    kl = [0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25), np.log(1 / 0.75)]
    result = inception_score(logits, num_splits=1)
    assert result["mean"] == pytest.approx(np.exp(np.mean(kl)), rel=1e-5)
    assert result["std"] == 0.0


def test_splits_are_contiguous_and_summarised_by_mean_and_std():
    # 5 samples in 2 splits of 3 and 2: one class only (score 1), then two classes evenly (score 2).
    logits = _one_hot_logits(np.array([0, 0, 0, 0, 1]), 2)
    logits[3:] = _one_hot_logits(np.array([0, 1]), 2)
    assert inception_score(logits, num_splits=2) == pytest.approx({"mean": 1.5, "std": 0.5}, rel=1e-5)


def test_too_few_samples_raise():
    with pytest.raises(ValueError, match="num_splits"):
        inception_score(np.zeros((9, 10)))
