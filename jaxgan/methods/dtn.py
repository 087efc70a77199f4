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

f is ``jaxgan.metrics.classifier.MNISTClassifier`` (its 128-d penultimate features) trained on the
source domain's digits, as the paper trains f on SVHN: ``config.loss.feature_network`` is
'mnist_classifier' (the shipped weights, trained on plain grey MNIST: a source of grey 28x28 digits) or
the path of weights ``python -m jaxgan.metrics.train_classifier --source SPEC --out PATH`` trained on
another 28x28 source of C channels (e.g. ``builtin:mnist/plain_rgb`` for the coloured target). The
generator side holds f and g as one module (``translate`` = g(f(x)) needs both); f's
parameters start from those weights and never train (``wrap_optimizers``: zero updates, no
optimizer state). Each step runs f and g on both domains once (``generator_forward``); D updates first
on those images held fixed, then G against the updated D.

Batches hold ``image_a`` (source) and ``image_b`` (target), e.g. ``domains:builtin:mnist/plain|builtin:
mnist/thick_slanted``. ``translate(variables, x, rng)`` = g(f(x)) for source (or target) images.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan import losses, networks, perceptual
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train
from jaxgan.metrics import classifier
from jaxgan.metrics.classifier import MNISTClassifier

SOURCE, TARGET = "image_a", "image_b"
FROM_SOURCE, FROM_TARGET, REAL_TARGET = 0, 1, 2  # D's three classes.
SHIPPED_F = "mnist_classifier"


def feature_params(name: Any, source_shape: Tuple[int, ...]) -> Any:
    """The parameters of f named by ``config.loss.feature_network`` (see the module docstring), checked
    against the source images' shape; a ConfigError naming the problem and the fix otherwise."""
    train = "python -m jaxgan.metrics.train_classifier --source SOURCE_DOMAIN_SPEC --out PATH"
    if name == SHIPPED_F:
        if tuple(source_shape) != classifier.IMAGE_SHAPE:
            raise ConfigError(f"config.loss.feature_network={SHIPPED_F!r} (the shipped classifier of grey digits) "
                              f"needs 28x28x1 source images; the source's are {tuple(source_shape)}: train f on "
                              f"the source domain with `{train}` and give PATH")
        return perceptual.content_network({"content": name}, source_shape).variables["params"]  # Weights exist.
    if not isinstance(name, str) or not os.path.isfile(name):
        raise ConfigError(f"config.loss.feature_network={name!r} is neither {SHIPPED_F!r} (the shipped MNIST "
                          f"classifier, for grey 28x28 sources) nor a file of classifier weights: train f on the "
                          f"source domain with `{train}` and give PATH")
    if tuple(source_shape[:2]) != classifier.IMAGE_SHAPE[:2]:
        raise ConfigError(f"config.loss.feature_network={name!r}: f (MNISTClassifier) reads 28x28 images; the "
                          f"source's are {tuple(source_shape)}: set data.load_size = data.crop_size = 28")
    try:
        return classifier.load_variables(name, source_shape[-1])["params"]
    except ValueError as e:
        raise ConfigError(f"config.loss.feature_network={name!r}: {e} (the source has {source_shape[-1]} "
                          f"channels; train f on it with `{train}`)") from e


class DTNGenerator(nn.Module):
    """G = g o f: ``features(x)`` = f(x) (the MNIST classifier's 128-d features), ``__call__(x)`` = g(f(x))."""

    g: nn.Module

    def setup(self) -> None:
        self.f = MNISTClassifier()  # Its input channels are the source's (the weights': feature_params).

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
    f_params: Any = dataclasses.field(compare=False, hash=False, repr=False)  # f's weights (numpy).
    alpha: float = 15.0
    beta: float = 15.0
    update_order: str = "discriminator_first"
    panel_column_names: Tuple[str, ...] = ("source", "G(source)", "target", "G(target)")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "DomainTransferNetwork":
        source, target = data.shape(SOURCE), data.shape(TARGET)
        return cls(
            generator=DTNGenerator(networks.build_from_config(config.model.generator, image_shape=tuple(target))),
            discriminator=networks.build_from_config(config.model.discriminator),
            f_params=feature_params(config.loss.get("feature_network"), tuple(source)),
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
