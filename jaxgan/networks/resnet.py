"""ResNet generator with conditional batch norm in every block (Miyato & Koyama 2018; Miyato et al.
2018, appendix B), sized by ``features`` for small images.

    z -> dense -> [H / 2^n, W / 2^n, features[0]] -> n up-blocks -> BN -> ReLU -> 3x3 conv -> tanh

Up-block with output width F, h the input and y the label:

    x = conv3x3(ReLU(CBN(conv3x3(upsample(ReLU(CBN(h | y)))) | y)))
    out = x + conv1x1(upsample(h))

with 2x nearest-neighbour up-sampling and CBN the categorical conditional batch norm
(``jaxgan.networks.layers.ConditionalBatchNorm``): per-class gamma_y, beta_y in both norms of every
block, so the label reaches every layer (unlike the DCGAN generator's 'cbn', which has two norms).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv
from jaxgan.networks.layers import ConditionalBatchNorm, Dense, upsample_2x


class UpBlock(nn.Module):
    features: int
    num_classes: int

    @nn.compact
    def __call__(self, h: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        def cbn(x: jax.Array) -> jax.Array:
            return ConditionalBatchNorm(self.num_classes)(x, labels, use_running_average=not train)

        x = Conv(self.features, (3, 3), padding="SAME")(upsample_2x(nn.relu(cbn(h))))
        x = Conv(self.features, (3, 3), padding="SAME")(nn.relu(cbn(x)))
        return x + Conv(self.features, (1, 1))(upsample_2x(h))


class ResNetGenerator(nn.Module):
    """G(z, y) with ``len(features)`` up-blocks of widths ``features`` (the dense layer's map has
    features[0] channels); base resolution = image size / 2^len(features)."""

    num_classes: int
    image_shape: Sequence[int] = (28, 28, 1)
    features: Sequence[int] = (128, 128)

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        height, width, channels = self.image_shape
        scale = 2 ** len(self.features)
        if height % scale or width % scale:
            raise ConfigError(f"resnet_generator: image size {height}x{width} is not divisible by "
                              f"2^len(features) = {scale}; use fewer model.generator.features")
        h = Dense(height // scale * width // scale * self.features[0])(z)
        h = h.reshape(-1, height // scale, width // scale, self.features[0])
        for f in self.features:
            h = UpBlock(f, self.num_classes)(h, labels, train=train)
        h = nn.relu(nn.BatchNorm(use_running_average=not train)(h))
        return jnp.tanh(Conv(channels, (3, 3), padding="SAME")(h))
