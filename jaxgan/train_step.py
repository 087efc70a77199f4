"""One generic train step for every method: D update(s), G update, EMA, in the method's order.

A method supplies two pure losses; each returns ``(loss, (metrics, collections))`` or
``(loss, (metrics, collections, method_state))``: the loss of its side, a dict of scalar metrics,
that side's updated non-param variable collections (e.g. batch statistics), and, when the loss
updates it, the method's new state (an image pool, its random key), which the step writes into
``state.method_state``. ``make_train_step`` turns a method into
``step(state, batch, update_generator=True, update_discriminator=True) -> (state, metrics)``;
``compile_train_step``
jit-compiles it over a mesh with the batch sharded, the state replicated and the old state's
buffers donated.

Two forms of method (``jaxgan.methods.base``):

* Each loss runs the generator itself (``discriminator_loss(d_params, state, batch, rng)``,
  ``generator_loss(g_params, state, batch, rng)``): D is updated, then G.
* The method shares one generator forward per step (it has ``generator_forward``): the step runs
  ``generated, pullback = vjp(generator_forward, g_params)`` once; D's loss gets ``generated`` held
  fixed; G's gradient is ``pullback(d generator_loss / d generated)``, so the generator's forward is
  not run again inside G's gradient. ``method.update_order`` chooses D then G (pix2pix) or G then D
  (CycleGAN); the generated images are the start-of-step generator's in both orders.

With ``n_critic > 1`` each step makes one discriminator update on a fresh batch and
the generator is updated on every ``n_critic``-th step (WGAN / WGAN-GP schedule:
n_critic critic updates, each on its own batch, per generator update); on the other
steps the generator metrics are reported as 0. ``n_generator > 1`` is the other way round
(DiscoGAN's code: two G updates per D update): G every step, D on every ``n_generator``-th.
The caller says which steps those are (``updates``): ``update_generator`` and
``update_discriminator`` are static arguments, so the step compiles once per value,
rather than a ``lax.cond`` on ``state.step``: XLA:CPU runs
convolutions inside a conditional's branch far slower (jax-ml/jax#12868; the projection
config's G update took 22.7 s inside the cond, 0.68 s as its own program).

Non-finite values: each side reports ``nonfinite`` (1.0 when its loss or any
gradient is NaN/inf, else 0.0) and ``state.nonfinite_steps`` counts the steps
where either side did. With ``skip_nonfinite`` such a side's update is dropped
inside the step (params, collections, optimizer state, EMA and the method state it
wrote keep their old values, selected with ``jnp.where``), so one bad batch costs one
step instead of the run, with no host sync. Without it the update is applied and the
training loop decides (see ``jaxgan.train``).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from jaxgan import sharding
from jaxgan.methods.base import UPDATE_ORDERS
from jaxgan.precision import in_compute_dtype
from jaxgan.state import GANState, Side

Batch = Mapping[str, jax.Array]
Metrics = Dict[str, jax.Array]
StepFn = Callable[..., Tuple[GANState, Metrics]]  # (state, batch, update_generator=True, update_discriminator=True)


def ema_update(ema: Any, params: Any, decay: float) -> Any:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta (Karras et al. 2018; Yazici et al. 2019)."""
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)


def _unpack(aux: Tuple[Any, ...], state: GANState) -> Tuple[Metrics, Dict[str, Any], Any]:
    """A loss's aux ``(metrics, collections[, method_state])`` -> all three (the state's own method
    state when the loss left it alone)."""
    metrics, collections, *method_state = aux
    return metrics, collections, method_state[0] if method_state else state.method_state


def _apply(side: Side, tx: optax.GradientTransformation, loss: jax.Array, grads: Any,
           collections: Dict[str, Any], metrics: Metrics) -> Tuple[Side, Metrics]:
    """One optimizer update of ``side``, with the metrics every side reports."""
    updates, opt_state = tx.update(grads, side.opt_state, side.params)
    params = optax.apply_updates(side.params, updates)
    grad_norm = optax.tree.norm(grads)
    # The gradients' norm is finite iff every element is (or their sum of squares passed float32's
    # range, a norm above 1.8e19, which counts as non-finite too): one pass over the gradients, where
    # a separate isfinite pass cost pix2pix 38 of its 635 ms per CPU step (RESULTS.md).
    nonfinite = 1.0 - (jnp.isfinite(loss) & jnp.isfinite(grad_norm)).astype(jnp.float32)
    metrics = {"loss": loss, **metrics, "grad_norm": grad_norm, "nonfinite": nonfinite}
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


def make_train_step(method: Any, *, discriminator_tx: optax.GradientTransformation,
                    generator_tx: optax.GradientTransformation,
                    ema_decay: float = 0.0, skip_nonfinite: bool = False,
                    compute_dtype: Optional[Any] = None, activation_dtype: Optional[Any] = None) -> StepFn:
    """Builds the pure step function ``(state, batch, update_generator, update_discriminator) -> (state, metrics)``
    of ``method`` (either form, see the module docstring); ``compute_dtype``: the networks' dtype
    inside the losses, ``activation_dtype``: what their layers hand on (``jaxgan.precision``; None:
    float32, and as the layers' outputs come)."""
    guard = _keep_finite if skip_nonfinite else (lambda update: update)
    shared = hasattr(method, "generator_forward")
    mixed = functools.partial(in_compute_dtype, dtype=compute_dtype, activation_dtype=activation_dtype)
    discriminator_loss = mixed(method.discriminator_loss)
    generator_loss = mixed(method.generator_loss, params_first=not shared)
    generator_forward = mixed(method.generator_forward) if shared else None
    order = getattr(method, "update_order", "discriminator_first")
    if order not in UPDATE_ORDERS:
        raise ValueError(f"method {type(method).__name__}: update_order={order!r} is not one of {UPDATE_ORDERS}")

    def with_generator(state: GANState, generator: Side, metrics: Metrics, method_state: Any):
        ema = None if state.ema_params is None else ema_update(state.ema_params, generator.params, ema_decay)
        return state.replace(generator=generator, ema_params=ema, method_state=method_state), metrics

    @guard
    def discriminator_update(state: GANState, batch: Batch, generated: Any, rng: jax.Array):
        args = (batch, jax.lax.stop_gradient(generated), rng) if shared else (batch, rng)
        (loss, aux), grads = jax.value_and_grad(discriminator_loss, has_aux=True)(
            state.discriminator.params, state, *args)
        metrics, collections, method_state = _unpack(aux, state)
        discriminator, metrics = _apply(state.discriminator, discriminator_tx, loss, grads, collections, metrics)
        return state.replace(discriminator=discriminator, method_state=method_state), metrics

    @guard
    def generator_update(state: GANState, batch: Batch, rng: jax.Array):
        """G's update, running G inside its gradient (the first form)."""
        (loss, aux), grads = jax.value_and_grad(generator_loss, has_aux=True)(
            state.generator.params, state, batch, rng)
        metrics, collections, method_state = _unpack(aux, state)
        return with_generator(state, *_apply(state.generator, generator_tx, loss, grads, collections, metrics),
                              method_state)

    @guard
    def shared_generator_update(state: GANState, batch: Batch, generated: Any, pullback: Callable,
                                collections: Dict[str, Any], rng: jax.Array):
        """G's update from the step's one forward: d loss / d generated, pulled back to G's params."""
        (loss, aux), cotangent = jax.value_and_grad(generator_loss, has_aux=True)(
            generated, state, batch, rng)
        (grads,) = pullback(cotangent)
        metrics, _, method_state = _unpack(aux, state)  # D's collections in G's loss are not kept.
        return with_generator(state, *_apply(state.generator, generator_tx, loss, grads, collections, metrics),
                              method_state)

    def skipped(update: Callable[[GANState], Tuple[GANState, Metrics]], state: GANState) -> Tuple[GANState, Metrics]:
        """A side left alone this step: its state unchanged, its metrics 0."""
        return state, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(update, state)[1])

    def step(state: GANState, batch: Batch, update_generator: bool = True,
             update_discriminator: bool = True) -> Tuple[GANState, Metrics]:
        # split is prefix-stable: d_rng and g_rng are those of a 2-way split, as before the shared forward.
        d_rng, g_rng, forward_rng = jax.random.split(jax.random.fold_in(state.rng, state.step), 3)
        if shared:
            forward = lambda params: generator_forward(params, state, batch, forward_rng)  # noqa: E731
            generated, pullback, g_collections = jax.vjp(forward, state.generator.params, has_aux=True)
            update_d = lambda s: discriminator_update(s, batch, generated, d_rng)  # noqa: E731
            update_g = lambda s: shared_generator_update(  # noqa: E731
                s, batch, generated, pullback, g_collections, g_rng)
        else:
            update_d = lambda s: discriminator_update(s, batch, None, d_rng)  # noqa: E731
            update_g = lambda s: generator_update(s, batch, g_rng)  # noqa: E731
        if not update_discriminator:
            update_d = functools.partial(skipped, update_d)
        if not update_generator:
            update_g = functools.partial(skipped, update_g)
        if order == "generator_first":
            state, g_metrics = update_g(state)
            state, d_metrics = update_d(state)
        else:
            state, d_metrics = update_d(state)
            state, g_metrics = update_g(state)
        metrics = {**{f"d/{k}": v for k, v in d_metrics.items()},
                   **{f"g/{k}": v for k, v in g_metrics.items()}}
        bad_step = jnp.maximum(d_metrics["nonfinite"], g_metrics["nonfinite"]).astype(jnp.int32)
        return state.replace(step=state.step + 1, nonfinite_steps=state.nonfinite_steps + bad_step), metrics

    return step


def updates(step: int, n_critic: int, n_generator: int = 1) -> Tuple[bool, bool]:
    """(update_generator, update_discriminator) for the step on batch ``step`` (0-based): G on every
    ``n_critic``-th step, D on every ``n_generator``-th."""
    return (step + 1) % n_critic == 0, (step + 1) % n_generator == 0


# Each side's non-finite flag (1.0 for a NaN/inf loss or gradient).
NONFINITE_FLAGS = ("d/nonfinite", "g/nonfinite")


def scan_steps(step: StepFn, steps: int, n_critic: int, n_generator: int = 1
               ) -> Callable[[GANState, Batch], Tuple[GANState, Metrics]]:
    """``steps`` train steps as one function ``(state, batches) -> (state, metrics)`` of their batches
    stacked on a new leading axis (``train.steps_per_call``): a ``lax.scan`` over groups of
    n = ``n_critic`` x ``n_generator`` steps (one of them 1) whose last updates both sides, which is
    :func:`updates`' schedule for a call starting at a multiple of ``steps`` (itself a multiple of n).
    Compiled, it is one dispatch and one host round trip for ``steps`` updates: for small models whose
    step time is mostly launch overhead. The metrics are every step's, stacked on a leading axis in order.

    The scan is fully unrolled, so each step compiles as a step alone does (compile time grows with
    ``steps``): as a loop, XLA:CPU ran AC-GAN's 10 steps 5x slower than one at a time (RESULTS.md,
    "Steps per compiled call")."""
    period = n_critic * n_generator
    if steps % period:
        raise ValueError(f"scan_steps: {steps} steps per call is not a multiple of n_critic={n_critic} x "
                         f"n_generator={n_generator}")

    def group(state: GANState, batches: Batch):
        metrics = []
        for i in range(period):
            state, step_metrics = step(state, jax.tree.map(lambda b: b[i], batches),  # noqa: B023
                                       *updates(i, n_critic, n_generator))
            metrics.append(step_metrics)
        return state, jax.tree.map(lambda *m: jnp.stack(m), *metrics)

    def steps_fn(state: GANState, batches: Batch) -> Tuple[GANState, Metrics]:
        grouped = jax.tree.map(lambda b: b.reshape((steps // period, period) + b.shape[1:]), batches)
        state, metrics = jax.lax.scan(group, state, grouped, unroll=True)
        return state, jax.tree.map(lambda m: m.reshape((steps,) + m.shape[2:]), metrics)

    return steps_fn


# The XLA:CPU option (jaxlib 0.10) naming the ops it hands to YNNPACK, and the value that leaves it
# reductions only. With none at all, XLA:CPU splits every large reduction into a reduce-window and a
# reduce (its tree-reduction rewrite), which ran a norm layer's statistics ~6x slower (RESULTS.md).
YNN_FUSION_OPTION = "xla_cpu_experimental_ynn_fusion_type"
YNN_REDUCTIONS_ONLY = "LIBRARY_FUSION_TYPE_REDUCE"


def compiler_options(cpu_ynnpack: bool) -> Optional[Dict[str, str]]:
    """XLA options of the train step (``train.cpu_ynnpack``): on the CPU backend with
    ``cpu_ynnpack=False``, dots and convolutions run in XLA's own Eigen kernels instead of YNNPACK,
    reductions stay with YNNPACK; None (XLA's defaults) otherwise and on every other backend."""
    if cpu_ynnpack or jax.default_backend() != "cpu":
        return None
    return {YNN_FUSION_OPTION: YNN_REDUCTIONS_ONLY}


def compile_train_step(step: StepFn, mesh: Mesh, options: Optional[Dict[str, str]] = None, *,
                       stacked: bool = False) -> StepFn:
    """jit over the mesh: state replicated and donated, batch sharded on its leading axis,
    ``update_generator`` and ``update_discriminator`` static; ``options``: XLA compiler options
    (:func:`compiler_options`).
    ``stacked``: ``step`` is a :func:`scan_steps` function, its batches sharded on their second axis."""
    replicated = sharding.replicated(mesh)
    batches = sharding.batch_sharded(mesh, stacked=stacked)
    return jax.jit(step, in_shardings=(replicated, batches), out_shardings=(replicated, replicated),
                   donate_argnums=(0,), static_argnums=() if stacked else (2, 3), compiler_options=options)
