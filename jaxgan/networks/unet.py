"""The U-Net generator of pix2pix (Isola et al. 2017, sec. 3.2.1 and appendix 6.1.1), with the
defaults of the authors' code (junyanz/pytorch-CycleGAN-and-pix2pix, ``unet_256`` / ``unet_128``).

An encoder-decoder with ``num_downs`` 4x4 stride-2 convolutions down to a bottleneck of
size H / 2^num_downs (1x1 for unet_256 at 256x256, unet_128 at 128x128) and as many 4x4 stride-2
transposed convolutions back up, where decoder layer i also sees encoder layer i's output
(skip connection by channel concatenation):

    d_0 = conv(x),                 d_i = norm(conv(LeakyReLU_0.2(d_{i-1})))   (0 < i < n - 1)
    d_{n-1} = conv(LeakyReLU_0.2(d_{n-2}))                                    (no norm: 1x1 bottleneck)
    u_{n-1} = norm(convT(ReLU(d_{n-1}))),   u_i = norm(convT(ReLU([d_i, u_{i+1}])))   (0 < i < n - 1)
    y = tanh(convT(ReLU([d_0, u_1])))

Encoder widths ngf, 2ngf, 4ngf, then 8ngf (C64-C128-C256-C512-C512-C512-C512-C512 for unet_256
with ngf = 64); decoder u_i has the width of d_{i-1}. Dropout (rate 0.5) follows the norm of
the ``num_downs - 5`` decoder layers just outside the innermost one (3 for unet_256), as the
authors' code places it; the paper's appendix lists it on the first three decoder layers
(CD512-CD512-CD512), one layer further in. The paper also keeps dropout at test time as its only
source of noise (sec. 3.2); ``test_time_dropout`` does that here, and then ``apply`` needs a
'dropout' rng even with train=False. (Its inference also normalises with the test batch's own
statistics: that is ``train=True`` with the 'batch_stats' update discarded.)

Normalisation ``norm``: 'batch' (momentum 0.1 in PyTorch's convention, i.e. 0.9 here, eps 1e-5;
running averages in 'batch_stats'; PyTorch's running variance is the unbiased one, Flax's the
biased one), 'instance' (no affine parameters, no running statistics: the reference's
InstanceNorm2d) or 'none'. Convolutions have a bias only where no batch norm follows (the
reference has them only with instance norm; with 'none' we keep them) and the output layer always
has one. Initialisation as the reference's ``init_weights('normal', 0.02)``: weights N(0, 0.02^2),
biases 0, batch-norm scales N(1, 0.02^2) and shifts 0. The transposed convolutions are
``jaxgan.networks.conv.ConvTranspose`` (Flax's, computed as sub-pixel convolutions: same parameters
and outputs, faster on XLA:CPU).

The helpers ``normalize``, ``CONV_INIT`` and ``check_norm`` are shared with the PatchGAN
discriminators (``jaxgan.networks.patchgan``).
"""

from __future__ import annotations

from typing import Any, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose

NORMS = ("batch", "instance", "none")
CONV_INIT = nn.initializers.normal(0.02)  # init_weights('normal', gain=0.02) of the reference.
# 4x4 stride-2 (transposed) convolutions aligned as PyTorch's Conv2d / ConvTranspose2d(k=4, s=2, p=1):
# the transposed one pads the zero-dilated input by k - 1 - p = 2 on each side, so H -> 2H exactly.
DOWN_PADDING = ((1, 1), (1, 1))
UP_PADDING = ((2, 2), (2, 2))


def _bn_scale_init(key: jax.Array, shape: Tuple[int, ...], dtype: Any = jnp.float32) -> jax.Array:
    """Batch-norm scales N(1, 0.02^2), as the reference's init_weights."""
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def check_norm(network: str, norm: str) -> None:
    if norm not in NORMS:
        raise ConfigError(f"{network}: norm={norm!r} is not one of {NORMS}; set the network's norm to one of them")


def normalize(h: jax.Array, norm: str, *, train: bool) -> jax.Array:
    """Batch norm (batch statistics when training, running averages otherwise), instance norm
    (per example and channel over the spatial axes, no affine parameters) or nothing.
    Call inside a compact method: it creates the norm's submodule there."""
    if norm == "batch":
        return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                            scale_init=_bn_scale_init)(h)
    if norm == "instance":
        return nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False)(h)
    return h


class UNetGenerator(nn.Module):
    """pix2pix's U-Net G(x) (see the module docstring): [B, H, W, C_in] -> [B, H, W, output_channels]
    in [-1, 1]; H and W must be divisible by 2^num_downs."""

    output_channels: int  # The target image's channels (set by the method from the data).
    num_downs: int = 8  # 8 = unet_256, 7 = unet_128 (1x1 bottleneck at 256 / 128 pixels).
    features: int = 64  # ngf (pix2pix: 64).
    norm: str = "batch"  # pix2pix: batch norm.
    dropout: float = 0.5  # Rate in the num_downs - 5 decoder layers next to the innermost (pix2pix: 0.5); 0 = none.
    test_time_dropout: bool = True  # Isola et al. 2017, sec. 3.2: dropout also at test time.

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        check_norm("unet_generator", self.norm)
        if self.num_downs < 5:
            raise ConfigError(f"unet_generator: num_downs={self.num_downs} < 5; the U-Net has the widths "
                              "ngf, 2ngf, 4ngf, 8ngf and an innermost layer, so it needs num_downs >= 5")
        _, height, width, _ = x.shape
        scale = 2 ** self.num_downs
        if height % scale or width % scale:
            raise ConfigError(f"unet_generator: input size {height}x{width} is not divisible by "
                              f"2^num_downs = {scale}; crop or resize the images to a multiple of {scale} "
                              "or lower num_downs (8 = unet_256, 7 = unet_128)")
        use_bias = self.norm != "batch"
        widths = [self.features * min(2 ** i, 8) for i in range(self.num_downs)]
        n = self.num_downs

        def down(f: int, h: jax.Array) -> jax.Array:
            return Conv(f, (4, 4), strides=(2, 2), padding=DOWN_PADDING, use_bias=use_bias,
                           kernel_init=CONV_INIT)(h)

        def up(f: int, h: jax.Array, bias: bool) -> jax.Array:
            return ConvTranspose(f, (4, 4), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True,
                                 use_bias=bias, kernel_init=CONV_INIT)(nn.relu(h))

        skips = [down(widths[0], x)]  # Outermost encoder layer: no activation before, no norm after.
        for i in range(1, n):
            h = down(widths[i], nn.leaky_relu(skips[-1], 0.2))
            skips.append(normalize(h, self.norm, train=train) if i < n - 1 else h)  # Innermost: no norm.

        h = skips[-1]
        for i in range(n - 1, 0, -1):
            h = normalize(up(widths[i - 1], h, use_bias), self.norm, train=train)
            if self.dropout and 4 <= i <= n - 2:  # The reference's use_dropout blocks (8ngf -> 8ngf).
                h = nn.Dropout(self.dropout, deterministic=not (train or self.test_time_dropout))(h)
            h = jnp.concatenate([skips[i - 1], h], axis=-1)
        return jnp.tanh(up(self.output_channels, h, True))
