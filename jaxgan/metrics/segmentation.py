"""The FCN-score analogue of label-map runs (pix2pixHD, SPADE): segment the generated images.

Isola et al. 2017 (pix2pix, sec. 4.2) score images generated from Cityscapes label maps with an
off-the-shelf FCN: if the synthesis is realistic, a segmentation network trained on real photographs
recovers the label map it was made from. No pretrained FCN ships with jaxgan, so the project trains a
small one on the run's own real data (``builtin:mnist/scenes`` or a ``labelmap:`` folder): real target
images -> their label maps, a per-pixel softmax over the run's label classes, at the run's resolution.

Network (``SegmentationFCN``): the skip architecture of FCN-8s (Long et al. 2015, sec. 4.2) made small:
stages of two 3x3 conv + ReLU layers (widths ``features``, 16, 32, 64), 2x2 max pooling between stages,
a 1x1 class-score layer after each stage; the coarsest scores are upsampled 2x (bilinear; FCN learns
this layer from a bilinear initialisation, fixed here) and added to the next finer scores, up to the
input's resolution.

Training (``train_segmenter``): per-pixel softmax cross-entropy averaged over pixels, as FCN (no class
weights), Adam with a cosine-decayed rate, ``steps`` steps of ``batch_size`` from a seeded random subset of
``train_size`` examples of the run's 'train' split; no flips (a scene's stripe orientation is part of its
class). Like the domain classifiers of ``jaxgan.metrics.domains``, the weights are cached as msgpack (with
a JSON note of the settings) under ``cache_dir`` (``WORKDIR/eval/classifiers``), named by the source spec,
the image shape and number of classes, and a hash of those and every training setting; a later evaluation
with the same settings reads them instead of training (the key is the spec: delete the files after
changing a folder's images).

Scores (``fcn_scores``), Long et al. 2015, sec. 5, from the confusion matrix n accumulated over all the
pixels of all the images, n_ij = pixels of true class i predicted as class j, t_i = sum_j n_ij:

- pixel accuracy = sum_i n_ii / sum_i t_i;
- mean class accuracy = (1/n_cl) sum_i n_ii / t_i;
- mean IoU = (1/n_cl) sum_i n_ii / (t_i + sum_j n_ji - n_ii).

A class whose ratio has a zero denominator is left out of that mean (n_cl counts the others), as FCN's
own scoring code does (a NaN-ignoring mean): the class accuracy averages over the classes present in the
ground truth; the IoU over the classes present in the ground truth or the prediction (a class predicted
but absent from the ground truth counts with IoU 0). Every class counts, the background (class 0 of the
scenes) included, as Long et al. count PASCAL's background.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from typing import Callable, Dict, NamedTuple, Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from jaxgan.errors import ConfigError, JaxganError
from jaxgan.metrics.domains import cache_paths, write_atomically, map_in_batches
from jaxgan.networks.layers import max_pool_2x2

SegmentFn = Callable[[np.ndarray], jax.Array]  # Images [N, H, W, C] in [-1, 1] -> class ids int32 [N, H, W].


class SegmentationFCN(nn.Module):
    """Images [N, H, W, C] in [-1, 1] -> class scores [N, H, W, num_classes] (module docstring)."""

    num_classes: int
    features: Sequence[int] = (16, 32, 64)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        scores = []
        for stage, width in enumerate(self.features):
            if stage:
                x = max_pool_2x2(x)
            for _ in range(2):
                x = nn.relu(nn.Conv(width, (3, 3))(x))
            scores.append(nn.Conv(self.num_classes, (1, 1))(x))
        score = scores[-1]
        for finer in reversed(scores[:-1]):  # FCN-8s: coarse scores upsampled and added to finer ones.
            score = jax.image.resize(score, finer.shape, "bilinear") + finer
        return score


@dataclasses.dataclass(frozen=True)
class SegmenterSettings:
    """How the segmentation network is trained; all of it is part of the cache key.

    On ``builtin:mnist/scenes`` (64x64, 11 classes) the defaults read 1,000 real test scenes with pixel
    accuracy 0.992, mean class accuracy 0.953, mean IoU 0.909 (~200 s of training on 2 busy CPU cores)."""

    steps: int = 1000
    seed: int = 0
    batch_size: int = 16
    learning_rate: float = 2e-3
    train_size: int = 2000  # Real examples of the 'train' split (seeded subset).
    features: Tuple[int, ...] = (16, 32, 64)


DEFAULT_SETTINGS = SegmenterSettings()


class Segmenter(NamedTuple):
    """A trained segmentation network: ``segment(images) -> class ids`` and its cached weights' file."""

    segment: SegmentFn
    num_classes: int
    weights_path: str


# ----------------------------------------------------------------------------- scores

def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """n int64 [K, K], n[i, j] = number of pixels of true class ``labels`` i predicted as j (any equal
    shapes); a ConfigError for an id outside [0, K)."""
    labels, predictions = np.asarray(labels).ravel(), np.asarray(predictions).ravel()
    if labels.shape != predictions.shape:
        raise ConfigError(f"{labels.size} true labels but {predictions.size} predicted labels")
    for name, ids in (("true", labels), ("predicted", predictions)):
        if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
            raise ConfigError(f"{name} class ids {int(ids.min())}..{int(ids.max())} outside [0, {num_classes})")
    counts = np.bincount(num_classes * labels.astype(np.int64) + predictions, minlength=num_classes ** 2)
    return counts.reshape(num_classes, num_classes)


def _mean_of_defined(numerator: np.ndarray, denominator: np.ndarray) -> Tuple[float, list]:
    """(mean of numerator / denominator over the entries with denominator > 0, the per-entry ratios
    with None where it is 0)."""
    defined = denominator > 0
    ratios = np.where(defined, numerator / np.maximum(denominator, 1), np.nan)
    mean = float(np.nanmean(ratios)) if defined.any() else float("nan")
    return mean, [float(r) if d else None for r, d in zip(ratios, defined)]


def segmentation_scores(confusion: np.ndarray) -> Dict:
    """Pixel accuracy, mean class accuracy and mean IoU of a confusion matrix (module docstring), with the
    per-class accuracies and IoUs (None for a class left out of the mean) and the number of pixels."""
    n = np.asarray(confusion, np.float64)
    correct, truth, predicted = np.diag(n), n.sum(axis=1), n.sum(axis=0)
    mean_accuracy, per_class_accuracy = _mean_of_defined(correct, truth)
    mean_iou, per_class_iou = _mean_of_defined(correct, truth + predicted - correct)
    return {"pixel_accuracy": float(correct.sum() / n.sum()) if n.sum() else float("nan"),
            "mean_class_accuracy": mean_accuracy, "mean_iou": mean_iou,
            "per_class_accuracy": per_class_accuracy, "per_class_iou": per_class_iou,
            "num_pixels": int(n.sum())}


def fcn_scores(segmenter: Segmenter, images: np.ndarray, label_maps: np.ndarray, *, batch_size: int = 250) -> Dict:
    """``segmentation_scores`` of the segmenter's reading of ``images`` [N, H, W, C] in [-1, 1] (generated
    from ``label_maps``, or the real images of them) against ``label_maps`` int [N, H, W]."""
    images, label_maps = np.asarray(images, np.float32), np.asarray(label_maps)
    if images.shape[:3] != label_maps.shape:
        raise ConfigError(f"images {images.shape} and label maps {label_maps.shape} differ in size")
    predictions = map_in_batches(segmenter.segment, images, batch_size)
    return segmentation_scores(confusion_matrix(label_maps, predictions, segmenter.num_classes))


# ----------------------------------------------------------------------------- training

@functools.partial(jax.jit, static_argnames=("model", "optimizer"))
def _train_step(model: SegmentationFCN, optimizer: optax.GradientTransformation, variables, opt_state,
                images: jax.Array, label_maps: jax.Array):
    def loss_fn(v):
        logits = model.apply(v, images)
        return optax.softmax_cross_entropy_with_integer_labels(logits, label_maps).mean()

    loss, grads = jax.value_and_grad(loss_fn)(variables)
    updates, opt_state = optimizer.update(grads, opt_state)
    return optax.apply_updates(variables, updates), opt_state, loss


def train_segmenter(images: np.ndarray, label_maps: np.ndarray, *, num_classes: int,
                    settings: SegmenterSettings = DEFAULT_SETTINGS) -> Tuple[dict, np.ndarray]:
    """Trains ``SegmentationFCN`` on real ``images`` [N, H, W, C] in [-1, 1] and their ``label_maps`` int
    [N, H, W] for ``settings.steps`` Adam steps (per-pixel cross-entropy, rate cosine-decayed to 0), batches
    drawn from a permutation per epoch seeded by ``settings.seed``. Returns (variables, per-step losses)."""
    images, label_maps = np.asarray(images, np.float32), np.asarray(label_maps, np.int32)
    if len(images) < settings.batch_size:
        raise ConfigError(f"the segmentation network trains on batches of {settings.batch_size}; only "
                          f"{len(images)} real training examples")
    model = SegmentationFCN(num_classes, tuple(settings.features))
    optimizer = optax.adam(optax.cosine_decay_schedule(settings.learning_rate, settings.steps))

    @jax.jit  # One program: XLA:CPU would compile each initialiser on its own, one by one.
    def init(key):
        variables = model.init(key, jnp.zeros((1, *images.shape[1:]), jnp.float32))
        return variables, optimizer.init(variables)

    variables, opt_state = init(jax.random.PRNGKey(settings.seed))
    rng = np.random.default_rng(settings.seed)
    order, losses = np.empty(0, np.int64), []
    for _ in range(settings.steps):
        if len(order) < settings.batch_size:  # A new epoch: incomplete batches are dropped.
            order = rng.permutation(len(images))
        batch, order = order[:settings.batch_size], order[settings.batch_size:]
        variables, opt_state, loss = _train_step(model, optimizer, variables, opt_state, images[batch],
                                                 label_maps[batch])
        losses.append(loss)
    return variables, np.asarray(jax.device_get(losses))


def _segment_fn(variables: dict, model: SegmentationFCN) -> SegmentFn:
    apply = jax.jit(lambda x: jnp.argmax(model.apply(variables, x), axis=-1).astype(jnp.int32))
    return lambda images: apply(jnp.asarray(images, jnp.float32))


def segmenter(spec: str, cache_dir: str, *, image_shape: Tuple[int, int, int], num_classes: int,
              train_data: Callable[[], Tuple[np.ndarray, np.ndarray]],
              settings: SegmenterSettings = DEFAULT_SETTINGS) -> Segmenter:
    """The segmentation network of the label-map source ``spec`` at ``image_shape`` (H, W, C) with
    ``num_classes`` label classes: read from ``cache_dir`` when cached with these settings, else trained on
    ``train_data() -> (real images [N, H, W, C] in [-1, 1], label maps int [N, H, W])`` (a thunk, so a
    cached network reads no data) and cached."""
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ConfigError(f"the FCN-score needs a label map of at least 2 classes, not {num_classes!r}")
    image_shape = tuple(int(d) for d in image_shape)
    model = SegmentationFCN(num_classes, tuple(settings.features))
    key = f"{spec}@{'x'.join(map(str, image_shape))}/{num_classes}classes"
    weights_path, note_path = cache_paths(cache_dir, "segmenter", key, settings)
    if os.path.isfile(weights_path) and os.path.isfile(note_path):
        template = jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.zeros((1, *image_shape), jnp.float32))
        try:
            with open(weights_path, "rb") as f:
                variables = serialization.from_bytes(template, f.read())
        except (ValueError, KeyError, TypeError) as e:
            raise JaxganError(f"{weights_path} is not a segmentation network of this cache ({e}); delete it and "
                              f"{note_path} and evaluate again to retrain it") from e
        variables = jax.tree_util.tree_map(jnp.asarray, variables)
    else:
        images, label_maps = train_data()
        if np.shape(images)[1:] != image_shape:
            raise ConfigError(f"the segmentation network of {key} trains on images {image_shape}; got "
                              f"{np.shape(images)[1:]}")
        variables, losses = train_segmenter(images, label_maps, num_classes=num_classes, settings=settings)
        os.makedirs(cache_dir, exist_ok=True)
        write_atomically(weights_path, serialization.to_bytes(variables))
        note = {"kind": "segmenter", "spec": spec, "image_shape": list(image_shape), "num_classes": num_classes,
                "settings": dataclasses.asdict(settings), "num_train": len(images),
                "final_loss": float(np.mean(losses[-min(50, len(losses)):]))}
        write_atomically(note_path, json.dumps(note, indent=2).encode())
    return Segmenter(_segment_fn(variables, model), num_classes, weights_path)


def format_fcn_table(result: Dict[str, Dict], note: Optional[str] = None) -> str:
    """Rows name -> ``fcn_scores`` as a table of pixel accuracy, mean class accuracy and mean IoU."""
    lines = [f"{'FCN-score':<15}{'pixel acc.':>11}{'class acc.':>11}{'mean IoU':>10}"
             + (f"  ({note})" if note else "")]
    lines += [f"{name:<15}{row['pixel_accuracy']:>11.4f}{row['mean_class_accuracy']:>11.4f}{row['mean_iou']:>10.4f}"
              for name, row in result.items()]
    return "\n".join(lines)
