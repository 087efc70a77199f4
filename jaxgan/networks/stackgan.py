"""StackGAN networks (Zhang et al. 2017), sized for small images such as MNIST.

The condition is a class label, one-hot: the analogue of the paper's fixed text embedding phi_t.

Generator (one module, both stages), with noise = [z, eps_0, eps_1]:
  * Conditioning augmentation, per stage i (sec. 3.1): a fully connected layer maps phi_t to
    (mu_i, log sigma_i^2), and  c_i = mu_i + sigma_i * eps_i,  eps_i ~ N(0, I).
  * Stage I (sec. 3.2): [c_0, z] -> dense to an H/4 x W/4 map -> an up-sampling block -> 3x3
    convolution -> tanh: the low-resolution image s_0 of H/2 x W/2.
  * Stage II (sec. 3.3): s_0 -> down-sampling (3x3 conv, then a stride-2 4x4 conv) to H/4 x W/4;
    c_1 replicated spatially and concatenated; a 3x3 joint convolution; residual blocks; two
    up-sampling blocks -> 3x3 convolution -> tanh: the image of H x W. No new noise. Stage II's
    gradient stops at s_0, so stage II's loss never trains stage I.
  Up-sampling block: nearest-neighbour 2x, 3x3 convolution, batch norm, ReLU (the paper's).

Discriminator, per stage (sec. 3.2, 3.3 and 4.1): stride-2 4x4 convolutions with LeakyReLU(0.2)
down to a small map; phi_t compressed by a dense layer to ``condition_dim`` (N_d), replicated
spatially and concatenated; a 1x1 convolution; a dense layer to one logit. No batch norm: D sees
real, generated and mismatched batches separately, and per-batch statistics let a conditional D
tell them apart without the label (measured with the DCGAN cGAN, benchmarks/RESULTS.md).
Optional spectral norm on every layer (Miyato et al. 2018).
"""

from __future__ import annotations

from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv
from jaxgan.networks.layers import Dense, apply_layer, upsample_2x


def _up_block(h: jax.Array, features: int, train: bool) -> jax.Array:
    """Nearest-neighbour 2x up-sampling, 3x3 convolution, batch norm, ReLU."""
    h = Conv(features, (3, 3), padding="SAME", use_bias=False)(upsample_2x(h))
    return nn.relu(nn.BatchNorm(use_running_average=not train)(h))


def _conv_bn(h: jax.Array, features: int, train: bool) -> jax.Array:
    h = Conv(features, (3, 3), padding="SAME", use_bias=False)(h)
    return nn.BatchNorm(use_running_average=not train)(h)


def _replicate(c: jax.Array, height: int, width: int) -> jax.Array:
    """[B, D] -> [B, height, width, D]."""
    return jnp.broadcast_to(c[:, None, None, :], (c.shape[0], height, width, c.shape[-1]))


class ConditioningAugmentation(nn.Module):
    """c = mu(phi) + sigma(phi) * eps (Zhang et al. 2017, sec. 3.1); returns (c, mu, log sigma^2)."""

    condition_dim: int

    @nn.compact
    def __call__(self, phi: jax.Array, eps: jax.Array) -> Tuple[jax.Array, jax.Array, jax.Array]:
        mu, log_variance = jnp.split(Dense(2 * self.condition_dim)(phi), 2, axis=-1)
        return mu + jnp.exp(0.5 * log_variance) * eps, mu, log_variance


class StackGANGenerator(nn.Module):
    """(noise [B, latent + 2 condition_dim], labels) -> (s_0, s_1, ((mu_0, logvar_0), (mu_1, logvar_1)))."""

    num_classes: int
    image_shape: Sequence[int] = (28, 28, 1)
    condition_dim: int = 128  # N_g (the paper: 128).
    stage1_features: Sequence[int] = (128, 64)  # Stage I: width at H/4, then per up-sampling block.
    stage2_features: int = 32  # Stage II: width at H/2; 2x at H/4, and H/2, 1/2x at H.
    residual_blocks: int = 2  # The paper: 2 at 16x16.

    def noise_dim(self, latent_dim: int) -> int:
        return latent_dim + 2 * self.condition_dim

    @nn.compact
    def __call__(self, noise: jax.Array, labels: jax.Array, *, train: bool):
        height, width, channels = self.image_shape
        if height % 4 or width % 4:
            raise ConfigError(f"stackgan_generator: image size {height}x{width} must be divisible by 4 "
                              "(stage I draws H/2 x W/2, stage II goes through H/4 x W/4)")
        if len(self.stage1_features) != 2:
            raise ConfigError(f"stackgan_generator: stage1_features={tuple(self.stage1_features)} must give "
                              "2 widths (H/4 map, H/2 block)")
        n = 2 * self.condition_dim
        z, eps = noise[:, :-n], noise[:, -n:]
        eps_0, eps_1 = jnp.split(eps, 2, axis=-1)
        phi = jax.nn.one_hot(labels, self.num_classes)

        c_0, mu_0, logvar_0 = ConditioningAugmentation(self.condition_dim, name="ca_0")(phi, eps_0)
        h = Dense(height // 4 * width // 4 * self.stage1_features[0], use_bias=False)(
            jnp.concatenate([c_0, z], axis=-1))
        h = nn.relu(nn.BatchNorm(use_running_average=not train)(
            h.reshape(-1, height // 4, width // 4, self.stage1_features[0])))
        h = _up_block(h, self.stage1_features[1], train)
        s_0 = jnp.tanh(Conv(channels, (3, 3), padding="SAME")(h))

        f = self.stage2_features
        c_1, mu_1, logvar_1 = ConditioningAugmentation(self.condition_dim, name="ca_1")(phi, eps_1)
        # Stage II does not train stage I: in the paper stage I is fixed while stage II trains.
        h = nn.relu(Conv(f, (3, 3), padding="SAME")(jax.lax.stop_gradient(s_0)))
        h = nn.relu(nn.BatchNorm(use_running_average=not train)(
            Conv(2 * f, (4, 4), strides=(2, 2), padding="SAME", use_bias=False)(h)))
        h = jnp.concatenate([h, _replicate(c_1, h.shape[1], h.shape[2])], axis=-1)
        h = nn.relu(_conv_bn(h, 2 * f, train))
        for _ in range(self.residual_blocks):
            h = nn.relu(h + _conv_bn(nn.relu(_conv_bn(h, 2 * f, train)), 2 * f, train))
        h = _up_block(_up_block(h, f, train), max(f // 2, 1), train)
        s_1 = jnp.tanh(Conv(channels, (3, 3), padding="SAME")(h))
        return s_0, s_1, ((mu_0, logvar_0), (mu_1, logvar_1))


class StageDiscriminator(nn.Module):
    """D_i(x, y): stride-2 convolutions, the compressed condition joined at the last map, one logit."""

    num_classes: int
    features: Sequence[int]
    condition_dim: int
    spectral_norm: bool

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        def layer(module: nn.Module, inputs: jax.Array) -> jax.Array:
            return apply_layer(module, inputs, spectral_norm=self.spectral_norm, train=train)

        h = x
        for f in self.features:
            h = nn.leaky_relu(layer(Conv(f, (4, 4), strides=(2, 2), padding="SAME"), h), 0.2)
        c = nn.leaky_relu(layer(Dense(self.condition_dim), jax.nn.one_hot(labels, self.num_classes)), 0.2)
        h = jnp.concatenate([h, _replicate(c, h.shape[1], h.shape[2])], axis=-1)
        h = nn.leaky_relu(layer(Conv(self.features[-1], (1, 1)), h), 0.2)
        return layer(Dense(1), h.reshape(h.shape[0], -1))[:, 0]


class StackGANDiscriminator(nn.Module):
    """((s_0-sized image, full image), labels) -> (D_0 logit, D_1 logit)."""

    num_classes: int
    condition_dim: int = 128  # N_d (the paper: 128).
    stage1_features: Sequence[int] = (32, 64)
    stage2_features: Sequence[int] = (32, 64, 128)
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, images: Tuple[jax.Array, jax.Array], labels: jax.Array, *, train: bool
                 ) -> Tuple[jax.Array, jax.Array]:
        low, high = images
        d_0 = StageDiscriminator(self.num_classes, self.stage1_features, self.condition_dim, self.spectral_norm,
                                 name="stage_0")
        d_1 = StageDiscriminator(self.num_classes, self.stage2_features, self.condition_dim, self.spectral_norm,
                                 name="stage_1")
        return d_0(low, labels, train=train), d_1(high, labels, train=train)
