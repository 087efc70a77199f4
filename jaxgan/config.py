"""The base config every config file starts from, and its validation.

A config file defines ``get_config()`` returning ``base_config()`` with its own
values. The config is locked by ``jaxgan.main``, so a misspelled override
(``--config.train.stpes=5``) is an error that names the key.
"""

from __future__ import annotations

from typing import Any, List

import ml_collections

from jaxgan.errors import ConfigError


def optimizer_config(**overrides: Any) -> ml_collections.ConfigDict:
    """One side's optimizer: Adam(lr, b1, b2), or SGD with momentum (see ``jaxgan.optim``)."""
    config = ml_collections.ConfigDict(dict(
        name="adam", learning_rate=2e-4, b1=0.5, b2=0.999,  # Adam as in DCGAN (Radford et al. 2016).
        momentum=0.0, final_momentum=0.0, momentum_steps=0,  # SGD momentum, ramped linearly.
        decay_factor=1.0, min_learning_rate=0.0,  # lr_t = max(lr / decay_factor^t, min_learning_rate).
    ))
    config.update(overrides)
    return config


def base_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.method = "cgan"
    config.seed = 0

    config.data = ml_collections.ConfigDict(dict(source="builtin:mnist", split="train"))

    config.model = ml_collections.ConfigDict()
    config.model.latent_dim = 100
    config.model.noise = "normal"
    config.model.generator = ml_collections.ConfigDict(dict(name="dcgan_generator"))
    config.model.discriminator = ml_collections.ConfigDict(dict(name="dcgan_discriminator"))

    config.loss = ml_collections.ConfigDict(dict(adversarial="non_saturating"))
    config.optimizer = ml_collections.ConfigDict(
        dict(generator=optimizer_config(), discriminator=optimizer_config()))

    config.train = ml_collections.ConfigDict(dict(
        steps=1000, batch_size=64, n_critic=1, ema_decay=0.0,
        log_every=100, sample_every=1000, checkpoint_every=1000, keep_checkpoints=3,
    ))
    config.sample = ml_collections.ConfigDict(dict(per_class=10, use_ema=True))
    config.eval = ml_collections.ConfigDict(dict(num_samples=10000, batch_size=1000))
    return config


def validate(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError listing every value out of range, with the fix."""
    problems: List[str] = []
    train = config.train
    for key in ("steps", "batch_size", "n_critic", "log_every", "sample_every", "checkpoint_every",
                "keep_checkpoints"):
        if not isinstance(train[key], int) or train[key] < 1:
            problems.append(f"train.{key}={train[key]!r} must be a positive integer")
    if not 0.0 <= train.ema_decay < 1.0:
        problems.append(f"train.ema_decay={train.ema_decay!r} must be in [0, 1) (0 disables the EMA)")
    for side in ("generator", "discriminator"):
        opt = config.optimizer[side]
        if opt.name not in ("adam", "sgd"):
            problems.append(f"optimizer.{side}.name={opt.name!r} must be 'adam' or 'sgd'")
        if not opt.learning_rate > 0:
            problems.append(f"optimizer.{side}.learning_rate={opt.learning_rate!r} must be > 0")
        if not opt.decay_factor >= 1.0:
            problems.append(f"optimizer.{side}.decay_factor={opt.decay_factor!r} must be >= 1 (1 = no decay)")
    if config.model.latent_dim < 1:
        problems.append(f"model.latent_dim={config.model.latent_dim!r} must be >= 1")
    if config.sample.per_class < 1:
        problems.append(f"sample.per_class={config.sample.per_class!r} must be >= 1")
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
