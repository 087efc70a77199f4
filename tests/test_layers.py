"""Reusable layers: conditional batch norm and 2x2 max pooling against hand-computed values."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from conftest import USERS_COMPILER_OPTIONS
from jaxgan.networks.layers import ConditionalBatchNorm, max_pool_2x2

GAMMA = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)  # gamma_y for y = 0, 1, 2.
BETA = np.array([[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]], np.float32)
EPS = 1e-5


def _variables(layer, x, labels):
    variables = layer.init(jax.random.PRNGKey(0), x, labels, use_running_average=False)
    return {"params": {"gamma": jnp.asarray(GAMMA), "beta": jnp.asarray(BETA)},
            "batch_stats": variables["batch_stats"]}


def test_parameters_are_per_class_tables_initialised_to_identity():
    layer = ConditionalBatchNorm(num_classes=3)
    x = jnp.ones((4, 2, 2, 5))
    variables = layer.init(jax.random.PRNGKey(0), x, jnp.arange(4) % 3, use_running_average=False)
    assert jax.tree.map(jnp.shape, variables["params"]) == {"gamma": (3, 5), "beta": (3, 5)}
    np.testing.assert_array_equal(variables["params"]["gamma"], 1.0)
    np.testing.assert_array_equal(variables["params"]["beta"], 0.0)
    assert set(variables["batch_stats"]["BatchNorm_0"]) == {"mean", "var"}


def test_training_uses_batch_statistics_and_each_examples_class():
    layer = ConditionalBatchNorm(num_classes=3)
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 3, 3, 2)) * 2.0 + 1.0
    labels = jnp.array([2, 0, 1, 2])
    variables = _variables(layer, x, labels)
    out, updates = layer.apply(variables, x, labels, use_running_average=False, mutable=["batch_stats"])

    xn = np.asarray(x, np.float64)
    mean, var = xn.mean(axis=(0, 1, 2)), xn.var(axis=(0, 1, 2))
    normalized = (xn - mean) / np.sqrt(var + EPS)
    for b, y in enumerate([2, 0, 1, 2]):
        np.testing.assert_allclose(out[b], normalized[b] * GAMMA[y] + BETA[y], rtol=1e-4, atol=1e-4)
    # Running averages, as batch norm: 0.99 * old (0 and 1) + 0.01 * batch statistic.
    stats = updates["batch_stats"]["BatchNorm_0"]
    np.testing.assert_allclose(stats["mean"], 0.01 * mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(stats["var"], 0.99 + 0.01 * var, rtol=1e-4)


def test_inference_uses_running_statistics():
    layer = ConditionalBatchNorm(num_classes=3)
    x = jnp.array([[1.0, 2.0], [3.0, -1.0]])  # Dense features [B, C] work too.
    labels = jnp.array([1, 0])
    variables = _variables(layer, x, labels)
    variables["batch_stats"] = {"BatchNorm_0": {"mean": jnp.array([1.0, -1.0]), "var": jnp.array([4.0, 0.25])}}
    out = layer.apply(variables, x, labels, use_running_average=True)
    expected = np.array([
        [(1 - 1) / np.sqrt(4 + EPS) * 3.0 + 1.0, (2 + 1) / np.sqrt(0.25 + EPS) * 4.0 + 1.5],
        [(3 - 1) / np.sqrt(4 + EPS) * 1.0 + 0.0, (-1 + 1) / np.sqrt(0.25 + EPS) * 2.0 + 0.5],
    ])
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_max_pool_2x2_takes_each_blocks_maximum_and_floors_odd_sizes():
    x = np.array([[1, 5, 2, 0, 9],
                  [3, 4, 7, 1, 9],
                  [0, 2, 8, 6, 9]], np.float32)[None, :, :, None]  # 3x5: the last row and column are dropped.
    np.testing.assert_array_equal(max_pool_2x2(jnp.asarray(x))[0, :, :, 0], [[5, 7]])
    y = jax.random.normal(jax.random.PRNGKey(0), (2, 7, 9, 3))
    np.testing.assert_array_equal(max_pool_2x2(y), nn.max_pool(y, (2, 2), strides=(2, 2)))


def test_max_pool_2x2_gradient_is_a_mask_of_the_maxima_shared_at_ties():
    x = jnp.array([[3, 1, 2, 2],
                   [0, 2, 2, 2]], jnp.float32)[None, :, :, None]
    grad = jax.grad(lambda v: jnp.sum(max_pool_2x2(v) * jnp.array([1.0, 10.0])[None, None, :, None]))(x)
    np.testing.assert_allclose(grad[0, :, :, 0], [[1, 0, 2.5, 2.5], [0, 0, 2.5, 2.5]])
    y = jax.random.normal(jax.random.PRNGKey(1), (2, 6, 8, 3))  # No ties: nn.max_pool's gradient exactly.
    weights = jax.random.normal(jax.random.PRNGKey(2), (2, 3, 4, 3))
    np.testing.assert_allclose(jax.grad(lambda v: jnp.sum(max_pool_2x2(v) * weights))(y),
                               jax.grad(lambda v: jnp.sum(nn.max_pool(v, (2, 2), strides=(2, 2)) * weights))(y))


def test_max_pool_2x2_gradient_compiles_without_a_scatter():
    """The reason for the layer: nn.max_pool's gradient (select-and-scatter) becomes a scatter on XLA:CPU
    (as users' runs compile it: the tests' older fusion emitters expand it into a loop instead)."""
    y = jnp.zeros((4, 8, 8, 16))

    def has_scatter(pool):  # An HLO instruction "%name = type scatter(...)" or "select-and-scatter(...)".
        grad = jax.jit(jax.grad(lambda v: jnp.sum(pool(v) ** 2)))
        text = grad.lower(y).compile(USERS_COMPILER_OPTIONS).as_text()
        return re.search(r"= \S+ (select-and-)?scatter\(", text) is not None

    assert has_scatter(lambda v: nn.max_pool(v, (2, 2), strides=(2, 2)))
    assert not has_scatter(max_pool_2x2)
