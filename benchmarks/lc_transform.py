"""Measures Latent Constraints' identity-preserving transformation on real test digits.

    python benchmarks/lc_transform.py --workdir runs/latent_constraints [--num 200] [--seed 0]
        [--steps N] [--step_size S] [--lambda_dist L] [--realism_weight R]

Sends ``--num`` test digits (chosen by ``--seed``) each to a random other class with the run's
``transform`` (the config's ``sample.transform_*`` unless a flag overrides one) and reads the decoded
results with the shipped MNIST classifier. Prints one line for RESULTS.md: the fraction read as the
target class; for reference, the fraction of the plain reconstructions decode(z0) read as the digit's
own class; and how far the latents moved, mean |z - z0| in units of sigma_z_bar (the encoder's mean
standard deviation on these digits).
"""

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from jaxgan import errors, restore
from jaxgan.data.pipeline import to_float_image
from jaxgan.data.sources import build_source
from jaxgan.metrics.classifier import classify_in_batches, load_classifier

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Workdir of a trained latent_constraints run.")
flags.DEFINE_integer("num", 200, "Test digits to transform.")
flags.DEFINE_integer("seed", 0, "Seed of the choice of digits and of their target classes.")
flags.DEFINE_integer("steps", None, "Gradient-ascent steps (default: the config's).")
flags.DEFINE_float("step_size", None, "Step size (default: the config's).")
flags.DEFINE_float("lambda_dist", None, "Weight of the distance penalty (default: the config's).")
flags.DEFINE_float("realism_weight", None, "Weight rho of the critic's term (default: the config's).")
flags.mark_flag_as_required("workdir")


def main(argv):
    del argv
    with errors.reported():
        run = restore.restore_run(FLAGS.workdir)
        source = build_source(run.config.data.source, "test", on_corrupt=run.config.data.on_corrupt)
    if not hasattr(run.method, "transform"):
        raise app.UsageError(f"method {run.config.method!r} has no identity-preserving transformation")
    rng = np.random.default_rng(FLAGS.seed)
    batch = source.get(np.sort(rng.choice(len(source), FLAGS.num, replace=False)))
    images, labels = to_float_image(batch["image"]), np.asarray(batch["label"])
    classes = run.data.num_classes
    targets = ((labels + rng.integers(1, classes, FLAGS.num)) % classes).astype(np.int32)

    method, g_vars, d_vars = run.method, run.state.generator_variables(), run.state.discriminator.variables()
    options = dict(steps=FLAGS.steps, step_size=FLAGS.step_size, lambda_dist=FLAGS.lambda_dist,
                   realism_weight=FLAGS.realism_weight)
    moved, z = jax.jit(lambda x, t: method.transform(g_vars, d_vars, x, t, **options))(images, targets)
    z0, log_variance = method.encode(g_vars, images)
    sigma_z_bar = float(jnp.mean(jnp.exp(0.5 * log_variance)))
    classifier = load_classifier()
    moved_logits, _ = classify_in_batches(classifier, np.asarray(moved))
    recon_logits, _ = classify_in_batches(classifier, np.asarray(method.decode(g_vars, z0)))
    target_accuracy = float(np.mean(moved_logits.argmax(-1) == targets))
    recon_accuracy = float(np.mean(recon_logits.argmax(-1) == labels))
    move = float(jnp.mean(jnp.abs(z - z0))) / sigma_z_bar
    used = {k: getattr(method, f"transform_{k}") if v is None else v for k, v in options.items()}
    print(f"{FLAGS.workdir} (step {int(run.state.step)}), {FLAGS.num} test digits, seed {FLAGS.seed}, "
          + ", ".join(f"{k} {v}" for k, v in used.items())
          + f": target accuracy {target_accuracy:.3f}, reconstruction accuracy {recon_accuracy:.3f}, "
          f"mean |z - z0| {move:.2f} sigma_z_bar")


if __name__ == "__main__":
    app.run(main)
