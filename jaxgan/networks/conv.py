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
import functools
import itertools
import math
import operator
from typing import Callable, Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.linear import canonicalize_padding
from jax import lax

from jaxgan.errors import ConfigError
from jaxgan.precision import promote_product_dtype

DECOMPOSITIONS = ("auto", "input_dilation", "one_convolution", "phase_convolutions", "tap_products",
                  "single_position")
# 'auto' on CPU runs s^n phase convolutions from this many output features up, one convolution below:
# the faster of the two on XLA:CPU in benchmarks/conv_transpose.py (RESULTS.md, 2026-12-01).
PHASE_CONVOLUTIONS_MIN_FEATURES = 16


def few_output_positions(positions: int, features: int) -> bool:
    """Whether a layer computing ``features`` outputs at ``positions`` positions (batch x space) runs as
    matrix products instead of convolutions: on CPU, when the positions are no more than the features
    (the patch matrix is no larger than the kernel). There XLA:CPU's convolutions spend most of their
    time copying the kernel into the layouts of the forward pass and of the input gradient, where a
    matrix product reads both in place (RESULTS.md, "Small-map convolutions as matrix products")."""
    return 0 < positions <= features and jax.default_backend() == "cpu"


def smaller_than_kernel(out_size: Sequence[int], kernel_size: Sequence[int]) -> bool:
    """Whether a convolution's output is shorter than its kernel on some axis (a D's 7x7 -> 3x3 stride-2
    layer, a 3x3 layer at 2x2) and so runs as matrix products on CPU: there XLA:CPU computes the input
    gradient with the output gradient as the window and the kernel as the image, 5-66x slower than the
    products (RESULTS.md, "Convolutions whose output is smaller than their kernel")."""
    return any(o < k for o, k in zip(out_size, kernel_size)) and jax.default_backend() == "cpu"


def auto_decomposition(single_position: bool, phase_positions: int, features: int) -> str:
    """The form :class:`ConvTranspose`'s 'auto' picks for a layer with ``features`` outputs whose phases
    have ``phase_positions`` positions each (batch x space), ``single_position`` when its input is 1x1."""
    if single_position and jax.default_backend() == "cpu":
        return "single_position"
    if few_output_positions(phase_positions, features):
        return "tap_products"
    return "phase_convolutions" if features >= PHASE_CONVOLUTIONS_MIN_FEATURES else "one_convolution"


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
    kernel size K, input size N, low and high padding p and p_hi, output length L, q = ceil(L / s) outputs per phase,
    the first input offset e_min and the tap table idx [T, s]: idx[t, r] is the tap of W' that
    multiplies x[q + e_min + t] in output phase r, or K (a zero slot) where no tap does."""

    kernel: int
    size: int
    low: int
    high: int
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
        return cls(kernel, size, low, high, length, -(-length // stride), e_min,
                   np.where((idx >= 0) & (idx < kernel), idx, kernel))


def conv_general_dilated(lhs: jax.Array, rhs: jax.Array, window_strides: Sequence[int], padding,
                         lhs_dilation=None, rhs_dilation=None, dimension_numbers=None, feature_group_count: int = 1,
                         batch_group_count: int = 1, precision=None, preferred_element_type=None) -> jax.Array:
    """``lax.conv_general_dilated``, except that on CPU a convolution with few output positions
    (:func:`few_output_positions` of B * O_1 ... O_n and C_out) or with an output shorter than its kernel
    (:func:`smaller_than_kernel`) is one matrix product of its im2col patches with the kernel:

        y[b, o, :] = P[b, o, :] @ W.reshape(K_1 ... K_n C_in, C_out),
        P[b, o, (k, c)] = x_padded[b, s o + k, c]   (k over the kernel's taps in row-major order),

    exactly the correlation lax computes (the products and sums are the same; only their order may
    differ): deep encoder layers (4x4x512x512 at 4x4 -> 2x2: 28 ms for the forward and backward pass as
    a convolution, 2 ms as patches; DTN's D, 4x4x128x256 at 7x7 -> 3x3, batch 64: 308 ms, 40 ms). Other
    cases (another backend, dilation, groups, a layout other than channels-last) go to
    ``lax.conv_general_dilated`` unchanged. Pass it to ``flax.linen.Conv`` as ``conv_general_dilated``
    (:data:`Conv` does)."""
    n = lhs.ndim - 2
    numbers = lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    channels_last = lax.ConvDimensionNumbers((0, n + 1) + tuple(range(1, n + 1)),
                                             (n + 1, n) + tuple(range(n)),
                                             (0, n + 1) + tuple(range(1, n + 1)))
    as_product = False
    if (numbers == channels_last and feature_group_count == 1 and batch_group_count == 1
            and all(d == 1 for d in (lhs_dilation or ())) and all(d == 1 for d in (rhs_dilation or ()))):
        kernel_size = rhs.shape[:n]
        pads = (lax.padtype_to_pads(lhs.shape[1:-1], kernel_size, window_strides, padding)
                if isinstance(padding, str) else [tuple(p) for p in padding])
        out_size = [max(0, (size + lo + hi - k) // s + 1)
                    for size, (lo, hi), k, s in zip(lhs.shape[1:-1], pads, kernel_size, window_strides)]
        as_product = (few_output_positions(lhs.shape[0] * math.prod(out_size), rhs.shape[-1])
                      or smaller_than_kernel(out_size, kernel_size) and math.prod(out_size) > 0)
    if not as_product:
        return lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                        dimension_numbers, feature_group_count, batch_group_count,
                                        precision=precision, preferred_element_type=preferred_element_type)
    x = lax.pad(lhs, jnp.zeros((), lhs.dtype), [(0, 0, 0)] + [(lo, hi, 0) for lo, hi in pads] + [(0, 0, 0)])
    patches = jnp.concatenate([
        lax.slice(x, (0,) + tap + (0,),
                  (x.shape[0],) + tuple(t + s * (o - 1) + 1 for t, s, o in zip(tap, window_strides, out_size))
                  + (x.shape[-1],),
                  (1,) + tuple(window_strides) + (1,))
        for tap in itertools.product(*(range(k) for k in kernel_size))], axis=-1)
    return lax.dot_general(patches, rhs.reshape(-1, rhs.shape[-1]), (((n + 1,), (0,)), ((), ())),
                           precision=precision, preferred_element_type=preferred_element_type)


# ``flax.linen.Conv`` computed by :func:`conv_general_dilated`: same fields, parameters, names and outputs;
# the bias is added in its own dtype (float32 under mixed precision, jaxgan.precision).
Conv = functools.partial(nn.Conv, conv_general_dilated=conv_general_dilated, promote_dtype=promote_product_dtype)


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
    high padding). Ways to compute it (``decomposition``), all exact:

    * 'input_dilation': the definition itself, one convolution of W' over x dilated by s
      (``lax.conv_general_dilated`` with ``lhs_dilation``), as Flax's layer computes it. XLA:CPU
      multiplies the inserted zeros; on an H200 (jax 0.11.2) cuDNN ran some of these layers with a
      generic kernel, 20x slower than the sub-pixel forms (CycleGAN's 3x3 upsampling layers; RESULTS.md,
      "Where the bf16 steps spend their time"), so 'auto' does not pick it on any backend.
    * 'one_convolution': one stride-1 correlation of x with the kernel V of T taps and s * C_out
      outputs (channel index (r, c_out)), then depth-to-space y[s q + r, c] = z[q, (r, c)]. For
      K = 4, s = 2 and 'SAME' or ((2, 2), (2, 2)) padding, T = 3: a 3x3 convolution with 4 C_out
      outputs whose kernel holds each of the 16 taps of W once (each phase uses 4 of 9 positions:
      2.25x the useful multiply-adds, against 4x for the zero-dilated input ConvTranspose runs).
    * 'phase_convolutions': s^n stride-1 correlations, one per phase, each with only the taps V[t, r]
      that phase uses (2x2 for K = 4, s = 2: no wasted multiply-add), interleaved the same way.
    * 'tap_products': one batched matrix product over the K_1 ... K_n taps, Z[k] = X_k @ W'[k] with
      X_k [B q_1 ... q_n, C_in] the input window tap k reads (each tap belongs to one phase r(k) and one
      offset t(k) per axis), then each phase sums its taps' products: z_r = sum_{k: r(k) = r} Z[k].
      The products read W' [*K, C_in, C_out] as it is held, in the forward pass and in both gradients
      (no kernel slices or copies): the fastest form on XLA:CPU for small input maps.
    * 'single_position', for a 1x1 input (N = 1 on every axis: a DCGAN-style projection of z): only
      u[0] = x is nonzero, so y[o] = x @ W'[p - o] where 0 <= p - o < K and 0 elsewhere, one matrix
      product of x [B, C_in] with W' flipped and cropped (or zero-padded) to the output's L_1 ... L_n
      positions: exactly the layer's multiply-adds, where the other forms multiply mostly zeros (tap
      products: K_1 ... K_n times as many, and a gradient as large as K_1 ... K_n outputs).
    * 'auto' (default): on CPU, a single position for a 1x1 input, else tap products where
      :func:`few_output_positions` holds for the B q_1 ... q_n positions of a phase; otherwise phase
      convolutions from PHASE_CONVOLUTIONS_MIN_FEATURES output features up and one convolution below,
      the faster of the two on XLA:CPU (few outputs per phase make thin matrix products; measured in
      benchmarks/RESULTS.md).

    ``transpose_kernel=True`` with 4x4 kernels, stride 2 and padding ((2, 2), (2, 2)) is PyTorch's
    ``ConvTranspose2d(kernel_size=4, stride=2, padding=1)`` (pix2pix's U-Net, DCGAN).

    Not supported (a :class:`~jaxgan.errors.ConfigError` says so, no silent fallback):
    ``kernel_dilation`` other than 1 and 'CIRCULAR' padding; use ``flax.linen.ConvTranspose``.
    """

    decomposition: str = "auto"  # One of DECOMPOSITIONS (see the class docstring).
    promote_dtype: Callable[..., list] = promote_product_dtype  # Bias in its own dtype (jaxgan.precision).

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
            return conv_general_dilated(x, v, (1,) * n, pads,
                                        dimension_numbers=(f"N{spec}C", spec + kernel_spec, f"N{spec}C"),
                                        precision=self.precision,
                                        preferred_element_type=self.preferred_element_type)

        batch = inputs.shape[0]
        z_shape = (batch,) + tuple(a.q for a in axes) + strides + (self.features,)
        if self.decomposition not in DECOMPOSITIONS:
            raise ConfigError(f"jaxgan.networks.conv.ConvTranspose: decomposition={self.decomposition!r} "
                              f"is not one of {DECOMPOSITIONS}")
        decomposition = self.decomposition
        single = all(a.size == 1 for a in axes)
        if decomposition == "auto":
            decomposition = auto_decomposition(single, batch * math.prod(a.q for a in axes), self.features)
        if decomposition == "single_position":
            if not single:
                raise ConfigError(f"jaxgan.networks.conv.ConvTranspose: decomposition='single_position' needs a "
                                  f"1x1 input, not {inputs.shape[1:-1]}; use 'auto'")
            y = self._single_position(inputs, kernel, axes)
            return self._finish(y, bias, batch_shape)
        if decomposition == "input_dilation":
            y = lax.conv_general_dilated(inputs, kernel, (1,) * n, [(a.low, a.high) for a in axes],
                                         lhs_dilation=strides, dimension_numbers=(f"N{spec}C", spec + "IO", f"N{spec}C"),
                                         precision=self.precision, preferred_element_type=self.preferred_element_type)
            return self._finish(y, bias, batch_shape)
        if decomposition == "tap_products":
            z = self._tap_products(inputs, kernel, axes, strides)
        elif decomposition == "phase_convolutions":
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
        return self._finish(y, bias, batch_shape)

    @staticmethod
    def _finish(y: jax.Array, bias: Optional[jax.Array], batch_shape: Tuple[int, ...]) -> jax.Array:
        if bias is not None:
            y += bias
        return y.reshape(batch_shape + y.shape[1:]) if len(batch_shape) != 1 else y

    def _single_position(self, inputs: jax.Array, kernel: jax.Array, axes: Sequence["_Axis"]) -> jax.Array:
        """y[b, o_1, ..., o_n, c] by 'single_position' (class docstring): x @ W'[p - o], i.e. W' flipped
        (index K - 1 - p + o) and cut to o in [0, L) on each axis, zeros where that leaves the kernel."""
        n = len(axes)
        v = jnp.flip(kernel, axis=tuple(range(n)))
        for i, axis in enumerate(axes):
            start = axis.kernel - 1 - axis.low  # Index into the flipped kernel of output 0.
            kept = v[(slice(None),) * i + (slice(max(start, 0), max(min(start + axis.length, axis.kernel), 0)),)]
            low = min(max(-start, 0), axis.length)  # Outputs before the kernel's first tap (all, if it is past them).
            pad = [(0, 0)] * v.ndim
            pad[i] = (low, axis.length - kept.shape[i] - low)
            v = jnp.pad(kept, pad)
        spec = "".join("HWDEFG"[:n])
        return jnp.einsum(f"bi,{spec}io->b{spec}o", inputs.reshape(inputs.shape[0], -1), v,
                          precision=self.precision, preferred_element_type=self.preferred_element_type)

    def _tap_products(self, inputs: jax.Array, kernel: jax.Array, axes: Sequence["_Axis"],
                      strides: Tuple[int, ...]) -> jax.Array:
        """z[b, q_1, ..., q_n, (r_1, ..., r_n), c] by 'tap_products' (class docstring): tap k = idx[t, r]
        of each axis multiplies x[q + e_min + t] into phase r."""
        c_in = inputs.shape[-1]
        low = [max(0, -a.e_min) for a in axes]
        high = [max(0, a.q + a.e_min + a.idx.shape[0] - 1 - a.size) for a in axes]
        x = jnp.pad(inputs, [(0, 0)] + list(zip(low, high)) + [(0, 0)])
        windows, phase_taps = [], {}
        for k, tap in enumerate(itertools.product(*(range(a.kernel) for a in axes))):
            (t, r) = zip(*(map(int, np.argwhere(a.idx == i)[0]) for a, i in zip(axes, tap)))
            start = [ti + a.e_min + lo for ti, a, lo in zip(t, axes, low)]
            windows.append(x[(slice(None),) + tuple(slice(b, b + a.q) for b, a in zip(start, axes))].reshape(-1, c_in))
            phase_taps.setdefault(r, []).append(k)
        products = lax.dot_general(jnp.stack(windows), kernel.reshape(len(windows), c_in, self.features),
                                   (((2,), (1,)), ((0,), (0,))), precision=self.precision,
                                   preferred_element_type=self.preferred_element_type)
        phases = [functools.reduce(operator.add, (products[k] for k in phase_taps[r])) if r in phase_taps
                  else jnp.zeros(products.shape[1:], products.dtype)  # Kernel smaller than the stride.
                  for r in itertools.product(*(range(s) for s in strides))]
        return jnp.stack(phases, axis=-2).reshape((inputs.shape[0],) + tuple(a.q for a in axes)
                                                  + (len(phases), self.features))

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
