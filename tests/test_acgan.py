"""AC-GAN (Odena et al. 2017): both losses against hand values, config checks, real training steps."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import methods
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods.acgan import AuxiliaryClassifierGAN
from jaxgan.methods.base import DataInfo

from conftest import diffaugment_calls, tiny_config

MNIST = DataInfo.labelled((28, 28, 1), 10)


def log_softmax(logits, label):
    return logits[label] - math.log(sum(math.exp(v) for v in logits))


def softplus(x):
    return math.log1p(math.exp(x))


# Two examples, three classes. Source logits and class logits set by hand.
LABELS = jnp.array([0, 2])
REAL_LOGITS, FAKE_LOGITS = jnp.array([1.0, -0.5]), jnp.array([0.25, -2.0])
REAL_CLASSES = jnp.array([[2.0, 0.0, -1.0], [0.5, 0.0, 1.5]])   # argmax 0, 2: both right.
FAKE_CLASSES = jnp.array([[0.0, 1.0, 0.0], [-1.0, 3.0, 2.0]])  # argmax 1, 1: both wrong.


def _method(adversarial="non_saturating", weight=0.5):
    config = tiny_config("acgan_mnist")
    config.loss.adversarial = adversarial
    config.loss.classification_weight = weight
    return methods.build(config, DataInfo.labelled((28, 28, 1), 3))


@pytest.mark.parametrize("adversarial", ["non_saturating", "minimax"])
def test_discriminator_loss_is_ls_plus_weighted_lc_by_hand(adversarial, monkeypatch):
    monkeypatch.setattr(AuxiliaryClassifierGAN, "discriminate_real_and_fake",
                        lambda self, *a: ((REAL_LOGITS, REAL_CLASSES), (FAKE_LOGITS, FAKE_CLASSES), {}))
    loss, (metrics, _) = _method(adversarial).discriminator_loss(None, None, {"label": LABELS}, None, None)
    # -L_S: -mean log sigmoid(r) - mean log(1 - sigmoid(f)) (the same for both loss names on D's side).
    source = (softplus(-1.0) + softplus(0.5)) / 2 + (softplus(0.25) + softplus(-2.0)) / 2
    # -L_C: cross-entropy on real plus on fake images, each a batch mean.
    real_ce = -(log_softmax([2.0, 0.0, -1.0], 0) + log_softmax([0.5, 0.0, 1.5], 2)) / 2
    fake_ce = -(log_softmax([0.0, 1.0, 0.0], 0) + log_softmax([-1.0, 3.0, 2.0], 2)) / 2
    assert float(loss) == pytest.approx(source + 0.5 * (real_ce + fake_ce), rel=1e-5)
    assert float(metrics["source_loss"]) == pytest.approx(source, rel=1e-5)
    assert float(metrics["class_loss"]) == pytest.approx(real_ce + fake_ce, rel=1e-5)
    assert float(metrics["real_class_accuracy"]) == 1.0 and float(metrics["fake_class_accuracy"]) == 0.0


@pytest.mark.parametrize("adversarial, source", [
    ("non_saturating", (softplus(-0.25) + softplus(2.0)) / 2),   # -mean log sigmoid(f)
    ("minimax", -(softplus(0.25) + softplus(-2.0)) / 2),         # mean log(1 - sigmoid(f)) = -L_S's fake term
])
def test_generator_loss_is_adversarial_plus_weighted_fake_class_loss_by_hand(adversarial, source, monkeypatch):
    monkeypatch.setattr(AuxiliaryClassifierGAN, "discriminate_fake",
                        lambda self, *a: (FAKE_LOGITS, FAKE_CLASSES))
    loss, (metrics, _) = _method(adversarial).generator_loss(None, None, {"label": LABELS}, None)
    fake_ce = -(log_softmax([0.0, 1.0, 0.0], 0) + log_softmax([-1.0, 3.0, 2.0], 2)) / 2
    assert float(loss) == pytest.approx(source + 0.5 * fake_ce, rel=1e-5)
    assert float(metrics["class_loss"]) == pytest.approx(fake_ce, rel=1e-5)


def test_config_mistakes_name_the_key():
    config = tiny_config("acgan_mnist")
    config.model.discriminator.conditioning = "concat"
    with pytest.raises(ConfigError, match="model.discriminator.conditioning='none'"):
        methods.build(config, MNIST)
    config = tiny_config("acgan_mnist")
    config.model.discriminator.aux_classes = 10
    with pytest.raises(ConfigError, match="model.discriminator.aux_classes is set by method 'acgan'"):
        methods.build(config, MNIST)
    config = tiny_config("acgan_mnist")
    config.loss.classification_weight = -1.0
    with pytest.raises(ConfigError, match="config.loss.classification_weight=-1.0"):
        methods.build(config, MNIST)
    with pytest.raises(ConfigError, match="method 'acgan' needs labelled data"):
        methods.build(tiny_config("acgan_mnist"), DataInfo.labelled((28, 28, 1), None))


def test_real_training_steps_with_diffaugment(tmp_path, monkeypatch):
    config = tiny_config("acgan_mnist")
    config.loss.diffaugment = "color,translation,cutout"
    trainer = train_lib.Trainer(config, str(tmp_path))
    history = [jax.device_get(trainer.train_steps(1)) for _ in range(6)]
    first, last = history[0], history[-1]
    for name in ("d/loss", "g/loss", "d/class_loss", "g/class_loss"):
        assert np.isfinite(first[name]) and np.isfinite(last[name]), name
        assert first[name] != last[name], name
    # The class accuracies are checked against hand values in tests/test_what_reaches_d.py.
    assert {"d/real_class_accuracy", "d/fake_class_accuracy"} <= set(first)
    assert all(np.isfinite(v).all() for v in jax.tree.leaves(jax.device_get(trainer.state.generator.params)))

    # DiffAugment reaches D's inputs through the shared helpers: real and fake in D's loss, fake in G's
    # (recorded while tracing the losses).
    d_calls, g_calls = diffaugment_calls(trainer, monkeypatch)
    assert d_calls == [("color", "translation", "cutout")] * 2 and g_calls == [("color", "translation", "cutout")]
