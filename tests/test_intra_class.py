"""Tests of jaxgan.metrics.intra_class: the intra-class Frechet distance (Miyato & Koyama 2018)."""

import numpy as np
import pytest

from jaxgan.metrics import frechet_classifier_distance, intra_class_frechet_distance


def _class_features(rng, num_classes=3, per_class=40, dim=4):
    labels = np.repeat(np.arange(num_classes), per_class)
    return rng.normal(size=(len(labels), dim)) + 5.0 * labels[:, None], labels


def test_identical_per_class_sets_give_zero():
    features, labels = _class_features(np.random.default_rng(0))
    order = np.random.default_rng(1).permutation(len(labels))  # The order within a set is irrelevant.
    result = intra_class_frechet_distance(features, labels, features[order], labels[order], 3)
    np.testing.assert_allclose(result["per_class"], 0.0, atol=1e-8)
    assert result["mean"] == pytest.approx(0.0, abs=1e-8)


def test_a_shifted_class_costs_its_squared_shift():
    features, labels = _class_features(np.random.default_rng(2))
    shifted = features.copy()
    shifted[labels == 1] += np.array([3.0, 0.0, 4.0, 0.0])  # Same covariance, mean moved by 5.
    result = intra_class_frechet_distance(shifted, labels, features, labels, 3)
    np.testing.assert_allclose(result["per_class"], [0.0, 25.0, 0.0], atol=1e-8)
    assert result["mean"] == pytest.approx(25.0 / 3)


def test_swapped_labels_are_caught_where_the_overall_distance_is_blind():
    features, labels = _class_features(np.random.default_rng(3), num_classes=2)
    swapped = 1 - labels  # Every sample is a perfect image of the other class.
    assert frechet_classifier_distance(features, features) == pytest.approx(0.0, abs=1e-8)
    result = intra_class_frechet_distance(features, swapped, features, labels, 2)
    assert min(result["per_class"]) > 40.0  # The class means are 5 * sqrt(4) = 10 apart: d^2 ~ 100.


def test_a_class_without_two_samples_is_nan_and_left_out_of_the_mean():
    features, labels = _class_features(np.random.default_rng(4))
    shifted = features + 1.0  # Squared shift 4 in every class.
    keep = labels != 2
    result = intra_class_frechet_distance(shifted[keep], labels[keep], features, labels, 3)
    assert np.isnan(result["per_class"][2])
    np.testing.assert_allclose(result["per_class"][:2], 4.0, rtol=1e-8)
    assert result["mean"] == pytest.approx(4.0)
    with pytest.raises(ValueError, match="at least two samples"):
        intra_class_frechet_distance(features[:1], labels[:1], features, labels, 3)
