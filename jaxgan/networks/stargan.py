"""StarGAN's generator and discriminator (Choi et al. 2018, appendix 7, Tables 4 and 5), with the defaults
of the authors' code (yunjey/stargan ``model.py``: ``Generator(conv_dim=64, c_dim=5, repeat_num=6)``,
``Discriminator(image_size=128, conv_dim=64, c_dim=5, repeat_num=6)``).

Generator G(x, c), the target labels c [B, L] tiled over the image and concatenated as L extra input
channels:

    h = ReLU(IN(conv7(pad3([x, tile(c)]))))                     ngf                (CONV-(N64, K7x7, S1, P3))
    h = ReLU(IN(conv4_s2(pad1(h))))          (``downsamplings``)  2 ngf, 4 ngf     (down-sampling)
    h = h + IN(conv3(ReLU(IN(conv3(h)))))    (``residual_blocks``)  4 ngf          (bottleneck, 6 blocks)
    h = ReLU(IN(convT4_s2_p1(h)))            (``downsamplings``)  2 ngf, ngf       (up-sampling)
    y = tanh(conv7(pad3(h)))                                    C_out

Zero padding throughout (the authors note that the tiled labels stop working with reflection padding,
since instance norm cancels the constant shift they cause), no convolution bias in G, instance norm
with affine scale and shift and always the example's own statistics: the code builds
``InstanceNorm2d(affine=True, track_running_stats=True)`` only to load its PyTorch 0.3 checkpoints, and
never puts G in eval mode, so the running averages are never used. The transposed convolutions are
PyTorch's ``ConvTranspose2d(k=4, s=2, p=1)`` (``jaxgan.networks.conv.ConvTranspose``, padding
((2, 2), (2, 2)) of the dilated input, as pix2pix's U-Net).

Discriminator D(x) -> (D_src, D_cls), a PatchGAN with a classification head:

    h = LeakyReLU_0.01(conv4_s2(pad1(h)))    (``layers`` times, widths ndf, 2 ndf, ..., 2^(layers-1) ndf)
    D_src = conv3(pad1(h))                   [B, H/2^layers, W/2^layers, 1]   (no bias)
    D_cls = conv_(H/2^layers x W/2^layers)(h)  [B, num_labels]           (no bias; a kernel over the map)

No normalisation in D (WGAN-GP's penalty assumes independent examples). Initialisation as PyTorch's
default that the authors' code keeps: kernels U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (variance
1 / (3 fan_in)); biases start at 0 (PyTorch draws them from the same uniform).

At 128x128 with 5 labels (CelebA): G has 8,430,528 parameters and D 44,762,048, as the authors' modules
count (built with PyTorch 2.13 from yunjey/stargan's model.py, 2026-12-01). With the reference modules'
weights copied in (kernels transposed to HWIO), G(x, c) and both heads of D agree with them in training
mode to 1.3e-6 (ngf 4, 2 blocks, 16x16, 3 labels; a one-off check, torch is no dependency). For 28x28 MNIST resized to 32x32,
``layers`` = 5 leaves a 1x1 map (the classification kernel 1x1).
"""

from __future__ import annotations

from typing import Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose

# PyTorch's default Conv2d initialisation (kaiming_uniform(a=sqrt(5))): U(+-1/sqrt(fan_in)).
TORCH_INIT = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")
DOWN_PADDING = ((1, 1), (1, 1))  # Conv2d(k=4, s=2, p=1): H -> H/2.
UP_PADDING = ((2, 2), (2, 2))  # ConvTranspose2d(k=4, s=2, p=1): H -> 2H (k - 1 - p on each side).


def _instance_norm(h: jax.Array) -> jax.Array:
    """InstanceNorm2d(affine=True) in training mode: per example and channel over H, W, then gamma, beta."""
    return nn.InstanceNorm(epsilon=1e-5, use_scale=True, use_bias=True)(h)


class StarGANGenerator(nn.Module):
    """G(x, c): [B, H, W, C_in] images and [B, L] target labels -> [B, H, W, output_channels] in [-1, 1]
    (module docstring). H and W must be divisible by 2^downsamplings."""

    output_channels: int  # Set by the method from the data.
    features: int = 64  # g_conv_dim (Choi et al. 2018: 64).
    residual_blocks: int = 6  # g_repeat_num (Choi et al. 2018: 6).
    downsamplings: int = 2  # Stride-2 convolutions down, transposed ones up (Choi et al. 2018: 2).

    @nn.compact
    def __call__(self, x: jax.Array, c: jax.Array, *, train: bool) -> jax.Array:
        del train  # Instance statistics in training and at test time alike (module docstring).
        if self.residual_blocks < 0 or self.downsamplings < 0 or self.features < 1:
            raise ConfigError(f"stargan_generator: features={self.features}, residual_blocks={self.residual_blocks} "
                              f"and downsamplings={self.downsamplings} must be >= 1, >= 0, >= 0 (Choi et al. "
                              "2018: 64, 6, 2)")
        scale = 2 ** self.downsamplings
        if x.shape[1] % scale or x.shape[2] % scale:
            raise ConfigError(f"stargan_generator: input size {x.shape[1]}x{x.shape[2]} is not divisible by "
                              f"2^downsamplings = {scale}; resize or crop the images (data.load_size, "
                              "data.crop_size) to a multiple of it")
        if c.ndim != 2 or c.shape[0] != x.shape[0]:
            raise ConfigError(f"stargan_generator: labels must be [batch, labels], got {c.shape} for images {x.shape}")

        def conv(features: int, kernel: int, h: jax.Array, stride: int = 1) -> jax.Array:
            pad = (kernel - 1) // 2 if stride == 1 else 1
            return Conv(features, (kernel, kernel), strides=(stride, stride), padding=((pad, pad), (pad, pad)),
                           use_bias=False, kernel_init=TORCH_INIT)(h)

        tiled = jnp.broadcast_to(c[:, None, None, :].astype(x.dtype), x.shape[:3] + (c.shape[-1],))
        h = nn.relu(_instance_norm(conv(self.features, 7, jnp.concatenate([x, tiled], axis=-1))))
        for i in range(self.downsamplings):
            h = nn.relu(_instance_norm(conv(self.features * 2 ** (i + 1), 4, h, stride=2)))
        width = self.features * scale
        for _ in range(self.residual_blocks):
            r = nn.relu(_instance_norm(conv(width, 3, h)))
            h = h + _instance_norm(conv(width, 3, r))
        for i in reversed(range(self.downsamplings)):
            h = nn.relu(_instance_norm(ConvTranspose(self.features * 2 ** i, (4, 4), strides=(2, 2),
                                                     padding=UP_PADDING, transpose_kernel=True, use_bias=False,
                                                     kernel_init=TORCH_INIT)(h)))
        return jnp.tanh(conv(self.output_channels, 7, h))


class StarGANDiscriminator(nn.Module):
    """D(x) -> (D_src [B, H/2^layers, W/2^layers, 1], D_cls [B, num_labels]) (module docstring); H and W
    must be divisible by 2^layers."""

    num_labels: int  # Classification outputs: the attributes of every dataset (set by the method).
    features: int = 64  # d_conv_dim (Choi et al. 2018: 64).
    layers: int = 6  # d_repeat_num: stride-2 convolutions (Choi et al. 2018: 6, for 128x128).

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> Tuple[jax.Array, jax.Array]:
        del train  # No dropout, no normalisation.
        if self.layers < 1 or self.features < 1 or self.num_labels < 1:
            raise ConfigError(f"stargan_discriminator: layers={self.layers}, features={self.features} and "
                              f"num_labels={self.num_labels} must be >= 1 (Choi et al. 2018: 6, 64, 5)")
        scale = 2 ** self.layers
        if x.shape[1] % scale or x.shape[2] % scale:
            raise ConfigError(f"stargan_discriminator: input size {x.shape[1]}x{x.shape[2]} is not divisible by "
                              f"2^layers = {scale}; set model.discriminator.layers to at most "
                              f"log2 of the image size (6 for 128x128, 5 for 32x32) or resize the images")
        h = x
        for i in range(self.layers):
            h = nn.leaky_relu(Conv(self.features * 2 ** i, (4, 4), strides=(2, 2), padding=DOWN_PADDING,
                                      kernel_init=TORCH_INIT)(h), 0.01)
        src = Conv(1, (3, 3), padding=((1, 1), (1, 1)), use_bias=False, kernel_init=TORCH_INIT, name="src")(h)
        cls = Conv(self.num_labels, h.shape[1:3], padding="VALID", use_bias=False, kernel_init=TORCH_INIT,
                      name="cls")(h)
        return src, cls.reshape(cls.shape[0], self.num_labels)
