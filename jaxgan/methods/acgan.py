"""Auxiliary classifier GAN (AC-GAN; Odena et al. 2017).

G(c, z) generates an image of class c; D sees the image alone and outputs both a
source logit, P(S | X), and class logits, P(C | X) (``aux_classes`` of the
discriminator, set here to the data's number of classes). With

    L_S = E[log P(S = real | X_real)] + E[log P(S = fake | X_fake)]
    L_C = E[log P(C = c | X_real)] + E[log P(C = c | X_fake)]

D maximises L_S + L_C and G maximises L_C - L_S (Odena et al. 2017, sec. 3). As losses to minimise:

    loss_D = adv_D(real, fake) + lambda_C * (CE(P(C | X_real), c) + CE(P(C | X_fake), c))
    loss_G = adv_G(fake)       + lambda_C *  CE(P(C | X_fake), c)

with adv_D / adv_G the adversarial loss chosen by name (``config.loss.adversarial``;
'minimax' is -L_S exactly, 'non_saturating' G's usual -log P(S = real | X_fake)),
CE the softmax cross-entropy and lambda_C = ``config.loss.classification_weight``
(the paper weighs the two terms equally: 1). Generated images take the labels of the
real batch, so c follows the data's class distribution. The penalties of ``config.loss.gradient_penalty``
and ``config.loss.r1`` (``jaxgan.methods.penalties``) constrain the source logit P(S | X) only: the
class logits are a classifier, not a critic.
"""

from __future__ import annotations

import dataclasses
from typing import Tuple

import jax
import ml_collections

from jaxgan import losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, class_accuracy
from jaxgan.methods.cgan import ConditionalGAN


@dataclasses.dataclass(frozen=True)
class AuxiliaryClassifierGAN(ConditionalGAN):
    classification_weight: float = 1.0  # lambda_C.

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "AuxiliaryClassifierGAN":
        d_config = config.model.discriminator
        if "aux_classes" in d_config:
            raise ConfigError("model.discriminator.aux_classes is set by method 'acgan' to the data's number "
                              "of classes; remove it from the config")
        if d_config.get("conditioning") != "none":
            raise ConfigError(f"method 'acgan' needs a discriminator that does not see the label "
                              f"(it must classify the image): set model.discriminator.conditioning='none' "
                              f"(got {d_config.get('conditioning')!r})")
        weight = config.loss.get("classification_weight")
        if not isinstance(weight, (int, float)) or weight < 0:
            raise ConfigError(f"config.loss.classification_weight={weight!r}: method 'acgan' needs a weight >= 0 "
                              "for its class loss (Odena et al. 2017: 1)")
        method = super().from_config(config, data)
        discriminator = networks.build_from_config(d_config, num_classes=data.num_classes,
                                                   aux_classes=data.num_classes)
        return dataclasses.replace(method, discriminator=discriminator, classification_weight=float(weight))

    def critic_scores(self, outputs: Tuple[jax.Array, jax.Array]) -> Tuple[jax.Array]:
        """The source logit of D's (source logit, class logits)."""
        return (outputs[0],)

    def discriminator_loss(self, params, state, batch: Batch, generated: jax.Array, rng: jax.Array):
        """-(L_S + lambda_C L_C): the adversarial loss on the source logits plus the weighted class
        cross-entropy on real and generated images, plus the configured penalties."""
        (real_logits, real_classes), (fake_logits, fake_classes), collections = self.discriminate_real_and_fake(
            params, state, batch, generated, rng)
        labels = batch["label"]
        source_loss = losses.discriminator_loss(self.adversarial_loss, real_logits=real_logits,
                                                fake_logits=fake_logits)
        class_loss = (losses.classification_loss(logits=real_classes, labels=labels)
                      + losses.classification_loss(logits=fake_classes, labels=labels))
        penalty, penalty_metrics = self.critic_penalty(params, state, batch, generated, rng, collections)
        metrics = {
            "source_loss": source_loss, "class_loss": class_loss,
            "real_logit": real_logits.mean(), "fake_logit": fake_logits.mean(),
            "real_class_accuracy": class_accuracy(real_classes, labels),
            "fake_class_accuracy": class_accuracy(fake_classes, labels),
            **penalty_metrics,
        }
        return source_loss + self.classification_weight * class_loss + penalty, (metrics, collections)

    def generator_loss(self, generated: jax.Array, state, batch: Batch, rng: jax.Array):
        """-(L_C - L_S) on generated images: G's adversarial loss plus the weighted class cross-entropy."""
        fake_logits, fake_classes = self.discriminate_fake(generated, state, batch, rng)
        source_loss = losses.generator_loss(self.adversarial_loss, fake_logits=fake_logits)
        class_loss = losses.classification_loss(logits=fake_classes, labels=batch["label"])
        metrics = {"source_loss": source_loss, "class_loss": class_loss, "fake_logit": fake_logits.mean()}
        return source_loss + self.classification_weight * class_loss, (metrics, {})
