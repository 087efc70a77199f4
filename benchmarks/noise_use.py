"""How much of its noise does a label-conditional generator use? (issue 13: the MLP cGAN's grid)

    python benchmarks/noise_use.py --workdir RUN [--num_samples 2000] [--parzen]

Draws ``--num_samples`` class-balanced samples (the same z for every mode) from the run's generator
(EMA weights when it has them) in two modes: as sampled (``method.generate``: what the sample grids,
``jaxgan.sample`` and ``jaxgan.evaluate`` see; dropout off and running batch statistics, unless G
draws its dropout masks from its noise, as the MLP G with ``dropout_noise``) and the other way: for
such a G, dropout off (and with ``--dropout_rates``, its masks at other rates, same z and u); for
StackGAN's G, its conditioning augmentation's means (eps_0 = eps_1 = 0, so c_i = mu_i(y)),
with a line per stage on the spread of c against the distance between classes (the mean sigma, and the
distances between classes' mu); for any other, training mode (G's dropout on, batch statistics of the batch).
For each it prints the label accuracy, FCD, precision and recall against the MNIST test set and
within-class MS-SSIM, as ``jaxgan.evaluate`` computes them, and the within-class pixel spread: the
per-pixel standard deviation over a class's samples, averaged over pixels and classes (real test
digits: 0.312). A G that ignores z but varies with its dropout on takes its randomness from its
dropout. ``--parzen`` adds the held-out Parzen LL of each mode (``jaxgan.evaluate --parzen``'s
protocol: sigma chosen on ``train[50000:]``).
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


def print_condition_spread(method, variables, num_classes: int) -> None:
    """Per stage of a StackGAN G: mean sigma_i(y) over classes and dimensions, and min_{y != y'} ||mu(y) - mu(y')||."""
    classes = np.arange(num_classes, dtype=np.int32)
    noise = np.zeros((num_classes, method.generator.noise_dim(method.latent_dim)), np.float32)
    stages = method.generator.apply(variables, noise, classes, train=False)[2]
    for i, (mu, log_variance) in enumerate(stages):
        mu, sigma = np.asarray(mu), np.exp(0.5 * np.asarray(log_variance))
        distances = np.linalg.norm(mu[:, None] - mu[None], axis=-1)[~np.eye(num_classes, dtype=bool)]
        print(f"CA stage {i}: mean sigma {sigma.mean():.3f} (sqrt(N_g) sigma {np.sqrt(mu.shape[1]) * sigma.mean():.2f}), "
              f"nearest class means {distances.min():.2f} apart, mean {distances.mean():.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # argparse: jaxgan.evaluate owns the absl flags.
    parser.add_argument("--workdir", required=True, help="A label-conditional run (cgan, matching_aware, ...).")
    parser.add_argument("--num_samples", type=int, default=2000, help="Samples per mode, class-balanced.")
    parser.add_argument("--step", type=int, default=None, help="Checkpoint step (default: the latest).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the noise and of the dropout masks.")
    parser.add_argument("--parzen", action="store_true", help="Also the held-out Parzen LL of each mode.")
    parser.add_argument("--dropout_rates", default="",
                        help="Comma-separated rates p: for a G with dropout_noise, also sample with masks [u >= p] "
                             "scaled by 1 / (1 - p) (the same z and u; p below the trained rate keeps more units).")
    args = parser.parse_args()
    run = restore.restore_run(args.workdir, args.step)
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
    if args.dropout_rates and not getattr(method.generator, "dropout_noise", False):
        parser.error("--dropout_rates needs a generator with dropout_noise (its masks drawn from its noise); "
                     f"{args.workdir}'s generator has none")
    modes = {"as sampled": lambda: method.generate(variables, z, labels)}
    if getattr(method.generator, "dropout_noise", False):  # z, then the masks' uniforms: drop the masks.
        modes["dropout off"] = lambda: method.generator.clone(dropout_noise=False).apply(
            variables, z[:, :method.latent_dim], labels, train=False)
        for rate in (float(p) for p in args.dropout_rates.split(",") if p):
            modes[f"dropout {rate:g}"] = (lambda g: lambda: g.apply(variables, z, labels, train=False))(
                method.generator.clone(dropout_rate=rate))
    elif hasattr(method.generator, "condition_dim"):  # StackGAN: noise = [z, eps_0, eps_1].
        modes["CA means"] = lambda: method.generate(variables, z.at[:, method.latent_dim:].set(0), labels)
        print_condition_spread(method, variables, num_classes)
    else:
        modes["training mode"] = lambda: apply_train(method.generator, variables, z, labels,
                                                     rng=jax.random.fold_in(key, 1))[0]
    parzen_sets = None
    if args.parzen:
        held_out = build_source(run.config.data.source, evaluate.PARZEN_VALIDATION_SPLIT)
        parzen_sets = (metrics.to_unit_vectors(to_float_image(held_out.get(np.arange(len(held_out)))["image"])),
                       metrics.to_unit_vectors(images))
    print(f"{args.workdir} step {int(run.state.step)}; real test pixel spread "
          f"{pixel_spread(images, batch['label'], num_classes):.3f}")
    for name, sample in modes.items():
        fake = np.asarray(sample())
        r = evaluate.sample_metrics(fake, labels, real=real, classifier=classifier, num_classes=num_classes,
                                    batch_size=1000, seed=args.seed)
        print(f"{name:13s} accuracy {r['accuracy']:.4f}  FCD {r['fcd']:.2f}  precision {r['precision']:.3f}  "
              f"recall {r['recall']:.3f}  MS-SSIM {r['ms_ssim']:.3f}  pixel spread "
              f"{pixel_spread(fake, labels, num_classes):.3f}  per class "
              f"{np.round(r['per_class_accuracy'], 3).tolist()}")
        if parzen_sets is not None:
            p = metrics.parzen_estimate(metrics.to_unit_vectors(fake), *parzen_sets)
            print(f"{name:13s} Parzen LL {p['mean']:.1f} +/- {p['std_error']:.1f} (sigma {p['sigma']:.3f})")


if __name__ == "__main__":
    main()
