"""SPADE networks (Park et al. 2019, "Semantic Image Synthesis with Spatially-Adaptive
Normalization"), with the defaults of the authors' code (NVlabs/SPADE ``models/networks``:
``normalization.SPADE``, ``architecture.SPADEResnetBlock``, ``generator.SPADEGenerator``,
``encoder.ConvEncoder``).

SPADE (sec. 3, eq. 1): for activations h [B, H, W, C] and the semantic map m (one-hot labels and
instance edges),

    SPADE(h, m) = BN(h) * (1 + gamma(m)) + beta(m)

BN a parameter-free batch norm (mean and variance per channel over the batch and the positions,
eps 1e-5, running averages with PyTorch's momentum 0.1 for test time), m resized to H x W by
nearest neighbour (PyTorch's ``F.interpolate(mode='nearest')``: source pixel floor(i * H_m / H)),
a = ReLU(conv3x3_128(m)) shared, gamma = conv3x3_C(a), beta = conv3x3_C(a) (``hidden`` = 128 in the
code, "Yes, hardcoded"). The code writes 1 + gamma; the paper's eq. 1 writes gamma with the same
meaning.

Synchronised batch norm: the code's default ``spadesyncbatch3x3`` computes the statistics over the
whole batch of all GPUs. jaxgan's step is jit-compiled over a mesh with the batch sharded
(``jaxgan.train_step.compile_train_step``): ``nn.BatchNorm``'s mean over the batch axis is a mean of
the global array, which XLA computes with a cross-device reduction, so the statistics are those
of the global batch on any number of devices (tests/test_spade.py checks 1 device against 8).
``norm='instance'`` gives the paper's instance-norm variant.

SPADE residual block (sec. 3, Fig. 4; the code's ``SPADEResnetBlock``): with f_mid = min(f_in, f_out),

    dx = conv3x3_fout(LReLU_0.2(SPADE(conv3x3_fmid(LReLU_0.2(SPADE(x, m))), m)))
    out = dx + (conv1x1_fout(SPADE(x, m)) if f_in != f_out else x)      (learned shortcut, no bias)

with spectral norm on its convolutions (``spectral_norm``; the code's ``norm_G =
'spectralspadesyncbatch3x3'``).

Generator (the code's ``SPADEGenerator``, ngf = ``features``, n = 5 / 6 / 7 up-samplings for
``num_upsampling_layers`` 'normal' / 'more' / 'most'): from m nearest-resized to H / 2^n x W / 2^n
through a 3x3 conv to 16 ngf (or, with a style encoder, z through a dense layer), the blocks head
(16 ngf), middle x 2 (16 ngf), up_0 .. up_3 (8, 4, 2, 1 x ngf; 'most' adds up_4 at ngf / 2), each
after a 2x nearest up-sampling ('more' adds one between the middle blocks), then
tanh(conv3x3_3(LReLU_0.2(h))).

Style encoder (the code's ``ConvEncoder``, for ``use_vae``): the image resized to ``input_size``
(256, bilinear), ``n_layers`` (6 for crops >= 256) 3x3 stride-2 convolutions of widths ngf, 2, 4, 8,
8, 8 x ngf, each with spectral norm and instance norm, LReLU 0.2 between; two dense layers give
mu and log sigma^2 of q(z | x), z_dim 256.
"""

from __future__ import annotations

from typing import Optional, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv
from jaxgan.networks.layers import Dense, apply_layer, upsample_2x

UPSAMPLINGS = {"normal": 5, "more": 6, "most": 7}  # The code's --num_upsampling_layers.
NORMS = ("batch", "instance")


def resize_nearest(m: jax.Array, height: int, width: int) -> jax.Array:
    """PyTorch's nearest-neighbour ``F.interpolate``: output pixel (i, j) takes source pixel
    (floor(i * H_in / H), floor(j * W_in / W))."""
    rows = (jnp.arange(height) * m.shape[1]) // height
    cols = (jnp.arange(width) * m.shape[2]) // width
    return m[:, rows][:, :, cols]


def param_free_norm(h: jax.Array, norm: str, *, train: bool) -> jax.Array:
    """Batch norm (synchronised over the global batch, see the module docstring) or instance norm,
    without affine parameters."""
    if norm == "batch":
        return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, use_scale=False,
                            use_bias=False)(h)
    return nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False)(h)


class SPADE(nn.Module):
    """SPADE(h, m) = norm(h) * (1 + gamma(m)) + beta(m) (see the module docstring)."""

    hidden: int = 128  # The code's nhidden.
    kernel: int = 3  # spade...3x3.
    norm: str = "batch"  # The code's syncbatch.

    @nn.compact
    def __call__(self, h: jax.Array, m: jax.Array, *, train: bool) -> jax.Array:
        if self.norm not in NORMS:
            raise ConfigError(f"SPADE: norm={self.norm!r} is not one of {NORMS}")
        normalized = param_free_norm(h, self.norm, train=train)
        k, pad = (self.kernel, self.kernel), ((self.kernel // 2,) * 2,) * 2
        a = nn.relu(Conv(self.hidden, k, padding=pad, name="shared")(resize_nearest(m, *h.shape[1:3])))
        gamma = Conv(h.shape[-1], k, padding=pad, name="gamma")(a)
        beta = Conv(h.shape[-1], k, padding=pad, name="beta")(a)
        return normalized * (1.0 + gamma) + beta


class SPADEResBlock(nn.Module):
    """The SPADE residual block (see the module docstring): [B, H, W, f_in] -> [B, H, W, features]."""

    features: int
    hidden: int = 128
    norm: str = "batch"
    spectral_norm: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, m: jax.Array, *, train: bool) -> jax.Array:
        f_in = x.shape[-1]
        f_mid = min(f_in, self.features)

        def spade(h: jax.Array, name: str) -> jax.Array:
            return SPADE(self.hidden, norm=self.norm, name=name)(h, m, train=train)

        def conv(h: jax.Array, f: int, kernel: int, name: str, bias: bool = True) -> jax.Array:
            layer = Conv(f, (kernel, kernel), padding=((kernel // 2,) * 2,) * 2, use_bias=bias, name=name)
            return apply_layer(layer, h, spectral_norm=self.spectral_norm, train=train)

        dx = conv(nn.leaky_relu(spade(x, "norm_0"), 0.2), f_mid, 3, "conv_0")
        dx = conv(nn.leaky_relu(spade(dx, "norm_1"), 0.2), self.features, 3, "conv_1")
        shortcut = x if f_in == self.features else conv(spade(x, "norm_s"), self.features, 1, "conv_s", bias=False)
        return shortcut + dx


class SPADEGenerator(nn.Module):
    """G(m[, z]): the semantic map [B, H, W, C_m] (and z [B, z_dim] with ``use_vae``) -> [B, H, W,
    output_channels] in [-1, 1]; H and W divisible by 2^n (n up-samplings)."""

    output_channels: int  # Set by the method from the data.
    features: int = 64  # ngf (SPADE: 64).
    num_upsampling_layers: str = "normal"  # 'normal' (5; COCO, ADE20K), 'more' (6; the code's Cityscapes), 'most' (7).
    hidden: int = 128  # SPADE's hidden width (code: 128).
    norm: str = "batch"  # Synchronised batch norm (code: spectralspadesyncbatch3x3).
    spectral_norm: bool = True  # On the residual blocks' convolutions (code: spectral...).
    use_vae: bool = False  # Start from z (the style encoder's) instead of the down-sampled map.
    z_dim: int = 256  # SPADE: 256.

    @nn.compact
    def __call__(self, m: jax.Array, z: Optional[jax.Array] = None, *, train: bool) -> jax.Array:
        if self.num_upsampling_layers not in UPSAMPLINGS:
            raise ConfigError(f"spade_generator: num_upsampling_layers={self.num_upsampling_layers!r} is not one "
                              f"of {sorted(UPSAMPLINGS)}")
        n = UPSAMPLINGS[self.num_upsampling_layers]
        height, width = m.shape[1:3]
        if height % 2 ** n or width % 2 ** n:
            raise ConfigError(f"spade_generator: {height}x{width} maps are not divisible by 2^{n} (num_upsampling_"
                              f"layers={self.num_upsampling_layers!r}); resize the data or use fewer up-samplings")
        sh, sw, nf = height // 2 ** n, width // 2 ** n, self.features
        if self.use_vae:
            if z is None:
                raise ValueError("spade_generator with use_vae needs z")
            x = Dense(16 * nf * sh * sw, name="fc")(z).reshape(-1, sh, sw, 16 * nf)
        else:
            x = Conv(16 * nf, (3, 3), padding=((1, 1), (1, 1)), name="fc")(resize_nearest(m, sh, sw))

        def block(h: jax.Array, f: int, name: str) -> jax.Array:
            return SPADEResBlock(f, self.hidden, self.norm, self.spectral_norm, name=name)(h, m, train=train)

        x = upsample_2x(block(x, 16 * nf, "head_0"))
        x = block(x, 16 * nf, "middle_0")
        if n >= 6:
            x = upsample_2x(x)
        x = block(x, 16 * nf, "middle_1")
        for i, f in enumerate((8 * nf, 4 * nf, 2 * nf, nf)):
            x = block(upsample_2x(x), f, f"up_{i}")
        if n == 7:
            x = block(upsample_2x(x), nf // 2, "up_4")
        x = Conv(self.output_channels, (3, 3), padding=((1, 1), (1, 1)), name="conv_img")(nn.leaky_relu(x, 0.2))
        return jnp.tanh(x)


class StyleEncoder(nn.Module):
    """E(x) = (mu, log sigma^2) of q(z | x) (see the module docstring)."""

    features: int = 64  # The code's ndf = ngf (64).
    n_layers: int = 6  # 6 for crops >= 256 (the code's layer6), else 5.
    input_size: int = 256  # Images are resized to input_size x input_size (code: 256).
    z_dim: int = 256  # SPADE: 256.
    spectral_norm: bool = True  # The code's norm_E = 'spectralinstance'.

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> Tuple[jax.Array, jax.Array]:
        if self.input_size % 2 ** self.n_layers:
            raise ConfigError(f"style_encoder: input_size={self.input_size} is not divisible by 2^n_layers = "
                              f"{2 ** self.n_layers}")
        if x.shape[1:3] != (self.input_size, self.input_size):
            x = jax.image.resize(x, (x.shape[0], self.input_size, self.input_size, x.shape[-1]), "bilinear",
                                 antialias=False)
        h = x
        for j in range(self.n_layers):
            if j:
                h = nn.leaky_relu(h, 0.2)
            conv = Conv(self.features * min(2 ** j, 8), (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)),
                           use_bias=False)  # The norm follows: the code removes the bias.
            h = nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False)(
                apply_layer(conv, h, spectral_norm=self.spectral_norm, train=train))
        h = nn.leaky_relu(h, 0.2).reshape(h.shape[0], -1)
        return Dense(self.z_dim, name="fc_mu")(h), Dense(self.z_dim, name="fc_var")(h)


class SPADEModel(nn.Module):
    """The generator side: G and, for multi-modal synthesis, the style encoder E.

    ``__call__(m, x, eps)`` is training: z = mu(x) + exp(log sigma^2(x) / 2) * eps (reparameterised),
    returns (G(m, z), mu, log sigma^2), or (G(m), None, None) without an encoder. ``generate(m, z)``
    is G alone (z ~ N(0, I) or an encoded style at test time)."""

    generator: nn.Module
    encoder: Optional[nn.Module] = None

    def __call__(self, m: jax.Array, x: jax.Array, eps: jax.Array, *, train: bool):
        if self.encoder is None:
            return self.generator(m, train=train), None, None
        mu, log_variance = self.encoder(x, train=train)
        return self.generator(m, mu + jnp.exp(0.5 * log_variance) * eps, train=train), mu, log_variance

    def generate(self, m: jax.Array, z: Optional[jax.Array] = None, *, train: bool = False) -> jax.Array:
        return self.generator(m, z, train=train)

    def encode(self, x: jax.Array, *, train: bool = False) -> Tuple[jax.Array, jax.Array]:
        return self.encoder(x, train=train)
