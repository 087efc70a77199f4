"""Transposed convolutions computed as sub-pixel (phase) convolutions.

On XLA:CPU ``flax.linen.ConvTranspose`` lowers to a convolution over its input dilated with
zeros: at stride s, all but 1 / s^n of the multiply-adds of an n-d layer are with inserted zeros.
:class:`ConvTranspose` here has the same fields, parameters and outputs, but computes the exact
sub-pixel decomposition (Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution
Using an Efficient Sub-Pixel Convolutional Neural Network", sec. 2.2; Odena et al. 2016,
"Deconvolution and Checkerboard Artifacts"): one stride-1 convolution with s^n * C_out outputs,
then depth-to-space. Measurements: benchmarks/RESULTS.md, "Transposed convolutions as sub-pixel
convolutions (XLA:CPU)".
"""

from __future__ import annotations

import math
from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.linear import canonicalize_padding
from jax import lax

from jaxgan.errors import ConfigError


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


def _phase_taps(kernel: int, stride: int, low: int) -> Tuple[int, np.ndarray]:
    """For one spatial axis: the first input offset e_min and the tap table idx [T, s], where
    idx[t, r] is the kernel tap that multiplies x[q + e_min + t] in output phase r, or
    ``kernel`` (a zero slot) where no tap does (see :class:`ConvTranspose` for the equation)."""
    offsets = [(k + r - low) // stride for r in range(stride) for k in range(kernel)
               if (k + r - low) % stride == 0]
    if not offsets:  # No tap reaches any input sample: only possible for an empty kernel.
        raise ConfigError(f"kernel size {kernel} has no taps; use a kernel size >= 1")
    e_min, e_max = min(offsets), max(offsets)
    t = np.arange(e_max - e_min + 1)[:, None]
    r = np.arange(stride)[None, :]
    idx = stride * (t + e_min) + low - r
    return e_min, np.where((idx >= 0) & (idx < kernel), idx, kernel)


class ConvTranspose(nn.ConvTranspose):
    """``flax.linen.ConvTranspose`` (same fields, same parameter tree ``kernel``, ``bias`` with the
    same shapes and initialisation, same outputs up to float rounding) computed as a stride-1
    convolution followed by depth-to-space.

    Derivation, per spatial axis (the axes are independent). ``lax.conv_transpose`` computes

        y[o] = sum_k u[o + k - p] W'[k],   u[s i] = x[i], u = 0 elsewhere,

    the correlation of the input x dilated by the stride s with the kernel W' (= W, or W flipped
    with input and output channels swapped if ``transpose_kernel``), p the low padding ('SAME' /
    'VALID' as lax derives it, pairs as given). Only taps with o + k - p = 0 (mod s) meet an input
    sample. Writing o = s q + r with the phase r in [0, s) and k = s e + p - r:

        y[s q + r] = sum_{t=0}^{T-1} x[q + e_min + t] V[t, r],
        V[t, r] = W'[s (t + e_min) + p - r]  if 0 <= s (t + e_min) + p - r < K,  else 0,

    where e ranges over [e_min, e_min + T - 1], the input offsets any phase uses. That is one
    stride-1 correlation of x with the kernel V of T taps and s * C_out outputs (channel index
    (r, c_out)), followed by depth-to-space y[s q + r, c] = z[q, (r, c)] and a crop to the
    transposed convolution's length (N - 1) s + p + p_high - K + 2. For K = 4, s = 2 and
    'SAME' or ((2, 2), (2, 2)) padding, T = 3: a 3x3 convolution with 4 C_out outputs whose
    kernel holds each of the 16 taps of W once (each phase uses 4 of its 9 positions), against
    the 4x4 convolution over a 4x larger zero-dilated input that ConvTranspose runs.

    ``transpose_kernel=True`` with 4x4 kernels, stride 2 and padding ((2, 2), (2, 2)) is PyTorch's
    ``ConvTranspose2d(kernel_size=4, stride=2, padding=1)`` (pix2pix's U-Net, DCGAN).

    Not supported (a :class:`~jaxgan.errors.ConfigError` says so): ``kernel_dilation`` other than
    1 and 'CIRCULAR' padding; use ``flax.linen.ConvTranspose`` for those.
    """

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
        if self.transpose_kernel:
            kernel_shape = kernel_size + (self.features, in_features)
        else:
            kernel_shape = kernel_size + (in_features, self.features)
        if self.mask is not None and self.mask.shape != kernel_shape:
            raise ValueError(f"Mask needs to have the same shape as weights. Shapes are: "
                             f"{self.mask.shape}, {kernel_shape}")
        kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
        if self.mask is not None:
            kernel *= self.mask
        bias = self.param("bias", self.bias_init, (self.features,), self.param_dtype) if self.use_bias else None
        inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
        if self.transpose_kernel:  # W' of the docstring: flip the spatial axes, swap the channel axes.
            kernel = jnp.flip(kernel, axis=tuple(range(n))).swapaxes(n, n + 1)

        # V[t_1, r_1, ..., t_n, r_n, C_in, C_out], gathered one spatial axis at a time from W' with a
        # zero slot appended at index K (exact: no arithmetic on the weights).
        v, conv_padding, phases = kernel, [], []
        paddings = [padding] * n if isinstance(padding, str) else padding
        for axis, (k, s, pad) in enumerate(zip(kernel_size, strides, paddings)):
            low, high = _low_high_padding(pad, k, s)
            e_min, idx = _phase_taps(k, s, low)
            v = jnp.pad(v, [(0, 1) if a == 2 * axis else (0, 0) for a in range(v.ndim)])
            v = jnp.take(v, jnp.asarray(idx), axis=2 * axis)
            length = (inputs.shape[1 + axis] - 1) * s + low + high - k + 2
            q = -(-length // s)
            conv_padding.append((-e_min, q + e_min + idx.shape[0] - 1 - inputs.shape[1 + axis]))
            phases.append((q, s, length))
        taps = tuple(v.shape[2 * a] for a in range(n))
        order = tuple(2 * a for a in range(n)) + (2 * n,) + tuple(2 * a + 1 for a in range(n)) + (2 * n + 1,)
        v = v.transpose(order).reshape(taps + (in_features, math.prod(strides) * self.features))

        spec = "".join("HWDEFG"[:n])
        z = lax.conv_general_dilated(inputs, v, (1,) * n, conv_padding,
                                     dimension_numbers=(f"N{spec}C", f"{spec}IO", f"N{spec}C"),
                                     precision=self.precision, preferred_element_type=self.preferred_element_type)
        # Depth-to-space: z[b, q_1, ..., q_n, (r_1, ..., r_n, c)] -> y[b, s q_1 + r_1, ..., c].
        batch = z.shape[0]
        z = z.reshape((batch,) + tuple(q for q, _, _ in phases) + strides + (self.features,))
        z = z.transpose((0,) + tuple(i for a in range(n) for i in (1 + a, 1 + n + a)) + (2 * n + 1,))
        y = z.reshape((batch,) + tuple(q * s for q, s, _ in phases) + (self.features,))
        y = y[(slice(None),) + tuple(slice(0, length) for _, _, length in phases)]
        if bias is not None:
            y += bias
        return y.reshape(batch_shape + y.shape[1:]) if len(batch_shape) != 1 else y
