"""A small MNIST classifier used as the feature extractor of the evaluation metrics.

``MNISTClassifier`` maps images to ``(logits [N, 10], features [N, 128])``; the features
(the penultimate, post-ReLU dense layer) feed the Frechet distance, the logits the label
accuracy of conditional samples. Weights ship in ``weights/mnist_classifier.msgpack`` and
are produced by ``python -m jaxgan.metrics.train_classifier``.
"""

from __future__ import annotations

import functools
import os
from typing import Callable, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from jaxgan.networks.layers import max_pool_2x2

DEFAULT_WEIGHTS = os.path.join(os.path.dirname(__file__), "weights", "mnist_classifier.msgpack")
TRAIN_COMMAND = (
    "python -m jaxgan.metrics.train_classifier --out jaxgan/metrics/weights/mnist_classifier.msgpack"
)
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
FEATURE_DIM = 128

ClassifierFn = Callable[[jax.Array], Tuple[jax.Array, jax.Array]]


class MNISTClassifier(nn.Module):
    """conv32-conv32-pool-conv64-conv64-pool-dense128-dense10, 3x3 'VALID' convs, ReLU.

    Spatial sizes 28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 4; dropout (training only) sits
    between the 128-d features and the logits.
    """

    dropout_rate: float = 0.25

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool = False) -> Tuple[jax.Array, jax.Array]:
        for block in ((32, 32), (64, 64)):
            for channels in block:
                x = nn.relu(nn.Conv(channels, (3, 3), padding="VALID")(x))
            x = max_pool_2x2(x)
        x = x.reshape(x.shape[0], -1)
        features = nn.relu(nn.Dense(FEATURE_DIM)(x))
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(features)
        return nn.Dense(NUM_CLASSES)(h), features


@jax.jit
def init_params(key: jax.Array) -> dict:
    """Fresh variables ``{'params': ...}`` of ``MNISTClassifier``."""
    return MNISTClassifier().init(key, jnp.zeros((1, *IMAGE_SHAPE), jnp.float32))


def template(channels: int = IMAGE_SHAPE[-1]) -> dict:
    """Zero variables of ``MNISTClassifier`` on 28x28 images of ``channels`` channels (numpy)."""
    shapes = jax.eval_shape(MNISTClassifier().init, jax.random.PRNGKey(0),
                            jnp.zeros((1, *IMAGE_SHAPE[:2], channels), jnp.float32))
    return jax.tree_util.tree_map(lambda s: np.zeros(s.shape, s.dtype), shapes)


def load_variables(path: str = DEFAULT_WEIGHTS, channels: int = IMAGE_SHAPE[-1]) -> dict:
    """The ``MNISTClassifier`` variables (numpy) stored at ``path`` by ``train_classifier``, for images of
    ``channels`` channels; FileNotFoundError or ValueError, naming the file and the fix, otherwise."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"MNIST classifier weights not found at {path}; train them with `{TRAIN_COMMAND}`"
        )
    expected = template(channels)
    with open(path, "rb") as f:
        data = f.read()
    try:
        variables = serialization.from_bytes(expected, data)
        matches = jax.tree_util.tree_map(lambda t, v: t.shape == np.shape(v), expected, variables)
    except ValueError as e:
        raise ValueError(f"{path} does not hold MNISTClassifier weights: {e}") from e
    if not all(jax.tree_util.tree_leaves(matches)):
        raise ValueError(
            f"{path} holds weights of another shape than MNISTClassifier's on {channels}-channel images; "
            f"retrain with `{TRAIN_COMMAND}` (add --source SPEC for images of another domain)"
        )
    return variables


def load_classifier(path: str = DEFAULT_WEIGHTS) -> ClassifierFn:
    """Returns a jitted ``images [N, 28, 28, 1] in [-1, 1] -> (logits, features)``."""
    return make_classifier_fn(jax.tree_util.tree_map(jnp.asarray, load_variables(path)))


@jax.jit
def _apply(variables: dict, images: jax.Array) -> Tuple[jax.Array, jax.Array]:
    return MNISTClassifier().apply(variables, images)


def make_classifier_fn(variables: dict) -> ClassifierFn:
    """Binds ``variables`` to the jitted inference pass ``images -> (logits, features)``."""
    return functools.partial(_apply, variables)


def classify_in_batches(
    fn: ClassifierFn, images: np.ndarray, batch_size: int = 1000
) -> Tuple[np.ndarray, np.ndarray]:
    """Runs ``fn`` over ``images [N, 28, 28, 1]`` in batches; returns numpy (logits, features).

    The last batch is zero-padded to the batch size, so a jitted ``fn`` compiles once.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"expected images of shape [N, 28, 28, 1], got {images.shape}")
    n = len(images)
    if n == 0:
        return np.zeros((0, NUM_CLASSES), np.float32), np.zeros((0, FEATURE_DIM), np.float32)
    batch_size = min(batch_size, n)
    padded = np.concatenate([images, np.zeros((-n % batch_size, *IMAGE_SHAPE), np.float32)])
    logits, features = [], []
    for start in range(0, len(padded), batch_size):
        l, f = fn(padded[start : start + batch_size])
        logits.append(np.asarray(l))
        features.append(np.asarray(f))
    return np.concatenate(logits)[:n], np.concatenate(features)[:n]


def label_accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples whose argmax class equals their (conditioning) label."""
    logits, labels = np.asarray(logits), np.asarray(labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"expected logits [N, C] and labels [N], got {logits.shape}, {labels.shape}")
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def per_class_accuracy(logits: np.ndarray, labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Label accuracy per conditioning class, ``[num_classes]``; NaN for a class with no samples."""
    logits, labels = np.asarray(logits), np.asarray(labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"expected logits [N, C] and labels [N], got {logits.shape}, {labels.shape}")
    correct = (np.argmax(logits, axis=1) == labels).astype(np.float64)
    totals = np.bincount(labels, minlength=num_classes)[:num_classes].astype(np.float64)
    hits = np.bincount(labels, weights=correct, minlength=num_classes)[:num_classes]
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / totals
