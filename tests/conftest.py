"""Test setup: eight simulated CPU devices, so data-parallel code is exercised on CPU.

Must run before JAX initialises its backend (conftest is imported first).
"""

import os

import chex

os.environ.setdefault("JAX_PLATFORMS", "cpu")
chex.set_n_cpu_devices(8)


import importlib.util  # noqa: E402
import pathlib  # noqa: E402

import pytest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_config(name: str, variant: str = ""):
    """Loads ``configs/NAME.py`` the way ``jaxgan.main`` does, unlocked for the test to shrink."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "configs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(variant) if variant else module.get_config()


def tiny(config, *, steps: int = 3, batch_size: int = 16):
    """Shrinks a config's schedule for tests (networks are shrunk by the caller)."""
    config.train.steps = steps
    config.train.batch_size = batch_size
    config.train.log_every = 1
    config.train.sample_every = steps
    config.train.checkpoint_every = steps
    config.sample.per_class = 2
    return config


def tiny_cgan(kind: str = "mlp"):
    """The real cgan configs with tiny networks: 'mlp' (Mirza & Osindero) or 'dcgan' (+ LSGAN)."""
    if kind == "mlp":
        config = load_config("cgan_mnist")
        config.model.generator.update(dict(noise_units=8, label_units=8, hidden_units=16))
        config.model.discriminator.update(dict(image_units=8, label_units=4, hidden_units=8))
    else:
        config = load_config("cgan_dcgan_mnist")
        config.model.generator.features = (8, 4)
        config.model.discriminator.features = (4, 8)
        config.model.generator.embed_dim = 4
        config.model.discriminator.embed_dim = 4
    config.model.latent_dim = 8
    return tiny(config)


@pytest.fixture
def cgan_config():
    return tiny_cgan
