"""UNIT (Liu, Breuel & Kautz 2017, "Unsupervised Image-to-Image Translation Networks"): two VAE-GANs
whose encoders share their last layers and whose generators share their first, so that both domains
map to one latent space (``jaxgan.networks.unit``), trained with cycle consistency.

With E_i the encoders (latent mean mu_i = E_i(x_i)), G_i the generators, D_i the discriminators of
domain i in {a, b} and eps ~ N(0, I) drawn anew for each latent:

    z_a = E_a(a) + eps,  z_b = E_b(b) + eps                       the reparametrisation trick
    rec_a = G_a(z_a), rec_b = G_b(z_b)                              VAE reconstructions
    fake_b = G_b(z_a), fake_a = G_a(z_b)                            translations
    mu_ab = E_b(fake_b), mu_ba = E_a(fake_a)                        translations re-encoded
    cyc_a = G_a(mu_ab + eps), cyc_b = G_b(mu_ba + eps)              cycle reconstructions

The latent's variance is fixed at 1 (the authors' code, mingyuliutw/UNIT master ``networks.py``
``VAEGen``: "we assume the outputs are multivariate Gaussian distribution with mean = hiddens and
std_dev = all ones"; ``trainer.py`` ``UNIT_Trainer.gen_update`` decodes ``h + n``). Its KL term is
then 1/2 ||mu||^2 per example (eq. 3 of the paper with sigma = 1); the code's ``__compute_kl`` takes the
mean of mu^2 over every element, (2 / d) KL(N(mu, I) || N(0, I)) for a d-dimensional latent, and its
weights are set against that mean, so ``kl`` below computes it.

Losses to minimise (the paper's eqs. 3-6; weights and form of the code's ``gen_update`` and
``dis_update``, configs/unit_*.yaml), with LSGAN multi-scale Ds summed over their scales s:

    loss_G = w [sum_s g(D_a^s(fake_a)) + sum_s g(D_b^s(fake_b))]
           + lambda_rec (|rec_a - a| + |rec_b - b|) + lambda_kl (kl(mu_a) + kl(mu_b))
           + lambda_cyc (|cyc_a - a| + |cyc_b - b|) + lambda_cyc_kl (kl(mu_ab) + kl(mu_ba))
    loss_D = w [sum_s (f_real(D_a^s(a)) + f_fake(D_a^s(fake_a))) + the same for D_b on b, fake_b]

|.| the mean absolute error. The code's weights: gan_w 1, recon_x_w 10, recon_kl_w 0.01, recon_x_cyc_w
10, recon_kl_cyc_w 0.01 (the paper's lambda_0..4 = 10, 0.1, 100, 0.1, 100, sec. 2, divided by 10:
the same balance); ``config.loss.adversarial_weight`` (w), ``lambda_reconstruction``, ``lambda_kl``,
``lambda_cycle``, ``lambda_cycle_kl``. The code's LSGAN terms are unhalved (mean (D - 1)^2 for G,
mean D(fake)^2 + mean (D(real) - 1)^2 for D); jaxgan's 'least_squares' carries Mao et al.'s 1/2, so the
configs set w = 2 for gan_w 1.

The code updates D, then G (``train.py``: ``dis_update`` then ``gen_update``), both with the
generators at the start of the iteration: ``update_order = 'discriminator_first'``, and the step runs
the generator side once (``generator_forward``: 4 encodings, the 4 decodings of z_a and z_b with the
shared first layers run once per latent, 2 cycle decodings). The code's ``dis_update`` re-encodes
with its own noise draw; here D learns from this step's translations.

Test time uses the latent mean (the code's ``forward`` and ``sample``): ``translate(..., direction=
'AtoB' | 'BtoA')`` gives G_b(E_a(x)) or G_a(E_b(x)). Batches hold ``image_a`` and ``image_b`` from an
unpaired source (``domains:``, ``unpaired:``) of one height and width.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan import losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, SharedSpaceTranslation, Variables, apply_train, loss_weight

DOMAIN_A, DOMAIN_B = "image_a", "image_b"


def kl(mu: jax.Array) -> jax.Array:
    """The code's KL term of a unit-variance latent: mean(mu^2) over every element,
    = (2 / d) KL(N(mu, I) || N(0, I)) averaged over the batch, d = the latent's size per example."""
    d = mu[0].size
    return 2.0 / d * losses.kl_standard_normal(mean=mu, log_variance=jnp.zeros_like(mu))


class Generators(nn.Module):
    """The generator side: ``net`` (E_a, E_b, G_a, G_b, ``jaxgan.networks.unit.UNITGenerator``);
    ``__call__`` is the step's forward (module docstring), with the VAE noise drawn from ``key`` when
    ``train`` and the latent means used as they are otherwise."""

    net: nn.Module

    def __call__(self, a: jax.Array, b: jax.Array, key: jax.Array, *, train: bool) -> Dict[str, jax.Array]:
        keys = iter(jax.random.split(key, 4))

        def sample(mu: jax.Array) -> jax.Array:
            return mu + jax.random.normal(next(keys), mu.shape, mu.dtype) if train else mu

        mu_a, mu_b = self.net.encode(a, "a"), self.net.encode(b, "b")
        rec_a, fake_b = self.net.decode_both(sample(mu_a))
        fake_a, rec_b = self.net.decode_both(sample(mu_b))
        mu_ab, mu_ba = self.net.encode(fake_b, "b"), self.net.encode(fake_a, "a")
        return {"rec_a": rec_a, "fake_b": fake_b, "fake_a": fake_a, "rec_b": rec_b,
                "cyc_a": self.net.decode(sample(mu_ab), "a"), "cyc_b": self.net.decode(sample(mu_ba), "b"),
                "mu_a": mu_a, "mu_b": mu_b, "mu_ab": mu_ab, "mu_ba": mu_ba}

    def from_domain(self, x: jax.Array, domain: str) -> Tuple[jax.Array, jax.Array]:
        """(G_a(mu), G_b(mu)) for mu = E_domain(x): a reconstruction and a translation at the mean."""
        return self.net.decode_both(self.net.encode(x, domain))

    def translate(self, x: jax.Array, direction: str) -> jax.Array:
        source, target = ("a", "b") if direction == "AtoB" else ("b", "a")
        return self.net.decode(self.net.encode(x, source), target)


class Discriminators(nn.Module):
    """The discriminator side: D_a judges domain a images, D_b domain b (the code's dis_a, dis_b);
    each returns its list of logits, one per scale."""

    d_a: nn.Module
    d_b: nn.Module

    def __call__(self, image_a: jax.Array, image_b: jax.Array, *, train: bool):
        return self.d_a(image_a, train=train), self.d_b(image_b, train=train)



@dataclasses.dataclass(frozen=True)
class UNIT(SharedSpaceTranslation):
    generators: Generators
    discriminators: Discriminators
    adversarial_loss: str = "least_squares"
    adversarial_weight: float = 2.0
    lambda_reconstruction: float = 10.0
    lambda_kl: float = 0.01
    lambda_cycle: float = 10.0
    lambda_cycle_kl: float = 0.01
    update_order: str = "discriminator_first"
    panel_column_names: Tuple[str, ...] = ("a", "G_a(E_a(a))", "G_b(E_a(a))", "b", "G_b(E_b(b))", "G_a(E_b(b))")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "UNIT":
        a_shape, b_shape = data.shape(DOMAIN_A), data.shape(DOMAIN_B)
        if a_shape[:2] != b_shape[:2]:
            raise ConfigError(f"method 'unit' encodes both domains into one latent space, so their images need one "
                              f"height and width; A is {a_shape}, B {b_shape}: set data.load_size/crop_size")
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        if config.model.generator.get("name") != "unit_generator":
            raise ConfigError(f"method 'unit' needs config.model.generator.name='unit_generator' (coupled encoders "
                              f"and generators with shared layers), not {config.model.generator.get('name')!r}")
        return cls(
            generators=Generators(networks.build_from_config(config.model.generator, channels_a=a_shape[-1],
                                                             channels_b=b_shape[-1])),
            discriminators=Discriminators(networks.build_from_config(config.model.discriminator),
                                          networks.build_from_config(config.model.discriminator)),
            adversarial_loss=config.loss.adversarial,
            adversarial_weight=loss_weight(config, "adversarial_weight", "2 with least_squares: the code's gan_w 1"),
            lambda_reconstruction=loss_weight(config, "lambda_reconstruction", "UNIT code: recon_x_w 10"),
            lambda_kl=loss_weight(config, "lambda_kl", "UNIT code: recon_kl_w 0.01"),
            lambda_cycle=loss_weight(config, "lambda_cycle", "UNIT code: recon_x_cyc_w 10"),
            lambda_cycle_kl=loss_weight(config, "lambda_cycle_kl", "UNIT code: recon_kl_cyc_w 0.01"),
        )

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        a, b = batch[DOMAIN_A], batch[DOMAIN_B]
        g_vars = self.generators.init(g_rng, a, b, g_rng, train=False)
        d_vars = self.discriminators.init(d_rng, a, b, train=False)
        return dict(g_vars), dict(d_vars), {}

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """Every encoding and decoding of the step, in training mode, with the VAE noise from ``rng``."""
        return apply_train(self.generators, state.generator.variables(params), batch[DOMAIN_A], batch[DOMAIN_B],
                           rng, rng=rng)

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """w sum_s [f_real(D_a^s(a)) + f_fake(D_a^s(fake_a))] + the same for D_b on b and fake_b."""
        real_rng, fake_rng = jax.random.split(rng)
        variables = state.discriminator.variables(params)
        (real_a, real_b), collections = apply_train(self.discriminators, variables, batch[DOMAIN_A],
                                                    batch[DOMAIN_B], rng=real_rng)
        (fake_a, fake_b), collections = apply_train(self.discriminators, {**variables, **collections},
                                                    generated["fake_a"], generated["fake_b"], rng=fake_rng)

        def d_loss(real, fake):
            return sum(losses.discriminator_loss(self.adversarial_loss, real_logits=r, fake_logits=f)
                       for r, f in zip(real, fake))

        d_a, d_b = d_loss(real_a, fake_a), d_loss(real_b, fake_b)
        metrics = {"d_a": d_a, "d_b": d_b, "da_real_logit": real_a[0].mean(), "da_fake_logit": fake_a[0].mean(),
                   "db_real_logit": real_b[0].mean(), "db_fake_logit": fake_b[0].mean()}
        return self.adversarial_weight * (d_a + d_b), (metrics, collections)

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """loss_G of the module docstring: adversarial, reconstruction, KL, cycle and cycle-KL terms."""
        a, b = batch[DOMAIN_A], batch[DOMAIN_B]
        (fake_a, fake_b), _ = apply_train(self.discriminators, state.discriminator.variables(),
                                          generated["fake_a"], generated["fake_b"], rng=rng)

        def g_loss(fake):
            return sum(losses.generator_loss(self.adversarial_loss, fake_logits=f) for f in fake)

        def l1(key, target):
            return losses.l1_loss(prediction=generated[key], target=target)

        g_a, g_b = g_loss(fake_a), g_loss(fake_b)
        terms = {
            "reconstruction": self.lambda_reconstruction * (l1("rec_a", a) + l1("rec_b", b)),
            "kl": self.lambda_kl * (kl(generated["mu_a"]) + kl(generated["mu_b"])),
            "cycle": self.lambda_cycle * (l1("cyc_a", a) + l1("cyc_b", b)),
            "cycle_kl": self.lambda_cycle_kl * (kl(generated["mu_ab"]) + kl(generated["mu_ba"])),
        }
        loss = self.adversarial_weight * (g_a + g_b) + sum(terms.values())
        metrics = {"g_a": g_a, "g_b": g_b, "da_fake_logit": fake_a[0].mean(), "db_fake_logit": fake_b[0].mean(),
                   **terms}
        return loss, (metrics, {})
