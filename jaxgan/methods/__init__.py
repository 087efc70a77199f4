"""Methods, looked up by ``config.method``.

A method is small: its networks, how to initialise them, and two pure losses
``(params, state, batch, rng) -> (loss, (metrics, collections))`` for the
discriminator side and the generator side. The generic train step
(``jaxgan.train_step``) does the rest. See ``jaxgan.methods.base.Method``.

``config.method`` is a name below, or the import path ``"module:Factory"`` of a
method defined outside jaxgan (see ``examples/relativistic_cgan.py``). The path
is saved with the run's config, so sampling and evaluation find the method again
as long as its module is importable.
"""

from __future__ import annotations

import importlib
from typing import Callable, Dict

import ml_collections

from jaxgan.errors import ConfigError
from jaxgan.methods.acgan import AuxiliaryClassifierGAN
from jaxgan.methods.base import DataInfo, Method
from jaxgan.methods.cgan import ConditionalGAN
from jaxgan.methods.cogan import CoGAN
from jaxgan.methods.combogan import ComboGAN
from jaxgan.methods.context_encoder import ContextEncoder
from jaxgan.methods.cyclegan import CycleGAN
from jaxgan.methods.dtn import DomainTransferNetwork
from jaxgan.methods.fader import FaderNetworks
from jaxgan.methods.latent_constraints import LatentConstraints
from jaxgan.methods.matching import MatchingAwareGAN
from jaxgan.methods.pix2pix import Pix2Pix
from jaxgan.methods.srgan import SRGAN
from jaxgan.methods.pix2pixhd import Pix2PixHD
from jaxgan.methods.spade import SPADE
from jaxgan.methods.stackgan import StackGAN
from jaxgan.methods.stargan import StarGAN
from jaxgan.methods.unit import UNIT
from jaxgan.methods.xgan import XGAN

METHODS: Dict[str, Callable[[ml_collections.ConfigDict, DataInfo], Method]] = {
    "cgan": ConditionalGAN.from_config,
    "acgan": AuxiliaryClassifierGAN.from_config,
    "matching_aware": MatchingAwareGAN.from_config,
    "latent_constraints": LatentConstraints.from_config,
    "stackgan": StackGAN.from_config,
    "pix2pix": Pix2Pix.from_config,
    "context_encoder": ContextEncoder.from_config,  # Pathak et al. 2016 (lambda_adv 0: the L2-only encoder).
    "srgan": SRGAN.from_config,  # And SRResNet (adversarial weight 0).
    "pix2pixhd": Pix2PixHD.from_config,
    "spade": SPADE.from_config,
    "cyclegan": CycleGAN.from_config,  # Also DualGAN and DiscoGAN (their configs).
    "stargan": StarGAN.from_config,  # Choi et al. 2018; the mask vector with 2+ attribute datasets.
    "fader": FaderNetworks.from_config,  # Lample et al. 2017: latent discriminator, attribute sliders.
    "combogan": ComboGAN.from_config,  # Anoosheh et al. 2018: N encoders + N decoders for N domains.
    "dtn": DomainTransferNetwork.from_config,  # Taigman et al. 2017: G = g(f(x)), f-constancy, target identity.
    "unit": UNIT.from_config,  # Liu et al. 2017: shared-latent VAE-GANs.
    "xgan": XGAN.from_config,  # Royer et al. 2017: shared embedding, domain-adversarial, semantic consistency.
    "cogan": CoGAN.from_config,  # Liu & Tuzel 2016: pairs from one z, no translation.
}


def _import_factory(path: str) -> Callable[[ml_collections.ConfigDict, DataInfo], Method]:
    """``"module:Name"`` -> ``Name.from_config`` if ``Name`` has one, else ``Name`` itself."""
    module_name, _, attr = path.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise ConfigError(
            f"method {path!r}: cannot import {attr!r} from module {module_name!r} ({e}); the module must be "
            "importable from where jaxgan runs (e.g. run from the folder that holds it, or set PYTHONPATH)"
        ) from e
    return getattr(factory, "from_config", factory)


def build(config: ml_collections.ConfigDict, data: DataInfo) -> Method:
    if config.method in METHODS:
        return METHODS[config.method](config, data)
    if ":" in config.method:
        return _import_factory(config.method)(config, data)
    raise ConfigError(f"unknown method {config.method!r}; known methods: {', '.join(sorted(METHODS))}, "
                      "or 'module:Factory' for a method defined outside jaxgan")
