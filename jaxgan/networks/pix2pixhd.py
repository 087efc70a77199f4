"""The coarse-to-fine generator of pix2pixHD (Wang et al. 2018, sec. 3.2), with the defaults of the
authors' code (NVIDIA/pix2pixHD ``models/networks.py``: ``GlobalGenerator``, ``LocalEnhancer``).

Global generator G1 (``n_local_enhancers=0``), ngf = ``features``, d = ``n_downsampling``:

    c7s1-ngf, d x [3x3 stride-2 conv, 2^j ngf -> 2^(j+1) ngf], ``n_blocks`` residual blocks at
    2^d ngf, d x [3x3 stride-2 transposed conv, halving the width], c7s1-out, tanh

where c7s1-k is a 7x7 convolution on a 3-pixel reflection-padded input, every convolution but the last
is followed by instance norm (no affine parameters) and ReLU, and a residual block is
x + IN(conv3(pad1(ReLU(IN(conv3(pad1(x))))))) with reflection padding. The transposed convolutions
are PyTorch's (k 3, stride 2, padding 1, output_padding 1): H -> 2H.

Local enhancer G2 (``n_local_enhancers=1``): G1 at width 2 ngf runs on the input down-sampled 2x
(3x3 average pooling, stride 2, padding 1, padded pixels left out) without its output layers; the
front-end G2^(F) (c7s1-ngf, 3x3 stride-2 conv to 2 ngf) runs on the full input; their sum of
features goes through the back-end G2^(B) (``n_blocks_local`` residual blocks, transposed conv to
ngf, c7s1-out, tanh). The parameters of G1 live under ``global``, those of G2 under ``local_1``
(what ``LOCAL_PREFIX`` names: the pix2pixHD method trains only them for ``niter_fix_global`` steps).

Initialisation as the reference's ``weights_init``: weights N(0, 0.02^2); biases 0 (PyTorch's
default there is uniform).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.resnet_translator import reflect_pad
from jaxgan.networks.unet import CONV_INIT

LOCAL_PREFIX = "local_"  # Top-level parameter names of the local enhancers.
# PyTorch's ConvTranspose2d(k=3, s=2, p=1, output_padding=1) pads the zero-dilated input by
# k - 1 - p = 1 below and 1 + output_padding = 2 above: H -> 2H.
UP_PADDING = ((1, 2), (1, 2))


def instance_norm(h: jax.Array) -> jax.Array:
    """InstanceNorm2d(affine=False), eps 1e-5."""
    return nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False)(h)


def downsample_input(x: jax.Array) -> jax.Array:
    """3x3 average pooling, stride 2, padding 1 with padded pixels left out (AvgPool2d,
    count_include_pad=False): the reference's input pyramid."""
    return nn.avg_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)), count_include_pad=False)


def _conv(features: int, kernel: int, stride: int = 1, padding=((0, 0), (0, 0))) -> nn.Conv:
    return Conv(features, (kernel, kernel), strides=(stride, stride), padding=padding, kernel_init=CONV_INIT)


class ResidualBlock(nn.Module):
    """x + IN(conv3(reflect1(ReLU(IN(conv3(reflect1(x)))))))."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c = x.shape[-1]
        h = nn.relu(instance_norm(_conv(c, 3)(reflect_pad(x, 1))))
        return x + instance_norm(_conv(c, 3)(reflect_pad(h, 1)))


def _c7s1(features: int, h: jax.Array) -> jax.Array:
    return nn.relu(instance_norm(_conv(features, 7)(reflect_pad(h, 3))))


def _up(features: int, h: jax.Array) -> jax.Array:
    up = ConvTranspose(features, (3, 3), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True,
                       kernel_init=CONV_INIT)
    return nn.relu(instance_norm(up(h)))


def _output(channels: int, h: jax.Array) -> jax.Array:
    return jnp.tanh(_conv(channels, 7)(reflect_pad(h, 3)))


class GlobalGenerator(nn.Module):
    """G1 (see the module docstring); with ``output_channels=None`` it stops before its output
    layers and returns its last features (the local enhancer's use)."""

    output_channels: int | None
    features: int = 64  # ngf (pix2pixHD: 64).
    n_downsampling: int = 4  # pix2pixHD: --n_downsample_global 4.
    n_blocks: int = 9  # pix2pixHD: --n_blocks_global 9.

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = _c7s1(self.features, x)
        for j in range(self.n_downsampling):
            h = nn.relu(instance_norm(_conv(self.features * 2 ** (j + 1), 3, 2, ((1, 1), (1, 1)))(h)))
        for _ in range(self.n_blocks):
            h = ResidualBlock()(h)
        for j in reversed(range(self.n_downsampling)):
            h = _up(self.features * 2 ** j, h)
        return h if self.output_channels is None else _output(self.output_channels, h)


class Pix2PixHDGenerator(nn.Module):
    """G1 alone (``n_local_enhancers=0``) or G = {G1, G2} (1): [B, H, W, C_in] -> [B, H, W, output_channels]
    in [-1, 1]. H and W must be divisible by 2^(n_downsampling + n_local_enhancers)."""

    output_channels: int  # The target's channels (set by the method from the data).
    features: int = 64  # ngf: 64 for G1 alone; 32 with a local enhancer (G1 then has 2 ngf = 64).
    n_downsampling: int = 4  # Of G1 (pix2pixHD: 4).
    n_blocks: int = 9  # Of G1 (pix2pixHD: 9).
    n_local_enhancers: int = 0  # pix2pixHD: 0 at 1024x512 (--netG global), 1 at 2048x1024 (--netG local).
    n_blocks_local: int = 3  # pix2pixHD: --n_blocks_local 3.

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
        del train  # Instance norm only: the same in training and at test time.
        if self.n_local_enhancers not in (0, 1):
            raise ConfigError(f"pix2pixhd_generator: n_local_enhancers={self.n_local_enhancers}; use 0 (G1 alone) "
                              "or 1 (G1 + the local enhancer G2, the paper's 2048x1024 setting)")
        scale = 2 ** (self.n_downsampling + self.n_local_enhancers)
        if x.shape[1] % scale or x.shape[2] % scale:
            raise ConfigError(f"pix2pixhd_generator: input {x.shape[1]}x{x.shape[2]} is not divisible by {scale} = "
                              "2^(n_downsampling + n_local_enhancers); resize the data or lower n_downsampling")
        if not self.n_local_enhancers:
            return GlobalGenerator(self.output_channels, self.features, self.n_downsampling, self.n_blocks,
                                   name="global")(x)
        return LocalEnhancer(self.output_channels, self.features, self.n_blocks_local, name=f"{LOCAL_PREFIX}1")(
            x, GlobalGenerator(None, 2 * self.features, self.n_downsampling, self.n_blocks,
                               name="global")(downsample_input(x)))


class LocalEnhancer(nn.Module):
    """G2: front-end on the full-resolution input, plus G1's features, then the back-end."""

    output_channels: int
    features: int
    n_blocks: int

    @nn.compact
    def __call__(self, x: jax.Array, global_features: jax.Array) -> jax.Array:
        h = _c7s1(self.features, x)
        h = nn.relu(instance_norm(_conv(2 * self.features, 3, 2, ((1, 1), (1, 1)))(h)))
        h = h + global_features
        for _ in range(self.n_blocks):
            h = ResidualBlock()(h)
        return _output(self.output_channels, _up(self.features, h))
