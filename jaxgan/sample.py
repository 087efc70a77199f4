"""Sampling command: a class-conditional grid, or an image-to-image panel, from a trained run.

    python -m jaxgan.sample --workdir runs/cgan_mnist --labels 0,1,2 --num 8 --out grid.png
    python -m jaxgan.sample --workdir runs/pix2pix --num 8 --out panel.png

An image-to-image run writes its method's panel (input | output | target, ...) of ``--num``
held-out examples, as the training loop does.

One row per label, ``--num`` columns sharing their noise. Uses the EMA generator
when the run kept one (``--noema`` for the raw weights).

For a method with an identity-preserving transformation (Latent Constraints),
``--transform_to=CLASS`` writes ``--num`` random test images (top row, chosen by ``--seed``)
and each of them transformed to class CLASS (bottom row) instead:

    python -m jaxgan.sample --workdir runs/latent_constraints --transform_to=7 --num 10 --out to7.png
"""

import jax
import numpy as np
from absl import app, flags

from jaxgan import errors, restore, samples
from jaxgan.data.pipeline import to_float_image
from jaxgan.data.sources import build_source

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The flags of ``python -m jaxgan.sample``, defined when it runs as a command rather than on import,
    so that the commands' modules (whose flags share names) can be imported together."""
    flags.DEFINE_string("workdir", None, "Workdir of a trained run.")
    flags.DEFINE_list("labels", None, "Labels, one row each (default: every class).")
    flags.DEFINE_integer("num", 8, "Samples per label (columns).")
    flags.DEFINE_string("out", "samples.png", "Output PNG path.")
    flags.DEFINE_integer("seed", 0, "Seed of the noise.")
    flags.DEFINE_integer("step", None, "Checkpoint step (default: latest).")
    flags.DEFINE_bool("ema", True, "Use the EMA generator when the run has one.")
    flags.DEFINE_integer("transform_to", None, "Methods with an identity-preserving transformation "
                         "(latent_constraints): write --num test images and each transformed to this class, in two rows.")
    flags.mark_flag_as_required("workdir")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    with errors.reported():
        run = restore.restore_run(FLAGS.workdir, FLAGS.step)
        if hasattr(run.method, "panel_columns"):
            write_panel(run)
            return
    classes = run.data.num_classes
    labels = [int(x) for x in FLAGS.labels] if FLAGS.labels else list(range(classes))
    bad = [y for y in labels if not 0 <= y < classes]
    if bad:
        raise app.UsageError(f"labels {bad} are outside [0, {classes}) for this run")
    if FLAGS.num < 1:
        raise app.UsageError("--num must be >= 1")
    if FLAGS.transform_to is not None:
        write_transformation(run, FLAGS.transform_to)
        return
    grid = samples.class_grid_fn(run.method, labels, FLAGS.num, FLAGS.seed)(
        run.state.generator_variables(FLAGS.ema))
    samples.write_grid(FLAGS.out, grid, FLAGS.num)
    print(f"Wrote {len(labels)}x{FLAGS.num} samples of step {int(run.state.step)} to {FLAGS.out}")


def write_panel(run) -> None:
    """An image-to-image run: the method's panel (e.g. input | output | target) of --num held-out examples."""
    if FLAGS.num < 1:
        raise app.UsageError("--num must be >= 1")
    run.config.sample.examples = FLAGS.num
    panel = samples.training_panel(run.method, run.data, run.config)
    samples.write_grid(FLAGS.out, panel.images(run.state.generator_variables(FLAGS.ema)), panel.columns)
    print(f"Wrote the panel of {FLAGS.num} held-out examples ({' | '.join(run.method.panel_column_names)}) "
          f"of step {int(run.state.step)} to {FLAGS.out}")


def write_transformation(run, target: int) -> None:
    """--transform_to: originals from the test split (top row) and their transformations (bottom row)."""
    if not hasattr(run.method, "transform"):
        raise app.UsageError(f"--transform_to: method {run.config.method!r} has no identity-preserving transformation")
    if not 0 <= target < run.data.num_classes:
        raise app.UsageError(f"--transform_to={target} is outside [0, {run.data.num_classes}) for this run")
    with errors.reported():
        source = build_source(run.config.data.source, "test", on_corrupt=run.config.data.on_corrupt)
    if FLAGS.num > len(source):
        raise app.UsageError(f"--num={FLAGS.num} is more than the {len(source)} test images")
    indices = np.sort(np.random.default_rng(FLAGS.seed).choice(len(source), FLAGS.num, replace=False))
    originals = to_float_image(source.get(indices)["image"])
    transform = jax.jit(lambda g, d, x, y: run.method.transform(g, d, x, y)[0])
    moved = transform(run.state.generator_variables(FLAGS.ema), run.state.discriminator.variables(), originals,
                      np.full((FLAGS.num,), target, np.int32))
    samples.write_grid(FLAGS.out, np.concatenate([originals, np.asarray(moved)]), FLAGS.num)
    print(f"Wrote {FLAGS.num} test images and their transformations to class {target} "
          f"(step {int(run.state.step)}) to {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=errors.parse_flags)
