"""Tests of jaxgan.metrics.ms_ssim: MS-SSIM (Wang et al. 2003) and within-class diversity (AC-GAN)."""

import numpy as np
import pytest

from jaxgan.data.mnist import load_mnist
from jaxgan.data.pipeline import to_float_image
from jaxgan.metrics import SMALL_IMAGE_FILTER_SIZE, class_diversity, multiscale_ssim, scale_weights
from jaxgan.metrics.ms_ssim import WANG_WEIGHTS, gaussian_window, random_pairs

C1, C2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2  # Dynamic range 2: images in [-1, 1].


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist("test")
    return to_float_image(images[:400])[..., None], labels[:400]


def _ssim_reference(x, y, size):
    """Mean SSIM map of two [H, W] images, window by window, in float64 (one scale)."""
    w = gaussian_window(size)
    values = []
    for i in range(x.shape[0] - size + 1):
        for j in range(x.shape[1] - size + 1):
            a, b = x[i:i + size, j:j + size], y[i:i + size, j:j + size]
            ma, mb = (w * a).sum(), (w * b).sum()
            va, vb, cov = (w * a * a).sum() - ma**2, (w * b * b).sum() - mb**2, (w * a * b).sum() - ma * mb
            values.append((2 * ma * mb + C1) * (2 * cov + C2) / ((ma**2 + mb**2 + C1) * (va + vb + C2)))
    return np.mean(values)


def test_scale_weights_keep_the_scales_that_fit():
    assert scale_weights(256) == WANG_WEIGHTS  # 256, 128, 64, 32, 16 >= 11: Wang et al. exactly.
    assert scale_weights(28) == pytest.approx(np.array([0.0448, 0.2856]) * 1.0001 / 0.3304)
    assert scale_weights(28, SMALL_IMAGE_FILTER_SIZE) == pytest.approx(
        np.array([0.0448, 0.2856, 0.3001]) * 1.0001 / 0.6305)
    assert scale_weights(16) == pytest.approx((1.0001,))
    with pytest.raises(ValueError, match="does not fit"):
        scale_weights(10)


def test_gaussian_window_is_normalised_and_symmetric():
    w = gaussian_window(7)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w, w.T)
    np.testing.assert_allclose(w, w[::-1, ::-1])
    assert w.argmax() == 24  # The centre of 7 x 7.


def test_image_with_itself_is_one_and_with_noise_much_less(digits):
    images, _ = digits
    noise = np.random.default_rng(0).uniform(-1, 1, size=images[:50].shape).astype(np.float32)
    for size in (11, SMALL_IMAGE_FILTER_SIZE):
        np.testing.assert_allclose(multiscale_ssim(images[:50], images[:50], filter_size=size), 1.0, atol=1e-5)
        np.testing.assert_allclose(multiscale_ssim(noise, noise, filter_size=size), 1.0, atol=1e-5)
        assert np.all(np.asarray(multiscale_ssim(images[:50], noise, filter_size=size)) < 0.1)


def test_single_scale_matches_a_windowed_reference():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(2, 16, 16, 1))
    y = np.clip(x + rng.normal(scale=0.3, size=x.shape), -1, 1)  # 16 px: one 11-px scale (8 < 11).
    result = np.asarray(multiscale_ssim(x.astype(np.float32), y.astype(np.float32)))
    expected = [_ssim_reference(x[i, ..., 0], y[i, ..., 0], 11) ** 1.0001 for i in range(2)]
    np.testing.assert_allclose(result, expected, rtol=2e-4)


def test_constant_images_reduce_to_luminance_at_the_coarsest_scale():
    # No variance: cs = 1 at every scale, and l is the same at every scale (pooling keeps the mean).
    a, b = 0.2, -0.5
    x, y = np.full((1, 28, 28, 1), a, np.float32), np.full((1, 28, 28, 1), b, np.float32)
    luminance = (2 * a * b + C1) / (a * a + b * b + C1)
    weight = scale_weights(28, SMALL_IMAGE_FILTER_SIZE)[-1]
    result = multiscale_ssim(x, y, filter_size=SMALL_IMAGE_FILTER_SIZE)
    np.testing.assert_allclose(result, [max(luminance, 0.0) ** weight], rtol=1e-5)


def test_symmetric_and_anti_correlated_structure_is_clipped_to_zero(digits):
    images, _ = digits
    x, y = images[:20], images[20:40]
    np.testing.assert_allclose(multiscale_ssim(x, y), multiscale_ssim(y, x), rtol=1e-6)
    checkerboard = np.indices((28, 28)).sum(0) % 2 * 1.0 - 0.5
    pattern = np.asarray(checkerboard[None, ..., None], np.float32)
    np.testing.assert_allclose(multiscale_ssim(pattern, -pattern), [0.0], atol=1e-6)


def test_random_pairs_are_distinct_members_of_their_class():
    labels = np.array([0, 1, 0, 2, 0, 1])
    pairs = random_pairs(labels, 4, num_pairs=50, seed=3)
    assert pairs.shape == (4, 50, 2)
    for k in (0, 1):
        assert np.all(labels[pairs[k]] == k) and np.all(pairs[k, :, 0] != pairs[k, :, 1])
    assert len({tuple(p) for p in pairs[0]}) == 6  # Every ordered pair of the 3 members of class 0 occurs.
    assert np.all(pairs[2:] == -1)  # One sample of class 2, none of class 3.


def test_class_diversity_collapsed_class_is_one_and_noise_class_is_low(digits):
    images, _ = digits
    rng = np.random.default_rng(4)
    collapsed = np.repeat(images[:1], 10, axis=0)  # Class 0: one image repeated.
    noise = rng.uniform(-1, 1, size=(10, 28, 28, 1)).astype(np.float32)  # Class 1: unrelated images.
    labels = np.repeat([0, 1], 10)
    result = class_diversity(np.concatenate([collapsed, noise, images[1:2]]), np.append(labels, 2), 3,
                             filter_size=SMALL_IMAGE_FILTER_SIZE)
    per_class = result["per_class"]
    assert per_class[0] == pytest.approx(1.0, abs=1e-5)
    assert per_class[1] < 0.05
    assert np.isnan(per_class[2])  # A single image: no pair.
    assert result["mean"] == pytest.approx((per_class[0] + per_class[1]) / 2)


def test_real_digits_of_one_class_are_more_alike_than_of_different_classes(digits):
    images, labels = digits
    same = class_diversity(images, labels, 10, filter_size=SMALL_IMAGE_FILTER_SIZE)["mean"]
    shuffled = class_diversity(images, np.random.default_rng(5).permutation(labels), 10,
                               filter_size=SMALL_IMAGE_FILTER_SIZE)["mean"]
    assert 0.2 < shuffled < same < 0.7
