"""SRGAN and SRResNet (Ledig et al. 2017): single-image super-resolution I_LR -> I_SR = G(I_LR), s x larger.

G is the SRResNet (``jaxgan.networks.srresnet``), D the paper's conv classifier of whole images.
The perceptual loss (eq. 3) is a content loss plus 10^-3 times the adversarial loss:

    l_SR   = l_X + 10^-3 l_Gen
    l_MSE  = 1/(r^2 W H) sum_{x,y} (I_HR - G(I_LR))^2                            (eq. 4, images in [-1, 1])
    l_VGG  = 1/(W_ij H_ij) sum_{x,y} (phi_ij(I_HR) - phi_ij(G(I_LR)))^2          (eq. 5, phi_5,4 / 12.75)
    l_Gen  = sum_n -log D(G(I_LR))                                                (eq. 6, non-saturating)
    loss_D = -log D(I_HR) - log(1 - D(G(I_LR)))                                   (eq. 2, not halved)

``config.loss.content`` picks l_X: 'mse' (SRResNet-MSE, SRGAN-MSE), 'vgg' (SRGAN-VGG54; the VGG19
weights file of ``config.loss.vgg_weights``, see ``jaxgan.perceptual``) or 'mnist_classifier' (phi =
the project's MNIST classifier's 128-d features, for the built-in 28x28 digits). All means run over
the batch too. ``loss.content_weight`` (1) and ``loss.adversarial_weight`` (10^-3) weigh the terms;
the adversarial loss is ``loss.adversarial`` ('non_saturating' is the paper's).

SRResNet is this method with ``adversarial_weight = 0`` and the MSE content loss. The paper trains
SRGAN from a trained SRResNet (sec. 3.2): ``model.pretrain_steps`` = P > 0 runs that phase inside the
run: for engine steps < P, G's loss is l_MSE alone and D's optimizer is masked (no update, its Adam
state untouched, ``wrap_optimizers``); from step P on, the loss above. One run, so checkpoints and
exact resume need nothing more (P = 0: no pre-training phase). A separate SRResNet run is the
``:srresnet`` config variant.

Each step runs G once (``generator_forward``); D updates on that G(I_LR), held fixed, then G's loss
sees the updated D (D then G, the paper's alternating updates, k = 1). Batches hold I_LR as
``image_a`` and I_HR as ``image_b``; the scale is their size ratio. ``translate`` clips G's linear
output to [-1, 1], as saving it as an image does.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan import losses, networks, perceptual
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train, loss_weight, require_both_sides_every_step

INPUT, TARGET = "image_a", "image_b"
CONTENT_STATE = "content_network"  # method_state key of the frozen phi's variables (checkpointed with the run).



def _scale(x_shape: Sequence[int], y_shape: Sequence[int]) -> int:
    """The integer upscaling factor from LR ``image_a`` to HR ``image_b``; a ConfigError if there is none."""
    (h, w, c), (big_h, big_w, big_c) = x_shape, y_shape
    scale = big_h // h
    if c != big_c or scale < 2 or (h * scale, w * scale) != (big_h, big_w) or scale & (scale - 1):
        raise ConfigError(f"method 'srgan' needs a target (image_b) 2^k times the input (image_a) in height and "
                          f"width, with its channels; the data gives input {tuple(x_shape)} and target "
                          f"{tuple(y_shape)} (e.g. builtin:mnist/sr4x, or data.downscale=4 on HR images)")
    return scale


@dataclasses.dataclass(frozen=True)
class SRGAN:
    generator: nn.Module
    discriminator: nn.Module
    adversarial_loss: str
    scale: int
    content: Optional[perceptual.ContentNetwork] = None  # None: l_MSE in pixel space.
    content_weight: float = 1.0
    adversarial_weight: float = 1e-3  # Ledig et al. 2017, eq. 3.
    pretrain_steps: int = 0
    update_order: str = "discriminator_first"
    panel_column_names: Tuple[str, ...] = ("input", "bicubic", "output", "target")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "SRGAN":
        x_shape, y_shape = data.shape(INPUT), data.shape(TARGET)
        scale = _scale(x_shape, y_shape)
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        g_config = dict(config.model.generator)
        if g_config.pop("scale", scale) != scale:
            raise ConfigError(f"config.model.generator.scale={config.model.generator.scale} but the data's target is "
                              f"{scale}x its input; drop the key (the scale is read from the data) or fix the data")
        pretrain_steps = config.model.get("pretrain_steps", 0)
        if not (isinstance(pretrain_steps, int) and 0 <= pretrain_steps < config.train.steps):
            raise ConfigError(f"config.model.pretrain_steps={pretrain_steps!r} must be an integer in [0, train.steps="
                              f"{config.train.steps}) (0: no SRResNet pre-training phase)")
        if pretrain_steps:
            require_both_sides_every_step(config, "with model.pretrain_steps > 0 counts phases in steps (the paper's "
                                          "k = 1)")
        return cls(
            generator=networks.build_from_config(g_config, output_channels=y_shape[-1], scale=scale),
            discriminator=networks.build_from_config(config.model.discriminator),
            adversarial_loss=config.loss.adversarial,
            scale=scale,
            content=perceptual.content_network(config.loss, y_shape),
            content_weight=loss_weight(config, "content_weight", "Ledig et al. 2017: 1"),
            adversarial_weight=loss_weight(config, "adversarial_weight", "Ledig et al. 2017: 1e-3; 0 for SRResNet"),
            pretrain_steps=pretrain_steps,
        )

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        g_vars = self.generator.init(g_rng, batch[INPUT], train=False)
        d_vars = self.discriminator.init(d_rng, batch[TARGET], train=False)
        return dict(g_vars), dict(d_vars), ({CONTENT_STATE: self.content.variables} if self.content else {})

    def wrap_optimizers(self, g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation
                        ) -> Tuple[optax.GradientTransformation, optax.GradientTransformation]:
        """D's optimizer skips the SRResNet phase (no update, Adam state untouched) when there is one."""
        if not self.pretrain_steps:
            return g_tx, d_tx
        return g_tx, optax.transforms.conditionally_mask(d_tx, lambda count: count >= self.pretrain_steps)

    # --- Inference -----------------------------------------------------------------------------------

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array) -> jax.Array:
        """I_SR = G(I_LR) at test time (running batch statistics), clipped to [-1, 1]."""
        del rng  # G is deterministic.
        return jnp.clip(self.generator.apply(variables, x, train=False), -1.0, 1.0)

    def bicubic(self, x: jax.Array) -> jax.Array:
        """The bicubic upsampling baseline of the paper's tables."""
        n, h, w, c = x.shape
        return jnp.clip(jax.image.resize(x, (n, h * self.scale, w * self.scale, c), "bicubic"), -1.0, 1.0)

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """I_LR | bicubic | I_SR | I_HR."""
        x = batch[INPUT]
        return x, self.bicubic(x), self.translate(variables, x, jax.random.PRNGKey(0)), batch[TARGET]

    # --- Losses --------------------------------------------------------------------------------------

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """G(I_LR) in training mode (batch statistics): the step's one generator forward."""
        return apply_train(self.generator, state.generator.variables(params), batch[INPUT], rng=rng)

    def discriminator_loss(self, params, state, batch: Batch, generated: jax.Array, rng: jax.Array):
        """f_real(D(I_HR)) + f_fake(D(G(I_LR))), G(I_LR) held fixed."""
        real_rng, fake_rng = jax.random.split(rng)
        variables = state.discriminator.variables(params)
        real, collections = apply_train(self.discriminator, variables, batch[TARGET], rng=real_rng)
        fake, collections = apply_train(self.discriminator, {**variables, **collections}, generated, rng=fake_rng)
        loss = losses.discriminator_loss(self.adversarial_loss, real_logits=real, fake_logits=fake)
        return loss, ({"real_logit": real.mean(), "fake_logit": fake.mean()}, collections)

    def content_loss(self, state, generated: jax.Array, target: jax.Array) -> jax.Array:
        """l_X: pixel MSE, or the feature MSE of the frozen phi (phi(I_HR) held fixed)."""
        if self.content is None:
            return losses.l2_loss(prediction=generated, target=target)
        variables = state.method_state[CONTENT_STATE]
        return perceptual.feature_mse(prediction=self.content.features(variables, generated),
                                      target=jax.lax.stop_gradient(self.content.features(variables, target)),
                                      rescale=self.content.rescale)

    def generator_loss(self, generated: jax.Array, state, batch: Batch, rng: jax.Array):
        """content_weight l_X + adversarial_weight g(D(G(I_LR))), D as updated this step; l_MSE alone
        during the SRResNet phase (steps < pretrain_steps)."""
        fake, _ = apply_train(self.discriminator, state.discriminator.variables(), generated, rng=rng)
        adversarial = losses.generator_loss(self.adversarial_loss, fake_logits=fake)
        mse = losses.l2_loss(prediction=generated, target=batch[TARGET])
        content = mse if self.content is None else self.content_loss(state, generated, batch[TARGET])
        srgan = self.content_weight * content + self.adversarial_weight * adversarial
        metrics = {"adversarial": adversarial, "content": content, "mse": mse, "fake_logit": fake.mean()}
        if not self.pretrain_steps:
            return srgan, (metrics, {})
        pretraining = state.step < self.pretrain_steps
        loss = jnp.where(pretraining, mse, srgan)
        return loss, ({**metrics, "phase": jnp.where(pretraining, 0.0, 1.0)}, {})
