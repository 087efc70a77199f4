"""The commands as a user runs them: train, resume, sample, and clear errors on bad input."""

import os
import subprocess
import sys

import numpy as np
import pytest

from jaxgan import images

from conftest import ROOT, subprocess_env

# Tiny MLP cGAN: the real config file, shrunk from the command line.
TINY = ["--config.train.steps=2", "--config.train.batch_size=8", "--config.train.log_every=1",
        "--config.train.sample_every=2", "--config.train.checkpoint_every=2", "--config.sample.per_class=2",
        "--config.model.latent_dim=4", "--config.model.generator.noise_units=4",
        "--config.model.generator.label_units=4", "--config.model.generator.hidden_units=8",
        "--config.model.discriminator.image_units=4", "--config.model.discriminator.label_units=2",
        "--config.model.discriminator.hidden_units=4"]


def _run(module, *args):
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=subprocess_env(),
                          capture_output=True, text=True, timeout=300)


def test_the_commands_modules_import_together():
    """main, evaluate, sample and translate share flag names (--workdir, --step, ...): each defines its flags
    when it runs as a command, so one program can import all four (absl refuses a flag defined twice)."""
    result = subprocess.run([sys.executable, "-c", "import jaxgan.main, jaxgan.evaluate, jaxgan.sample, jaxgan.translate"],
                            cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    result = _run("jaxgan.main", "--config", "configs/cgan_mnist.py", "--workdir", str(workdir), *TINY)
    assert result.returncode == 0, result.stderr
    return workdir, result


def test_train_writes_checkpoint_samples_tensorboard(trained):
    workdir, result = trained
    assert "Finished at step 2" in result.stdout
    assert os.path.isdir(workdir / "checkpoints" / "2")
    grid = images.read_png(str(workdir / "samples" / "step_0000002.png"))
    assert grid.shape == (10 * 30 + 2, 2 * 30 + 2, 1)  # 10 classes x 2 columns of 28x28 + padding.
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(workdir / "tensorboard"))
    assert "it/s" in result.stderr or "step/s" in result.stderr  # The progress bar.


def test_rerun_resumes_from_latest_checkpoint(trained):
    workdir, _ = trained
    result = _run("jaxgan.main", "--config", "configs/cgan_mnist.py", "--workdir", str(workdir),
                  *TINY, "--config.train.steps=3", "--config.train.checkpoint_every=1")
    assert result.returncode == 0, result.stderr
    assert "Finished at step 3" in result.stdout
    assert "2/3" in result.stderr  # The bar starts from the restored step.


def test_sample_command(trained, tmp_path):
    workdir, _ = trained
    out = tmp_path / "grid.png"
    result = _run("jaxgan.sample", "--workdir", str(workdir), "--labels", "3,8", "--num", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    grid = images.read_png(str(out))
    assert grid.shape == (2 * 30 + 2, 4 * 30 + 2, 1)
    assert np.unique(grid).size > 2  # Not a blank image.
    bad = _run("jaxgan.sample", "--workdir", str(workdir), "--labels", "12")
    assert bad.returncode != 0 and "outside [0, 10)" in bad.stderr


@pytest.mark.parametrize("override, message", [
    ("--config.train.stpes=5", 'the config has no key \'stpes\'.*\nDid you mean "steps"'),
    ("--config.train.steps=abc", "invalid literal for int"),
    ("--config.train.batch_size=0", "train.batch_size=0 must be a positive integer"),
    ("--config.optimizer.generator.learning_rate=-1.0", "learning_rate=-1.0 must be > 0"),
    ("--config.data.source=idx:/no/such/dir", "not found; tried /no/such/dir"),
    ("--config.loss.adversarial=wgan", "config.loss.adversarial='wgan' is not one of"),
])
def test_bad_input_gives_one_clear_error(override, message, tmp_path):
    result = _run("jaxgan.main", "--config", "configs/cgan_mnist.py", "--workdir", str(tmp_path / "w"),
                  *TINY, override)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr, result.stderr
    assert __import__("re").search(message, result.stderr), result.stderr


def test_unknown_config_variant_is_one_clear_error(tmp_path):
    result = _run("jaxgan.main", "--config", "configs/projection_mnist.py:ndis1", "--workdir", str(tmp_path / "w"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr, result.stderr
    assert "unknown variant 'ndis1' of projection_mnist; the one variant is 'n_dis1'" in result.stderr
