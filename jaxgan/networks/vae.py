"""Networks of Latent Constraints (Engel, Hoffman & Roberts 2017): an MLP VAE, the actor G(z, c),
the latent critic D(z, c) and the latent attribute classifier D_attr(z).

``VAEActor`` is the whole generator side in one module: the encoder q(z | x), the decoder
p(x | z) and the actor G(z, c), reached with ``module.apply(variables, ..., method=...)``
(``encode``, ``decode``, ``move``); calling it, ``G(z, c) -> image``, decodes the actor's output.
Its parameters are ``{'encoder': ..., 'decoder': ..., 'actor': ...}``, so an optimizer can tell
the VAE's parameters from the actor's by the top-level key.

The actor's output is gated (Engel et al. 2017, sec. 3 and supplementary Figure 12): from
[z, embed(c)] an MLP predicts dz and gate logits g, and

    z' = (1 - sigma(g)) * z + sigma(g) * dz,

so a gate near 0 leaves a coordinate of z as it is. ``LatentCritics`` is the whole discriminator side:
the critic D(z, c), an MLP on [z, embed(c)] with one logit (the losses apply the sigmoid), and the
attribute classifier D_attr(z), an MLP on z alone with one logit per class (Engel et al. 2017, Figure 1:
the separate attribute critic that gradient-based transformations optimise against, with the realism
critic); its parameters are ``{'critic': ..., 'attribute': ...}``. The label enters the actor and the
critic through a learned linear embedding of its one-hot vector, concatenated with z. All hidden
layers are ReLU. There is no batch norm or dropout: the networks have no state besides their parameters.

Pixels: the decoder's mean is tanh(.), in the engine's image range [-1, 1].
"""

from __future__ import annotations

import math
from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.networks.layers import Dense


def _mlp(h: jax.Array, units: Sequence[int]) -> jax.Array:
    for width in units:
        h = nn.relu(Dense(width)(h))
    return h


class MLPEncoder(nn.Module):
    """q(z | x) = N(mean(x), diag(exp(log_variance(x)))): an MLP on the flattened image."""

    latent_dim: int
    units: Sequence[int] = (512, 512)

    @nn.compact
    def __call__(self, x: jax.Array) -> Tuple[jax.Array, jax.Array]:
        h = _mlp(x.reshape(x.shape[0], -1), self.units)
        out = Dense(2 * self.latent_dim, name="output")(h)
        return out[:, :self.latent_dim], out[:, self.latent_dim:]  # mean, log variance


class MLPDecoder(nn.Module):
    """The mean of p(x | z) = N(mean(z), sigma_x^2 I): an MLP with a tanh output in [-1, 1]."""

    image_shape: Sequence[int] = (28, 28, 1)
    units: Sequence[int] = (512, 512)

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        h = _mlp(z, self.units)
        x = jnp.tanh(Dense(math.prod(self.image_shape), name="output")(h))
        return x.reshape((-1,) + tuple(self.image_shape))


class LatentActor(nn.Module):
    """G(z, c) -> (z', gate): the gated update z' = (1 - gate) z + gate dz, gate = sigmoid(g)."""

    num_classes: int
    latent_dim: int
    units: Sequence[int] = (512, 512, 512, 512)
    label_units: int = 512

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array) -> Tuple[jax.Array, jax.Array]:
        y = Dense(self.label_units, name="label_embedding")(jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype))
        h = _mlp(jnp.concatenate([z, y], axis=-1), self.units)
        out = Dense(2 * self.latent_dim, name="output")(h)
        dz, gate = out[:, :self.latent_dim], nn.sigmoid(out[:, self.latent_dim:])
        return gated_update(z, dz, gate), gate


def gated_update(z: jax.Array, dz: jax.Array, gate: jax.Array) -> jax.Array:
    """z' = (1 - gate) * z + gate * dz (Engel et al. 2017)."""
    return (1.0 - gate) * z + gate * dz


class LatentCritic(nn.Module):
    """D(z, c): one logit, high where posterior latents of real images of class c lie."""

    num_classes: int
    units: Sequence[int] = (512, 512, 512, 512)
    label_units: int = 512

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array) -> jax.Array:
        y = Dense(self.label_units, name="label_embedding")(jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype))
        h = _mlp(jnp.concatenate([z, y], axis=-1), self.units)
        return Dense(1, name="output")(h)[:, 0]


class LatentAttributeClassifier(nn.Module):
    """D_attr(z): class logits [B, K] from the latent alone."""

    num_classes: int
    units: Sequence[int] = (512, 512)

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        return Dense(self.num_classes, name="output")(_mlp(z, self.units))


class LatentCritics(nn.Module):
    """The critic D(z, c) and the attribute classifier D_attr(z) as one module (see the module docstring)."""

    num_classes: int
    units: Sequence[int] = (512, 512, 512, 512)
    label_units: int = 512
    attribute_units: Sequence[int] = (512, 512)

    def setup(self):
        self.critic = LatentCritic(self.num_classes, tuple(self.units), self.label_units)
        self.attribute = LatentAttributeClassifier(self.num_classes, tuple(self.attribute_units))

    def __call__(self, z: jax.Array, labels: jax.Array) -> jax.Array:
        """D(z, c): one logit per example."""
        return self.critic(z, labels)

    def classify(self, z: jax.Array) -> jax.Array:
        """D_attr(z): [B, K] class logits."""
        return self.attribute(z)

    def init_all(self, z: jax.Array, labels: jax.Array):
        """Touches both parts, for ``init``."""
        return self(z, labels), self.classify(z)


class VAEActor(nn.Module):
    """Encoder, decoder and actor of Latent Constraints as one module (see the module docstring)."""

    num_classes: int
    latent_dim: int
    image_shape: Sequence[int] = (28, 28, 1)
    encoder_units: Sequence[int] = (512, 512)
    decoder_units: Sequence[int] = (512, 512)
    actor_units: Sequence[int] = (512, 512, 512, 512)
    label_units: int = 512

    def setup(self):
        self.encoder = MLPEncoder(self.latent_dim, tuple(self.encoder_units))
        self.decoder = MLPDecoder(tuple(self.image_shape), tuple(self.decoder_units))
        self.actor = LatentActor(self.num_classes, self.latent_dim, tuple(self.actor_units), self.label_units)

    def encode(self, x: jax.Array) -> Tuple[jax.Array, jax.Array]:
        """(mean, log variance) of q(z | x)."""
        return self.encoder(x)

    def decode(self, z: jax.Array) -> jax.Array:
        """The decoder's mean image, in [-1, 1]."""
        return self.decoder(z)

    def move(self, z: jax.Array, labels: jax.Array) -> Tuple[jax.Array, jax.Array]:
        """The actor: (z', gate)."""
        return self.actor(z, labels)

    def __call__(self, z: jax.Array, labels: jax.Array) -> jax.Array:
        """decode(G(z, c)): a conditional sample from prior noise z."""
        return self.decode(self.move(z, labels)[0])

    def init_all(self, x: jax.Array, z: jax.Array, labels: jax.Array):
        """Touches every part, for ``init``."""
        return self.encode(x), self(z, labels)
