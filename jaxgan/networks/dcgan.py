"""DCGAN networks (Radford et al. 2016) conditioned by a learned label embedding.

The label y is embedded (``embed_dim``), mapped by a dense layer to a one-channel
feature map and concatenated on channels: in the generator with the projected
noise at the lowest resolution, in the discriminator with the input image.
Strided (transposed) 4x4 convolutions, batch norm, ReLU in G and LeakyReLU(0.2)
in D, tanh output, no pooling, as in DCGAN.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError


class LabelMap(nn.Module):
    """Embeds integer labels and maps them to a [H, W, 1] feature map."""

    num_classes: int
    embed_dim: int
    height: int
    width: int

    @nn.compact
    def __call__(self, labels: jax.Array) -> jax.Array:
        e = nn.Embed(self.num_classes, self.embed_dim)(labels)
        return nn.Dense(self.height * self.width)(e).reshape(-1, self.height, self.width, 1)


class DCGANGenerator(nn.Module):
    """G(z, y): dense projection to the base resolution, then one 2x upsampling per entry of
    ``features`` (the last one to the image channels). Base resolution = image size / 2^len(features)."""

    num_classes: int
    image_shape: Sequence[int] = (28, 28, 1)
    features: Sequence[int] = (256, 128)
    embed_dim: int = 50

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        height, width, channels = self.image_shape
        scale = 2 ** len(self.features)
        if height % scale or width % scale:
            raise ConfigError(f"image size {height}x{width} is not divisible by 2^len(features) = {scale}")
        h0, w0 = height // scale, width // scale
        h = nn.Dense(h0 * w0 * self.features[0])(z).reshape(-1, h0, w0, self.features[0])
        h = nn.relu(nn.BatchNorm(use_running_average=not train)(h))
        h = jnp.concatenate([h, LabelMap(self.num_classes, self.embed_dim, h0, w0)(labels)], axis=-1)
        for f in self.features[1:]:
            h = nn.ConvTranspose(f, (4, 4), strides=(2, 2), padding="SAME", use_bias=False)(h)
            h = nn.relu(nn.BatchNorm(use_running_average=not train)(h))
        h = nn.ConvTranspose(channels, (4, 4), strides=(2, 2), padding="SAME")(h)
        return jnp.tanh(h)


class DCGANDiscriminator(nn.Module):
    """D(x, y): label map concatenated with the image, strided convolutions, one logit."""

    num_classes: int
    features: Sequence[int] = (64, 128)
    embed_dim: int = 50

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        _, height, width, _ = x.shape
        h = jnp.concatenate([x, LabelMap(self.num_classes, self.embed_dim, height, width)(labels)], axis=-1)
        for i, f in enumerate(self.features):
            h = nn.Conv(f, (4, 4), strides=(2, 2), padding="SAME", use_bias=i == 0)(h)
            if i > 0:  # DCGAN: no batch norm on the discriminator's input layer.
                h = nn.BatchNorm(use_running_average=not train)(h)
            h = nn.leaky_relu(h, 0.2)
        return nn.Dense(1)(h.reshape(h.shape[0], -1))[:, 0]
