"""Trains the MNIST classifier behind the metrics and writes its weights (msgpack).

    python -m jaxgan.metrics.train_classifier --out jaxgan/metrics/weights/mnist_classifier.msgpack

Adam with a cosine-decayed learning rate, random shifts of up to +-2 pixels, dropout before
the logits; deterministic given ``--seed``. Prints the test accuracy at the end.

``--source SPEC`` trains the same network on another labelled source instead of the built-in MNIST
(its 'train' split; scored on its 'test' split; images resized to 28x28 as the domain metrics read
them; any channel count), e.g. the fixed f of the Domain Transfer Network on its source domain:

    python -m jaxgan.metrics.train_classifier --source builtin:mnist/plain_rgb --out runs/f_plain_rgb.msgpack
"""

from __future__ import annotations

import argparse
import functools
import time
from typing import Callable, Iterator, Tuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from jaxgan.data.mnist import load_mnist
from jaxgan.errors import DataSourceError, JaxganError
from jaxgan.metrics.classifier import (
    DEFAULT_WEIGHTS,
    NUM_CLASSES,
    MNISTClassifier,
    label_accuracy,
    make_classifier_fn,
)
from jaxgan.train_step import compiler_options


def to_model_space(images: np.ndarray) -> np.ndarray:
    """uint8 [N, 28, 28] -> float32 [N, 28, 28, 1] in [-1, 1]."""
    return (images.astype(np.float32) / 127.5 - 1.0)[..., None]


def random_shift(key: jax.Array, images: jax.Array, max_shift: int) -> jax.Array:
    """Translates each image ``[N, H, W, C]`` by an independent integer offset in [-max_shift, max_shift]^2."""
    if max_shift == 0:
        return images
    m = max_shift
    padded = jnp.pad(images, ((0, 0), (m, m), (m, m), (0, 0)), constant_values=-1.0)
    offsets = jax.random.randint(key, (images.shape[0], 2), 0, 2 * m + 1)
    crop = lambda img, o: jax.lax.dynamic_slice(img, (o[0], o[1], 0), images.shape[1:])
    return jax.vmap(crop)(padded, offsets)


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless stream of index batches, reshuffled every epoch; incomplete batches dropped."""
    while True:
        perm = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield perm[start : start + batch_size]


_ADAM = optax.scale_by_adam()


def label_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """-E_i log softmax(logits_i)[y_i]: the classifier's loss on integer class labels."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def _train_step(
    variables: dict,
    opt_state: optax.OptState,
    images: jax.Array,
    labels: jax.Array,
    idx: jax.Array,
    key: jax.Array,
    learning_rate: jax.Array,
    max_shift: int,
    loss: Callable[[jax.Array, jax.Array], jax.Array],
) -> Tuple[dict, optax.OptState, jax.Array]:
    """One Adam step of ``loss`` on the batch ``images[idx]``, randomly shifted, with dropout."""
    shift_key, dropout_key = jax.random.split(key)
    x = random_shift(shift_key, images[idx], max_shift)

    def loss_fn(v):
        logits, _ = MNISTClassifier().apply(v, x, train=True, rngs={"dropout": dropout_key})
        return loss(logits, labels[idx])

    loss, grads = jax.value_and_grad(loss_fn)(variables)
    updates, opt_state = _ADAM.update(grads, opt_state)
    variables = jax.tree_util.tree_map(lambda p, u: p - learning_rate * u, variables, updates)
    return variables, opt_state, loss


@functools.partial(jax.jit, static_argnums=1)
def _init(key: jax.Array, image_shape: Tuple[int, ...]) -> Tuple[dict, optax.OptState]:
    """Fresh ``MNISTClassifier`` variables for images of ``image_shape`` and their Adam state, as one
    compiled program (XLA:CPU would compile each initialiser on its own)."""
    variables = MNISTClassifier().init(key, jnp.zeros((1, *image_shape), jnp.float32))
    return variables, _ADAM.init(variables)


@functools.cache
def _compiled_train_step(backend: str):
    """``_train_step`` jit-compiled with the engine's XLA options for ``cpu_ynnpack=False`` on the CPU
    backend (``train_step.compiler_options``: Eigen's convolutions, which ran this step ~1.9x faster than
    YNNPACK's on one core; RESULTS.md, "Max pooling as a reshape")."""
    del backend  # The cache key: compiler_options reads the default backend.
    return jax.jit(_train_step, static_argnames=("max_shift", "loss"),
                   compiler_options=compiler_options(cpu_ynnpack=False))


def train(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    steps: int,
    batch_size: int = 128,
    learning_rate: float = 3e-3,
    max_shift: int = 2,
    seed: int = 0,
    log_every: int = 0,
    loss: Callable[[jax.Array, jax.Array], jax.Array] = label_cross_entropy,
) -> Tuple[dict, np.ndarray]:
    """Trains ``MNISTClassifier`` for ``steps`` Adam steps on ``images [N, 28, 28, C]`` in [-1, 1]
    (C = 1 for the shipped weights; ``jaxgan.metrics.domains`` also trains it on RGB domains).

    Minimises ``loss(logits, targets)`` over ``labels``: by default the softmax cross-entropy of integer
    class labels [N]; ``jaxgan.metrics.attributes`` passes attribute vectors [N, A] and its multi-label
    loss. The learning rate decays from ``learning_rate`` to 0 on a cosine. Returns (variables,
    per-step training losses).
    """
    if len(images) < batch_size:
        raise ValueError(f"batch_size {batch_size} exceeds the {len(images)} training images")
    schedule = optax.cosine_decay_schedule(learning_rate, steps)
    key, init_key = jax.random.split(jax.random.PRNGKey(seed))
    variables, opt_state = _init(init_key, images.shape[1:])
    labels_dev = jnp.asarray(labels, jnp.int32 if np.issubdtype(np.asarray(labels).dtype, np.integer) else jnp.float32)
    images_dev = jnp.asarray(images, jnp.float32)
    batches = _batches(len(images), batch_size, np.random.default_rng(seed))
    losses = []
    step = _compiled_train_step(jax.default_backend())
    for i in range(steps):
        variables, opt_state, step_loss = step(
            variables,
            opt_state,
            images_dev,
            labels_dev,
            next(batches),
            jax.random.fold_in(key, i),
            jnp.float32(schedule(i)),
            max_shift,
            loss,
        )
        losses.append(step_loss)
        if log_every and (i + 1) % log_every == 0:
            recent = np.mean(jax.device_get(losses[-log_every:]))
            print(f"step {i + 1}/{steps}  loss {recent:.4f}", flush=True)
    return variables, np.asarray(jax.device_get(losses))


def labelled_examples(spec: str, split: str, size: int, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """(images [N, 28, 28, C] in [-1, 1], labels [N]) of the labelled source ``spec``'s ``split``: all of
    it, or a seeded random subset of ``size`` > 0 images; a DataSourceError for a source without labels
    of at most ``NUM_CLASSES`` classes."""
    from jaxgan.data.sources import build_source
    from jaxgan.metrics.domains import read_examples  # It trains classifiers with this module.

    source = build_source(spec, split)
    examples = read_examples(source, size or len(source), seed)
    labels = examples.get("label")
    classes = getattr(source, "num_classes", None)
    if labels is None or np.ndim(labels) != 1 or not classes or classes > NUM_CLASSES:
        raise DataSourceError(f"{spec} ({split}) has no integer labels of at most {NUM_CLASSES} classes (its "
                              f"keys: {sorted(examples)}, classes: {classes}); the classifier trains on a "
                              "labelled source, e.g. builtin:mnist/plain_rgb")
    return examples["image"], labels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=DEFAULT_WEIGHTS, help="where to write the msgpack weights")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--max-shift", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", default="", help="a labelled data source (e.g. builtin:mnist/plain_rgb) "
                        "instead of the built-in MNIST")
    parser.add_argument("--train-size", type=int, default=0,
                        help="with --source: train on a seeded random subset of this many images (0: all)")
    args = parser.parse_args(argv)

    if args.train_size and not args.source:
        parser.error("--train-size subsets a --source; the built-in MNIST trains on all 60,000 images")
    start = time.time()
    if args.source:
        try:
            (train_images, train_labels), (test_images, test_labels) = (
                labelled_examples(args.source, split, size, args.seed)
                for split, size in (("train", args.train_size), ("test", 0)))
        except JaxganError as e:
            parser.error(str(e))
    else:
        (train_images, train_labels), (test_images, test_labels) = (
            (to_model_space(images), labels) for images, labels in (load_mnist("train"), load_mnist("test")))
    steps = int(args.epochs * (len(train_images) // args.batch_size))
    print(f"training {steps} steps of {args.batch_size} images ({args.epochs} epochs)", flush=True)
    variables, _ = train(
        train_images,
        train_labels,
        steps=steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_shift=args.max_shift,
        seed=args.seed,
        log_every=100,
    )
    from jaxgan.metrics.domains import map_in_batches  # It trains classifiers with this module.

    logits, _ = map_in_batches(make_classifier_fn(variables), test_images, 1000)
    accuracy = label_accuracy(logits, test_labels)
    with open(args.out, "wb") as f:
        f.write(serialization.to_bytes(variables))
    print(f"test accuracy {accuracy:.4f}; wrote {args.out}; wall time {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
