"""CoGAN's coupled digit networks (Liu & Tuzel 2016, "Coupled Generative Adversarial Networks",
sec. 5 and its supplementary Table for the digit experiments; layers as in the authors' PyTorch port,
mingyuliutw/CoGAN ``cogan_pytorch/src/net_cogan_mnistedge.py`` ``CoGen28x28`` / ``CoDis28x28``).

Generator pair, z [B, latent] seen as a 1x1 map, 28x28 outputs:

    h_1 = PReLU(BN(convT4_s1(z)))          1024 x 4x4
    h_2 = PReLU(BN(convT3_s2_p1(h_1)))      512 x 7x7
    h_3 = PReLU(BN(convT3_s2_p1(h_2)))      256 x 13x13
    h_4 = PReLU(BN(convT3_s2_p1(h_3)))      128 x 25x25
    x_i = tanh(convT6_s1_p1(h_4))           C_i x 28x28, one output layer per domain

The first ``shared_layers`` layers (the paper: 4, all but the output) are one submodule used for both
domains, run once per z: G_a(z) and G_b(z) are the same computation up to there. The paper's outputs
are sigmoids of images in [0, 1]; jaxgan's images are in [-1, 1], so tanh (= 2 sigmoid(2t) - 1).

Discriminator pair, [B, 28, 28, C_i] -> one logit per image:

    h_1 = maxpool2(conv5(x))                20 x 12x12
    h_2 = maxpool2(conv5(h_1))              50 x 4x4
    h_3 = dropout(PReLU(FC(h_2)))          500 (dropout rate: the paper's Caffe net 0.5, the port 0)
    D_i(x) = FC(h_3)                         1 (the port's 2-way softmax is one logit's sigmoid)

The last ``shared_layers`` layers (the paper: 3, all but the first) are one submodule used for both.
Transposed convolutions are PyTorch's ConvTranspose2d (kernel k, stride s, padding p: the zero-dilated
input padded by k - 1 - p), computed by ``jaxgan.networks.conv.ConvTranspose``. Batch norm has no affine
parameters (the port's ``affine=False``), PReLU one learned slope from 0.25 (PyTorch's default),
weights Xavier-uniform with gain sqrt(2) and biases 0.1 (the port's ``xavier_weights_init``).
"""

from __future__ import annotations

from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.layers import Dense, max_pool_2x2

IMAGE_SIZE = 28  # The digit networks' output and input side.
WEIGHT_INIT = nn.initializers.variance_scaling(2.0, "fan_avg", "uniform")  # xavier_uniform(gain=sqrt(2)).
BIAS_INIT = nn.initializers.constant(0.1)
# (kernel, stride, PyTorch padding) of the generator's 5 transposed convolutions: 1 -> 4 -> 7 -> 13 -> 25 -> 28.
GENERATOR_LAYERS = ((4, 1, 0), (3, 2, 1), (3, 2, 1), (3, 2, 1), (6, 1, 1))


class GeneratorLayers(nn.Module):
    """Layers ``start`` .. ``stop`` - 1 of the generator (the last one is the tanh output layer)."""

    start: int
    stop: int
    features: Sequence[int]  # Widths of the 4 hidden layers.
    output_channels: int = 0  # Of the output layer, when ``stop`` is 5.

    @nn.compact
    def __call__(self, h: jax.Array, *, train: bool) -> jax.Array:
        for i in range(self.start, self.stop):
            kernel, stride, pad = GENERATOR_LAYERS[i]
            width = self.features[i] if i < 4 else self.output_channels
            h = ConvTranspose(width, (kernel, kernel), strides=(stride, stride),
                              padding=((kernel - 1 - pad,) * 2,) * 2, transpose_kernel=True,
                              kernel_init=WEIGHT_INIT, bias_init=BIAS_INIT)(h)
            if i == 4:
                return jnp.tanh(h)
            h = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, use_scale=False,
                             use_bias=False)(h)
            h = nn.PReLU(negative_slope_init=0.25)(h)
        return h


class DiscriminatorLayers(nn.Module):
    """Layers ``start`` .. ``stop`` - 1 of the discriminator (the last one is the logit layer)."""

    start: int
    stop: int
    features: Sequence[int]  # Widths of the 2 convolutions and the hidden fully connected layer.
    dropout: float = 0.0  # After the hidden fully connected layer, in training.

    @nn.compact
    def __call__(self, h: jax.Array, *, train: bool) -> jax.Array:
        for i in range(self.start, self.stop):
            if i < 2:
                h = Conv(self.features[i], (5, 5), padding="VALID", kernel_init=WEIGHT_INIT,
                            bias_init=BIAS_INIT)(h)
                h = max_pool_2x2(h)
            elif i == 2:
                h = nn.PReLU(negative_slope_init=0.25)(Dense(self.features[2], kernel_init=WEIGHT_INIT,
                                                             bias_init=BIAS_INIT)(h.reshape(h.shape[0], -1)))
                h = nn.Dropout(self.dropout, deterministic=not train)(h)
            else:
                h = Dense(1, kernel_init=WEIGHT_INIT, bias_init=BIAS_INIT)(h)[:, 0]
        return h


def _check(name: str, value: int, largest: int, paper: int) -> None:
    if not 0 <= value <= largest:
        raise ConfigError(f"{name}: shared_layers={value} must be in [0, {largest}] (CoGAN: {paper}; 0 = two "
                          "independent networks, the paper's baseline)")


class CoGANGenerator(nn.Module):
    """(G_a(z), G_b(z)) from z [B, latent] (module docstring), the first ``shared_layers`` layers shared."""

    channels_a: int  # Set by the method from the data.
    channels_b: int
    features: Sequence[int] = (1024, 512, 256, 128)  # CoGAN digits: 1024, 512, 256, 128.
    shared_layers: int = 4  # CoGAN: layers 1-4 shared, the output layer per domain.

    @nn.compact
    def __call__(self, z: jax.Array, *, train: bool) -> Tuple[jax.Array, jax.Array]:
        _check("cogan_generator", self.shared_layers, 4, 4)
        if len(self.features) != 4:
            raise ConfigError(f"cogan_generator: features={tuple(self.features)} needs the 4 hidden widths "
                              "(CoGAN: 1024, 512, 256, 128)")
        h = GeneratorLayers(0, self.shared_layers, self.features, name="shared")(z[:, None, None, :], train=train)
        return tuple(GeneratorLayers(self.shared_layers, 5, self.features, channels, name=f"generator_{d}")(
            h, train=train) for d, channels in (("a", self.channels_a), ("b", self.channels_b)))


class CoGANDiscriminator(nn.Module):
    """(D_a(image_a), D_b(image_b)), logits [B] each (module docstring), the last ``shared_layers``
    layers shared."""

    features: Sequence[int] = (20, 50, 500)  # CoGAN digits: 20, 50, 500.
    shared_layers: int = 3  # CoGAN: layers 2-4 shared, the first per domain.
    dropout: float = 0.0  # On h_3: the paper's Caffe net 0.5 (cogan/models/mnist.edge.cogan), the port none.

    @nn.compact
    def __call__(self, image_a: jax.Array, image_b: jax.Array, *, train: bool) -> Tuple[jax.Array, jax.Array]:
        _check("cogan_discriminator", self.shared_layers, 3, 3)
        for x in (image_a, image_b):
            if x.shape[1:3] != (IMAGE_SIZE, IMAGE_SIZE):
                raise ConfigError(f"cogan_discriminator: the digit networks take {IMAGE_SIZE}x{IMAGE_SIZE} images, "
                                  f"not {x.shape[1]}x{x.shape[2]}; set data.load_size=0 and data.crop_size=0")
        first = 4 - self.shared_layers
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"cogan_discriminator: dropout={self.dropout} must be in [0, 1)")
        layers = dict(features=self.features, dropout=self.dropout)
        shared = DiscriminatorLayers(first, 4, **layers, name="shared")
        return tuple(shared(DiscriminatorLayers(0, first, **layers, name=f"discriminator_{d}")(x, train=train),
                            train=train)
                     for d, x in (("a", image_a), ("b", image_b)))
