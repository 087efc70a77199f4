"""Gradient penalties on a discriminator's inputs, shared by every method whose D takes images.

With lambda = ``config.loss.gradient_penalty`` and gamma = ``config.loss.r1`` (0 turns a term off),
each penalised score s of D adds to D's loss

    lambda * E_xhat[(||grad_xhat s(xhat)||_2 - 1)^2]   xhat = eps x + (1 - eps) x_fake, eps ~ U[0, 1]
                                                        (WGAN-GP, Gulrajani et al. 2017; lambda = 10)
    gamma / 2 * E_x[||grad_x s(x)||_2^2]               on real x (R1, Mescheder et al. 2018)

(``jaxgan.losses.gradient_penalty`` and ``r1_penalty``). The critic s is D with the conditioning
label of the real batch, s(x) = D(x, y), as in conditional WGAN-GP practice: the interpolates of
(x, y) and (G(z, y), y) keep their shared label y. x and x_fake are exactly the images D's loss saw
(after DiffAugment, when set). D runs in training mode (dropout drawn afresh); collection updates
of the penalty's passes (spectral norm's power iteration) are discarded.

The per-example input gradient assumes D treats examples independently; batch norm mixes them, so
a D with batch norm is refused (``CriticPenalties.from_config``). The metrics report the unweighted
expectations (``gradient_penalty``, ``r1``; logged as ``d/gradient_penalty``, ``d/r1``), summed over
the scores a method penalises.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan import losses
from jaxgan.errors import ConfigError

Critic = Callable[[jax.Array], jax.Array]  # [B, ...] images -> [B] scores.
Score = Tuple[Critic, jax.Array, jax.Array]  # (critic, real images, generated images).


def uses_batch_norm(module: nn.Module) -> bool:
    """Whether ``module`` or a network it holds as a field says it has batch norm (``batch_norm=True``
    or ``norm='batch'``)."""
    if getattr(module, "batch_norm", False) is True or getattr(module, "norm", None) == "batch":
        return True
    return any(isinstance(child, nn.Module) and uses_batch_norm(child)
               for child in (getattr(module, f.name) for f in dataclasses.fields(module)
                             if f.name not in ("parent", "name")))


@dataclasses.dataclass(frozen=True)
class CriticPenalties:
    gradient_penalty: float = 0.0  # lambda (Gulrajani et al. 2017: 10); 0 = off.
    r1: float = 0.0  # gamma (Mescheder et al. 2018); 0 = off.

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, discriminator: nn.Module) -> "CriticPenalties":
        """The weights of ``config.loss`` (0 where a run saved before the keys existed), checked against D."""
        penalties = cls(float(config.loss.get("gradient_penalty", 0.0)), float(config.loss.get("r1", 0.0)))
        for name, value in dataclasses.asdict(penalties).items():
            if value < 0:
                raise ConfigError(f"config.loss.{name}={value!r} must be >= 0 (0 turns it off)")
        if penalties.active and uses_batch_norm(discriminator):
            raise ConfigError(
                "config.loss.gradient_penalty / config.loss.r1 penalise each example's input gradient, which "
                "batch norm in D mixes across the batch: set model.discriminator.batch_norm=False (no "
                "normalisation, as SN-GAN; Gulrajani et al. 2017 use layer norm) or turn the penalty off")
        return penalties

    @property
    def active(self) -> bool:
        return self.gradient_penalty > 0 or self.r1 > 0

    def __call__(self, rng: jax.Array, *scores: Score) -> Tuple[jax.Array, Dict[str, jax.Array]]:
        """sum over ``scores`` of lambda * GP + gamma / 2 * R1, and the unweighted sums as metrics.

        Each score is (critic, real, fake); the weights are Python floats, so a term that is off is
        not traced at all."""
        total = jnp.zeros((), jnp.float32)
        metrics: Dict[str, jax.Array] = {}
        for rng_k, (critic, real, fake) in zip(jax.random.split(rng, len(scores)), scores):
            if self.gradient_penalty > 0:
                gp = losses.gradient_penalty(critic, real=real, fake=fake, rng=rng_k)
                total = total + self.gradient_penalty * gp
                metrics["gradient_penalty"] = metrics.get("gradient_penalty", 0.0) + gp
            if self.r1 > 0:
                r1 = losses.r1_penalty(critic, real=real)
                total = total + 0.5 * self.r1 * r1
                metrics["r1"] = metrics.get("r1", 0.0) + r1
        return total, metrics
