"""Conditional GAN (Mirza & Osindero 2014): G and D both receive the label y.

    min_G max_D  E_x[log D(x | y)] + E_z[log(1 - D(G(z | y) | y))]

with the adversarial loss chosen by name (``config.loss.adversarial``): the
paper's minimax game (or its non-saturating G loss) for the MLP cGAN, the
least-squares loss (Mao et al. 2017) for the DCGAN cGAN with a label embedding.
Generated images are conditioned on the labels of the real batch, so fake and
real labels follow the same distribution. With ``config.loss.diffaugment`` set, D
sees DiffAugment-ed real and generated images in both losses (``jaxgan.augment``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Tuple

import flax.linen as nn
import jax
import ml_collections

from jaxgan import augment, losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train


@dataclasses.dataclass(frozen=True)
class ConditionalGAN:
    generator: nn.Module
    discriminator: nn.Module
    num_classes: int
    latent_dim: int
    noise: str  # 'uniform' on [0, 1)^d (the paper's unit hypercube) or 'normal'.
    adversarial_loss: str
    diffaugment: Tuple[str, ...] = ()  # DiffAugment policy applied to D's inputs (Zhao et al. 2020).

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "ConditionalGAN":
        if not data.num_classes:
            raise ConfigError(f"method {config.method!r} needs labelled data; source {config.data.source!r} has no class labels")
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of {losses.ADVERSARIAL_LOSSES}")
        if config.model.noise not in ("uniform", "normal"):
            raise ConfigError(f"config.model.noise={config.model.noise!r}; use 'uniform' or 'normal'")
        return cls(
            generator=networks.build_from_config(
                config.model.generator, num_classes=data.num_classes, image_shape=data.image_shape),
            discriminator=networks.build_from_config(config.model.discriminator, num_classes=data.num_classes),
            num_classes=data.num_classes,
            latent_dim=config.model.latent_dim,
            noise=config.model.noise,
            adversarial_loss=config.loss.adversarial,
            # .get: runs saved before the key existed are restored without it.
            diffaugment=augment.parse_policy(config.loss.get("diffaugment", "")),
        )

    def sample_noise(self, rng: jax.Array, n: int) -> jax.Array:
        if self.noise == "uniform":
            return jax.random.uniform(rng, (n, self.latent_dim))
        return jax.random.normal(rng, (n, self.latent_dim))

    def generate(self, variables: Variables, z: jax.Array, labels: jax.Array) -> jax.Array:
        """G(z | y) in inference mode (no dropout, running batch statistics)."""
        return self.generator.apply(variables, z, labels, train=False)

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng, z_rng = jax.random.split(rng, 3)
        labels = batch["label"]
        z = self.sample_noise(z_rng, labels.shape[0])
        g_vars = self.generator.init({"params": g_rng, "dropout": g_rng}, z, labels, train=False)
        d_vars = self.discriminator.init({"params": d_rng, "dropout": d_rng}, batch["image"], labels, train=False)
        return dict(g_vars), dict(d_vars), {}

    def _fake(self, g_variables: Variables, batch: Batch, rng: jax.Array) -> Tuple[jax.Array, Dict[str, Any]]:
        z_rng, drop_rng = jax.random.split(rng)
        z = self.sample_noise(z_rng, batch["label"].shape[0])
        return apply_train(self.generator, g_variables, z, batch["label"], rng=drop_rng)

    def discriminate_real_and_fake(self, params, state, batch: Batch, rng: jax.Array
                                   ) -> Tuple[Any, Any, Dict[str, Any]]:
        """D's outputs on T(x) and T(G(z|y)), both with the batch's labels y, G held fixed;
        T is the DiffAugment policy (identity when empty), drawn separately for each input.
        Returns (real outputs, fake outputs, D's updated collections)."""
        # jax.random.split is prefix-stable: without augmentation the draws are those of a 3-way split.
        fake_rng, real_rng, drop_rng, real_aug_rng, fake_aug_rng = jax.random.split(rng, 5)
        fake, _ = self._fake(state.generator.variables(), batch, fake_rng)
        fake = augment.diff_augment(jax.lax.stop_gradient(fake), fake_aug_rng, self.diffaugment)
        real = augment.diff_augment(batch["image"], real_aug_rng, self.diffaugment)
        d_vars = state.discriminator.variables(params)
        real_out, collections = apply_train(self.discriminator, d_vars, real, batch["label"], rng=real_rng)
        fake_out, collections = apply_train(
            self.discriminator, {**d_vars, **collections}, fake, batch["label"], rng=drop_rng)
        return real_out, fake_out, collections

    def discriminate_fake(self, params, state, batch: Batch, rng: jax.Array) -> Tuple[Any, Dict[str, Any]]:
        """D's output on T(G(z|y)) with G's ``params`` being trained; returns (output, G's updated
        collections). D runs in training mode (as when D trains), its collection updates discarded."""
        fake_rng, drop_rng, aug_rng = jax.random.split(rng, 3)
        fake, collections = self._fake(state.generator.variables(params), batch, fake_rng)
        fake = augment.diff_augment(fake, aug_rng, self.diffaugment)
        fake_out, _ = apply_train(self.discriminator, state.discriminator.variables(), fake, batch["label"], rng=drop_rng)
        return fake_out, collections

    def discriminator_loss(self, params, state, batch: Batch, rng: jax.Array):
        """-E[log D(x|y)] - E[log(1 - D(G(z|y)|y))] (or the chosen loss), fakes held fixed."""
        real_logits, fake_logits, collections = self.discriminate_real_and_fake(params, state, batch, rng)
        loss = losses.discriminator_loss(self.adversarial_loss, real_logits=real_logits, fake_logits=fake_logits)
        metrics = {"real_logit": real_logits.mean(), "fake_logit": fake_logits.mean()}
        return loss, (metrics, collections)

    def generator_loss(self, params, state, batch: Batch, rng: jax.Array):
        """The generator's side of the chosen loss on D(G(z|y)|y)."""
        fake_logits, collections = self.discriminate_fake(params, state, batch, rng)
        loss = losses.generator_loss(self.adversarial_loss, fake_logits=fake_logits)
        return loss, ({"fake_logit": fake_logits.mean()}, collections)
