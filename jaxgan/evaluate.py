"""Evaluation command: metrics of a label-conditional checkpoint against real data.

    python -m jaxgan.evaluate --workdir runs/cgan_mnist [--parzen] [--reference]

Generates ``--num_samples`` images with balanced labels and reports the MNIST
classifier's accuracy on them (per class and overall: does G draw the digit it
was asked for?), the Frechet classifier distance between their classifier
features and the real test set's, and with ``--parzen`` the Parzen-window
log-likelihood of the test set (Mirza & Osindero 2014, Table 1). ``--reference``
adds the same metrics for real training images in place of generated ones.
Writes ``WORKDIR/eval/step_N.json`` and prints a table.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Tuple

import jax
import numpy as np
from absl import app, flags

from jaxgan import errors, metrics, restore
from jaxgan.data.pipeline import to_float_image
from jaxgan.data.sources import build_source
from jaxgan.errors import ConfigError

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Workdir of a trained run.")
flags.DEFINE_integer("step", None, "Checkpoint step (default: latest).")
flags.DEFINE_integer("num_samples", 10000, "Generated samples (balanced over classes).")
flags.DEFINE_integer("batch_size", 1000, "Generation and classification batch size.")
flags.DEFINE_integer("seed", 0, "Seed of the noise.")
flags.DEFINE_bool("ema", True, "Use the EMA generator when the run has one.")
flags.DEFINE_bool("parzen", False, "Also the Parzen-window log-likelihood (a few CPU minutes).")
flags.DEFINE_bool("reference", False, "Also the real-data reference row.")
flags.mark_flag_as_required("workdir")

PARZEN_VALIDATION = 10000  # Held out of the end of the training set (Mirza & Osindero 2014).


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


def sample_metrics(images: np.ndarray, labels: np.ndarray, *, test_features: np.ndarray, classifier,
                   num_classes: int, batch_size: int) -> Dict:
    logits, features = metrics.classify_in_batches(classifier, images, batch_size)
    return {
        "accuracy": metrics.label_accuracy(logits, labels),
        "per_class_accuracy": metrics.per_class_accuracy(logits, labels, num_classes).tolist(),
        "fcd": metrics.frechet_classifier_distance(features, test_features),
    }


def evaluate(workdir: str, *, step=None, num_samples=10000, batch_size=1000, seed=0, use_ema=True,
             parzen=False, reference=False) -> Dict:
    run = restore.restore_run(workdir, step)
    if run.data.image_shape != (28, 28, 1) or run.data.num_classes != 10:
        raise ConfigError(f"the MNIST classifier metrics need 28x28x1 images of 10 classes; this run has "
                          f"{run.data.image_shape} and {run.data.num_classes} classes")
    classifier = metrics.load_classifier()
    test, train = (build_source(run.config.data.source, split) for split in ("test", "train"))
    test_images = to_float_image(test.get(np.arange(len(test)))["image"])
    _, test_features = metrics.classify_in_batches(classifier, test_images, batch_size)
    common = dict(test_features=test_features, classifier=classifier, num_classes=10, batch_size=batch_size)

    fake, labels = generate(run.method, run.state.generator_variables(use_ema), 10, num_samples, batch_size, seed)
    rows = {"generated": sample_metrics(fake, labels, **common)}
    real = None
    if reference:
        pick = np.random.default_rng(seed).choice(len(train) - PARZEN_VALIDATION, num_samples, replace=False)
        batch = train.get(np.sort(pick))
        real = to_float_image(batch["image"])
        rows["real_train"] = sample_metrics(real, batch["label"], **common)
    if parzen:
        validation = metrics.to_unit_vectors(to_float_image(
            train.get(np.arange(len(train) - PARZEN_VALIDATION, len(train)))["image"]))
        test_vectors = metrics.to_unit_vectors(test_images)
        for name, images in (("generated", fake), ("real_train", real)):
            if images is not None:
                rows[name]["parzen"] = metrics.parzen_estimate(
                    metrics.to_unit_vectors(images), validation, test_vectors)
    result = {"workdir": os.path.abspath(workdir), "step": int(run.state.step), "num_samples": num_samples,
              "ema": bool(use_ema and run.state.ema_params is not None), "rows": rows}
    os.makedirs(os.path.join(workdir, "eval"), exist_ok=True)
    with open(os.path.join(workdir, "eval", f"step_{result['step']}.json"), "w") as f:
        json.dump(result, f, indent=2)
    return result


def format_table(result: Dict) -> str:
    lines = [f"step {result['step']}, {result['num_samples']} samples, EMA: {result['ema']}",
             f"{'row':<12} {'accuracy':>9} {'FCD':>9} {'Parzen LL':>18}"]
    for name, row in result["rows"].items():
        p = row.get("parzen")
        ll = f"{p['mean']:.1f} +/- {p['std_error']:.1f}" if p else "-"
        lines.append(f"{name:<12} {row['accuracy']:>9.4f} {row['fcd']:>9.3f} {ll:>18}")
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    with errors.reported():
        result = evaluate(FLAGS.workdir, step=FLAGS.step, num_samples=FLAGS.num_samples,
                          batch_size=FLAGS.batch_size, seed=FLAGS.seed, use_ema=FLAGS.ema,
                          parzen=FLAGS.parzen, reference=FLAGS.reference)
    print(format_table(result))
    print(f"Wrote {os.path.join(FLAGS.workdir, 'eval', 'step_%d.json' % result['step'])}")


if __name__ == "__main__":
    app.run(main, flags_parser=errors.parse_flags)
