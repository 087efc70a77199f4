"""Fader Networks: the networks' sizes at the paper's setting (counted by hand), the attribute code, both
losses by hand with a probe latent discriminator (what reaches it on each side), the lambda_E ramp, the
slider reaching the decoder in its attribute's direction, one forward per step, real steps with panels,
and the paper-size step traced."""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh

from jaxgan import methods, optim, samples
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods.base import ArraySpec, DataInfo
from jaxgan.methods.fader import latent_weight, parse_attributes
from jaxgan.networks.fader import FaderAutoEncoder, FaderDecoder, FaderEncoder, LatentDiscriminator, attribute_code
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step

from conftest import load_config, tiny_fader

NAMES = ("thick", "slanted", "coloured", "negative")


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return train_lib.Trainer(tiny_fader(steps=2, batch_size=4), str(tmp_path_factory.mktemp("fader")),
                             mesh=Mesh(np.asarray(jax.devices()[:1]), ("data",)))


# --- Networks --------------------------------------------------------------------------------------------

def test_paper_size_parameter_counts_by_hand():
    """256x256x3, C16-C32-C64-C128-C256-C512-C512, 2 attributes (a code of 4). Encoder: conv 4x4 weights
    + biases 784 + 8,224 + 32,832 + 131,200 + 524,544 + 2,097,664 + 4,194,816 and BN 2c after blocks 1-6
    (3,008); decoder: bias-free convT with c_i + 4 inputs: 4,227,072 + 2,113,536 + 532,480 + 135,168 +
    34,816 + 9,216 + 960 and BN (2,016). Latent D: C512 on 2x2 (4,194,816) + BN (1,024) + FC 512x512
    (262,656) + FC 512x4 (2,052)."""
    ae = FaderAutoEncoder(3, features=16, max_features=512, layers=7)
    variables = jax.eval_shape(lambda: ae.init(jax.random.PRNGKey(0), jnp.zeros((1, 256, 256, 3)), jnp.zeros((1, 4)),
                                               train=False))
    count = lambda tree: sum(p.size for p in jax.tree.leaves(tree))  # noqa: E731
    assert count(variables["params"]["encoder"]) == 6_990_064 + 3_008
    assert count(variables["params"]["decoder"]) == 7_053_248 + 2_016
    z = jax.eval_shape(lambda v: ae.apply(v, jnp.zeros((1, 256, 256, 3)), train=False,
                                          method=FaderAutoEncoder.encode), variables)
    assert z.shape == (1, 2, 2, 512)
    d = jax.eval_shape(lambda: LatentDiscriminator(4).init(jax.random.PRNGKey(0), jnp.zeros(z.shape), train=False))
    assert count(d["params"]) == 4_194_816 + 1_024 + 262_656 + 2_052


def test_attribute_code_is_one_hot_pairs_and_the_slider_interpolates():
    np.testing.assert_allclose(attribute_code(jnp.asarray([[0.0, 1.0, 0.25]])), [[1, 0, 0, 1, 0.75, 0.25]])


def test_bad_sizes_are_refused():
    with pytest.raises(ConfigError, match="not divisible by 2\\^layers"):
        FaderAutoEncoder(1, layers=3).init(jax.random.PRNGKey(0), jnp.zeros((1, 12, 12, 1)), jnp.zeros((1, 2)),
                                           train=False)
    with pytest.raises(ConfigError, match="power-of-two"):
        LatentDiscriminator(2).init(jax.random.PRNGKey(0), jnp.zeros((1, 3, 3, 4)), train=False)


def test_the_slider_moves_the_output_in_its_attributes_direction():
    """A one-block decoder of one output channel whose kernel weighs only the code's channel a_j
    (column 2j + 1 of [1 - a_0, a_0, 1 - a_1, a_1]) by +0.1: the image rises strictly with a_1 and does not
    move with a_0; with the pair the other way round (a weight on 1 - a_1) it would fall."""
    ae = FaderAutoEncoder(1, features=2, layers=1, norm="none")
    x = jnp.linspace(-1, 1, 2 * 4 * 4).reshape(2, 4, 4, 1)
    variables = ae.init(jax.random.PRNGKey(0), x, jnp.zeros((2, 4)), train=False)
    layer = variables["params"]["decoder"]["ConvTranspose_0"]
    kernel = np.zeros(layer["correlation_kernel"].shape)  # W' [4, 4, in 2 + 4, out 1]
    kernel[:, :, 2 + 3, 0] = 0.1
    variables = jax.tree.map(lambda v: v, variables)
    variables["params"]["decoder"]["ConvTranspose_0"]["correlation_kernel"] = jnp.asarray(kernel)
    method = dataclasses.replace(methods.build(tiny_fader(), _data(4, 16)), autoencoder=ae, attribute_names=("a0", "a1"))
    translate = jax.jit(lambda a: method.translate(variables, x, None, attributes=a))
    outputs = [float(translate(jnp.asarray([0.3, a])).mean()) for a in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(b > a + 1e-4 for a, b in zip(outputs, outputs[1:]))
    np.testing.assert_allclose(translate(jnp.asarray([0.9, 0.5])), translate(jnp.asarray([0.3, 0.5])), atol=1e-6)


# --- Losses by hand ----------------------------------------------------------------------------------------

class ProbeLatentD(nn.Module):
    """Parameter-free: attribute j's logits are (0, s_j mean(z)) (s = 1, 2, ...); it reports ``train``."""

    num_outputs: int

    @nn.compact
    def __call__(self, z, *, train):
        m = z.mean(axis=(1, 2, 3))[:, None] * jnp.arange(1, self.num_outputs // 2 + 1)
        self.sow("intermediates", "train", jnp.asarray(train))
        return jnp.stack([jnp.zeros_like(m), m], axis=-1).reshape(z.shape[0], -1)


def _data(num_attributes, size):
    return DataInfo({"image": ArraySpec((size, size, 3), "float32"),
                     "attributes": ArraySpec((num_attributes,), "float32")}, attribute_names=NAMES[:num_attributes])


def _state(step):
    side = Side(params={}, collections={}, opt_state=None)
    return GANState(step=jnp.asarray(step, jnp.int32), rng=jax.random.PRNGKey(0), generator=side,
                    discriminator=side, ema_params=None, method_state={}, nonfinite_steps=jnp.zeros((), jnp.int32))


def _log_softmax_pair(l0, l1):
    """-log softmax([l0, l1]) for class 0 and class 1."""
    top = np.logaddexp(l0, l1)
    return top - l0, top - l1


@pytest.mark.parametrize("step", [0, 1, 5])
def test_losses_by_hand_with_a_probe_latent_discriminator(step):
    """Two attributes, two examples with codes of mean 0.5 and -1 and attributes (1, 0), (0, 0).
    D: sum_j mean_i -log p(y_ij | z_i); G: ||x_hat - x||^2 (mean) + lambda_E(step) sum_j mean_i
    -log p(1 - y_ij | z_i) with lambda_E = 1e-4 min(step, 2) / 2, D in evaluation mode on G's side."""
    method = dataclasses.replace(methods.build(tiny_fader(), _data(2, 16)), latent_discriminator=ProbeLatentD(4))
    means, y = np.asarray([0.5, -1.0]), np.asarray([[1.0, 0.0], [0.0, 0.0]])
    latent = jnp.asarray(means)[:, None, None, None] * jnp.ones((2, 2, 2, 3))
    x, x_hat = jnp.full((2, 4, 4, 3), 0.2), jnp.full((2, 4, 4, 3), -0.1)
    batch, generated = {"image": x, "attributes": jnp.asarray(y)}, {"latent": latent, "reconstruction": x_hat}

    def by_hand(targets):
        total = 0.0
        for j, s in enumerate((1.0, 2.0)):
            nll = _log_softmax_pair(np.zeros(2), s * means)
            total += np.mean(np.where(targets[:, j] == 1, nll[1], nll[0]))
        return total

    d_loss, (d_metrics, _) = method.discriminator_loss({}, _state(step), batch, generated, jax.random.PRNGKey(1))
    np.testing.assert_allclose(d_loss, by_hand(y), rtol=1e-5)
    predicted = means[:, None] * np.asarray([1.0, 2.0]) > 0  # Class 1 iff s_j m_i > 0: [[1, 1], [0, 0]].
    np.testing.assert_allclose(d_metrics["latent_accuracy"], np.mean(predicted == (y > 0.5)), rtol=1e-6)  # 3/4.
    g_loss, (g_metrics, _) = method.generator_loss(generated, _state(step), batch, jax.random.PRNGKey(2))
    weight = 1e-4 * min(step, 2) / 2
    np.testing.assert_allclose(g_metrics["lambda_e"], weight, rtol=1e-6)
    np.testing.assert_allclose(g_metrics["latent_fool"], by_hand(1 - y), rtol=1e-5)
    np.testing.assert_allclose(g_loss, 0.3 ** 2 + weight * by_hand(1 - y), rtol=1e-5)
    # Which mode the discriminator ran in on each side: training (dropout) for its loss, evaluation for G's.
    for loss_fn, args, mode in ((method.discriminator_loss, ({}, _state(step), batch, generated), True),
                                (method.generator_loss, (generated, _state(step), batch), False)):
        seen = []
        with nn.intercept_methods(lambda f, a, k, c: seen.append(k.get("train")) or f(*a, **k)):
            loss_fn(*args, jax.random.PRNGKey(3))
        assert seen == [mode]


def test_ramp_by_hand():
    """lambda_E(t) = 1e-4 min(t, T) / T (the authors' get_lambda); T = 0: 1e-4 throughout."""
    steps = jnp.asarray([0, 1, 250, 999, 1000, 5000])
    np.testing.assert_allclose(latent_weight(steps, 1e-4, 1000), 1e-4 * np.asarray([0, 1, 250, 999, 1000, 1000]) / 1000,
                               rtol=1e-6)
    np.testing.assert_allclose(latent_weight(steps, 1e-4, 0), 1e-4, rtol=1e-6)


def test_mnist_config_ramps_over_the_authors_share_of_the_run():
    """The authors ramp over 500,000 of 1,562,500 iterations: the first 32% of the run, whatever its length."""
    config = load_config("fader_mnist")
    assert config.loss.lambda_latent_ramp_steps == 3200
    config.train.steps = 3000
    assert config.loss.lambda_latent_ramp_steps == 960


def test_translate_checks_its_attributes():
    """Sliders by name (every attribute named, e.g. parsed from 'thick=1,slanted=0,...') equal the vector
    in the run's attribute order; bad names, counts and text are refused before any network runs."""
    method = methods.build(tiny_fader(), _data(4, 16))
    by_name = method.slider_values(2, parse_attributes("negative=0, slanted=0.25,thick=1,coloured=0.5,"))
    np.testing.assert_array_equal(by_name, [[1, 0.25, 0.5, 0]] * 2)
    x = jnp.zeros((2, 16, 16, 3))
    with pytest.raises(ConfigError, match="missing \\['negative'\\]"):
        method.translate({}, x, None, attributes={"thick": 1, "slanted": 0, "coloured": 0})
    with pytest.raises(ConfigError, match="unknown \\['bold'\\]"):
        method.translate({}, x, None, attributes={"bold": 1, **dict.fromkeys(NAMES, 0.0)})
    with pytest.raises(ConfigError, match="one value per attribute"):
        method.translate({}, x, None, attributes=[1, 0])
    with pytest.raises(ConfigError, match="pass attributes"):
        method.translate({}, x, None)
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        parse_attributes("thick=lots")


def test_method_needs_attributes():
    data = DataInfo({"image_a": ArraySpec((16, 16, 1), "float32"), "image_b": ArraySpec((16, 16, 1), "float32")})
    with pytest.raises(ConfigError, match="attribute-labelled images"):
        methods.build(tiny_fader(), data)


# --- The step ----------------------------------------------------------------------------------------------

def test_one_forward_per_step(trainer):
    calls = []

    def count(next_fun, args, kwargs, context):
        if isinstance(context.module, (FaderEncoder, FaderDecoder, LatentDiscriminator)) and \
                context.method_name == "__call__":
            calls.append(type(context.module).__name__)
        return next_fun(*args, **kwargs)

    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    step = make_train_step(trainer.method, discriminator_tx=optax.sgd(0.1), generator_tx=optax.sgd(0.1))
    with nn.intercept_methods(count):
        jax.eval_shape(step, trainer.state, batch)
    # E and D once (the forward); the latent D on D's side and on G's side.
    assert sorted(calls) == ["FaderDecoder", "FaderEncoder", "LatentDiscriminator", "LatentDiscriminator"]


def test_real_steps_ramp_and_panel(trainer):
    """Two compiled steps: lambda_E is 0 at step 0 and 1e-4 / 2 at step 1 (T = 2); the panel at step 2 is
    input | reconstruction | 4 attributes x (0, 0.5, 1) for 2 examples of 16x16."""
    first = jax.device_get(trainer.train_steps(1))
    second = jax.device_get(trainer.train_steps(1))
    assert float(first["g/lambda_e"]) == 0.0
    np.testing.assert_allclose(second["g/lambda_e"], 0.5e-4, rtol=1e-6)
    assert all(np.isfinite(float(v)) for v in second.values())
    assert 0.0 < float(second["d/latent_attribute_loss"]) < 10.0
    panel = samples.training_panel(trainer.method, trainer.data, trainer.config)
    grid = np.asarray(panel.images(trainer.state.generator_variables())).reshape(2, 14, 16, 16, 3)
    assert panel.columns == 14 and np.abs(grid).max() <= 1.0
    # Attribute 'negative' at 0 and at 1 decode differently: the decoder reads the slider.
    assert np.abs(grid[:, 11] - grid[:, 13]).mean() > 1e-4


def test_paper_size_step_traced():
    """configs/fader_celeba.py at 256x256, batch 1, two attributes: shapes only (jax.eval_shape)."""
    config = load_config("fader_celeba")
    data = _data(2, 256)
    method = methods.build(config, data)
    g_tx, d_tx = optim.build_pair(config, method)
    state = jax.eval_shape(functools.partial(train_lib.init_state, method, config, g_tx, d_tx), data.example(1))
    step = make_train_step(method, discriminator_tx=d_tx, generator_tx=g_tx)
    new_state, metrics = jax.eval_shape(step, state, data.example(1))
    assert all(m.shape == () for m in metrics.values()) and "g/lambda_e" in metrics
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
