"""StackGAN (Zhang et al. 2017): a low-resolution stage and a refining stage, each with its own D.

G (``jaxgan.networks.stackgan.StackGANGenerator``) draws the stage-I image s_0 at half resolution
from noise z and the augmented condition c_0, and stage II refines s_0 to the full resolution with
c_1 (no new noise). D_0 judges images at half resolution, D_1 at full resolution; real images for
D_0 are the training images 2x2 average-pooled (x_0), x_1 = x. Each D is matching-aware (sec. 4:
negatives are generated images with their condition and real images with a mismatched one,
y' != y). With the adversarial terms f_real / f_fake / g of ``config.loss.adversarial``:

    loss_D = sum_i  f_real(D_i(x_i, y)) + (f_fake(D_i(s_i, y)) + f_fake(D_i(x_i, y'))) / 2
    loss_G = sum_i  g(D_i(s_i, y)) + lambda * KL(N(mu_i, Sigma_i) || N(0, I))

(eqs. 1-2 for stage I, 5-6 for stage II; the KL term is the conditioning augmentation's
regulariser, lambda = ``config.loss.kl_weight``, the paper's 1).

Schedule: the paper trains stage I, then stage II with stage I fixed. Here the stages train
concurrently, one step updating both, with the paper's gradient flow: stage II's gradient stops
at s_0 (inside the generator), so stage I learns from D_0 alone and stage II from D_1 alone. The
difference from the paper is only that stage II sees stage I improving instead of a finished
one. Samples (grids, ``jaxgan.sample``, ``jaxgan.evaluate``) are stage II's images.

Penalties (``config.loss.gradient_penalty``, ``config.loss.r1``; ``jaxgan.methods.penalties``) apply
to each stage's D at its own resolution, D_i(., y) with the real label y, at the real and generated
images of that stage that loss_D saw (x_i and s_i); the terms of the two stages are summed.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan import augment, losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train
from jaxgan.methods.matching import mismatched_labels
from jaxgan.methods.penalties import CriticPenalties
from jaxgan.networks.stackgan import StackGANDiscriminator, StackGANGenerator

Pair = Tuple[jax.Array, jax.Array]  # (half resolution, full resolution).


def half_resolution(images: jax.Array) -> jax.Array:
    """2x2 average pooling: [B, H, W, C] -> [B, H/2, W/2, C]."""
    b, h, w, c = images.shape
    return images.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def discriminator_stage_loss(loss_type: str, *, real, fake, mismatched) -> jax.Array:
    """f_real(D(x, y)) + (f_fake(D(s, y)) + f_fake(D(x, y'))) / 2 for one stage's logits."""
    return (losses.discriminator_real_loss(loss_type, logits=real)
            + (losses.discriminator_fake_loss(loss_type, logits=fake)
               + losses.discriminator_fake_loss(loss_type, logits=mismatched)) / 2)


@dataclasses.dataclass(frozen=True)
class StackGAN:
    generator: nn.Module
    discriminator: nn.Module
    num_classes: int
    latent_dim: int
    adversarial_loss: str
    kl_weight: float  # lambda.
    diffaugment: Tuple[str, ...] = ()  # DiffAugment policy on both of D's inputs (Zhao et al. 2020).
    penalties: CriticPenalties = CriticPenalties()  # WGAN-GP and R1 on each stage's D; off by default.

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "StackGAN":
        if not data.num_classes or data.num_classes < 2:
            raise ConfigError(f"method 'stackgan' needs labelled data with >= 2 classes (its D sees mismatched "
                              f"labels); source {config.data.source!r} has {data.num_classes}")
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        kl_weight = config.loss.get("kl_weight")
        if not isinstance(kl_weight, (int, float)) or isinstance(kl_weight, bool) or kl_weight < 0:
            raise ConfigError(f"config.loss.kl_weight={kl_weight!r}: method 'stackgan' needs a weight >= 0 for "
                              "the conditioning augmentation's KL term (Zhang et al. 2017: 1)")
        generator = networks.build_from_config(config.model.generator, num_classes=data.num_classes,
                                               image_shape=data.image_shape)
        discriminator = networks.build_from_config(config.model.discriminator, num_classes=data.num_classes)
        if not isinstance(generator, StackGANGenerator) or not isinstance(discriminator, StackGANDiscriminator):
            raise ConfigError("method 'stackgan' needs model.generator.name='stackgan_generator' and "
                              "model.discriminator.name='stackgan_discriminator' (two stages, two discriminators)")
        return cls(generator=generator, discriminator=discriminator, num_classes=data.num_classes,
                   latent_dim=config.model.latent_dim, adversarial_loss=config.loss.adversarial,
                   kl_weight=float(kl_weight), diffaugment=augment.parse_policy(config.loss.diffaugment),
                   penalties=CriticPenalties.from_config(config, discriminator))

    def sample_noise(self, rng: jax.Array, n: int) -> jax.Array:
        """[z, eps_0, eps_1] ~ N(0, I): the noise and both stages' conditioning-augmentation draws, so
        ``generate`` is a function of its inputs."""
        return jax.random.normal(rng, (n, self.generator.noise_dim(self.latent_dim)))

    def generate(self, variables: Variables, z: jax.Array, labels: jax.Array) -> jax.Array:
        """Stage II's image s_1 in inference mode."""
        return self.generator.apply(variables, z, labels, train=False)[1]

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng, z_rng = jax.random.split(rng, 3)
        labels = batch["label"]
        g_vars = self.generator.init(g_rng, self.sample_noise(z_rng, labels.shape[0]), labels, train=False)
        d_vars = self.discriminator.init(d_rng, self._real(batch), labels, train=False)
        return dict(g_vars), dict(d_vars), {}

    def _real(self, batch: Batch) -> Pair:
        return half_resolution(batch["image"]), batch["image"]

    def _fake(self, g_variables: Variables, batch: Batch, rng: jax.Array):
        """((s_0, s_1, CA statistics), G's updated collections) for the batch's labels."""
        z_rng, drop_rng = jax.random.split(rng)
        z = self.sample_noise(z_rng, batch["label"].shape[0])
        return apply_train(self.generator, g_variables, z, batch["label"], rng=drop_rng)

    def _augment(self, images: Pair, rng: jax.Array) -> Pair:
        low_rng, high_rng = jax.random.split(rng)
        return (augment.diff_augment(images[0], low_rng, self.diffaugment),
                augment.diff_augment(images[1], high_rng, self.diffaugment))

    def discriminator_loss(self, params, state, batch: Batch, rng: jax.Array):
        """Both stages' matching-aware losses, generated images held fixed."""
        fake_rng, label_rng, *rngs = jax.random.split(rng, 8)
        (s_0, s_1, _), _ = self._fake(state.generator.variables(), batch, fake_rng)
        labels = batch["label"]
        wrong = mismatched_labels(labels, label_rng, self.num_classes)
        variables = state.discriminator.variables(params)
        inputs = [(self._augment(images, aug_rng), y, drop_rng) for images, y, aug_rng, drop_rng in (
            (self._real(batch), labels, rngs[0], rngs[1]),
            (jax.lax.stop_gradient((s_0, s_1)), labels, rngs[2], rngs[3]),
            (self._real(batch), wrong, rngs[4], rngs[5]))]
        outputs = []
        for images, y, drop_rng in inputs:
            out, collections = apply_train(self.discriminator, variables, images, y, rng=drop_rng)
            variables = {**variables, **collections}
            outputs.append(out)
        (real_0, real_1), (fake_0, fake_1), (wrong_0, wrong_1) = outputs
        stage_0 = discriminator_stage_loss(self.adversarial_loss, real=real_0, fake=fake_0, mismatched=wrong_0)
        stage_1 = discriminator_stage_loss(self.adversarial_loss, real=real_1, fake=fake_1, mismatched=wrong_1)
        penalty, penalty_metrics = self.critic_penalty(variables, labels, real=inputs[0][0], fake=inputs[1][0],
                                                       rng=jax.random.fold_in(rng, 1))
        metrics = {"stage0_loss": stage_0, "stage1_loss": stage_1,
                   "stage0_real_logit": real_0.mean(), "stage0_fake_logit": fake_0.mean(),
                   "stage0_mismatched_logit": wrong_0.mean(),
                   "stage1_real_logit": real_1.mean(), "stage1_fake_logit": fake_1.mean(),
                   "stage1_mismatched_logit": wrong_1.mean(), **penalty_metrics}
        collections = {k: v for k, v in variables.items() if k != "params"}
        return stage_0 + stage_1 + penalty, (metrics, collections)

    def critic_penalty(self, variables: Variables, labels: jax.Array, *, real: Pair, fake: Pair, rng: jax.Array
                       ) -> Tuple[jax.Array, Dict[str, jax.Array]]:
        """The configured penalties of D_0(., y) at (x_0, s_0) and of D_1(., y) at (x_1, s_1), summed;
        (0, {}) when off. The other stage's input is held at the real image (its D is not evaluated
        in the result, so XLA drops it); the penalty's collection updates are discarded."""
        if not self.penalties.active:
            return jnp.zeros((), jnp.float32), {}
        penalty_rng, drop_rng = jax.random.split(rng)

        def critic(stage: int) -> Callable[[jax.Array], jax.Array]:
            def score(x: jax.Array) -> jax.Array:
                images = (x, real[1]) if stage == 0 else (real[0], x)
                return apply_train(self.discriminator, variables, images, labels, rng=drop_rng)[0][stage]
            return score

        return self.penalties(penalty_rng, *((critic(i), real[i], fake[i]) for i in (0, 1)))

    def generator_loss(self, params, state, batch: Batch, rng: jax.Array):
        """Both stages' adversarial losses on D_i(s_i, y) plus lambda times both KL terms."""
        fake_rng, aug_rng, drop_rng = jax.random.split(rng, 3)
        (s_0, s_1, ((mu_0, logvar_0), (mu_1, logvar_1))), collections = self._fake(
            state.generator.variables(params), batch, fake_rng)
        (fake_0, fake_1), _ = apply_train(self.discriminator, state.discriminator.variables(),
                                          self._augment((s_0, s_1), aug_rng), batch["label"], rng=drop_rng)
        adversarial_0 = losses.generator_loss(self.adversarial_loss, fake_logits=fake_0)
        adversarial_1 = losses.generator_loss(self.adversarial_loss, fake_logits=fake_1)
        kl = (losses.kl_standard_normal(mean=mu_0, log_variance=logvar_0)
              + losses.kl_standard_normal(mean=mu_1, log_variance=logvar_1))
        metrics = {"stage0_adversarial": adversarial_0, "stage1_adversarial": adversarial_1, "kl": kl}
        return adversarial_0 + adversarial_1 + self.kl_weight * kl, (metrics, collections)
