"""StarGAN (Choi et al. 2018): one generator G(x, c) translating an image x to any target labels c (binary
attributes, several at once), one discriminator D(x) -> (D_src(x), D_cls(x)) that judges realism and
classifies the labels, and a reconstruction term. With c the image's own labels and c' the target:

    L_adv   = E_x[D_src(x)] - E_{x,c'}[D_src(G(x, c'))] - lambda_gp E_xhat[(||grad D_src(xhat)||_2 - 1)^2]
                                                                  (eq. 1 as WGAN-GP, eq. 8; lambda_gp = 10)
    L_cls^r = E_{x,c}[-log D_cls(c | x)]                          (eq. 2: D classifies real images)
    L_cls^f = E_{x,c'}[-log D_cls(c' | G(x, c'))]                 (eq. 3: G's images must read as c')
    L_rec   = E_{x,c,c'}[||x - G(G(x, c'), c)||_1]                (eq. 4: back to the original labels)
    L_D = -L_adv + lambda_cls L_cls^r,   L_G = L_adv + lambda_cls L_cls^f + lambda_rec L_rec       (eq. 5)

with lambda_cls = 1 and lambda_rec = 10 (sec. 3.1; ``config.loss.lambda_cls``, ``lambda_rec``) and
lambda_gp = 10 (sec. 3.3; ``config.loss.gradient_penalty``, added to D's loss by
``jaxgan.methods.penalties.CriticPenalties`` on D's source head, the critic: its patch outputs summed
per example, as the authors' ``gradient_penalty`` with ``grad_outputs`` of ones). -log D_cls(c | x) for
multi-label attributes is the sigmoid cross-entropy summed over the attributes, mean over the batch
(the code's ``binary_cross_entropy_with_logits(size_average=False) / batch``;
``losses.multilabel_classification_loss``). The adversarial terms are chosen by name
(``config.loss.adversarial``: 'wasserstein' gives D: -mean D_src(x) + mean D_src(G(x, c')), G:
-mean D_src(G(x, c')), the means over patches and batch as the code's ``torch.mean(out_src)``).

Not in the paper, an optional identity-mapping term for G (CycleGAN's, Zhu et al. 2017, sec. 5.2; the
"identity-mapping loss" of StarGAN-VC, Kameoka et al. 2018), G asked for the image's own labels:

    L_id    = E_{x,c}[||x - G(x, c)||_1],     L_G += lambda_id L_id    (``config.loss.lambda_identity``; 0: the paper)

As the authors' code (yunjey/stargan ``solver.py``): the target labels c' of a batch are its real
labels in a random permutation (``torch.randperm``); each step updates D, and G on every n_critic-th
step (n_critic = 5, sec. 4.4; ``config.train.n_critic``) against the D just updated
(``update_order = 'discriminator_first'``), on the same batch and the same c'. G(x, c') and
G(G(x, c'), c) are both computed in ``generator_forward``, the step's one forward (two applications of
the one G; a third, G(x, c), with the identity term); D's loss gets G(x, c') held fixed. Adam(1e-4, 0.5, 0.999), batch 16, and the rate decayed
linearly to 0 over the second half of training (sec. 4.4) are the configs' (``configs/stargan_*.py``).

**Mask vector** (sec. 3.2): training on several datasets with different label sets at once. A batch from
``domains:SPEC_1|SPEC_2|...`` whose domains each give ``attributes`` (``image_a``, ``attributes_a``,
``image_b``, ``attributes_b``, ...) makes the label vector c~ = [c_1, ..., c_n, m] (eq. 7): the example's
dataset's labels in its slot, zeros in the other datasets' slots, and m the one-hot of its dataset; G's
input carries c~, and D's classification head has an output per attribute of every dataset, of which
only the example's dataset's slice enters L_cls^r and L_cls^f (the code's ``out_cls[:, :c_dim]`` /
``out_cls[:, c_dim:]``). Datasets alternate per step: step s trains on dataset s mod n (``dataset_of``,
a pure function of ``state.step``, so resume and 1 vs 8 devices are exact). The pipeline delivers a
batch of every dataset each step; the step selects the inputs of the step's dataset
(``lax.select_n`` on images and label vectors, and on whole per-dataset classification losses), so G
and D run on one dataset's batch only, without a ``lax.cond`` around convolutions; the other datasets'
batch is read and dropped. The authors' ``train_multi`` runs, in iteration i, a D update on CelebA then
one on RaFD (and G on both when (i + 1) % n_critic == 0): per n_critic iterations 2 n_critic D updates
and 2 G updates, one per dataset. Here step s is D's update s; G updates on every n_critic-th step,
which alternates datasets when n_critic is odd (5: steps 4, 9, 14, ... on datasets 1, 2, 1, ...), the
same ratio and the same alternation; with an even n_critic G would see one dataset only (refused).

Learning-rate schedule: the paper decays linearly to 0 over the second half; the code subtracts
lr / num_iters_decay every lr_update_step (1000) iterations, which only reaches 0.999 lr at the end.
The configs follow the paper (``optimizer.*.linear_decay``, ``decay_start``).

Inference: ``translate(variables, x, rng, target=labels, dataset=k)`` with ``target`` the attribute
vector of dataset k ([A_k] or [n, A_k]; embedded with its mask) or a whole label vector c~ ([L]).
Panels: per dataset, input | G(x, c with attribute j flipped) for each of its attributes.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan import losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train, loss_weight
from jaxgan.methods.penalties import CriticPenalties
from jaxgan.data.domains import LETTERS


@dataclasses.dataclass(frozen=True)
class LabelSet:
    """One dataset of a StarGAN run: its batch keys and attribute names (``names[j]`` is attribute j)."""

    image_key: str
    attributes_key: str
    names: Tuple[str, ...]


def dataset_of(step: jax.Array, num_datasets: int) -> jax.Array:
    """The dataset that step ``step`` (0-based) trains on: step mod n (the mask vector's alternation)."""
    return jnp.asarray(step, jnp.int32) % num_datasets


def flip(attributes: jax.Array, j: int) -> jax.Array:
    """``attributes`` [n, A] in {0, 1} with attribute j reversed (the code's ``create_labels`` for
    non-hair attributes)."""
    return attributes.at[:, j].set(1.0 - attributes[:, j])



def _label_sets(data: DataInfo) -> Tuple[LabelSet, ...]:
    """``image`` + ``attributes`` (one dataset), or ``image_<l>`` + ``attributes_<l>`` for every domain
    letter l of a ``domains:`` source (several datasets: the mask vector)."""
    def names(key: str, given: Sequence[str]) -> Tuple[str, ...]:
        shape = data.shape(key)
        if len(shape) != 1 or shape[0] < 1:
            raise ConfigError(f"method 'stargan': {key!r} must be a vector of attributes per example, got {shape}")
        return tuple(given) if len(given) == shape[0] else tuple(f"{key}[{j}]" for j in range(shape[0]))

    if "attributes" in data.batch:
        return (LabelSet("image", "attributes", names("attributes", data.attribute_names)),)
    letters = [l for l in LETTERS if f"image_{l}" in data.batch]
    missing = [l for l in letters if f"attributes_{l}" not in data.batch]
    if len(letters) < 2 or missing:
        raise ConfigError(
            f"method 'stargan' needs attribute-labelled images: 'image' + 'attributes' (e.g. builtin:mnist/"
            f"attributes), or for the mask vector 2+ datasets that each give attributes (e.g. domains:builtin:"
            f"mnist/attributes|builtin:mnist/attributes2); the data gives {sorted(data.batch)}"
            + (f" (no attributes in domain(s) {', '.join(l.upper() for l in missing)})" if missing else ""))
    return tuple(LabelSet(f"image_{l}", f"attributes_{l}", names(f"attributes_{l}", ())) for l in letters)


@dataclasses.dataclass(frozen=True)
class StarGAN:
    generator: nn.Module
    discriminator: nn.Module
    label_sets: Tuple[LabelSet, ...]
    penalties: CriticPenalties = CriticPenalties(gradient_penalty=10.0)
    adversarial_loss: str = "wasserstein"
    lambda_cls: float = 1.0
    lambda_rec: float = 10.0
    lambda_identity: float = 0.0
    update_order: str = "discriminator_first"

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "StarGAN":
        label_sets = _label_sets(data)
        shapes = {data.shape(s.image_key) for s in label_sets}
        if len(shapes) > 1:
            raise ConfigError(f"method 'stargan': the datasets' images differ in shape {sorted(shapes)}; one G "
                              "translates them all")
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        for key, side in (("n_critic", "G"), ("n_generator", "D")):
            n = config.train.get(key, 1)
            if len(label_sets) > 1 and n > 1 and n % len(label_sets) == 0:
                raise ConfigError(f"train.{key}={n} with {len(label_sets)} datasets: {side} would update on steps of "
                                  f"one dataset only (step s trains dataset s mod {len(label_sets)}); use a {key} "
                                  "coprime to the number of datasets (Choi et al. 2018: n_critic 5)")
        num_attributes = sum(len(s.names) for s in label_sets)
        discriminator = networks.build_from_config(config.model.discriminator, num_labels=num_attributes)
        return cls(
            generator=networks.build_from_config(config.model.generator, output_channels=shapes.pop()[-1]),
            discriminator=discriminator,
            label_sets=label_sets,
            penalties=CriticPenalties.from_config(config, discriminator),
            adversarial_loss=config.loss.adversarial,
            lambda_cls=loss_weight(config, "lambda_cls", "Choi et al. 2018: 1"),
            lambda_rec=loss_weight(config, "lambda_rec", "Choi et al. 2018: 10"),
            lambda_identity=(loss_weight(config, "lambda_identity", "Choi et al. 2018: none, 0")
                             if "lambda_identity" in config.loss else 0.0),
        )

    # --- Labels ----------------------------------------------------------------------------------------

    @property
    def _slices(self) -> Tuple[Tuple[int, int], ...]:
        """Where each dataset's attributes sit in the label vector (and in D's classification outputs)."""
        starts = [0]
        for s in self.label_sets:
            starts.append(starts[-1] + len(s.names))
        return tuple(zip(starts[:-1], starts[1:]))

    @property
    def label_dim(self) -> int:
        """Length of G's label input: every dataset's attributes, plus the mask vector with 2+ datasets."""
        n = len(self.label_sets)
        return self._slices[-1][1] + (n if n > 1 else 0)

    def label_vector(self, attributes: jax.Array, dataset: int) -> jax.Array:
        """c~ = [0, ..., c_k, ..., 0, m] (eq. 7) for attributes [n, A_k] of dataset k: the other datasets'
        labels zeroed, m the one-hot of k; with one dataset, c itself."""
        n = len(self.label_sets)
        if n == 1:
            return attributes.astype(jnp.float32)
        start, end = self._slices[dataset]
        batch = attributes.shape[0]
        mask = jnp.broadcast_to(jax.nn.one_hot(dataset, n), (batch, n))
        return jnp.concatenate([jnp.zeros((batch, start)), attributes.astype(jnp.float32),
                                jnp.zeros((batch, self._slices[-1][1] - end)), mask], axis=-1)

    def _select(self, dataset: jax.Array, cases: Sequence[jax.Array]) -> jax.Array:
        return cases[0] if len(cases) == 1 else jax.lax.select_n(dataset, *cases)

    def real_inputs(self, batch: Batch, step: jax.Array) -> Tuple[jax.Array, jax.Array, jax.Array]:
        """(x, c~, k): the images and label vectors of the step's dataset k = ``dataset_of(step)``."""
        k = dataset_of(step, len(self.label_sets))
        x = self._select(k, [batch[s.image_key] for s in self.label_sets])
        c = self._select(k, [self.label_vector(batch[s.attributes_key], i) for i, s in enumerate(self.label_sets)])
        return x, c, k

    def _classification(self, logits: jax.Array, labels: jax.Array, k: jax.Array) -> Tuple[jax.Array, jax.Array]:
        """L_cls on dataset k's outputs only (the mask vector: D's other outputs get no loss), and the
        fraction of its attributes D reads right."""
        per_set = [(losses.multilabel_classification_loss(logits=logits[:, a:b], targets=labels[:, a:b]),
                    jnp.mean(((logits[:, a:b] > 0) == (labels[:, a:b] > 0.5)).astype(jnp.float32)))
                   for a, b in self._slices]
        return (self._select(k, [loss for loss, _ in per_set]), self._select(k, [acc for _, acc in per_set]))

    # --- Networks ----------------------------------------------------------------------------------------

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        x = batch[self.label_sets[0].image_key]
        g_vars = self.generator.init(g_rng, x, jnp.zeros((x.shape[0], self.label_dim)), train=False)
        d_vars = self.discriminator.init(d_rng, x, train=False)
        return dict(g_vars), dict(d_vars), {}

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array, *,
                  target: Optional[jax.Array] = None, dataset: int = 0) -> jax.Array:
        """G(x, c~) at test time for ``target``: the attributes of dataset ``dataset`` ([A_k] or [n, A_k],
        in {0, 1}; embedded with its mask vector) or a whole label vector c~ ([L] or [n, L])."""
        del rng  # G is deterministic (no dropout; instance statistics).
        if target is None:
            names = "; ".join(", ".join(s.names) for s in self.label_sets)
            raise ConfigError(f"StarGAN translates to target attributes: pass target=[...] with one value per "
                              f"attribute ({names})")
        if not 0 <= dataset < len(self.label_sets):
            raise ConfigError(f"dataset={dataset} is not one of the run's {len(self.label_sets)} dataset(s)")
        target = jnp.asarray(target, jnp.float32)
        target = jnp.broadcast_to(target, (x.shape[0], target.shape[-1]))
        size = len(self.label_sets[dataset].names)
        if target.shape[-1] == size:
            target = self.label_vector(target, dataset)
        elif target.shape[-1] != self.label_dim:
            raise ConfigError(f"target has {target.shape[-1]} values; dataset {dataset} has {size} attributes "
                              f"({', '.join(self.label_sets[dataset].names)}) and a whole label vector {self.label_dim}")
        return self.generator.apply(variables, x, target, train=False)

    @property
    def panel_column_names(self) -> Tuple[str, ...]:
        return tuple(name for s in self.label_sets for name in ("input",) + tuple(f"~{a}" for a in s.names))

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """For each dataset: input x | G(x, c with attribute j flipped) for each of its attributes j."""
        rng = jax.random.PRNGKey(0)
        columns = []
        for k, s in enumerate(self.label_sets):
            x, c = batch[s.image_key], batch[s.attributes_key]
            columns.append(x)
            columns += [self.translate(variables, x, rng, target=flip(c, j), dataset=k) for j in range(len(s.names))]
        return columns

    # --- Losses ------------------------------------------------------------------------------------------

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """G(x, c') and G(G(x, c'), c), with c' the batch's label vectors permuted, and G(x, c) when lambda_id > 0;
        the step's one forward."""
        perm_rng, fake_rng, rec_rng = jax.random.split(rng, 3)
        x, labels, _ = self.real_inputs(batch, state.step)
        target = labels[jax.random.permutation(perm_rng, labels.shape[0])]
        variables = state.generator.variables(params)
        fake, collections = apply_train(self.generator, variables, x, target, rng=fake_rng)
        reconstruction, collections = apply_train(self.generator, {**variables, **collections}, fake, labels,
                                                  rng=rec_rng)
        generated = {"fake": fake, "reconstruction": reconstruction, "target": target}
        if self.lambda_identity:  # G is deterministic (no dropout): the reconstruction's rng serves.
            generated["identity"], collections = apply_train(self.generator, {**variables, **collections}, x, labels,
                                                             rng=rec_rng)
        return generated, collections

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """f_real(D_src(x)) + f_fake(D_src(G(x, c'))) + lambda_gp GP + lambda_cls L_cls^r(D_cls(x), c)."""
        real_rng, fake_rng, critic_rng, gp_rng = jax.random.split(rng, 4)
        x, labels, k = self.real_inputs(batch, state.step)
        variables = state.discriminator.variables(params)
        (real_src, real_cls), collections = apply_train(self.discriminator, variables, x, rng=real_rng)
        (fake_src, _), collections = apply_train(self.discriminator, {**variables, **collections}, generated["fake"],
                                                 rng=fake_rng)
        adversarial = losses.discriminator_loss(self.adversarial_loss, real_logits=real_src, fake_logits=fake_src)
        classification, accuracy = self._classification(real_cls, labels, k)

        def critic(images: jax.Array) -> jax.Array:  # D's source head: the Wasserstein critic.
            return apply_train(self.discriminator, variables, images, rng=critic_rng)[0][0]

        penalty, penalty_metrics = self.penalties(gp_rng, (critic, x, generated["fake"]))
        loss = adversarial + self.lambda_cls * classification + penalty
        metrics = {"adversarial": adversarial, "classification": classification, "real_accuracy": accuracy,
                   "real_src": real_src.mean(), "fake_src": fake_src.mean(), "dataset": k.astype(jnp.float32),
                   **penalty_metrics}
        return loss, (metrics, collections)

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """g(D_src(G(x, c'))) + lambda_cls L_cls^f(D_cls(G(x, c')), c') + lambda_rec |x - G(G(x, c'), c)|
        (+ lambda_id |x - G(x, c)|)."""
        x, _, k = self.real_inputs(batch, state.step)
        (fake_src, fake_cls), _ = apply_train(self.discriminator, state.discriminator.variables(), generated["fake"],
                                              rng=rng)
        adversarial = losses.generator_loss(self.adversarial_loss, fake_logits=fake_src)
        classification, accuracy = self._classification(fake_cls, generated["target"], k)
        reconstruction = losses.l1_loss(prediction=generated["reconstruction"], target=x)
        loss = adversarial + self.lambda_cls * classification + self.lambda_rec * reconstruction
        metrics = {"adversarial": adversarial, "classification": classification, "fake_accuracy": accuracy,
                   "reconstruction": reconstruction, "fake_src": fake_src.mean()}
        if self.lambda_identity:
            metrics["identity"] = losses.l1_loss(prediction=generated["identity"], target=x)
            loss = loss + self.lambda_identity * metrics["identity"]
        return loss, (metrics, {})
