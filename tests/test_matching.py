"""Matching-aware discriminator (GAN-CLS, Reed et al. 2016): wrong labels, both structures' losses
against hand values, config checks, real training steps, and what the separate scores learn."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh

from jaxgan import methods
from jaxgan import train as train_lib
from jaxgan.data.sources import ArraySource
from jaxgan.sharding import DATA_AXIS
from jaxgan.errors import ConfigError
from jaxgan.methods.base import DataInfo
from jaxgan.methods.matching import MatchingAwareGAN, RealismAndMatch, mismatched_labels

from conftest import diffaugment_calls, tiny_config

MNIST = DataInfo.labelled((28, 28, 1), 10)


def softplus(x):
    return math.log1p(math.exp(x))


def test_mismatched_labels_are_never_right_and_cover_every_wrong_label():
    labels = jnp.arange(4000) % 4
    wrong = np.asarray(mismatched_labels(labels, jax.random.PRNGKey(0), 4))
    assert (wrong != np.asarray(labels)).all() and wrong.min() >= 0 and wrong.max() <= 3
    for y in range(4):
        counts = np.bincount(wrong[np.asarray(labels) == y], minlength=4)
        assert counts[y] == 0 and (counts[np.arange(4) != y] > 250).all()  # ~333 each.


# Scores set by hand for two examples: real matched, generated, real mismatched.
REAL, FAKE, WRONG = jnp.array([2.0, -1.0]), jnp.array([0.5, -0.5]), jnp.array([1.0, 3.0])


def _patch(monkeypatch, real, fake, wrong):
    monkeypatch.setattr(MatchingAwareGAN, "discriminate_real_and_fake", lambda self, *a: (real, fake, {}))
    monkeypatch.setattr(MatchingAwareGAN, "discriminate_mismatched", lambda self, *a: (wrong, {}))
    monkeypatch.setattr(MatchingAwareGAN, "discriminate_fake", lambda self, *a: fake)


def _method(variant, adversarial="non_saturating"):
    config = tiny_config("matching_mnist", variant)
    config.loss.adversarial = adversarial
    return methods.build(config, MNIST)


def test_joint_losses_by_hand(monkeypatch):
    _patch(monkeypatch, REAL, FAKE, WRONG)
    method = _method("")
    loss, (metrics, _) = method.discriminator_loss(None, None, {}, None, jax.random.PRNGKey(0))
    # GAN-CLS: -log s_r - (log(1 - s_f) + log(1 - s_w)) / 2, batch means, s = sigmoid(score).
    real_term = (softplus(-2.0) + softplus(1.0)) / 2
    fake_term = (softplus(0.5) + softplus(-0.5)) / 2
    wrong_term = (softplus(1.0) + softplus(3.0)) / 2
    assert float(loss) == pytest.approx(real_term + (fake_term + wrong_term) / 2, rel=1e-5)
    assert float(metrics["mismatched_score"]) == pytest.approx(2.0)
    g_loss, _ = method.generator_loss(None, None, {}, jax.random.PRNGKey(0))
    assert float(g_loss) == pytest.approx((softplus(-0.5) + softplus(0.5)) / 2, rel=1e-5)  # -log s_f


def test_joint_losses_by_hand_with_hinge(monkeypatch):
    _patch(monkeypatch, REAL, FAKE, WRONG)
    loss, _ = _method("", "hinge").discriminator_loss(None, None, {}, None, jax.random.PRNGKey(0))
    # mean relu(1 - r) = (0 + 2) / 2; mean relu(1 + f) = (1.5 + 0.5) / 2; mean relu(1 + w) = (2 + 4) / 2.
    assert float(loss) == pytest.approx(1.0 + (1.0 + 3.0) / 2)


def test_separate_losses_by_hand(monkeypatch):
    # Each pass returns (realism, match); D uses realism on real/fake and match on real/mismatched.
    real, fake, wrong = (REAL, -REAL), (FAKE, 10 * FAKE), (100 * REAL, WRONG)
    _patch(monkeypatch, real, fake, wrong)
    method = _method("separate")
    loss, (metrics, _) = method.discriminator_loss(None, None, {}, None, jax.random.PRNGKey(0))
    realism = (softplus(-2.0) + softplus(1.0)) / 2 + (softplus(0.5) + softplus(-0.5)) / 2
    match = (softplus(2.0) + softplus(-1.0)) / 2 + (softplus(1.0) + softplus(3.0)) / 2
    assert float(metrics["realism_loss"]) == pytest.approx(realism, rel=1e-5)
    assert float(metrics["match_loss"]) == pytest.approx(match, rel=1e-5)
    assert float(loss) == pytest.approx(realism + match, rel=1e-5)
    g_loss, (g_metrics, _) = method.generator_loss(None, None, {}, jax.random.PRNGKey(0))
    g_realism = (softplus(-0.5) + softplus(0.5)) / 2
    g_match = (softplus(-5.0) + softplus(5.0)) / 2
    assert float(g_loss) == pytest.approx(g_realism + g_match, rel=1e-5)


def test_separate_structure_is_the_configured_network_plus_an_unconditional_copy():
    method = _method("separate")
    assert isinstance(method.discriminator, RealismAndMatch)
    assert method.discriminator.realism.conditioning == "none"
    assert method.discriminator.match.conditioning == "concat"
    assert method.discriminator.realism.features == method.discriminator.match.features


def test_config_mistakes_name_the_key():
    config = tiny_config("matching_mnist")
    config.model.discriminator_structure = "shared"
    with pytest.raises(ConfigError, match="config.model.discriminator_structure='shared'"):
        methods.build(config, MNIST)
    config = tiny_config("matching_mnist")
    config.model.discriminator.conditioning = "none"
    with pytest.raises(ConfigError, match="model.discriminator.conditioning"):
        methods.build(config, MNIST)
    with pytest.raises(ConfigError, match=">= 2 classes"):
        methods.build(tiny_config("matching_mnist"), DataInfo.labelled((28, 28, 1), 1))
    config = tiny_config("matching_mnist", "separate")
    config.loss.mismatch_weight = 0.25
    with pytest.raises(ConfigError, match="mismatch_weight weighs the joint score's terms"):
        methods.build(config, MNIST)
    config.loss.mismatch_weight = 0.5  # GAN-CLS's, the only one 'separate' takes.
    assert methods.build(config, MNIST).structure == "separate"


def test_joint_real_training_steps_with_diffaugment(tmp_path, monkeypatch):
    config = tiny_config("matching_mnist")
    config.loss.diffaugment = "translation,cutout"
    trainer = train_lib.Trainer(config, str(tmp_path))
    first = jax.device_get(trainer.train_steps(1))
    for _ in range(4):
        last = jax.device_get(trainer.train_steps(1))
    for name in ("d/loss", "g/loss", "d/mismatched_score"):
        assert np.isfinite(first[name]) and np.isfinite(last[name]) and first[name] != last[name], name

    # Three augmented D inputs (real, generated, mismatched), each with its own draw; one in G's loss
    # (recorded while tracing the losses).
    d_calls, g_calls = diffaugment_calls(trainer, monkeypatch)
    assert d_calls == [("translation", "cutout")] * 3 and g_calls == [("translation", "cutout")]


def _bands() -> ArraySource:
    """Two classes of 8x8 images: class 0 bright on top, class 1 bright at the bottom."""
    labels = np.arange(64, dtype=np.int32) % 2
    images = np.zeros((64, 8, 8, 1), np.uint8)
    images[labels == 0, :4] = 255
    images[labels == 1, 4:] = 255
    return ArraySource(images, labels, num_classes=2, name="bands")


def test_separate_scores_a_realistic_mismatched_pair_as_realistic_and_mismatched(tmp_path, monkeypatch):
    """Real training (G and D, the config's optimizers) on an easy deterministic task: afterwards a
    real image with the wrong label gets a high realism score and a low match score."""
    monkeypatch.setattr(train_lib, "build_source", lambda *args, **kwargs: _bands())
    # One device: 200 asynchronously dispatched steps on 8 simulated devices over 2 cores can starve
    # XLA:CPU's all-reduce rendezvous until it aborts the process (seen in CI). Data parallelism has
    # its own tests (tests/test_train.py); this one is about what D learns.
    one_device = Mesh(np.asarray(jax.devices()[:1]), (DATA_AXIS,))
    trainer = train_lib.Trainer(tiny_config("matching_mnist", "separate", steps=200), str(tmp_path), mesh=one_device)
    metrics = jax.device_get(trainer.train_steps(200))
    assert metrics["d/match_loss"] < 1.0  # Chance is 2 log 2 = 1.39: the match score learned.

    images = jnp.asarray(_bands().images[:2], jnp.float32) / 127.5 - 1.0  # A class-0 and a class-1 image.
    variables = trainer.state.discriminator.variables()
    scores = jax.jit(lambda labels: trainer.method.discriminator.apply(variables, images, labels, train=False))
    realism, match = scores(jnp.array([0, 1]))
    realism_wrong, match_wrong = scores(jnp.array([1, 0]))
    np.testing.assert_array_equal(realism, realism_wrong)  # Realism does not see the label.
    assert (realism_wrong > 0).all(), realism_wrong  # Realistic ...
    assert (match_wrong < 0).all(), match_wrong  # ... but mismatched,
    assert (match > 0).all(), match  # while the right label matches.
