"""Fader Networks (Lample et al. 2017, sec. 5 "Implementation"), with the layer layout of the authors'
code (facebookresearch/FaderNetworks ``src/model.py``: ``build_layers``, ``AutoEncoder``,
``LatentDiscriminator``).

Encoder E, ``layers`` = L blocks, block i (widths c_i = min(features 2^i, max_features)):

    h_{i+1} = LeakyReLU_0.2(BN(conv4x4_s2(h_i)))            (no BN in block 0)

256x256x3 -> 2x2x512 with the paper's C16-C32-C64-C128-C256-C512-C512 (features 16, L = 7).
Decoder D(z, y), the mirror image; before every block the attribute code y ([1 - a, a] per attribute)
is appended to its input as constant channels (sec. 5: "the attribute ... as an additional input of
each layer of the decoder"):

    g_L = z;   g_i = ReLU(BN(convT4x4_s2([g_{i+1}, tile(y)])))   (width c_{i-1}; no bias)
    x_hat = g_0 = tanh(convT4x4_s2([g_1, tile(y)]))             (the image's channels)

Latent discriminator P(y | z): the encoder's blocks continued on the code down to 1x1 (conv4x4_s2 +
BN + LeakyReLU_0.2 + dropout, ``features`` wide: the paper's C512 on a 2x2 code), then
FC(hidden) + LeakyReLU_0.2 + FC(2 per attribute) (sec. 5: "C512 layer followed by a fully-connected
network of two layers"; dropout 0.3, the code's ``lat_dis_dropout``). Its logits are [n, 2A], the two
classes of attribute j at columns 2j, 2j + 1.

Convolutions are PyTorch's Conv2d / ConvTranspose2d(4, 2, 1) (``jaxgan.networks.unet`` paddings),
weights N(0, 0.02^2); batch norm as ``jaxgan.networks.unet.normalize``.
"""

from __future__ import annotations

from typing import Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.layers import Dense
from jaxgan.networks.unet import CONV_INIT, DOWN_PADDING, UP_PADDING, check_norm, normalize


def _leaky(h: jax.Array) -> jax.Array:
    return nn.leaky_relu(h, 0.2)


def _down(features: int, h: jax.Array, use_bias: bool = True) -> jax.Array:
    return Conv(features, (4, 4), strides=(2, 2), padding=DOWN_PADDING, use_bias=use_bias, kernel_init=CONV_INIT)(h)


def attribute_code(attributes: jax.Array) -> jax.Array:
    """Attribute values a [n, A] (in {0, 1} for training, any slider value at inference) -> the decoder's
    code [n, 2A]: [1 - a_j, a_j] per attribute j (the code's one-hot pairs; ``interpolate.py``)."""
    a = jnp.asarray(attributes, jnp.float32)
    return jnp.stack([1.0 - a, a], axis=-1).reshape(a.shape[:-1] + (2 * a.shape[-1],))


class FaderEncoder(nn.Module):
    """E: [n, H, W, C] -> the code [n, H / 2^L, W / 2^L, c_{L-1}]."""

    widths: Tuple[int, ...]  # c_0 .. c_{L-1}.
    norm: str
    use_bias: bool = True  # The Fader code's convolutions have biases; DiscoGAN's have none.
    network: str = "fader_autoencoder"  # Named in errors.

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        scale = 2 ** len(self.widths)
        if x.shape[1] % scale or x.shape[2] % scale:
            raise ConfigError(f"{self.network}: images of {x.shape[1]}x{x.shape[2]} are not divisible by "
                              f"2^layers = {scale}; resize them (data.load_size, data.crop_size) or lower layers")
        h = x
        for i, width in enumerate(self.widths):
            h = _down(width, h, self.use_bias)
            h = _leaky(normalize(h, self.norm, train=train) if i > 0 else h)
        return h


class FaderDecoder(nn.Module):
    """D(z, y): the code and the attribute code [n, 2A] -> the image [n, H, W, output widths[0]]."""

    widths: Tuple[int, ...]  # Block i's output width: the image's channels, then c_0 .. c_{L-2}.
    norm: str

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array, *, train: bool) -> jax.Array:
        h = z
        for i in reversed(range(len(self.widths))):
            tiled = jnp.broadcast_to(y[:, None, None, :].astype(h.dtype), h.shape[:3] + (y.shape[-1],))
            h = ConvTranspose(self.widths[i], (4, 4), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True,
                              use_bias=False, kernel_init=CONV_INIT)(jnp.concatenate([h, tiled], axis=-1))
            h = nn.relu(normalize(h, self.norm, train=train)) if i > 0 else jnp.tanh(h)
        return h


class FaderAutoEncoder(nn.Module):
    """E and D(z, y) (module docstring): ``__call__(x, y)`` -> (z, x_hat); ``encode(x)``, ``decode(z, y)``."""

    output_channels: int  # Set by the method from the data.
    features: int = 16  # c_0 (paper: 16; the code's --init_fm default: 32).
    max_features: int = 512  # Paper / code --max_fm: 512.
    layers: int = 7  # L (paper: 7 at 256x256 -> a 2x2 code; the code's --n_layers default: 6).
    norm: str = "batch"  # The code's default (--instance_norm False).

    def setup(self) -> None:
        check_norm("fader_autoencoder", self.norm)
        if self.layers < 1:
            raise ConfigError(f"fader_autoencoder: layers={self.layers} must be >= 1 (Lample et al. 2017: 7)")
        widths = tuple(min(self.features * 2 ** i, self.max_features) for i in range(self.layers))
        self.encoder = FaderEncoder(widths, self.norm)
        self.decoder = FaderDecoder((self.output_channels,) + widths[:-1], self.norm)

    def __call__(self, x: jax.Array, y: jax.Array, *, train: bool) -> Tuple[jax.Array, jax.Array]:
        z = self.encoder(x, train=train)
        return z, self.decoder(z, y, train=train)

    def encode(self, x: jax.Array, *, train: bool) -> jax.Array:
        return self.encoder(x, train=train)

    def decode(self, z: jax.Array, y: jax.Array, *, train: bool) -> jax.Array:
        return self.decoder(z, y, train=train)


class LatentDiscriminator(nn.Module):
    """P(y | z): [n, h, w, c] code -> [n, num_outputs] logits (module docstring)."""

    num_outputs: int  # 2 per attribute (set by the method from the data).
    features: int = 512  # The paper's C512 (min(init_fm 2^i, max_fm) past the encoder: 512).
    hidden: int = 512  # The code's --hid_dim.
    dropout: float = 0.3  # The code's --lat_dis_dropout.

    @nn.compact
    def __call__(self, z: jax.Array, *, train: bool) -> jax.Array:
        size = z.shape[1]
        if z.shape[1] != z.shape[2] or size & (size - 1):
            raise ConfigError(f"latent_discriminator: the code is {z.shape[1]}x{z.shape[2]}; it must be square with "
                              "a power-of-two side (square images divisible by 2^layers)")
        h = z
        while h.shape[1] > 1:  # The encoder's blocks continued down to 1x1.
            h = _leaky(normalize(_down(self.features, h), "batch", train=train))
            h = nn.Dropout(self.dropout, deterministic=not train)(h)
        h = _leaky(Dense(self.hidden)(h.reshape(h.shape[0], -1)))
        return Dense(self.num_outputs)(h)
