"""PatchGAN discriminators of pix2pix (Isola et al. 2017, sec. 3.2.2 and appendix 6.1.2) and the
multi-scale discriminator of pix2pixHD (Wang et al. 2018, sec. 3.2), with the defaults of the
authors' code (junyanz/pytorch-CycleGAN-and-pix2pix ``NLayerDiscriminator`` / ``PixelDiscriminator``;
NVIDIA/pix2pixHD ``MultiscaleDiscriminator``).

PatchGAN D(x), x the concatenated (input, output) pair, 'patch' variant with n = ``n_layers``:

    h_0 = LeakyReLU_0.2(conv_s2(x))
    h_j = LeakyReLU_0.2(norm(conv_s2(h_{j-1})))       j = 1 .. n - 1
    h_n = LeakyReLU_0.2(norm(conv_s1(h_{n-1})))
    D(x) = conv_s1(h_n)                               one logit per patch, [B, h, w, 1]

with 4x4 convolutions, zero padding ``padding`` (1 in pix2pix's code; 2 = ceil(3 / 2) in
pix2pixHD's and SPADE's), widths ndf * min(2^j, 8) for h_j (C64-C128-C256-C512 for n = 3;
pix2pixHD caps the width at 512 instead, the same for ndf = 64).
Each logit sees a receptive field of RF = 9 * 2^n - 2 input pixels per side (``receptive_field``):
16 for n = 1, 70 for n = 3 (the paper's 70x70 PatchGAN), 286 for n = 5 (the paper's 286x286
"ImageGAN" at 256x256). The 'pixel' variant (the paper's 1x1 PixelGAN) is the same stack with
n = 1 and 1x1 stride-1 convolutions (64 -> 128 -> 1): each logit sees one pixel; it ignores
``n_layers`` and ``padding``. The 'dcgan' variant is DCGAN's discriminator (Radford et al. 2016) as
DiscoGAN's code has it (Kim et al. 2017; SKTBrain/DiscoGAN ``Discriminator``): the n strided layers, then
the logit from an unpadded 4x4 convolution, no stride-1 hidden layer and no biases:

    h_0 = LeakyReLU_0.2(conv_s2(x)),  h_j = LeakyReLU_0.2(norm(conv_s2(h_{j-1})))   j = 1 .. n - 1
    D(x) = conv4x4_valid(h_{n-1})          one logit per image where H = W = 2^n * 4 (64x64 for n = 4)

Normalisation as ``jaxgan.networks.unet.normalize`` ('batch', 'instance' or 'none'; none on the
first layer); convolutions have a bias unless batch norm follows, the logit layer always (the
reference's pixel variant drops that bias under batch norm, pix2pixHD keeps every bias; we keep
the logit's), except in the 'dcgan' variant, which has none. ``spectral_norm`` divides every
convolution's kernel by its largest singular value (Miyato et al. 2018; SPADE's discriminator), its
power-iteration state in 'batch_stats'.

With ``return_features=True`` D returns (logits, [h_0, ..., h_n]) ([h_0, ..., h_{n-1}] for 'dcgan'):
every intermediate activation, for pix2pixHD's feature-matching loss (Wang et al. 2018, eq. 4), which
compares all of them (the reference's D_k^(i) for i = 1..T with the logits left out), and DiscoGAN's.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple, Union

import flax.linen as nn
import jax

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv
from jaxgan.networks.layers import apply_layer
from jaxgan.networks.unet import CONV_INIT, check_norm, normalize

VARIANTS = ("patch", "pixel", "dcgan")

Output = Union[jax.Array, Tuple[jax.Array, List[jax.Array]]]


def _layers(n_layers: int, variant: str, padding: int) -> Sequence[Tuple[int, int, int]]:
    """(kernel, stride, padding) of each convolution, the logit layer last."""
    if variant == "pixel":
        return [(1, 1, 0)] * 3
    if variant == "dcgan":
        return [(4, 2, padding)] * n_layers + [(4, 1, 0)]
    return [(4, 2, padding)] * n_layers + [(4, 1, padding)] * 2


def receptive_field(n_layers: int, variant: str = "patch") -> int:
    """Side of the square of input pixels one logit sees: r <- (r - 1) * stride + kernel from the
    logit back to the input; 9 * 2^n_layers - 2 for 'patch' (70 for n_layers = 3), 1 for 'pixel'."""
    r = 1
    for kernel, stride, _ in reversed(_layers(n_layers, variant, 1)):
        r = (r - 1) * stride + kernel
    return r


class PatchGANDiscriminator(nn.Module):
    """pix2pix's PatchGAN D (see the module docstring): [B, H, W, C] -> logits [B, h, w, 1], or
    (logits, activations) with ``return_features``."""

    features: int = 64  # ndf (pix2pix: 64).
    n_layers: int = 3  # Strided convolutions: 3 = 70x70 PatchGAN (pix2pix default), 1 = 16x16, 5 = 286x286.
    norm: str = "batch"  # pix2pix: batch norm.
    variant: str = "patch"  # 'patch', 'pixel' (1x1 PixelGAN) or 'dcgan' (one logit per 4x4 map; DiscoGAN).
    spectral_norm: bool = False  # Miyato et al. 2018 (SPADE).
    padding: int = 1  # Zero padding of the 4x4 convolutions: 1 (pix2pix's code), 2 (pix2pixHD's, SPADE's).

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool, return_features: bool = False) -> Output:
        check_norm("patchgan_discriminator", self.norm)
        if self.variant not in VARIANTS:
            raise ConfigError(f"patchgan_discriminator: variant={self.variant!r} is not one of {VARIANTS}")
        if self.n_layers < 1:
            raise ConfigError(f"patchgan_discriminator: n_layers={self.n_layers} < 1; use 1 (16x16), "
                              "3 (70x70) or 5 (286x286)")
        layers = _layers(self.n_layers, self.variant, self.padding)
        size = min(x.shape[1:3])
        for kernel, stride, pad in layers:
            size = (size + 2 * pad - kernel) // stride + 1
        if size < 1:
            raise ConfigError(f"patchgan_discriminator: input {x.shape[1]}x{x.shape[2]} is too small for "
                              f"n_layers={self.n_layers}; lower n_layers or use larger images")
        activations = []
        h = x
        bias = self.variant != "dcgan"  # DCGAN's convolutions have none.
        for j, (kernel, stride, pad) in enumerate(layers[:-1]):
            conv = Conv(self.features * min(2 ** j, 8), (kernel, kernel), strides=(stride, stride),
                           padding=((pad, pad), (pad, pad)), use_bias=bias and not (j > 0 and self.norm == "batch"),
                           kernel_init=CONV_INIT)
            h = apply_layer(conv, h, spectral_norm=self.spectral_norm, train=train)
            if j > 0:
                h = normalize(h, self.norm, train=train)
            h = nn.leaky_relu(h, 0.2)
            activations.append(h)
        kernel, stride, pad = layers[-1]
        logit_conv = Conv(1, (kernel, kernel), strides=(stride, stride), padding=((pad, pad), (pad, pad)),
                             use_bias=bias, kernel_init=CONV_INIT)
        logits = apply_layer(logit_conv, h, spectral_norm=self.spectral_norm, train=train)
        return (logits, activations) if return_features else logits


class MultiScaleDiscriminator(nn.Module):
    """pix2pixHD's multi-scale D (Wang et al. 2018, sec. 3.2): ``num_d`` PatchGANs of the same
    architecture and separate weights; D_k sees the input down-sampled k times (3x3 average
    pooling, stride 2, padding 1, padded pixels left out of each mean, as the authors' AvgPool2d
    with count_include_pad=False). Returns [D_0(x), D_1(x_1), ...], finest scale first, each
    entry as PatchGANDiscriminator returns it."""

    num_d: int = 2  # pix2pixHD: 2 (3 in its scripts/train_1024p_*.sh).
    features: int = 64  # ndf.
    n_layers: int = 3  # pix2pixHD: 3.
    norm: str = "instance"  # pix2pixHD: instance norm.
    spectral_norm: bool = False  # SPADE: True.
    padding: int = 2  # pix2pixHD's code: ceil((4 - 1) / 2).

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool, return_features: bool = False) -> List[Output]:
        if self.num_d < 1:
            raise ConfigError(f"multiscale_discriminator: num_d={self.num_d} < 1; pix2pixHD uses 2 or 3")
        outputs = []
        for k in range(self.num_d):
            if k:
                x = nn.avg_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)), count_include_pad=False)
            d = PatchGANDiscriminator(self.features, self.n_layers, self.norm, spectral_norm=self.spectral_norm,
                                      padding=self.padding, name=f"scale_{k}")
            outputs.append(d(x, train=train, return_features=return_features))
        return outputs
