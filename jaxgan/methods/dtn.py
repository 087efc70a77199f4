"""The Domain Transfer Network (Taigman et al. 2017): G = g o f maps a source domain s to a target domain t,
with f a fixed feature network trained on the source domain and g learned, so that f(x) survives the
transfer (f-constancy). With D a ternary classifier (D_1: a generated image from the source, D_2: a
generated image from the target, D_3: a real target image):

    L_D    = -E_{x in s} log D_1(g(f(x))) - E_{x in t} log D_2(g(f(x))) - E_{x in t} log D_3(x)      (eq. 3)
    L_GANG = -E_{x in s} log D_3(g(f(x))) - E_{x in t} log D_3(g(f(x)))                               (eq. 4)
    L_CONST = E_{x in s} ||f(x) - f(g(f(x)))||^2                                                          (eq. 5)
    L_TID   = E_{x in t} ||x - g(f(x))||^2                                  (eq. 6: G is the identity on t)
    L_G = L_GANG + alpha L_CONST + beta L_TID                                                               (eq. 7)

(the paper's total-variation term, gamma = 0 for digits, is left out). The squared distances are means
over elements (``losses.l2_loss``). alpha = beta = 15 for digits (sec. 5.1; ``config.loss.alpha``,
``config.loss.beta``).

f is the project's shipped MNIST classifier (``jaxgan.metrics.classifier``: its 128-d penultimate
features, trained on plain MNIST digits, the source domain here, as the paper trains f on SVHN), so the
source domain is grey 28x28 digits (``config.loss.feature_network = 'mnist_classifier'``, the one f
offered). The generator side holds f and g as one module (``translate`` = g(f(x)) needs both); f's
parameters start from the shipped weights and never train (``wrap_optimizers``: zero updates, no
optimizer state). Each step runs f and g on both domains once (``generator_forward``); D updates first
on those images held fixed, then G against the updated D.

Batches hold ``image_a`` (source) and ``image_b`` (target), e.g. ``domains:builtin:mnist/plain|builtin:
mnist/thick_slanted``. ``translate(variables, x, rng)`` = g(f(x)) for source (or target) images.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan import losses, networks, perceptual
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train
from jaxgan.metrics.classifier import MNISTClassifier

SOURCE, TARGET = "image_a", "image_b"
FROM_SOURCE, FROM_TARGET, REAL_TARGET = 0, 1, 2  # D's three classes.
FEATURE_NETWORKS = ("mnist_classifier",)


class DTNGenerator(nn.Module):
    """G = g o f: ``features(x)`` = f(x) (the MNIST classifier's 128-d features), ``__call__(x)`` = g(f(x))."""

    g: nn.Module

    def setup(self) -> None:
        self.f = MNISTClassifier()

    def features(self, x: jax.Array) -> jax.Array:
        return self.f(x, train=False)[1]

    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        return self.g(jax.lax.stop_gradient(self.features(x)), train=train)


def _weight(config: ml_collections.ConfigDict, key: str, paper: str) -> float:
    value = config.loss.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"config.loss.{key}={value!r}: method 'dtn' needs a weight >= 0 ({paper})")
    return float(value)


@dataclasses.dataclass(frozen=True)
class DomainTransferNetwork:
    generator: DTNGenerator
    discriminator: nn.Module
    f_params: Any = dataclasses.field(compare=False, hash=False, repr=False)  # The shipped f (numpy).
    alpha: float = 15.0
    beta: float = 15.0
    update_order: str = "discriminator_first"
    panel_column_names: Tuple[str, ...] = ("source", "G(source)", "target", "G(target)")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "DomainTransferNetwork":
        source, target = data.shape(SOURCE), data.shape(TARGET)
        name = config.loss.get("feature_network")
        if name not in FEATURE_NETWORKS:
            raise ConfigError(f"config.loss.feature_network={name!r} is not one of {FEATURE_NETWORKS} (the fixed f "
                              "of the Domain Transfer Network)")
        f = perceptual.content_network({"content": name}, source)  # Checks 28x28x1 and that the weights exist.
        return cls(
            generator=DTNGenerator(networks.build_from_config(config.model.generator, image_shape=tuple(target))),
            discriminator=networks.build_from_config(config.model.discriminator),
            f_params=f.variables["params"],
            alpha=_weight(config, "alpha", "Taigman et al. 2017, digits: 15"),
            beta=_weight(config, "beta", "Taigman et al. 2017, digits: 15"),
        )

    def wrap_optimizers(self, g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation
                        ) -> Tuple[optax.GradientTransformation, optax.GradientTransformation]:
        """f is fixed: zero updates and no optimizer state for its parameters; g trains."""
        labels = lambda params: {k: jax.tree.map(lambda _: k, v) for k, v in params.items()}  # noqa: E731
        return optax.multi_transform({"g": g_tx, "f": optax.set_to_zero()}, labels), d_tx

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        g_vars = dict(self.generator.init(g_rng, batch[SOURCE], train=False))
        g_vars["params"] = {**g_vars["params"], "f": jax.tree.map(jnp.asarray, self.f_params)}
        return g_vars, dict(self.discriminator.init(d_rng, batch[TARGET], train=False)), {}

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array) -> jax.Array:
        """g(f(x)) at test time."""
        del rng
        return self.generator.apply(variables, x, train=False)

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """source | G(source) | target | G(target) (the last should be the target itself: L_TID)."""
        rng = jax.random.PRNGKey(0)
        return (batch[SOURCE], self.translate(variables, batch[SOURCE], rng),
                batch[TARGET], self.translate(variables, batch[TARGET], rng))

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """g(f(x_s)) and g(f(x_t)) in training mode (one batch: batch norm sees both domains together)."""
        n = batch[SOURCE].shape[0]
        both = jnp.concatenate([batch[SOURCE], batch[TARGET]], axis=0)
        out, collections = apply_train(self.generator, state.generator.variables(params), both, rng=rng)
        return {"from_source": out[:n], "from_target": out[n:]}, collections

    def _classify(self, variables, images: Sequence[jax.Array], rng) -> Tuple[Sequence[jax.Array], Dict[str, Any]]:
        """D's logits for each group of images, one application per group (batch norm within a group)."""
        logits, collections = [], {}
        for x in images:
            out, collections = apply_train(self.discriminator, {**variables, **collections}, x, rng=rng)
            logits.append(out)
        return logits, collections

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """L_D (eq. 3): D_1 on g(f(x_s)), D_2 on g(f(x_t)), D_3 on x_t; softmax cross-entropy, batch means."""
        (gs, gt, real), collections = self._classify(
            state.discriminator.variables(params), [generated["from_source"], generated["from_target"], batch[TARGET]],
            rng)
        terms = {name: losses.classification_loss(logits=logits, labels=jnp.full(logits.shape[:1], label))
                 for name, logits, label in (("d_from_source", gs, FROM_SOURCE), ("d_from_target", gt, FROM_TARGET),
                                             ("d_real_target", real, REAL_TARGET))}
        return sum(terms.values()), (terms, collections)

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """L_GANG + alpha L_CONST + beta L_TID (eq. 7), D as updated this step."""
        (gs, gt), _ = self._classify(state.discriminator.variables(), [generated["from_source"],
                                                                      generated["from_target"]], rng)
        real = jnp.full(gs.shape[:1], REAL_TARGET)
        gang = (losses.classification_loss(logits=gs, labels=real)
                + losses.classification_loss(logits=gt, labels=real))
        f = lambda x: self.generator.apply(state.generator.variables(), x, method=DTNGenerator.features)  # noqa: E731
        const = losses.l2_loss(prediction=f(generated["from_source"]), target=jax.lax.stop_gradient(f(batch[SOURCE])))
        tid = losses.l2_loss(prediction=generated["from_target"], target=batch[TARGET])
        loss = gang + self.alpha * const + self.beta * tid
        return loss, ({"gang": gang, "f_constancy": const, "target_identity": tid}, {})
