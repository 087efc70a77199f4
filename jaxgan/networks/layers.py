"""Reusable layers shared by the networks."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.precision import promote_product_dtype


def _matmul(x: jax.Array, w: jax.Array) -> jax.Array:
    return jax.lax.dot_general(x, w, (((x.ndim - 1,), (0,)), ((), ())), preferred_element_type=jnp.float32)


@jax.custom_vjp
def float32_sum_product(x: jax.Array, w: jax.Array) -> jax.Array:
    """y[..., n] = sum_k x[..., k] w[k, n] for x and w of one dtype, summed and returned in float32. Its
    gradients are products of the same kind with the output gradient g cast to the operands' dtype,
    dx = cast(g) w^T and dw = x^T cast(g), each cast back to its operand's dtype (so a bfloat16 layer's
    backward pass multiplies bfloat16 operands, as its forward pass does)."""
    return _matmul(x, w)


def _float32_sum_product_fwd(x, w):
    """Keeps what each needed gradient reads: w for dx where x is differentiated, x for dw where w is (an
    input image or noise gets no gradient product, so none is traced)."""
    y = _matmul(x.value, w.value)
    return y, (w.value if x.perturbed else None, x.value if w.perturbed else None)


def _float32_sum_product_bwd(residuals, g):
    w, x = residuals  # x and w share one dtype (_dense_product), so each gradient takes the other's.
    if isinstance(g, jax.custom_derivatives.SymbolicZero):
        return None, None
    dx = dw = None
    if w is not None:
        dx = jax.lax.dot_general(g.astype(w.dtype), w, (((g.ndim - 1,), (1,)), ((), ())),
                                 preferred_element_type=jnp.float32).astype(w.dtype)
    if x is not None:
        g_w = g.astype(x.dtype).reshape(-1, g.shape[-1])
        dw = jax.lax.dot_general(x.reshape(-1, x.shape[-1]), g_w, (((0,), (0,)), ((), ())),
                                 preferred_element_type=jnp.float32).astype(x.dtype)
    return dx, dw


float32_sum_product.defvjp(_float32_sum_product_fwd, _float32_sum_product_bwd, symbolic_zeros=True)


def _dense_product(x, w, dimension_numbers, precision=None, **kwargs):
    """``flax.linen.Dense``'s product: :func:`float32_sum_product` for bfloat16 operands, lax's otherwise."""
    dense = tuple(map(tuple, dimension_numbers[0])) == ((x.ndim - 1,), (0,)) and not any(dimension_numbers[1])
    if x.dtype == w.dtype == jnp.bfloat16 and dense and precision is None and not kwargs:
        return float32_sum_product(x, w)
    return jax.lax.dot_general(x, w, dimension_numbers, precision=precision, **kwargs)


# ``flax.linen.Dense`` adding its bias in the bias's own dtype (float32 under mixed precision, jaxgan.precision),
# its bfloat16 products returned as their float32 sums: what XLA:CPU's YNNPACK runs on a CPU's bf16 units (AMX),
# 4.5x faster than float32 and 8x faster than a bf16 result (benchmarks/RESULTS.md, "bfloat16 on this CPU");
# lax's product in float32.
Dense = functools.partial(nn.Dense, promote_dtype=promote_product_dtype, dot_general=_dense_product)


class ConditionalBatchNorm(nn.Module):
    """Conditional batch normalisation (de Vries et al. 2017; Dumoulin et al. 2017):

        CBN(h | y) = gamma_y * (h - mu_B) / sqrt(sigma_B^2 + eps) + beta_y

    Batch statistics mu_B, sigma_B^2 over every axis but the last (channels), with running
    averages in the ``batch_stats`` collection as in batch norm; the scale gamma_y and
    shift beta_y are rows of per-class tables ``gamma`` [K, C] (initialised to 1) and
    ``beta`` [K, C] (initialised to 0), picked by the integer label y: the categorical
    conditional batch norm of Miyato & Koyama (2018)'s generator.
    """

    num_classes: int
    momentum: float = 0.99  # Running-average decay, as flax.linen.BatchNorm.
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, h: jax.Array, labels: jax.Array, *, use_running_average: bool) -> jax.Array:
        channels = h.shape[-1]
        normalized = nn.BatchNorm(use_running_average=use_running_average, momentum=self.momentum,
                                  epsilon=self.epsilon, use_scale=False, use_bias=False)(h)
        gamma = self.param("gamma", nn.initializers.ones, (self.num_classes, channels))
        beta = self.param("beta", nn.initializers.zeros, (self.num_classes, channels))
        per_example = (labels.shape[0],) + (1,) * (h.ndim - 2) + (channels,)
        return (normalized * jnp.take(gamma, labels, axis=0).reshape(per_example)
                + jnp.take(beta, labels, axis=0).reshape(per_example))


def apply_layer(module: nn.Module, inputs: jax.Array, *, spectral_norm: bool, train: bool) -> jax.Array:
    """``module(inputs)``, or with W / sigma(W) in place of every weight W under spectral norm
    (Miyato et al. 2018); the power iteration's vector u is kept in 'batch_stats' and updated
    when training."""
    if spectral_norm:
        return nn.SpectralNorm(module)(inputs, update_stats=train)
    return module(inputs)


def upsample_2x(h: jax.Array) -> jax.Array:
    """Nearest-neighbour 2x up-sampling of [B, H, W, C] maps."""
    b, height, width, c = h.shape
    return jax.image.resize(h, (b, 2 * height, 2 * width, c), "nearest")


def max_pool_2x2(h: jax.Array) -> jax.Array:
    """2x2 max pooling with stride 2 of [B, H, W, C] maps, odd sizes floored: the values of
    ``nn.max_pool(h, (2, 2), strides=(2, 2))``,

        y[b, i, j, c] = max_{p, q in {0, 1}} h[b, 2i + p, 2j + q, c],

    computed as a reshape and a max over the block axes. Its gradient is then a mask of the maxima
    (shared equally among tied maxima, where ``nn.max_pool``'s goes to the first); ``nn.max_pool``'s is a
    select-and-scatter, which XLA:CPU lowers to a slow scatter (RESULTS.md, "Max pooling as a reshape")."""
    b, height, width, c = h.shape
    h = h[:, :height // 2 * 2, :width // 2 * 2]
    return h.reshape(b, height // 2, 2, width // 2, 2, c).max(axis=(2, 4))
