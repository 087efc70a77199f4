"""The Context Encoder generator (Pathak et al. 2016, "Context Encoders: Feature Learning by
Inpainting", CVPR): an encoder, a channel-wise fully-connected bottleneck and a decoder of
up-convolutions, mapping an image with a hole to its prediction of a region around the hole.

Encoder and decoder follow the authors' Torch code for inpainting (pathak22/context-encoder,
``train.lua``: the DCGAN-style networks the paper's sec. 5.1 uses for semantic inpainting, in place of
the AlexNet encoder of its feature-learning experiments): 4x4 stride-2 convolutions (padding 1),
batch norm on all but the first, LeakyReLU(0.2); 4x4 stride-2 up-convolutions, batch norm and ReLU,
tanh at the output. At 128x128 with ``encoder_features`` (64, 64, 128, 256, 512) the encoder ends at
4x4x512; ``decoder_features`` (256, 128, 64) and the output layer go 4 -> 8 -> 16 -> 32 -> 64: the
64x64 centre the authors predict. Weights N(0, 0.02^2), batch-norm scales N(1, 0.02^2) (their
``weights_init``).

The bottleneck is the paper's (sec. 3.1) rather than the Torch code's 4000-unit fully-connected
layer: a channel-wise fully-connected layer, each of the m feature maps of size n x n connected only to
itself by its own n^2 x n^2 matrix (m n^4 weights instead of m^2 n^4), then a 1x1 stride-1
convolution that propagates information across channels; then batch norm and LeakyReLU(0.2), as the
Torch code does after its bottleneck.

The output is the whole image when ``output_size(H, W)`` equals (H, W) (the random-region setting of
the authors' ``train_random.lua``), else a centred box of that size (the centre-region setting); the
method places it (``jaxgan.methods.context_encoder``).
"""

from __future__ import annotations

from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.unet import CONV_INIT, DOWN_PADDING, UP_PADDING, normalize


class ChannelwiseFullyConnected(nn.Module):
    """Pathak et al. 2016, sec. 3.1: for m feature maps of size n x n,

        y[b, q, c] = sum_p x[b, p, c] W[c, p, q],   p, q over the n^2 positions, W: [m, n^2, n^2],

    so no weight connects two channels (m n^4 parameters, no bias: the 1x1 convolution that follows
    adds one). Weights are LeCun-normal with each channel's fan-in n^2."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        batch, height, width, channels = x.shape
        positions = height * width
        kernel = self.param("kernel", nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal",
                                                                       in_axis=1, out_axis=2, batch_axis=(0,)),
                            (channels, positions, positions))
        y = jnp.einsum("bpc,cpq->bqc", x.reshape(batch, positions, channels), kernel)
        return y.reshape(batch, height, width, channels)


class ContextEncoderGenerator(nn.Module):
    """F(x): [B, H, W, C] (the image with its hole filled) -> [B, h, w, output_channels] in [-1, 1],
    (h, w) = ``output_size(H, W)`` (see the module docstring)."""

    output_channels: int  # The target's channels (set by the method from the data).
    encoder_features: Sequence[int] = (64, 64, 128, 256, 512)  # train.lua: nef, nef, 2nef, 4nef, 8nef (nef 64).
    decoder_features: Sequence[int] = (256, 128, 64)  # train.lua: 4ngf, 2ngf, ngf (ngf 64), then the output layer.
    norm: str = "batch"  # train.lua: batch norm in encoder and decoder.

    def bottleneck_size(self, height: int, width: int) -> Tuple[int, int]:
        """(n_h, n_w) of the encoder's output: each 4x4 stride-2 convolution (padding 1) halves an even
        size; a ConfigError names the first odd one."""
        size = [height, width]
        for layer in range(len(self.encoder_features)):
            if size[0] % 2 or size[1] % 2:
                raise ConfigError(
                    f"context_encoder_generator: encoder layer {layer} gets {size[0]}x{size[1]} maps, not "
                    f"halvable; with {len(self.encoder_features)} encoder layers the image size must be divisible "
                    f"by 2^{len(self.encoder_features)} (resize with data.load_size or drop encoder layers)")
            size = [size[0] // 2, size[1] // 2]
        return size[0], size[1]

    def output_size(self, height: int, width: int) -> Tuple[int, int]:
        """(h, w) of F's output for an H x W input: the bottleneck size times 2^(decoder layers + 1)."""
        scale = 2 ** (len(self.decoder_features) + 1)
        n_h, n_w = self.bottleneck_size(height, width)
        return n_h * scale, n_w * scale

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        if not self.encoder_features:
            raise ConfigError("context_encoder_generator: encoder_features is empty; give at least one layer")
        self.bottleneck_size(*x.shape[1:3])
        use_bias = self.norm != "batch"
        h = x
        for i, f in enumerate(self.encoder_features):
            h = Conv(f, (4, 4), strides=(2, 2), padding=DOWN_PADDING, use_bias=use_bias or i == 0,
                        kernel_init=CONV_INIT)(h)
            h = nn.leaky_relu(normalize(h, self.norm, train=train) if i > 0 else h, 0.2)
        h = ChannelwiseFullyConnected(name="channelwise_fc")(h)
        h = Conv(h.shape[-1], (1, 1), use_bias=use_bias, kernel_init=CONV_INIT, name="channel_mixing")(h)
        h = nn.leaky_relu(normalize(h, self.norm, train=train), 0.2)
        for f in self.decoder_features:
            h = ConvTranspose(f, (4, 4), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True,
                              use_bias=use_bias, kernel_init=CONV_INIT)(h)
            h = nn.relu(normalize(h, self.norm, train=train))
        h = ConvTranspose(self.output_channels, (4, 4), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True,
                          kernel_init=CONV_INIT)(h)
        return jnp.tanh(h)
