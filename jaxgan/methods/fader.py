"""Fader Networks (Lample et al. 2017): an encoder-decoder whose decoder receives the attributes, trained
so that the code E(x) carries no attribute information, with defaults of the authors' code
(facebookresearch/FaderNetworks). For an image x with binary attributes y (y_j in {0, 1}, given to the
decoder as the pairs [1 - y_j, y_j], ``jaxgan.networks.fader.attribute_code``):

    L_dis(theta_dis) = E_{x,y}[-log p_dis(y | E(x))]                                       (eq. 2)
    L(theta_enc, theta_dec) = E_{x,y}[||D(E(x), y) - x||_2^2 - lambda_E log p_dis(1 - y | E(x))]   (eq. 3)

-log p_dis(y | z) is the softmax cross-entropy of the latent discriminator's two logits of each
attribute, summed over the attributes and averaged over the batch (the code's ``get_attr_loss``; with
``flip`` the targets are 1 - y: the encoder is trained to make the discriminator predict the other
class). The reconstruction term is the mean squared error over pixels and batch (the code's
``((batch_x - dec_outputs[-1]) ** 2).mean()``, weight ``lambda_ae`` = 1).

lambda_E grows linearly from 0 to lambda_lat_dis = 1e-4 over the first 500,000 iterations (sec. 5:
"lambda_E ... linearly increased from 0 to 0.0001 over the first 500,000 iterations"; the code's
``--lambda_lat_dis`` and ``--lambda_schedule`` in ``get_lambda``): at step t (0-based)

    lambda_E(t) = lambda_lat_dis * min(t, T) / T,      T = ``config.loss.lambda_latent_ramp_steps``

a pure function of ``state.step`` (``latent_weight``), so resume is exact. Our configs scale T to
their step budgets (configs/fader_mnist.py: 500,000 iterations of 1,000 epochs of 50,000 samples at
batch 32 = 1/3 of the authors' run; the same fraction of ours); T = 0 turns the ramp off (lambda_E =
lambda_lat_dis from the start, the code's ``lambda_schedule 0``).

Each step runs E and D once (``generator_forward``: z = E(x) and D(z, y), training mode); the latent
discriminator updates first on that z held fixed (the code's ``lat_dis_step`` before
``autoencoder_step``, one of each per iteration: n_lat_dis = 1), then the auto-encoder against the
updated discriminator run in evaluation mode (no dropout, running statistics: the code's
``lat_dis.eval()``). Two differences from the code: its ``lat_dis_step`` draws its own batch and
encodes it with E in evaluation mode; here both updates share the step's batch and its one training-mode
forward. Gradients are clipped to global norm 5 on both sides (``config.loss.clip_grad_norm``, the
code's ``--clip_grad_norm 5``; 0 = none; ``wrap_optimizers``).

Batches hold ``image`` and ``attributes`` (float [n, A] in {0, 1}; e.g. ``builtin:mnist/attributes``:
thick, slanted, coloured, negative). Inference is the paper's slider: ``translate(variables, x, rng,
attributes=...)`` decodes E(x) with attribute values a_j anywhere in [0, 1] (the decoder gets
[1 - a_j, a_j]; values past 0 or 1 extrapolate, as the code's ``interpolate.py`` alpha > 1).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Mapping, Sequence, Tuple, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxgan import losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train
from jaxgan.networks.fader import FaderAutoEncoder, attribute_code

IMAGE, ATTRIBUTES = "image", "attributes"
SLIDER_VALUES = (0.0, 0.5, 1.0)  # The panels' sweep of each attribute.


def latent_weight(step: jax.Array, lambda_lat_dis: float, ramp_steps: int) -> jax.Array:
    """lambda_E at step ``step`` (0-based): lambda_lat_dis * min(step, T) / T, or lambda_lat_dis when T = 0
    (the code's ``get_lambda`` with ``n_total_iter`` = step)."""
    if ramp_steps == 0:
        return jnp.asarray(lambda_lat_dis, jnp.float32)
    return lambda_lat_dis * jnp.minimum(jnp.asarray(step, jnp.float32), ramp_steps) / ramp_steps


def attribute_loss(*, logits: jax.Array, attributes: jax.Array) -> jax.Array:
    """-log p(y | z) = sum_j E_i[-log softmax(logits_i[2j:2j+2])[y_ij]]: the latent discriminator's two-class
    cross-entropy per attribute, summed over the attributes, mean over the batch (the code's
    ``get_attr_loss``). ``logits`` [n, 2A], ``attributes`` [n, A] in {0, 1}."""
    n, num = attributes.shape
    per_class = losses.classification_loss(logits=logits.reshape(n * num, 2),
                                           labels=jnp.round(attributes).astype(jnp.int32).reshape(-1))
    return num * per_class


def _number(config: ml_collections.ConfigDict, key: str, paper: str, integer: bool = False) -> float:
    value = config.loss.get(key)
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if not ok or isinstance(value, bool) or value < 0:
        raise ConfigError(f"config.loss.{key}={value!r}: method 'fader' needs {'an integer' if integer else 'a number'} "
                          f">= 0 ({paper})")
    return value if integer else float(value)


@dataclasses.dataclass(frozen=True)
class FaderNetworks:
    autoencoder: FaderAutoEncoder
    latent_discriminator: nn.Module
    attribute_names: Tuple[str, ...]
    lambda_ae: float = 1.0
    lambda_lat_dis: float = 1e-4
    lambda_latent_ramp_steps: int = 500_000
    clip_grad_norm: float = 5.0
    update_order: str = "discriminator_first"

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "FaderNetworks":
        if IMAGE not in data.batch or ATTRIBUTES not in data.batch:
            raise ConfigError(f"method 'fader' needs attribute-labelled images ('image' + 'attributes', e.g. "
                              f"builtin:mnist/attributes); the data gives {sorted(data.batch)}")
        shape = data.shape(ATTRIBUTES)
        if len(shape) != 1 or shape[0] < 1:
            raise ConfigError(f"method 'fader': 'attributes' must be a vector of attributes per example, got {shape}")
        names = tuple(data.attribute_names) if len(data.attribute_names) == shape[0] else tuple(
            f"attribute_{j}" for j in range(shape[0]))
        autoencoder = networks.build_from_config(config.model.generator, output_channels=data.shape(IMAGE)[-1])
        if not isinstance(autoencoder, FaderAutoEncoder):
            raise ConfigError(f"method 'fader': config.model.generator.name={config.model.generator.name!r}; it needs "
                              "'fader_autoencoder' (an encoder and a decoder that takes the attributes)")
        return cls(
            autoencoder=autoencoder,
            latent_discriminator=networks.build_from_config(config.model.discriminator, num_outputs=2 * shape[0]),
            attribute_names=names,
            lambda_ae=_number(config, "lambda_ae", "Lample et al. 2017: 1"),
            lambda_lat_dis=_number(config, "lambda_lat_dis", "Lample et al. 2017: 1e-4"),
            lambda_latent_ramp_steps=_number(config, "lambda_latent_ramp_steps",
                                             "the authors' 500,000, scaled to the run; 0 = no ramp", integer=True),
            clip_grad_norm=_number(config, "clip_grad_norm", "the authors' code: 5; 0 = none"),
        )

    def wrap_optimizers(self, g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation
                        ) -> Tuple[optax.GradientTransformation, optax.GradientTransformation]:
        """Both sides' gradients clipped to global norm ``clip_grad_norm`` first (PyTorch's clip_grad_norm)."""
        if not self.clip_grad_norm:
            return g_tx, d_tx
        clip = optax.clip_by_global_norm(self.clip_grad_norm)
        return optax.chain(clip, g_tx), optax.chain(clip, d_tx)

    # --- Networks ----------------------------------------------------------------------------------

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        x, y = batch[IMAGE], attribute_code(batch[ATTRIBUTES])
        g_vars = self.autoencoder.init(g_rng, x, y, train=False)
        z = jax.eval_shape(lambda: self.autoencoder.apply(g_vars, x, train=False, method=FaderAutoEncoder.encode))
        d_vars = self.latent_discriminator.init(d_rng, jnp.zeros(z.shape, z.dtype), train=False)
        return dict(g_vars), dict(d_vars), {}

    def slider_values(self, n: int, attributes: Union[Sequence[float], Mapping[str, float], jax.Array]) -> jax.Array:
        """Attribute values [n, A] from one vector [A], a batch [n, A], or {name: value} naming every attribute."""
        if isinstance(attributes, Mapping):
            unknown = sorted(set(attributes) - set(self.attribute_names))
            missing = [a for a in self.attribute_names if a not in attributes]
            if unknown or missing:
                raise ConfigError(f"attributes {dict(attributes)}: " + "; ".join(
                    ([f"unknown {unknown}"] if unknown else []) + ([f"missing {missing}"] if missing else []))
                    + f"; this run's attributes are {list(self.attribute_names)}, each a slider in [0, 1]")
            attributes = [float(attributes[a]) for a in self.attribute_names]
        values = jnp.asarray(attributes, jnp.float32)
        if values.shape[-1:] != (len(self.attribute_names),) or values.ndim > 2:
            raise ConfigError(f"attributes of shape {tuple(values.shape)}: give one value per attribute "
                              f"({', '.join(self.attribute_names)}), [A] or [n, A]")
        return jnp.broadcast_to(values, (n, values.shape[-1]))

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array, *,
                  attributes: Union[Sequence[float], Mapping[str, float], jax.Array, None] = None) -> jax.Array:
        """D(E(x), [1 - a, a]) at test time for attribute values a (sliders: 0 and 1 are the classes, values
        between interpolate): a vector [A], a batch [n, A], or a mapping naming every attribute."""
        del rng  # E and D are deterministic at test time.
        if attributes is None:
            raise ConfigError("Fader Networks translate to given attribute values: pass attributes=... with one "
                              f"slider value in [0, 1] per attribute ({', '.join(self.attribute_names)})")
        y = attribute_code(self.slider_values(x.shape[0], attributes))
        return self.autoencoder.apply(variables, x, y, train=False)[1]

    @property
    def panel_column_names(self) -> Tuple[str, ...]:
        return ("input", "reconstruction") + tuple(f"{a}={v:g}" for a in self.attribute_names for v in SLIDER_VALUES)

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """input | D(E(x), y) | for each attribute j: D(E(x), y with a_j = 0, 0.5, 1)."""
        x, y = batch[IMAGE], jnp.asarray(batch[ATTRIBUTES], jnp.float32)
        rng = jax.random.PRNGKey(0)
        columns = [x, self.translate(variables, x, rng, attributes=y)]
        for j in range(len(self.attribute_names)):
            columns += [self.translate(variables, x, rng, attributes=y.at[:, j].set(v)) for v in SLIDER_VALUES]
        return columns

    # --- Losses ------------------------------------------------------------------------------------

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """z = E(x) and D(z, y) in training mode: the step's one forward."""
        (z, reconstruction), collections = apply_train(
            self.autoencoder, state.generator.variables(params), batch[IMAGE], attribute_code(batch[ATTRIBUTES]),
            rng=rng)
        return {"latent": z, "reconstruction": reconstruction}, collections

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """L_dis = -log p_dis(y | E(x)) (eq. 2), E(x) held fixed, dropout on."""
        logits, collections = apply_train(self.latent_discriminator, state.discriminator.variables(params),
                                          generated["latent"], rng=rng)
        y = batch[ATTRIBUTES]
        loss = attribute_loss(logits=logits, attributes=y)
        accuracy = jnp.mean(((logits[:, 1::2] > logits[:, 0::2]) == (y > 0.5)).astype(jnp.float32))
        return loss, ({"latent_attribute_loss": loss, "latent_accuracy": accuracy}, collections)

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """lambda_ae ||D(E(x), y) - x||^2 + lambda_E(step) (-log p_dis(1 - y | E(x))) (eq. 3), the
        discriminator as updated this step, in evaluation mode."""
        del rng
        logits = self.latent_discriminator.apply(state.discriminator.variables(), generated["latent"], train=False)
        reconstruction = losses.l2_loss(prediction=generated["reconstruction"], target=batch[IMAGE])
        fool = attribute_loss(logits=logits, attributes=1.0 - batch[ATTRIBUTES])
        weight = latent_weight(state.step, self.lambda_lat_dis, self.lambda_latent_ramp_steps)
        loss = self.lambda_ae * reconstruction + weight * fool
        return loss, ({"reconstruction": reconstruction, "latent_fool": fool, "lambda_e": weight}, {})


def parse_attributes(text: str) -> Dict[str, float]:
    """'thick=0.5,negative=1' -> {'thick': 0.5, 'negative': 1.0} (the form a command line gives)."""
    values = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not np.isfinite(values.get(name.strip(), np.nan)):
            raise ConfigError(f"attributes {text!r}: {item!r} is not NAME=VALUE with a number VALUE "
                              "(e.g. thick=0.5,negative=1)")
    return values
