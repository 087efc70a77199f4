"""Methods, looked up by ``config.method``.

A method is small: its networks, how to initialise them, and two pure losses
``(params, state, batch, rng) -> (loss, (metrics, collections))`` for the
discriminator side and the generator side. The generic train step
(``jaxgan.train_step``) does the rest. See ``jaxgan.methods.base.Method``.
"""

from __future__ import annotations

from typing import Callable, Dict

import ml_collections

from jaxgan.errors import ConfigError

from jaxgan.methods.acgan import AuxiliaryClassifierGAN
from jaxgan.methods.base import DataInfo, Method
from jaxgan.methods.cgan import ConditionalGAN
from jaxgan.methods.matching import MatchingAwareGAN

METHODS: Dict[str, Callable[[ml_collections.ConfigDict, DataInfo], Method]] = {
    "cgan": ConditionalGAN.from_config,
    "acgan": AuxiliaryClassifierGAN.from_config,
    "matching_aware": MatchingAwareGAN.from_config,
}


def register(name: str, factory: Callable[[ml_collections.ConfigDict, DataInfo], Method]) -> None:
    """Adds a method defined outside jaxgan (e.g. in a config file) under ``name``."""
    METHODS[name] = factory


def build(config: ml_collections.ConfigDict, data: DataInfo) -> Method:
    if config.method not in METHODS:
        raise ConfigError(f"unknown method {config.method!r}; known methods: {', '.join(sorted(METHODS))}")
    return METHODS[config.method](config, data)
