"""CycleGAN (Zhu et al. 2017): unpaired translation between domains A and B with two generators
G_A: A -> B and G_B: B -> A (the paper's G and F), two discriminators D_A on domain B and D_B on
domain A (the paper's D_Y and D_X; names as in the authors' code), and cycle consistency:

    L_GAN(G_A, D_A) = E_b[f_real(D_A(b))] + E_a[f_fake(D_A(G_A(a)))]          (eq. 1; D_B alike)
    L_cyc = lambda_A E_a ||G_B(G_A(a)) - a||_1 + lambda_B E_b ||G_A(G_B(b)) - b||_1          (eq. 2)
    L_idt = lambda_idt (lambda_B E_b ||G_A(b) - b||_1 + lambda_A E_a ||G_B(a) - a||_1)      (sec. 5.2)

As losses to minimise, with w = ``config.loss.adversarial_weight`` and the adversarial terms of
``config.loss.adversarial`` (``jaxgan.losses``):

    loss_G = w [g(D_A(G_A(a))) + g(D_B(G_B(b)))] + L_cyc + L_idt
    loss_D = w/2 [f_real(D_A(b)) + f_fake(D_A(pool_B(G_A(a))))]
           + w/2 [f_real(D_B(a)) + f_fake(D_B(pool_A(G_B(b))))]     (each D's objective halved, sec. 4)

CycleGAN's loss is least squares (sec. 4: G minimises E[(D(G(x)) - 1)^2], D minimises
E[(D(y) - 1)^2] + E[D(G(x))^2]); jaxgan's 'least_squares' terms carry Mao et al.'s factor 1/2, so
the CycleGAN configs set w = 2 to keep the paper's balance against lambda = 10 (both sides then equal
the authors' code exactly: MSE for G, 0.5 (MSE_real + MSE_fake) for each D). lambda_A = lambda_B =
10 and lambda_idt = 0.5 (``config.loss.lambda_a``, ``lambda_b``, ``lambda_identity``: the code's
``--lambda_A``, ``--lambda_B``, ``--lambda_identity``). D learns from generated images through an
image history pool of 50 per domain (``config.model.pool_size``; ``jaxgan.methods.image_pool``),
held with its random key in ``state.method_state`` and updated by D's loss.

Each step runs every generator application once (``generator_forward``): G_A(a), G_B(G_A(a)),
G_B(b), G_A(G_B(b)) and, when lambda_idt > 0, G_A(b) and G_B(a); G updates first against the
step's old D, then D on the same images through the pools (the authors' ``optimize_parameters``).

The same method with other networks, losses and weights is DualGAN (Yi et al. 2017) and DiscoGAN
(Kim et al. 2017): ``config.loss.cycle_norm`` 'l1' | 'l2' (DiscoGAN's reconstruction is the squared
error), the adversarial loss by name ('wasserstein' with ``loss.weight_clip`` for DualGAN),
lambda_idt 0 and pool size 0 (configs/dualgan_mnist.py, configs/discogan_mnist.py). Two options
reproduce DiscoGAN's released code (SKTBrain/DiscoGAN ``image_translation.py``; configs/discogan_paper.py):

* ``loss.feature_matching_fraction`` = phi: each generator's adversarial term becomes
  (1 - phi) g(D(G(x))) + phi L_FM, L_FM the feature matching of the batch means of its D's activations
  past the first layer (``losses.mean_feature_matching_loss``; the code: 0.1 GAN + 0.9 FM);
* ``loss.default_rate`` = r > 0 (the code's ``--default_rate`` 0.5), with ``loss.starting_rate`` (0.01)
  for the first ``loss.gan_curriculum`` steps (10,000): the adversarial and reconstruction terms are
  mixed as (1 - r_t) w [adv_A + adv_B] + r_t [L_cyc + L_idt], r_t the rate at the step.

Batches hold ``image_a`` and ``image_b`` from an unpaired source (``domains:``, ``unpaired:``);
digit labels ``label_a``/``label_b`` are ignored. ``translate(..., direction='AtoB' | 'BtoA')``.
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
from jaxgan.methods import image_pool
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train, loss_weight

DOMAIN_A, DOMAIN_B = "image_a", "image_b"
DIRECTIONS = ("AtoB", "BtoA")
CYCLE_NORMS = ("l1", "l2")
TRANSLATION_SEED = 0  # Dropout draws of panels (a U-Net G with test-time dropout): fixed, so panels compare.


class Generators(nn.Module):
    """The generator side: G_A (A -> B) and G_B (B -> A); ``__call__`` is the step's forward."""

    g_a: nn.Module
    g_b: nn.Module
    identity: bool  # Also compute G_A(b) and G_B(a) for the identity loss.

    def __call__(self, a: jax.Array, b: jax.Array, *, train: bool) -> Dict[str, jax.Array]:
        fake_b = self.g_a(a, train=train)
        fake_a = self.g_b(b, train=train)
        out = {"fake_b": fake_b, "rec_a": self.g_b(fake_b, train=train),
               "fake_a": fake_a, "rec_b": self.g_a(fake_a, train=train)}
        if self.identity:
            out.update(idt_a=self.g_a(b, train=train), idt_b=self.g_b(a, train=train))
        return out

    def translate(self, x: jax.Array, direction: str, *, train: bool) -> jax.Array:
        return (self.g_a if direction == "AtoB" else self.g_b)(x, train=train)


class Discriminators(nn.Module):
    """The discriminator side: D_A judges domain B images, D_B domain A images; returns both logits."""

    d_a: nn.Module
    d_b: nn.Module

    def __call__(self, image_b: jax.Array, image_a: jax.Array, *, train: bool, **kwargs: Any) -> Tuple[Any, Any]:
        """(D_A(image_b), D_B(image_a)); ``return_features=True`` (in ``kwargs``) gives each as (logits,
        activations)."""
        return self.d_a(image_b, train=train, **kwargs), self.d_b(image_a, train=train, **kwargs)



@dataclasses.dataclass(frozen=True)
class CycleGAN:
    generators: Generators
    discriminators: Discriminators
    adversarial_loss: str = "least_squares"
    adversarial_weight: float = 2.0
    lambda_a: float = 10.0
    lambda_b: float = 10.0
    lambda_identity: float = 0.5
    cycle_norm: str = "l1"
    pool_size: int = 50
    feature_matching_fraction: float = 0.0  # phi (DiscoGAN's code: 0.9).
    default_rate: float = 0.0  # r after the curriculum; 0: no rates, the terms summed (DiscoGAN's code: 0.5).
    starting_rate: float = 0.0  # r for the first gan_curriculum steps (DiscoGAN's code: 0.01).
    gan_curriculum: int = 0  # Steps at starting_rate (DiscoGAN's code: 10,000).
    update_order: str = "generator_first"
    directions: Tuple[str, ...] = DIRECTIONS
    panel_column_names: Tuple[str, ...] = ("a", "G_A(a)", "G_B(G_A(a))", "b", "G_B(b)", "G_A(G_B(b))")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "CycleGAN":
        a_shape, b_shape = data.shape(DOMAIN_A), data.shape(DOMAIN_B)
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        cycle_norm = config.loss.get("cycle_norm", "l1")
        if cycle_norm not in CYCLE_NORMS:
            raise ConfigError(f"config.loss.cycle_norm={cycle_norm!r} is not one of {CYCLE_NORMS} "
                              "(CycleGAN, DualGAN: 'l1'; DiscoGAN: 'l2')")
        lambda_identity = loss_weight(config, "lambda_identity", "Zhu et al. 2017: 0.5; 0 = no identity loss")
        if lambda_identity > 0 and a_shape != b_shape:
            raise ConfigError(f"config.loss.lambda_identity={lambda_identity} feeds each generator images of its "
                              f"output domain, so both domains need one shape; A is {a_shape}, B {b_shape}: "
                              "set lambda_identity=0")
        pool_size = config.model.get("pool_size", 50)
        if not isinstance(pool_size, int) or isinstance(pool_size, bool) or pool_size < 0:
            raise ConfigError(f"config.model.pool_size={pool_size!r} must be an integer >= 0 "
                              "(Zhu et al. 2017: 50; 0 = no image pool)")

        fraction, default_rate, starting_rate = (config.loss.get(key, 0.0) for key in (
            "feature_matching_fraction", "default_rate", "starting_rate"))
        for key, value in (("feature_matching_fraction", fraction), ("default_rate", default_rate),
                           ("starting_rate", starting_rate)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ConfigError(f"config.loss.{key}={value!r} must be a number in [0, 1] (Kim et al. 2017's "
                                  "code: feature_matching_fraction 0.9, default_rate 0.5, starting_rate 0.01)")
        gan_curriculum = config.loss.get("gan_curriculum", 0)
        if not isinstance(gan_curriculum, int) or isinstance(gan_curriculum, bool) or gan_curriculum < 0:
            raise ConfigError(f"config.loss.gan_curriculum={gan_curriculum!r} must be a number of steps >= 0 "
                              "(Kim et al. 2017's code: 10000)")
        if (starting_rate or gan_curriculum) and not default_rate:
            raise ConfigError(f"config.loss.starting_rate={starting_rate} and gan_curriculum={gan_curriculum} "
                              "need config.loss.default_rate > 0 (the rate after the curriculum; DiscoGAN: 0.5)")

        def generator(channels: int) -> nn.Module:
            return networks.build_from_config(config.model.generator, output_channels=channels)

        return cls(
            generators=Generators(generator(b_shape[-1]), generator(a_shape[-1]), identity=lambda_identity > 0),
            discriminators=Discriminators(networks.build_from_config(config.model.discriminator),
                                          networks.build_from_config(config.model.discriminator)),
            adversarial_loss=config.loss.adversarial,
            adversarial_weight=loss_weight(config, "adversarial_weight", "2 with least_squares for the paper's MSE"),
            lambda_a=loss_weight(config, "lambda_a", "Zhu et al. 2017: 10"),
            lambda_b=loss_weight(config, "lambda_b", "Zhu et al. 2017: 10"),
            lambda_identity=lambda_identity,
            cycle_norm=cycle_norm,
            pool_size=pool_size,
            feature_matching_fraction=float(fraction),
            default_rate=float(default_rate),
            starting_rate=float(starting_rate),
            gan_curriculum=gan_curriculum,
        )

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng, drop_rng, pool_a_rng, pool_b_rng = jax.random.split(rng, 5)
        a, b = batch[DOMAIN_A], batch[DOMAIN_B]
        g_vars = self.generators.init({"params": g_rng, "dropout": drop_rng}, a, b, train=False)
        d_vars = self.discriminators.init(d_rng, b, a, train=False)
        method_state = {} if self.pool_size == 0 else {  # Pool size 0: D sees the latest images only.
            "pool_fake_a": image_pool.init(self.pool_size, a.shape[1:], pool_a_rng),
            "pool_fake_b": image_pool.init(self.pool_size, b.shape[1:], pool_b_rng)}
        return dict(g_vars), dict(d_vars), method_state

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array, direction: str = "AtoB") -> jax.Array:
        """G_A(x) for direction 'AtoB' (x from domain A), G_B(x) for 'BtoA', at test time."""
        if direction not in DIRECTIONS:
            raise ConfigError(f"direction={direction!r} is not one of {DIRECTIONS}")
        return self.generators.apply(variables, x, direction, train=False, method=Generators.translate,
                                     rngs={"dropout": rng})

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """a | G_A(a) | G_B(G_A(a)) | b | G_B(b) | G_A(G_B(b))."""
        rng = jax.random.PRNGKey(TRANSLATION_SEED)
        a, b = batch[DOMAIN_A], batch[DOMAIN_B]
        fake_b, fake_a = self.translate(variables, a, rng, "AtoB"), self.translate(variables, b, rng, "BtoA")
        return (a, fake_b, self.translate(variables, fake_b, rng, "BtoA"),
                b, fake_a, self.translate(variables, fake_a, rng, "AtoB"))

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """fake_b, rec_a, fake_a, rec_b (and idt_a, idt_b) in training mode: the step's one forward."""
        return apply_train(self.generators, state.generator.variables(params), batch[DOMAIN_A], batch[DOMAIN_B],
                           rng=rng)

    def _reconstruction(self, prediction: jax.Array, target: jax.Array) -> jax.Array:
        loss = losses.l1_loss if self.cycle_norm == "l1" else losses.l2_loss
        return loss(prediction=prediction, target=target)

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """w/2 [f_real(D_A(b)) + f_fake(D_A(pool_B(fake_b)))] + w/2 [f_real(D_B(a)) + f_fake(D_B(pool_A(fake_a)))];
        the pools after the queries are the third aux element (the new method state)."""
        real_rng, fake_rng = jax.random.split(rng)
        fake_b, fake_a, method_state = generated["fake_b"], generated["fake_a"], state.method_state
        if self.pool_size:
            fake_b, pool_b = image_pool.query(method_state["pool_fake_b"], fake_b)
            fake_a, pool_a = image_pool.query(method_state["pool_fake_a"], fake_a)
            method_state = {**method_state, "pool_fake_a": pool_a, "pool_fake_b": pool_b}
        variables = state.discriminator.variables(params)
        (real_da, real_db), collections = apply_train(  # D_A judges domain B, D_B domain A.
            self.discriminators, variables, batch[DOMAIN_B], batch[DOMAIN_A], rng=real_rng)
        (fake_da, fake_db), collections = apply_train(
            self.discriminators, {**variables, **collections}, fake_b, fake_a, rng=fake_rng)
        d_a = 0.5 * losses.discriminator_loss(self.adversarial_loss, real_logits=real_da, fake_logits=fake_da)
        d_b = 0.5 * losses.discriminator_loss(self.adversarial_loss, real_logits=real_db, fake_logits=fake_db)
        metrics = {"d_a": d_a, "d_b": d_b, "da_real_logit": real_da.mean(), "da_fake_logit": fake_da.mean(),
                   "db_real_logit": real_db.mean(), "db_fake_logit": fake_db.mean()}
        return self.adversarial_weight * (d_a + d_b), (metrics, collections, method_state)

    def _adversarial_terms(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """(adv_A, adv_B, metrics): g(D_A(fake_b)), g(D_B(fake_a)), each mixed with its D's feature matching
        against the real images when phi > 0, D as at the start of the step."""
        variables = state.discriminator.variables()
        phi = self.feature_matching_fraction
        if not phi:
            (fake_da, fake_db), _ = apply_train(self.discriminators, variables, generated["fake_b"],
                                                generated["fake_a"], rng=rng)
        else:
            fake_rng, real_rng = jax.random.split(rng)
            ((fake_da, fake_fa), (fake_db, fake_fb)), _ = apply_train(
                self.discriminators, variables, generated["fake_b"], generated["fake_a"], rng=fake_rng,
                return_features=True)
            ((_, real_fa), (_, real_fb)), _ = apply_train(
                self.discriminators, variables, batch[DOMAIN_B], batch[DOMAIN_A], rng=real_rng, return_features=True)
            # Past the first layer: the code's relu2 .. relu4 of its four.
            fm_a = losses.mean_feature_matching_loss(real_features=real_fa[1:], fake_features=fake_fa[1:])
            fm_b = losses.mean_feature_matching_loss(real_features=real_fb[1:], fake_features=fake_fb[1:])
        g_a = losses.generator_loss(self.adversarial_loss, fake_logits=fake_da)
        g_b = losses.generator_loss(self.adversarial_loss, fake_logits=fake_db)
        metrics = {"g_a": g_a, "g_b": g_b, "da_fake_logit": fake_da.mean(), "db_fake_logit": fake_db.mean()}
        if not phi:
            return g_a, g_b, metrics
        metrics.update(fm_a=fm_a, fm_b=fm_b)
        return (1 - phi) * g_a + phi * fm_a, (1 - phi) * g_b + phi * fm_b, metrics

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """w [adv_A + adv_B] + cycle + identity terms (mixed by the rate r_t when ``default_rate`` > 0)."""
        a, b = batch[DOMAIN_A], batch[DOMAIN_B]
        adv_a, adv_b, metrics = self._adversarial_terms(generated, state, batch, rng)
        cycle_a = self.lambda_a * self._reconstruction(generated["rec_a"], a)
        cycle_b = self.lambda_b * self._reconstruction(generated["rec_b"], b)
        adversarial, reconstruction = self.adversarial_weight * (adv_a + adv_b), cycle_a + cycle_b
        metrics.update(cycle_a=cycle_a, cycle_b=cycle_b)
        if self.lambda_identity > 0:
            idt_a = self.lambda_identity * self.lambda_b * self._reconstruction(generated["idt_a"], b)
            idt_b = self.lambda_identity * self.lambda_a * self._reconstruction(generated["idt_b"], a)
            reconstruction = reconstruction + idt_a + idt_b
            metrics.update(idt_a=idt_a, idt_b=idt_b)
        if not self.default_rate:
            return adversarial + reconstruction, (metrics, {})
        rate = jnp.where(state.step < self.gan_curriculum, self.starting_rate, self.default_rate)
        metrics.update(rate=rate)
        return (1 - rate) * adversarial + rate * reconstruction, (metrics, {})
