"""Sampling command: a class-conditional grid from a trained run.

    python -m jaxgan.sample --workdir runs/cgan_mnist --labels 0,1,2 --num 8 --out grid.png

One row per label, ``--num`` columns sharing their noise. Uses the EMA generator
when the run kept one (``--noema`` for the raw weights).
"""

from absl import app, flags

from jaxgan import errors, restore, samples

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Workdir of a trained run.")
flags.DEFINE_list("labels", None, "Labels, one row each (default: every class).")
flags.DEFINE_integer("num", 8, "Samples per label (columns).")
flags.DEFINE_string("out", "samples.png", "Output PNG path.")
flags.DEFINE_integer("seed", 0, "Seed of the noise.")
flags.DEFINE_integer("step", None, "Checkpoint step (default: latest).")
flags.DEFINE_bool("ema", True, "Use the EMA generator when the run has one.")
flags.mark_flag_as_required("workdir")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    with errors.reported():
        run = restore.restore_run(FLAGS.workdir, FLAGS.step)
    classes = run.data.num_classes
    labels = [int(x) for x in FLAGS.labels] if FLAGS.labels else list(range(classes))
    bad = [y for y in labels if not 0 <= y < classes]
    if bad:
        raise app.UsageError(f"labels {bad} are outside [0, {classes}) for this run")
    if FLAGS.num < 1:
        raise app.UsageError("--num must be >= 1")
    grid = samples.class_grid_fn(run.method, labels, FLAGS.num, FLAGS.seed)(
        run.state.generator_variables(FLAGS.ema))
    samples.write_grid(FLAGS.out, grid, FLAGS.num)
    print(f"Wrote {len(labels)}x{FLAGS.num} samples of step {int(run.state.step)} to {FLAGS.out}")


if __name__ == "__main__":
    app.run(main, flags_parser=errors.parse_flags)
