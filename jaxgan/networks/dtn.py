"""The Domain Transfer Network's learned parts for digits (Taigman et al. 2017, sec. 5.1): the generator's
g, which decodes the fixed feature vector f(x) into an image, and the ternary discriminator.

    g:  f(x) [n, F] -> Dense(4 * 4 * c_0) -> (convT4x4_s2 + BN + ReLU) per width c_1 .. -> convT4x4_s2 -> tanh
    D:  x -> (conv4x4_s2 + BN + ReLU) per width (no BN on the first) -> Dense(3)

as the paper's "four blocks of deconvolution, batch norm and ReLU, then tanh" and "four convolution blocks
with batch norm and ReLU" mapping to three classes (fake from the source, fake from the target, real
target). g's output is 2^(len(features)) times 4 on a side, cropped to the image's size (28 of 32 for
digits, centred). Convolutions as PyTorch's (4, 2, 1) (``jaxgan.networks.unet`` paddings), N(0, 0.02^2).
"""

from __future__ import annotations

from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.layers import Dense
from jaxgan.networks.unet import CONV_INIT, DOWN_PADDING, UP_PADDING, normalize


class FeatureDecoder(nn.Module):
    """g: [n, F] -> [n, H, W, C] in [-1, 1] (module docstring)."""

    image_shape: Tuple[int, int, int]  # Set by the method from the data.
    features: Sequence[int] = (512, 256, 128)  # c_0, c_1, ...: 4x4 -> 8 -> 16 -> 32 (the paper's four blocks).

    @nn.compact
    def __call__(self, f: jax.Array, *, train: bool) -> jax.Array:
        height, width, channels = self.image_shape
        size = 4 * 2 ** len(self.features)
        if size < max(height, width):
            raise ConfigError(f"feature_decoder: {len(self.features)} blocks reach {size}x{size}, smaller than the "
                              f"images' {height}x{width}; add a width to features")
        h = Dense(4 * 4 * self.features[0])(f).reshape(f.shape[0], 4, 4, self.features[0])
        h = nn.relu(normalize(h, "batch", train=train))
        widths = tuple(self.features[1:]) + (channels,)
        for i, c in enumerate(widths):
            h = ConvTranspose(c, (4, 4), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True,
                              kernel_init=CONV_INIT)(h)
            h = jnp.tanh(h) if i == len(widths) - 1 else nn.relu(normalize(h, "batch", train=train))
        top, left = (size - height) // 2, (size - width) // 2
        return h[:, top:top + height, left:left + width]


class TernaryDiscriminator(nn.Module):
    """D: [n, H, W, C] -> logits [n, 3] (module docstring)."""

    features: Sequence[int] = (128, 256, 512)

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        h = x
        for i, c in enumerate(self.features):
            h = Conv(c, (4, 4), strides=(2, 2), padding=DOWN_PADDING, kernel_init=CONV_INIT)(h)
            h = nn.relu(normalize(h, "batch", train=train) if i else h)
        return Dense(3)(h.reshape(h.shape[0], -1))
