"""Command line: ``python -m jaxgan.main --config configs/cgan_mnist.py --workdir runs/cgan``.

Override any config value with ``--config.train.steps=200``; the config is locked,
so a misspelled key is an error naming it. Re-running with the same workdir resumes.
"""

from absl import app, flags
from ml_collections import config_flags

from jaxgan import errors, train

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Path to a config file (configs/*.py).", lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, samples and TensorBoard logs.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    with errors.reported():
        train.train_and_evaluate(FLAGS.config, FLAGS.workdir)


if __name__ == "__main__":
    app.run(main, flags_parser=errors.parse_flags)
