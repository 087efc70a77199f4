"""Mirza & Osindero's MLP cGAN as configs/cgan_mnist.py trains it: D's pixel range, pylearn2's
initialisation and input dropout, and G's dropout masks drawn as part of its noise."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import methods
from jaxgan.errors import ConfigError
from jaxgan.methods.base import DataInfo
from jaxgan.networks.mlp import Maxout, MLPDiscriminator, MLPGenerator, dropout_with_masks
from tests.conftest import load_config

RNGS = {"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)}


def test_dropout_with_masks_by_hand():
    h = jnp.array([1.0, 2.0, 3.0, 4.0])
    u = jnp.array([0.1, 0.6, 0.5, 0.9])
    # Kept where u >= 0.5, scaled by 1 / (1 - 0.5).
    np.testing.assert_array_equal(dropout_with_masks(h, u, 0.5), [0.0, 4.0, 6.0, 8.0])


def _small_generator(**kw):
    return MLPGenerator(num_classes=10, noise_units=4, label_units=6, hidden_units=8, dropout_noise=True, **kw)


def test_generator_masks_come_from_its_noise():
    g = _small_generator()
    assert g.noise_dim(3) == 3 + (4 + 6) + 8  # z, then one uniform per unit of the two dropped layers.
    z = jax.random.uniform(jax.random.PRNGKey(2), (2, 3))
    u = jax.random.uniform(jax.random.PRNGKey(3), (2, 18))
    y = jnp.array([1, 7])
    variables = g.init(RNGS, jnp.concatenate([z, u], -1), y, train=False)
    out = lambda z, u, y, **kw: g.apply(variables, jnp.concatenate([z, u], -1), y, **kw)  # noqa: E731
    sampled = out(z, u, y, train=False)
    # Training and sampling are one function of (z, u, y): the dropout key plays no part.
    np.testing.assert_array_equal(out(z, u, y, train=True, rngs={"dropout": jax.random.PRNGKey(9)}), sampled)
    # Other masks, same z and y: another image (dropout is a source of G's variety).
    assert float(jnp.abs(out(z, 1.0 - u, y, train=False) - sampled).max()) > 1e-3
    # Every joint unit dropped (u < rate): the output is G's last layers on zeros, whatever z and y.
    u_none = u.at[:, :10].set(0.2)
    np.testing.assert_allclose(out(z, u_none, y, train=False),
                               out(1.0 - z, u_none, jnp.array([4, 2]), train=False), rtol=1e-6, atol=1e-6)
    # Every unit kept (u >= rate): unchanged by u's values above the rate.
    np.testing.assert_array_equal(out(z, jnp.full_like(u, 0.5), y, train=False),
                                  out(z, jnp.full_like(u, 0.99), y, train=False))


def test_discriminator_reads_pixels_in_unit_range():
    """pylearn2's MNIST is in [0, 1]: D's first maxout sees (x + 1) / 2 of the engine's [-1, 1] images."""
    d = MLPDiscriminator(num_classes=10, image_units=3, label_units=2, hidden_units=4)
    x = jax.random.uniform(jax.random.PRNGKey(4), (2, 28, 28, 1), minval=-1.0, maxval=1.0)
    y = jnp.array([0, 5])
    variables = d.init(RNGS, x, y, train=False)
    _, seen = d.apply(variables, x, y, train=False, capture_intermediates=True)
    first = seen["intermediates"]["Maxout_0"]["__call__"][0]
    expected = Maxout(3, 5).apply({"params": variables["params"]["Maxout_0"]}, ((x + 1.0) / 2.0).reshape(2, -1))
    np.testing.assert_allclose(first, expected, rtol=1e-6, atol=1e-6)
    assert float(jnp.abs(first - Maxout(3, 5).apply({"params": variables["params"]["Maxout_0"]},
                                                     x.reshape(2, -1))).max()) > 1e-3


def test_discriminator_input_dropout_drops_pixels():
    x1 = jax.random.uniform(jax.random.PRNGKey(5), (2, 28, 28, 1), minval=-1.0, maxval=1.0)
    x2, y = -x1, jnp.array([3, 3])
    outputs = {}
    for rate in (0.0, 1.0):  # Rate 1 drops every pixel: D sees only the label.
        d = MLPDiscriminator(num_classes=10, image_units=3, label_units=2, hidden_units=4, input_dropout_rate=rate)
        variables = d.init(RNGS, x1, y, train=False)
        run = lambda x: d.apply(variables, x, y, train=True, rngs={"dropout": jax.random.PRNGKey(6)})  # noqa: E731
        outputs[rate] = float(jnp.abs(run(x1) - run(x2)).max())
    assert outputs[1.0] == 0.0 and outputs[0.0] > 1e-4


def test_init_range_is_pylearn2s_irange():
    d = MLPDiscriminator(num_classes=10, init_range=0.005)
    kernels = [k for path, k in jax.tree_util.tree_leaves_with_path(
        d.init(RNGS, jnp.zeros((1, 28, 28, 1)), jnp.zeros((1,), jnp.int32), train=False)) if "kernel" in str(path)]
    assert len(kernels) == 4
    for k in kernels:  # U(-r, r): inside the range and filling it.
        assert float(jnp.abs(k).max()) <= 0.005 and float(jnp.abs(k).max()) > 0.0045
    default = MLPGenerator(num_classes=10).init(RNGS, jnp.zeros((1, 100)), jnp.zeros((1,), jnp.int32), train=False)
    assert float(jnp.abs(default["params"]["Dense_0"]["kernel"]).max()) > 0.05  # Flax's LeCun normal (std 0.1).


@pytest.mark.parametrize("variant", ["", "matching"])
def test_cgan_noise_is_z_then_the_mask_uniforms(variant):
    config = load_config("cgan_mnist", variant)
    config.model.latent_dim = 5
    config.model.generator.update(dict(noise_units=4, label_units=6, hidden_units=8))
    method = methods.build(config, DataInfo.labelled((28, 28, 1), 10))
    key = jax.random.PRNGKey(7)
    noise = method.sample_noise(key, 6)
    assert noise.shape == (6, 5 + 18)
    # z is the draw it was before the masks joined it (the paper's uniform noise), then the uniforms.
    np.testing.assert_array_equal(noise[:, :5], jax.random.uniform(key, (6, 5)))
    u = np.asarray(noise[:, 5:])
    assert u.min() >= 0.0 and u.max() < 1.0 and 0.3 < (u >= 0.5).mean() < 0.7


def test_cgan_mnist_is_the_papers_sgd_and_adam_a_variant():
    paper = load_config("cgan_mnist")
    sgd = paper.optimizer.discriminator
    assert (sgd.name, sgd.learning_rate, sgd.decay_factor, sgd.min_learning_rate, sgd.momentum, sgd.final_momentum) == (
        "sgd", 0.1, 1.00004, 1e-6, 0.5, 0.7)
    assert paper.optimizer.generator == sgd
    assert paper.model.generator.dropout_noise and paper.model.discriminator.input_dropout_rate == 0.2
    adam = load_config("cgan_mnist", "adam")
    assert (adam.optimizer.generator.name, adam.optimizer.generator.learning_rate) == ("adam", 2e-4)
    assert adam.model == paper.model
    with pytest.raises(ConfigError, match="unknown variant 'paper_sgd' of cgan_mnist; the variants are adam, matching"):
        load_config("cgan_mnist", "paper_sgd")


def test_cgan_mnist_matching_is_the_papers_networks_and_sgd_with_a_matching_aware_d():
    paper, matching = load_config("cgan_mnist"), load_config("cgan_mnist", "matching")
    assert (matching.method, matching.model.discriminator_structure, matching.train.ema_decay) == (
        "matching_aware", "joint", 0.999)
    assert (paper.method, paper.train.ema_decay) == ("cgan", 0.0)
    assert matching.model.generator == paper.model.generator
    assert matching.model.discriminator == paper.model.discriminator
    assert matching.optimizer == paper.optimizer and matching.data == paper.data
    assert matching.train.steps == paper.train.steps and matching.loss.adversarial == paper.loss.adversarial
    assert matching.loss.mismatch_weight == 0.25  # A quarter of D's fake term (GAN-CLS: a half).
    method = methods.build(matching, DataInfo.labelled((28, 28, 1), 10))
    assert (type(method).__name__, method.mismatch_weight) == ("MatchingAwareGAN", 0.25)
    matching.loss.mismatch_weight = 1.5
    with pytest.raises(ConfigError, match=r"config.loss.mismatch_weight=1.5 must be in \[0, 1\]"):
        methods.build(matching, DataInfo.labelled((28, 28, 1), 10))
