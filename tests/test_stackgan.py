"""StackGAN (Zhang et al. 2017): network shapes and counts by hand, conditioning augmentation,
the stage-II gradient stop, both losses against hand values, config checks, real training steps."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import methods, networks
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods import stackgan
from jaxgan.methods.base import DataInfo
from jaxgan.methods.stackgan import StackGAN, discriminator_stage_loss, half_resolution

from conftest import diffaugment_calls, load_config, tiny_stackgan

MNIST = DataInfo.labelled((28, 28, 1), 10)


def softplus(x):
    return math.log1p(math.exp(x))


def dense(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


def conv(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def bn(c):
    return 2 * c


def _count(variables):
    return sum(x.size for x in jax.tree.leaves(variables["params"]))


def _tiny_networks():
    config = tiny_stackgan()
    g = networks.build_from_config(config.model.generator, num_classes=10, image_shape=(28, 28, 1))
    d = networks.build_from_config(config.model.discriminator, num_classes=10)
    return g, d


def test_generator_shapes_and_count():
    g, _ = _tiny_networks()  # latent 3, N_g 2, stage I (4, 3), stage II 2, one residual block.
    noise, labels = jnp.zeros((5, g.noise_dim(3))), jnp.arange(5)
    assert noise.shape == (5, 3 + 2 * 2)
    variables = g.init(jax.random.PRNGKey(0), noise, labels, train=False)
    s_0, s_1, ((mu_0, logvar_0), (mu_1, _)) = g.apply(variables, noise, labels, train=False)
    assert s_0.shape == (5, 14, 14, 1) and s_1.shape == (5, 28, 28, 1)
    assert mu_0.shape == logvar_0.shape == mu_1.shape == (5, 2)
    assert float(jnp.abs(s_1).max()) <= 1
    stage_1 = (dense(10, 4)  # CA: phi -> (mu_0, logvar_0).
               + dense(2 + 3, 7 * 7 * 4, bias=False) + bn(4)  # [c_0, z] -> 7x7x4.
               + conv(3, 4, 3, bias=False) + bn(3)  # Up-sampling block to 14x14x3.
               + conv(3, 3, 1))  # To the image.
    stage_2 = (dense(10, 4)  # CA: phi -> (mu_1, logvar_1).
               + conv(3, 1, 2) + conv(4, 2, 4, bias=False) + bn(4)  # Down to 7x7x4.
               + conv(3, 4 + 2, 4, bias=False) + bn(4)  # Joint with c_1.
               + 2 * (conv(3, 4, 4, bias=False) + bn(4))  # One residual block.
               + conv(3, 4, 2, bias=False) + bn(2) + conv(3, 2, 1, bias=False) + bn(1)  # Up to 28x28x1.
               + conv(3, 1, 1))  # To the image.
    assert _count(variables) == stage_1 + stage_2


def test_discriminator_shapes_and_count():
    _, d = _tiny_networks()  # N_d 2, D_0 (2,), D_1 (2, 3).
    images, labels = (jnp.zeros((5, 14, 14, 1)), jnp.zeros((5, 28, 28, 1))), jnp.arange(5)
    variables = d.init(jax.random.PRNGKey(0), images, labels, train=False)
    logit_0, logit_1 = d.apply(variables, images, labels, train=False)
    assert logit_0.shape == logit_1.shape == (5,)
    d_0 = conv(4, 1, 2) + dense(10, 2) + conv(1, 2 + 2, 2) + dense(7 * 7 * 2, 1)  # 14 -> 7.
    d_1 = conv(4, 1, 2) + conv(4, 2, 3) + dense(10, 2) + conv(1, 3 + 2, 3) + dense(7 * 7 * 3, 1)  # 28 -> 7.
    assert _count(variables) == d_0 + d_1


def test_conditioning_augmentation_is_mu_plus_sigma_eps():
    ca = networks.stackgan.ConditioningAugmentation(condition_dim=2)
    phi, eps = jnp.array([[1.0, 0.0]]), jnp.array([[0.5, -2.0]])
    kernel = jnp.array([[0.3, -0.2, 0.4, -1.0], [9.0, 9.0, 9.0, 9.0]])  # Row 0 is phi's one-hot input.
    variables = {"params": {"Dense_0": {"kernel": kernel, "bias": jnp.zeros(4)}}}
    c, mu, logvar = ca.apply(variables, phi, eps)
    np.testing.assert_allclose(mu, [[0.3, -0.2]], rtol=1e-6)
    np.testing.assert_allclose(logvar, [[0.4, -1.0]], rtol=1e-6)
    np.testing.assert_allclose(c, [[0.3 + math.exp(0.2) * 0.5, -0.2 - math.exp(-0.5) * 2.0]], rtol=1e-6)


def test_stage_two_does_not_train_stage_one():
    g, _ = _tiny_networks()
    noise = jax.random.normal(jax.random.PRNGKey(1), (4, g.noise_dim(3)))
    labels = jnp.arange(4)
    variables = jax.jit(lambda: g.init(jax.random.PRNGKey(0), noise, labels, train=False))()

    @functools.partial(jax.jit, static_argnums=0)
    def grads(stage):
        return jax.grad(lambda p: jnp.sum(g.apply({**variables, "params": p}, noise, labels, train=False)[stage]))(
            variables["params"])

    flat_0, flat_1 = jax.tree.leaves(grads(0)), jax.tree.leaves(grads(1))
    stage_1_params = [i for i, leaf in enumerate(flat_0) if jnp.any(leaf != 0)]
    assert stage_1_params, "s_0 depends on some parameters"
    assert all(not jnp.any(flat_1[i] != 0) for i in stage_1_params)
    assert any(jnp.any(leaf != 0) for leaf in flat_1)


def test_half_resolution_averages_2x2_blocks():
    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_allclose(half_resolution(x)[0, ..., 0], [[2.5, 4.5], [10.5, 12.5]])


def test_discriminator_stage_loss_by_hand():
    real, fake, wrong = jnp.array([2.0, -1.0]), jnp.array([0.5, -0.5]), jnp.array([1.0, 3.0])
    loss = discriminator_stage_loss("non_saturating", real=real, fake=fake, mismatched=wrong)
    # -log s(real) - (log(1 - s(fake)) + log(1 - s(wrong))) / 2, batch means, s = sigmoid.
    expected = ((softplus(-2.0) + softplus(1.0)) / 2
                + ((softplus(0.5) + softplus(-0.5)) / 2 + (softplus(1.0) + softplus(3.0)) / 2) / 2)
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def _patched(monkeypatch, d_outputs, ca_stats=None):
    """Replaces G by fixed images and CA statistics, and D by ``d_outputs`` in call order."""
    method = methods.build(tiny_stackgan(), MNIST)
    images = (jnp.zeros((2, 14, 14, 1)), jnp.zeros((2, 28, 28, 1)))
    monkeypatch.setattr(StackGAN, "_fake", lambda self, *a: ((*images, ca_stats), {}))
    outputs = iter(d_outputs)
    monkeypatch.setattr(stackgan, "apply_train", lambda *a, **k: (next(outputs), {}))
    return method


class _State:
    class _Side:
        def variables(self, params=None):
            return {"params": params}

    generator = discriminator = _Side()


BATCH = {"image": jnp.zeros((2, 28, 28, 1)), "label": jnp.array([0, 1])}


def test_discriminator_loss_sums_both_stages_by_hand(monkeypatch):
    real, fake, wrong = (jnp.array([2.0, -1.0]), jnp.array([0.0, 1.0])), \
        (jnp.array([0.5, -0.5]), jnp.array([1.5, 0.0])), (jnp.array([1.0, 3.0]), jnp.array([-2.0, 0.0]))
    method = _patched(monkeypatch, [real, fake, wrong])
    loss, (metrics, _) = method.discriminator_loss(None, _State(), BATCH, jax.random.PRNGKey(0))
    stage = [discriminator_stage_loss("non_saturating", real=real[i], fake=fake[i], mismatched=wrong[i])
             for i in (0, 1)]
    assert float(loss) == pytest.approx(float(stage[0] + stage[1]), rel=1e-6)
    assert float(metrics["stage1_mismatched_logit"]) == pytest.approx(-1.0)


def test_generator_loss_is_both_stages_plus_kl_by_hand(monkeypatch):
    stats = ((jnp.array([[1.0, 0.0]]), jnp.array([[0.0, math.log(2.0)]])),
             (jnp.array([[0.0, 0.0]]), jnp.array([[0.0, 0.0]])))
    method = _patched(monkeypatch, [(jnp.array([0.5, -1.0]), jnp.array([2.0, 0.0]))], stats)
    loss, (metrics, _) = method.generator_loss(None, _State(), BATCH, jax.random.PRNGKey(0))
    adversarial = (softplus(-0.5) + softplus(1.0)) / 2 + (softplus(-2.0) + softplus(0.0)) / 2
    # KL(N(mu, sigma^2) || N(0, 1)) = (mu^2 + sigma^2 - 1 - log sigma^2) / 2 per dimension.
    kl = (1.0 + 1 - 1 - 0) / 2 + (0 + 2 - 1 - math.log(2.0)) / 2  # Stage II's CA is N(0, I): 0.
    assert float(metrics["kl"]) == pytest.approx(kl, rel=1e-6)
    assert float(loss) == pytest.approx(adversarial + method.kl_weight * kl, rel=1e-6)
    assert method.kl_weight == 0.01  # The config's lambda.


def test_config_mistakes_name_the_key():
    config = tiny_stackgan()
    config.loss.kl_weight = -1.0
    with pytest.raises(ConfigError, match="config.loss.kl_weight=-1.0"):
        methods.build(config, MNIST)
    config = tiny_stackgan()
    config.model.discriminator = dict(name="dcgan_discriminator")
    with pytest.raises(ConfigError, match="stackgan_discriminator"):
        methods.build(config, MNIST)
    with pytest.raises(ConfigError, match="needs labelled data"):
        methods.build(tiny_stackgan(), DataInfo.labelled((28, 28, 1), None))
    config = tiny_stackgan()
    with pytest.raises(ConfigError, match="divisible by 4"):
        method = methods.build(config, DataInfo.labelled((30, 30, 1), 10))
        method.init(jax.random.PRNGKey(0), {"image": jnp.zeros((1, 30, 30, 1)), "label": jnp.zeros((1,), jnp.int32)})


def test_real_training_steps_with_diffaugment(tmp_path, monkeypatch):
    config = tiny_stackgan()
    config.loss.diffaugment = "translation,cutout"
    trainer = train_lib.Trainer(config, str(tmp_path))
    history = [jax.device_get(trainer.train_steps(1)) for _ in range(6)]
    for name in ("d/loss", "g/loss", "d/stage0_loss", "d/stage1_loss", "g/stage0_adversarial",
                 "g/stage1_adversarial", "g/kl"):
        values = [h[name] for h in history]
        assert np.isfinite(values).all() and values[0] != values[-1], name
    variables = trainer.state.generator_variables()
    z = trainer.method.sample_noise(jax.random.PRNGKey(0), 3)
    samples = jax.jit(trainer.method.generate)(variables, z, jnp.array([0, 1, 2]))
    assert samples.shape == (3, 28, 28, 1) and np.isfinite(np.asarray(samples)).all()

    # DiffAugment reaches both resolutions of every D input: real, fake, mismatched in D's loss, fake in G's.
    d_calls, g_calls = diffaugment_calls(trainer, monkeypatch)
    assert d_calls == [("translation", "cutout")] * 6 and g_calls == [("translation", "cutout")] * 2


def test_30_epochs_variant_is_the_measured_recipe():
    paper, recipe = load_config("stackgan_mnist"), load_config("stackgan_mnist", "30_epochs")
    assert (paper.loss.kl_weight, recipe.loss.kl_weight) == (0.01, 0.001)
    assert recipe.train.steps == 28125 and recipe.train.batch_size == 64
    for side in ("generator", "discriminator"):
        assert not paper.optimizer[side].linear_decay
        assert recipe.optimizer[side].linear_decay and recipe.optimizer[side].decay_start == 14062
    assert recipe.model == paper.model and recipe.data == paper.data
    recipe.train.steps = 10000  # A shorter run decays over its own second half.
    assert [recipe.optimizer[side].decay_start for side in ("generator", "discriminator")] == [5000, 5000]
    with pytest.raises(ConfigError, match="unknown variant '30ep' of stackgan_mnist"):
        load_config("stackgan_mnist", "30ep")
