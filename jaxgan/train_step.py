"""One generic train step for every method: D update(s), then G update, then EMA.

A method supplies two pure losses, each ``(params, state, batch, rng) ->
(loss, (metrics, collections))``: the loss of its side, a dict of scalar metrics,
and that side's updated non-param variable collections (e.g. batch statistics).
``make_train_step`` turns them into
``step(state, batch, update_generator=True) -> (state, metrics)``;
``compile_train_step`` jit-compiles it over a mesh with the batch sharded, the
state replicated and the old state's buffers donated.

With ``n_critic > 1`` each step makes one discriminator update on a fresh batch and
the generator is updated on every ``n_critic``-th step (WGAN / WGAN-GP schedule:
n_critic critic updates, each on its own batch, per generator update); on the other
steps the generator metrics are reported as 0. The caller says which steps those are
(``updates_generator``): ``update_generator`` is a static argument, so the step
compiles once per value, rather than a ``lax.cond`` on ``state.step``: XLA:CPU runs
convolutions inside a conditional's branch far slower (jax-ml/jax#12868; the projection
config's G update took 22.7 s inside the cond, 0.68 s as its own program).

Non-finite values: each side reports ``nonfinite`` (1.0 when its loss or any
gradient is NaN/inf, else 0.0) and ``state.nonfinite_steps`` counts the steps
where either side did. With ``skip_nonfinite`` such a side's update is dropped
inside the step (params, collections, optimizer state and EMA keep their old
values, selected with ``jnp.where``), so one bad batch costs one step instead of
the run, with no host sync. Without it the update is applied and the training
loop decides (see ``jaxgan.train``).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Protocol, Tuple

import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from jaxgan import sharding
from jaxgan.state import GANState, Side

Batch = Mapping[str, jax.Array]
Metrics = Dict[str, jax.Array]
StepFn = Callable[..., Tuple[GANState, Metrics]]  # (state, batch, update_generator=True)


class LossFn(Protocol):
    def __call__(self, params: Any, state: GANState, batch: Batch, rng: jax.Array
                 ) -> Tuple[jax.Array, Tuple[Metrics, Dict[str, Any]]]: ...


def ema_update(ema: Any, params: Any, decay: float) -> Any:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta (Karras et al. 2018; Yazici et al. 2019)."""
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)


def all_finite(tree: Any) -> jax.Array:
    """True when every element of every leaf is finite."""
    return jnp.all(jnp.stack([jnp.isfinite(x).all() for x in jax.tree.leaves(tree)]))


def _update_side(side: Side, loss_fn: LossFn, tx: optax.GradientTransformation,
                 state: GANState, batch: Batch, rng: jax.Array) -> Tuple[Side, Metrics]:
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (loss, (metrics, collections)), grads = grad_fn(side.params, state, batch, rng)
    updates, opt_state = tx.update(grads, side.opt_state, side.params)
    params = optax.apply_updates(side.params, updates)
    nonfinite = 1.0 - (jnp.isfinite(loss) & all_finite(grads)).astype(jnp.float32)
    metrics = {"loss": loss, **metrics, "grad_norm": optax.tree.norm(grads), "nonfinite": nonfinite}
    return Side(params, {**side.collections, **collections}, opt_state), metrics


def _keep_finite(update: Callable[..., Tuple[GANState, Metrics]]) -> Callable[..., Tuple[GANState, Metrics]]:
    """``update`` whose new state is replaced by the old one when its metrics say ``nonfinite``.

    A select over the state rather than ``lax.cond``: both branches are computed anyway (the
    flag depends on the update), and XLA folds the select away for leaves the update left alone."""

    def guarded(state: GANState, *args: Any) -> Tuple[GANState, Metrics]:
        new, metrics = update(state, *args)
        ok = metrics["nonfinite"] == 0
        return jax.tree.map(lambda n, o: jnp.where(ok, n, o), new, state), metrics

    return guarded


def make_train_step(*, discriminator_loss: LossFn, generator_loss: LossFn,
                    discriminator_tx: optax.GradientTransformation,
                    generator_tx: optax.GradientTransformation,
                    ema_decay: float = 0.0, skip_nonfinite: bool = False) -> StepFn:
    """Builds the pure step function ``(state, batch, update_generator=True) -> (state, metrics)``:
    a D update, then (when ``update_generator``) a G update and the EMA."""
    guard = _keep_finite if skip_nonfinite else (lambda update: update)

    @guard
    def discriminator_update(state: GANState, batch: Batch, rng: jax.Array) -> Tuple[GANState, Metrics]:
        discriminator, metrics = _update_side(
            state.discriminator, discriminator_loss, discriminator_tx, state, batch, rng)
        return state.replace(discriminator=discriminator), metrics

    @guard
    def generator_update(state: GANState, batch: Batch, rng: jax.Array) -> Tuple[GANState, Metrics]:
        generator, metrics = _update_side(state.generator, generator_loss, generator_tx, state, batch, rng)
        ema = None if state.ema_params is None else ema_update(state.ema_params, generator.params, ema_decay)
        return state.replace(generator=generator, ema_params=ema), metrics

    def step(state: GANState, batch: Batch, update_generator: bool = True) -> Tuple[GANState, Metrics]:
        d_rng, g_rng = jax.random.split(jax.random.fold_in(state.rng, state.step))
        state, d_metrics = discriminator_update(state, batch, d_rng)
        if update_generator:
            state, g_metrics = generator_update(state, batch, g_rng)
        else:
            shapes = jax.eval_shape(generator_update, state, batch, g_rng)[1]
            g_metrics = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
        metrics = {**{f"d/{k}": v for k, v in d_metrics.items()},
                   **{f"g/{k}": v for k, v in g_metrics.items()}}
        bad_step = jnp.maximum(d_metrics["nonfinite"], g_metrics["nonfinite"]).astype(jnp.int32)
        return state.replace(step=state.step + 1, nonfinite_steps=state.nonfinite_steps + bad_step), metrics

    return step


def updates_generator(step: int, n_critic: int) -> bool:
    """Whether the step on batch ``step`` (0-based) updates G: every ``n_critic``-th one."""
    return (step + 1) % n_critic == 0


def compile_train_step(step: StepFn, mesh: Mesh) -> StepFn:
    """jit over the mesh: state replicated and donated, batch sharded on its leading axis,
    ``update_generator`` static."""
    replicated = sharding.replicated(mesh)
    return jax.jit(step, in_shardings=(replicated, sharding.batch_sharded(mesh)),
                   out_shardings=(replicated, replicated), donate_argnums=(0,),
                   static_argnums=(2,))
