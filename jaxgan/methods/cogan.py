"""CoGAN (Liu & Tuzel 2016, "Coupled Generative Adversarial Networks"): two GANs, one per domain,
whose generators share their first layers and whose discriminators share their last
(``jaxgan.networks.cogan``), learn a joint distribution of two domains from samples of each marginal
alone: one z gives a corresponding pair (G_a(z), G_b(z)). It generates; it does not translate.

The paper's game (sec. 3, eq. 4) is two GANs played at once:

    max_{g_a, g_b} min_{f_a, f_b}  E_a[-log f_a(a)] + E_z[-log(1 - f_a(g_a(z)))]
                                 + E_b[-log f_b(b)] + E_z[-log(1 - f_b(g_b(z)))]

As losses to minimise, with the terms of ``config.loss.adversarial`` (``jaxgan.losses``; the authors'
PyTorch port, mingyuliutw/CoGAN ``cogan_pytorch/src/trainer_cogan_mnistedge.py``, trains G with the
cross-entropy to the 'real' label: 'non_saturating'):

    loss_D = f_real(D_a(a)) + f_fake(D_a(G_a(z))) + f_real(D_b(b)) + f_fake(D_b(G_b(z)))
    loss_G = g(D_a(G_a(z))) + g(D_b(G_b(z)))

(the port averages the two domains' cross-entropies, half of these sums). z ~ N(0, I) of
``config.model.latent_dim`` = 100 (the port's ``torch.randn(batch, 100)``). Each step draws one z per
example and runs the generators once (``generator_forward``); D updates, then G against the new D
(the port's ``dis_update`` then ``gen_update``; the port redraws z for G's update).

The batch's ``image_a`` and ``image_b`` come from two unpaired domains (``domains:A|B``); no example of
one corresponds to one of the other. Panels (``panel_columns``) show pairs from fixed noise, G_a(z) beside
G_b(z), one row per z (the held-out batch the engine passes only sets the number of rows).

The paper's measure (sec. 5, digits): for tasks whose second domain is a known function T of the
first (digits -> their edges, digits -> their negatives), the ratio of pixels on which the generated
pair agrees, T(G_a(z)) against G_b(z): ``pair_agreement`` (pure, on images; ``jaxgan.evaluate`` scores
10,000 pairs of ``CoGAN.generate_pairs``, as the paper), with T named by ``config.model.pair_relation``
('edges', 'negative', or '' for none). A pixel ratio punishes a pair that draws the same digit a pixel
apart as much as two different digits, so ``jaxgan.evaluate`` also reads each image of a pair with its
domain's digit classifier: ``label_agreement``, how often both show the same digit.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import flax.linen as nn
import jax
import ml_collections
import numpy as np

from jaxgan import images, losses, networks
from jaxgan.data import derived
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train

DOMAIN_A, DOMAIN_B = "image_a", "image_b"
PANEL_SEED = 0  # The panels' noise: fixed, so panels of different steps show the same z.
# T of the paper's digit tasks on uint8 [n, H, W] images: A = digits and edges (the authors' grey edges, or
# jaxgan's binary outline), B = digits and negatives (the built-in domains builtin:mnist/grey_edges, edges
# and negative apply the same functions).
RELATIONS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "edges": derived.edges,
    "grey_edges": derived.grey_edges,
    "negative": lambda x: 255 - x,
}


def pair_agreement(first: np.ndarray, second: np.ndarray, relation: str) -> float:
    """The fraction of pixels where T(first) and second agree, both binarised at the middle grey:
    images [N, H, W, 1] in [-1, 1] (as generated), mapped to uint8 by ``jaxgan.images.to_uint8``; T is
    ``RELATIONS[relation]`` on the uint8 image; a pixel is 'on' when > 127 (the threshold
    ``derived.edges`` draws strokes with). Liu & Tuzel 2016, sec. 5: the pixel agreement ratio."""
    if relation not in RELATIONS:
        raise ConfigError(f"pair relation {relation!r} is not one of {sorted(RELATIONS)}")
    first, second = images.to_uint8(first), images.to_uint8(second)
    if first.shape != second.shape or first.ndim != 4 or first.shape[-1] != 1:
        raise ConfigError(f"pair agreement compares grey image pairs [N, H, W, 1]; got {first.shape} and "
                          f"{second.shape}")
    expected = RELATIONS[relation](first[..., 0]) > 127
    return float(np.mean(expected == (second[..., 0] > 127)))


def apply_relation(first: np.ndarray, relation: str) -> np.ndarray:
    """T(first) of grey images [N, H, W, 1] in [-1, 1] as images in [-1, 1]: ``RELATIONS[relation]`` on their
    uint8 form (``jaxgan.images.to_uint8``), e.g. the real second images of held-out pairs (x, T(x))."""
    if relation not in RELATIONS:
        raise ConfigError(f"pair relation {relation!r} is not one of {sorted(RELATIONS)}")
    return RELATIONS[relation](images.to_uint8(first)[..., 0])[..., None].astype(np.float32) / 127.5 - 1.0


def agreement_baselines(real_first: np.ndarray, relation: str, seed: int = 0,
                        labels: Optional[np.ndarray] = None) -> Dict[str, float]:
    """What :func:`pair_agreement` gives without pixel correspondence, to read a run's ratio against, from
    real images of the first domain [N, H, W, 1] in [-1, 1] (N >= 2): 'unrelated', T of each image against
    T of another (the images shuffled, each against the next); 'constant', the best image of one colour
    as the second of every pair (every pixel on, or every pixel off); with their class ``labels`` [N],
    'same_class', T of each image against T of another image of its class (each class shuffled, each
    against the next; a class of one image is left out): the same digit drawn by another hand. An edge
    map is mostly background, so all are high for 'edges' (MNIST test digits: 0.805, 0.870, 0.816)."""
    if relation not in RELATIONS:
        raise ConfigError(f"pair relation {relation!r} is not one of {sorted(RELATIONS)}")
    rng = np.random.default_rng(seed)
    expected = RELATIONS[relation](images.to_uint8(real_first)[..., 0]) > 127
    shuffled = expected[rng.permutation(len(expected))]
    on = float(np.mean(expected))
    baselines = {"unrelated": float(np.mean(shuffled == np.roll(shuffled, 1, axis=0))), "constant": max(on, 1.0 - on)}
    if labels is not None:
        classes = [rng.permutation(np.flatnonzero(labels == k)) for k in np.unique(labels)]
        agreeing = [np.mean(expected[c] == expected[np.roll(c, 1)], axis=(1, 2)) for c in classes if len(c) > 1]
        if not agreeing:
            raise ConfigError("the same-class baseline needs two real images of one class")
        baselines["same_class"] = float(np.mean(np.concatenate(agreeing)))
    return baselines


def label_agreement(labels_a: np.ndarray, labels_b: np.ndarray, num_classes: int) -> Dict[str, Any]:
    """How often the two images of a generated pair show the same class, each read by its own domain's
    label classifier: 'agreement' = mean_i [l_a,i = l_b,i] over the N pairs (labels_x [N], the argmax
    classes of domain x's images). 'independent' = sum_k p_a(k) p_b(k), p_x(k) the fraction of domain x's
    images read as k: what pairs drawn independently with these class frequencies agree on (1/K for
    balanced classes), the chance level to read 'agreement' against. 'counts_a', 'counts_b': images read
    as each class (a class one generator has dropped shows as a count near 0)."""
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    if labels_a.shape != labels_b.shape or labels_a.ndim != 1 or not len(labels_a):
        raise ConfigError(f"label agreement compares two label vectors [N] of one length; got {labels_a.shape} "
                          f"and {labels_b.shape}")
    counts_a, counts_b = (np.bincount(labels, minlength=num_classes) for labels in (labels_a, labels_b))
    return {"agreement": float(np.mean(labels_a == labels_b)),
            "independent": float(np.dot(counts_a, counts_b)) / len(labels_a) ** 2,
            "counts_a": counts_a.tolist(), "counts_b": counts_b.tolist()}


@dataclasses.dataclass(frozen=True)
class CoGAN:
    generator: nn.Module  # (G_a(z), G_b(z)): jaxgan.networks.cogan.CoGANGenerator.
    discriminator: nn.Module  # (D_a(a), D_b(b)): jaxgan.networks.cogan.CoGANDiscriminator.
    adversarial_loss: str = "non_saturating"
    latent_dim: int = 100
    pair_relation: str = ""
    update_order: str = "discriminator_first"
    panel_column_names: Tuple[str, ...] = ("G_a(z)", "G_b(z)")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "CoGAN":
        a_shape, b_shape = data.shape(DOMAIN_A), data.shape(DOMAIN_B)
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        if config.model.noise != "normal":
            raise ConfigError(f"config.model.noise={config.model.noise!r}: method 'cogan' draws z ~ N(0, I) "
                              "(the authors' torch.randn); set it to 'normal'")
        relation = config.model.get("pair_relation", "")
        if relation and (relation not in RELATIONS or a_shape[-1] != 1 or b_shape[-1] != 1):
            raise ConfigError(f"config.model.pair_relation={relation!r} must be '' or one of {sorted(RELATIONS)} "
                              f"on grey domains (A is {a_shape}, B {b_shape})")
        return cls(
            generator=networks.build_from_config(config.model.generator, channels_a=a_shape[-1],
                                                 channels_b=b_shape[-1]),
            discriminator=networks.build_from_config(config.model.discriminator),
            adversarial_loss=config.loss.adversarial,
            latent_dim=config.model.latent_dim,
            pair_relation=relation,
        )

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        z = self.sample_noise(g_rng, 1)
        g_vars = self.generator.init(g_rng, z, train=False)
        d_vars = self.discriminator.init(d_rng, batch[DOMAIN_A][:1], batch[DOMAIN_B][:1], train=False)
        return dict(g_vars), dict(d_vars), {}

    def sample_noise(self, rng: jax.Array, n: int) -> jax.Array:
        return jax.random.normal(rng, (n, self.latent_dim))

    def generate(self, variables: Variables, z: jax.Array) -> Tuple[jax.Array, jax.Array]:
        """(G_a(z), G_b(z)) at test time (batch norm's running averages)."""
        return self.generator.apply(variables, z, train=False)

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """G_a(z) | G_b(z) for fixed z, as many rows as the batch has examples."""
        return self.generate(variables, self.sample_noise(jax.random.PRNGKey(PANEL_SEED),
                                                          batch[DOMAIN_A].shape[0]))

    def generate_pairs(self, variables: Variables, n: int, rng: jax.Array, batch_size: int = 1000
                       ) -> Tuple[np.ndarray, np.ndarray]:
        """``n`` pairs (G_a(z), G_b(z)) at test time as numpy arrays [n, H, W, C], z drawn from
        ``fold_in(rng, s)`` for the batch of ``batch_size`` starting at pair s."""
        generate = jax.jit(lambda key, size: self.generate(variables, self.sample_noise(key, size)),
                           static_argnums=1)
        pairs = [jax.device_get(generate(jax.random.fold_in(rng, s), min(batch_size, n - s)))
                 for s in range(0, n, batch_size)]
        first, second = (np.concatenate(side) for side in zip(*pairs))
        return first, second

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """{'fake_a': G_a(z), 'fake_b': G_b(z)} for one z per example, in training mode."""
        z_rng, dropout_rng = jax.random.split(rng)
        z = self.sample_noise(z_rng, batch[DOMAIN_A].shape[0])
        (fake_a, fake_b), collections = apply_train(self.generator, state.generator.variables(params), z,
                                                    rng=dropout_rng)
        return {"fake_a": fake_a, "fake_b": fake_b}, collections

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """f_real(D_a(a)) + f_fake(D_a(G_a(z))) + f_real(D_b(b)) + f_fake(D_b(G_b(z)))."""
        real_rng, fake_rng = jax.random.split(rng)
        variables = state.discriminator.variables(params)
        (real_a, real_b), collections = apply_train(self.discriminator, variables, batch[DOMAIN_A],
                                                    batch[DOMAIN_B], rng=real_rng)
        (fake_a, fake_b), collections = apply_train(self.discriminator, {**variables, **collections},
                                                    generated["fake_a"], generated["fake_b"], rng=fake_rng)
        d_a = losses.discriminator_loss(self.adversarial_loss, real_logits=real_a, fake_logits=fake_a)
        d_b = losses.discriminator_loss(self.adversarial_loss, real_logits=real_b, fake_logits=fake_b)
        metrics = {"d_a": d_a, "d_b": d_b, "da_real_logit": real_a.mean(), "da_fake_logit": fake_a.mean(),
                   "db_real_logit": real_b.mean(), "db_fake_logit": fake_b.mean()}
        return d_a + d_b, (metrics, collections)

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """g(D_a(G_a(z))) + g(D_b(G_b(z)))."""
        (fake_a, fake_b), _ = apply_train(self.discriminator, state.discriminator.variables(),
                                          generated["fake_a"], generated["fake_b"], rng=rng)
        g_a = losses.generator_loss(self.adversarial_loss, fake_logits=fake_a)
        g_b = losses.generator_loss(self.adversarial_loss, fake_logits=fake_b)
        return g_a + g_b, ({"g_a": g_a, "g_b": g_b, "da_fake_logit": fake_a.mean(),
                            "db_fake_logit": fake_b.mean()}, {})
