"""Times the compiled train step of a config: ms per step and examples per second.

    python benchmarks/step_time.py --config configs/cgan_mnist.py [--steps 50] [--config.train.batch_size=256]

Builds the Trainer in a temporary workdir, compiles and warms up, then times
``--steps`` steps with a device sync at the end only (as in training). Prints one
line per run with the device, the batch size and the versions, for RESULTS.md.
"""

import tempfile
import time

import flax
import jax
from absl import app, flags
from ml_collections import config_flags

from jaxgan.train import Trainer

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file.", lock_config=True)
flags.DEFINE_integer("steps", 50, "Timed steps.")
flags.DEFINE_integer("warmup", 5, "Untimed steps after compilation.")


def main(argv):
    del argv
    config = FLAGS.config
    with tempfile.TemporaryDirectory() as workdir:
        trainer = Trainer(config, workdir)
        start = time.perf_counter()
        jax.block_until_ready(trainer.train_steps(1))
        compile_s = time.perf_counter() - start
        jax.block_until_ready(trainer.train_steps(FLAGS.warmup))
        start = time.perf_counter()
        jax.block_until_ready(trainer.train_steps(FLAGS.steps))
        step_s = (time.perf_counter() - start) / FLAGS.steps
    batch = config.train.batch_size
    print(f"{config_flags.get_config_filename(FLAGS['config'])}: batch {batch}, {step_s * 1e3:.1f} ms/step, {batch / step_s:.0f} examples/s, "
          f"compile+first step {compile_s:.1f} s; {len(jax.devices())}x {jax.devices()[0].device_kind}, "
          f"jax {jax.__version__}, flax {flax.__version__}")


if __name__ == "__main__":
    app.run(main)
