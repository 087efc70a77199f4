"""Conditional GAN (Mirza & Osindero 2014): G and D both receive the label y.

    min_G max_D  E_x[log D(x | y)] + E_z[log(1 - D(G(z | y) | y))]

with the adversarial loss chosen by name (``config.loss.adversarial``): the
paper's minimax game (or its non-saturating G loss) for the MLP cGAN, the
least-squares loss (Mao et al. 2017) for the DCGAN cGAN with a label embedding.
Generated images are conditioned on the labels of the real batch, so fake and
real labels follow the same distribution. With ``config.loss.diffaugment`` set, D
sees DiffAugment-ed real and generated images in both losses (``jaxgan.augment``).

With ``config.loss.gradient_penalty`` (WGAN-GP) or ``config.loss.r1`` set, D's loss adds the
penalties of ``jaxgan.methods.penalties`` on the critic s(x) = D(x, y) with the real batch's labels
y, at the images D's loss saw (``critic_scores`` says which of D's outputs are penalised).

Each step runs G once (``generator_forward``, the engine's shared forward): D updates on that
G(z|y), held fixed, then G's loss sees the updated D on the same G(z|y) (D then G, as in the
two-loss form this replaced, where each loss drew its own z and ran G again).
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
from jaxgan.methods.penalties import CriticPenalties


@dataclasses.dataclass(frozen=True)
class ConditionalGAN:
    generator: nn.Module
    discriminator: nn.Module
    num_classes: int
    latent_dim: int
    noise: str  # 'uniform' on [0, 1)^d (the paper's unit hypercube) or 'normal'.
    adversarial_loss: str
    diffaugment: Tuple[str, ...] = ()  # DiffAugment policy applied to D's inputs (Zhao et al. 2020).
    penalties: CriticPenalties = CriticPenalties()  # WGAN-GP and R1 on D's inputs; off by default.
    update_order: str = "discriminator_first"  # D updates on G(z|y), then G against the updated D.

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "ConditionalGAN":
        if not data.num_classes:
            raise ConfigError(f"method {config.method!r} needs labelled data; source {config.data.source!r} has no class labels")
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of {losses.ADVERSARIAL_LOSSES}")
        if config.model.noise not in ("uniform", "normal"):
            raise ConfigError(f"config.model.noise={config.model.noise!r}; use 'uniform' or 'normal'")
        discriminator = networks.build_from_config(config.model.discriminator, num_classes=data.num_classes)
        return cls(
            generator=networks.build_from_config(
                config.model.generator, num_classes=data.num_classes, image_shape=data.image_shape),
            discriminator=discriminator,
            num_classes=data.num_classes,
            latent_dim=config.model.latent_dim,
            noise=config.model.noise,
            adversarial_loss=config.loss.adversarial,
            # .get: runs saved before the key existed are restored without it.
            diffaugment=augment.parse_policy(config.loss.get("diffaugment", "")),
            penalties=CriticPenalties.from_config(config, discriminator),
        )

    def sample_noise(self, rng: jax.Array, n: int) -> jax.Array:
        """z ~ U[0, 1)^d or N(0, I) (``noise``); a generator with a ``noise_dim`` larger than d (the MLP
        G's ``dropout_noise``) gets its extra entries, its dropout masks' uniforms, after z."""
        z = (jax.random.uniform if self.noise == "uniform" else jax.random.normal)(rng, (n, self.latent_dim))
        noise_dim = getattr(self.generator, "noise_dim", lambda d: d)(self.latent_dim)
        if noise_dim == self.latent_dim:
            return z
        return jnp.concatenate([z, jax.random.uniform(jax.random.fold_in(rng, 1), (n, noise_dim - self.latent_dim))],
                               axis=-1)

    def generate(self, variables: Variables, z: jax.Array, labels: jax.Array) -> jax.Array:
        """G(z | y) in inference mode (running batch statistics; no dropout but masks drawn from z)."""
        return self.generator.apply(variables, z, labels, train=False)

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng, z_rng = jax.random.split(rng, 3)
        labels = batch["label"]
        z = self.sample_noise(z_rng, labels.shape[0])
        g_vars = self.generator.init({"params": g_rng, "dropout": g_rng}, z, labels, train=False)
        d_vars = self.discriminator.init({"params": d_rng, "dropout": d_rng}, batch["image"], labels, train=False)
        return dict(g_vars), dict(d_vars), {}

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array) -> Tuple[jax.Array, Dict[str, Any]]:
        """G(z|y) in training mode, z drawn from ``rng`` and y the real batch's labels: the step's one
        generator forward (``jaxgan.train_step``). Returns (images, G's updated collections): G's
        batch statistics move once per step, from this forward, as they did from G's loss before."""
        z_rng, drop_rng = jax.random.split(rng)
        z = self.sample_noise(z_rng, batch["label"].shape[0])
        return apply_train(self.generator, state.generator.variables(params), z, batch["label"], rng=drop_rng)

    def discriminator_inputs(self, batch: Batch, generated: jax.Array, rng: jax.Array) -> Tuple[jax.Array, jax.Array]:
        """(T(x), T(G(z|y))): the images ``discriminate_real_and_fake`` gives D for the same ``rng``. T is
        the DiffAugment policy (identity when empty), drawn separately for each input."""
        _, _, real_aug_rng, fake_aug_rng = jax.random.split(rng, 4)
        return (augment.diff_augment(batch["image"], real_aug_rng, self.diffaugment),
                augment.diff_augment(generated, fake_aug_rng, self.diffaugment))

    def discriminate_real_and_fake(self, params, state, batch: Batch, generated: jax.Array, rng: jax.Array
                                   ) -> Tuple[Any, Any, Dict[str, Any]]:
        """D's outputs on T(x) and T(G(z|y)) (``discriminator_inputs``), both with the batch's labels y;
        ``generated`` = G(z|y) is the step's forward, held fixed. Returns (real outputs, fake outputs,
        D's updated collections)."""
        real_rng, drop_rng, _, _ = jax.random.split(rng, 4)
        real, fake = self.discriminator_inputs(batch, generated, rng)
        d_vars = state.discriminator.variables(params)
        real_out, collections = apply_train(self.discriminator, d_vars, real, batch["label"], rng=real_rng)
        fake_out, collections = apply_train(
            self.discriminator, {**d_vars, **collections}, fake, batch["label"], rng=drop_rng)
        return real_out, fake_out, collections

    def critic_scores(self, outputs: Any) -> Tuple[jax.Array, ...]:
        """The scores of D's ``outputs`` that the penalties constrain: D's logit (every output of a D
        that returns several scores)."""
        return tuple(outputs) if isinstance(outputs, tuple) else (outputs,)

    def critic_penalty(self, params, state, batch: Batch, generated: jax.Array, rng: jax.Array,
                       collections: Dict[str, Any]) -> Tuple[jax.Array, Dict[str, jax.Array]]:
        """The configured penalties (``jaxgan.methods.penalties``) of each critic score s_k(x) = D(x, y)_k
        with the real batch's labels y, at the images D's loss saw for the same ``generated`` and ``rng``;
        (0, {}) when off. ``collections``: D's collections so far (the penalty's own updates are discarded)."""
        if not self.penalties.active:
            return jnp.zeros((), jnp.float32), {}
        real, fake = self.discriminator_inputs(batch, generated, rng)
        penalty_rng, drop_rng = jax.random.split(jax.random.fold_in(rng, 1))
        d_vars = {**state.discriminator.variables(params), **collections}

        def scores(x: jax.Array) -> Tuple[jax.Array, ...]:
            return self.critic_scores(apply_train(self.discriminator, d_vars, x, batch["label"], rng=drop_rng)[0])

        def critic(k: int) -> Callable[[jax.Array], jax.Array]:
            return lambda x: scores(x)[k]

        num_scores = len(jax.eval_shape(scores, real))
        return self.penalties(penalty_rng, *((critic(k), real, fake) for k in range(num_scores)))

    def discriminate_fake(self, generated: jax.Array, state, batch: Batch, rng: jax.Array) -> Any:
        """D's output on T(G(z|y)) for G's loss, ``generated`` = G(z|y) the step's forward. D runs in
        training mode (as when D trains), its collection updates discarded."""
        drop_rng, aug_rng = jax.random.split(rng)
        fake = augment.diff_augment(generated, aug_rng, self.diffaugment)
        return apply_train(self.discriminator, state.discriminator.variables(), fake, batch["label"], rng=drop_rng)[0]

    def discriminator_loss(self, params, state, batch: Batch, generated: jax.Array, rng: jax.Array):
        """-E[log D(x|y)] - E[log(1 - D(G(z|y)|y))] (or the chosen loss), G(z|y) held fixed, plus the
        configured penalties."""
        real_logits, fake_logits, collections = self.discriminate_real_and_fake(params, state, batch, generated, rng)
        loss = losses.discriminator_loss(self.adversarial_loss, real_logits=real_logits, fake_logits=fake_logits)
        penalty, penalty_metrics = self.critic_penalty(params, state, batch, generated, rng, collections)
        metrics = {"real_logit": real_logits.mean(), "fake_logit": fake_logits.mean(), **penalty_metrics}
        return loss + penalty, (metrics, collections)

    def generator_loss(self, generated: jax.Array, state, batch: Batch, rng: jax.Array):
        """The generator's side of the chosen loss on D(G(z|y)|y), D as updated this step."""
        fake_logits = self.discriminate_fake(generated, state, batch, rng)
        loss = losses.generator_loss(self.adversarial_loss, fake_logits=fake_logits)
        return loss, ({"fake_logit": fake_logits.mean()}, {})
