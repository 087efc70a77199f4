"""The worked example of a method defined outside jaxgan trains, samples and evaluates through the commands."""

import importlib.util
import json
import math

import jax.numpy as jnp
import pytest

from jaxgan.errors import ConfigError
from jaxgan.methods import build
from jaxgan.methods.base import DataInfo

from conftest import ROOT, load_config
from test_cli import _run

TINY = ["--config.train.steps=2", "--config.train.batch_size=8", "--config.train.log_every=1",
        "--config.train.sample_every=2", "--config.train.checkpoint_every=2", "--config.sample.per_class=2",
        "--config.model.latent_dim=4", "--config.model.generator.features=(8,4)",
        "--config.model.discriminator.features=(4,8)"]


def _example():
    spec = importlib.util.spec_from_file_location("relativistic_cgan", ROOT / "examples" / "relativistic_cgan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_relativistic_loss_by_hand():
    # a = [1, 3] (mean 2), b = [0, 2] (mean 1): -log s(a - 1) and -log(1 - s(b - 2)), averaged.
    softplus = lambda x: math.log1p(math.exp(x))
    expected = (softplus(-0.0) + softplus(-2.0)) / 2 + (softplus(-2.0) + softplus(0.0)) / 2
    got = _example().relativistic_loss(jnp.array([1.0, 3.0]), jnp.array([0.0, 2.0]))
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_trains_samples_and_evaluates_through_the_commands(tmp_path):
    workdir = str(tmp_path / "ragan")
    train = _run("jaxgan.main", "--config", "examples/relativistic_cgan.py", "--workdir", workdir, *TINY)
    assert train.returncode == 0, train.stderr
    assert "Finished at step 2" in train.stdout
    # The method is found again from the saved config by the sampling and evaluation commands.
    sample = _run("jaxgan.sample", "--workdir", workdir, "--out", str(tmp_path / "grid.png"))
    assert sample.returncode == 0, sample.stderr
    result = _run("jaxgan.evaluate", "--workdir", workdir, "--num_samples=20", "--batch_size=20")
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "ragan" / "eval" / "step_2.json") as f:
        saved = json.load(f)
    # 20 samples, 2 per class, from the example's EMA generator (train.ema_decay = 0.999).
    assert (saved["step"], saved["num_samples"], saved["ema"]) == (2, 20, True)
    assert len(saved["rows"]["generated"]["per_class_accuracy"]) == 10


def test_unimportable_method_path_is_a_clear_error():
    config = load_config("cgan_mnist")
    config.method = "no_such_module:Method"
    with pytest.raises(ConfigError, match="cannot import 'Method' from module 'no_such_module'"):
        build(config, DataInfo.labelled((28, 28, 1), 10))
