"""SPADE (Park et al. 2019, "Semantic Image Synthesis with Spatially-Adaptive Normalization"):
semantic label maps -> photographs with a generator whose every normalisation is modulated by the map.

pix2pixHD's method (``jaxgan.methods.pix2pixhd``: the semantic map s = [one-hot labels, instance
edges], the multi-scale D on (s, image), feature matching, the VGG term, G then D from one forward)
with SPADE's generator (``jaxgan.networks.spade``) and the losses of the authors' code
(NVlabs/SPADE ``models/pix2pix_model.py``, ``models/networks/loss.py``), averaged over the K scales:

    loss_D = 1/K sum_k E[relu(1 - D_k(s, x))] + 1/K sum_k E[relu(1 + D_k(s, G(s)))]      (hinge)
    loss_G = -1/K sum_k E[D_k(s, G(s))] + lambda_FM L_FM + lambda_VGG L_VGG (+ lambda_KL KL)

L_FM = 1/K sum_k sum_i mean|D_k^(i)(s, x) - D_k^(i)(s, G(s))| (the code's layer weight 1), lambda_FM
= ``config.loss.lambda_feat`` = 10, lambda_VGG = ``config.loss.vgg_weight`` = 10 (VGG19 weights from
``config.loss.vgg_weights``), D with spectral norm (``model.discriminator.spectral_norm``).

Multi-modal synthesis (sec. 4, ``config.model.use_vae``): a style encoder E gives q(z | x) =
N(mu(x), sigma^2(x)); G starts from z = mu + sigma * eps instead of the down-sampled map, and G's loss
adds lambda_KL KL(q(z | x) || N(0, I)), lambda_KL = ``config.loss.kl_weight`` = 0.05 (the code's
--lambda_kld). The code sums the KL over the batch (on each GPU); here it is summed over z's
dimensions and averaged over the batch, the same at batch 1. At test time z ~ N(0, I) from the
translation's key, or the encoding of a style image (``translate(..., style=x)``).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional

import jax
import jax.numpy as jnp
import ml_collections

from jaxgan import losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train, loss_weight
from jaxgan.methods.pix2pixhd import TARGET, Pix2PixHD
from jaxgan.networks.spade import SPADEModel


@dataclasses.dataclass(frozen=True)
class SPADE(Pix2PixHD):
    use_vae: bool = False
    z_dim: int = 256  # SPADE: 256.
    kl_weight: float = 0.05  # The code's --lambda_kld.
    adversarial_loss: str = "hinge"
    adversarial_weight: float = 1.0
    scale_reduction: str = "mean"
    discriminator_factor: float = 1.0
    feature_layer_weight: Optional[float] = 1.0

    name = "spade"

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "SPADE":
        use_vae = config.model.get("use_vae", False)
        z_dim = config.model.get("z_dim", 256)
        if not isinstance(use_vae, bool):
            raise ConfigError(f"config.model.use_vae={use_vae!r} must be True or False")
        if not isinstance(z_dim, int) or isinstance(z_dim, bool) or z_dim < 1:
            raise ConfigError(f"config.model.z_dim={z_dim!r} must be a positive integer (SPADE: 256)")
        if use_vae and "encoder" not in config.model:
            raise ConfigError("config.model.use_vae=True needs a style encoder: set config.model.encoder "
                              "(e.g. dict(name='style_encoder'))")
        generator = networks.build_from_config(config.model.generator, output_channels=data.shape(TARGET)[-1],
                                               use_vae=use_vae, z_dim=z_dim)
        encoder = networks.build_from_config(config.model.encoder, z_dim=z_dim) if use_vae else None
        return cls(generator=SPADEModel(generator, encoder), **cls._common_fields(config, data),
                   use_vae=use_vae, z_dim=z_dim,
                   kl_weight=loss_weight(config, "kl_weight", "the code's lambda_kld: 0.05"))

    def init_generator(self, rng: jax.Array, s: jax.Array, y: jax.Array) -> Variables:
        """G's (and E's) variables: SPADEModel's training call on s, y and eps = 0."""
        return self.generator.init(rng, s, y, jnp.zeros((s.shape[0], self.z_dim)), train=False)

    def translate(self, variables: Variables, label_map: jax.Array, rng: jax.Array,
                  instance_map: Optional[jax.Array] = None, style: Optional[jax.Array] = None) -> jax.Array:
        """G(s) for int label maps [n, H, W] (and instance maps when the run used them); with the style
        encoder, from z ~ N(0, I) drawn from ``rng``, or from the encoding mu of ``style`` images."""
        s = self.semantics_of(label_map, instance_map)
        if not self.use_vae:
            return self.generator.apply(variables, s, method=SPADEModel.generate)
        if style is not None:
            z, _ = self.generator.apply(variables, style, method=SPADEModel.encode)
        else:
            z = jax.random.normal(rng, (s.shape[0], self.z_dim))
        return self.generator.apply(variables, s, z, method=SPADEModel.generate)

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """{'image': G(s[, z])} (+ 'mu', 'log_variance' of q(z | x)): the step's one generator forward."""
        s = self.semantics(batch)
        eps = jax.random.normal(rng, (s.shape[0], self.z_dim))
        (image, mu, log_variance), collections = apply_train(self.generator, state.generator.variables(params), s,
                                                             batch[TARGET], eps, rng=rng)
        generated = {"image": image}
        if self.use_vae:
            generated.update(mu=mu, log_variance=log_variance)
        return generated, collections

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """pix2pixHD's G loss at SPADE's settings, + lambda_KL KL(q(z | x) || N(0, I)) with the encoder."""
        loss, (metrics, collections) = super().generator_loss(generated, state, batch, rng)
        if self.use_vae:
            metrics["kl"] = losses.kl_standard_normal(mean=generated["mu"], log_variance=generated["log_variance"])
            loss += self.kl_weight * metrics["kl"]
        return loss, (metrics, collections)
