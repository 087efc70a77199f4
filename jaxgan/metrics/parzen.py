"""Gaussian Parzen window log-likelihood of test data under generated samples.

The protocol of Breuleux et al. (2011), used by Goodfellow et al. (2014, Table 1) and by
Mirza & Osindero (2014, Table 1) for conditional adversarial nets on MNIST: fit an isotropic
Gaussian Parzen window on generated samples mu_1..mu_N (flattened, pixels in [0, 1]),

    log p(x) = logsumexp_i(-||x - mu_i||^2 / (2 sigma^2)) - log N - (d/2) log(2 pi sigma^2),

choose sigma by the mean log-likelihood of a validation set and report the mean (and its
standard error) on the test set.
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

DEFAULT_SIGMAS = np.logspace(-1.0, 0.0, 10)


def to_unit_vectors(images: np.ndarray) -> np.ndarray:
    """jaxgan images [N, H, W, C] in [-1, 1] -> flattened float32 [N, H*W*C] in [0, 1]."""
    images = np.asarray(images, np.float32)
    return ((images.reshape(len(images), -1) + 1.0) / 2.0).clip(0.0, 1.0)


@jax.jit
def _shifted_logsumexp(
    x: jax.Array, mu: jax.Array, mu_sq: jax.Array, inv_two_var: jax.Array
) -> Tuple[jax.Array, jax.Array]:
    """Squared distances of x [B, d] to mu [N, d], once; then, for every 1/(2 sigma^2) [S],

    lse[b, s] = logsumexp_i(-(D[b, i] - min_i D[b, i]) / (2 sigma_s^2)) >= 0.
    Returns (min_i D [B], lse [B, S]); the caller adds -min D / (2 sigma^2) in float64.
    """
    cross = jnp.matmul(x, mu.T, precision=jax.lax.Precision.HIGHEST)
    sq = jnp.maximum(jnp.sum(x * x, axis=1, keepdims=True) - 2.0 * cross + mu_sq[None, :], 0.0)
    nearest = jnp.min(sq, axis=1)
    excess = sq - nearest[:, None]
    lse = jax.vmap(lambda c: jax.nn.logsumexp(-excess * c, axis=1), out_axes=1)(inv_two_var)
    return nearest, lse


def _log_likelihoods(
    samples: np.ndarray, data: np.ndarray, sigmas: Sequence[float], batch_size: int
) -> np.ndarray:
    """log p(x) for every x in ``data`` and every sigma: float64 [len(data), len(sigmas)]."""
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    data = np.asarray(data, np.float64).reshape(len(data), -1)
    sigmas = np.asarray(sigmas, np.float64).reshape(-1)
    if samples.shape[1] != data.shape[1]:
        raise ValueError(f"samples have {samples.shape[1]} dimensions, data {data.shape[1]}")
    if len(samples) == 0 or len(data) == 0 or len(sigmas) == 0 or np.any(sigmas <= 0):
        raise ValueError("need at least one sample, one data point and positive sigmas")
    for name, a in (("samples", samples), ("data", data)):
        if a.min() < 0.0 or a.max() > 1.0:
            raise ValueError(f"{name} must lie in [0, 1] (see to_unit_vectors), got [{a.min()}, {a.max()}]")
    # Distances are translation invariant; centring keeps the float32 expansion
    # ||x||^2 - 2 x.mu + ||mu||^2 from cancelling large terms.
    centre = samples.mean(axis=0)
    mu = jnp.asarray(samples - centre, jnp.float32)
    mu_sq = jnp.sum(mu * mu, axis=1)
    inv_two_var = jnp.asarray(1.0 / (2.0 * sigmas**2), jnp.float32)
    n, d = data.shape
    batch_size = min(batch_size, n)
    x = np.zeros((n + (-n % batch_size), d), np.float32)
    x[:n] = data - centre
    nearest, lse = [], []
    for start in range(0, len(x), batch_size):
        a, b = _shifted_logsumexp(jnp.asarray(x[start : start + batch_size]), mu, mu_sq, inv_two_var)
        nearest.append(np.asarray(a, np.float64))
        lse.append(np.asarray(b, np.float64))
    nearest, lse = np.concatenate(nearest)[:n], np.concatenate(lse)[:n]
    const = -np.log(len(samples)) - 0.5 * d * np.log(2.0 * np.pi * sigmas**2)
    return lse - nearest[:, None] / (2.0 * sigmas**2) + const


def parzen_log_likelihood(
    samples: np.ndarray, data: np.ndarray, sigma: float, batch_size: int = 250
) -> np.ndarray:
    """log p(x) [len(data)] of each row of ``data`` under a Parzen window of width ``sigma``
    centred on ``samples`` (both [N, d] or images, pixel values in [0, 1])."""
    return _log_likelihoods(samples, data, [sigma], batch_size)[:, 0]


def select_sigma(
    samples: np.ndarray,
    validation: np.ndarray,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
    batch_size: int = 250,
) -> Tuple[float, np.ndarray]:
    """(sigma with the highest mean validation log-likelihood, mean log-likelihood per sigma).

    Squared distances are computed once per batch and shared by every sigma.
    """
    sigmas = np.asarray(sigmas, np.float64).reshape(-1)
    means = _log_likelihoods(samples, validation, sigmas, batch_size).mean(axis=0)
    return float(sigmas[int(np.argmax(means))]), means


def parzen_estimate(
    samples: np.ndarray,
    validation: np.ndarray,
    test: np.ndarray,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
    batch_size: int = 250,
) -> Dict[str, float]:
    """Parzen window estimate of the test log-likelihood: dict(sigma, mean, std_error).

    sigma is picked on ``validation`` from ``sigmas`` (10 log-spaced values in [0.1, 1] as in
    Goodfellow et al. 2014); std_error = std(log p) / sqrt(n_test). Mirza & Osindero (2014)
    use 10k validation images held out of the MNIST training set, the 10k test images and
    (following Goodfellow et al.) 10k generated samples; all flattened with pixels in [0, 1].
    """
    sigma, _ = select_sigma(samples, validation, sigmas, batch_size)
    ll = parzen_log_likelihood(samples, test, sigma, batch_size)
    return {"sigma": sigma, "mean": float(ll.mean()), "std_error": float(ll.std() / np.sqrt(len(ll)))}
