"""Step time of a shared-forward method with and without the shared forward.

    python benchmarks/shared_forward.py --config configs/pix2pix_mnist_edges.py [--steps 20]

"shared": the engine runs the generator once per step (``generator_forward``) and pulls G's
gradient back through it. "twice": the same method wrapped in the other form of method, whose two
losses each run the generator (D's loss without gradient, G's loss inside its gradient): the step
before the shared forward existed. Both runs are interleaved in one process (``--rounds``, the order
alternating, best of each), so other load on the machine affects both alike.
"""

import dataclasses
import tempfile
import time

import flax
import jax
from absl import app, flags
from ml_collections import config_flags

from jaxgan import optim, sharding
from jaxgan.train import Trainer
from jaxgan.train_step import compile_train_step, make_train_step

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file of a shared-forward method.", lock_config=True)
flags.DEFINE_integer("steps", 20, "Timed steps per round.")
flags.DEFINE_integer("rounds", 3, "Interleaved rounds.")


@dataclasses.dataclass(frozen=True)
class GeneratorTwice:
    """``method`` in the form whose losses run the generator themselves."""

    method: object

    def init(self, rng, batch):
        return self.method.init(rng, batch)

    def discriminator_loss(self, params, state, batch, rng):
        forward_rng, rng = jax.random.split(rng)
        generated, _ = self.method.generator_forward(state.generator.params, state, batch, forward_rng)
        return self.method.discriminator_loss(params, state, batch, jax.lax.stop_gradient(generated), rng)

    def generator_loss(self, params, state, batch, rng):
        forward_rng, rng = jax.random.split(rng)
        generated, collections = self.method.generator_forward(params, state, batch, forward_rng)
        loss, (metrics, _, *method_state) = self.method.generator_loss(generated, state, batch, rng)
        return loss, (metrics, collections, *method_state)


def main(argv):
    del argv
    config = FLAGS.config
    with tempfile.TemporaryDirectory() as workdir:
        trainer = Trainer(config, workdir)
        g_tx, d_tx = optim.build_pair(config, trainer.method)
        steps = {name: compile_train_step(make_train_step(method, discriminator_tx=d_tx, generator_tx=g_tx),
                                          trainer.mesh)
                 for name, method in (("shared", trainer.method), ("twice", GeneratorTwice(trainer.method)))}
        batch = sharding.global_batch(trainer.pipeline.local_batch(0), trainer.mesh)
        best = {}
        for name, step in steps.items():  # Compile and warm up.
            state = jax.tree.map(lambda x: x.copy(), trainer.state)
            start = time.perf_counter()
            state, _ = step(state, batch)
            jax.block_until_ready(state)
            print(f"{name}: compile + first step {time.perf_counter() - start:.1f} s")
        for round_ in range(FLAGS.rounds):  # Alternate which variant goes first.
            for name, step in list(steps.items())[::1 if round_ % 2 == 0 else -1]:
                state = jax.tree.map(lambda x: x.copy(), trainer.state)
                state, _ = step(state, batch)
                jax.block_until_ready(state)
                start = time.perf_counter()
                for _ in range(FLAGS.steps):
                    state, _ = step(state, batch)
                jax.block_until_ready(state)
                best[name] = min(best.get(name, float("inf")), (time.perf_counter() - start) / FLAGS.steps)
    batch_size = config.train.batch_size
    for name, seconds in best.items():
        print(f"{config_flags.get_config_filename(FLAGS['config'])} {name}: batch {batch_size}, "
              f"{seconds * 1e3:.1f} ms/step, {batch_size / seconds:.1f} examples/s")
    print(f"twice / shared: {best['twice'] / best['shared']:.2f}x; {len(jax.devices())}x "
          f"{jax.devices()[0].device_kind}, jax {jax.__version__}, flax {flax.__version__}")


if __name__ == "__main__":
    app.run(main)
