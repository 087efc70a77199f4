"""DiscoGAN as its authors' code trains it (SKTBrain/DiscoGAN): the encoder-decoder G and the DCGAN D with
the code's parameter counts, the generator loss by hand with feature matching and the rate curriculum (which
activations reach the feature matching, which rate at which step), D updated on every second step
(n_generator), the configs, and the paper's 64x64 networks trained for two real steps at batch 1."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import losses, methods, networks, optim
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods.base import ArraySpec, DataInfo
from jaxgan.methods.cyclegan import Discriminators

from conftest import load_config, one_device_mesh, probe_state, tiny_discogan_code


def _count(tree) -> int:
    return sum(p.size for p in jax.tree.leaves(tree))


def _init(net, x):
    return jax.eval_shape(lambda: net.init(jax.random.PRNGKey(0), x, train=False))


# --- Networks ---------------------------------------------------------------------------------------------

def test_networks_have_the_codes_layers_and_parameter_counts():
    """At 64x64x3: G 5,513,856 parameters (3,072 + 131,072 + 524,288 + 2,097,152 convolution weights down,
    the same up, and 2 x (128 + 256 + 512 + 256 + 128 + 64) batch-norm scales and shifts; no biases),
    D 2,765,568 (the four convolutions, 1,792 batch-norm parameters and the 4x4x512 logit kernel), counted
    from the code's model.py. D's one logit per image and its four activations (32, 16, 8, 4 pixels)."""
    x = jnp.zeros((2, 64, 64, 3))
    generator = networks.build("encoder_decoder_translator", output_channels=3)
    discriminator = networks.build("patchgan_discriminator", variant="dcgan", n_layers=4)
    g_vars, d_vars = _init(generator, x), _init(discriminator, x)
    assert _count(g_vars["params"]) == 5_513_856
    assert _count(d_vars["params"]) == 2_765_568
    biases = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_leaves_with_path(d_vars["params"])
              if path[-1].key == "bias"]
    assert biases and all("BatchNorm" in b for b in biases)  # Batch norm's shifts only: no convolution bias.
    logits, features = jax.eval_shape(lambda v: discriminator.apply(v, x, train=False, return_features=True),
                                      d_vars)
    assert logits.shape == (2, 1, 1, 1)
    assert [f.shape for f in features] == [(2, 32, 32, 64), (2, 16, 16, 128), (2, 8, 8, 256), (2, 4, 4, 512)]


def test_generator_maps_to_images_of_its_input_size_and_refuses_other_sizes():
    generator = networks.build("encoder_decoder_translator", output_channels=1, features=4, layers=3)
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 32, 32, 3))
    variables = generator.init(jax.random.PRNGKey(1), x, train=False)
    translate = lambda images: generator.apply(variables, images, train=True, mutable=["batch_stats"])[0]  # noqa: E731
    y = translate(x)  # Batch statistics: freshly initialised weights give outputs of ~1e-7 with the running ones.
    assert y.shape == (2, 32, 32, 1) and float(jnp.abs(y).max()) <= 1.0
    other = translate(x[::-1])  # The output depends on the input, example by example.
    assert float(jnp.abs(other - y[::-1]).max()) < 1e-5 and float(jnp.abs(y[0] - y[1]).max()) > 1e-2
    with pytest.raises(ConfigError, match="encoder_decoder_translator: images of 36x36 are not divisible"):
        generator.init(jax.random.PRNGKey(1), jnp.zeros((1, 36, 36, 3)), train=False)


# --- The generator loss by hand ---------------------------------------------------------------------------

D_A_SCALE, D_B_SCALE = 1.0, 3.0
FIRST_LAYER = 100.0  # A first activation far larger than the others: it must not reach the feature matching.


class FeatureProbe(nn.Module):
    """A parameter-free D: logit ``scale`` * the image's mean; activations (100 x, 2 x, 3 x)."""

    scale: float

    @nn.compact
    def __call__(self, x, *, train, return_features=False):
        logits = (self.scale * x.mean(axis=(1, 2, 3)))[:, None, None, None]
        return (logits, [FIRST_LAYER * x, 2.0 * x, 3.0 * x]) if return_features else logits


V = dict(a=0.1, b=0.5, fake_b=0.3, fake_a=-0.2, rec_a=0.15, rec_b=0.4)


def _images(v, n=2):
    return jnp.full((n, 4, 4, 1), v, jnp.float32)


def _method():
    config = load_config("discogan_mnist", "code")
    data = DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"), "image_b": ArraySpec((32, 32, 1), "float32")})
    method = methods.build(config, data)
    return dataclasses.replace(method, discriminators=Discriminators(FeatureProbe(D_A_SCALE), FeatureProbe(D_B_SCALE)))


@pytest.mark.parametrize("step, rate", [(0, 0.01), (999, 0.01), (1000, 0.5), (2999, 0.5)])
def test_generator_loss_by_hand_with_feature_matching_and_the_rate(step, rate):
    """Per direction the code's (0.1 BCE(D(fake), 1) + 0.9 FM) (1 - r) + r MSE(rec, x), with FM on D's
    activations past its first: D_A gets fake_b and real b, FM_A = (2 (0.3 - 0.5))^2 + (3 (0.3 - 0.5))^2;
    D_B gets fake_a and real a. Reconstruction 0.25 x the squared error (the code's MSE on [0, 1])."""
    method = _method()
    batch = {"image_a": _images(V["a"]), "image_b": _images(V["b"])}
    generated = {k: _images(V[k]) for k in ("fake_b", "fake_a", "rec_a", "rec_b")}
    loss, (metrics, _) = method.generator_loss(generated, probe_state(step), batch, jax.random.PRNGKey(0))
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    g_a, g_b = softplus(-D_A_SCALE * V["fake_b"]), softplus(-D_B_SCALE * V["fake_a"])  # -log sigmoid(logit).
    fm_a = (2 * (V["fake_b"] - V["b"])) ** 2 + (3 * (V["fake_b"] - V["b"])) ** 2
    fm_b = (2 * (V["fake_a"] - V["a"])) ** 2 + (3 * (V["fake_a"] - V["a"])) ** 2
    adversarial = 0.1 * g_a + 0.9 * fm_a + 0.1 * g_b + 0.9 * fm_b
    reconstruction = 0.25 * (V["rec_a"] - V["a"]) ** 2 + 0.25 * (V["rec_b"] - V["b"]) ** 2
    np.testing.assert_allclose(loss, (1 - rate) * adversarial + rate * reconstruction, rtol=1e-5)
    np.testing.assert_allclose([metrics["fm_a"], metrics["fm_b"], metrics["rate"]], [fm_a, fm_b, rate], rtol=1e-5)


def test_feature_matching_compares_batch_means_and_moves_only_the_fakes():
    """Two examples whose activations differ but average to the real batch's: no loss; the gradient
    reaches the fake activations only."""
    real = [jnp.asarray([[1.0, 2.0], [1.0, 2.0]])]
    fake = [jnp.asarray([[0.0, 3.0], [2.0, 1.0]])]
    assert float(losses.mean_feature_matching_loss(real_features=real, fake_features=fake)) == 0.0
    fake = [jnp.asarray([[0.0, 0.0], [2.0, 2.0]])]  # Means (1, 1) against (1, 2): (0 + 1) / 2.
    assert float(losses.mean_feature_matching_loss(real_features=real, fake_features=fake)) == pytest.approx(0.5)
    grad_real, grad_fake = jax.grad(lambda r, f: losses.mean_feature_matching_loss(real_features=r, fake_features=f),
                                    argnums=(0, 1))(real, fake)
    assert float(jnp.abs(grad_real[0]).max()) == 0.0
    # d/d f_nj of mean_j (mean_n f_nj - r_j)^2 = 2 (mean_n f_nj - r_j) / (2 features) / (2 examples).
    np.testing.assert_allclose(grad_fake[0], [[0.0, -0.5], [0.0, -0.5]])
    with pytest.raises(ValueError, match="1 real and 2 fake layers"):
        losses.mean_feature_matching_loss(real_features=real, fake_features=fake * 2)


@pytest.mark.parametrize("changes, message", [
    ({"loss.feature_matching_fraction": 1.5}, r"feature_matching_fraction=1.5 must be a number in \[0, 1\]"),
    ({"loss.default_rate": 0.0}, r"starting_rate=0.01 and gan_curriculum=1000 need config.loss.default_rate > 0"),
    ({"loss.gan_curriculum": -1}, r"gan_curriculum=-1 must be a number of steps >= 0"),
])
def test_bad_rates_are_config_errors(changes, message):
    config = load_config("discogan_mnist", "code")
    for key, value in changes.items():
        section, name = key.split(".")
        config[section][name] = value
    data = DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"), "image_b": ArraySpec((32, 32, 1), "float32")})
    with pytest.raises(ConfigError, match=message):
        methods.build(config, data)


# --- D on every second step (n_generator) -----------------------------------------------------------------

def _moved(before, after) -> bool:
    return not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after)))


def test_discriminator_updates_on_every_second_step_and_generator_on_every_step(tmp_path):
    """n_generator 2 (the code's two G updates per D update): G moves every step, D on steps 1, 3, 5 only,
    D's metrics are 0 on the others; D's Adam has counted 3 updates after 6 steps."""
    trainer = train_lib.Trainer(tiny_discogan_code(steps=6), str(tmp_path), mesh=one_device_mesh())
    for step in range(6):
        g_before, d_before = jax.device_get((trainer.state.generator.params, trainer.state.discriminator.params))
        metrics = jax.device_get(trainer.train_steps(1))
        g_after, d_after = jax.device_get((trainer.state.generator.params, trainer.state.discriminator.params))
        assert _moved(g_before, g_after), step
        assert _moved(d_before, d_after) == (step % 2 == 1), step
        assert (metrics["d/loss"] != 0) == (step % 2 == 1), step
        assert metrics["g/rate"] == pytest.approx(0.01 if step < 2 else 0.5), step
    counts = [int(leaf) for path, leaf in jax.tree_util.tree_leaves_with_path(trainer.state.discriminator.opt_state)
              if "count" in jax.tree_util.keystr(path)]
    assert counts and set(counts) == {3}


def test_discriminator_rate_decays_over_its_own_updates():
    """A linear decay spans D's train.steps // n_generator updates (50 of 100 steps), G's train.steps //
    n_critic (100): after 25 updates each side's rate is that of an optimizer built for its own count."""
    config = load_config("discogan_mnist", "code")
    config.train.steps = 100
    for side in ("generator", "discriminator"):
        config.optimizer[side].linear_decay = True
    g_tx, d_tx = optim.build_pair(config, None)
    params = {"w": jnp.ones(())}

    def rate_after_25(tx):
        state = tx.init(params)
        for _ in range(25):
            _, state = tx.update({"w": jnp.ones(())}, state, params)
        injected = [x for x in jax.tree.leaves(state, is_leaf=lambda y: hasattr(y, "hyperparams"))
                    if hasattr(x, "hyperparams")]
        return float(injected[0].hyperparams["learning_rate"])

    for tx, own, other, side in ((d_tx, 50, 100, "discriminator"), (g_tx, 100, 50, "generator")):
        rate = rate_after_25(tx)
        assert rate == pytest.approx(rate_after_25(optim.build(config.optimizer[side], own))), side
        assert rate != pytest.approx(rate_after_25(optim.build(config.optimizer[side], other))), side


@pytest.mark.parametrize("settings, message", [
    (dict(n_critic=2, n_generator=2), r"train.n_critic=2 and train.n_generator=2: set one of them to 1"),
    (dict(n_generator=2, steps_per_call=3, log_every=6, sample_every=6, checkpoint_every=6),
     r"train.steps_per_call=3 must be a multiple of train.n_generator=2 \(each call updates D"),
    (dict(n_generator=0), r"train.n_generator=0 must be"),
])
def test_update_ratios_that_cannot_work_are_config_errors(settings, message):
    from jaxgan import config as config_lib

    config = config_lib.base_config()
    config.train.update(settings)
    with pytest.raises(ConfigError, match=message):
        config_lib.validate(config)


def test_a_method_that_updates_both_sides_every_step_refuses_n_generator(tmp_path):
    config = load_config("combogan_mnist")
    config.train.n_generator = 2
    with pytest.raises(ConfigError, match=r"train.n_generator=2: method 'combogan' updates both sides"):
        train_lib.Trainer(config, str(tmp_path), mesh=one_device_mesh())


# --- Configs ------------------------------------------------------------------------------------------------

def test_mnist_config_and_its_code_variant():
    plain, code = load_config("discogan_mnist"), load_config("discogan_mnist", "code")
    data = DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"), "image_b": ArraySpec((32, 32, 1), "float32")})
    method = methods.build(code, data)
    assert (method.feature_matching_fraction, method.starting_rate, method.default_rate, method.gan_curriculum,
            method.lambda_a, method.cycle_norm, method.pool_size) == (0.9, 0.01, 0.5, 1000, 0.25, "l2", 0)
    assert (code.train.n_generator, code.train.batch_size, code.optimizer.discriminator.weight_decay) == (2, 64, 1e-5)
    simple = methods.build(plain, data)
    assert (simple.feature_matching_fraction, simple.default_rate, plain.train.n_generator) == (0.0, 0.0, 1)
    with pytest.raises(ConfigError, match="variant"):
        load_config("discogan_mnist", "paper")


def test_paper_config_trains_two_real_steps_at_64x64_batch_1(tmp_path):
    """configs/discogan_paper.py with the code's 64x64 networks at batch 1 on coloured digits resized to
    64x64: the code's parameter counts per side, and two real steps (G both, D the second)."""
    config = load_config("discogan_paper")
    assert (config.data.load_size, config.train.batch_size, config.train.n_generator) == (64, 64, 2)
    config.data.source = "domains:builtin:mnist/plain_rgb|builtin:mnist/coloured"
    config.train.update(steps=2, batch_size=1, log_every=1, sample_every=2, checkpoint_every=2)
    config.sample.examples = 1
    trainer = train_lib.Trainer(config, str(tmp_path), mesh=one_device_mesh())
    assert _count(trainer.state.generator.params) == 2 * 5_513_856
    assert _count(trainer.state.discriminator.params) == 2 * 2_765_568
    d_before = jax.device_get(trainer.state.discriminator.params)
    first = jax.device_get(trainer.train_steps(1))
    assert not _moved(d_before, jax.device_get(trainer.state.discriminator.params)) and first["d/loss"] == 0
    second = jax.device_get(trainer.train_steps(1))
    assert _moved(d_before, jax.device_get(trainer.state.discriminator.params))
    assert all(np.isfinite(v) for v in second.values()) and second["g/rate"] == pytest.approx(0.01)
    assert second["g/fm_a"] > 0 and second["d/loss"] > 0
