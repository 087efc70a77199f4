"""Context Encoders (Pathak et al. 2016, "Context Encoders: Feature Learning by Inpainting", CVPR).

A context encoder F fills the hole of an image from its surroundings. With M the hole mask (1 in the
hole), x the image and x_in = (1 - M) x + M fill the input (the hole set to a constant, the dataset's
mean colour in the paper), the paper's losses (sec. 3.2) are

    L_rec = || M_hat (.) (x - F(x_in)) ||_2^2                                         (eq. 1)
    L_adv = max_D  E_x[log D(x)] + E_x[log(1 - D(F(x_in)))]                            (eq. 2)
    L     = lambda_rec L_rec + lambda_adv L_adv,   lambda_rec = 0.999, lambda_adv = 0.001  (eq. 3, sec. 5.1)

The reconstruction weight M_hat is the authors' code's (pathak22/context-encoder, ``train.lua``:
``overlapPred``, ``wtl2``): F predicts a region that overlaps the context by ``overlap`` pixels around the
hole, and the squared error there weighs ``overlap_weight`` = 10 times that of the hole (sec. 5.1:
"higher weight (10x) for the reconstruction loss in this overlapping region"); elsewhere 0:

    W = M + overlap_weight (dilate_overlap(M) - M)   (``overlap_weights``; dilation by a square window)
    L_rec = mean over F's output of W (.) (x - F(x_in))^2   (their MSECriterion, scaled by W)

At the paper's setting (128x128 images, F predicting the 64x64 centre, overlap 4 as the authors'
training command) the hole is the central 56x56 and W is 1 there, 10 on the 4-pixel frame: exactly
their weight matrix. With F predicting the whole image and ``overlap`` at least the image size, W is 10
on every context pixel: their ``train_random.lua`` with ``useOverlapPred=1``. ``lambda_adv = 0`` is
the paper's L2-only context encoder (its Fig. 1c / Table 1 "L2" rows).

D is unconditional (the authors' ``conditionAdv=0``, sec. 5.1) and sees the region F predicts: the
real image there, and as fake the completion x_hat = (1 - M) x_in + M F(x_in) there. (The authors'
code feeds D the raw prediction, whose overlap frame differs from the context by what L_rec leaves;
the completion keeps D on what is shown to a user and leaves F's context pixels, which L_rec weights
10x, out of the adversarial game.) Losses to minimise, with ``config.loss.adversarial``
('non_saturating' = the paper's BCE):

    loss_D = f_real(D(x_box)) + f_fake(D(x_hat_box))     (not halved: the code's errD_real + errD_fake)
    loss_G = lambda_adv g(D(x_hat_box)) + lambda_rec L_rec

One G forward per step; D updates first, then G against the updated D (the code's order).

Data, two ways:

* masks from the data (``builtin:mnist/inpaint_center|inpaint_block|inpaint_region``): ``image_a`` is
  x_in, ``image_b`` x, ``mask`` M; F must predict the whole image.
* plain images (``images:DIR``, ``folder:DIR``, after the pipeline's resize/crop/flip) with
  ``config.model.center_hole`` = the side of a central square hole the method cuts itself, filled with
  ``config.model.fill`` (uint8 per channel; the authors' ImageNet mean 117, 104, 123): the paper's
  centre-region task, its hole centred in every random crop. F predicts the whole image or a centred
  box that contains the hole.

Inference (``translate``, panels) returns the completion x_hat: outside the hole it is the input,
exactly.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
from jax import lax

from jaxgan import losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, apply_train, loss_weight

INPUT, TARGET, MASK, IMAGE = "image_a", "image_b", "mask", "image"


def overlap_weights(mask: jax.Array, overlap: int, factor: float) -> jax.Array:
    """The reconstruction weight of every pixel for hole masks ``mask`` [B, H, W, 1] (1 in the hole):

        W = M + factor (dilate(M) - M),

    dilate(M) = 1 where a hole pixel lies within ``overlap`` pixels in both directions (a
    (2 overlap + 1)^2 square window). So 1 in the hole, ``factor`` on the frame of ``overlap`` pixels
    around it, 0 further out (Pathak et al. 2016, sec. 5.1; ``overlapPred`` and the 10x of their code)."""
    if not isinstance(overlap, int) or overlap < 0:
        raise ConfigError(f"overlap={overlap!r}: the overlap is a number of pixels >= 0")
    mask = jnp.asarray(mask, jnp.float32)
    if overlap == 0:
        return mask
    window = (1, 2 * overlap + 1, 2 * overlap + 1, 1)
    dilated = lax.reduce_window(mask, 0.0, lax.max, window, (1, 1, 1, 1), "SAME")
    return mask + factor * (dilated - mask)


def center_hole_mask(height: int, width: int, hole: int) -> jax.Array:
    """[1, H, W, 1] float32: 1 on the central ``hole`` x ``hole`` square (the paper's centre region)."""
    top, left = (height - hole) // 2, (width - hole) // 2
    rows = (jnp.arange(height) >= top) & (jnp.arange(height) < top + hole)
    cols = (jnp.arange(width) >= left) & (jnp.arange(width) < left + hole)
    return (rows[:, None] & cols[None, :]).astype(jnp.float32)[None, :, :, None]


@dataclasses.dataclass(frozen=True)
class ContextEncoder:
    generator: nn.Module  # jaxgan.networks.context_encoder.ContextEncoderGenerator (has output_size).
    discriminator: nn.Module  # Called D(image, None, train=...): a dcgan_discriminator, conditioning 'none'.
    adversarial_loss: str
    image_size: Tuple[int, int]  # (H, W) of the images.
    lambda_rec: float = 0.999  # Pathak et al. 2016, sec. 5.1.
    lambda_adv: float = 0.001  # Sec. 5.1; 0: the L2-only context encoder.
    overlap: int = 4  # Authors' training command (overlapPred=4).
    overlap_weight: float = 10.0  # Sec. 5.1 / train.lua's overlapL2Weight.
    center_hole: int = 0  # > 0: plain images, the method cuts this central hole; 0: masks from the data.
    fill: Tuple[float, ...] = ()  # The hole's value per channel in [-1, 1] (center_hole > 0).
    update_order: str = "discriminator_first"
    panel_column_names: Tuple[str, ...] = ("input", "completion", "target")

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "ContextEncoder":
        center_hole = config.model.get("center_hole", 0)
        if not isinstance(center_hole, int) or isinstance(center_hole, bool) or center_hole < 0:
            raise ConfigError(f"config.model.center_hole={center_hole!r} must be an integer >= 0 (0: masks from "
                              "the data)")
        if center_hole:
            shape = data.shape(IMAGE)
            fill = tuple(config.model.get("fill", ()))
            if len(fill) != shape[-1] or not all(0 <= v <= 255 for v in fill):
                raise ConfigError(f"config.model.fill={fill!r}: give one uint8 value per channel of the images "
                                  f"({shape[-1]}), e.g. the authors' ImageNet mean (117, 104, 123)")
            if center_hole > min(shape[:2]) or (shape[0] - center_hole) % 2 or (shape[1] - center_hole) % 2:
                raise ConfigError(f"config.model.center_hole={center_hole} does not centre in {shape[0]}x{shape[1]} "
                                  "images; give a side <= the image's with an even margin on each side")
        else:
            if MASK not in data.batch:
                raise ConfigError(f"method 'context_encoder' needs hole masks; the data gives {sorted(data.batch)}. "
                                  "Use a builtin:mnist/inpaint_* task (image_a, image_b, mask), or plain images "
                                  "with config.model.center_hole > 0 (the method cuts a central hole)")
            shape = data.shape(TARGET)
            if data.shape(INPUT) != shape or data.shape(MASK)[:2] != shape[:2]:
                raise ConfigError(f"method 'context_encoder': image_a {data.shape(INPUT)}, image_b {shape} and mask "
                                  f"{data.shape(MASK)} must be of one size")
            fill = ()
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        overlap = config.loss.get("overlap")
        if not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 0:
            raise ConfigError(f"config.loss.overlap={overlap!r}: a number of pixels >= 0 (the authors' overlapPred: 4)")
        generator = networks.build_from_config(config.model.generator, output_channels=shape[-1])
        if not hasattr(generator, "output_size"):
            raise ConfigError(f"method 'context_encoder' needs a generator that says the size of its prediction "
                              f"(context_encoder_generator); config.model.generator.name={config.model.generator.name!r}")
        box = generator.output_size(*shape[:2])
        if center_hole:
            if not (center_hole <= box[0] <= shape[0] and center_hole <= box[1] <= shape[1]) or \
                    (shape[0] - box[0]) % 2 or (shape[1] - box[1]) % 2:
                raise ConfigError(f"the generator predicts a {box[0]}x{box[1]} region of {shape[0]}x{shape[1]} images; "
                                  f"with config.model.center_hole={center_hole} it must be a centred box containing "
                                  "the hole (change the generator's encoder/decoder layers)")
        elif box != tuple(shape[:2]):
            raise ConfigError(f"the generator predicts {box[0]}x{box[1]} of {shape[0]}x{shape[1]} images: holes from the "
                              "data can be anywhere, so it must predict the whole image (match the number of "
                              "decoder layers + 1 to the encoder layers)")
        return cls(
            generator=generator,
            discriminator=networks.build_from_config(config.model.discriminator),
            adversarial_loss=config.loss.adversarial,
            image_size=tuple(shape[:2]),
            lambda_rec=loss_weight(config, "lambda_rec", "Pathak et al. 2016: 0.999"),
            lambda_adv=loss_weight(config, "lambda_adv", "Pathak et al. 2016: 0.001; 0 for the L2-only encoder"),
            overlap=overlap,
            overlap_weight=loss_weight(config, "overlap_weight", "Pathak et al. 2016: 10"),
            center_hole=center_hole,
            fill=tuple(v / 127.5 - 1.0 for v in fill),
        )

    # ------------------------------------------------------------------ geometry

    @property
    def box(self) -> Tuple[int, int, int, int]:
        """(top, left, height, width) of the region F predicts: centred (the whole image, or a box)."""
        h, w = self.generator.output_size(*self.image_size)
        return (self.image_size[0] - h) // 2, (self.image_size[1] - w) // 2, h, w

    def crop(self, images: jax.Array) -> jax.Array:
        """The region F predicts of full-size ``images``."""
        top, left, h, w = self.box
        return images[:, top:top + h, left:left + w]

    def inpainting_inputs(self, batch: Batch) -> Tuple[jax.Array, jax.Array, jax.Array]:
        """(x_in, x, M) of a batch: the input with its hole filled, the whole image, the hole mask
        [B, H, W, 1]; from the data's keys, or cut at the centre of plain images (``center_hole``)."""
        if not self.center_hole:
            return batch[INPUT], batch[TARGET], batch[MASK]
        image = batch[IMAGE]
        mask = jnp.broadcast_to(center_hole_mask(*self.image_size, self.center_hole), image.shape[:-1] + (1,))
        return jnp.where(mask > 0, jnp.asarray(self.fill, image.dtype), image), image, mask

    def complete(self, x_in: jax.Array, prediction: jax.Array, mask: jax.Array) -> jax.Array:
        """x_hat = (1 - M) x_in + M F(x_in), F's prediction placed in its box: equal to x_in outside the hole."""
        top, left, _, _ = self.box
        placed = lax.dynamic_update_slice(x_in, prediction.astype(x_in.dtype), (0, top, left, 0))
        return jnp.where(mask > 0, placed, x_in)

    # ------------------------------------------------------------------ networks

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng = jax.random.split(rng)
        x_in, x, _ = self.inpainting_inputs(batch)
        g_vars = self.generator.init(g_rng, x_in, train=False)
        d_vars = self.discriminator.init(d_rng, self.crop(x), None, train=False)
        return dict(g_vars), dict(d_vars), {}

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array, *,
                  mask: Optional[jax.Array] = None) -> jax.Array:
        """The completion x_hat at test time (running batch statistics; ``rng`` unused: F has no noise).

        With ``center_hole``, ``x`` is the whole image and the method cuts its hole. Otherwise ``x`` is
        the input with its hole filled and ``mask`` its hole; without ``mask`` (a plain file given to
        ``jaxgan.translate``) the result is F's raw prediction placed in its box."""
        del rng
        if self.center_hole:
            x, _, mask = self.inpainting_inputs({IMAGE: x})
        prediction = self.generator.apply(variables, x, train=False)
        if mask is None:
            top, left, _, _ = self.box
            return lax.dynamic_update_slice(x, prediction.astype(x.dtype), (0, top, left, 0))
        return self.complete(x, prediction, mask)

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """input x_in | completion x_hat | target x."""
        x_in, x, mask = self.inpainting_inputs(batch)
        prediction = self.generator.apply(variables, x_in, train=False)
        return x_in, self.complete(x_in, prediction, mask), x

    # ------------------------------------------------------------------ losses

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """F(x_in) in training mode (batch statistics): the step's one generator forward."""
        x_in, _, _ = self.inpainting_inputs(batch)
        return apply_train(self.generator, state.generator.variables(params), x_in, rng=rng)

    def _fake(self, batch: Batch, prediction: jax.Array) -> jax.Array:
        """D's fake input: the completion, in the region F predicts."""
        x_in, _, mask = self.inpainting_inputs(batch)
        return self.crop(self.complete(x_in, prediction, mask))

    def discriminator_loss(self, params, state, batch: Batch, generated: jax.Array, rng: jax.Array):
        """f_real(D(x_box)) + f_fake(D(x_hat_box)), F(x_in) held fixed."""
        real_rng, fake_rng = jax.random.split(rng)
        variables = state.discriminator.variables(params)
        _, x, _ = self.inpainting_inputs(batch)
        real, collections = apply_train(self.discriminator, variables, self.crop(x), None, rng=real_rng)
        fake, collections = apply_train(self.discriminator, {**variables, **collections},
                                        self._fake(batch, generated), None, rng=fake_rng)
        loss = losses.discriminator_loss(self.adversarial_loss, real_logits=real, fake_logits=fake)
        return loss, ({"real_logit": real.mean(), "fake_logit": fake.mean()}, collections)

    def generator_loss(self, generated: jax.Array, state, batch: Batch, rng: jax.Array):
        """lambda_adv g(D(x_hat_box)) + lambda_rec mean(W (x - F(x_in))^2) over F's output, D as updated."""
        fake, _ = apply_train(self.discriminator, state.discriminator.variables(), self._fake(batch, generated),
                              None, rng=rng)
        adversarial = losses.generator_loss(self.adversarial_loss, fake_logits=fake)
        _, x, mask = self.inpainting_inputs(batch)
        weights = self.crop(overlap_weights(mask, self.overlap, self.overlap_weight))
        error = jnp.square(generated.astype(jnp.float32) - self.crop(x).astype(jnp.float32))
        reconstruction = jnp.mean(weights * error)
        hole_l2 = losses.l2_loss(prediction=generated, target=self.crop(x), mask=self.crop(mask))
        loss = self.lambda_adv * adversarial + self.lambda_rec * reconstruction
        return loss, ({"adversarial": adversarial, "reconstruction": reconstruction, "hole_l2": hole_l2,
                       "fake_logit": fake.mean()}, {})
