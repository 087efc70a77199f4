"""How much of its noise does a label-conditional generator use? (issue 13: the MLP cGAN's grid)

    python benchmarks/noise_use.py --workdir RUN [--num_samples 2000]

Draws ``--num_samples`` class-balanced samples (the same z for every mode) from the run's generator
(EMA weights when it has them) in two modes: inference (dropout off, running batch statistics: what
the sample grids, ``jaxgan.sample`` and ``jaxgan.evaluate`` see) and training mode (G's dropout on,
batch statistics of the batch). For each it prints the label accuracy, FCD, precision and recall
against the MNIST test set and within-class MS-SSIM, as ``jaxgan.evaluate`` computes them, and the
within-class pixel spread: the per-pixel standard deviation over a class's samples, averaged over
pixels and classes (real test digits: 0.312). A G that ignores z but varies in training mode takes
its randomness from its dropout.
"""

import argparse

import jax
import numpy as np

from jaxgan import evaluate, metrics, restore
from jaxgan.data.pipeline import to_float_image
from jaxgan.data.sources import build_source
from jaxgan.methods.base import apply_train



def pixel_spread(images: np.ndarray, labels: np.ndarray, num_classes: int) -> float:
    """mean_c mean_pixels std_{i: y_i = c} x_i: 0 when every sample of a class is the same image."""
    return float(np.mean([images[labels == c].std(axis=0).mean() for c in range(num_classes)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # argparse: jaxgan.evaluate owns the absl flags.
    parser.add_argument("--workdir", required=True, help="A label-conditional run (cgan, matching_aware, ...).")
    parser.add_argument("--num_samples", type=int, default=2000, help="Samples per mode, class-balanced.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the noise and of the dropout masks.")
    args = parser.parse_args()
    run = restore.restore_run(args.workdir)
    num_classes = run.data.num_classes
    classifier = metrics.load_classifier()
    test = build_source(run.config.data.source, "test")
    batch = test.get(np.arange(len(test)))
    images = to_float_image(batch["image"])
    real = evaluate.RealData(images, batch["label"], *metrics.classify_in_batches(classifier, images, 1000))
    method, variables = run.method, run.state.generator_variables(True)
    labels = np.arange(args.num_samples, dtype=np.int32) % num_classes
    key = jax.random.PRNGKey(args.seed)
    z = method.sample_noise(key, args.num_samples)
    modes = {
        "inference": lambda: method.generate(variables, z, labels),
        "training mode": lambda: apply_train(method.generator, variables, z, labels,
                                             rng=jax.random.fold_in(key, 1))[0],
    }
    print(f"{args.workdir} step {int(run.state.step)}; real test pixel spread "
          f"{pixel_spread(images, batch['label'], num_classes):.3f}")
    for name, sample in modes.items():
        fake = np.asarray(sample())
        r = evaluate.sample_metrics(fake, labels, real=real, classifier=classifier, num_classes=num_classes,
                                    batch_size=1000, seed=args.seed)
        print(f"{name:13s} accuracy {r['accuracy']:.4f}  FCD {r['fcd']:.2f}  precision {r['precision']:.3f}  "
              f"recall {r['recall']:.3f}  MS-SSIM {r['ms_ssim']:.3f}  pixel spread "
              f"{pixel_spread(fake, labels, num_classes):.3f}  per class "
              f"{np.round(r['per_class_accuracy'], 2).tolist()}")


if __name__ == "__main__":
    main()
