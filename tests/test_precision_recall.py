"""Tests of jaxgan.metrics.precision_recall: improved precision and recall (Kynkaanniemi et al. 2019)."""

import numpy as np
import pytest

from jaxgan.metrics import improved_precision_recall, knn_radii


def _reference(real, fake, k):
    """Brute force in float64: direct pairwise distances."""
    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    def coverage(queries, points):
        d = np.linalg.norm(queries[:, None] - points[None], axis=-1)
        return np.mean(np.any(d <= radii(points)[None], axis=1))

    return {"precision": coverage(fake, real), "recall": coverage(real, fake)}


def test_knn_radii_on_a_line_exclude_the_point_itself():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    np.testing.assert_allclose(knn_radii(points, k=1), [1, 1, 2, 4], atol=1e-5)
    np.testing.assert_allclose(knn_radii(points, k=2), [3, 2, 3, 6], atol=1e-5)
    np.testing.assert_allclose(knn_radii(np.array([[0.0], [0.0], [5.0]]), k=1), [0, 0, 5], atol=1e-5)
    with pytest.raises(ValueError, match="more than k points"):
        knn_radii(points, k=4)


def test_identical_sets_give_precision_and_recall_one():
    features = np.random.default_rng(0).normal(size=(200, 16)) * 3.0 + 10.0
    assert improved_precision_recall(features, features.copy()) == {"precision": 1.0, "recall": 1.0}


def test_disjoint_far_apart_sets_give_zero():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(100, 8)), rng.normal(size=(120, 8)) + 1000.0
    assert improved_precision_recall(real, fake) == {"precision": 0.0, "recall": 0.0}


def test_a_mode_dropping_generator_has_precision_but_not_recall():
    rng = np.random.default_rng(2)
    real = np.concatenate([rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 50.0])
    fake = real[:100] + 0.01 * rng.normal(size=(100, 2))  # Only the first of the two modes.
    result = improved_precision_recall(real, fake)
    assert result["precision"] == 1.0
    assert 0.4 < result["recall"] <= 0.5


def test_hand_example_with_one_outlier():
    real = np.arange(10.0)[:, None]  # k = 1: every real ball has radius 1.
    fake = np.array([[0.5], [20.0], [30.0], [40.0]])  # Radii 19.5, 10, 10, 10.
    assert improved_precision_recall(real, fake, k=1) == {"precision": 0.25, "recall": 1.0}


def test_matches_brute_force_and_does_not_depend_on_the_block_size():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(90, 5)), 0.6 * rng.normal(size=(70, 5)) + 0.8
    expected = _reference(real, fake, k=3)
    assert 0.0 < expected["precision"] < 1.0 and 0.0 < expected["recall"] < 1.0
    for batch_size in (1000, 16):  # 90 = 5 * 16 + 10: padded blocks.
        result = improved_precision_recall(real, fake, batch_size=batch_size)
        assert result == pytest.approx(expected, abs=1e-12)
