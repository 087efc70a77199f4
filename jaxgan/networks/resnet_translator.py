"""The ResNet image-to-image generator of CycleGAN (Zhu et al. 2017, sec. 4 and appendix 7.2, after
Johnson et al. 2016), with the defaults of the authors' code (junyanz/pytorch-CycleGAN-and-pix2pix
``ResnetGenerator``: ``resnet_9blocks`` for 256x256 images, ``resnet_6blocks`` for 128x128).

    h = ReLU(norm(conv7(reflect_pad3(x))))                           c7s1-ngf
    h = ReLU(norm(conv3_s2(h)))            (``downsamplings`` times)  d2ngf, d4ngf
    h = h + norm(conv3(rp1(ReLU(norm(conv3(rp1(h)))))))   (``blocks`` times)  R4ngf x 9
    h = ReLU(norm(convT3_s2(h)))           (``downsamplings`` times)  u2ngf, ungf
    y = tanh(conv7(reflect_pad3(h)))                                 c7s1-C_out

The 3x3 stride-2 convolutions pad by 1 with zeros, the residual blocks and the 7x7 convolutions
reflect-pad (``rp``). The transposed convolutions are PyTorch's ``ConvTranspose2d(k=3, s=2, p=1,
output_padding=1)``, H -> 2H: the zero-dilated input padded by k - 1 - p = 1 before and
k - 1 - p + output_padding = 2 after (``UP_PADDING``), computed as sub-pixel convolutions
(``jaxgan.networks.conv.ConvTranspose``). Widths ngf * 2^i; no dropout (CycleGAN's default
``--no_dropout``). Normalisation as ``jaxgan.networks.unet.normalize``: 'instance' (CycleGAN, no
affine parameters), 'batch' or 'none'; convolutions carry a bias unless batch norm follows
(the reference's ``use_bias``), the output convolution always. Weights N(0, 0.02^2), biases 0
(the reference's ``init_weights('normal', 0.02)``). resnet_9blocks at ngf 64, 3 -> 3 channels has
11,378,179 parameters (the reference prints 11.378 M).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.unet import CONV_INIT, check_norm, normalize

UP_PADDING = ((1, 2), (1, 2))  # PyTorch ConvTranspose2d(k=3, s=2, p=1, output_padding=1): H -> 2H.


def reflect_pad(x: jax.Array, p: int) -> jax.Array:
    """PyTorch's ReflectionPad2d(p) on [B, H, W, C] (the edge pixel is not repeated)."""
    return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


class ResNetTranslator(nn.Module):
    """CycleGAN's ResNet G (module docstring): [B, H, W, C_in] -> [B, H, W, output_channels] in
    [-1, 1]; H and W must be divisible by 2^downsamplings."""

    output_channels: int  # Set by the method from the data.
    features: int = 64  # ngf (CycleGAN: 64).
    blocks: int = 9  # Residual blocks: 9 = resnet_9blocks (256x256), 6 = resnet_6blocks (128x128).
    norm: str = "instance"  # CycleGAN: instance norm.
    downsamplings: int = 2  # Stride-2 convolutions down (and transposed ones up); the reference's 2.

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        check_norm("resnet_translator", self.norm)
        if self.blocks < 0 or self.downsamplings < 0:
            raise ConfigError(f"resnet_translator: blocks={self.blocks} and downsamplings={self.downsamplings} "
                              "must be >= 0 (CycleGAN: 9 or 6 blocks, 2 downsamplings)")
        scale = 2 ** self.downsamplings
        if x.shape[1] % scale or x.shape[2] % scale:
            raise ConfigError(f"resnet_translator: input size {x.shape[1]}x{x.shape[2]} is not divisible by "
                              f"2^downsamplings = {scale}; resize or crop the images (data.load_size, "
                              "data.crop_size) to a multiple of it")
        smallest = max(4, 2 * scale)  # Reflection padding by p needs more than p pixels: 3 at full size, 1 inside.
        if min(x.shape[1:3]) < smallest:
            raise ConfigError(f"resnet_translator: input {x.shape[1]}x{x.shape[2]} is too small for reflection "
                              f"padding with {self.downsamplings} downsamplings; use images of at least "
                              f"{smallest}x{smallest}")
        bias = self.norm != "batch"

        def conv(features: int, kernel: int, h: jax.Array, stride: int = 1, use_bias: bool = bias) -> jax.Array:
            pad = ((1, 1), (1, 1)) if stride == 2 else "VALID"  # Stride 2: zero padding 1; else reflect-padded.
            return Conv(features, (kernel, kernel), strides=(stride, stride), padding=pad, use_bias=use_bias,
                           kernel_init=CONV_INIT)(h)

        def norm_relu(h: jax.Array) -> jax.Array:
            return nn.relu(normalize(h, self.norm, train=train))

        h = norm_relu(conv(self.features, 7, reflect_pad(x, 3)))
        for i in range(self.downsamplings):
            h = norm_relu(conv(self.features * 2 ** (i + 1), 3, h, stride=2))
        width = self.features * scale
        for _ in range(self.blocks):
            r = norm_relu(conv(width, 3, reflect_pad(h, 1)))
            h = h + normalize(conv(width, 3, reflect_pad(r, 1)), self.norm, train=train)
        for i in reversed(range(self.downsamplings)):
            h = norm_relu(ConvTranspose(self.features * 2 ** i, (3, 3), strides=(2, 2), padding=UP_PADDING,
                                        transpose_kernel=True, use_bias=bias, kernel_init=CONV_INIT)(h))
        return jnp.tanh(conv(self.output_channels, 7, reflect_pad(h, 3), use_bias=True))
