"""Worked example: a new label-conditional method in one file, outside the jaxgan package.

The relativistic average GAN (RaSGAN, Jolicoeur-Martineau 2019) on the DCGAN cGAN's
networks. D's output C(x|y) is read relative to the average of the other kind:

    L_D = -E_r[log s(C(x_r|y) - E_f C(x_f|y))] - E_f[log(1 - s(C(x_f|y) - E_r C(x_r|y)))]
    L_G = -E_f[log s(C(x_f|y) - E_r C(x_r|y))] - E_r[log(1 - s(C(x_r|y) - E_f C(x_f|y)))]

What a method needs: subclass (or write from scratch) something with ``from_config``,
``init``, ``sample_noise``, ``generate`` and the two losses ``(params, state, batch,
rng) -> (loss, (metrics, collections))``, or, as the cGAN does, a ``generator_forward`` run
once per step and the losses ``discriminator_loss(params, state, batch, generated, rng)`` and
``generator_loss(generated, state, batch, rng)`` (``jaxgan.methods.base.SharedForward``);
here the cGAN's forward and D passes are reused and only the losses change. Name it in the config by import path, ``"module:Class"``. Run from
the repository root (so ``examples`` is importable), like any config:

    python -m jaxgan.main --config examples/relativistic_cgan.py --workdir runs/ragan
    python -m jaxgan.sample --workdir runs/ragan --out ragan.png
"""

import jax

from jaxgan import losses
from jaxgan.config import base_config
from jaxgan.methods.base import apply_train
from jaxgan.methods.cgan import ConditionalGAN


def relativistic_loss(more_real, less_real):
    """-E[log s(a - E b)] - E[log(1 - s(b - E a))]: ``more_real`` should score above ``less_real``."""
    return (losses.discriminator_real_loss("non_saturating", logits=more_real - less_real.mean())
            + losses.discriminator_fake_loss("non_saturating", logits=less_real - more_real.mean()))


class RelativisticCGAN(ConditionalGAN):
    def discriminator_loss(self, params, state, batch, generated, rng):
        real, fake, collections = self.discriminate_real_and_fake(params, state, batch, generated, rng)
        return relativistic_loss(real, fake), ({"real_logit": real.mean(), "fake_logit": fake.mean()}, collections)

    def generator_loss(self, generated, state, batch, rng):
        fake_rng, real_rng = jax.random.split(rng)
        fake = self.discriminate_fake(generated, state, batch, fake_rng)
        real, _ = apply_train(self.discriminator, state.discriminator.variables(), batch["image"], batch["label"],
                              rng=real_rng)
        return relativistic_loss(fake, real), ({"fake_logit": fake.mean()}, {})


def get_config():
    config = base_config()
    config.method = "examples.relativistic_cgan:RelativisticCGAN"
    config.model.generator = dict(name="dcgan_generator", features=(64, 32), embed_dim=50)
    config.model.discriminator = dict(name="dcgan_discriminator", features=(32, 64), embed_dim=50,
                                      batch_norm=False)
    config.train.steps = 5000
    config.train.ema_decay = 0.999
    return config
