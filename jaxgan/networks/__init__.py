"""Networks, looked up by the name a config gives them."""

from __future__ import annotations

from typing import Any, Mapping

import flax.linen as nn

from jaxgan.errors import ConfigError

from jaxgan.networks.cogan import CoGANDiscriminator, CoGANGenerator
from jaxgan.networks.context_encoder import ContextEncoderGenerator
from jaxgan.networks.combogan import ResNetDecoder, ResNetEncoder
from jaxgan.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from jaxgan.networks.discogan import EncoderDecoderTranslator
from jaxgan.networks.dtn import FeatureDecoder, TernaryDiscriminator
from jaxgan.networks.fader import FaderAutoEncoder, LatentDiscriminator
from jaxgan.networks.mlp import MLPDiscriminator, MLPGenerator
from jaxgan.networks.resnet import ResNetGenerator
from jaxgan.networks.resnet_translator import ResNetTranslator
from jaxgan.networks.vae import LatentCritics, VAEActor
from jaxgan.networks.stackgan import StackGANDiscriminator, StackGANGenerator
from jaxgan.networks.patchgan import MultiScaleDiscriminator, PatchGANDiscriminator
from jaxgan.networks.pix2pixhd import Pix2PixHDGenerator
from jaxgan.networks.spade import SPADEGenerator, StyleEncoder
from jaxgan.networks.unet import UNetGenerator
from jaxgan.networks.unit import UNITGenerator
from jaxgan.networks.xgan import XGANAutoEncoders
from jaxgan.networks.srresnet import SRGANDiscriminator, SRResNetGenerator
from jaxgan.networks.stargan import StarGANDiscriminator, StarGANGenerator

NETWORKS = {
    "mlp_generator": MLPGenerator,
    "mlp_discriminator": MLPDiscriminator,
    "dcgan_generator": DCGANGenerator,
    "dcgan_discriminator": DCGANDiscriminator,
    "resnet_generator": ResNetGenerator,
    "resnet_translator": ResNetTranslator,  # CycleGAN's resnet_9blocks / resnet_6blocks (Zhu et al. 2017).
    "encoder_decoder_translator": EncoderDecoderTranslator,  # DiscoGAN's G (Kim et al. 2017).
    "vae_actor": VAEActor,  # Latent Constraints: encoder, decoder and actor.
    "latent_critic": LatentCritics,  # Latent Constraints: D(z, c) and D_attr(z).
    "stackgan_generator": StackGANGenerator,
    "stackgan_discriminator": StackGANDiscriminator,
    "unet_generator": UNetGenerator,  # pix2pix (Isola et al. 2017).
    "unit_generator": UNITGenerator,  # UNIT (Liu et al. 2017): coupled VAE encoders and generators.
    "cogan_generator": CoGANGenerator,  # CoGAN (Liu & Tuzel 2016): generators sharing their first layers.
    "cogan_discriminator": CoGANDiscriminator,  # CoGAN: discriminators sharing their last layers.
    "patchgan_discriminator": PatchGANDiscriminator,  # pix2pix: 70x70, 1x1 PixelGAN, 286x286.
    "multiscale_discriminator": MultiScaleDiscriminator,  # pix2pixHD (Wang et al. 2018).
    "context_encoder_generator": ContextEncoderGenerator,  # Context Encoders (Pathak et al. 2016).
    "pix2pixhd_generator": Pix2PixHDGenerator,  # pix2pixHD: global generator (+ local enhancer).
    "spade_generator": SPADEGenerator,  # SPADE (Park et al. 2019).
    "style_encoder": StyleEncoder,  # SPADE's VAE style encoder (multi-modal synthesis).
    "srresnet_generator": SRResNetGenerator,  # SRResNet / SRGAN (Ledig et al. 2017).
    "srgan_discriminator": SRGANDiscriminator,  # SRGAN's conv D (Ledig et al. 2017).
    "stargan_generator": StarGANGenerator,  # StarGAN G(x, c) (Choi et al. 2018).
    "stargan_discriminator": StarGANDiscriminator,  # StarGAN D: source and classification heads.
    "fader_autoencoder": FaderAutoEncoder,  # Fader Networks E and D(z, y) (Lample et al. 2017).
    "latent_discriminator": LatentDiscriminator,  # Fader Networks: P(y | E(x)).
    "resnet_encoder": ResNetEncoder,  # ComboGAN: per-domain first half of CycleGAN's ResNet G.
    "resnet_decoder": ResNetDecoder,  # ComboGAN: per-domain second half.
    "feature_decoder": FeatureDecoder,  # DTN g: f(x) -> image (Taigman et al. 2017).
    "ternary_discriminator": TernaryDiscriminator,  # DTN D: from source / from target / real target.
    "xgan_autoencoders": XGANAutoEncoders,  # XGAN (Royer et al. 2017): encoders/decoders with shared layers.
}


def build(name: str, **kwargs: Any) -> nn.Module:
    """Builds the network ``name`` with the given hyper-parameters; errors name the bad input."""
    if name not in NETWORKS:
        raise ConfigError(f"unknown network {name!r}; known networks: {', '.join(sorted(NETWORKS))}")
    cls = NETWORKS[name]
    fields = set(cls.__dataclass_fields__) - {"parent", "name"}
    unknown = set(kwargs) - fields
    if unknown:
        raise ConfigError(
            f"network {name!r} has no hyper-parameter(s) {sorted(unknown)}; it takes {sorted(fields)}"
        )
    return cls(**kwargs)


def build_from_config(net_config: Mapping[str, Any], **shared: Any) -> nn.Module:
    """Builds from a config entry ``{'name': ..., **hyper_parameters}`` plus data-derived fields."""
    kwargs = dict(net_config)
    return build(kwargs.pop("name"), **shared, **kwargs)
