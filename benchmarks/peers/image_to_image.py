"""The networks of pix2pix and CycleGAN as junyanz/pytorch-CycleGAN-and-pix2pix documents them
(Isola et al. 2017; Zhu et al. 2017), written here: the U-Net, the ResNet translator and the PatchGAN D.

Norms: 'batch' (affine, running statistics) or 'instance' (no affine, no running statistics, the
reference's); convolutions before a batch norm have no bias, before an instance norm they have one.
"""

from __future__ import annotations

import torch
from torch import nn


def norm_layer(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm {norm!r} is not 'batch', 'instance' or 'none'")


class UNetBlock(nn.Module):
    """Down (LeakyReLU 0.2, 4x4 stride-2 conv, norm), the inner block, up (ReLU, 4x4 stride-2 transposed
    conv, norm, dropout), and the skip: concat(x, block(x)). The outermost has no norm on its down
    convolution and ends in tanh without a skip; the innermost has no norm on its down convolution."""

    def __init__(self, outer: int, inner: int, *, input_channels=None, sub=None, outermost=False,
                 innermost=False, norm="batch", dropout=0.0):
        super().__init__()
        self.outermost = outermost
        bias = norm != "batch"
        down_conv = nn.Conv2d(input_channels or outer, inner, 4, 2, 1, bias=bias)
        if outermost:
            down = [down_conv]
            up = [nn.ReLU(), nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            down = [nn.LeakyReLU(0.2), down_conv]
            up = [nn.ReLU(), nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias), norm_layer(norm, outer)]
        else:
            down = [nn.LeakyReLU(0.2), down_conv, norm_layer(norm, inner)]
            up = [nn.ReLU(), nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1, bias=bias), norm_layer(norm, outer)]
            if dropout:
                up.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*down, *([sub] if sub is not None else []), *up)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


def unet(input_channels: int, output_channels: int, num_downs=8, features=64, norm="batch", dropout=0.5,
         **unused) -> nn.Module:
    """unet_256 for num_downs 8: widths ngf * (1, 2, 4, 8, 8, ...), dropout in the num_downs - 5 blocks
    next to the innermost."""
    f = features
    block = UNetBlock(8 * f, 8 * f, innermost=True, norm=norm)
    for _ in range(num_downs - 5):
        block = UNetBlock(8 * f, 8 * f, sub=block, norm=norm, dropout=dropout)
    for outer in (4 * f, 2 * f, f):
        block = UNetBlock(outer, 2 * outer, sub=block, norm=norm)
    return UNetBlock(output_channels, f, input_channels=input_channels, sub=block, outermost=True, norm=norm)


def patchgan(input_channels: int, features=64, n_layers=3, norm="batch", variant="patch", padding=1,
             **unused) -> nn.Module:
    """PatchGAN (n_layers 3: 70x70): 4x4 conv stride 2 + LeakyReLU 0.2; n_layers - 1 more stride-2 and one
    stride-1 conv with norm, widths ndf * min(2^n, 8); a 4x4 stride-1 conv to one logit per patch."""
    if variant != "patch" or padding != 1:
        raise ValueError("the twin's PatchGAN is the reference's 'basic'/n_layers one with padding 1")
    bias = norm != "batch"
    layers = [nn.Conv2d(input_channels, features, 4, 2, 1), nn.LeakyReLU(0.2)]
    mult = 1
    for n in range(1, n_layers + 1):
        previous, mult = mult, min(2 ** n, 8)
        stride = 2 if n < n_layers else 1
        layers += [nn.Conv2d(features * previous, features * mult, 4, stride, 1, bias=bias),
                   norm_layer(norm, features * mult), nn.LeakyReLU(0.2)]
    layers.append(nn.Conv2d(features * mult, 1, 4, 1, 1))
    return nn.Sequential(*layers)


class ResnetBlock(nn.Module):
    """x + (reflect pad 1, 3x3 conv, norm, ReLU, reflect pad 1, 3x3 conv, norm)(x)."""

    def __init__(self, channels: int, norm: str):
        super().__init__()
        bias = norm != "batch"
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels))

    def forward(self, x):
        return x + self.block(x)


def resnet_translator(input_channels: int, output_channels: int, features=64, blocks=9, norm="instance",
                      downsamplings=2, **unused) -> nn.Module:
    """resnet_9blocks: reflect pad 3 + 7x7 conv, norm, ReLU; stride-2 3x3 convs doubling the width;
    residual blocks; stride-2 3x3 transposed convs (output padding 1) halving it; reflect pad 3 + 7x7
    conv to the image, tanh."""
    bias = norm != "batch"
    f = features
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(input_channels, f, 7, bias=bias), norm_layer(norm, f), nn.ReLU()]
    for i in range(downsamplings):
        c = f * 2 ** i
        layers += [nn.Conv2d(c, 2 * c, 3, 2, 1, bias=bias), norm_layer(norm, 2 * c), nn.ReLU()]
    layers += [ResnetBlock(f * 2 ** downsamplings, norm) for _ in range(blocks)]
    for i in range(downsamplings, 0, -1):
        c = f * 2 ** i
        layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias), norm_layer(norm, c // 2),
                   nn.ReLU()]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(f, output_channels, 7), nn.Tanh()]
    return nn.Sequential(*layers)
