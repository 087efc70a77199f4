"""The Domain Transfer Network: both losses by hand with a probe ternary D and the shipped f (which images
reach D's three classes and f), f frozen inside the generator side through real steps, one forward per
step, the config's checks, and an f trained on an RGB source domain by ``train_classifier --source``.
(XGAN's tests: tests/test_xgan.py.)"""

import dataclasses
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh

from jaxgan import methods, optim
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods.base import ArraySpec, DataInfo
from jaxgan.methods.dtn import DTNGenerator
from jaxgan.metrics import classifier, train_classifier
from jaxgan.networks.dtn import FeatureDecoder, TernaryDiscriminator
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step

from conftest import tiny_dtn

DATA = DataInfo({"image_a": ArraySpec((28, 28, 1), "float32"), "image_b": ArraySpec((28, 28, 1), "float32")})


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return train_lib.Trainer(tiny_dtn(batch_size=4), str(tmp_path_factory.mktemp("dtn")),
                             mesh=Mesh(np.asarray(jax.devices()[:1]), ("data",)))


class ProbeD(nn.Module):
    """Logits (m, -m, 2m) with m the image's mean: they say which images D saw."""

    @nn.compact
    def __call__(self, x, *, train):
        m = x.mean(axis=(1, 2, 3))
        return jnp.stack([m, -m, 2 * m], axis=-1)


def _nll(m, label):
    logits = np.stack([m, -m, 2 * m], axis=-1)
    return np.mean(np.log(np.exp(logits).sum(-1)) - logits[:, label])


def test_losses_by_hand_with_a_probe_d_and_the_shipped_f(trainer):
    """L_D = -log D_1(g(f(x_s))) - log D_2(g(f(x_t))) - log D_3(x_t); L_G = -log D_3(g(f(x_s)))
    - log D_3(g(f(x_t))) + 15 mean (f(x_s) - f(g(f(x_s))))^2 + 15 mean (x_t - g(f(x_t)))^2, f the shipped
    MNIST classifier's features."""
    method = dataclasses.replace(trainer.method, discriminator=ProbeD())
    side = trainer.state.generator
    state = GANState(step=jnp.zeros((), jnp.int32), rng=jax.random.PRNGKey(0), generator=side,
                     discriminator=Side({}, {}, None), ema_params=None, method_state={},
                     nonfinite_steps=jnp.zeros((), jnp.int32))
    rng = np.random.default_rng(0)
    x_s, x_t, g_s, g_t = (jnp.asarray(rng.uniform(-1, 1, (2, 28, 28, 1)), jnp.float32) for _ in range(4))
    batch, generated = {"image_a": x_s, "image_b": x_t}, {"from_source": g_s, "from_target": g_t}
    mean = lambda x: np.asarray(x).mean(axis=(1, 2, 3))  # noqa: E731
    d_loss, (terms, _) = method.discriminator_loss({}, state, batch, generated, jax.random.PRNGKey(1))
    np.testing.assert_allclose(d_loss, _nll(mean(g_s), 0) + _nll(mean(g_t), 1) + _nll(mean(x_t), 2), rtol=1e-5)
    np.testing.assert_allclose(terms["d_real_target"], _nll(mean(x_t), 2), rtol=1e-5)
    f = classifier.make_classifier_fn({"params": side.params["f"]})
    const = np.mean((np.asarray(f(x_s)[1]) - np.asarray(f(g_s)[1])) ** 2)
    tid = np.mean((np.asarray(x_t) - np.asarray(g_t)) ** 2)
    g_loss, (metrics, _) = method.generator_loss(generated, state, batch, jax.random.PRNGKey(2))
    np.testing.assert_allclose(metrics["f_constancy"], const, rtol=1e-4)
    np.testing.assert_allclose(g_loss, _nll(mean(g_s), 2) + _nll(mean(g_t), 2) + 15 * const + 15 * tid, rtol=1e-4)


def test_f_starts_as_the_shipped_classifier_and_g_decodes_its_features(trainer):
    variables = trainer.state.generator_variables()
    x = jnp.asarray(trainer.pipeline.local_batch(0)["image_a"][:2])
    shipped = perceptual_f()
    jax.tree.map(np.testing.assert_array_equal, variables["params"]["f"], shipped)
    features = classifier.make_classifier_fn({"params": shipped})(x)[1]
    g = trainer.method.generator.g
    by_hand = g.apply({"params": variables["params"]["g"], "batch_stats": variables["batch_stats"]["g"]}, features,
                      train=False)
    np.testing.assert_allclose(trainer.method.translate(variables, x, None), by_hand, atol=1e-5)


def perceptual_f():
    from jaxgan import perceptual

    return perceptual.content_network({"content": "mnist_classifier"}, (28, 28, 1)).variables["params"]


def test_one_forward_per_step(trainer):
    """g once on both domains' batch; f in it, then twice in G's loss (f(g(f(x_s))), f(x_s)); D three times
    in its loss, twice in G's."""
    calls = []

    def count(next_fun, args, kwargs, context):
        if context.method_name == "__call__" and isinstance(
                context.module, (FeatureDecoder, TernaryDiscriminator, classifier.MNISTClassifier)):
            calls.append(type(context.module).__name__)
        return next_fun(*args, **kwargs)

    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    g_tx, d_tx = optim.build_pair(trainer.config, trainer.method)
    step = make_train_step(trainer.method, discriminator_tx=d_tx, generator_tx=g_tx)
    with nn.intercept_methods(count):
        jax.eval_shape(step, trainer.state, batch)
    assert sorted(calls) == ["FeatureDecoder"] + ["MNISTClassifier"] * 3 + ["TernaryDiscriminator"] * 5


def test_real_steps_train_g_and_d_and_keep_f(trainer):
    """Two compiled steps (last: it trains the shared trainer): f's parameters bit-identical, g's and D's
    changed, all losses finite."""
    before = jax.device_get(trainer.state)
    metrics = jax.device_get(trainer.train_steps(2))
    after = jax.device_get(trainer.state)
    jax.tree.map(np.testing.assert_array_equal, after.generator.params["f"], before.generator.params["f"])
    changed = lambda a, b: any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))  # noqa: E731
    assert changed(after.generator.params["g"], before.generator.params["g"])
    assert changed(after.discriminator.params, before.discriminator.params)
    assert all(np.isfinite(float(v)) for v in metrics.values())


def test_config_checks():
    config = tiny_dtn()
    config.loss.feature_network = "vgg"
    with pytest.raises(ConfigError, match="feature_network"):
        methods.build(config, DATA)
    rgb = DataInfo({"image_a": ArraySpec((32, 32, 3), "float32"), "image_b": ArraySpec((32, 32, 3), "float32")})
    with pytest.raises(ConfigError, match="28x28x1"):
        methods.build(tiny_dtn(), rgb)
    assert isinstance(methods.build(tiny_dtn(), DATA).generator, DTNGenerator)


@pytest.fixture(scope="module")
def rgb_f(tmp_path_factory):
    """f trained (4 steps) on 256 images of the coloured task's source domain, plain_rgb, by the CLI."""
    path = str(tmp_path_factory.mktemp("f") / "f_plain_rgb.msgpack")
    train_classifier.main(["--source", "builtin:mnist/plain_rgb", "--train-size", "256", "--batch-size", "64",
                           "--epochs", "1", "--out", path])
    return path


def test_f_trained_on_an_rgb_source_domain_drives_dtn(rgb_f, tmp_path):
    """The coloured task (plain_rgb -> coloured, 28x28x3): f is the file train_classifier wrote (3 input
    channels, not the shipped grey weights), it enters the generator side unchanged and stays fixed through
    two real steps while g trains."""
    config = tiny_dtn(batch_size=4)
    config.data.source = "domains:builtin:mnist/plain_rgb|builtin:mnist/coloured"
    config.loss.feature_network = rgb_f
    trainer = train_lib.Trainer(config, str(tmp_path), mesh=Mesh(np.asarray(jax.devices()[:1]), ("data",)))
    written = classifier.load_variables(rgb_f, 3)["params"]
    assert written["Conv_0"]["kernel"].shape == (3, 3, 3, 32)
    before = jax.device_get(trainer.state)
    jax.tree.map(np.testing.assert_array_equal, before.generator.params["f"], written)
    trainer.train_steps(2)
    after = jax.device_get(trainer.state)
    jax.tree.map(np.testing.assert_array_equal, after.generator.params["f"], written)
    assert any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(after.generator.params["g"]),
                                                         jax.tree.leaves(before.generator.params["g"])))


def test_f_files_are_checked_against_the_source(rgb_f, tmp_path):
    rgb = DataInfo({"image_a": ArraySpec((28, 28, 3), "float32"), "image_b": ArraySpec((28, 28, 3), "float32")})
    config = tiny_dtn()
    config.loss.feature_network = str(tmp_path / "missing.msgpack")
    with pytest.raises(ConfigError, match="train_classifier --source"):
        methods.build(config, rgb)
    config.loss.feature_network = classifier.DEFAULT_WEIGHTS  # Grey weights, an RGB source.
    with pytest.raises(ConfigError, match="3 channels"):
        methods.build(config, rgb)
    config.loss.feature_network = rgb_f  # RGB weights, a grey source.
    with pytest.raises(ConfigError, match="1 channels"):
        methods.build(config, DATA)
    config.loss.feature_network = rgb_f
    with pytest.raises(ConfigError, match="28x28 images"):
        methods.build(config, DataInfo({k: ArraySpec((32, 32, 3), "float32") for k in ("image_a", "image_b")}))


def test_train_classifier_refuses_a_source_without_digit_labels(tmp_path, capsys):
    from PIL import Image

    for c in range(11):  # Eleven classes: more than MNISTClassifier's ten outputs.
        os.makedirs(tmp_path / "images" / f"c{c:02d}")
        Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "images" / f"c{c:02d}" / "0.png")
    with pytest.raises(SystemExit):
        train_classifier.main(["--source", f"folder:{tmp_path / 'images'}", "--out", str(tmp_path / "f.msgpack")])
    assert "at most 10 classes" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_classifier.main(["--train-size", "256", "--out", str(tmp_path / "f.msgpack")])
    assert "--train-size subsets a --source" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "f.msgpack")
