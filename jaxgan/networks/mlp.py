"""The multilayer-perceptron conditional GAN of Mirza & Osindero (2014), section 4.1.

Generator: noise z (100-d, uniform on the unit hypercube) -> 200 ReLU units and the
one-hot label y -> 1000 ReLU units; the two are concatenated and mapped by a
1200-unit ReLU layer to a 784-unit sigmoid output.
Discriminator: x -> maxout layer of 240 units x 5 pieces, y -> maxout layer of
50 units x 5 pieces, both into a joint maxout layer of 240 units x 4 pieces, then
a single sigmoid output (here a logit: the losses apply the sigmoid).
Dropout 0.5 is applied in both networks, as in the paper.

The generator's sigmoid output is rescaled to the engine's image range [-1, 1]
(2 sigmoid(a) - 1) and the discriminator reads pixels back in [0, 1] ((x + 1) / 2), the
range of the paper's pylearn2 MNIST; neither changes the model, but the paper's SGD (learning
rate 0.1) is tuned to inputs in [0, 1]: on [-1, 1] every background pixel drives D's first
layer, and D's logits reached 10^2-10^3 and then infinity within 26 updates (measured).

Options from the pylearn2 code of Goodfellow et al. (2014), ``goodfeli/adversarial`` mnist.yaml,
on which the paper's code is built: ``init_range`` r draws every weight from U(-r, r) (its
``irange``: 0.05 in G, 0.005 in D; 0 keeps Flax's LeCun normal) and ``input_dropout_rate``
drops D's input pixels (0.2 there, i.e. include probability 0.8).

G's randomness: trained so, the generator takes most of its sample-to-sample variation from its
dropout, not from z (benchmarks/RESULTS.md: with dropout off every sample of a class is nearly one
image). With ``dropout_noise`` its dropout masks are part of its noise input, which then has
``noise_dim(latent_dim)`` entries: z, then one uniform u per dropped unit, kept where u >= rate.
Training and sampling are then one function of (z, u, y), and samples are drawn as the model
was trained; the Parzen figures of the paper are reproduced so.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.networks.layers import Dense


def kernel_init(init_range: float) -> Callable:
    """W ~ U(-r, r) (pylearn2's ``irange``) for r > 0; Flax's default LeCun normal for r = 0."""
    if init_range == 0:
        return nn.linear.default_kernel_init
    return lambda key, shape, dtype=jnp.float32: jax.random.uniform(key, shape, dtype, -init_range, init_range)


def dropout_with_masks(h: jax.Array, u: jax.Array, rate: float) -> jax.Array:
    """Inverted dropout with given uniforms: h * [u >= rate] / (1 - rate), as ``nn.Dropout`` keeps
    each unit with probability 1 - rate and rescales."""
    return jnp.where(u >= rate, h / (1.0 - rate), 0.0)


class Maxout(nn.Module):
    """Maxout layer (Goodfellow et al. 2013): h_i = max_j (W x + b)_{ij}, j over ``pieces``."""

    features: int
    pieces: int
    init_range: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = Dense(self.features * self.pieces, kernel_init=kernel_init(self.init_range))(x)
        return h.reshape(h.shape[:-1] + (self.features, self.pieces)).max(axis=-1)


class MLPGenerator(nn.Module):
    """G(z, y): two input branches, a joint hidden layer, sigmoid image output; with
    ``dropout_noise``, G(z, u, y) with the dropout masks [u >= rate] (module docstring)."""

    num_classes: int
    image_shape: Sequence[int] = (28, 28, 1)
    noise_units: int = 200
    label_units: int = 1000
    hidden_units: int = 1200
    dropout_rate: float = 0.5
    dropout_noise: bool = False
    init_range: float = 0.0

    def noise_dim(self, latent_dim: int) -> int:
        """Entries of G's noise input: z's ``latent_dim``, and with ``dropout_noise`` one uniform per
        unit of the two dropped layers."""
        return latent_dim + (self.noise_units + self.label_units + self.hidden_units if self.dropout_noise else 0)

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        if self.dropout_noise:
            z, u = jnp.split(z, [z.shape[-1] - self.noise_dim(0)], axis=-1)
            u_joint, u_hidden = jnp.split(u, [self.noise_units + self.label_units], axis=-1)
            drop_joint = lambda h: dropout_with_masks(h, u_joint, self.dropout_rate)  # noqa: E731
            drop_hidden = lambda h: dropout_with_masks(h, u_hidden, self.dropout_rate)  # noqa: E731
        else:
            drop_joint, drop_hidden = (nn.Dropout(self.dropout_rate, deterministic=not train) for _ in range(2))
        dense = lambda units: Dense(units, kernel_init=kernel_init(self.init_range))  # noqa: E731
        y = jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype)
        h = jnp.concatenate([nn.relu(dense(self.noise_units)(z)), nn.relu(dense(self.label_units)(y))], axis=-1)
        h = drop_joint(h)
        h = drop_hidden(nn.relu(dense(self.hidden_units)(h)))
        x = 2.0 * nn.sigmoid(dense(math.prod(self.image_shape))(h)) - 1.0
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
    input_dropout_rate: float = 0.0
    init_range: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array, *, train: bool) -> jax.Array:
        y = jax.nn.one_hot(labels, self.num_classes, dtype=x.dtype)
        pixels = (x.reshape(x.shape[0], -1) + 1.0) / 2.0  # [-1, 1] -> pylearn2's [0, 1].
        pixels = nn.Dropout(self.input_dropout_rate, deterministic=not train)(pixels)
        h = jnp.concatenate(
            [
                Maxout(self.image_units, self.image_pieces, self.init_range)(pixels),
                Maxout(self.label_units, self.label_pieces, self.init_range)(y),
            ],
            axis=-1,
        )
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        h = Maxout(self.hidden_units, self.hidden_pieces, self.init_range)(h)
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
        return Dense(1, kernel_init=kernel_init(self.init_range))(h)[:, 0]
