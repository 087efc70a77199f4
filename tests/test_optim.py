"""Optimizer schedules, read back from the optimizer state where checkpoints keep them."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import optim
from jaxgan.config import base_config, optimizer_config
from jaxgan.errors import ConfigError


def _lr(tx, params, steps):
    state = tx.init(params)
    for _ in range(steps):
        _, state = tx.update({"w": jnp.ones(2)}, state, params)
    return float(state.hyperparams["learning_rate"]), state


def test_constant_rate_is_not_clipped_by_the_floor():
    # Regression: optax clips exponential_decay(rate 1) from *above* by end_value, which once
    # turned lr 2e-4 into 1e-6 silently.
    tx = optim.build(optimizer_config(learning_rate=2e-4, decay_factor=1.0, min_learning_rate=1e-6))
    assert _lr(tx, {"w": jnp.zeros(2)}, 3)[0] == pytest.approx(2e-4)


def test_paper_exponential_decay_and_floor():
    # Mirza & Osindero 2014: lr 0.1 divided by 1.00004 per update, floored at 1e-6.
    config = optimizer_config(name="sgd", learning_rate=0.1, decay_factor=1.00004, min_learning_rate=1e-6,
                              momentum=0.5, final_momentum=0.7, momentum_steps=4)
    lr, state = _lr(optim.build(config), {"w": jnp.zeros(2)}, 3)
    assert lr == pytest.approx(0.1 / 1.00004 ** 2, rel=1e-6)  # The schedule is read before each update.
    assert float(state.hyperparams["momentum"]) == pytest.approx(0.5 + 0.2 * 2 / 4)
    floor = optim.learning_rate_schedule(config)(10 ** 6)
    assert float(floor) == pytest.approx(1e-6)


def test_adam_matches_optax_adam():
    params = {"w": jnp.array([1.0, -2.0])}
    grads = {"w": jnp.array([0.3, 0.1])}
    ours = optim.build(optimizer_config(learning_rate=1e-3, b1=0.5, b2=0.99))
    ref = optax.adam(1e-3, b1=0.5, b2=0.99)
    u1, _ = ours.update(grads, ours.init(params), params)
    u2, _ = ref.update(grads, ref.init(params), params)
    np.testing.assert_allclose(u1["w"], u2["w"], rtol=1e-6)


def test_linear_decay_reaches_zero_at_the_last_update():
    # Miyato & Koyama 2018 (sngan_projection): Adam's rate decays linearly to 0 over the run.
    config = optimizer_config(learning_rate=2e-4, b1=0.0, b2=0.9, linear_decay=True)
    schedule = optim.learning_rate_schedule(config, total_updates=8)
    assert [float(schedule(t)) for t in (0, 2, 8, 20)] == pytest.approx([2e-4, 1.5e-4, 0.0, 0.0])
    assert _lr(optim.build(config, total_updates=8), {"w": jnp.zeros(2)}, 5)[0] == pytest.approx(2e-4 * 4 / 8)


def test_linear_decay_counts_each_sides_updates():
    # With n_critic = 5, D makes train.steps updates and G one in five: both reach 0 at the end.
    config = base_config()
    config.train.steps, config.train.n_critic = 50, 5
    for side in (config.optimizer.generator, config.optimizer.discriminator):
        side.linear_decay = True
    g_tx, d_tx = optim.build_pair(config, method=None)
    params = {"w": jnp.zeros(2)}
    assert _lr(g_tx, params, 5)[0] == pytest.approx(2e-4 * (1 - 4 / 10))
    assert _lr(d_tx, params, 5)[0] == pytest.approx(2e-4 * (1 - 4 / 50))


def test_two_schedules_on_one_optimizer_are_an_error():
    config = optimizer_config(linear_decay=True, decay_factor=1.00004)
    with pytest.raises(ConfigError, match="two schedules"):
        optim.build(config, total_updates=10)
