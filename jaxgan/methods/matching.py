"""Matching-aware discriminator (GAN-CLS, Reed et al. 2016, Algorithm 1).

A conditional D that only ever sees real images with their own labels as "real" can
learn to ignore the label. The matching-aware D is also shown real images with a
wrong label, y' = (y + u) mod K with u ~ U{1, ..., K-1} (never the right one), as
"fake". Three pairs per step: (x, y) real and matched, (G(z, y), y) generated,
(x, y') real but mismatched.

``config.model.discriminator_structure`` chooses how D scores them:

* 'joint' (GAN-CLS): one score s(x, y) for "realistic and matched", with the
  adversarial terms f_real / f_fake of ``config.loss.adversarial``:
      loss_D = f_real(s(x, y)) + (1 - w) f_fake(s(G(z, y), y)) + w f_fake(s(x, y'))
      loss_G = g(s(G(z, y), y))
  with w = ``config.loss.mismatch_weight`` (GAN-CLS: 1/2; 0 is the plain conditional GAN's loss).
* 'separate': a realism score r(x) from the image alone (the configured network with
  conditioning='none') and a match score m(x, y) from image and label (the configured
  network); realism is trained real vs generated, match is trained matched vs
  mismatched on real images, and G fools both:
      loss_D = f_real(r(x)) + f_fake(r(G(z, y))) + f_real(m(x, y)) + f_fake(m(x, y'))
      loss_G = g(r(G(z, y))) + g(m(G(z, y), y))
  so a realistic but mismatched pair gets a high r and a low m. Both networks run on
  every pair (one Flax module), and the scores not in loss_D are left unused.

Penalties (``config.loss.gradient_penalty``, ``config.loss.r1``; ``jaxgan.methods.penalties``) are
taken with the real label y: on s(., y) for 'joint'; for 'separate' on both r(.) and m(., y), each
penalised on its own at the same points (interpolates of x and G(z, y), or real x for R1), since G
climbs both scores on its images; the mismatched pairs (x, y') add no penalty points (labels cannot
be interpolated, and their images are the real x).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Tuple

import flax.linen as nn
import jax
import ml_collections

from jaxgan import augment, losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, apply_train
from jaxgan.methods.cgan import ConditionalGAN

STRUCTURES = ("joint", "separate")


class RealismAndMatch(nn.Module):
    """The 'separate' discriminator: (x, y) -> (realism score r(x), match score m(x, y))."""

    realism: nn.Module
    match: nn.Module

    def __call__(self, x: jax.Array, labels: jax.Array, *, train: bool) -> Tuple[jax.Array, jax.Array]:
        return self.realism(x, labels, train=train), self.match(x, labels, train=train)


def mismatched_labels(labels: jax.Array, rng: jax.Array, num_classes: int) -> jax.Array:
    """y' = (y + u) mod K, u ~ U{1, ..., K-1} per example: uniform over the K-1 wrong labels."""
    return (labels + jax.random.randint(rng, labels.shape, 1, num_classes)) % num_classes


@dataclasses.dataclass(frozen=True)
class MatchingAwareGAN(ConditionalGAN):
    structure: str = "joint"
    mismatch_weight: float = 0.5  # w of the joint loss (module docstring).

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "MatchingAwareGAN":
        structure = config.model.get("discriminator_structure")
        if structure not in STRUCTURES:
            raise ConfigError(f"config.model.discriminator_structure={structure!r} is not one of {STRUCTURES}")
        if data.num_classes is not None and data.num_classes < 2:
            raise ConfigError(f"method 'matching_aware' needs >= 2 classes to draw a wrong label; "
                              f"the data has {data.num_classes}")
        d_config = dict(config.model.discriminator)
        if d_config.get("conditioning") == "none":
            raise ConfigError("method 'matching_aware' scores (image, label) pairs: model.discriminator.conditioning "
                              "must not be 'none' (use 'concat' or 'projection')")
        weight = config.loss.get("mismatch_weight", 0.5)
        if not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
            raise ConfigError(f"config.loss.mismatch_weight={weight!r} must be in [0, 1]: the share of D's fake "
                              "term given to real images with a wrong label (GAN-CLS: 0.5)")
        if structure == "separate" and weight != 0.5:
            raise ConfigError("config.loss.mismatch_weight weighs the joint score's terms; "
                              "discriminator_structure='separate' trains its match score on matched vs "
                              "mismatched pairs alone: leave mismatch_weight at 0.5 or use 'joint'")
        method = super().from_config(config, data)
        if structure == "joint":
            return dataclasses.replace(method, structure=structure, mismatch_weight=float(weight))
        if "conditioning" not in d_config:
            raise ConfigError(f"discriminator_structure='separate' builds the realism network as the configured "
                              f"discriminator with conditioning='none'; {d_config['name']!r} has no 'conditioning' "
                              f"option (use 'dcgan_discriminator')")
        realism = networks.build_from_config({**d_config, "conditioning": "none"}, num_classes=data.num_classes)
        return dataclasses.replace(method, structure=structure,
                                   discriminator=RealismAndMatch(realism=realism, match=method.discriminator))

    def discriminate_mismatched(self, params, state, batch: Batch, rng: jax.Array, collections: Dict[str, Any]
                                ) -> Tuple[Any, Dict[str, Any]]:
        """D's output on (T(x), y') for real x and wrong labels y', with D's ``collections`` so far;
        returns (output, updated collections)."""
        label_rng, aug_rng, drop_rng = jax.random.split(rng, 3)
        wrong = mismatched_labels(batch["label"], label_rng, self.num_classes)
        real = augment.diff_augment(batch["image"], aug_rng, self.diffaugment)
        variables = {**state.discriminator.variables(params), **collections}
        return apply_train(self.discriminator, variables, real, wrong, rng=drop_rng)

    def discriminator_loss(self, params, state, batch: Batch, generated: jax.Array, rng: jax.Array):
        """The joint GAN-CLS loss, or the realism + match losses (see the module docstring), plus the
        configured penalties."""
        pairs_rng, wrong_rng = jax.random.split(rng)
        real, fake, collections = self.discriminate_real_and_fake(params, state, batch, generated, pairs_rng)
        wrong, collections = self.discriminate_mismatched(params, state, batch, wrong_rng, collections)
        penalty, penalty_metrics = self.critic_penalty(params, state, batch, generated, pairs_rng, collections)
        if self.structure == "joint":
            w = self.mismatch_weight
            loss = (losses.discriminator_real_loss(self.adversarial_loss, logits=real)
                    + (1 - w) * losses.discriminator_fake_loss(self.adversarial_loss, logits=fake)
                    + w * losses.discriminator_fake_loss(self.adversarial_loss, logits=wrong))
            metrics = {"real_score": real.mean(), "fake_score": fake.mean(), "mismatched_score": wrong.mean(),
                       **penalty_metrics}
            return loss + penalty, (metrics, collections)
        (realism_real, match_real), (realism_fake, _), (_, match_wrong) = real, fake, wrong
        realism_loss = losses.discriminator_loss(self.adversarial_loss, real_logits=realism_real,
                                                 fake_logits=realism_fake)
        match_loss = losses.discriminator_loss(self.adversarial_loss, real_logits=match_real,
                                               fake_logits=match_wrong)
        metrics = {"realism_loss": realism_loss, "match_loss": match_loss,
                   "real_realism": realism_real.mean(), "fake_realism": realism_fake.mean(),
                   "real_match": match_real.mean(), "mismatched_match": match_wrong.mean(), **penalty_metrics}
        return realism_loss + match_loss + penalty, (metrics, collections)

    def generator_loss(self, generated: jax.Array, state, batch: Batch, rng: jax.Array):
        """G fools the joint score, or both the realism and the match score."""
        fake = self.discriminate_fake(generated, state, batch, rng)
        if self.structure == "joint":
            loss = losses.generator_loss(self.adversarial_loss, fake_logits=fake)
            return loss, ({"fake_score": fake.mean()}, {})
        realism, match = fake
        realism_loss = losses.generator_loss(self.adversarial_loss, fake_logits=realism)
        match_loss = losses.generator_loss(self.adversarial_loss, fake_logits=match)
        metrics = {"realism_loss": realism_loss, "match_loss": match_loss,
                   "fake_realism": realism.mean(), "fake_match": match.mean()}
        return realism_loss + match_loss, (metrics, {})
