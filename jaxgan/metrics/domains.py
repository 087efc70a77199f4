"""Metrics of unpaired image-to-image translation (CycleGAN, Zhu et al. 2017, and its family).

Two kinds of classifier, trained by the project on the run's own domains (``domains:SPEC_A|SPEC_B``,
``unpaired:DIR``; ``jaxgan.data.domains``), read the translations:

- a **label classifier per labelled domain** (the digit classifiers of the built-in MNIST domains:
  ``plain``, ``negative``, ``thick_slanted``, ``coloured``, ...), trained on that domain's real images and
  labels, since the shipped MNIST classifier only knows plain grey digits;
- a **domain classifier** over all the run's domains: real image -> which domain.

Both are ``jaxgan.metrics.classifier.MNISTClassifier`` (its architecture, its 10 outputs, any channel
count) trained by ``jaxgan.metrics.train_classifier.train`` for a fixed number of steps with a fixed seed
on a seeded random subset of ``train_size`` images of each domain's 'train' split (the domain classifier:
``train_size / K`` of each of the K domains), passed through the run's evaluation resize (``image_size``:
the held-out images the classifiers read at evaluation went through it, e.g. 28 -> 32 for the MNIST
configs) and resized to 28x28 (linear, antialiased, as ``jaxgan.evaluate`` resizes digits); the domain
classifier's class d is the d-th domain and its other outputs are unused (so at most 10 domains). Their accuracy on ``test_size`` images of the 'test' split (likewise) is reported.
Weights are cached as msgpack (with a JSON note of the spec, settings and test accuracy) under
``cache_dir``, named by the spec and a hash of spec and training settings; a later evaluation with the
same settings reads them instead of training (the key is the spec, not the files: retrain after changing
a folder's images by deleting the cache). A label classifier is keyed by its domain's own spec, so
``builtin:mnist/plain``'s is shared by every pairing that has it.

For each direction X -> Y, on held-out images x of X with labels l (``unpaired_metrics``):

- label preservation = mean_i [argmax C_Y(G(x_i)) = l_i], C_Y the label classifier of Y: the label
  must survive translation (only between labelled domains with the same number of classes);
- domain fidelity = mean_i [argmax D(G(x_i)) = Y], D the domain classifier;
- cycle error = mean |F(G(x)) - x|, the L1 of the round trip X -> Y -> X in [-1, 1] (the cycle
  consistency of Zhu et al. 2017, eq. 2, per pixel);
- FCD = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)) between Gaussians fitted to the
  penultimate features of C_Y on G(x) and on real test images of Y (Dowson & Landau 1982; FID recipe of
  Heusel et al. 2017); for a domain without labels, in the domain classifier's features.

and, as the ceiling a reader compares with, the same metrics of real images of Y (``real_target``): C_Y's
accuracy on them, the fraction D reads as Y, and the FCD of real train images of Y (when given) to the
real test images of Y.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from typing import Callable, Dict, Mapping, NamedTuple, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from jaxgan.data.domains import LETTERS, DomainsSource
from jaxgan.data.pipeline import to_float_image
from jaxgan.data.transforms import ResizeAndCrop
from jaxgan.data.sources import build_source
from jaxgan.errors import ConfigError, DataSourceError, JaxganError
from jaxgan.metrics import classifier, fid, train_classifier
from jaxgan.metrics.batching import map_in_batches
from jaxgan.metrics.classifier import NUM_CLASSES, ClassifierFn, label_accuracy, make_classifier_fn
from jaxgan.metrics.frechet import frechet_classifier_distance

CLASSIFIER_SIZE = (28, 28)  # Every classifier reads images resized to MNISTClassifier's input size.
CACHE_VERSION = 2  # Part of the cache key: bump when what a cached classifier means changes.

# Default training settings. The shipped classifier trains 2 epochs of MNIST (937 steps of 128); these
# classifiers tell 10 digits (or a few domains) apart on 28x28 images and read ~98% after a few hundred.
STEPS = 400
BATCH_SIZE = 128
TRAIN_SIZE = 20000  # Images per domain drawn (seeded) from its 'train' split.
TEST_SIZE = 2000  # Images per domain of its 'test' split for the reported accuracies.
READ_CHUNK = 1000  # Images read and resized at a time.

TranslateFn = Callable[[np.ndarray, str, str], np.ndarray]


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """What the classifiers are trained with; all of it is part of the cache key.

    ``learning_rate`` and ``max_shift`` are ``train_classifier``'s defaults (Adam 3e-3 on a cosine,
    random shifts of up to 2 pixels)."""

    steps: int = STEPS
    seed: int = 0
    batch_size: int = BATCH_SIZE
    learning_rate: float = 3e-3
    max_shift: int = 2
    train_size: int = TRAIN_SIZE
    test_size: int = TEST_SIZE
    # The run's image size (its evaluation resize, ``ResizeAndCrop.for_evaluation``): the classifiers train
    # on images resized to it and back to 28x28, as they read the run's held-out images; 0: as stored.
    image_size: int = 0


class DomainClassifiers(NamedTuple):
    """The trained classifiers of a run's domains; every function maps images [N, 28, 28, C] in [-1, 1]
    to ``(logits [N, 10], features [N, 128])`` (``classifier_input`` resizes other sizes).

    ``label``: domain letter ('a', 'b', ...) -> its label classifier, None for a domain without labels;
    its keys, in order, are the domains. ``domain``: the domain classifier, logit d = the d-th domain.
    ``test_accuracy``: 'label_a', 'label_b', ... (labelled domains) and 'domain' -> test accuracy.
    ``num_classes``: letter -> the domain's number of label classes (None without labels)."""

    label: Dict[str, Optional[ClassifierFn]]
    domain: ClassifierFn
    test_accuracy: Dict[str, float]
    num_classes: Dict[str, Optional[int]]

    @property
    def letters(self) -> Tuple[str, ...]:
        return tuple(self.label)


# ----------------------------------------------------------------------------- helpers

def classifier_input(images: np.ndarray) -> np.ndarray:
    """Images [N, H, W, C] in [-1, 1] resized to 28x28 (linear, antialiased), float32."""
    images = np.asarray(images, np.float32)
    if images.shape[1:3] == CLASSIFIER_SIZE:
        return images
    shape = (len(images), *CLASSIFIER_SIZE, images.shape[-1])
    return np.asarray(jax.image.resize(images, shape, "linear", antialias=True))


def read_examples(source, size: int, seed: int, image_size: int = 0) -> Dict[str, np.ndarray]:
    """Up to ``size`` examples of a single-domain source (a seeded random subset, in random order): 'image'
    as the run's evaluation pipeline gives it (resized to ``image_size`` x ``image_size`` by the data
    pipeline's ``ResizeAndCrop``, bicubic, when ``image_size`` > 0; the held-out images jaxgan.evaluate
    reads went through the same resize), then as classifier input; and every other key of the source as it
    is ('label', 'attributes')."""
    n = min(size, len(source))
    indices = np.random.default_rng(seed).choice(len(source), n, replace=False)
    resize = ResizeAndCrop(load_size=image_size)
    # In chunks, each resized at once: 20,000 full-size images (256x256 RGB) would not fit in memory.
    chunks = []
    for start in range(0, n, READ_CHUNK):
        chunk = source.get(indices[start:start + READ_CHUNK])
        chunk = resize(chunk, seed=0, step=0, positions=range(len(chunk["image"])))  # No crop or flip: no draw.
        chunks.append({**chunk, "image": classifier_input(to_float_image(chunk["image"]))})
    return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}


def domain_specs(spec: str, count: int) -> Tuple[str, ...]:
    """The spec of each domain of ``domains:S_A|S_B|...`` (S_A, S_B, ...) or ``unpaired:DIR``
    (``unpaired:DIR#A``, ...): a label classifier's cache key."""
    kind, _, arg = spec.partition(":")
    if kind == "domains":
        return tuple(part.strip() for part in arg.split("|") if part.strip())
    return tuple(f"{spec}#{letter.upper()}" for letter in LETTERS[:count])


def cache_paths(cache_dir: str, kind: str, spec: str, settings: TrainingSettings) -> Tuple[str, str]:
    """(weights .msgpack, note .json) of the classifier ``kind`` ('label' or 'domain') of ``spec``."""
    key = json.dumps({"version": CACHE_VERSION, "kind": kind, "spec": spec, **dataclasses.asdict(settings)},
                     sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_")[:80]
    stem = os.path.join(cache_dir, f"{kind}-{slug}-{digest}")
    return stem + ".msgpack", stem + ".json"


def _load_cached(weights_path: str, note_path: str, channels: int) -> Optional[Tuple[dict, float]]:
    """(variables, test accuracy) from the cache, or None when it has no such entry."""
    if not (os.path.isfile(weights_path) and os.path.isfile(note_path)):
        return None
    try:
        with open(weights_path, "rb") as f:
            variables = serialization.from_bytes(classifier.template(channels), f.read())
        with open(note_path) as f:
            accuracy = float(json.load(f)["test_accuracy"])
    except (ValueError, KeyError, TypeError) as e:
        raise JaxganError(f"{weights_path} (or {note_path}) is not a classifier of this cache ({e}); delete "
                          "both files and evaluate again to retrain it") from e
    return jax.tree_util.tree_map(jnp.asarray, variables), accuracy


def write_atomically(path: str, data: bytes) -> None:
    """Writes via a temporary file and a rename, so a reader never sees half a file."""
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "wb") as f:
        f.write(data)
    os.replace(temporary, path)


def cached_classifier(kind: str, spec: str, cache_dir: str, settings: TrainingSettings, channels: int,
                train_data: Callable[[], Tuple[np.ndarray, np.ndarray]],
                test_data: Callable[[], Tuple[np.ndarray, np.ndarray]]) -> Tuple[ClassifierFn, float]:
    """The cached classifier ``kind`` of ``spec``, or one trained on ``train_data() -> (images, targets)``
    and scored on ``test_data()``, then cached. The data are thunks so a cached classifier reads none."""
    weights_path, note_path = cache_paths(cache_dir, kind, spec, settings)
    cached = _load_cached(weights_path, note_path, channels)
    if cached is None:
        images, targets = train_data()
        variables, _ = train_classifier.train(
            images, targets, steps=settings.steps, batch_size=min(settings.batch_size, len(images)),
            learning_rate=settings.learning_rate, max_shift=settings.max_shift, seed=settings.seed)
        test_images, test_targets = test_data()
        logits, _ = map_in_batches(make_classifier_fn(variables), test_images, 1000)
        accuracy = label_accuracy(logits, test_targets)
        os.makedirs(cache_dir, exist_ok=True)
        write_atomically(weights_path, serialization.to_bytes(variables))
        note = {"kind": kind, "spec": spec, "settings": dataclasses.asdict(settings), "channels": channels,
                "test_accuracy": accuracy, "num_train": len(images), "num_test": len(test_images)}
        write_atomically(note_path, json.dumps(note, indent=2).encode())
        cached = variables, accuracy
    variables, accuracy = cached
    return make_classifier_fn(variables), accuracy


# ----------------------------------------------------------------------------- classifiers

def _open(spec: str, split: str) -> DomainsSource:
    try:
        source = build_source(spec, split)
    except DataSourceError as e:
        raise DataSourceError(f"the domain and label classifiers train on the 'train' split of each domain and are "
                              f"scored on its 'test' split: {e}") from e
    if not isinstance(source, DomainsSource):
        raise ConfigError(f"the unpaired-translation metrics need a source of several domains (domains:SPEC_A|SPEC_B "
                          f"or unpaired:DIR), not {spec!r}")
    if len(source.domains) > NUM_CLASSES:
        raise ConfigError(f"{spec}: {len(source.domains)} domains; the domain classifier (MNISTClassifier, "
                          f"{NUM_CLASSES} outputs) tells at most {NUM_CLASSES} apart")
    return source


def _num_classes(domain, letter: str, spec: str) -> Optional[int]:
    """The label classes of a domain that yields labels of 2..10 classes; None for no labels (or one class,
    nothing to preserve); a ConfigError for more classes than MNISTClassifier has outputs."""
    classes = getattr(domain, "num_classes", None)
    if classes is None or classes < 2 or "label" not in domain.get(np.zeros(1, np.int64)):
        return None
    if classes > NUM_CLASSES:
        raise ConfigError(f"{spec}: domain {letter.upper()} ({getattr(domain, 'name', domain)}) has {classes} label "
                          f"classes; the label classifier (MNISTClassifier) has {NUM_CLASSES} outputs")
    return int(classes)


def domain_classifiers(spec: str, cache_dir: str, *, steps: int = STEPS, seed: int = 0, batch_size: int = BATCH_SIZE,
                       train_size: int = TRAIN_SIZE, test_size: int = TEST_SIZE, image_size: int = 0
                       ) -> DomainClassifiers:
    """The label classifier of each labelled domain of the unpaired source ``spec`` and its domain
    classifier, trained (or read from ``cache_dir``, e.g. ``WORKDIR/eval/classifiers``) as the module
    docstring says, with their test accuracies."""
    settings = TrainingSettings(steps=steps, seed=seed, batch_size=batch_size, train_size=train_size,
                                test_size=test_size, image_size=image_size)
    train, test = _open(spec, "train"), _open(spec, "test")
    letters = train.letters
    specs = domain_specs(spec, len(letters))
    channels = train.image_shape[-1]
    # Each domain's images are read at most once per split, and only when some classifier is not cached.
    read = {}

    def data(split_source, split: str, d: int, size: int) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        if (split, d) not in read:
            examples = read_examples(split_source.domains[d], size, settings.seed + d, settings.image_size)
            read[split, d] = examples["image"], examples.get("label")
        return read[split, d]

    label, accuracy, num_classes = {}, {}, {}
    for d, letter in enumerate(letters):
        num_classes[letter] = _num_classes(train.domains[d], letter, spec)
        if num_classes[letter] is None:
            label[letter] = None
            continue
        label[letter], accuracy[f"label_{letter}"] = cached_classifier(
            "label", specs[d], cache_dir, settings, channels,
            lambda d=d: data(train, "train", d, settings.train_size),
            lambda d=d: data(test, "test", d, settings.test_size))

    def all_domains(split_source, split: str, size: int) -> Tuple[np.ndarray, np.ndarray]:
        # size // K images of each of the K domains: as many as a label classifier sees (one compilation
        # of the training step serves all of them when K divides size).
        parts = [data(split_source, split, d, size)[0][:size // len(letters)] for d in range(len(letters))]
        return np.concatenate(parts), np.repeat(np.arange(len(parts), dtype=np.int32), [len(p) for p in parts])

    domain, accuracy["domain"] = cached_classifier(
        "domain", spec, cache_dir, settings, channels,
        lambda: all_domains(train, "train", settings.train_size),
        lambda: all_domains(test, "test", settings.test_size))
    return DomainClassifiers(label, domain, accuracy, num_classes)


# ----------------------------------------------------------------------------- metrics

def _read_real(classifiers: DomainClassifiers, letter: str, images: np.ndarray, batch_size: int):
    """(label logits or None, FCD features, domain logits restricted to the domains) of ``images``, each
    batch resized to the classifiers' input size on its own."""
    label_fn = classifiers.label[letter]

    def read(batch):
        x = classifier_input(batch)
        return classifiers.domain(x), (label_fn(x) if label_fn is not None else None)

    (domain_logits, domain_features), label_read = map_in_batches(read, images, batch_size)
    domain_logits = domain_logits[:, :len(classifiers.letters)]
    if label_read is None:
        return None, domain_features, domain_logits
    return (*label_read, domain_logits)


def _fcd_features(classifiers: DomainClassifiers, letter: str) -> str:
    return "label" if classifiers.label[letter] is not None else "domain"


def by_domain(batch: Mapping[str, np.ndarray]) -> Tuple[Dict[str, np.ndarray], Dict[str, Optional[np.ndarray]]]:
    """A batch of an unpaired source (``image_a``, ``label_a``, ``image_b``, ...) as (images by domain,
    labels by domain; None for a domain without labels)."""
    letters = sorted(key[len("image_"):] for key in batch if key.startswith("image_"))
    return ({letter: np.asarray(batch[f"image_{letter}"]) for letter in letters},
            {letter: (np.asarray(batch[f"label_{letter}"]) if f"label_{letter}" in batch else None)
             for letter in letters})


def direction_name(source: str, target: str) -> str:
    """'AtoB' for domains 'a' -> 'b' (the ``direction`` of CycleGAN's ``translate``)."""
    return f"{source.upper()}to{target.upper()}"


def unpaired_metrics(translate_fn: TranslateFn, images_by_domain: Mapping[str, np.ndarray],
                     labels_by_domain: Mapping[str, Optional[np.ndarray]], classifiers: DomainClassifiers, *,
                     reference_images_by_domain: Optional[Mapping[str, np.ndarray]] = None,
                     directions: Optional[Sequence[Tuple[str, str]]] = None, round_trip: bool = True,
                     batch_size: int = 250, inception: Optional[fid.FeaturesFn] = None,
                     seed: int = 0) -> Dict[str, Dict]:
    """Label preservation, domain fidelity, cycle error and FCD of each direction X -> Y (module
    docstring), with the real-data ceiling of Y, keyed by direction name ('AtoB', 'BtoA', ...).

    ``translate_fn(images, source, target)`` maps a batch of images of domain ``source`` ('a') in [-1, 1]
    to domain ``target`` ('b'); it is called on batches of exactly ``batch_size`` images (the last one
    zero-padded). ``images_by_domain``: letter -> held-out (test) images [N, H, W, C] in [-1, 1] at the
    model's resolution; ``labels_by_domain``: letter -> int labels [N] or None. ``reference_images_by_domain``
    (optional): letter -> real TRAIN images, for the real FCD train vs test (use as many as the test images
    of the source direction, FCD depends on the sample size). ``directions``: (source, target) letter pairs,
    default every ordered pair of the given domains. ``round_trip=False`` for a method that translates one
    way only (DTN): no cycle error (None).

    Each direction's dict: ``source``, ``target``, ``num_images``, ``label_preservation`` (None unless
    both domains have labels with the same classes), ``domain_fidelity``, ``cycle_error``, ``fcd``,
    ``fcd_features`` ('label': Y's label classifier; 'domain': the domain classifier, Y has no labels),
    ``classifier_test_accuracy`` ({'label': C_Y's or None, 'domain': D's}), and ``real_target``: Y's real
    test images' ``label_accuracy`` (None without labels), ``domain_fidelity``, ``fcd_train_vs_test``
    (None without reference images) and ``num_images``. With ``inception`` (images -> FID Inception
    features, ``jaxgan.metrics.fid.features_fn``) each direction adds ``fid``, ``kid`` and ``kid_std`` of
    the translations against Y's real test images, and ``real_target`` adds ``fid_train_vs_test`` (with
    reference images); ``seed`` draws KID's subsets."""
    letters = classifiers.letters
    unknown = sorted(set(images_by_domain) - set(letters))
    if unknown:
        raise ConfigError(f"images of domain(s) {unknown}; the classifiers know domains {list(letters)}")
    if directions is None:
        present = [letter for letter in letters if letter in images_by_domain]
        directions = [(x, y) for x in present for y in present if x != y]
    missing = sorted({letter for pair in directions for letter in pair} - set(images_by_domain))
    if missing:
        raise ConfigError(f"directions {list(directions)} need test images of domain(s) {missing}")

    real = {}
    for y in sorted({target for _, target in directions}):
        label_logits, features, domain_logits = _read_real(classifiers, y, images_by_domain[y], batch_size)
        labels = labels_by_domain.get(y)
        reference = (reference_images_by_domain or {}).get(y)
        fcd = None
        if reference is not None:
            fcd = frechet_classifier_distance(_read_real(classifiers, y, reference, batch_size)[1], features)
        real[y] = {"features": features, "row": {
            "label_accuracy": (None if label_logits is None or labels is None
                               else label_accuracy(label_logits, labels)),
            "domain_fidelity": float(np.mean(np.argmax(domain_logits, axis=1) == letters.index(y))),
            "fcd_train_vs_test": fcd, "num_images": len(images_by_domain[y])}}
        if inception is not None:  # FID and KID: the FID Inception network's features of Y's real images.
            real[y]["inception"] = inception(images_by_domain[y])
            if reference is not None:
                real[y]["row"]["fid_train_vs_test"] = frechet_classifier_distance(inception(reference),
                                                                                  real[y]["inception"])

    result = {}
    for x, y in directions:
        source = np.asarray(images_by_domain[x], np.float32)
        translated = map_in_batches(lambda b: translate_fn(b, x, y), source, batch_size)
        cycle_error = None
        if round_trip:
            cycled = map_in_batches(lambda b: translate_fn(b, y, x), translated, batch_size)
            cycle_error = float(np.mean(np.abs(cycled - source)))
        label_logits, features, domain_logits = _read_real(classifiers, y, translated, batch_size)
        labels = labels_by_domain.get(x)
        preserved = (label_logits is not None and labels is not None
                     and classifiers.num_classes[x] == classifiers.num_classes[y])
        result[direction_name(x, y)] = {
            "source": x, "target": y, "num_images": len(source),
            "label_preservation": label_accuracy(label_logits, labels) if preserved else None,
            "domain_fidelity": float(np.mean(np.argmax(domain_logits, axis=1) == letters.index(y))),
            "cycle_error": cycle_error,
            "fcd": frechet_classifier_distance(features, real[y]["features"]),
            "fcd_features": _fcd_features(classifiers, y),
            "classifier_test_accuracy": {"label": classifiers.test_accuracy.get(f"label_{y}"),
                                         "domain": classifiers.test_accuracy["domain"]},
            "real_target": real[y]["row"]}
        if inception is not None:
            result[direction_name(x, y)].update(fid.fid_and_kid(inception(translated), real[y]["inception"], seed=seed))
    return result


def _cell(value: Optional[float], fmt: str, width: int) -> str:
    return (format(value, fmt) if value is not None else "-").rjust(width)


def format_unpaired_table(result: Mapping[str, Mapping]) -> str:
    """``unpaired_metrics``' result as a table: per direction a row of the translations and a row of the
    real target images (the ceiling), then the classifiers' test accuracies."""
    lines = [f"{'direction':<10}{'row':<12}{'label pres.':>12}{'domain fid.':>12}{'cycle L1':>10}{'FCD':>10}"
             f"{'FCD in':>10}{'images':>8}"]
    accuracies = {}
    for name, row in result.items():
        real, target = row["real_target"], row["target"].upper()
        features = f"label {target}" if row["fcd_features"] == "label" else "domain"
        lines.append(f"{name:<10}{'translated':<12}{_cell(row['label_preservation'], '.4f', 12)}"
                     f"{row['domain_fidelity']:>12.4f}{_cell(row['cycle_error'], '.4f', 10)}{row['fcd']:>10.2f}"
                     f"{features:>10}{row['num_images']:>8}")
        lines.append(f"{'':<10}{'real ' + target:<12}{_cell(real['label_accuracy'], '.4f', 12)}"
                     f"{real['domain_fidelity']:>12.4f}{'-':>10}{_cell(real['fcd_train_vs_test'], '.2f', 10)}"
                     f"{features:>10}{real['num_images']:>8}")
        accuracies[f"label {target}"] = row["classifier_test_accuracy"]["label"]
        accuracies["domain"] = row["classifier_test_accuracy"]["domain"]
    known = ", ".join(f"{name} {value:.4f}" for name, value in sorted(accuracies.items()) if value is not None)
    lines += ["real Y: Y's real test images (label accuracy, read as Y; FCD: real Y train vs test images)",
              f"classifier test accuracy: {known}"]
    if any("fid" in row for row in result.values()):  # Against Y's real test images; real Y: train vs test.
        rows = {}
        for name, row in result.items():
            rows[f"{name} translated"] = row
            rows[f"{name} real {row['target'].upper()}"] = {"fid": row["real_target"].get("fid_train_vs_test")}
        lines += ["", "FID and KID against Y's real test images (real Y: FID of its train vs test images):",
                  fid.format_rows(rows)]
    return "\n".join(lines)
