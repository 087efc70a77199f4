"""pix2pix (Isola et al. 2017): a conditional GAN for paired image-to-image translation x -> y.

G (a U-Net) maps the input x to G(x); D (a PatchGAN) classifies each patch of the pair (x, y),
concatenated along channels, as real or generated:

    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_x[log(1 - D(x, G(x)))]
    L_L1(G)      = E_{x,y}[||y - G(x)||_1]
    G* = arg min_G max_D  lambda_adv L_cGAN(G, D) + lambda_L1 L_L1(G)

with lambda_L1 = 100 (``config.loss.lambda_l1``, sec. 4) and lambda_adv = 1
(``config.loss.adversarial_weight``; 0 gives the non-adversarial L1-only baseline of the paper's
Table 1, whose outputs are the blurry conditional mean). As losses to minimise, with the adversarial
terms of ``config.loss.adversarial`` ('non_saturating' is the paper's 'vanilla' GAN loss):

    loss_D = 1/2 [f_real(D(x, y)) + f_fake(D(x, G(x)))]      (D's objective halved, sec. 3.3)
    loss_G = lambda_adv g(D(x, G(x))) + lambda_L1 mean|y - G(x)|

Each step runs G once (``generator_forward``): D updates on that G(x), held fixed, then G's loss
sees the updated D (the order of the authors' code). Batches hold the input as ``image_a`` and the
target as ``image_b`` (``paired:``, ``aligned:`` and the built-in paired tasks give them; set
``data.direction='BtoA'`` to swap them).

Test time: the paper keeps dropout on as G's only noise (sec. 3.2), the U-Net's
``test_time_dropout``; batch norm then uses its running averages (the authors' ``--eval``; the paper
normalises with the test batch's statistics instead).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan import losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train, loss_weight

INPUT, TARGET = "image_a", "image_b"
TRANSLATION_SEED = 0  # Test-time dropout draws of panels and translations: fixed, so panels are comparable.



@dataclasses.dataclass(frozen=True)
class Pix2Pix:
    generator: nn.Module
    discriminator: nn.Module
    adversarial_loss: str
    lambda_l1: float = 100.0
    adversarial_weight: float = 1.0
    update_order: str = "discriminator_first"
    panel_column_names: Tuple[str, ...] = ("input", "output", "target")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "Pix2Pix":
        x_shape, y_shape = data.shape(INPUT), data.shape(TARGET)
        if x_shape[:2] != y_shape[:2]:
            raise ConfigError(f"method 'pix2pix' translates images of one size; the data's input is {x_shape} and "
                              f"its target {y_shape} (for super-resolution use an SR method)")
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        return cls(
            generator=networks.build_from_config(config.model.generator, output_channels=y_shape[-1]),
            discriminator=networks.build_from_config(config.model.discriminator),
            adversarial_loss=config.loss.adversarial,
            lambda_l1=loss_weight(config, "lambda_l1", "Isola et al. 2017: 100"),
            adversarial_weight=loss_weight(config, "adversarial_weight", "1; 0 for the L1-only baseline"),
        )

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng, drop_rng = jax.random.split(rng, 3)
        x, y = batch[INPUT], batch[TARGET]
        g_vars = self.generator.init({"params": g_rng, "dropout": drop_rng}, x, train=False)
        d_vars = self.discriminator.init(d_rng, jnp.concatenate([x, y], axis=-1), train=False)
        return dict(g_vars), dict(d_vars), {}

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array) -> jax.Array:
        """G(x) at test time (running batch statistics; dropout from ``rng`` if test_time_dropout)."""
        return self.generator.apply(variables, x, train=False, rngs={"dropout": rng})

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """input x | output G(x) | target y."""
        return batch[INPUT], self.translate(variables, batch[INPUT], jax.random.PRNGKey(TRANSLATION_SEED)), batch[TARGET]

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """G(x) in training mode (dropout, batch statistics): the step's one generator forward."""
        return apply_train(self.generator, state.generator.variables(params), batch[INPUT], rng=rng)

    def _discriminate(self, variables: Variables, x: jax.Array, y: jax.Array, rng: jax.Array):
        return apply_train(self.discriminator, variables, jnp.concatenate([x, y], axis=-1), rng=rng)

    def discriminator_loss(self, params, state, batch: Batch, generated: jax.Array, rng: jax.Array):
        """1/2 [f_real(D(x, y)) + f_fake(D(x, G(x)))], G(x) held fixed."""
        real_rng, fake_rng = jax.random.split(rng)
        variables = state.discriminator.variables(params)
        real, collections = self._discriminate(variables, batch[INPUT], batch[TARGET], real_rng)
        fake, collections = self._discriminate({**variables, **collections}, batch[INPUT], generated, fake_rng)
        loss = 0.5 * losses.discriminator_loss(self.adversarial_loss, real_logits=real, fake_logits=fake)
        return loss, ({"real_logit": real.mean(), "fake_logit": fake.mean()}, collections)

    def generator_loss(self, generated: jax.Array, state, batch: Batch, rng: jax.Array):
        """lambda_adv g(D(x, G(x))) + lambda_L1 mean|y - G(x)|, D as updated this step."""
        fake, _ = self._discriminate(state.discriminator.variables(), batch[INPUT], generated, rng)
        adversarial = losses.generator_loss(self.adversarial_loss, fake_logits=fake)
        l1 = losses.l1_loss(prediction=generated, target=batch[TARGET])
        loss = self.adversarial_weight * adversarial + self.lambda_l1 * l1
        return loss, ({"adversarial": adversarial, "l1": l1, "fake_logit": fake.mean()}, {})
