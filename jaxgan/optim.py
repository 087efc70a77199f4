"""Per-side optimizers from the config, with their schedules inside the optimizer state
(``optax.inject_hyperparams``), so a checkpoint holds where each schedule is."""

from __future__ import annotations

from typing import Any, Tuple

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan.errors import ConfigError


def learning_rate_schedule(config: ml_collections.ConfigDict, total_updates: int = 0) -> optax.Schedule:
    """The side's learning rate lr_t at its update t:

    * constant: lr_t = lr;
    * exponential (``decay_factor`` > 1): lr_t = max(lr * decay_factor^-t, min_learning_rate), the
      decay of Mirza & Osindero (2014) (0.1 divided by 1.00004 per update, down to 1e-6);
    * linear (``linear_decay``): lr_t = lr * (1 - t / T), reaching 0 at the run's last update
      T = ``total_updates`` (Miyato & Koyama 2018 decay both Adam rates so); with ``decay_start`` = S > 0,
      constant then linear: lr_t = lr for t < S, then lr * (1 - (t - S) / (T - S)) (pix2pix and
      CycleGAN: 100 epochs at lr, then 100 decaying to 0; junyanz's ``n_epochs`` + ``n_epochs_decay``).
    """
    if config.linear_decay:
        if config.decay_factor != 1.0:
            raise ConfigError(f"linear_decay=True and decay_factor={config.decay_factor!r} are two schedules "
                              "for one optimizer: keep one (set decay_factor=1.0 or linear_decay=False)")
        if total_updates < 1:
            raise ConfigError("linear_decay=True needs the run's number of updates (train.steps) to decay over")
        start = config.get("decay_start", 0)
        if start >= total_updates:
            raise ConfigError(f"decay_start={start} is not before the side's last update ({total_updates}); "
                              "lower it or raise train.steps")
        decay = optax.linear_schedule(config.learning_rate, 0.0, total_updates - start)
        return optax.join_schedules([optax.constant_schedule(config.learning_rate), decay], [start])
    if config.get("decay_start", 0):
        raise ConfigError(f"decay_start={config.decay_start} needs linear_decay=True (a constant rate, then a "
                          "linear decay to 0)")
    if config.decay_factor == 1.0:
        return optax.constant_schedule(config.learning_rate)
    # end_value is a floor only for decaying rates (optax clips from above when decay_rate >= 1).
    return optax.exponential_decay(config.learning_rate, transition_steps=1,
                                   decay_rate=1.0 / config.decay_factor,
                                   end_value=config.min_learning_rate or None)


def build(config: ml_collections.ConfigDict, total_updates: int = 0) -> optax.GradientTransformation:
    """Adam(lr, b1, b2), RMSProp(lr, decay b2), or SGD whose momentum ramps linearly from ``momentum`` to
    ``final_momentum`` over ``momentum_steps`` updates; ``total_updates`` is this side's number
    of updates in the run (for ``linear_decay``). With ``weight_decay`` = lambda > 0 the optimizer gets
    g + lambda theta in place of the gradient g: L2 regularisation as PyTorch's optimizers' ``weight_decay``
    (coupled, so Adam normalises it too; not AdamW's decoupled decay), used by UNIT's and CoGAN's code."""
    rule = _update_rule(config, learning_rate_schedule(config, total_updates))
    weight_decay = config.get("weight_decay", 0.0)  # .get: runs saved before the key existed have none.
    return optax.chain(optax.add_decayed_weights(weight_decay), rule) if weight_decay > 0 else rule


def _update_rule(config: ml_collections.ConfigDict, lr: optax.Schedule) -> optax.GradientTransformation:
    if config.name == "adam":
        return optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=config.b1, b2=config.b2)
    if config.name == "rmsprop":  # WGAN (Arjovsky et al. 2017), DualGAN (Yi et al. 2017).
        # b2 is RMSProp's decay of the mean squared gradient (Adam's second-moment rate; TF's decay,
        # PyTorch's alpha); no momentum.
        return optax.inject_hyperparams(optax.rmsprop)(learning_rate=lr, decay=config.b2)
    momentum = optax.linear_schedule(config.momentum, config.final_momentum, max(config.momentum_steps, 1))
    return optax.inject_hyperparams(optax.sgd)(learning_rate=lr, momentum=momentum)


def clip_params(bound: float) -> optax.GradientTransformation:
    """Keeps every parameter in [-bound, bound] after the update: the weight clipping of WGAN
    (Arjovsky et al. 2017: c = 0.01), p <- clip(p + u, -c, c). Last in a chain, as optax's
    ``keep_params_nonnegative`` (optax has no box-clipping transform; ``optax.projections.projection_box``
    is the projection, not a transform).

    A transform returns an update, not parameters, and ``optax.apply_updates`` adds it: u' = clip(p + u) - p
    can round so that p + u' lands one float past the bound, so u' is moved one float inwards where
    it does. That holds p + u' in [-c, c] exactly while |p| < 2^23 c (float32): any parameter an
    update left near the bound."""
    if bound <= 0:
        raise ConfigError(f"weight clipping needs a bound > 0; got {bound!r}")

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("clip_params needs the parameters: call update(updates, state, params)")

        def one(p, u):
            u = optax.projections.projection_box(p + u, -bound, bound) - p
            u = jnp.where(p + u > bound, jnp.nextafter(u, jnp.asarray(-jnp.inf, u.dtype)), u)
            return jnp.where(p + u < -bound, jnp.nextafter(u, jnp.asarray(jnp.inf, u.dtype)), u)

        return jax.tree.map(one, params, updates), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def build_pair(config: ml_collections.ConfigDict, method: Any
               ) -> Tuple[optax.GradientTransformation, optax.GradientTransformation]:
    """(generator, discriminator) optimizers from ``config.optimizer``, passed through the method's
    ``wrap_optimizers(g_tx, d_tx)`` when it has one: a multi-phase method (e.g. Latent Constraints:
    a VAE first, then actor and critic) gates which parameters each phase trains there, with the
    phase's position kept in the optimizer state. A ``linear_decay`` rate spans the whole run:
    train.steps // n_generator updates for D and train.steps // n_critic for G. With
    ``config.loss.weight_clip`` = c > 0, D's parameters are clipped to [-c, c] after each of its updates
    (``clip_params``)."""
    steps = config.train.steps  # D updates on every n_generator-th step, G on every n_critic-th.
    d_tx = build(config.optimizer.discriminator, max(steps // config.train.get("n_generator", 1), 1))
    clip = config.loss.get("weight_clip", 0.0)  # .get: runs saved before the key existed have no clipping.
    pair = (build(config.optimizer.generator, max(steps // config.train.n_critic, 1)),
            optax.chain(d_tx, clip_params(clip)) if clip > 0 else d_tx)
    wrap = getattr(method, "wrap_optimizers", None)
    return pair if wrap is None else wrap(*pair)


def at_schedule_position(opt_state: Any, count: Any) -> Any:
    """``opt_state`` with every injected hyper-parameter schedule at position ``count``: optax keeps the
    position in the injected state's ``count`` and, for a schedule, in its own wrapped state's ``count``
    (``hyperparams_states``), which is the one the schedule reads."""
    injected = (optax.InjectHyperparamsState, optax.InjectStatefulHyperparamsState)

    def at(s):
        if not isinstance(s, injected):
            return s
        s = s._replace(count=jnp.asarray(count, s.count.dtype))
        if isinstance(s, optax.InjectStatefulHyperparamsState):
            s = s._replace(hyperparams_states={
                k: h._replace(count=jnp.asarray(count, h.count.dtype)) if "count" in getattr(h, "_fields", ()) else h
                for k, h in s.hyperparams_states.items()})
        return s

    return jax.tree.map(at, opt_state, is_leaf=lambda s: isinstance(s, injected))
