"""Tests of jaxgan.metrics: Frechet distance, Parzen windows, the MNIST classifier."""

import os

import jax
import numpy as np
import pytest
from flax import serialization

from jaxgan.data.mnist import load_mnist
from jaxgan.metrics import (
    DEFAULT_WEIGHTS,
    classify_in_batches,
    feature_statistics,
    frechet_classifier_distance,
    frechet_distance,
    label_accuracy,
    load_classifier,
    parzen_estimate,
    parzen_log_likelihood,
    per_class_accuracy,
    select_sigma,
    to_unit_vectors,
)
from jaxgan.metrics.classifier import MNISTClassifier, init_params
from jaxgan.metrics.train_classifier import random_shift, to_model_space, train


def _random_spd(rng, d, rank=None):
    a = rng.normal(size=(d, rank or d))
    return a @ a.T / d


def _random_rotation(rng, d):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


# ----------------------------------------------------------------------------- Frechet


def test_frechet_identical_statistics_is_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=6), _random_spd(rng, 6)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_frechet_one_dimensional_closed_form():
    # N(0, 1) vs N(1, 4): 1 + 1 + 4 - 2 * sqrt(1 * 4) = 2.
    assert frechet_distance(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1)) == pytest.approx(2.0)
    assert frechet_distance(0.0, 1.0, 1.0, 4.0) == pytest.approx(2.0)


def test_frechet_diagonal_closed_form():
    # Commuting covariances: ||mu1 - mu2||^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([3.0, 1.0, 0.0])
    expected = 9.0 + 4.0 + (1 + 1 + 2.5**2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)


def test_frechet_rotation_invariant():
    rng = np.random.default_rng(1)
    d = 5
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
    q = _random_rotation(rng, d)
    rotated = frechet_distance(q @ mu1, q @ s1 @ q.T, q @ mu2, q @ s2 @ q.T)
    assert rotated == pytest.approx(frechet_distance(mu1, s1, mu2, s2), rel=1e-9)


def test_frechet_non_negative_with_singular_covariances():
    rng = np.random.default_rng(2)
    for _ in range(20):
        s = _random_spd(rng, 8, rank=3)
        mu = rng.normal(size=8)
        assert frechet_distance(mu, s, mu + 1e-9, s * (1 + 1e-12)) >= 0.0
        assert frechet_distance(mu, s, rng.normal(size=8), _random_spd(rng, 8, rank=2)) >= 0.0


def _sqrtm_by_eig(a):
    """Principal square root of a diagonalisable matrix with non-negative eigenvalues."""
    w, v = np.linalg.eig(a)
    return (v * np.sqrt(w.astype(complex))) @ np.linalg.inv(v)


def test_frechet_matches_direct_sqrtm():
    rng = np.random.default_rng(3)
    for d in (2, 4, 7):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
        root = _sqrtm_by_eig(s1 @ s2)
        np.testing.assert_allclose(root @ root, s1 @ s2, atol=1e-8)
        direct = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root).real
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(direct, rel=1e-8)


def test_feature_statistics_and_classifier_distance():
    rng = np.random.default_rng(4)
    features = rng.normal(size=(50, 3)).astype(np.float32)
    mu, sigma = feature_statistics(features)
    np.testing.assert_allclose(mu, features.astype(np.float64).mean(0))
    np.testing.assert_allclose(sigma, np.cov(features.astype(np.float64).T))
    assert feature_statistics(features[:, :1])[1].shape == (1, 1)
    shift = np.array([1.0, -2.0, 0.5])
    # Translating one set moves only the mean term.
    assert frechet_classifier_distance(features, features + shift) == pytest.approx(5.25, rel=1e-5)
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


# ----------------------------------------------------------------------------- Parzen


def _gaussian_log_density(x, mu, sigma):
    d = x.size
    return -np.sum((x - mu) ** 2) / (2 * sigma**2) - d / 2 * np.log(2 * np.pi * sigma**2)


def test_parzen_single_sample_is_gaussian_density():
    rng = np.random.default_rng(5)
    mu, x = rng.uniform(size=(1, 20)), rng.uniform(size=(1, 20))
    for sigma in (0.1, 0.3, 1.0):
        ll = parzen_log_likelihood(mu, x, sigma)
        assert ll.shape == (1,)
        assert ll[0] == pytest.approx(_gaussian_log_density(x[0], mu[0], sigma), rel=1e-5)


def test_parzen_two_samples_is_mixture():
    mus = np.array([[0.2, 0.4, 0.6], [0.9, 0.1, 0.5]])
    x = np.array([[0.5, 0.5, 0.5], [0.2, 0.4, 0.6]])
    sigma = 0.25
    ll = parzen_log_likelihood(mus, x, sigma)
    for i in range(2):
        densities = [np.exp(_gaussian_log_density(x[i], m, sigma)) for m in mus]
        assert ll[i] == pytest.approx(np.log(np.mean(densities)), rel=1e-6, abs=1e-6)


def test_parzen_matches_float64_reference_in_mnist_dimension():
    rng = np.random.default_rng(6)
    samples = rng.uniform(size=(64, 784)) ** 4  # mostly dark, like MNIST digits
    data = rng.uniform(size=(16, 784)) ** 4
    sigma = 0.1
    sq = ((data[:, None, :] - samples[None, :, :]) ** 2).sum(-1)
    a = -sq / (2 * sigma**2)
    top = a.max(1, keepdims=True)
    lse = (top + np.log(np.exp(a - top).sum(1, keepdims=True)))[:, 0]
    expected = lse - np.log(64) - 784 / 2 * np.log(2 * np.pi * sigma**2)
    np.testing.assert_allclose(parzen_log_likelihood(samples, data, sigma), expected, rtol=1e-5)


def test_parzen_batch_padding_matches_unbatched():
    rng = np.random.default_rng(7)
    samples, data = rng.uniform(size=(30, 10)), rng.uniform(size=(37, 10))
    full = parzen_log_likelihood(samples, data, 0.2, batch_size=1000)
    batched = parzen_log_likelihood(samples, data, 0.2, batch_size=8)  # 37 = 4 * 8 + 5
    np.testing.assert_allclose(batched, full, rtol=1e-6)
    _, means_full = select_sigma(samples, data, [0.1, 0.2, 0.5], batch_size=1000)
    _, means_batched = select_sigma(samples, data, [0.1, 0.2, 0.5], batch_size=8)
    np.testing.assert_allclose(means_batched, means_full, rtol=1e-6)
    assert means_full[1] == pytest.approx(full.mean(), rel=1e-6)


def test_select_sigma_picks_known_maximiser():
    # One sample at 0.5, validation at 0.5 +- 0.3: mean log p = -0.09/(2 s^2) - log(2 pi s^2)/2,
    # maximised at s = 0.3.
    samples = np.array([[0.5]])
    validation = np.array([[0.2], [0.8]])
    sigmas = [0.1, 0.2, 0.3, 0.5, 1.0]
    best, means = select_sigma(samples, validation, sigmas)
    assert best == 0.3
    expected = [-0.09 / (2 * s**2) - 0.5 * np.log(2 * np.pi * s**2) for s in sigmas]
    np.testing.assert_allclose(means, expected, rtol=1e-5)


def test_parzen_estimate_and_input_checks():
    samples = np.array([[0.5]])
    validation = np.array([[0.2], [0.8]])
    test = np.array([[0.5], [0.9]])
    result = parzen_estimate(samples, validation, test, sigmas=[0.1, 0.3, 1.0])
    lls = [_gaussian_log_density(t, samples[0], 0.3) for t in test]
    assert result["sigma"] == 0.3
    assert result["mean"] == pytest.approx(np.mean(lls), rel=1e-5)
    assert result["std_error"] == pytest.approx(np.std(lls) / np.sqrt(2), rel=1e-4)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        parzen_log_likelihood(samples - 1.0, test, 0.3)
    images = np.array([[[[-1.0], [1.0]], [[0.0], [0.5]]]])
    np.testing.assert_allclose(to_unit_vectors(images), [[0.0, 1.0, 0.5, 0.75]])


# ----------------------------------------------------------------------------- classifier


def test_classifier_shapes_and_parameter_count():
    variables = jax.eval_shape(init_params, jax.random.PRNGKey(0))
    # 28 -conv-> 26 -conv-> 24 -pool-> 12 -conv-> 10 -conv-> 8 -pool-> 4 ('VALID' 3x3 convs).
    expected = (
        (3 * 3 * 1 * 32 + 32)
        + (3 * 3 * 32 * 32 + 32)
        + (3 * 3 * 32 * 64 + 64)
        + (3 * 3 * 64 * 64 + 64)
        + (4 * 4 * 64 * 128 + 128)
        + (128 * 10 + 10)
    )
    assert sum(p.size for p in jax.tree_util.tree_leaves(variables)) == expected == 197482
    images = jax.ShapeDtypeStruct((3, 28, 28, 1), np.float32)
    logits, features = jax.eval_shape(MNISTClassifier().apply, variables, images)
    assert logits.shape == (3, 10) and features.shape == (3, 128)


def test_shipped_weights_classify_mnist_test_images():
    fn = load_classifier()
    images, labels = load_mnist("test")
    x = to_model_space(images[:2000])
    logits, features = classify_in_batches(fn, x, batch_size=900)  # 2000 = 2 * 900 + 200
    assert logits.shape == (2000, 10) and features.shape == (2000, 128)
    direct_logits, direct_features = fn(x[1100:])  # same batch shape: no recompile
    np.testing.assert_allclose(logits[1800:], direct_logits[700:], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(features[1800:], direct_features[700:], rtol=1e-4, atol=1e-4)
    assert np.all(features >= 0)  # post-ReLU penultimate layer
    assert label_accuracy(logits, labels[:2000]) >= 0.985


def test_missing_or_foreign_weights_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="jaxgan.metrics.train_classifier"):
        load_classifier(os.path.join(tmp_path, "missing.msgpack"))
    foreign = os.path.join(tmp_path, "foreign.msgpack")
    with open(foreign, "wb") as f:
        f.write(serialization.to_bytes({"params": {"Dense_0": {"kernel": np.zeros((2, 2))}}}))
    with pytest.raises(ValueError, match="MNISTClassifier"):
        load_classifier(foreign)
    assert os.path.isfile(DEFAULT_WEIGHTS)


def test_short_training_run_reduces_loss_and_is_deterministic():
    images, labels = load_mnist("train")
    x, y = to_model_space(images[:512]), labels[:512]
    kwargs = dict(steps=20, batch_size=32, learning_rate=3e-3, max_shift=0, seed=1)
    variables, losses = train(x, y, **kwargs)
    assert losses.shape == (20,) and np.all(np.isfinite(losses))
    assert losses[-5:].mean() < 0.7 * losses[:5].mean()
    _, again = train(x, y, **kwargs)  # compiled step is reused
    np.testing.assert_array_equal(again, losses)
    assert sum(p.size for p in jax.tree_util.tree_leaves(variables)) == 197482


def test_random_shift_moves_a_pixel_within_range():
    image = -np.ones((64, 28, 28, 1), np.float32)
    image[:, 14, 14, 0] = 1.0
    shifted = np.asarray(random_shift(jax.random.PRNGKey(0), image, max_shift=2))
    rows, cols = np.nonzero(shifted[..., 0] == 1.0)[1:]
    assert np.all((shifted == 1.0).sum(axis=(1, 2, 3)) == 1)
    assert np.all(np.abs(rows - 14) <= 2) and np.all(np.abs(cols - 14) <= 2)
    assert len(set(zip(rows, cols))) > 10
    np.testing.assert_array_equal(random_shift(jax.random.PRNGKey(0), image, max_shift=0), image)


def test_label_accuracy_hand_examples():
    logits = np.array([[5.0, 0.0, 0.0], [0.0, 2.0, 1.0], [0.0, 3.0, 1.0], [1.0, 0.0, 0.0]])
    labels = np.array([0, 1, 2, 0])
    assert label_accuracy(logits, labels) == pytest.approx(0.75)
    np.testing.assert_allclose(per_class_accuracy(logits, labels, 3), [1.0, 1.0, 0.0])
    per_class = per_class_accuracy(logits[:2], labels[:2], 4)
    np.testing.assert_allclose(per_class[:2], [1.0, 1.0])
    assert np.isnan(per_class[2]) and np.isnan(per_class[3])
