"""What every method provides, and helpers for calling Flax modules in training."""

from __future__ import annotations

from typing import Any, Dict, Mapping, NamedTuple, Optional, Protocol, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp

Variables = Dict[str, Any]
Batch = Mapping[str, jax.Array]


class DataInfo(NamedTuple):
    """What a method needs to know of its data to build its networks."""

    image_shape: Tuple[int, int, int]
    num_classes: Optional[int]


class Method(Protocol):
    """A GAN method: networks, their initialisation, and the two sides' losses; label-conditional
    methods also sample noise and generate (used by the sample grids, ``jaxgan.sample`` and
    ``jaxgan.evaluate``)."""

    def sample_noise(self, rng: jax.Array, n: int) -> jax.Array: ...

    def generate(self, variables: Variables, z: jax.Array, labels: jax.Array) -> jax.Array:
        """G(z | y) in inference mode."""

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        """Returns (generator variables, discriminator variables, method state)."""

    def discriminator_loss(self, params: Any, state: Any, batch: Batch, rng: jax.Array
                           ) -> Tuple[jax.Array, Tuple[Dict[str, jax.Array], Dict[str, Any]]]: ...

    def generator_loss(self, params: Any, state: Any, batch: Batch, rng: jax.Array
                       ) -> Tuple[jax.Array, Tuple[Dict[str, jax.Array], Dict[str, Any]]]: ...


def apply_train(module: nn.Module, variables: Variables, *args: Any, rng: jax.Array
                ) -> Tuple[Any, Dict[str, Any]]:
    """``module.apply`` in training mode: dropout from ``rng``, every non-param collection
    mutable; returns (output, updated collections)."""
    mutable = [k for k in variables if k != "params"]
    out, updates = module.apply(variables, *args, train=True, rngs={"dropout": rng}, mutable=mutable)
    return out, dict(updates)


def split_variables(variables: Variables) -> Tuple[Any, Dict[str, Any]]:
    """Flax variables -> (params, other collections)."""
    variables = dict(variables)
    return variables.pop("params"), variables


def class_accuracy(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Fraction of examples whose argmax class logit is their label (a training metric)."""
    return jnp.mean((jnp.argmax(class_logits, axis=-1) == labels).astype(jnp.float32))
