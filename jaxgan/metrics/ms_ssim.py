"""Multi-scale structural similarity (MS-SSIM; Wang, Simoncelli & Bovik 2003) and the
within-class diversity score of AC-GAN (Odena et al. 2017).

At scale j (j = 1 the full image, each next scale a 2x2 average-pooled copy) local statistics are
taken under a normalised Gaussian window w (sigma 1.5), with 'valid' filtering:

    mu_x = w * x,   sigma_x^2 = w * x^2 - mu_x^2,   sigma_xy = w * (x y) - mu_x mu_y,
    l(x, y) = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1),
    cs(x, y) = (2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2),
    C1 = (0.01 L)^2,  C2 = (0.03 L)^2,  L the dynamic range (2 for images in [-1, 1]),

and, with the spatial mean written <.>,

    MS-SSIM(x, y) = <l cs>_M^{w_M} * prod_{j < M} <cs>_j^{w_j},

averaged over channels. Wang et al. use M = 5 scales, an 11-px window and the weights
(0.0448, 0.2856, 0.3001, 0.2363, 0.1333). An image must be at least 11 * 2^4 = 176 px wide for
that; smaller images get fewer scales: only the scales at which the window still fits are used,
with the leading weights rescaled to the five's sum (1.0001) (the coarse scales are the ones lost, as for a
lower-resolution display). For 28x28 MNIST ``jaxgan.evaluate`` uses a 7-px window (sigma 1.5,
truncated at 2 sigma) at 3 scales, 28, 14 and 7 px (maps of 22x22, 8x8 and 1x1), with weights
(0.0448, 0.2856, 0.3001) * 1.0001 / 0.6305; with the 11-px window only 28 and 14 px would fit. Negative
<cs> and <l cs> (anti-correlated structure) are clipped to 0 before the fractional powers.

AC-GAN measures the diversity of a class by the mean MS-SSIM of 100 random pairs of its samples:
lower is more diverse; real images of the class are the reference.
"""

from __future__ import annotations

import functools
from typing import Dict, Tuple

import jax
import jax.numpy as jnp
import numpy as np

WANG_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. (2003)
SIGMA = 1.5
FILTER_SIZE = 11
SMALL_IMAGE_FILTER_SIZE = 7  # For 28x28 images: 3 scales instead of 2 (see the module docstring).
NUM_PAIRS = 100  # Odena et al. (2017)
K1, K2 = 0.01, 0.03


def scale_weights(image_size: int, filter_size: int = FILTER_SIZE) -> Tuple[float, ...]:
    """Wang et al.'s weights of the scales at which a ``filter_size`` window fits an image whose
    smaller side is ``image_size`` px (each scale halves it, rounding down), rescaled to the five's sum."""
    num_scales = sum(image_size // 2**j >= filter_size for j in range(len(WANG_WEIGHTS)))
    if num_scales == 0:
        raise ValueError(f"a {filter_size}-px window does not fit a {image_size}-px image")
    kept = WANG_WEIGHTS[:num_scales]
    return tuple(w * sum(WANG_WEIGHTS) / sum(kept) for w in kept)


def gaussian_window(size: int, sigma: float = SIGMA) -> np.ndarray:
    """Normalised 2-D Gaussian window [size, size] of standard deviation ``sigma``."""
    g = np.exp(-0.5 * ((np.arange(size) - (size - 1) / 2) / sigma) ** 2)
    return np.outer(g, g) / np.sum(g) ** 2


def _filter(x: jax.Array, window: jax.Array) -> jax.Array:
    """'valid' depthwise filtering of x [N, H, W, C] with window [k, k]."""
    channels = x.shape[-1]
    kernel = jnp.tile(window[:, :, None, None], (1, 1, 1, channels))
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                        feature_group_count=channels, precision=jax.lax.Precision.HIGHEST)


def _similarity_means(x: jax.Array, y: jax.Array, window: jax.Array, max_val: float
                      ) -> Tuple[jax.Array, jax.Array]:
    """(<l cs>, <cs>) over the 'valid' map of one scale: two [N, C] arrays."""
    c1, c2 = (K1 * max_val) ** 2, (K2 * max_val) ** 2
    mu_x, mu_y = _filter(x, window), _filter(y, window)
    var_x = _filter(x * x, window) - mu_x**2
    var_y = _filter(y * y, window) - mu_y**2
    cov = _filter(x * y, window) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    contrast_structure = (2 * cov + c2) / (var_x + var_y + c2)
    return jnp.mean(luminance * contrast_structure, axis=(1, 2)), jnp.mean(contrast_structure, axis=(1, 2))


def _downsample(x: jax.Array) -> jax.Array:
    """2x2 average pooling, stride 2; an odd last row or column is dropped."""
    n, h, w, c = x.shape
    x = x[:, : h - h % 2, : w - w % 2]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


@functools.partial(jax.jit, static_argnames=("filter_size", "max_val"))
def multiscale_ssim(x: jax.Array, y: jax.Array, *, filter_size: int = FILTER_SIZE, max_val: float = 2.0
                    ) -> jax.Array:
    """MS-SSIM [N] of image pairs ``x, y [N, H, W, C]`` with dynamic range ``max_val`` (2 for the
    engine's [-1, 1]): Gaussian window ``filter_size`` (sigma 1.5), the scales of ``scale_weights``."""
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"expected two image batches [N, H, W, C] of one shape, got {x.shape}, {y.shape}")
    weights = scale_weights(min(x.shape[1:3]), filter_size)
    window = jnp.asarray(gaussian_window(filter_size), jnp.float32)
    x, y = x.astype(jnp.float32), y.astype(jnp.float32)
    score = jnp.ones((x.shape[0], x.shape[3]), jnp.float32)
    for j, weight in enumerate(weights):
        ssim, cs = _similarity_means(x, y, window, max_val)
        last = j == len(weights) - 1
        score *= jnp.maximum(ssim if last else cs, 0.0) ** weight
        x, y = _downsample(x), _downsample(y)
    return jnp.mean(score, axis=1)


def random_pairs(labels: np.ndarray, num_classes: int, num_pairs: int = NUM_PAIRS, seed: int = 0
                 ) -> np.ndarray:
    """Indices [num_classes, num_pairs, 2] of random pairs of distinct samples of each class,
    drawn uniformly with replacement; -1 for a class with fewer than two samples."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    pairs = -np.ones((num_classes, num_pairs, 2), np.int64)
    for k in range(num_classes):
        members = np.flatnonzero(labels == k)
        if len(members) >= 2:
            first = rng.integers(len(members), size=num_pairs)
            second = (first + rng.integers(1, len(members), size=num_pairs)) % len(members)
            pairs[k] = np.stack([members[first], members[second]], axis=1)
    return pairs


def class_diversity(images: np.ndarray, labels: np.ndarray, num_classes: int, *,
                    num_pairs: int = NUM_PAIRS, filter_size: int = FILTER_SIZE, seed: int = 0
                    ) -> Dict[str, object]:
    """Within-class MS-SSIM (Odena et al. 2017): the mean MS-SSIM of ``num_pairs`` random pairs of
    images of each class, dict(per_class [num_classes] (NaN for a class with < 2 images), mean over
    the other classes). Lower is more diverse."""
    images = np.asarray(images, np.float32)
    pairs = random_pairs(labels, num_classes, num_pairs, seed)
    valid = pairs[:, 0, 0] >= 0
    if not valid.any():
        raise ValueError("within-class MS-SSIM needs a class with at least two images")
    flat = pairs[valid].reshape(-1, 2)
    scores = np.asarray(multiscale_ssim(images[flat[:, 0]], images[flat[:, 1]], filter_size=filter_size))
    per_class = np.full(num_classes, np.nan)
    per_class[valid] = scores.reshape(-1, num_pairs).mean(axis=1)
    return {"per_class": per_class.tolist(), "mean": float(np.nanmean(per_class))}
