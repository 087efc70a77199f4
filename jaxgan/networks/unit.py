"""UNIT's coupled VAE encoders and generators (Liu, Breuel & Kautz 2017, "Unsupervised Image-to-Image
Translation Networks", sec. 2 and fig. 1), with the layers of the authors' code (mingyuliutw/UNIT,
master: ``networks.py`` ``VAEGen`` = ``ContentEncoder`` + ``Decoder``; ``configs/unit_*.yaml``) and the
paper's weight sharing (the NIPS code, branch version_02, ``COCOResGen``: ``n_enc_shared_blk`` and
``n_gen_shared_blk`` = 1 of its 4 residual blocks per side).

Encoder E_i (domain i in {a, b}), private layers then the shared ones:

    h = ReLU(IN(conv7(rp3(x))))                             c7s1-dim
    h = ReLU(IN(conv4_s2(rp1(h))))        (``downsamplings`` times; widths 2 dim, 4 dim)
    h = h + IN(conv3(rp1(ReLU(IN(conv3(rp1(h)))))))     (``blocks`` - ``shared_blocks`` private, then
                                                         ``shared_blocks`` shared by E_a and E_b)
    mu = h                                                  the latent mean, [B, H/4, W/4, 4 dim]

Generator G_i: the shared residual blocks first, then its own:

    h = residual blocks (``shared_blocks`` shared by G_a and G_b, then ``blocks`` - ``shared_blocks`` private)
    h = ReLU(LN(conv5(rp2(up2(h)))))      (``downsamplings`` times: nearest x2, widths halve)
    x = tanh(conv7(rp3(h)))

``rp`` is reflection padding (the configs' ``pad_type: reflect``), IN instance norm without affine
parameters, LN the MUNIT code's layer norm (per example over H, W and C, a learned scale and bias per
channel; flax's takes the biased variance with eps inside the square root and starts the scale at 1,
the code's the unbiased standard deviation plus eps and a U(0, 1) scale). Weights are He-normal
(fan in) with zero biases (the configs' ``init: kaiming``).

Weight sharing is one submodule used by both domains: ``shared_encoder`` is the last layers of E_a and
E_b, ``shared_generator`` the first layers of G_a and G_b; their parameters appear once in the tree.
``encode(x, domain)`` gives mu, ``decode(z, domain)`` and ``decode_both(z)`` images; the method adds the
VAE noise (``jaxgan.methods.unit``). At the
defaults (dim 64, 2 downsamplings, 4 blocks of which 1 shared, 3 channels) there are 19,920,646
parameters: the code's two ``VAEGen`` of 11,140,483 each, less one encoder and one generator residual
block (1,180,160 each) that the domains share.
"""

from __future__ import annotations

from typing import Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv
from jaxgan.networks.resnet_translator import reflect_pad

DOMAINS = ("a", "b")
KAIMING_INIT = nn.initializers.variance_scaling(2.0, "fan_in", "normal")  # PyTorch kaiming_normal_(a=0).


def _conv(features: int, kernel: int, h: jax.Array, stride: int = 1) -> jax.Array:
    """The code's Conv2dBlock convolution: reflection padding 3 for 7x7, 2 for 5x5, 1 for 3x3 and for
    the 4x4 stride-2 downsampling (H -> H / 2)."""
    pad = {7: 3, 5: 2, 4: 1, 3: 1}[kernel]
    return Conv(features, (kernel, kernel), strides=(stride, stride), padding="VALID",
                   kernel_init=KAIMING_INIT)(reflect_pad(h, pad))


def _instance_norm(h: jax.Array) -> jax.Array:
    return nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False)(h)


class ResidualBlocks(nn.Module):
    """``blocks`` residual blocks h + IN(conv3(ReLU(IN(conv3(h))))) at the input's width."""

    blocks: int

    @nn.compact
    def __call__(self, h: jax.Array) -> jax.Array:
        width = h.shape[-1]
        for _ in range(self.blocks):
            r = nn.relu(_instance_norm(_conv(width, 3, h)))
            h = h + _instance_norm(_conv(width, 3, r))
        return h


class PrivateEncoder(nn.Module):
    """E_i's own layers: c7s1-dim, the downsamplings, the private residual blocks."""

    features: int
    downsamplings: int
    blocks: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = nn.relu(_instance_norm(_conv(self.features, 7, x)))
        for i in range(self.downsamplings):
            h = nn.relu(_instance_norm(_conv(self.features * 2 ** (i + 1), 4, h, stride=2)))
        return ResidualBlocks(self.blocks)(h)


class PrivateGenerator(nn.Module):
    """G_i's own layers: the private residual blocks, the upsamplings, the tanh output."""

    output_channels: int
    blocks: int
    downsamplings: int

    @nn.compact
    def __call__(self, h: jax.Array) -> jax.Array:
        h = ResidualBlocks(self.blocks)(h)
        for _ in range(self.downsamplings):
            b, height, width, c = h.shape
            h = jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)  # nn.Upsample(scale_factor=2), nearest.
            h = _conv(c // 2, 5, h)
            h = nn.relu(nn.LayerNorm(epsilon=1e-5, reduction_axes=(1, 2, 3), feature_axes=-1)(h))
        return jnp.tanh(_conv(self.output_channels, 7, h))


class UNITGenerator(nn.Module):
    """UNIT's generator side (module docstring): E_a, E_b, G_a, G_b with shared layers.

    ``encode(x, domain)`` -> the latent mean mu; ``decode(z, domain)`` -> an image of that domain;
    ``__call__(a, b)`` -> (G_b(E_a(a)), G_a(E_b(b))) at the means (test-time translation; it also
    initialises every layer)."""

    channels_a: int  # Image channels of domain a (set by the method from the data).
    channels_b: int
    features: int = 64  # UNIT configs: gen.dim 64.
    downsamplings: int = 2  # gen.n_downsample 2.
    blocks: int = 4  # gen.n_res 4 residual blocks per encoder and per generator.
    shared_blocks: int = 1  # Of those, shared between the domains (version_02: n_enc/gen_shared_blk 1).

    def setup(self) -> None:
        if self.downsamplings < 0 or not 1 <= self.shared_blocks <= self.blocks:
            raise ConfigError(f"unit_generator: downsamplings={self.downsamplings} must be >= 0 and "
                              f"shared_blocks={self.shared_blocks} in [1, blocks={self.blocks}] (UNIT: 2, 1 of 4); "
                              "the shared blocks are the shared latent space's layers")
        private = self.blocks - self.shared_blocks
        self.encoders = [PrivateEncoder(self.features, self.downsamplings, private, name=f"encoder_{d}")
                         for d in DOMAINS]
        self.shared_encoder = ResidualBlocks(self.shared_blocks)
        self.shared_generator = ResidualBlocks(self.shared_blocks)
        self.generators = [PrivateGenerator(c, private, self.downsamplings, name=f"generator_{d}")
                           for d, c in zip(DOMAINS, (self.channels_a, self.channels_b))]

    def _check(self, x: jax.Array) -> None:
        scale = 2 ** self.downsamplings
        if x.shape[1] % scale or x.shape[2] % scale or min(x.shape[1:3]) < 4 * scale:
            raise ConfigError(f"unit_generator: input {x.shape[1]}x{x.shape[2]} must be divisible by "
                              f"2^downsamplings = {scale} and at least {4 * scale} pixels a side (reflection "
                              "padding); resize or crop the images (data.load_size, data.crop_size)")

    def encode(self, x: jax.Array, domain: str) -> jax.Array:
        """mu = E_shared(E_domain(x))."""
        self._check(x)
        return self.shared_encoder(self.encoders[DOMAINS.index(domain)](x))

    def decode(self, z: jax.Array, domain: str) -> jax.Array:
        """G_domain(G_shared(z))."""
        return self.generators[DOMAINS.index(domain)](self.shared_generator(z))

    def decode_both(self, z: jax.Array) -> Tuple[jax.Array, jax.Array]:
        """(G_a(z), G_b(z)), the shared first layers run once (as the NIPS code's ``dec_shared``)."""
        h = self.shared_generator(z)
        return self.generators[0](h), self.generators[1](h)

    def __call__(self, a: jax.Array, b: jax.Array) -> Tuple[jax.Array, jax.Array]:
        return self.decode(self.encode(a, "a"), "b"), self.decode(self.encode(b, "b"), "a")

