"""Improved precision and recall of a generative model (Kynkaanniemi et al. 2019).

Each set of feature vectors approximates its distribution's support (manifold) by the union of
balls centred on its points, the radius of each ball being the distance to the point's k-th
nearest neighbour in the same set (the point itself excluded):

    f(phi, Phi) = 1 if ||phi - phi'|| <= ||phi' - NN_k(phi', Phi)|| for some phi' in Phi, else 0,
    precision = mean_{phi_g in Phi_g} f(phi_g, Phi_r),   recall = mean_{phi_r in Phi_r} f(phi_r, Phi_g).

Precision is the fraction of generated samples inside the real manifold (fidelity), recall the
fraction of real samples inside the generated manifold (coverage). The paper uses k = 3 with
VGG-16 features; ``jaxgan.evaluate`` uses the MNIST classifier's features and equally sized sets
(the radii shrink as a set grows, so both sets should have the same size).

Distances are computed on device in row blocks in the matmul form
||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2, so no N x N matrix is ever held at once.
"""

from __future__ import annotations

import functools
from typing import Callable, Dict, Tuple

import jax
import jax.numpy as jnp
import numpy as np

K_NEAREST = 3  # Kynkaanniemi et al. (2019)


def _squared_distances(a: jax.Array, b: jax.Array) -> jax.Array:
    """[A, B] squared Euclidean distances, clipped at 0 against round-off."""
    cross = jnp.matmul(a, b.T, precision=jax.lax.Precision.HIGHEST)
    return jnp.maximum(jnp.sum(a * a, axis=1)[:, None] - 2.0 * cross + jnp.sum(b * b, axis=1)[None, :], 0.0)


@functools.partial(jax.jit, static_argnames="k")
def _kth_neighbour_block(block: jax.Array, start: jax.Array, points: jax.Array, k: int) -> jax.Array:
    """Squared distance of each row of ``block``, rows ``start..`` of ``points``, to its k-th
    nearest neighbour among ``points``, itself excluded (by index, so duplicates still count)."""
    d = _squared_distances(block, points)
    is_self = jnp.arange(points.shape[0])[None, :] == (start + jnp.arange(block.shape[0]))[:, None]
    negated, _ = jax.lax.top_k(-jnp.where(is_self, jnp.inf, d), k)
    return -negated[:, -1]


@jax.jit
def _covered_block(block: jax.Array, points: jax.Array, radii_sq: jax.Array) -> jax.Array:
    """Whether each row of ``block`` lies in some ball ||x - points[j]||^2 <= radii_sq[j]."""
    return jnp.any(_squared_distances(block, points) <= radii_sq[None, :], axis=1)


def _over_row_blocks(fn: Callable[[jax.Array, np.int32], jax.Array], rows: np.ndarray, batch_size: int
                     ) -> np.ndarray:
    """Concatenates ``fn(block, start)`` over row blocks of ``rows [N, D]``; the last block is
    zero-padded to ``batch_size`` rows so a jitted ``fn`` compiles once. Returns [N]."""
    n = len(rows)
    size = min(batch_size, n)
    padded = np.concatenate([rows, np.zeros((-n % size, rows.shape[1]), rows.dtype)])
    out = [np.asarray(fn(jnp.asarray(padded[s:s + size]), np.int32(s))) for s in range(0, len(padded), size)]
    return np.concatenate(out)[:n]


def _centred(*feature_sets: np.ndarray) -> Tuple[np.ndarray, ...]:
    """Float32 copies shifted by their common float64 mean: distances are unchanged, and the
    float32 expansion ||a||^2 - 2 a.b + ||b||^2 cancels smaller terms."""
    sets = [np.asarray(f, np.float64) for f in feature_sets]
    d = sets[0].shape[1] if sets[0].ndim == 2 else None
    if any(f.ndim != 2 or f.shape[1] != d for f in sets):
        raise ValueError(f"expected feature sets [N, D] of one D, got {[f.shape for f in sets]}")
    centre = np.concatenate(sets).mean(axis=0)
    return tuple((f - centre).astype(np.float32) for f in sets)


def _knn_radii_sq(points: np.ndarray, k: int, batch_size: int) -> np.ndarray:
    if not 1 <= k < len(points):
        raise ValueError(f"k={k} nearest neighbours need more than k points, got {len(points)}")
    device_points = jnp.asarray(points)
    return _over_row_blocks(lambda b, s: _kth_neighbour_block(b, s, device_points, k), points, batch_size)


def knn_radii(features: np.ndarray, k: int = K_NEAREST, batch_size: int = 1000) -> np.ndarray:
    """||phi - NN_k(phi, Phi)|| for every row phi of ``features`` [N, D] (itself excluded): [N]."""
    (points,) = _centred(features)
    return np.sqrt(_knn_radii_sq(points, k, batch_size))


def _coverage(queries: np.ndarray, points: np.ndarray, k: int, batch_size: int) -> float:
    """mean_{q in queries} f(q, points): the fraction of queries inside the k-NN balls of points."""
    radii_sq = jnp.asarray(_knn_radii_sq(points, k, batch_size))
    device_points = jnp.asarray(points)
    covered = _over_row_blocks(lambda b, s: _covered_block(b, device_points, radii_sq), queries, batch_size)
    return float(covered.mean())


def improved_precision_recall(real: np.ndarray, fake: np.ndarray, k: int = K_NEAREST, batch_size: int = 1000
                     ) -> Dict[str, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of ``fake [M, D]`` features with
    respect to ``real [N, D]`` features: dict(precision, recall), each in [0, 1]."""
    real, fake = _centred(real, fake)
    return {"precision": _coverage(fake, real, k, batch_size), "recall": _coverage(real, fake, k, batch_size)}
