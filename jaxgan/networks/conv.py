"""Transposed convolutions computed as sub-pixel (phase) convolutions.

On XLA:CPU ``flax.linen.ConvTranspose`` lowers to a convolution over its input dilated with
zeros: at stride s, all but 1 / s^n of the multiply-adds of an n-d layer are with inserted zeros.
:class:`ConvTranspose` here has the same fields, parameters and outputs, but computes the exact
sub-pixel decomposition (Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution
Using an Efficient Sub-Pixel Convolutional Neural Network", sec. 2.2; Odena et al. 2016,
"Deconvolution and Checkerboard Artifacts"): stride-1 convolutions with s^n * C_out outputs in
all, then depth-to-space. Measurements: benchmarks/RESULTS.md, "Transposed convolutions as sub-pixel
convolutions (XLA:CPU)".
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.linear import canonicalize_padding
from jax import lax

from jaxgan.errors import ConfigError

DECOMPOSITIONS = ("auto", "one_convolution", "phase_convolutions")
# 'auto' runs s^n phase convolutions from this many output features up, one convolution below:
# the faster of the two on XLA:CPU in benchmarks/conv_transpose.py (RESULTS.md, 2026-12-01).
PHASE_CONVOLUTIONS_MIN_FEATURES = 16


def _low_high_padding(padding, kernel: int, stride: int) -> Tuple[int, int]:
    """The padding (low, high) of the zero-dilated input, as ``lax.conv_transpose`` computes it:
    'SAME' and 'VALID' name the padding of the forward convolution; pairs are used as given."""
    if padding == "SAME":
        total = kernel + stride - 2
        low = kernel - 1 if stride > kernel - 1 else -(-total // 2)
        return low, total - low
    if padding == "VALID":
        return kernel - 1, stride - 1 + max(kernel - stride, 0)
    return tuple(padding)


@dataclasses.dataclass(frozen=True)
class _Axis:
    """One spatial axis of the decomposition (symbols of the :class:`ConvTranspose` docstring):
    kernel size K, input size N, output length L, q = ceil(L / s) outputs per phase, the first
    input offset e_min and the tap table idx [T, s]: idx[t, r] is the tap of W' that multiplies
    x[q + e_min + t] in output phase r, or K (a zero slot) where no tap does."""

    kernel: int
    size: int
    length: int
    q: int
    e_min: int
    idx: np.ndarray

    @classmethod
    def of(cls, kernel: int, stride: int, padding, size: int) -> "_Axis":
        low, high = _low_high_padding(padding, kernel, stride)
        offsets = [(k + r - low) // stride for r in range(stride) for k in range(kernel)
                   if (k + r - low) % stride == 0]
        e_min, e_max = min(offsets), max(offsets)
        t = np.arange(e_max - e_min + 1)[:, None]
        idx = stride * (t + e_min) + low - np.arange(stride)[None, :]
        length = (size - 1) * stride + low + high - kernel + 2
        return cls(kernel, size, length, -(-length // stride), e_min,
                   np.where((idx >= 0) & (idx < kernel), idx, kernel))


def correlation_kernel(kernel: jax.Array) -> jax.Array:
    """W' = W flipped on its spatial axes with its two channel axes swapped: from the kernel
    ``flax.linen.ConvTranspose(transpose_kernel=True)`` holds ([*K, C_out, C_in]; PyTorch's
    ``ConvTranspose`` weight [C_in, C_out, *K] with its channel axes moved last) to the one
    :class:`ConvTranspose` holds ([*K, C_in, C_out]), and back (it is its own inverse)."""
    n = kernel.ndim - 2
    return jnp.flip(kernel, axis=tuple(range(n))).swapaxes(n, n + 1)


class ConvTranspose(nn.ConvTranspose):
    """``flax.linen.ConvTranspose`` (same fields, same initialisation, same outputs up to float
    rounding) computed as stride-1 convolutions followed by depth-to-space. The class keeps Flax's
    name, so a parent module names it ``ConvTranspose_<i>`` as Flax's would.

    Parameters: ``bias`` as Flax's; ``kernel`` as Flax's ([*K, C_in, C_out]) when ``transpose_kernel``
    is False; with ``transpose_kernel=True`` (PyTorch's transposed convolutions) the layer holds W',
    the correlation kernel below, as ``correlation_kernel`` [*K, C_in, C_out] instead of Flax's
    ``kernel`` W [*K, C_out, C_in]. W' is drawn as Flax draws W (same rng, shape and fan-in) and
    stored through :func:`correlation_kernel`. Holding W' makes each phase's kernel a plain strided
    slice in the layout XLA's convolutions take: with W, XLA:CPU transposed every phase's kernel and
    its gradient on every step (RESULTS.md, "CPU step time"). The new name keeps a checkpoint written
    with W from being read as W' (a square kernel would fit): it fails to restore, saying so. A
    ``mask`` applies to the kernel as held, so with ``transpose_kernel=True`` it is in W''s layout.

    Derivation, per spatial axis (the axes are independent). ``lax.conv_transpose`` computes

        y[o] = sum_k u[o + k - p] W'[k],   u[s i] = x[i], u = 0 elsewhere,

    the correlation of the input x dilated by the stride s with the kernel W' (= W, or W flipped
    with input and output channels swapped if ``transpose_kernel``: :func:`correlation_kernel`), p
    the low padding ('SAME' / 'VALID' as lax derives it, pairs as given). Only taps with
    o + k - p = 0 (mod s) meet an input sample. Writing o = s q + r with the phase r in [0, s) and
    k = s e + p - r:

        y[s q + r] = sum_{t=0}^{T-1} x[q + e_min + t] V[t, r],
        V[t, r] = W'[s (t + e_min) + p - r]  if 0 <= s (t + e_min) + p - r < K,  else 0,

    where e ranges over [e_min, e_min + T - 1], the input offsets any phase uses, and the output
    is cropped to the transposed convolution's length L = (N - 1) s + p + p_hi - K + 2 (p_hi: the
    high padding). Two exact ways to compute it (``decomposition``):

    * 'one_convolution': one stride-1 correlation of x with the kernel V of T taps and s * C_out
      outputs (channel index (r, c_out)), then depth-to-space y[s q + r, c] = z[q, (r, c)]. For
      K = 4, s = 2 and 'SAME' or ((2, 2), (2, 2)) padding, T = 3: a 3x3 convolution with 4 C_out
      outputs whose kernel holds each of the 16 taps of W once (each phase uses 4 of 9 positions:
      2.25x the useful multiply-adds, against 4x for the zero-dilated input ConvTranspose runs).
    * 'phase_convolutions': s^n stride-1 correlations, one per phase, each with only the taps V[t, r]
      that phase uses (2x2 for K = 4, s = 2: no wasted multiply-add), interleaved the same way.
    * 'auto' (default): phase convolutions from PHASE_CONVOLUTIONS_MIN_FEATURES output features up,
      one convolution below, the faster of the two on XLA:CPU (few outputs per phase make thin
      matrix products; measured in benchmarks/RESULTS.md).

    ``transpose_kernel=True`` with 4x4 kernels, stride 2 and padding ((2, 2), (2, 2)) is PyTorch's
    ``ConvTranspose2d(kernel_size=4, stride=2, padding=1)`` (pix2pix's U-Net, DCGAN).

    Not supported (a :class:`~jaxgan.errors.ConfigError` says so, no silent fallback):
    ``kernel_dilation`` other than 1 and 'CIRCULAR' padding; use ``flax.linen.ConvTranspose``.
    """

    decomposition: str = "auto"  # One of DECOMPOSITIONS (see the class docstring).

    @nn.compact
    def __call__(self, inputs: jax.Array) -> jax.Array:
        kernel_size = (self.kernel_size,) if isinstance(self.kernel_size, int) else tuple(self.kernel_size)
        n = len(kernel_size)

        def broadcast(value) -> Tuple[int, ...]:
            value = 1 if value is None else value
            return (value,) * n if isinstance(value, int) else tuple(value)

        strides, dilation = broadcast(self.strides), broadcast(self.kernel_dilation)
        if any(d != 1 for d in dilation):
            raise ConfigError(f"jaxgan.networks.conv.ConvTranspose: kernel_dilation={self.kernel_dilation} "
                              "is not supported; use kernel_dilation=1 or flax.linen.ConvTranspose")
        padding = canonicalize_padding(self.padding, n)
        if padding == "CIRCULAR":
            raise ConfigError("jaxgan.networks.conv.ConvTranspose: padding='CIRCULAR' is not supported; "
                              "use 'SAME', 'VALID', explicit (low, high) pairs or flax.linen.ConvTranspose")

        batch_shape = inputs.shape[:inputs.ndim - n - 1]
        inputs = inputs.reshape((-1,) + inputs.shape[len(batch_shape):])
        in_features = inputs.shape[-1]
        kernel_shape = kernel_size + (in_features, self.features)
        if self.mask is not None and self.mask.shape != kernel_shape:
            raise ValueError(f"Mask needs to have the same shape as weights. Shapes are: "
                             f"{self.mask.shape}, {kernel_shape}")
        if self.transpose_kernel:  # Drawn as Flax's kernel (its shape and fan-in), stored as W'.
            kernel = self.param(
                "correlation_kernel",
                lambda rng, shape, dtype: correlation_kernel(
                    self.kernel_init(rng, kernel_size + (self.features, in_features), dtype)),
                kernel_shape, self.param_dtype)
        else:
            kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
        if self.mask is not None:
            kernel *= self.mask
        bias = self.param("bias", self.bias_init, (self.features,), self.param_dtype) if self.use_bias else None
        inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)

        axes = [_Axis.of(k, s, pad, size) for k, s, pad, size in
                zip(kernel_size, strides, [padding] * n if isinstance(padding, str) else padding,
                    inputs.shape[1:-1])]
        spec = "".join("HWDEFG"[:n])

        def correlate(x: jax.Array, v: jax.Array, pads: Sequence[Tuple[int, int]], kernel_spec: str) -> jax.Array:
            # Negative padding is applied as a crop: XLA:CPU (jax 0.10.2) returned wrong values for a
            # negative low padding (seen on the second spatial axis, 2x2 kernel, 2 input channels).
            x = x[(slice(None),) + tuple(slice(max(0, -lo), x.shape[1 + a] + min(0, hi))
                                         for a, (lo, hi) in enumerate(pads))]
            pads = [(max(0, lo), max(0, hi)) for lo, hi in pads]
            return lax.conv_general_dilated(x, v, (1,) * n, pads,
                                            dimension_numbers=(f"N{spec}C", spec + kernel_spec, f"N{spec}C"),
                                            precision=self.precision,
                                            preferred_element_type=self.preferred_element_type)

        batch = inputs.shape[0]
        z_shape = (batch,) + tuple(a.q for a in axes) + strides + (self.features,)
        if self.decomposition not in DECOMPOSITIONS:
            raise ConfigError(f"jaxgan.networks.conv.ConvTranspose: decomposition={self.decomposition!r} "
                              f"is not one of {DECOMPOSITIONS}")
        if self.decomposition == "phase_convolutions" or (
                self.decomposition == "auto" and self.features >= PHASE_CONVOLUTIONS_MIN_FEATURES):
            z = jnp.stack([self._phase(correlate, inputs, kernel, axes, phase)
                           for phase in itertools.product(*(range(s) for s in strides))], axis=-2)
        else:
            # V[t_1, r_1, ..., t_n, r_n, C_in, C_out], gathered one spatial axis at a time from W' with
            # a zero slot appended at index K (exact: no arithmetic on the weights).
            v = kernel  # W'.
            for i, axis in enumerate(axes):
                v = jnp.pad(v, [(0, 1) if a == 2 * i else (0, 0) for a in range(v.ndim)])
                v = jnp.take(v, jnp.asarray(axis.idx), axis=2 * i)
            taps = tuple(axis.idx.shape[0] for axis in axes)
            order = tuple(range(0, 2 * n, 2)) + (2 * n,) + tuple(range(1, 2 * n, 2)) + (2 * n + 1,)
            v = v.transpose(order).reshape(taps + (in_features, math.prod(strides) * self.features))
            z = correlate(inputs, v, [(-a.e_min, a.q + a.e_min + a.idx.shape[0] - 1 - a.size) for a in axes], "IO")
        z = z.reshape(z_shape)
        # Depth-to-space: z[b, q_1, ..., q_n, r_1, ..., r_n, c] -> y[b, s q_1 + r_1, ..., c].
        z = z.transpose((0,) + tuple(i for a in range(n) for i in (1 + a, 1 + n + a)) + (2 * n + 1,))
        y = z.reshape((batch,) + tuple(a.q * s for a, s in zip(axes, strides)) + (self.features,))
        y = y[(slice(None),) + tuple(slice(0, a.length) for a in axes)]
        if bias is not None:
            y += bias
        return y.reshape(batch_shape + y.shape[1:]) if len(batch_shape) != 1 else y

    def _phase(self, correlate, inputs: jax.Array, kernel: jax.Array, axes: Sequence["_Axis"],
               phase: Tuple[int, ...]) -> jax.Array:
        """z[b, q_1, ..., q_n, c] of one output phase (r_1, ..., r_n): the correlation of x with only
        the taps of W' that phase uses (a contiguous range t_0..t_1 of t on each axis).

        Those taps, idx[t_0..t_1, r], step by s through W', so each axis takes a strided slice of the
        stored W' [*K, C_in, C_out]: no gather (whose gradient is a scatter) and no transposed copy of
        the kernel, both slow on XLA:CPU."""
        pads, index = [], []
        for axis, r in zip(axes, phase):
            t = np.flatnonzero(axis.idx[:, r] < axis.kernel)
            if t.size == 0:  # Kernel smaller than the stride: no tap reaches this phase.
                return jnp.zeros(inputs.shape[:1] + tuple(a.q for a in axes) + (self.features,),
                                 jnp.result_type(inputs, kernel))
            first, last = int(axis.idx[t[0], r]), int(axis.idx[t[-1], r])
            index.append(slice(first, last + 1, (last - first) // max(t.size - 1, 1) or 1))
            pads.append((-(axis.e_min + t[0]), axis.q + axis.e_min + t[-1] - axis.size))
        return correlate(inputs, kernel[tuple(index)], pads, "IO")
