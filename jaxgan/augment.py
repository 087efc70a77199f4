"""Differentiable Augmentation (DiffAugment; Zhao et al. 2020).

D only ever sees T(x): the same random, differentiable transformation T is applied to
real and to generated images, in D's loss and in G's loss, so G's gradient flows
through T:

    L_D = f(D(T(x))) + h(D(T(G(z)))),     L_G = g(D(T(G(z)))).

Each call draws its own T (real and fake get independent draws), and every draw is
per image, as in the paper's code. The policy is a comma-separated list applied in
order, e.g. 'color,translation,cutout' (the paper's choice for limited data):

* color: brightness + U[-0.5, 0.5), saturation x U[0, 2) around the channel mean,
  contrast x U[0.5, 1.5) around the image mean;
* translation: shift by an integer in [-s, s] pixels per axis, s = round(size / 8),
  the vacated pixels zero;
* cutout: zero a square of round(size / 2) at a uniformly drawn centre (clipped at
  the border).

Images are [B, H, W, C] in the engine's range [-1, 1]; "zero" is the paper's 0 in that range.
"""

from __future__ import annotations

from typing import Callable, Dict, Sequence, Tuple

import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError

TRANSLATION_RATIO = 1 / 8  # Zhao et al. 2020: translation within 1/8 of the image size.
CUTOUT_RATIO = 1 / 2  # Zhao et al. 2020: cutout of half the image size.


def _per_image(rng: jax.Array, x: jax.Array, low: float, high: float) -> jax.Array:
    return jax.random.uniform(rng, (x.shape[0], 1, 1, 1), x.dtype, low, high)


def brightness(x: jax.Array, rng: jax.Array) -> jax.Array:
    """x + b, b ~ U[-0.5, 0.5) per image."""
    return x + _per_image(rng, x, -0.5, 0.5)


def saturation(x: jax.Array, rng: jax.Array) -> jax.Array:
    """(x - mean_c(x)) * s + mean_c(x), s ~ U[0, 2) per image (identity on one channel)."""
    mean = jnp.mean(x, axis=3, keepdims=True)
    return (x - mean) * _per_image(rng, x, 0.0, 2.0) + mean


def contrast(x: jax.Array, rng: jax.Array) -> jax.Array:
    """(x - mean_hwc(x)) * c + mean_hwc(x), c ~ U[0.5, 1.5) per image."""
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * _per_image(rng, x, 0.5, 1.5) + mean


def _shift(x: jax.Array, shift: jax.Array, axis: int) -> jax.Array:
    """out[b, i] = x[b, i + shift[b]] along ``axis`` (1 or 2), zero where i + shift[b] is outside."""
    size = x.shape[axis]
    padding = [(0, 0)] * x.ndim
    padding[axis] = (1, 1)
    padded = jnp.pad(x, padding)  # Index 0 and size + 1 are the zero rows.
    index = jnp.clip(jnp.arange(size)[None, :] + shift[:, None] + 1, 0, size + 1)
    index = index.reshape((x.shape[0],) + tuple(size if a == axis else 1 for a in range(1, x.ndim)))
    return jnp.take_along_axis(padded, index, axis=axis)


def translation(x: jax.Array, rng: jax.Array) -> jax.Array:
    """Shifts each image by its own integer offsets in [-s, s] (rows and columns), zero fill."""
    row_rng, col_rng = jax.random.split(rng)
    batch, height, width, _ = x.shape
    s_h, s_w = int(height * TRANSLATION_RATIO + 0.5), int(width * TRANSLATION_RATIO + 0.5)
    x = _shift(x, jax.random.randint(row_rng, (batch,), -s_h, s_h + 1), axis=1)
    return _shift(x, jax.random.randint(col_rng, (batch,), -s_w, s_w + 1), axis=2)


def cutout(x: jax.Array, rng: jax.Array) -> jax.Array:
    """Zeroes a c_h x c_w square per image, c = round(size / 2), centred at a uniform position
    (the square is clipped at the border)."""
    row_rng, col_rng = jax.random.split(rng)
    batch, height, width, _ = x.shape
    c_h, c_w = int(height * CUTOUT_RATIO + 0.5), int(width * CUTOUT_RATIO + 0.5)
    # As in the paper's code: centre in [0, size + (1 - c % 2)), square from centre - c // 2.
    top = jax.random.randint(row_rng, (batch, 1), 0, height + 1 - c_h % 2) - c_h // 2
    left = jax.random.randint(col_rng, (batch, 1), 0, width + 1 - c_w % 2) - c_w // 2
    rows, cols = jnp.arange(height)[None, :], jnp.arange(width)[None, :]
    in_rows = (rows >= top) & (rows < top + c_h)  # [B, H]
    in_cols = (cols >= left) & (cols < left + c_w)  # [B, W]
    keep = 1.0 - (in_rows[:, :, None] & in_cols[:, None, :]).astype(x.dtype)
    return x * keep[..., None]


Augmentation = Callable[[jax.Array, jax.Array], jax.Array]
POLICIES: Dict[str, Tuple[Augmentation, ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def parse_policy(policy: str) -> Tuple[str, ...]:
    """'color,translation' -> ('color', 'translation'); '' -> () (no augmentation)."""
    names = tuple(name.strip() for name in policy.split(",") if name.strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ConfigError(f"config.loss.diffaugment={policy!r} names unknown policies {unknown}; "
                          f"use a comma-separated subset of {sorted(POLICIES)} ('' for none)")
    return names


def diff_augment(x: jax.Array, rng: jax.Array, policy: Sequence[str]) -> jax.Array:
    """T(x): the policy's augmentations in order, each with its own per-image draws.
    An empty policy returns ``x`` itself."""
    functions = [f for name in policy for f in POLICIES[name]]
    for f, key in zip(functions, jax.random.split(rng, max(len(functions), 1))):
        x = f(x, key)
    return x
