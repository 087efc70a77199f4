"""Optimizer schedules, read back from the optimizer state where checkpoints keep them."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import optim
from jaxgan.config import optimizer_config


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
