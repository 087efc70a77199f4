"""Per-side optimizers from the config, with their schedules inside the optimizer state
(``optax.inject_hyperparams``), so a checkpoint holds where each schedule is."""

from __future__ import annotations

from typing import Any, Tuple

import ml_collections
import optax


def learning_rate_schedule(config: ml_collections.ConfigDict) -> optax.Schedule:
    """lr_t = max(lr * decay_factor^-t, min_learning_rate): the exponential decay of
    Mirza & Osindero (2014) (0.1 divided by 1.00004 per update, down to 1e-6)."""
    if config.decay_factor == 1.0:
        return optax.constant_schedule(config.learning_rate)
    # end_value is a floor only for decaying rates (optax clips from above when decay_rate >= 1).
    return optax.exponential_decay(config.learning_rate, transition_steps=1,
                                   decay_rate=1.0 / config.decay_factor,
                                   end_value=config.min_learning_rate or None)


def build(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam(lr, b1, b2), or SGD whose momentum ramps linearly from ``momentum`` to
    ``final_momentum`` over ``momentum_steps`` updates."""
    lr = learning_rate_schedule(config)
    if config.name == "adam":
        return optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=config.b1, b2=config.b2)
    momentum = optax.linear_schedule(config.momentum, config.final_momentum, max(config.momentum_steps, 1))
    return optax.inject_hyperparams(optax.sgd)(learning_rate=lr, momentum=momentum)


def build_pair(config: ml_collections.ConfigDict, method: Any
               ) -> Tuple[optax.GradientTransformation, optax.GradientTransformation]:
    """(generator, discriminator) optimizers from ``config.optimizer``, passed through the method's
    ``wrap_optimizers(g_tx, d_tx)`` when it has one: a multi-phase method (e.g. Latent Constraints:
    a VAE first, then actor and critic) gates which parameters each phase trains there, with the
    phase's position kept in the optimizer state."""
    pair = build(config.optimizer.generator), build(config.optimizer.discriminator)
    wrap = getattr(method, "wrap_optimizers", None)
    return pair if wrap is None else wrap(*pair)
