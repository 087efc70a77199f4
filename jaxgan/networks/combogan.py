"""ComboGAN's per-domain encoders and decoders (Anoosheh et al. 2018, sec. 3-4): CycleGAN's ResNet
generator (``jaxgan.networks.resnet_translator``) cut in two after its first ``encoder_blocks`` residual
blocks, so that any decoder can follow any encoder:

    encoder:  c7s1-ngf, d2ngf, d4ngf, R4ngf x encoder_blocks
    decoder:  R4ngf x decoder_blocks, u2ngf, ungf, c7s1-C_out, tanh

with the layers, paddings, normalisation and initialisation of ``ResNetTranslator`` (its docstring). The
authors' code (AAnoosheh/ComboGAN ``define_G``) gives the encoder n_blocks // 2 of the 9 blocks and the
decoder the other 5; ``ResNetDecoder(ResNetEncoder(x))`` with 4 + 5 blocks is resnet_9blocks layer for
layer (11,378,179 parameters at ngf 64, 3 -> 3 channels).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.resnet_translator import UP_PADDING, reflect_pad
from jaxgan.networks.unet import CONV_INIT, check_norm, normalize

DOWNSAMPLINGS = 2  # CycleGAN's and ComboGAN's two stride-2 levels.


class _Layers(nn.Module):
    """Shared layer helpers of the two halves (``norm`` as ResNetTranslator's)."""

    features: int
    norm: str

    def _conv(self, features: int, kernel: int, h: jax.Array, stride: int = 1, use_bias=None) -> jax.Array:
        pad = ((1, 1), (1, 1)) if stride == 2 else "VALID"  # Stride 2: zero padding 1; else reflect-padded.
        bias = self.norm != "batch" if use_bias is None else use_bias
        return Conv(features, (kernel, kernel), strides=(stride, stride), padding=pad, use_bias=bias,
                       kernel_init=CONV_INIT)(h)

    def _norm_relu(self, h: jax.Array, train: bool) -> jax.Array:
        return nn.relu(normalize(h, self.norm, train=train))

    def _blocks(self, h: jax.Array, count: int, train: bool) -> jax.Array:
        width = self.features * 2 ** DOWNSAMPLINGS
        for _ in range(count):
            r = self._norm_relu(self._conv(width, 3, reflect_pad(h, 1)), train)
            h = h + normalize(self._conv(width, 3, reflect_pad(r, 1)), self.norm, train=train)
        return h


class ResNetEncoder(_Layers):
    """[B, H, W, C] -> the code [B, H/4, W/4, 4 ngf] (module docstring); H, W divisible by 4, >= 8."""

    features: int = 64  # ngf (ComboGAN / CycleGAN: 64).
    norm: str = "instance"  # The authors' --norm instance.
    blocks: int = 4  # Residual blocks of the encoder (the code: 9 // 2).

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        check_norm("resnet_encoder", self.norm)
        scale = 2 ** DOWNSAMPLINGS
        if x.shape[1] % scale or x.shape[2] % scale or min(x.shape[1:3]) < 2 * scale:
            raise ConfigError(f"resnet_encoder: input {x.shape[1]}x{x.shape[2]} must be divisible by {scale} and at "
                              f"least {2 * scale}x{2 * scale}; resize the images (data.load_size, data.crop_size)")
        h = self._norm_relu(self._conv(self.features, 7, reflect_pad(x, 3)), train)
        for i in range(DOWNSAMPLINGS):
            h = self._norm_relu(self._conv(self.features * 2 ** (i + 1), 3, h, stride=2), train)
        return self._blocks(h, self.blocks, train)


class ResNetDecoder(_Layers):
    """The code [B, h, w, 4 ngf] -> [B, 4h, 4w, output_channels] in [-1, 1] (module docstring)."""

    output_channels: int = 3  # Set by the method from the data.
    features: int = 64
    norm: str = "instance"
    blocks: int = 5  # Residual blocks of the decoder (the code: 9 - 9 // 2).

    @nn.compact
    def __call__(self, z: jax.Array, *, train: bool) -> jax.Array:
        check_norm("resnet_decoder", self.norm)
        h = self._blocks(z, self.blocks, train)
        for i in reversed(range(DOWNSAMPLINGS)):
            h = self._norm_relu(ConvTranspose(self.features * 2 ** i, (3, 3), strides=(2, 2), padding=UP_PADDING,
                                              transpose_kernel=True, use_bias=self.norm != "batch",
                                              kernel_init=CONV_INIT)(h), train)
        return jnp.tanh(self._conv(self.output_channels, 7, reflect_pad(h, 3), use_bias=True))
