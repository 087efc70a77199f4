"""Mixed precision of the train step (``train.compute_dtype='bfloat16'``).

Convolutions and matrix products run in bfloat16 while parameters, optimizer state, losses and
everything the state keeps stay float32 (mixed-precision training, Micikevicius et al. 2018; bfloat16
keeps float32's exponent range, so no loss scaling is needed, Kalamkar et al. 2019). Inside a loss:

* every weight (a floating parameter of 2 or more dimensions: kernels, embeddings) is cast,
  w -> bf16(w); the cast's derivative is the identity, so its gradient reaches the float32 parameter;
* biases and normalisation scales and offsets stay float32: their gradients are sums over the batch
  and every pixel, which bfloat16 cannot accumulate (pix2pix's last bias: 8,192 terms stall at 4.0
  where float32 gives 76, on XLA:CPU); a layer adds its float32 bias to its bfloat16 product
  (:func:`promote_product_dtype`, the layers of ``jaxgan.networks``), so that sum is float32;
* every network call casts its floating arguments to bfloat16 (so each convolution's input and kernel
  are bfloat16; a dense layer returns its bfloat16 products' float32 sums, ``networks.layers.Dense``),
  and a network called from outside any network (a method's ``module.apply``) hands its floating
  outputs back as float32, so losses, metrics, an image pool and batch statistics are computed and
  kept in float32;
* between layers (``train.activation_dtype``): 'float32' (default) leaves a layer's output as it comes
  (a biased layer's or a normalisation's float32, an unbiased product's bfloat16), so the elementwise
  work between layers is float32; 'bfloat16' casts every inner network call's floating outputs to
  bfloat16 too, as PyTorch's autocast leaves its activations: half the memory traffic between layers.
  A normalisation still computes its statistics in float32 (Flax upcasts its reductions) and a bias
  gradient is still summed in float32 (the cast's transpose upcasts the output gradient first).

A layer whose operands include a float32 array of the network's own (a one-hot label, a spectral-norm
vector, a fixed perceptual network's weights) computes in float32.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.dtypes import promote_dtype

COMPUTE_DTYPES = {"float32": None, "bfloat16": jnp.bfloat16}


def compute_dtype(name: str) -> Optional[Any]:
    """``train.compute_dtype`` or ``train.activation_dtype`` -> the dtype (None: float32 throughout)."""
    return COMPUTE_DTYPES[name]


def promote_product_dtype(inputs: Any, kernel: Any, bias: Any = None, *, dtype: Any = None,
                          inexact: bool = True) -> list:
    """A Flax layer's ``promote_dtype`` (``nn.Dense``, ``nn.Conv``): input and kernel promoted to one
    dtype as Flax's, the bias left in its own (with no ``dtype`` forced). A bfloat16 product plus a
    float32 bias is float32, so the bias gradient, a sum over the batch and every position, is
    accumulated in float32. With float32 arrays it is Flax's ``promote_dtype``."""
    if dtype is not None:
        return promote_dtype(inputs, kernel, bias, dtype=dtype, inexact=inexact)
    return [*promote_dtype(inputs, kernel, inexact=inexact), bias]


def cast_floating(tree: Any, dtype: Any) -> Any:
    """Every floating array leaf of ``tree`` as ``dtype``; other leaves (ints, keys, strings) unchanged."""
    def cast(x: Any) -> Any:
        if isinstance(x, (jax.Array, np.ndarray)) and jnp.issubdtype(x.dtype, jnp.floating):
            return x.astype(dtype)
        return x
    return jax.tree.map(cast, tree)


def _cast_weights(params: Any, dtype: Any) -> Any:
    """Floating leaves of 2 or more dimensions as ``dtype``; vectors and scalars as they are."""
    return jax.tree.map(lambda w: cast_floating(w, dtype) if w.ndim >= 2 else w, params)


def _network_calls(dtype: Any, activation_dtype: Optional[Any]) -> Callable[..., Any]:
    """A Flax method interceptor: every network method gets its floating arguments in ``dtype``; one
    called from outside any network returns its floating outputs as float32, one inside another as
    ``activation_dtype`` (None: as they come)."""
    def interceptor(next_fun, args, kwargs, context):
        out = next_fun(*cast_floating(args, dtype), **cast_floating(kwargs, dtype))
        if not isinstance(context.module.parent, nn.Module):
            return cast_floating(out, jnp.float32)
        return out if activation_dtype is None else cast_floating(out, activation_dtype)

    return interceptor


def in_compute_dtype(fn: Callable[..., Any], dtype: Optional[Any], *, params_first: bool = True,
                     activation_dtype: Optional[Any] = None) -> Callable[..., Any]:
    """``fn(first, state, *args) -> (value, aux)`` (a method's loss or generator forward) with its
    networks computing in ``dtype`` and handing ``activation_dtype`` between layers (None: as they
    come); ``first``'s weights are cast too when it holds parameters (``params_first``), not when it is
    the step's generated images. Identity for ``dtype=None``."""
    if dtype is None:
        return fn

    def wrapped(first: Any, state: Any, *args: Any) -> Any:
        if params_first:
            first = _cast_weights(first, dtype)
        sides = {name: getattr(state, name).replace(params=_cast_weights(getattr(state, name).params, dtype))
                 for name in ("generator", "discriminator")}
        with nn.intercept_methods(_network_calls(dtype, activation_dtype)):
            out = fn(first, state.replace(**sides), *args)
        return cast_floating(out, jnp.float32)

    return wrapped
