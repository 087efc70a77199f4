"""What every method provides, and helpers for calling Flax modules in training."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Mapping, Optional, Protocol, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.errors import ConfigError

Variables = Dict[str, Any]
Batch = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class ArraySpec:
    """One key of a batch: the shape of one example's array and its dtype name."""

    shape: Tuple[int, ...]
    dtype: str


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """What a method needs to know of its data to build its networks: the batch it will be given
    (its keys, each with a per-example shape and dtype: ``image`` and ``label``; ``image_a`` and
    ``image_b``; a ``label_map``, a ``mask``, ``attributes``, one ``image_<letter>`` per domain) and
    the source's facts that no array shows (number of classes, attribute names, label-map classes).

    It is saved with every checkpoint (``to_json``), and ``jaxgan.restore`` rebuilds the state's
    template from it (``example``), so a workdir alone describes its run."""

    batch: Mapping[str, ArraySpec]
    num_classes: Optional[int] = None
    attribute_names: Tuple[str, ...] = ()
    num_label_classes: Optional[int] = None  # Classes of a label map (pix2pixHD, SPADE).

    @classmethod
    def labelled(cls, image_shape: Tuple[int, ...], num_classes: Optional[int]) -> "DataInfo":
        """The description of a label-conditional batch: ``image`` float32 [H, W, C] and ``label`` int32."""
        return cls({"image": ArraySpec(tuple(image_shape), "float32"), "label": ArraySpec((), "int32")},
                   num_classes)

    @classmethod
    def from_batch(cls, batch: Mapping[str, Any], source: Any = None) -> "DataInfo":
        """Describes ``batch`` (arrays with a leading batch axis) read from ``source``."""
        return cls({k: ArraySpec(tuple(int(d) for d in np.shape(v)[1:]), str(np.asarray(v).dtype))
                    for k, v in sorted(batch.items())},
                   getattr(source, "num_classes", None),
                   tuple(getattr(source, "attribute_names", ()) or ()),
                   getattr(source, "num_label_classes", None))

    @property
    def image_shape(self) -> Tuple[int, ...]:
        """The shape of ``image``, the batch key of label-conditional data."""
        if "image" not in self.batch:
            raise ConfigError(f"this method needs batches of (image, label); the data gives {sorted(self.batch)} "
                              "(an image-to-image source: use an image-to-image method)")
        return self.batch["image"].shape

    def shape(self, key: str) -> Tuple[int, ...]:
        """The per-example shape of ``key``; a ConfigError naming the keys there are if it is missing."""
        if key not in self.batch:
            raise ConfigError(f"this method needs the batch key {key!r}; the data gives {sorted(self.batch)}")
        return self.batch[key].shape

    def example(self, n: int = 1) -> Dict[str, np.ndarray]:
        """Zeros shaped like a batch of ``n``: enough to initialise networks or trace a step."""
        return {k: np.zeros((n,) + spec.shape, spec.dtype) for k, spec in self.batch.items()}

    def to_json(self) -> Dict[str, Any]:
        return {"batch": {k: [list(s.shape), s.dtype] for k, s in self.batch.items()},
                "num_classes": self.num_classes, "attribute_names": list(self.attribute_names),
                "num_label_classes": self.num_label_classes}

    @classmethod
    def from_json(cls, saved: Mapping[str, Any]) -> "DataInfo":
        """Inverse of ``to_json``; also reads the {image_shape, num_classes} of runs saved before batches
        were described (always label-conditional)."""
        if "batch" not in saved:
            return cls.labelled(tuple(saved["image_shape"]), saved["num_classes"])
        return cls({k: ArraySpec(tuple(shape), dtype) for k, (shape, dtype) in saved["batch"].items()},
                   saved.get("num_classes"), tuple(saved.get("attribute_names", ())), saved.get("num_label_classes"))


class Method(Protocol):
    """A GAN method: networks, their initialisation, and the two sides' losses.

    A loss returns ``(loss, (metrics, collections))``, or ``(loss, (metrics, collections,
    method_state))`` when it updates the method's state (an image pool and its key): the engine
    writes the new method state into the GAN state, and drops it with the rest of that side's update
    when the step is not finite. Label-conditional methods also sample noise and generate (used by the
    sample grids, ``jaxgan.sample`` and ``jaxgan.evaluate``).

    The losses come in one of two forms:

    * each loss runs the generator itself, as below: ``discriminator_loss(d_params, state, batch,
      rng)`` and ``generator_loss(g_params, state, batch, rng)``; or
    * the method shares the step's one generator forward (``SharedForward``): the engine runs
      ``generator_forward`` once per step, gives D's loss its outputs held fixed, and differentiates
      G's loss with respect to those outputs, pulled back through the same forward.
    """

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        """Returns (generator variables, discriminator variables, method state)."""

    def discriminator_loss(self, params: Any, state: Any, batch: Batch, rng: jax.Array
                           ) -> Tuple[jax.Array, Tuple[Dict[str, jax.Array], Dict[str, Any]]]: ...

    def generator_loss(self, params: Any, state: Any, batch: Batch, rng: jax.Array
                       ) -> Tuple[jax.Array, Tuple[Dict[str, jax.Array], Dict[str, Any]]]: ...


class SharedForward(Protocol):
    """A method whose step runs its generators once (``jaxgan.train_step``):

    1. ``generated, g_collections = generator_forward(g_params, state, batch, rng)``, in training
       mode, with the generator side's parameters at the start of the step;
    2. ``discriminator_loss(d_params, state, batch, generated, rng)`` with ``generated`` held fixed
       (``stop_gradient``), and ``generator_loss(generated, state, batch, rng)``, whose gradient with
       respect to ``generated`` the engine pulls back to the generator parameters through step 1.

    ``update_order`` is ``'discriminator_first'`` (pix2pix: D updates, then G's loss sees the new D) or
    ``'generator_first'`` (CycleGAN: G updates against the old D, then D learns from the same
    generated images, e.g. through an image pool). Either way the generated images are those of the
    generator at the start of the step, as in the reference implementations.
    """

    update_order: str

    def generator_forward(self, params: Any, state: Any, batch: Batch, rng: jax.Array
                          ) -> Tuple[Any, Dict[str, Any]]: ...

    def discriminator_loss(self, params: Any, state: Any, batch: Batch, generated: Any, rng: jax.Array
                           ) -> Tuple[jax.Array, Tuple[Any, ...]]: ...

    def generator_loss(self, generated: Any, state: Any, batch: Batch, rng: jax.Array
                       ) -> Tuple[jax.Array, Tuple[Any, ...]]: ...


UPDATE_ORDERS = ("discriminator_first", "generator_first")


class SharedSpaceTranslation:
    """``translate`` and ``panel_columns`` of a two-domain method whose ``generators`` module maps both domains
    through one shared space (UNIT, XGAN): ``generators.translate(x, direction)`` decodes x's code into the
    other domain, ``generators.from_domain(x, domain)`` into both, as (into a, into b); evaluation mode."""

    directions = ("AtoB", "BtoA")

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array, direction: str = "AtoB") -> jax.Array:
        """x from domain a in domain b for direction 'AtoB', from b in a for 'BtoA' (``rng`` is unused: test
        time draws no noise)."""
        if direction not in self.directions:
            raise ConfigError(f"direction={direction!r} is not one of {self.directions}")
        return self.generators.apply(variables, x, direction, method=type(self.generators).translate)

    def panel_columns(self, variables: Variables, batch: Batch) -> Tuple[jax.Array, ...]:
        """a | a's reconstruction | a in b | b | b's reconstruction | b in a."""
        a, b = batch["image_a"], batch["image_b"]
        from_domain = type(self.generators).from_domain
        rec_a, fake_b = self.generators.apply(variables, a, "a", method=from_domain)
        fake_a, rec_b = self.generators.apply(variables, b, "b", method=from_domain)
        return a, rec_a, fake_b, b, rec_b, fake_a


def loss_weight(config: Any, key: str, paper: str) -> float:
    """``config.loss.<key>``, a weight >= 0; a ConfigError naming the key, the method and the paper's value
    (``paper``) otherwise."""
    value = config.loss.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"config.loss.{key}={value!r}: method {config.method!r} needs a weight >= 0 ({paper})")
    return float(value)


def require_both_sides_every_step(config: Any, why: str) -> None:
    """ConfigError unless ``train.n_critic`` and ``train.n_generator`` are 1 (each step updates D and G);
    ``why`` says what in the method needs it."""
    for key in ("n_critic", "n_generator"):
        value = config.train.get(key, 1)
        if value != 1:
            raise ConfigError(f"config.train.{key}={value}: method {config.method!r} {why}; set it to 1")


def apply_train(module: nn.Module, variables: Variables, *args: Any, rng: jax.Array, **kwargs: Any
                ) -> Tuple[Any, Dict[str, Any]]:
    """``module.apply(variables, *args, **kwargs)`` in training mode: dropout from ``rng``, every
    non-param collection mutable; returns (output, updated collections)."""
    mutable = [k for k in variables if k != "params"]
    out, updates = module.apply(variables, *args, train=True, rngs={"dropout": rng}, mutable=mutable, **kwargs)
    return out, dict(updates)


def split_variables(variables: Variables) -> Tuple[Any, Dict[str, Any]]:
    """Flax variables -> (params, other collections)."""
    variables = dict(variables)
    return variables.pop("params"), variables


def class_accuracy(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Fraction of examples whose argmax class logit is their label (a training metric)."""
    return jnp.mean((jnp.argmax(class_logits, axis=-1) == labels).astype(jnp.float32))
