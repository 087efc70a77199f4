"""XGAN (Royer et al. 2017, "XGAN: Unsupervised Image-to-Image Translation for Many-to-Many Mappings",
sec. 3): a dual auto-encoder whose encoders e_a, e_b share their last layers (one embedding space) and
whose decoders d_a, d_b share their first layers (``jaxgan.networks.xgan``), trained so that the
embedding carries the semantics both domains share.

For a in domain a, b in domain b (the paper's D_1, D_2), with the translations g_ab = d_b(e_a(a)) and
g_ba = d_a(e_b(b)), the losses (sec. 3.2; the paper writes one direction, the other is symmetric):

    L_rec  = ||a - d_a(e_a(a))|| + ||b - d_b(e_b(b))||                        reconstruction
    L_dann = l_real(c(e_a(a))) + l_fake(c(e_b(b)))                            domain classifier c_dann
    L_sem  = ||e_a(a) - e_b(g_ab)|| + ||e_b(b) - e_a(g_ba)||                  semantic consistency
    L_gan  = D_a: l_real(D_a(a)) + l_fake(D_a(g_ba));  D_b: l_real(D_b(b)) + l_fake(D_b(g_ab))

    L_XGAN = omega_rec L_rec + omega_dann L_dann + omega_sem L_sem + omega_gan L_gan (+ omega_teach L_teach)

``||.||`` is the mean absolute (``loss.distance = 'l1'``) or mean squared (``'l2'``) difference over
elements and batch. l_real / l_fake are the terms of the adversarial loss named by
``loss.adversarial`` (GAN) and ``loss.dann`` (the domain classifier, 'non_saturating' = its binary
cross-entropy with domain a as label 1); the Ds and c_dann minimise their terms, the generator side
plays against them:

* GAN: the decoders minimise omega_gan [g(D_a(g_ba)) + g(D_b(g_ab))], g the named generator loss.
* Domain-adversarial: ``loss.dann_encoder = 'gradient_reversal'`` (the paper's gradient-reversal layer,
  Ganin et al. 2016): the encoders minimise -omega_dann L_dann, i.e. maximise c_dann's loss, the same
  gradient the reversal layer passes back; ``'swapped_labels'``: the encoders minimise
  omega_dann [l_real(c(e_b(b))) + l_fake(c(e_a(a)))], c_dann's loss with the domain labels swapped (the
  inverted-label loss of ADDA, Tzeng et al. 2017; bounded below, unlike the reversal).

The teacher loss (omega_teach, a pretrained face network distilled into the embedding) is not built:
it needs a network trained on the source domain, which jaxgan does not ship for faces.

The generator side runs every encoder and decoder once per step (``generator_forward``: e_a(a),
e_b(b), the four decodings with the shared layers run once per embedding, and the two re-encodings of
the translations); the discriminator side (D_a, D_b, c_dann) updates first on those outputs held fixed,
then the generator side against the updated one (``update_order = 'discriminator_first'``).

Inference: ``translate(..., direction='AtoB' | 'BtoA')`` gives d_b(e_a(x)) or d_a(e_b(x)), networks in
evaluation mode. Batches hold ``image_a`` and ``image_b`` from an unpaired source (``domains:``,
``unpaired:``) of one height and width.
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
from jaxgan.methods.base import Batch, DataInfo, SharedSpaceTranslation, Variables, apply_train, loss_weight

DOMAIN_A, DOMAIN_B = "image_a", "image_b"
DANN_ENCODER_LOSSES = ("gradient_reversal", "swapped_labels")
DISTANCES = {"l1": losses.l1_loss, "l2": losses.l2_loss}


class Generators(nn.Module):
    """The generator side: ``net`` (e_a, e_b, d_a, d_b, ``jaxgan.networks.xgan.XGANAutoEncoders``);
    ``__call__`` is the step's forward (module docstring)."""

    net: nn.Module

    def __call__(self, a: jax.Array, b: jax.Array, *, train: bool) -> Dict[str, jax.Array]:
        embedding_a, embedding_b = self.net.encode(a, "a", train=train), self.net.encode(b, "b", train=train)
        rec_a, fake_b = self.net.decode_both(embedding_a, train=train)
        fake_a, rec_b = self.net.decode_both(embedding_b, train=train)
        return {"embedding_a": embedding_a, "embedding_b": embedding_b, "rec_a": rec_a, "rec_b": rec_b,
                "fake_a": fake_a, "fake_b": fake_b,
                # e_b(d_b(e_a(a))) and e_a(d_a(e_b(b))): the translations' embeddings for L_sem.
                "embedding_ab": self.net.encode(fake_b, "b", train=train),
                "embedding_ba": self.net.encode(fake_a, "a", train=train)}

    def from_domain(self, x: jax.Array, domain: str) -> Tuple[jax.Array, jax.Array]:
        """(d_a(e(x)), d_b(e(x))) with e the encoder of ``domain``: a reconstruction and a translation."""
        return self.net.decode_both(self.net.encode(x, domain, train=False), train=False)

    def translate(self, x: jax.Array, direction: str) -> jax.Array:
        source, target = ("a", "b") if direction == "AtoB" else ("b", "a")
        return self.net.decode(self.net.encode(x, source, train=False), target, train=False)


class Discriminators(nn.Module):
    """The discriminator side: D_a judges domain a images, D_b domain b, c_dann the domain of an
    embedding (one logit: domain a). ``kind`` says which: 'images' -> (D_a(first), D_b(second)),
    'embeddings' -> c_dann's logits [n] of ``first`` and ``second`` (each seen as a 1x1 map)."""

    d_a: nn.Module
    d_b: nn.Module
    c_dann: nn.Module

    def __call__(self, kind: str, first: jax.Array, second: jax.Array, *, train: bool) -> Tuple[Any, Any]:
        if kind == "images":
            return self.d_a(first, train=train), self.d_b(second, train=train)
        return tuple(self.c_dann(e[:, None, None, :], train=train)[:, 0] for e in (first, second))


def _choice(config: ml_collections.ConfigDict, key: str, allowed: Sequence[str]) -> str:
    value = config.loss.get(key)
    if value not in allowed:
        raise ConfigError(f"config.loss.{key}={value!r} is not one of {tuple(allowed)}")
    return value


@dataclasses.dataclass(frozen=True)
class XGAN(SharedSpaceTranslation):
    generators: Generators
    discriminators: Discriminators
    adversarial_loss: str = "non_saturating"
    dann_loss: str = "non_saturating"
    dann_encoder_loss: str = "gradient_reversal"
    distance: str = "l1"
    omega_rec: float = 1.0
    omega_dann: float = 1.0
    omega_sem: float = 1.0
    omega_gan: float = 1.0
    update_order: str = "discriminator_first"
    panel_column_names: Tuple[str, ...] = ("a", "d_a(e_a(a))", "d_b(e_a(a))", "b", "d_b(e_b(b))", "d_a(e_b(b))")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "XGAN":
        a_shape, b_shape = data.shape(DOMAIN_A), data.shape(DOMAIN_B)
        if a_shape[:2] != b_shape[:2]:
            raise ConfigError(f"method 'xgan' shares layers between the domains' encoders and decoders, so their "
                              f"images need one height and width; A is {a_shape}, B {b_shape}: set "
                              "data.load_size/crop_size")
        if config.model.generator.get("name") != "xgan_autoencoders":
            raise ConfigError(f"method 'xgan' needs config.model.generator.name='xgan_autoencoders' (coupled "
                              f"encoders and decoders with shared layers), not {config.model.generator.get('name')!r}")
        if "domain_classifier" not in config.model:
            raise ConfigError("method 'xgan' needs config.model.domain_classifier (c_dann on the embedding), e.g. "
                              "dict(name='latent_discriminator', hidden=256)")
        return cls(
            generators=Generators(networks.build_from_config(config.model.generator, channels_a=a_shape[-1],
                                                             channels_b=b_shape[-1], image_size=tuple(a_shape[:2]))),
            discriminators=Discriminators(networks.build_from_config(config.model.discriminator),
                                          networks.build_from_config(config.model.discriminator),
                                          networks.build_from_config(config.model.domain_classifier, num_outputs=1)),
            adversarial_loss=_choice(config, "adversarial", losses.ADVERSARIAL_LOSSES),
            dann_loss=_choice(config, "dann", losses.ADVERSARIAL_LOSSES),
            dann_encoder_loss=_choice(config, "dann_encoder", DANN_ENCODER_LOSSES),
            distance=_choice(config, "distance", tuple(DISTANCES)),
            omega_rec=loss_weight(config, "omega_rec", "XGAN: omega_rec, the reconstruction weight"),
            omega_dann=loss_weight(config, "omega_dann", "XGAN: omega_d, the domain-adversarial weight"),
            omega_sem=loss_weight(config, "omega_sem", "XGAN: omega_s, the semantic consistency weight"),
            omega_gan=loss_weight(config, "omega_gan", "XGAN: omega_g, the GAN weight"),
        )

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        a, b = batch[DOMAIN_A], batch[DOMAIN_B]
        g_vars = self.generators.init(g_rng, a, b, train=False)
        e = jax.eval_shape(lambda: self.generators.apply(g_vars, a, b, train=False, mutable=False))["embedding_a"]
        z = jnp.zeros(e.shape, e.dtype)
        d_vars = self.discriminators.init(d_rng, a, b, z, method=lambda module, a, b, z: (
            module("images", a, b, train=False), module("embeddings", z, z, train=False)))
        return dict(g_vars), dict(d_vars), {}

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """Every encoding and decoding of the step, in training mode (module docstring)."""
        return apply_train(self.generators, state.generator.variables(params), batch[DOMAIN_A], batch[DOMAIN_B],
                           rng=rng)

    def _dann(self, logits_a: jax.Array, logits_b: jax.Array) -> jax.Array:
        """c_dann's loss: domain a labelled real (1), domain b fake (0)."""
        return losses.discriminator_loss(self.dann_loss, real_logits=logits_a, fake_logits=logits_b)

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """omega_gan [l_real(D_a(a)) + l_fake(D_a(g_ba)) + l_real(D_b(b)) + l_fake(D_b(g_ab))] + omega_dann L_dann."""
        real_rng, fake_rng, dann_rng = jax.random.split(rng, 3)
        variables = state.discriminator.variables(params)

        def run(kind, rng, first, second):
            nonlocal variables  # Each call's collections (batch statistics) feed the next.
            out, collections = apply_train(self.discriminators, variables, kind, first, second, rng=rng)
            variables = {**variables, **collections}
            return out

        real_a, real_b = run("images", real_rng, batch[DOMAIN_A], batch[DOMAIN_B])
        fake_a, fake_b = run("images", fake_rng, generated["fake_a"], generated["fake_b"])
        logits_a, logits_b = run("embeddings", dann_rng, generated["embedding_a"], generated["embedding_b"])
        d_a = losses.discriminator_loss(self.adversarial_loss, real_logits=real_a, fake_logits=fake_a)
        d_b = losses.discriminator_loss(self.adversarial_loss, real_logits=real_b, fake_logits=fake_b)
        dann = self._dann(logits_a, logits_b)
        # A logit of exactly 0 is a coin toss: it scores 1/2, not wrong on both sides.
        accuracy = 0.5 * (jnp.mean(jnp.heaviside(logits_a, 0.5)) + jnp.mean(jnp.heaviside(-logits_b, 0.5)))
        metrics = {"d_a": d_a, "d_b": d_b, "dann": dann, "dann_accuracy": accuracy,
                   "da_real_logit": real_a.mean(), "da_fake_logit": fake_a.mean(),
                   "db_real_logit": real_b.mean(), "db_fake_logit": fake_b.mean()}
        collections = {k: v for k, v in variables.items() if k != "params"}
        return self.omega_gan * (d_a + d_b) + self.omega_dann * dann, (metrics, collections)

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """omega_rec L_rec + omega_dann (encoders' side of L_dann) + omega_sem L_sem + omega_gan (decoders'
        GAN terms), the module docstring's terms."""
        judge_rng, dann_rng = jax.random.split(rng)
        variables = state.discriminator.variables()
        (fake_a, fake_b), _ = apply_train(self.discriminators, variables, "images", generated["fake_a"],
                                          generated["fake_b"], rng=judge_rng)
        (logits_a, logits_b), _ = apply_train(self.discriminators, variables, "embeddings", generated["embedding_a"],
                                              generated["embedding_b"], rng=dann_rng)
        distance = DISTANCES[self.distance]
        g_a = losses.generator_loss(self.adversarial_loss, fake_logits=fake_a)
        g_b = losses.generator_loss(self.adversarial_loss, fake_logits=fake_b)
        if self.dann_encoder_loss == "gradient_reversal":
            dann = -self._dann(logits_a, logits_b)
        else:
            dann = self._dann(logits_b, logits_a)
        terms = {
            "reconstruction": self.omega_rec * (distance(prediction=generated["rec_a"], target=batch[DOMAIN_A])
                                                + distance(prediction=generated["rec_b"], target=batch[DOMAIN_B])),
            "dann": self.omega_dann * dann,
            "semantic": self.omega_sem * (
                distance(prediction=generated["embedding_ab"], target=generated["embedding_a"])
                + distance(prediction=generated["embedding_ba"], target=generated["embedding_b"])),
            "gan": self.omega_gan * (g_a + g_b),
        }
        metrics = {"g_a": g_a, "g_b": g_b, "da_fake_logit": fake_a.mean(), "db_fake_logit": fake_b.mean(), **terms}
        return sum(terms.values()), (metrics, {})
