"""XGAN's coupled auto-encoders (Royer et al. 2017, "XGAN: Unsupervised Image-to-Image Translation for
Many-to-Many Mappings", sec. 3.1 and fig. 2): two domain encoders e_a, e_b whose last layers are shared
and end in one embedding space, and two decoders d_a, d_b whose first layers are shared.

With n = len(features) and S = H / 2^n, W / 2^n the smallest map:

    encoder e_i:  h = act(norm(conv4_s2(h)))  for c in features         (n layers, no norm on the first)
                  e_i(x) = Dense(embedding_dim)(flatten(h))              the embedding, [B, embedding_dim]
    decoder d_i:  h = ReLU(norm(Dense(S * features[-1])(z)))             reshaped to [B, S, features[-1]]
                  h = ReLU(norm(convT4_s2(h)))  for c in reversed(features[:-1])
                  d_i(z) = tanh(convT4_s2(h))                            [B, H, W, C_i]

act is LeakyReLU(0.2) (DCGAN's D); the convolutions are PyTorch's (4, 2, 1) (``jaxgan.networks.unet``
paddings), N(0, 0.02^2) weights. Layer widths and the embedding size are configuration; the paper's
layer table was not retrievable where this was written (the configs say which values they use).

Weight sharing is one submodule used by both domains: ``shared_encoder`` holds the last
``shared_layers`` convolutions and the embedding layer of e_a and e_b, ``shared_decoder`` the projection
and the first ``shared_layers`` transposed convolutions of d_a and d_b (each appears once in the
parameter tree). The first convolution and the output layer stay per domain (their channels are the
domain's). ``encode(x, domain)``, ``decode(z, domain)`` and ``decode_both(z)`` (the shared layers run
once for both decodings); the losses are in ``jaxgan.methods.xgan``.
"""

from __future__ import annotations

from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.layers import Dense
from jaxgan.networks.unet import CONV_INIT, DOWN_PADDING, UP_PADDING, check_norm, normalize

DOMAINS = ("a", "b")


class EncoderLayers(nn.Module):
    """Layers ``start`` .. ``stop`` - 1 of an encoder: 0 .. n-1 the convolutions, n the embedding layer."""

    start: int
    stop: int
    features: Sequence[int]
    embedding_dim: int
    norm: str

    @nn.compact
    def __call__(self, h: jax.Array, *, train: bool) -> jax.Array:
        n = len(self.features)
        for i in range(self.start, self.stop):
            if i == n:
                return Dense(self.embedding_dim)(h.reshape(h.shape[0], -1))
            h = Conv(self.features[i], (4, 4), strides=(2, 2), padding=DOWN_PADDING, kernel_init=CONV_INIT)(h)
            h = nn.leaky_relu(normalize(h, self.norm, train=train) if i else h, 0.2)
        return h


class DecoderLayers(nn.Module):
    """Layers ``start`` .. ``stop`` - 1 of a decoder: 0 the projection to ``base`` [S_h, S_w], 1 .. n the
    transposed convolutions (n: the tanh output layer of ``output_channels``)."""

    start: int
    stop: int
    features: Sequence[int]
    base: Tuple[int, int]
    norm: str
    output_channels: int = 0  # Of the output layer (n), in the per-domain part only.

    @nn.compact
    def __call__(self, h: jax.Array, *, train: bool) -> jax.Array:
        n = len(self.features)
        widths = tuple(reversed(self.features[:-1])) + (self.output_channels,)
        for i in range(self.start, self.stop):
            if i == 0:
                width = self.features[-1]
                h = Dense(self.base[0] * self.base[1] * width)(h).reshape(h.shape[0], *self.base, width)
            else:
                h = ConvTranspose(widths[i - 1], (4, 4), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True,
                                  kernel_init=CONV_INIT)(h)
                if i == n:
                    return jnp.tanh(h)
            h = nn.relu(normalize(h, self.norm, train=train))
        return h


class XGANAutoEncoders(nn.Module):
    """e_a, e_b, d_a, d_b with shared layers (module docstring). ``__call__(a, b)`` -> (d_b(e_a(a)),
    d_a(e_b(b))), the translations (it also initialises every layer)."""

    channels_a: int  # Image channels of domain a (set by the method from the data).
    channels_b: int
    image_size: Tuple[int, int]  # (H, W) of both domains (set by the method from the data).
    features: Sequence[int] = (64, 128, 256, 512)  # Convolution widths; 64x64 -> 4x4 with four.
    embedding_dim: int = 1024  # Size of the shared embedding.
    shared_layers: int = 2  # Encoder convolutions (the last ones) and decoder ones (the first) shared.
    norm: str = "batch"  # 'batch', 'instance' or 'none'.

    def setup(self) -> None:
        check_norm("xgan_autoencoders", self.norm)
        n = len(self.features)
        scale = 2 ** n
        if n < 1 or not 0 <= self.shared_layers <= n - 1:
            raise ConfigError(f"xgan_autoencoders: shared_layers={self.shared_layers} must be in [0, "
                              f"len(features) - 1 = {n - 1}] (features={tuple(self.features)}): the first "
                              "convolution and the output layer take the domain's channels")
        height, width = self.image_size
        if height % scale or width % scale:
            raise ConfigError(f"xgan_autoencoders: images {height}x{width} must be divisible by 2^len(features) = "
                              f"{scale}; resize them (data.load_size, data.crop_size) or change features")
        split = n - self.shared_layers
        base = (height // scale, width // scale)
        self.encoders = [EncoderLayers(0, split, self.features, self.embedding_dim, self.norm, name=f"encoder_{d}")
                         for d in DOMAINS]
        self.shared_encoder = EncoderLayers(split, n + 1, self.features, self.embedding_dim, self.norm)
        self.shared_decoder = DecoderLayers(0, self.shared_layers + 1, self.features, base, self.norm)
        self.decoders = [DecoderLayers(self.shared_layers + 1, n + 1, self.features, base, self.norm, channels,
                                       name=f"decoder_{d}")
                         for d, channels in zip(DOMAINS, (self.channels_a, self.channels_b))]

    def encode(self, x: jax.Array, domain: str, *, train: bool) -> jax.Array:
        """e_domain(x): the shared layers after the domain's own."""
        if tuple(x.shape[1:3]) != tuple(self.image_size):
            raise ConfigError(f"xgan_autoencoders: built for {self.image_size[0]}x{self.image_size[1]} images, "
                              f"given {x.shape[1]}x{x.shape[2]}")
        return self.shared_encoder(self.encoders[DOMAINS.index(domain)](x, train=train), train=train)

    def decode(self, z: jax.Array, domain: str, *, train: bool) -> jax.Array:
        """d_domain(z): the domain's layers after the shared ones."""
        return self.decoders[DOMAINS.index(domain)](self.shared_decoder(z, train=train), train=train)

    def decode_both(self, z: jax.Array, *, train: bool) -> Tuple[jax.Array, jax.Array]:
        """(d_a(z), d_b(z)), the shared first layers run once."""
        h = self.shared_decoder(z, train=train)
        return self.decoders[0](h, train=train), self.decoders[1](h, train=train)

    def __call__(self, a: jax.Array, b: jax.Array, *, train: bool) -> Tuple[jax.Array, jax.Array]:
        return (self.decode(self.encode(a, "a", train=train), "b", train=train),
                self.decode(self.encode(b, "b", train=train), "a", train=train))
