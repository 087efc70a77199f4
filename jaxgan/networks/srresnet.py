"""SRResNet generator and SRGAN discriminator (Ledig et al. 2017, "Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network", fig. 4 and sec. 2.2).

Generator G: [B, h, w, C] low-resolution -> [B, s h, s w, output_channels], s = ``scale``:

    h_0 = PReLU(conv9x9_64(x))
    r_b = r_{b-1} + BN(conv3x3_64(PReLU(BN(conv3x3_64(r_{b-1})))))    b = 1 .. B (B = 16), r_0 = h_0
    u_0 = h_0 + BN(conv3x3_64(r_B))                                   (the long skip)
    u_k = PReLU(depth_to_space_2(conv3x3_256(u_{k-1})))               k = 1 .. log2(s) (2 for 4x)
    G(x) = conv9x9_C(u_K)

PReLU is He et al. 2015's, one learnt slope per channel, initialised to 0.25. The output is linear,
as in the paper's fig. 4 (no final activation): the HR targets are in [-1, 1] (sec. 3.2) and the
MSE is taken on them, so a linear output keeps the content loss's gradient unsaturated where a
tanh would flatten it near the bounds; ``translate`` clips the output to [-1, 1] as saving it as an
image would. The sub-pixel layers (Shi et al. 2016) rearrange channel (i * 2 + j) * C' + c of each
low-resolution pixel to output pixel (2 y + i, 2 x + j), channel c (TensorFlow's depth_to_space
order; PyTorch's PixelShuffle orders the channels (c, i, j): for a learnt conv only the order of
its output filters differs).

Discriminator D: [B, H, W, C] -> logits [B, 1]. ``stages`` = 4 pairs of 3x3 convolutions,
k3n64s1-k3n64s2, k3n128s1-k3n128s2, k3n256s1-k3n256s2, k3n512s1-k3n512s2 (widths
``features`` * 2^j, strides 1 then 2), batch norm after each but the first, LeakyReLU 0.2, then
dense 1024, LeakyReLU 0.2, dense 1 (the sigmoid of the figure is in the loss). The first dense
layer's input size is the flattened feature map's (H / 2^stages)^2 * width: it follows the image
size (96x96 in the paper: 6 * 6 * 512 inputs).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv
from jaxgan.networks.layers import Dense


def depth_to_space(x: jax.Array, block: int) -> jax.Array:
    """[B, H, W, block^2 C] -> [B, block H, block W, C]; channel (i * block + j) * C + c of pixel
    (y, x) goes to pixel (block y + i, block x + j), channel c."""
    b, h, w, c = x.shape
    x = x.reshape(b, h, w, block, block, c // block ** 2)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(b, h * block, w * block, c // block ** 2)


class PReLU(nn.Module):
    """max(0, x) + a min(0, x) with one learnt slope a per channel (He et al. 2015), a_0 = 0.25."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        a = self.param("slope", nn.initializers.constant(0.25), (x.shape[-1],))
        return jnp.where(x >= 0, x, a * x)


def _batch_norm(h: jax.Array, train: bool) -> jax.Array:
    # Flax momentum 0.9 = PyTorch's momentum 0.1, the reference implementations' default.
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5)(h)


class SRResNetGenerator(nn.Module):
    """SRResNet G (module docstring): ``residual_blocks`` B (16), ``features`` (64), ``scale`` s (4,
    a power of 2), ``output_channels`` (the target's channels)."""

    output_channels: int = 3
    residual_blocks: int = 16  # Ledig et al. 2017: B = 16.
    features: int = 64  # k3n64 (fig. 4).
    scale: int = 4  # 4x upscaling, two sub-pixel x2 layers.
    upsample_features: int = 256  # k3n256 before each depth_to_space: 4 x 64 channels.

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        if self.scale < 2 or self.scale & (self.scale - 1):
            raise ConfigError(f"srresnet_generator: scale={self.scale!r} must be a power of 2 (>= 2): one sub-pixel "
                              "x2 layer per factor 2")
        if self.upsample_features % 4:
            raise ConfigError(f"srresnet_generator: upsample_features={self.upsample_features} must be divisible "
                              "by 4 (a 2x2 depth_to_space)")
        h0 = PReLU()(Conv(self.features, (9, 9))(x))
        h = h0
        for _ in range(self.residual_blocks):
            r = PReLU()(_batch_norm(Conv(self.features, (3, 3))(h), train))
            h = h + _batch_norm(Conv(self.features, (3, 3))(r), train)
        h = h0 + _batch_norm(Conv(self.features, (3, 3))(h), train)
        for _ in range(int(math.log2(self.scale))):
            h = PReLU()(depth_to_space(Conv(self.upsample_features, (3, 3))(h), 2))
        return Conv(self.output_channels, (9, 9))(h)


class SRGANDiscriminator(nn.Module):
    """SRGAN's D (module docstring): ``stages`` (4) conv pairs from ``features`` (64) channels,
    ``dense_features`` (1024); logits [B, 1]. H and W must be divisible by 2^stages."""

    stages: int = 4  # Ledig et al. 2017: 8 conv layers, 64 -> 512.
    features: int = 64
    dense_features: int = 1024

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        if self.stages < 1 or x.shape[1] % 2 ** self.stages or x.shape[2] % 2 ** self.stages:
            raise ConfigError(f"srgan_discriminator: images of {x.shape[1]}x{x.shape[2]} do not halve "
                              f"stages={self.stages} times; use stages >= 1 with H and W divisible by 2^stages")
        h = x
        for j in range(self.stages):
            for stride in (1, 2):
                h = Conv(self.features * 2 ** j, (3, 3), strides=(stride, stride))(h)
                if j or stride == 2:  # No batch norm on the first convolution (fig. 4).
                    h = _batch_norm(h, train)
                h = nn.leaky_relu(h, 0.2)
        h = nn.leaky_relu(Dense(self.dense_features)(h.reshape(h.shape[0], -1)), 0.2)
        return Dense(1)(h)
