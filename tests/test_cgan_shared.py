"""The label-conditional cGAN (and its subclasses AC-GAN and the matching-aware D) on the engine's
shared forward: G(z|y) runs once per step, D's loss and G's loss see the same generated images, and
G's batch statistics come from that one forward (hand values of the losses: test_what_reaches_d.py)."""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import train as train_lib
from jaxgan.networks.dcgan import DCGANGenerator
from jaxgan.networks.mlp import MLPGenerator
from jaxgan.train_step import make_train_step

from conftest import module_calls, one_device_mesh, tiny_cgan, tiny_config

SEEN = []  # (images) of every call of the probe D, in the order the callbacks ran.


class ProbeD(nn.Module):
    """Records the images it is given; logit = w * mean(x) + 0.1 y, with one parameter w for D's optimizer."""

    @nn.compact
    def __call__(self, x, labels, *, train):
        w = self.param("w", nn.initializers.ones, ())
        jax.debug.callback(lambda images: SEEN.append(np.asarray(images)), x)
        return w * x.reshape(len(x), -1).mean(1) + 0.1 * labels.astype(jnp.float32)


def _trainer(config, tmp_path):
    config.train.batch_size = 4
    return train_lib.Trainer(config, str(tmp_path), mesh=one_device_mesh())


def _sgd(trainer, lr=0.1):
    """The trainer's state with SGD(lr) optimizer states on both sides (for steps made in the test)."""
    g, d = trainer.state.generator, trainer.state.discriminator
    return trainer.state.replace(generator=g.replace(opt_state=optax.sgd(lr).init(g.params)),
                                 discriminator=d.replace(opt_state=optax.sgd(lr).init(d.params)))


def _forward_rng(state):
    """The key of the step's generator forward (jaxgan.train_step: the third of a 3-way split)."""
    return jax.random.split(jax.random.fold_in(state.rng, state.step), 3)[2]


@pytest.mark.parametrize("config, generator", [
    (functools.partial(tiny_cgan, "mlp"), MLPGenerator),
    (functools.partial(tiny_cgan, "dcgan"), DCGANGenerator),
    (functools.partial(tiny_config, "acgan_mnist"), DCGANGenerator),
    (functools.partial(tiny_config, "matching_mnist", "separate"), DCGANGenerator),
], ids=["cgan_mlp", "cgan_dcgan", "acgan", "matching_separate"])
def test_one_generator_forward_per_step(config, generator, tmp_path):
    trainer = _trainer(config(), tmp_path)
    assert module_calls(trainer, generator) == 1
    assert module_calls(trainer, generator, update_generator=False) == 1  # n_critic's D-only steps.


def test_d_and_g_losses_see_the_one_forward(tmp_path):
    """D (real, then fake) and G's loss: the fake images are G(z|y) of the start-of-step G with the
    forward's z; in the two-loss form each loss drew its own z, so G's images differed from D's."""
    trainer = _trainer(tiny_cgan("mlp"), tmp_path)
    method = dataclasses.replace(trainer.method, discriminator=ProbeD())
    state = _sgd(trainer)
    state = state.replace(discriminator=state.discriminator.replace(
        params={"w": jnp.ones(())}, collections={}, opt_state=optax.sgd(0.1).init({"w": jnp.ones(())})))
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    expected, _ = jax.jit(method.generator_forward)(state.generator.params, state, batch, _forward_rng(state))
    SEEN.clear()
    new_state, metrics = jax.jit(make_train_step(method, discriminator_tx=optax.sgd(0.1),
                                                 generator_tx=optax.sgd(0.1)))(state, batch)
    jax.effects_barrier()
    assert len(SEEN) == 3  # D's loss: real, fake; G's loss: fake.
    # Unordered debug callbacks may run in any order (seen once in CI): find the real images by value.
    real = [i for i, images in enumerate(SEEN) if np.array_equal(images, batch["image"])]
    assert len(real) == 1, "D must see the real images exactly once"
    for i in {0, 1, 2} - set(real):
        np.testing.assert_allclose(SEEN[i], expected, atol=1e-6)
    # D first: G's loss uses D after its SGD step, w' = 1 - 0.1 dL_D/dw (the D metrics say the logits).
    w = float(new_state.discriminator.params["w"])
    assert w != 1.0
    fake_logit = w * expected.reshape(len(expected), -1).mean(1) + 0.1 * np.asarray(batch["label"], np.float32)
    np.testing.assert_allclose(metrics["g/fake_logit"], fake_logit.mean(), rtol=1e-5)


def test_generator_batch_statistics_come_from_the_one_forward(tmp_path):
    """DCGAN G's batch norm: after a step its running statistics are those of the step's forward (one
    update per step); a D-only step (n_critic) leaves them alone."""
    trainer = _trainer(tiny_cgan("dcgan"), tmp_path)
    method, state = trainer.method, _sgd(trainer)
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    step = jax.jit(make_train_step(method, discriminator_tx=optax.sgd(0.1), generator_tx=optax.sgd(0.1)),
                   static_argnums=2)
    _, collections = jax.jit(method.generator_forward)(state.generator.params, state, batch, _forward_rng(state))
    before = state.generator.collections["batch_stats"]
    after = step(state, batch, True)[0].generator.collections["batch_stats"]
    assert not jax.tree.all(jax.tree.map(np.allclose, before, after))
    jax.tree.map(functools.partial(np.testing.assert_allclose, atol=1e-6), after, collections["batch_stats"])
    unchanged = step(state, batch, False)[0].generator.collections["batch_stats"]
    jax.tree.map(np.testing.assert_array_equal, unchanged, before)
