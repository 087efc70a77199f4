"""pix2pixHD (Wang et al. 2018): semantic label maps -> photographs, at high resolution.

The input s is the one-hot label map (``label_map``, C = ``data.num_label_classes`` channels) and,
when the data has an ``instance_map`` (and ``model.use_instance_map``), the instance boundary map
(sec. 3.3; ``instance_edges``: 1 where a pixel's instance id differs from one of its 4 neighbours),
concatenated along channels (``semantic_input``). G (``jaxgan.networks.pix2pixhd``) maps s to G(s);
K discriminators D_k (``multiscale_discriminator``) see (s, x) at K scales. With eq. 5:

    min_G ( (max_{D_1..D_K} sum_k L_GAN(G, D_k)) + lambda_FM sum_k L_FM(G, D_k) ) + lambda_VGG L_VGG

with L_FM of eq. 4 (``jaxgan.losses.feature_matching_loss``, the authors' weights 1/K and 4/T) and
lambda_FM = 10 (``config.loss.lambda_feat``). As losses to minimise, for the adversarial loss
``config.loss.adversarial`` (pix2pixHD: 'least_squares', LSGAN; f = D_k(s, G(s)), r = D_k(s, x)):

    loss_D = 1/2 sum_k [f_real(r_k) + f_fake(f_k)]                  (the code's (D_real + D_fake) / 2)
    loss_G = w_adv sum_k g(f_k) + lambda_FM L_FM + lambda_VGG L_VGG

w_adv = ``config.loss.adversarial_weight``: the authors' LSGAN is PyTorch's MSELoss, E[(f - 1)^2]
without the 1/2 of Mao et al. that ``jaxgan.losses`` uses, so their balance of G's terms is w_adv = 2
(their D loss is then 2x ours, the same Adam updates). L_VGG = sum_i w_i mean|phi_i(G(s)) - phi_i(x)|
over VGG19's relu1_1 .. relu5_1 with w = 1/32, 1/16, 1/8, 1/4, 1 (the code's ``VGGLoss``;
``jaxgan.perceptual.weighted_feature_l1``), phi(x) held fixed, lambda_VGG = ``config.loss.vgg_weight``
(10); it needs pretrained VGG19 weights (``config.loss.vgg_weights``, see ``jaxgan.perceptual``), kept
in the method state; 0 turns it off (the built-in scenes config: no weights ship with jaxgan).

One generator forward per step (``generator_forward``). The authors' step (NVIDIA/pix2pixHD
``train.py``) computes every loss from one forward of G and D, then updates G, then D: G's loss sees
D as it was at the start of the step, ``update_order = 'generator_first'``.

Coarse-to-fine training (sec. 3.2): with a local enhancer, ``config.model.niter_fix_global`` = N > 0
trains only the local enhancer's parameters for the first N generator updates, then all of G (the
code's ``--niter_fix_global``, there in epochs). ``wrap_optimizers`` does it: G1's parameters go
through ``optax.transforms.conditionally_mask`` (zero updates, optimizer state untouched before
update N: its Adam moments start at update N, as the code's fresh optimizer then), whose schedule
position starts at N, so its learning rate is the run's at every update.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxgan import losses, networks, optim, perceptual
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train, loss_weight
from jaxgan.networks.pix2pixhd import LOCAL_PREFIX

LABELS, INSTANCES, TARGET = "label_map", "instance_map", "image_b"
VGG_STATE = "vgg19"  # method_state key of the frozen VGG19's variables (checkpointed with the run).
SCALE_REDUCTIONS = ("sum", "mean")


# --- The input: one-hot labels and instance boundaries; panels ----------------------------------


def instance_edges(instance_map: jax.Array) -> jax.Array:
    """The boundary map of Wang et al. 2018, sec. 3.3: int [n, H, W] instance ids -> float32
    [n, H, W, 1], 1 where a pixel's id differs from its left, right, upper or lower neighbour (both
    pixels of a differing pair are marked), else 0 (the code's ``get_edges``)."""
    t = instance_map
    horizontal = t[:, :, 1:] != t[:, :, :-1]  # [n, H, W - 1]: pixel (i, j + 1) vs (i, j).
    vertical = t[:, 1:, :] != t[:, :-1, :]
    false_col = jnp.zeros(t.shape[:2] + (1,), bool)
    false_row = jnp.zeros((t.shape[0], 1, t.shape[2]), bool)
    edge = (jnp.concatenate([false_col, horizontal], 2) | jnp.concatenate([horizontal, false_col], 2)
            | jnp.concatenate([false_row, vertical], 1) | jnp.concatenate([vertical, false_row], 1))
    return edge[..., None].astype(jnp.float32)


def semantic_input(label_map: jax.Array, num_classes: int, instance_map: Optional[jax.Array] = None
                   ) -> jax.Array:
    """s = [one_hot(label_map), instance_edges(instance_map)]: float32 [n, H, W, C (+ 1)]."""
    s = jax.nn.one_hot(label_map, num_classes, dtype=jnp.float32)
    return s if instance_map is None else jnp.concatenate([s, instance_edges(instance_map)], axis=-1)


def palette(num_classes: int) -> np.ndarray:
    """A fixed colour per class, float32 [C, 3] in [0, 1]: class 0 black, class k >= 1 the fully
    saturated hue (k - 1) / (C - 1) (for ``builtin:mnist/scenes``, the hue its digit is drawn in)."""
    hue = (np.arange(1, num_classes) - 1) / max(num_classes - 1, 1)
    rgb = 0.5 + 0.5 * np.cos(2 * np.pi * (hue[:, None] - np.arange(3) / 3))
    return np.concatenate([np.zeros((1, 3)), rgb / rgb.max(axis=-1, keepdims=True)]).astype(np.float32)


def colourise(label_map: jax.Array, num_classes: int) -> jax.Array:
    """int [n, H, W] -> the palette's colours [n, H, W, 3] in [-1, 1] (panel columns)."""
    return 2.0 * jnp.asarray(palette(num_classes))[label_map] - 1.0


# --- The method ----------------------------------------------------------------------------------


def _start_schedules_at(tx: optax.GradientTransformation, n: int) -> optax.GradientTransformation:
    """``tx`` whose injected hyper-parameter schedules start at position ``n`` instead of 0."""

    return optax.GradientTransformation(lambda params: optim.at_schedule_position(tx.init(params), n), tx.update)


@dataclasses.dataclass(frozen=True)
class Pix2PixHD:
    generator: nn.Module
    discriminator: nn.Module  # MultiScaleDiscriminator.
    num_label_classes: int
    use_instances: bool
    adversarial_loss: str = "least_squares"
    adversarial_weight: float = 2.0
    lambda_feat: float = 10.0
    vgg_weight: float = 0.0
    vgg: Optional[Variables] = None  # VGG19 up to relu5_1 (numpy) when vgg_weight > 0.
    niter_fix_global: int = 0
    scale_reduction: str = "sum"  # pix2pixHD's GANLoss sums over the K scales; SPADE's averages.
    discriminator_factor: float = 0.5  # pix2pixHD halves D's loss; SPADE does not.
    feature_layer_weight: Optional[float] = None  # None: pix2pixHD's 4 / T; SPADE: 1.
    update_order: str = "generator_first"
    panel_column_names: Tuple[str, ...] = ("label map", "output", "target")

    name = "pix2pixhd"

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "Pix2PixHD":
        return cls(generator=networks.build_from_config(config.model.generator,
                                                        output_channels=data.shape(TARGET)[-1]),
                   **cls._common_fields(config, data),
                   niter_fix_global=cls._niter_fix_global(config))

    @classmethod
    def _common_fields(cls, config: ml_collections.ConfigDict, data: DataInfo) -> Dict[str, Any]:
        """What pix2pixHD and SPADE read alike: data, D, adversarial loss, feature matching, VGG."""
        label_shape, target_shape = data.shape(LABELS), data.shape(TARGET)
        if label_shape != target_shape[:2]:
            raise ConfigError(f"method {cls.name!r}: the label maps are {label_shape} but the targets "
                              f"{target_shape[:2]}; they must be the same size")
        if not data.num_label_classes:
            raise ConfigError(f"method {cls.name!r} needs the number of label-map classes; source "
                              f"{config.data.source!r} does not give it (use labelmap:DIR with a classes.txt)")
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        vgg_weight = loss_weight(config, "vgg_weight", "lambda_VGG; the papers: 10")
        return dict(
            discriminator=networks.build_from_config(config.model.discriminator),
            num_label_classes=int(data.num_label_classes),
            use_instances=INSTANCES in data.batch and bool(config.model.get("use_instance_map", True)),
            adversarial_loss=config.loss.adversarial,
            adversarial_weight=loss_weight(config, "adversarial_weight", "see the method's docstring"),
            lambda_feat=loss_weight(config, "lambda_feat", "lambda_FM; the papers: 10"),
            vgg_weight=vgg_weight,
            vgg=perceptual.vgg19_from_config(config.loss, perceptual.PIX2PIXHD_LAYERS))

    @staticmethod
    def _niter_fix_global(config: ml_collections.ConfigDict) -> int:
        n = config.model.get("niter_fix_global", 0)
        local = config.model.generator.get("n_local_enhancers", 0)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ConfigError(f"config.model.niter_fix_global={n!r} must be an integer >= 0 (generator updates "
                              "that train only the local enhancer)")
        if n and not local:
            raise ConfigError(f"config.model.niter_fix_global={n} fixes the global generator while the local "
                              "enhancer trains, but model.generator.n_local_enhancers=0; set one of them")
        if n and n >= config.train.steps // config.train.n_critic:
            raise ConfigError(f"config.model.niter_fix_global={n} is not below the run's generator updates "
                              f"({config.train.steps // config.train.n_critic}); lower it")
        return n

    # --- Optimizers: the local enhancer's phase -------------------------------------------------

    def wrap_optimizers(self, g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation
                        ) -> Tuple[optax.GradientTransformation, optax.GradientTransformation]:
        """With ``niter_fix_global`` = N > 0, G1's parameters get zero updates (and keep their
        optimizer state) for G's first N updates, G2's train throughout (see the module docstring)."""
        if not self.niter_fix_global:
            return g_tx, d_tx
        n = self.niter_fix_global
        fixed_then_trained = optax.transforms.conditionally_mask(_start_schedules_at(g_tx, n),
                                                                 lambda count: count >= n)
        group = lambda name: "local" if name.startswith(LOCAL_PREFIX) else "global"  # noqa: E731
        labels = lambda params: {k: jax.tree.map(lambda _: group(k), v) for k, v in params.items()}  # noqa: E731
        return optax.multi_transform({"local": g_tx, "global": fixed_then_trained}, labels), d_tx

    # --- Networks ---------------------------------------------------------------------------------

    def semantics(self, batch: Batch) -> jax.Array:
        """s for ``batch``: its one-hot label map and, when used, its instance boundaries."""
        return semantic_input(batch[LABELS], self.num_label_classes,
                              batch[INSTANCES] if self.use_instances else None)

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        s, y = self.semantics(batch), batch[TARGET]
        g_vars = self.init_generator(g_rng, s, y)
        d_vars = self.discriminator.init(d_rng, jnp.concatenate([s, y], axis=-1), train=False)
        return dict(g_vars), dict(d_vars), ({VGG_STATE: self.vgg} if self.vgg is not None else {})

    def init_generator(self, rng: jax.Array, s: jax.Array, y: jax.Array) -> Variables:
        """The generator side's variables, from the semantic map s and the targets y."""
        del y  # pix2pixHD's G sees s only.
        return self.generator.init(rng, s, train=False)

    def semantics_of(self, label_map: jax.Array, instance_map: Optional[jax.Array]) -> jax.Array:
        """s for label maps and instance maps given apart (``translate``)."""
        if self.use_instances and instance_map is None:
            raise ConfigError("this run's generator sees instance boundaries: pass the instance maps too")
        return semantic_input(label_map, self.num_label_classes, instance_map if self.use_instances else None)

    def translate(self, variables: Variables, label_map: jax.Array, rng: jax.Array,
                  instance_map: Optional[jax.Array] = None) -> jax.Array:
        """G(s) for int label maps [n, H, W] (and instance maps, when the run used them)."""
        del rng  # pix2pixHD's G is deterministic.
        return self.generator.apply(variables, self.semantics_of(label_map, instance_map), train=False)

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """colourised label map | output G(s) | target x."""
        output = self.translate(variables, batch[LABELS], jax.random.PRNGKey(0), batch.get(INSTANCES))
        return colourise(batch[LABELS], self.num_label_classes), output, batch[TARGET]

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """{'image': G(s)}: the step's one generator forward."""
        image, collections = apply_train(self.generator, state.generator.variables(params), self.semantics(batch),
                                         rng=rng)
        return {"image": image}, collections

    # --- Losses -----------------------------------------------------------------------------------

    def discriminate(self, variables: Variables, s: jax.Array, fake: jax.Array, real: jax.Array, rng: jax.Array
                     ) -> Tuple[List[Tuple[jax.Array, List[jax.Array]]], List[Tuple[jax.Array, List[jax.Array]]],
                                Dict[str, Any]]:
        """D_k(s, G(s)) and D_k(s, x) for every scale k, each (logits, activations), from one D forward on
        the fake and real pairs batched together (as SPADE's code; instance norm keeps them apart)."""
        pairs = jnp.concatenate([jnp.concatenate([s, fake], -1), jnp.concatenate([s, real], -1)], axis=0)
        mutable = [k for k in variables if k != "params"]  # As apply_train, with the activations returned.
        outputs, collections = self.discriminator.apply(variables, pairs, train=True, return_features=True,
                                                        rngs={"dropout": rng}, mutable=mutable)
        n = s.shape[0]
        split = lambda i: [(logits[i * n:(i + 1) * n], [h[i * n:(i + 1) * n] for h in feats])  # noqa: E731
                           for logits, feats in outputs]
        return split(0), split(1), dict(collections)

    def _over_scales(self, terms: Sequence[jax.Array]) -> jax.Array:
        total = sum(terms)
        return total / len(terms) if self.scale_reduction == "mean" else total

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """factor * [reduce_k f_real(D_k(s, x)) + reduce_k f_fake(D_k(s, G(s)))], G(s) held fixed."""
        fake, real, collections = self.discriminate(state.discriminator.variables(params), self.semantics(batch),
                                                    generated["image"], batch[TARGET], rng)
        real_term = self._over_scales([losses.discriminator_real_loss(self.adversarial_loss, logits=r)
                                       for r, _ in real])
        fake_term = self._over_scales([losses.discriminator_fake_loss(self.adversarial_loss, logits=f)
                                       for f, _ in fake])
        metrics = {"real_loss": real_term, "fake_loss": fake_term,
                   "real_logit": jnp.mean(jnp.stack([r.mean() for r, _ in real])),
                   "fake_logit": jnp.mean(jnp.stack([f.mean() for f, _ in fake]))}
        return self.discriminator_factor * (real_term + fake_term), (metrics, collections)

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """w_adv reduce_k g(D_k(s, G(s))) + lambda_FM L_FM (+ lambda_VGG L_VGG)."""
        fake, real, _ = self.discriminate(state.discriminator.variables(), self.semantics(batch),
                                          generated["image"], batch[TARGET], rng)
        adversarial = self._over_scales([losses.generator_loss(self.adversarial_loss, fake_logits=f) for f, _ in fake])
        feature_matching = losses.feature_matching_loss(real_features=[h for _, h in real],
                                                        fake_features=[h for _, h in fake],
                                                        layer_weight=self.feature_layer_weight)
        loss = self.adversarial_weight * adversarial + self.lambda_feat * feature_matching
        metrics = {"adversarial": adversarial, "feature_matching": feature_matching,
                   "fake_logit": jnp.mean(jnp.stack([f.mean() for f, _ in fake]))}
        if self.vgg_weight:
            metrics["vgg"] = self.vgg_loss(state, generated["image"], batch[TARGET])
            loss += self.vgg_weight * metrics["vgg"]
        return loss, (metrics, {})

    def vgg_loss(self, state, fake: jax.Array, real: jax.Array) -> jax.Array:
        """sum_i w_i mean|phi_i(G(s)) - phi_i(x)|, VGG19 from the method state, phi(x) held fixed."""
        variables, layers = state.method_state[VGG_STATE], perceptual.PIX2PIXHD_LAYERS
        return perceptual.weighted_feature_l1(
            prediction=perceptual.vgg19_features(variables, fake, layers),
            target=jax.lax.stop_gradient(perceptual.vgg19_features(variables, real, layers)))
