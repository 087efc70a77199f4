"""The multilayer-perceptron conditional GAN of Mirza & Osindero (2014), section 4.1.

Generator: noise z (100-d, uniform on the unit hypercube) -> 200 ReLU units and the
one-hot label y -> 1000 ReLU units; the two are concatenated and mapped by a
1200-unit ReLU layer to a 784-unit sigmoid output.
Discriminator: x -> maxout layer of 240 units x 5 pieces, y -> maxout layer of
50 units x 5 pieces, both into a joint maxout layer of 240 units x 4 pieces, then
a single sigmoid output (here a logit: the losses apply the sigmoid).
Dropout 0.5 is applied in both networks, as in the paper.

The generator's sigmoid output is rescaled to the engine's image range [-1, 1]
(2 sigmoid(a) - 1), which leaves the model unchanged.
"""

from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


class Maxout(nn.Module):
    """Maxout layer (Goodfellow et al. 2013): h_i = max_j (W x + b)_{ij}, j over ``pieces``."""

    features: int
    pieces: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = nn.Dense(self.features * self.pieces)(x)
        return h.reshape(h.shape[:-1] + (self.features, self.pieces)).max(axis=-1)


class MLPGenerator(nn.Module):
    """G(z, y): two input branches, a joint hidden layer, sigmoid image output."""

    num_classes: int
    image_shape: Sequence[int] = (28, 28, 1)
    noise_units: int = 200
    label_units: int = 1000
    hidden_units: int = 1200
    dropout_rate: float = 0.5

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        y = jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype)
        h = jnp.concatenate(
            [nn.relu(nn.Dense(self.noise_units)(z)), nn.relu(nn.Dense(self.label_units)(y))], axis=-1
        )
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        h = nn.relu(nn.Dense(self.hidden_units)(h))
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        x = 2.0 * nn.sigmoid(nn.Dense(math.prod(self.image_shape))(h)) - 1.0
        return x.reshape((-1,) + tuple(self.image_shape))


class MLPDiscriminator(nn.Module):
    """D(x, y): maxout branches for image and label, a joint maxout layer, one logit."""

    num_classes: int
    image_units: int = 240
    image_pieces: int = 5
    label_units: int = 50
    label_pieces: int = 5
    hidden_units: int = 240
    hidden_pieces: int = 4
    dropout_rate: float = 0.5

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        y = jax.nn.one_hot(labels, self.num_classes, dtype=x.dtype)
        h = jnp.concatenate(
            [
                Maxout(self.image_units, self.image_pieces)(x.reshape(x.shape[0], -1)),
                Maxout(self.label_units, self.label_pieces)(y),
            ],
            axis=-1,
        )
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        h = Maxout(self.hidden_units, self.hidden_pieces)(h)
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return nn.Dense(1)(h)[:, 0]
