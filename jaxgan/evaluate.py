"""Evaluation command: the metrics of a checkpoint's family against real data.

    python -m jaxgan.evaluate --workdir runs/cgan_mnist [--parzen] [--reference]
    python -m jaxgan.evaluate --workdir runs/pix2pix_mnist_edges

An image-to-image run (its method translates) is scored on its held-out pairs by
``translation_result``: PSNR, SSIM, mean L1/L2, and for the built-in digit tasks the classifier's
accuracy and FCD of the outputs. An attribute-conditioned run (StarGAN, Fader Networks) is scored by
``attribute_result``: each attribute flipped on held-out images, the fraction read as flipped, the other
attributes kept and the digit preserved (``jaxgan.metrics.attributes``); with ``--as_domains
domains:SPEC_A|SPEC_B``, a run of one attribute is scored instead as a two-domain translator on that
source's held-out images (``as_domains_result``: A -> B turns the attribute on, B -> A off), with the
same classifiers and table as a two-domain run on it, so StarGAN sits in the same table as CycleGAN. A CoGAN
run (pairs from noise) is scored by ``coupled_result``: the paper's pixel agreement of its pairs, and how
often its two domains' digit classifiers read the two images of a pair as the same digit.
A label-conditional run: the command generates ``--num_samples`` images with balanced labels and reports,
with the shipped MNIST classifier (``jaxgan.metrics``):

- accuracy: the fraction classified as the label they were conditioned on, per class and overall;
- IS: the Inception-score analogue exp(E KL(p(y|x) || p(y))) of the classifier's softmax, mean and
  std over 10 splits (Salimans et al. 2016);
- FCD and intra-FCD: the Frechet distance between classifier features of the samples and of the
  real test set, overall and between class k samples and class k test images, averaged over classes
  (Miyato & Koyama 2018);
- precision and recall: improved precision and recall, k = 3, in classifier features, on equally
  sized random subsets of samples and test images (Kynkaanniemi et al. 2019);
- MS-SSIM: the mean MS-SSIM of 100 random pairs of samples of the same class, per class and
  averaged; lower is more diverse (Odena et al. 2017);
- with ``--parzen``, the Parzen-window log-likelihood of the test set (Mirza & Osindero 2014), sigma
  chosen on the validation images ``train[50000:]`` (Goodfellow et al. 2014's protocol); the result
  says whether the run trained on them (its ``data.split`` overlaps them), in which case the figure
  is not comparable with the paper's.

With ``--inception_weights FILE`` (a .npz of pytorch-fid's weights, ``jaxgan.metrics.fid``) every family
adds FID and KID in the FID Inception network's features, against the real images its other figures read.

Rows: ``generated``; ``real_test``, the test images' own accuracy, IS and MS-SSIM (the metrics that
compare with the test set are not computed against itself); with ``--reference``, ``real_train``,
every metric for real training images (from ``train[:50000]``, outside the Parzen validation images)
in place of generated ones. Writes
``WORKDIR/eval/step_N.json`` (``step_N_noema.json`` for ``--noema`` on a run with an EMA generator,
``_seedK`` for a noise seed K other than 0, ``_as_domains`` for ``--as_domains``, so that one setting
does not overwrite another's numbers)
and prints a table.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import os
from typing import Dict, NamedTuple, Optional, Tuple

import jax
import numpy as np
from absl import app, flags

from jaxgan import errors, metrics, restore
from jaxgan.data import split as splits
from jaxgan.data.pipeline import Pipeline, to_float_image
from jaxgan.data.sources import build_source
from jaxgan.data.transforms import ResizeAndCrop
from jaxgan.errors import ConfigError, DataSourceError
from jaxgan.methods import cogan
from jaxgan.metrics import attributes, domains, fid, segmentation, translation

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The flags of ``python -m jaxgan.evaluate``, defined when it runs as a command rather than on import,
    so that the commands' modules (whose flags share names) can be imported together."""
    flags.DEFINE_string("workdir", None, "Workdir of a trained run.")
    flags.DEFINE_integer("step", None, "Checkpoint step (default: latest).")
    flags.DEFINE_integer("num_samples", 10000, "Generated samples (balanced over classes); at least 2 per class.")
    flags.DEFINE_integer("batch_size", 1000, "Generation and classification batch size.")
    flags.DEFINE_integer("seed", 0, "Seed of the noise.")
    flags.DEFINE_bool("ema", True, "Use the EMA generator when the run has one.")
    flags.DEFINE_bool("parzen", False, "Also the Parzen-window log-likelihood (a few CPU minutes).")
    flags.DEFINE_bool("reference", False, "Also the real-data reference row.")
    flags.DEFINE_string("as_domains", None, "A one-attribute run (StarGAN, Fader) scored as a two-domain translator "
                        "on this domains:SPEC_A|SPEC_B source (A: the attribute off, B: on), e.g. "
                        "'domains:builtin:mnist/plain|builtin:mnist/thick_slanted'.")
    flags.DEFINE_string("inception_weights", None, "Also FID and KID in the FID Inception network's features: a .npz of "
                        "pytorch-fid's weights (how to make it: jaxgan/metrics/fid.py).")
    flags.mark_flag_as_required("workdir")

# The Parzen-window protocol of Goodfellow et al. (2014), which Mirza & Osindero (2014) follow: sigma
# is chosen on a validation set the model did not train on, MNIST's last 10,000 training images; a
# config compared with the paper trains on the other 50,000 (data.split = 'train[:50000]'), from
# which the real_train reference row draws too.
PARZEN_VALIDATION_SPLIT = "train[50000:]"
REFERENCE_SPLIT = "train[:50000]"


def generate(method, variables, num_classes: int, num_samples: int, batch_size: int, seed: int
             ) -> Tuple[np.ndarray, np.ndarray]:
    """``num_samples`` images with labels 0, 1, ..., K-1, 0, 1, ...; one compiled batch shape."""
    labels = np.arange(num_samples, dtype=np.int32) % num_classes
    fn = jax.jit(lambda v, key, y: method.generate(v, method.sample_noise(key, y.shape[0]), y))
    padded = np.concatenate([labels, np.zeros(-num_samples % batch_size, np.int32)])
    key = jax.random.PRNGKey(seed)
    out = [np.asarray(fn(variables, jax.random.fold_in(key, i), padded[s:s + batch_size]))
           for i, s in enumerate(range(0, len(padded), batch_size))]
    return np.concatenate(out)[:num_samples], labels


class RealData(NamedTuple):
    """The real test set every row is compared with, and its classifier outputs."""

    images: np.ndarray
    labels: np.ndarray
    logits: np.ndarray
    features: np.ndarray


def own_metrics(images: np.ndarray, labels: np.ndarray, logits: np.ndarray, *, num_classes: int, seed: int
                ) -> Dict:
    """Metrics of a labelled image set on its own: label accuracy, Inception score, within-class
    MS-SSIM."""
    inception = metrics.inception_score(logits)
    diversity = metrics.class_diversity(images, labels, num_classes, seed=seed,
                                        filter_size=metrics.SMALL_IMAGE_FILTER_SIZE)
    return {
        "accuracy": metrics.label_accuracy(logits, labels),
        "per_class_accuracy": metrics.per_class_accuracy(logits, labels, num_classes).tolist(),
        "inception_score": inception["mean"],
        "inception_score_std": inception["std"],
        "ms_ssim": diversity["mean"],
        "per_class_ms_ssim": diversity["per_class"],
    }


def _random_subset(x: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    return x[np.sort(rng.choice(len(x), size, replace=False))]


def comparison_metrics(features: np.ndarray, labels: np.ndarray, real: RealData, *, num_classes: int,
                       batch_size: int, seed: int) -> Dict:
    """Metrics of a labelled feature set against the real test set: FCD, intra-class FCD, and
    precision and recall on random subsets of equal size of both sets."""
    intra = metrics.intra_class_frechet_distance(features, labels, real.features, real.labels, num_classes)
    rng = np.random.default_rng(seed)
    size = min(len(features), len(real.features))
    real_subset, subset = _random_subset(real.features, size, rng), _random_subset(features, size, rng)
    return {
        "fcd": metrics.frechet_classifier_distance(features, real.features),
        "intra_fcd": intra["mean"],
        "per_class_intra_fcd": intra["per_class"],
        **metrics.improved_precision_recall(real_subset, subset, batch_size=batch_size),
    }


def sample_metrics(images: np.ndarray, labels: np.ndarray, *, real: RealData, classifier, num_classes: int,
                   batch_size: int, seed: int) -> Dict:
    """Every metric but Parzen LL of a labelled image set (generated, or real training images)."""
    logits, features = metrics.classify_in_batches(classifier, images, batch_size)
    return {**own_metrics(images, labels, logits, num_classes=num_classes, seed=seed),
            **comparison_metrics(features, labels, real, num_classes=num_classes, batch_size=batch_size,
                                 seed=seed)}


def parzen_protocol(source: str, training_split: str, train_length: int, validation_size: int) -> Dict:
    """Which images chose the Parzen sigma and whether the run trained on them: its ``training_split``
    (``config.data.split``) shares an example with ``PARZEN_VALIDATION_SPLIT`` of a 'train' split of
    ``train_length`` examples."""
    return {"parzen_validation": f"{source} {PARZEN_VALIDATION_SPLIT}",
            "parzen_validation_size": validation_size,
            "training_split": training_split,
            "parzen_validation_seen_in_training": splits.overlap(training_split, PARZEN_VALIDATION_SPLIT,
                                                                 train_length)}


def result_path(workdir: str, result: Dict) -> str:
    """Where ``evaluate`` writes ``result``: WORKDIR/eval/step_N[_noema][_seedK][_as_domains].json."""
    suffix = (("_noema" if result["ema_skipped"] else "") + (f"_seed{result['seed']}" if result["seed"] else "")
              + ("_as_domains" if result.get("as_domains") else ""))
    return os.path.join(workdir, "eval", f"step_{result['step']}{suffix}.json")


def evaluate(workdir: str, *, step=None, num_samples=10000, batch_size=1000, seed=0, use_ema=True,
             parzen=False, reference=False, parzen_validation=None, as_domains=None, inception_weights=None) -> Dict:
    """Every metric of checkpoint ``step`` (default: the latest) of the run in ``workdir``, as written
    to ``result_path``: dict(workdir, step, num_samples, seed, ema, ema_skipped, rows={name: metrics}),
    with ``parzen``, also ``parzen_protocol``'s keys. ``parzen_validation`` caps the number of
    validation images that choose sigma (for tests; None: all 10,000, the protocol's). ``as_domains``:
    ``as_domains_result``'s source. ``inception_weights``: a .npz of the FID Inception network
    (``jaxgan.metrics.fid``): every family's result adds FID and KID against the real images its other
    figures read (each ``*_result`` says which)."""
    run = restore.restore_run(workdir, step)
    inception = fid.scorer(inception_weights, batch_size=min(batch_size, fid.BATCH_SIZE))
    if as_domains is not None:
        return _write(workdir, as_domains_result(run, workdir, as_domains, num_samples=num_samples,
                                                 batch_size=batch_size, seed=seed, use_ema=use_ema,
                                                 inception=inception))
    if hasattr(run.method, "generate_pairs"):  # CoGAN: do its pairs correspond as the domains do?
        return _write(workdir, coupled_result(run, workdir, num_samples=num_samples, batch_size=batch_size,
                                              seed=seed, use_ema=use_ema, inception=inception))
    keyword = _attribute_keyword(run.method)
    if keyword is not None:  # Attribute-conditioned (StarGAN, Fader): each attribute flipped, per label set.
        return _write(workdir, attribute_result(run, workdir, keyword, num_samples=num_samples,
                                                batch_size=batch_size, seed=seed, use_ema=use_ema,
                                                inception=inception))
    if hasattr(run.method, "translate") and run.config.data.source.startswith(("domains:", "unpaired:")):
        # Unpaired image-to-image: per direction, against its domains.
        return _write(workdir, unpaired_result(run, workdir, num_samples=num_samples, batch_size=batch_size,
                                               seed=seed, use_ema=use_ema, inception=inception))
    if hasattr(run.method, "translate"):  # Paired image-to-image: outputs against their targets.
        return _write(workdir, translation_result(run, workdir, num_samples=num_samples, batch_size=batch_size,
                                                  seed=seed, use_ema=use_ema, inception=inception))
    if run.data.image_shape != (28, 28, 1) or run.data.num_classes != 10:
        if inception is None:
            raise ConfigError(f"the MNIST classifier metrics need 28x28x1 images of 10 classes; this run has "
                              f"{run.data.image_shape} and {run.data.num_classes} classes: give --inception_weights "
                              "FILE for FID, KID and intra-class FID instead")
        return _write(workdir, inception_result(run, workdir, inception, num_samples=num_samples,
                                                batch_size=batch_size, seed=seed, use_ema=use_ema))
    num_classes = run.data.num_classes
    if num_samples < max(metrics.NUM_SPLITS, 2 * num_classes):
        raise ConfigError(f"--num_samples={num_samples}: the metrics need at least {metrics.NUM_SPLITS} samples "
                          f"and two of each of the {num_classes} classes")
    classifier = metrics.load_classifier()
    open_split = functools.partial(build_source, run.config.data.source, on_corrupt=run.config.data.on_corrupt)
    test = open_split("test")
    test_batch = test.get(np.arange(len(test)))
    test_images = to_float_image(test_batch["image"])
    real = RealData(test_images, test_batch["label"],
                    *metrics.classify_in_batches(classifier, test_images, batch_size))
    common = dict(real=real, classifier=classifier, num_classes=num_classes, batch_size=batch_size, seed=seed)

    fake, labels = generate(run.method, run.state.generator_variables(use_ema), num_classes, num_samples,
                            batch_size, seed)
    rows = {"generated": sample_metrics(fake, labels, **common)}
    real_train = None
    if reference:
        train = open_split(REFERENCE_SPLIT)
        pick = np.random.default_rng(seed).choice(len(train), num_samples, replace=False)
        batch = train.get(np.sort(pick))
        real_train = to_float_image(batch["image"])
        rows["real_train"] = sample_metrics(real_train, batch["label"], **common)
    rows["real_test"] = own_metrics(real.images, real.labels, real.logits, num_classes=num_classes, seed=seed)
    if inception is not None:  # FID and KID against the real test images, as the FCD.
        real_features = inception(real.images)
        for name, images in (("generated", fake), ("real_train", real_train)):
            if images is not None:
                rows[name].update(fid.fid_and_kid(inception(images), real_features, seed=seed))
    protocol = {}
    if parzen:
        held_out = open_split(PARZEN_VALIDATION_SPLIT)
        validation = metrics.to_unit_vectors(to_float_image(
            held_out.get(np.arange(len(held_out))[:parzen_validation])["image"]))
        protocol = parzen_protocol(run.config.data.source, run.config.data.get("split", "train"),
                                   len(held_out.source), len(validation))
        test_vectors = metrics.to_unit_vectors(test_images)
        for name, images in (("generated", fake), ("real_train", real_train)):
            if images is not None:
                rows[name]["parzen"] = metrics.parzen_estimate(
                    metrics.to_unit_vectors(images), validation, test_vectors)
    has_ema = run.state.ema_params is not None
    result = {"workdir": os.path.abspath(workdir), "step": int(run.state.step), "num_samples": num_samples,
              "seed": seed, "ema": use_ema and has_ema, "ema_skipped": has_ema and not use_ema, "rows": rows}
    result.update(protocol)
    return _write(workdir, result)


def inception_result(run, workdir: str, inception: fid.FeaturesFn, *, num_samples: int, batch_size: int,
                     seed: int, use_ema: bool) -> Dict:
    """A label-conditional run on images the MNIST classifier cannot read (another size, channel count or
    number of classes): ``num_samples`` class-balanced samples against every image of the source's 'test'
    split in the FID Inception network's features: FID, KID and the intra-class FID (Miyato & Koyama 2018:
    the mean over classes of the FID between the samples of class k and the test images of class k)."""
    test = build_source(run.config.data.source, "test", on_corrupt=run.config.data.on_corrupt)
    batch = test.get(np.arange(len(test)))
    real_features = inception(to_float_image(batch["image"]))
    fake, labels = generate(run.method, run.state.generator_variables(use_ema), run.data.num_classes, num_samples,
                            batch_size, seed)
    features = inception(fake)
    intra = metrics.intra_class_frechet_distance(features, labels, real_features, batch["label"], run.data.num_classes)
    has_ema = run.state.ema_params is not None
    return {"workdir": os.path.abspath(workdir), "step": int(run.state.step), "family": "label_conditional_fid",
            "num_samples": num_samples, "num_real": len(real_features), "seed": seed, "ema": use_ema and has_ema,
            "ema_skipped": has_ema and not use_ema,
            "rows": {"generated": {**fid.fid_and_kid(features, real_features, seed=seed), "intra_fid": intra["mean"],
                                   "per_class_intra_fid": list(intra["per_class"])}}}


def _write(workdir: str, result: Dict) -> Dict:
    os.makedirs(os.path.join(workdir, "eval"), exist_ok=True)
    with open(result_path(workdir, result), "w") as f:
        json.dump(result, f, indent=2)
    return result


def _held_out_pairs(run, num_samples: int, batch_size: int, seed: int, split: str = "test",
                    spec: Optional[str] = None) -> Dict[str, np.ndarray]:
    """Up to ``num_samples`` examples of ``split`` of the run's source (or of ``spec``), each once, with the
    run's test-time transform (resized to the training crop, no crop or flip)."""
    try:
        source = build_source(spec or run.config.data.source, split, on_corrupt=run.config.data.on_corrupt,
                              direction=run.config.data.direction)
    except DataSourceError as e:
        raise DataSourceError(f"evaluating an image-to-image run needs held-out examples: {e}") from e
    n = min(num_samples, len(source))
    pipeline = Pipeline(source, global_batch_size=min(batch_size, n), seed=seed, transform=_evaluation_transform(run))
    batches = [pipeline.local_batch(k) for k in range(-(-n // pipeline.global_batch_size))]
    return {key: np.concatenate([b[key] for b in batches])[:n] for key in batches[0]}


def _evaluation_transform(run) -> ResizeAndCrop:
    return ResizeAndCrop.from_config(run.config.data).for_evaluation()


def _digit_metrics(classifier, images: np.ndarray, labels: np.ndarray, real_features: np.ndarray,
                   batch_size: int) -> Dict[str, float]:
    """The MNIST classifier's accuracy on ``images`` (resized to 28x28) and the FCD of their features to
    the real targets' ``real_features``."""
    images = np.asarray(jax.image.resize(images, (len(images), 28, 28, 1), "linear", antialias=True))
    logits, features = metrics.classify_in_batches(classifier, images, batch_size)
    return {"accuracy": metrics.label_accuracy(logits, labels),
            "fcd": metrics.frechet_classifier_distance(features, real_features)}


def _attribute_keyword(method) -> Optional[str]:
    """How the method's ``translate`` takes attributes: 'target' (StarGAN: a dataset's target attributes,
    ``dataset=k``), 'attributes' (Fader Networks: slider values, 0 and 1 the classes), or None."""
    parameters = inspect.signature(method.translate).parameters if hasattr(method, "translate") else {}
    if "attributes" in parameters:
        return "attributes"
    return "target" if {"target", "dataset"} <= set(parameters) else None


def attribute_result(run, workdir: str, keyword: str, *, num_samples: int, batch_size: int, seed: int,
                     use_ema: bool, inception: Optional[fid.FeaturesFn] = None) -> Dict:
    """The attribute metrics (``jaxgan.metrics.attributes``) of a StarGAN or Fader run on up to
    ``num_samples`` held-out images of each label set (one, or each dataset of a mask-vector run): per
    attribute flipped, fidelity, kept and label preservation, with the real images as the ceiling. The
    classifiers are trained on the real 'train' split with ``attributes.DEFAULT_SETTINGS``, through the run's
    evaluation resize (cached in WORKDIR/eval/classifiers). ``keyword``: ``_attribute_keyword``'s."""
    settings = dataclasses.replace(attributes.DEFAULT_SETTINGS, image_size=_evaluation_transform(run).load_size)
    classifiers = attributes.attribute_classifiers(run.config.data.source, os.path.join(workdir, "eval", "classifiers"),
                                                   settings=settings)
    held_out = _held_out_pairs(run, num_samples, batch_size, seed)
    # One label set: 'image', 'attributes', 'label'; datasets of a domains: source: 'image_a', 'attributes_a', ...
    suffixes = [""] if "attributes" in held_out else [f"_{key[len('attributes_'):]}" for key in sorted(held_out)
                                                      if key.startswith("attributes_")]
    if len(suffixes) != len(classifiers):
        raise ConfigError(f"{run.config.data.source}: {len(classifiers)} label set(s) but held-out batches with "
                          f"attributes {suffixes}")
    key, variables = jax.random.PRNGKey(seed), run.state.generator_variables(use_ema)
    translate = jax.jit(lambda v, x, t, dataset: run.method.translate(
        v, x, key, **{keyword: t}, **({"dataset": dataset} if keyword == "target" else {})), static_argnums=3)
    datasets = [attributes.attribute_metrics(
        lambda x, t, k=k: np.asarray(translate(variables, x, t, k)), held_out[f"image{s}"], held_out[f"attributes{s}"],
        held_out.get(f"label{s}"), set_classifiers, batch_size=batch_size, inception=inception, seed=seed)
        for k, (s, set_classifiers) in enumerate(zip(suffixes, classifiers))]
    has_ema = run.state.ema_params is not None
    return {"workdir": os.path.abspath(workdir), "step": int(run.state.step), "family": "attributes",
            "num_samples": min(d["num_images"] for d in datasets), "seed": seed, "ema": use_ema and has_ema,
            "ema_skipped": has_ema and not use_ema, "datasets": datasets,
            "classifier_settings": dataclasses.asdict(settings)}


def translation_result(run, workdir: str, *, num_samples: int, batch_size: int, seed: int, use_ema: bool,
                       inception: Optional[fid.FeaturesFn] = None) -> Dict:
    """The paired image-to-image metrics of a run's generator on up to ``num_samples`` held-out pairs
    (``jaxgan.metrics.translation``): PSNR, SSIM, mean L1 and L2 of the outputs against their targets;
    for grey digit targets with labels (the built-in MNIST tasks), the MNIST classifier's accuracy on the
    outputs and the FCD of their features to the real targets'. Rows: ``translated`` (G's outputs) and
    ``input_resized`` (the input itself, bicubic-resized to the target's shape: the bicubic baseline of
    super-resolution, the unfilled hole of inpainting). Super-resolution runs (a target s times the
    input's size) add PSNR and SSIM on the Y channel with an s-pixel border cropped (Ledig et al. 2017).
    An inpainting method (``inpainting_inputs``)
    translates with the hole's mask and its rows add the metrics over the hole (Pathak et al. 2016); a
    label-map run (pix2pixHD, SPADE) translates ``label_map`` (and ``instance_map``) to ``image_b`` and adds
    ``fcn_score``: the FCN-score analogue of its outputs and, as the ceiling, of the real targets
    (``jaxgan.metrics.segmentation``; the segmenter is cached in WORKDIR/eval/classifiers). With
    ``inception`` (``jaxgan.metrics.fid``), each row adds FID and KID against the real targets, and
    ``fid_real_train`` is the FID of as many real training targets against them (the reference)."""
    pairs = _held_out_pairs(run, num_samples, batch_size, seed)
    if hasattr(run.method, "inpainting_inputs"):  # Inpainting: the hole's mask goes with the input.
        x, y, mask = (np.asarray(a) for a in run.method.inpainting_inputs(pairs))
        extra = {"mask": mask}
    elif "label_map" in pairs:  # Semantic synthesis (pix2pixHD, SPADE): a label map (+ instances) -> image.
        x, y = pairs["label_map"], pairs["image_b"]
        extra = {"instance_map": pairs["instance_map"]} if "instance_map" in pairs else {}
    else:
        x, y, extra = pairs["image_a"], pairs["image_b"], {}
    translate = jax.jit(lambda v, a, key, kw: run.method.translate(v, a, key, **kw))
    variables = run.state.generator_variables(use_ema)
    outputs = {"translated": np.concatenate([
        np.asarray(translate(variables, x[s:s + batch_size], jax.random.fold_in(jax.random.PRNGKey(seed), s),
                             {k: v[s:s + batch_size] for k, v in extra.items()}))
        for s in range(0, len(x), batch_size)])}
    if x.ndim == y.ndim and x.shape[-1] == y.shape[-1]:  # An image input: the bicubic baseline.
        outputs["input_resized"] = np.asarray(jax.image.resize(x, y.shape, "bicubic")).clip(-1, 1)
    rows = {name: translation.pixel_metrics(out, y) for name, out in outputs.items()}
    scale = y.shape[1] // x.shape[1] if x.ndim == y.ndim else 1
    if scale > 1:  # Super-resolution: PSNR and SSIM on the Y channel, a scale-pixel border cropped (SRGAN).
        for name, out in outputs.items():
            rows[name].update(translation.super_resolution_metrics(out, y, scale))
    if "mask" in extra:  # Context Encoders' Table 1: the metrics over the hole.
        for name, out in outputs.items():
            rows[name].update(translation.hole_metrics(out, y, extra["mask"]))
    if "label" in pairs and y.shape[-1] == 1:
        classifier = metrics.load_classifier()
        real = np.asarray(jax.image.resize(y, (len(y), 28, 28, 1), "linear", antialias=True))
        _, real_features = metrics.classify_in_batches(classifier, real, batch_size)
        for name, out in outputs.items():
            rows[name].update(_digit_metrics(classifier, out, pairs["label"], real_features, batch_size))
    reference = {}
    if inception is not None:
        target_features = inception(y)
        for name, out in outputs.items():
            rows[name].update(fid.fid_and_kid(inception(out), target_features, seed=seed))
        train_targets = _held_out_pairs(run, len(y), batch_size, seed, split="train")["image_b"]
        reference = {"fid_real_train": metrics.frechet_classifier_distance(inception(train_targets), target_features)}
    fcn = {}
    if "label_map" in pairs:  # The FCN-score analogue (Isola et al. 2017, sec. 4.2): segment outputs and real targets.
        settings = segmentation.DEFAULT_SETTINGS

        def real_train() -> Tuple[np.ndarray, np.ndarray]:
            train = _held_out_pairs(run, settings.train_size, batch_size, settings.seed, split="train")
            return train["image_b"], train["label_map"]

        segmenter = segmentation.segmenter(run.config.data.source, os.path.join(workdir, "eval", "classifiers"),
                                           image_shape=y.shape[1:], num_classes=run.data.num_label_classes,
                                           train_data=real_train, settings=settings)
        images = {**outputs, "real_target": y}  # The real targets' scores: the ceiling.
        fcn = {"fcn_score": {**{name: segmentation.fcn_scores(segmenter, out, x, batch_size=batch_size)
                                for name, out in images.items()},
                             "segmenter": {"weights": segmenter.weights_path, **dataclasses.asdict(settings)}}}
    has_ema = run.state.ema_params is not None
    return {"workdir": os.path.abspath(workdir), "step": int(run.state.step), "family": "image_to_image",
            "num_samples": len(x), "seed": seed, "ema": use_ema and has_ema, "ema_skipped": has_ema and not use_ema,
            "rows": rows, **fcn, **reference}


def unpaired_result(run, workdir: str, *, num_samples: int, batch_size: int, seed: int, use_ema: bool,
                    inception: Optional[fid.FeaturesFn] = None) -> Dict:
    """The unpaired image-to-image metrics of a run (``jaxgan.metrics.domains``) on up to ``num_samples``
    held-out images of each domain, every direction the method translates (A -> B only for a method whose
    ``translate`` takes no direction, DTN): label preservation, domain fidelity, cycle error (where the
    method translates back) and FCD, with real images of the target domain as the ceiling. The label and
    domain classifiers are trained on the run's domains (cached in WORKDIR/eval/classifiers)."""
    parameters = inspect.signature(run.method.translate).parameters
    round_trip = True
    if "direction" in parameters:  # Two domains, both ways (CycleGAN, UNIT).
        directions = [tuple(d.lower().split("to")) for d in run.method.directions]
        options = lambda x, y: {"direction": domains.direction_name(x, y)}  # noqa: E731
    elif "source" in parameters:  # N domains, any pair (ComboGAN).
        directions = None  # Every ordered pair of the domains.
        options = lambda x, y: {"source": ord(x) - ord("a"), "target": ord(y) - ord("a")}  # noqa: E731
    else:  # One way, A -> B (DTN): no cycle error.
        directions, round_trip = [("a", "b")], False
        options = lambda x, y: {}  # noqa: E731
    translate = jax.jit(lambda v, x, key, kw: run.method.translate(v, x, key, **dict(kw)), static_argnums=3)
    variables, key = run.state.generator_variables(use_ema), jax.random.PRNGKey(seed)

    def translate_fn(x: np.ndarray, source: str, target: str) -> np.ndarray:
        return np.asarray(translate(variables, x, key, tuple(options(source, target).items())))

    return _scored_as_unpaired(run, workdir, run.config.data.source, translate_fn, directions, round_trip,
                               num_samples=num_samples, batch_size=batch_size, seed=seed, use_ema=use_ema,
                               inception=inception)


def coupled_result(run, workdir: str, *, num_samples: int, batch_size: int, seed: int, use_ema: bool,
                   inception: Optional[fid.FeaturesFn] = None) -> Dict:
    """A CoGAN run's ``num_samples`` generated pairs (noise of PRNGKey(seed)) against its domains' held-out
    images: with a pair relation T, the paper's pixel agreement (``cogan.pair_agreement``) beside what real
    images without correspondence score (``real_baselines``, ``cogan.agreement_baselines``); when both
    domains have labels of the same classes, ``label_agreement`` (``cogan.label_agreement``) of the two
    domains' label classifiers (``jaxgan.metrics.domains``, cached in WORKDIR/eval/classifiers), with their
    test accuracies and, with T, their agreement on held-out real pairs (x, T(x)): the ceiling; and ``fcd``,
    each domain's FCD in its label classifier's features of the generated images to held-out real ones,
    beside that of as many real training images (the ceiling). With ``inception``, ``fid``: each domain's FID
    and KID of the generated images against its held-out real ones (and the real training images' FID)."""
    method = run.method
    spec = run.config.data.source
    classifiers = None
    if spec.startswith("domains:"):
        classifiers = domains.domain_classifiers(spec, os.path.join(workdir, "eval", "classifiers"),
                                                 image_size=_evaluation_transform(run).load_size)
        classes = set(classifiers.num_classes.values())
        classifiers = classifiers if len(classes) == 1 and None not in classes else None
    if not method.pair_relation and classifiers is None:
        raise ConfigError(f"this CoGAN run has no config.model.pair_relation (one of {sorted(cogan.RELATIONS)}) and "
                          f"its domains are not both labelled with the same classes ({spec}): neither the pixel "
                          "agreement nor the label agreement of its pairs is defined")
    has_ema = run.state.ema_params is not None
    first, second = method.generate_pairs(run.state.generator_variables(use_ema), num_samples,
                                          jax.random.PRNGKey(seed), batch_size)
    held_out = _held_out_pairs(run, num_samples, batch_size, seed)
    if classifiers is not None or inception is not None:  # Real training images: the ceiling of FCD and FID.
        reference = _held_out_pairs(run, num_samples, batch_size, seed, split="train")
    result = {"workdir": os.path.abspath(workdir), "step": int(run.state.step), "family": "coupled",
              "num_pairs": num_samples, "seed": seed, "ema": use_ema and has_ema,
              "ema_skipped": has_ema and not use_ema,
              "pair_relation": method.pair_relation}
    if method.pair_relation:
        result["pair_agreement"] = cogan.pair_agreement(first, second, method.pair_relation)
        result["real_baselines"] = cogan.agreement_baselines(held_out["image_a"], method.pair_relation, seed,
                                                             labels=held_out.get("label_a"))
    if classifiers is not None:
        def read(letter: str, images: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
            """(classes, penultimate features) of ``images`` by domain ``letter``'s label classifier."""
            logits, features = domains.map_in_batches(
                lambda x: classifiers.label[letter](domains.classifier_input(x)), images, batch_size)
            return np.argmax(logits, axis=1), features

        generated = {"a": read("a", first), "b": read("b", second)}
        real = {k: read(k, held_out[f"image_{k}"]) for k in "ab"}
        result["label_agreement"] = {
            **cogan.label_agreement(generated["a"][0], generated["b"][0], classifiers.num_classes["a"]),
            "classifier_test_accuracy": {k: classifiers.test_accuracy[f"label_{k}"] for k in "ab"}}
        if method.pair_relation:
            related = cogan.apply_relation(held_out["image_a"], method.pair_relation)
            result["label_agreement"]["real_pairs"] = float(np.mean(real["a"][0] == read("b", related)[0]))
        result["fcd"] = {k: {"generated": metrics.frechet_classifier_distance(generated[k][1], real[k][1]),
                             "real_train": metrics.frechet_classifier_distance(read(k, reference[f"image_{k}"])[1],
                                                                               real[k][1])}
                         for k in "ab"}
    if inception is not None:
        result["fid"] = {}
        for k, images in (("a", first), ("b", second)):
            real_features = inception(held_out[f"image_{k}"])
            result["fid"][k] = {**fid.fid_and_kid(inception(images), real_features, seed=seed),
                                "real_train": metrics.frechet_classifier_distance(inception(reference[f"image_{k}"]),
                                                                                  real_features)}
    return result


def as_domains_result(run, workdir: str, spec: str, *, num_samples: int, batch_size: int, seed: int,
                      use_ema: bool, inception: Optional[fid.FeaturesFn] = None) -> Dict:
    """A StarGAN or Fader run of one attribute scored as a two-domain translator on ``spec``
    (``domains:SPEC_A|SPEC_B``, images with the run's channels, resized as the run's are): A -> B is
    G(x, c = 1) on A's held-out images, B -> A is G(x, c = 0) on B's, each scored by
    ``domains.unpaired_metrics`` with ``spec``'s classifiers (label preservation, domain fidelity, cycle
    error G(G(x, c'), c), FCD), as a two-domain run on ``spec`` is: e.g. StarGAN on ``builtin:mnist/attribute_thick_slanted`` against CycleGAN on
    ``domains:builtin:mnist/plain|builtin:mnist/thick_slanted``. The result adds ``as_domains`` (spec) and
    ``attribute`` (its name)."""
    keyword = _attribute_keyword(run.method)
    label_sets = getattr(run.method, "label_sets", (None,))
    names = label_sets[0].names if label_sets[0] is not None else run.data.attribute_names
    if keyword is None or len(label_sets) != 1 or len(names) != 1:
        raise ConfigError(f"--as_domains scores a StarGAN or Fader run of one attribute as a two-domain translator; "
                          f"this run (method {run.config.method!r}, {run.config.data.source}) has "
                          + ("no attributes" if keyword is None else f"attributes {list(names)}"
                             + (f" in {len(label_sets)} datasets" if len(label_sets) != 1 else "")))
    if not spec.startswith("domains:") or len(spec.split("|")) != 2:
        raise ConfigError(f"--as_domains={spec!r}: give two domains, domains:SPEC_A|SPEC_B (A: {names[0]} off, "
                          f"B: on), e.g. domains:builtin:mnist/plain|builtin:mnist/thick_slanted")
    channels = build_source(spec, "test").image_shape[-1]
    if channels != run.data.image_shape[-1]:
        raise ConfigError(f"--as_domains={spec!r} has images of {channels} channel(s); the run's have "
                          f"{run.data.image_shape[-1]}")
    key, variables = jax.random.PRNGKey(seed), run.state.generator_variables(use_ema)
    translate = jax.jit(lambda v, x, t: run.method.translate(
        v, x, key, **{keyword: t}, **({"dataset": 0} if keyword == "target" else {})))

    def translate_fn(x: np.ndarray, source: str, target: str) -> np.ndarray:
        return np.asarray(translate(variables, x, np.full((len(x), 1), float(target == "b"), np.float32)))

    result = _scored_as_unpaired(run, workdir, spec, translate_fn, [("a", "b"), ("b", "a")], True,
                                 num_samples=num_samples, batch_size=batch_size, seed=seed, use_ema=use_ema,
                                 inception=inception)
    return {**result, "as_domains": spec, "attribute": names[0]}


def _scored_as_unpaired(run, workdir: str, spec: str, translate_fn, directions, round_trip: bool, *,
                        num_samples: int, batch_size: int, seed: int, use_ema: bool,
                        inception: Optional[fid.FeaturesFn] = None) -> Dict:
    """``domains.unpaired_metrics`` of ``translate_fn(x, source, target)`` on held-out images of ``spec``'s
    domains, with ``spec``'s classifiers (cached in WORKDIR/eval/classifiers), as the result dict."""
    classifiers = domains.domain_classifiers(spec, os.path.join(workdir, "eval", "classifiers"),
                                             image_size=_evaluation_transform(run).load_size)
    images, labels = domains.by_domain(_held_out_pairs(run, num_samples, batch_size, seed, spec=spec))
    reference, _ = domains.by_domain(_held_out_pairs(run, num_samples, batch_size, seed, split="train", spec=spec))
    has_ema = run.state.ema_params is not None
    return {"workdir": os.path.abspath(workdir), "step": int(run.state.step), "family": "unpaired",
            "num_samples": min(len(v) for v in images.values()), "seed": seed, "ema": use_ema and has_ema,
            "ema_skipped": has_ema and not use_ema,
            "directions": domains.unpaired_metrics(translate_fn, images, labels, classifiers,
                                                   reference_images_by_domain=reference, directions=directions,
                                                   round_trip=round_trip, batch_size=batch_size,
                                                   inception=inception, seed=seed)}


def format_coupled_table(result: Dict) -> str:
    """A CoGAN result (``coupled_result``): each measure with what it reads against."""
    lines = [f"step {result['step']}, {result['num_pairs']} generated pairs, EMA: {result['ema']}"]
    if "pair_agreement" in result:
        baselines = result["real_baselines"]
        lines += [f"pixel agreement ({result['pair_relation']}): {result['pair_agreement']:.4f}; without "
                  f"correspondence, on held-out real images: unrelated pairs {baselines['unrelated']:.4f}, best "
                  f"constant second image {baselines['constant']:.4f}"
                  + (f", the same digit by another hand {baselines['same_class']:.4f}" if "same_class" in baselines
                     else "")]
    if "label_agreement" in result:
        label = result["label_agreement"]
        accuracy = label["classifier_test_accuracy"]
        lines += [f"label agreement: {label['agreement']:.4f} of pairs read as the same digit; independent pairs "
                  f"of these class frequencies {label['independent']:.4f}"
                  + (f"; real pairs (x, T(x)) {label['real_pairs']:.4f}" if "real_pairs" in label else "")
                  + f" (classifiers' test accuracy A {accuracy['a']:.4f}, B {accuracy['b']:.4f})",
                  "FCD to held-out real images: " + ", ".join(
                      f"{k.upper()} {fcd['generated']:.2f} (real training images {fcd['real_train']:.2f})"
                      for k, fcd in result["fcd"].items()),
                  f"{'class':<8}" + "".join(f"{k:>6}" for k in range(len(label["counts_a"]))),
                  f"{'A read':<8}" + "".join(f"{c:>6}" for c in label["counts_a"]),
                  f"{'B read':<8}" + "".join(f"{c:>6}" for c in label["counts_b"])]
    if "fid" in result:
        lines += ["FID and KID against each domain's held-out real images (real_train: real training images' FID):",
                  fid.format_rows({f"{k.upper()} {name}": (row if name == "generated" else {"fid": row["real_train"]})
                                   for k, row in result["fid"].items() for name in ("generated", "real_train")})]
    return "\n".join(lines)


def format_translation_table(result: Dict) -> str:
    lines = [f"step {result['step']}, {result['num_samples']} held-out pairs, EMA: {result['ema']}",
             f"{'row':<15}{'PSNR':>8}{'SSIM':>8}{'L1':>8}{'L2':>8}{'accuracy':>10}{'FCD':>9}"]
    for name, row in result["rows"].items():
        lines.append(f"{name:<15}{row['psnr']:>8.2f}{row['ssim']:>8.4f}{row['l1']:>8.4f}{row['l2']:>8.4f}"
                     f"{_cell(row, 'accuracy', '.4f', 10)}{_cell(row, 'fcd', '.2f', 9)}")
    if any("psnr_y" in row for row in result["rows"].values()):
        lines += ["", f"{'on Y, cropped':<15}{'PSNR':>8}{'SSIM':>8}  (luma, a scale-pixel border cropped; Ledig et al. 2017)"]
        lines += [f"{name:<15}{row['psnr_y']:>8.2f}{row['ssim_y']:>8.4f}" for name, row in result["rows"].items()]
    holes = [(name, row) for name, row in result["rows"].items() if "hole_psnr" in row]
    if holes:
        lines += ["", f"{'over the hole':<15}{'PSNR':>8}{'L1':>8}{'L2':>8}  (on [0, 1], Pathak et al. 2016)"]
        lines += [f"{name:<15}{row['hole_psnr']:>8.2f}{row['hole_l1']:>8.4f}{row['hole_l2']:>8.4f}"
                  for name, row in holes]
    if any("fid" in row for row in result["rows"].values()):
        lines += ["", "FID and KID against the real targets:",
                  fid.format_rows({**result["rows"], "real train targets": {"fid": result["fid_real_train"]}})]
    if "fcn_score" in result:  # Label-map runs: the segmenter's reading of outputs and of the real targets.
        fcn = {k: v for k, v in result["fcn_score"].items() if k != "segmenter"}
        lines += ["", segmentation.format_fcn_table(fcn, "real_target: the ceiling; Long et al. 2015's definitions")]
    return "\n".join(lines)


def _cell(row: Dict, key: str, fmt: str, width: int) -> str:
    return format(row[key], fmt).rjust(width) if key in row else "-".rjust(width)


def format_table(result: Dict) -> str:
    """The summary table (one line per row) and the per-class table (one line per row and metric)."""
    if result.get("family") == "image_to_image":
        return format_translation_table(result)
    if result.get("family") == "label_conditional_fid":
        row = result["rows"]["generated"]
        return "\n".join([
            f"step {result['step']}, {result['num_samples']} samples against {result['num_real']} real test images, "
            f"EMA: {result['ema']}", fid.format_rows(result["rows"]),
            f"intra-class FID {row['intra_fid']:.2f}; per class: "
            + ", ".join(f"{k} {v:.2f}" for k, v in enumerate(row["per_class_intra_fid"]))])
    if result.get("family") == "attributes":
        return (f"step {result['step']}, EMA: {result['ema']}, each attribute flipped on held-out images\n"
                + attributes.format_attribute_table(result["datasets"]))
    if result.get("family") == "coupled":
        return format_coupled_table(result)
    if result.get("family") == "unpaired":
        return (f"step {result['step']}, {result['num_samples']} held-out images per domain, EMA: {result['ema']}"
                + (f", attribute {result['attribute']!r} as the domains of {result['as_domains']}"
                   if "as_domains" in result else "") + "\n"
                + domains.format_unpaired_table(result["directions"]))
    lines = [f"step {result['step']}, {result['num_samples']} samples, EMA: {result['ema']}",
             f"{'row':<11}{'accuracy':>9}{'IS':>15}{'FCD':>10}{'intra-FCD':>10}{'precision':>10}{'recall':>7}"
             f"{'MS-SSIM':>8}{'Parzen LL':>17}"]
    for name, row in result["rows"].items():
        p = row.get("parzen")
        ll = f"{p['mean']:.1f} +/- {p['std_error']:.1f}" if p else "-"
        inception = f"{row['inception_score']:.2f} +/- {row['inception_score_std']:.2f}"
        lines.append(f"{name:<11}{row['accuracy']:>9.4f}{inception:>15}{_cell(row, 'fcd', '.2f', 10)}"
                     f"{_cell(row, 'intra_fcd', '.2f', 10)}{_cell(row, 'precision', '.4f', 10)}"
                     f"{_cell(row, 'recall', '.4f', 7)}{row['ms_ssim']:>8.4f}{ll:>17}")
    if "parzen_validation" in result:
        seen = result["parzen_validation_seen_in_training"]
        lines.append(f"Parzen sigma chosen on {result['parzen_validation_size']} images of "
                     f"{result['parzen_validation']}, which the run (data.split {result['training_split']!r}) "
                     + ("TRAINED ON" if seen else "did not train on"))
        if seen:
            lines.append("WARNING: the Parzen LL above is not comparable with Mirza & Osindero's 132: under the "
                         "protocol of Goodfellow et al. 2014 sigma is chosen on images the model did not train on; "
                         f"train with --config.data.split='{REFERENCE_SPLIT}'")
    if any("fid" in row for row in result["rows"].values()):
        lines += ["FID and KID against the real test images:", fid.format_rows(result["rows"])]
    num_classes = len(result["rows"]["generated"]["per_class_accuracy"])
    lines += ["", "per class".ljust(21) + "".join(f"{k:>9}" for k in range(num_classes))]
    for key, label, fmt in (("per_class_accuracy", "accuracy", ".4f"), ("per_class_intra_fcd", "intra-FCD", ".1f"),
                            ("per_class_ms_ssim", "MS-SSIM", ".4f")):
        for name, row in result["rows"].items():
            if key in row:
                lines.append(f"{name + ' ' + label:<21}" + "".join(f"{format(v, fmt):>9}" for v in row[key]))
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    with errors.reported():
        result = evaluate(FLAGS.workdir, step=FLAGS.step, num_samples=FLAGS.num_samples,
                          batch_size=FLAGS.batch_size, seed=FLAGS.seed, use_ema=FLAGS.ema,
                          parzen=FLAGS.parzen, reference=FLAGS.reference, as_domains=FLAGS.as_domains,
                          inception_weights=FLAGS.inception_weights)
    print(format_table(result))
    print(f"Wrote {result_path(FLAGS.workdir, result)}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=errors.parse_flags)
