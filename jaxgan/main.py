"""Command line: ``python -m jaxgan.main --config configs/cgan_mnist.py --workdir runs/cgan``.

Override any config value with ``--config.train.steps=200``; the config is locked,
so a misspelled key is an error naming it. Re-running with the same workdir resumes.

On several hosts (a TPU pod slice, a SLURM or Open MPI job, or processes given
``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``), every
process runs the same command with ``--distributed``, which calls
``jax.distributed.initialize()`` before anything touches a device. Without the
flag the run is single-process, as on a laptop or one GPU.
"""

import os

import jax
from absl import app, flags
from ml_collections import config_flags

from jaxgan import errors, sharding, train

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The flags of ``python -m jaxgan.main``, defined when it runs as a command rather than on import,
    so that the commands' modules (whose flags share names) can be imported together."""
    config_flags.DEFINE_config_file("config", None, "Path to a config file (configs/*.py).", lock_config=True)
    flags.DEFINE_string("workdir", None, "Directory for checkpoints, samples and TensorBoard logs.")
    flags.DEFINE_bool("distributed", False, "Join a multi-process run with jax.distributed.initialize() "
                      "(TPU pods, SLURM and Open MPI are detected; otherwise set JAX_COORDINATOR_ADDRESS, "
                      "JAX_NUM_PROCESSES and JAX_PROCESS_ID).")
    flags.mark_flags_as_required(["config", "workdir"])


def initialize_distributed() -> None:
    """``jax.distributed.initialize``, with the process count and id from the environment when set
    (JAX reads only the coordinator address itself; clusters it knows fill in the rest)."""
    count, index = os.environ.get("JAX_NUM_PROCESSES"), os.environ.get("JAX_PROCESS_ID")
    jax.distributed.initialize(num_processes=int(count) if count else None,
                               process_id=int(index) if index else None)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if FLAGS.distributed:
        initialize_distributed()
    with errors.reported():
        sharding.report_devices()
        train.train_and_evaluate(FLAGS.config, FLAGS.workdir)


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=errors.parse_flags)
