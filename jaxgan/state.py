"""The whole GAN state as one immutable pytree: whatever Orbax saves, restores."""

from __future__ import annotations

from typing import Any, Dict

import flax
import jax

PyTree = Any


@flax.struct.dataclass
class Side:
    """One side of the game (all generators, or all discriminators).

    ``params`` are trained by this side's optimizer; ``collections`` hold the
    other Flax variable collections (e.g. ``{'batch_stats': ...}``), updated by
    the forward passes of this side's loss.
    """

    params: PyTree
    collections: Dict[str, PyTree]
    opt_state: PyTree

    def variables(self, params: PyTree | None = None) -> Dict[str, PyTree]:
        """The Flax variables dict, optionally with other ``params`` (e.g. the ones being differentiated)."""
        return {"params": self.params if params is None else params, **self.collections}


@flax.struct.dataclass
class GANState:
    """step, rng, both sides, EMA of the generator params, any method state (arrays only), and the
    count of steps that met a non-finite loss or gradient (checkpointed like the rest)."""

    step: jax.Array
    rng: jax.Array
    generator: Side
    discriminator: Side
    ema_params: PyTree  # EMA of generator.params; None when the EMA decay is 0.
    method_state: Dict[str, PyTree]
    nonfinite_steps: jax.Array  # int32: steps with a NaN/inf loss or gradient (skipped if train.on_nonfinite='skip').

    def generator_variables(self, use_ema: bool = True) -> Dict[str, PyTree]:
        """Generator variables for sampling: EMA params when kept and asked for."""
        if use_ema and self.ema_params is not None:
            return self.generator.variables(self.ema_params)
        return self.generator.variables()
