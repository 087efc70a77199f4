"""DCGAN networks (Radford et al. 2016) with a choice of how the label y enters.

Strided (transposed) 4x4 convolutions, batch norm, ReLU in G and LeakyReLU(0.2)
in D, tanh output, no pooling, as in DCGAN.

How G uses y (``conditioning``):
  * 'concat' (default): y is embedded (``embed_dim``), mapped by a dense layer to a
    one-channel feature map and concatenated on channels with the projected noise at
    the lowest resolution.
  * 'cbn': every batch norm of G is a conditional batch norm whose scale and shift are
    per-class rows gamma_y, beta_y (de Vries et al. 2017; Dumoulin et al. 2017; the
    generator of Miyato & Koyama 2018); no label map.

How D uses y (``conditioning``), with phi(x) the flattened last convolutional features
and psi a linear layer:
  * 'concat' (default): the label map is concatenated with the input image; D = psi(phi(x, y)).
  * 'projection' (Miyato & Koyama 2018): D(x, y) = psi(phi(x)) + <embed(y), phi(x)>.
  * 'none': D(x) = psi(phi(x)) ignores y (e.g. AC-GAN's discriminator).
D's options: ``spectral_norm`` divides every weight (convolutions, linear layers,
embeddings) by its largest singular value (Miyato et al. 2018); ``batch_norm=False``
drops D's batch norm (SN-GAN discriminators have none); ``dropout_rate`` after each
hidden layer (AC-GAN: 0.5); ``aux_classes=K`` adds an auxiliary classifier head
(Odena et al. 2017) and D returns (logit, class logits [B, K]).
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.conv import Conv, ConvTranspose
from jaxgan.networks.layers import ConditionalBatchNorm, Dense, apply_layer

GENERATOR_CONDITIONING = ("concat", "cbn")
DISCRIMINATOR_CONDITIONING = ("concat", "projection", "none")


def _check_conditioning(network: str, value: str, allowed: Tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{network} conditioning={value!r} is not one of {allowed}; "
                          f"set model.{network.split('_')[-1]}.conditioning to one of them")


class LabelMap(nn.Module):
    """Embeds integer labels and maps them to a [H, W, 1] feature map."""

    num_classes: int
    embed_dim: int
    height: int
    width: int

    @nn.compact
    def __call__(self, labels: jax.Array) -> jax.Array:
        e = nn.Embed(self.num_classes, self.embed_dim)(labels)
        return Dense(self.height * self.width)(e).reshape(-1, self.height, self.width, 1)


class DCGANGenerator(nn.Module):
    """G(z, y): dense projection to the base resolution, then one 2x upsampling per entry of
    ``features`` (the last one to the image channels). Base resolution = image size / 2^len(features)."""

    num_classes: int
    image_shape: Sequence[int] = (28, 28, 1)
    features: Sequence[int] = (256, 128)
    embed_dim: int = 50  # Label embedding of 'concat'.
    conditioning: str = "concat"  # 'concat' or 'cbn' (see the module docstring).

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        _check_conditioning("dcgan_generator", self.conditioning, GENERATOR_CONDITIONING)
        height, width, channels = self.image_shape
        scale = 2 ** len(self.features)
        if height % scale or width % scale:
            raise ConfigError(f"image size {height}x{width} is not divisible by 2^len(features) = {scale}")
        h0, w0 = height // scale, width // scale

        def norm(h: jax.Array) -> jax.Array:
            if self.conditioning == "cbn":
                return ConditionalBatchNorm(self.num_classes)(h, labels, use_running_average=not train)
            return nn.BatchNorm(use_running_average=not train)(h)

        h = Dense(h0 * w0 * self.features[0])(z).reshape(-1, h0, w0, self.features[0])
        h = nn.relu(norm(h))
        if self.conditioning == "concat":
            h = jnp.concatenate([h, LabelMap(self.num_classes, self.embed_dim, h0, w0)(labels)], axis=-1)
        for f in self.features[1:]:
            # Same parameters and outputs as nn.ConvTranspose; on XLA:CPU 3-25x faster (benchmarks/RESULTS.md).
            h = ConvTranspose(f, (4, 4), strides=(2, 2), padding="SAME", use_bias=False)(h)
            h = nn.relu(norm(h))
        h = ConvTranspose(channels, (4, 4), strides=(2, 2), padding="SAME")(h)
        return jnp.tanh(h)


class DCGANDiscriminator(nn.Module):
    """D(x, y): strided convolutions to features phi, one logit (and class logits with
    ``aux_classes``); y enters as ``conditioning`` says (see the module docstring)."""

    num_classes: int
    features: Sequence[int] = (64, 128)
    embed_dim: int = 50  # Label embedding of 'concat'.
    conditioning: str = "concat"  # 'concat', 'projection' or 'none'.
    spectral_norm: bool = False  # Miyato et al. 2018.
    batch_norm: bool = True  # On every convolution but the first (DCGAN).
    dropout_rate: float = 0.0  # After each convolution's activation (AC-GAN: 0.5).
    aux_classes: int = 0  # > 0: auxiliary classifier head with this many classes (AC-GAN).

    @nn.compact
    def __call__(self, x: jax.Array, labels: Optional[jax.Array], *, train: bool
                 ) -> Union[jax.Array, Tuple[jax.Array, jax.Array]]:
        """``labels`` may be None with conditioning='none'."""
        _check_conditioning("dcgan_discriminator", self.conditioning, DISCRIMINATOR_CONDITIONING)

        def layer(module: nn.Module, inputs: jax.Array) -> jax.Array:
            return apply_layer(module, inputs, spectral_norm=self.spectral_norm, train=train)

        _, height, width, _ = x.shape
        h = x
        if self.conditioning == "concat":
            h = jnp.concatenate([x, layer(LabelMap(self.num_classes, self.embed_dim, height, width), labels)],
                                axis=-1)
        for i, f in enumerate(self.features):
            # DCGAN: no batch norm on the discriminator's input layer; a bias only where no BN follows.
            with_bn = self.batch_norm and i > 0
            h = layer(Conv(f, (4, 4), strides=(2, 2), padding="SAME", use_bias=not with_bn), h)
            if with_bn:
                h = nn.BatchNorm(use_running_average=not train)(h)
            h = nn.leaky_relu(h, 0.2)
            h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        phi = h.reshape(h.shape[0], -1)
        logit = layer(Dense(1), phi)[:, 0]
        if self.conditioning == "projection":
            # Glorot-uniform embedding V, as in Miyato & Koyama's code: <V_y, phi(x)> starts at the
            # scale of psi(phi(x)) instead of growing with the feature size.
            embed = nn.Embed(self.num_classes, phi.shape[-1], embedding_init=nn.initializers.xavier_uniform())
            logit = logit + jnp.sum(layer(embed, labels) * phi, axis=-1)
        if self.aux_classes:
            return logit, layer(Dense(self.aux_classes), phi)
        return logit
