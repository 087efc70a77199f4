"""Perceptual (feature-space) losses: a frozen network phi, and distances between phi(prediction) and
phi(target) (Johnson et al. 2016; Ledig et al. 2017, eq. 5; Wang et al. 2018 (pix2pixHD); Park et al.
2019 (SPADE)).

**VGG19 weights.** They cannot be downloaded at run time: the user points ``config.loss.vgg_weights``
at a ``.npz`` file holding torchvision's ImageNet VGG19 convolutions under their state-dict names,
``features.{i}.weight`` (float32 [out, in, 3, 3], PyTorch's OIHW layout) and ``features.{i}.bias``
([out]), for the conv layers i = 0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34 (conv1_1
... conv5_4; ``TORCHVISION_INDEX``); only those up to the deepest layer used are needed, other arrays
are ignored. Make it once, wherever torch is installed (torchvision >= 0.13)::

    import numpy as np, torchvision
    vgg = torchvision.models.vgg19(weights=torchvision.models.VGG19_Weights.IMAGENET1K_V1)
    np.savez("vgg19.npz", **{k: v.numpy() for k, v in vgg.state_dict().items() if k.startswith("features.")})

(548 MB download, an 80 MB file.) These weights expect RGB in [0, 1] normalised by ImageNet's mean
(0.485, 0.456, 0.406) and standard deviation (0.229, 0.224, 0.225); ``vgg_input`` maps the engine's
[-1, 1] images so, repeating a grey channel three times. Keras' and Caffe's VGG19 weights expect BGR
in [0, 255] minus a mean, another preprocessing: they are not accepted under these names.

Layers are named ``relu{block}_{n}``: the ReLU after the n-th convolution of block b, before the b-th
max pooling (the paper's phi_{b,n}). SRGAN's l_VGG/5,4 uses ``relu5_4`` (``SRGAN_LAYER``) with the
feature maps rescaled by 1/12.75 (``SRGAN_RESCALE``; Ledig et al. 2017, sec. 3.2: "a rescaling factor
of approximately 0.006", = 12.75^-2, on the squared distance). pix2pixHD's and SPADE's VGG loss
(NVIDIA/pix2pixHD and NVlabs/SPADE ``VGGLoss``) is sum_i w_i mean|phi_i(x) - phi_i(y)| over
``PIX2PIXHD_LAYERS`` = relu1_1 .. relu5_1 with ``PIX2PIXHD_WEIGHTS`` = 1/32, 1/16, 1/8, 1/4, 1
(``weighted_feature_l1``).

**Built-in tasks.** For 28x28 grey digits the project's own MNIST classifier
(``jaxgan.metrics.classifier``, shipped weights) gives phi: its 128-d penultimate features
(``content_network(...)`` with ``loss.content = 'mnist_classifier'``).

**Without weights.** ``vgg19_from_config`` raises a ConfigError naming ``loss.vgg_weights`` and this
recipe, unless the config turns the term off (``loss.vgg_weight = 0``): then it returns None.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.errors import ConfigError
from jaxgan.networks.layers import max_pool_2x2

# (block, convolutions) of VGG19 (Simonyan & Zisserman 2015, configuration E).
BLOCKS = ((1, 64, 2), (2, 128, 2), (3, 256, 4), (4, 512, 4), (5, 512, 4))  # (block, width, convs)
LAYERS: Tuple[str, ...] = tuple(f"relu{b}_{n}" for b, _, convs in BLOCKS for n in range(1, convs + 1))
# Position of conv{b}_{n} in torchvision's ``vgg19().features`` (ReLUs and max pools in between).
TORCHVISION_INDEX: Dict[str, int] = dict(zip(
    (f"conv{b}_{n}" for b, _, convs in BLOCKS for n in range(1, convs + 1)),
    (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

SRGAN_LAYER = "relu5_4"  # phi_5,4 (Ledig et al. 2017: SRGAN-VGG54).
SRGAN_RESCALE = 1.0 / 12.75  # Ledig et al. 2017, sec. 3.2.
PIX2PIXHD_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")  # Wang et al. 2018 (code).
PIX2PIXHD_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)

WEIGHTS_KEY = "vgg_weights"
RECIPE = ("make it where torch is installed: import numpy as np, torchvision; vgg = torchvision.models.vgg19("
          "weights=torchvision.models.VGG19_Weights.IMAGENET1K_V1); np.savez('vgg19.npz', **{k: v.numpy() for "
          "k, v in vgg.state_dict().items() if k.startswith('features.')})  (see jaxgan/perceptual.py)")

Variables = Dict[str, Any]


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise ConfigError(f"unknown VGG19 layer {layer!r}; the layers are {', '.join(LAYERS)}")


def _convs_up_to(last_layer: str) -> Tuple[Tuple[str, int, int], ...]:
    """(conv name, input channels, output channels) of every convolution up to ``last_layer``."""
    _check_layer(last_layer)
    out, channels = [], 3
    for b, width, convs in BLOCKS:
        for n in range(1, convs + 1):
            out.append((f"conv{b}_{n}", channels, width))
            channels = width
            if f"relu{b}_{n}" == last_layer:
                return tuple(out)
    raise AssertionError(last_layer)


class VGG19Features(nn.Module):
    """VGG19's convolutional part up to ``last_layer``: ImageNet-normalised RGB [B, H, W, 3] ->
    {layer name: ReLU output} for every ``relu{b}_{n}`` up to it. 3x3 convolutions with zero padding 1,
    2x2 max pooling with stride 2 (flooring odd sizes, as PyTorch) after each block."""

    last_layer: str = SRGAN_LAYER

    @nn.compact
    def __call__(self, x: jax.Array) -> Dict[str, jax.Array]:
        features = {}
        for name, _, width in _convs_up_to(self.last_layer):
            if name.endswith("_1") and name != "conv1_1":  # A new block: pool the previous one.
                x = max_pool_2x2(x)
            x = nn.relu(nn.Conv(width, (3, 3), padding=((1, 1), (1, 1)), name=name)(x))
            features["relu" + name[len("conv"):]] = x
        return features


def vgg_input(images: jax.Array) -> jax.Array:
    """Engine images [B, H, W, C] in [-1, 1], C = 1 or 3 -> RGB in [0, 1] normalised by ImageNet's mean
    and standard deviation, what torchvision's VGG19 was trained on (grey repeated to 3 channels)."""
    if images.shape[-1] not in (1, 3):
        raise ConfigError(f"the VGG19 loss needs grey or RGB images; these have {images.shape[-1]} channels")
    x = (jnp.asarray(images, jnp.float32) + 1.0) / 2.0
    x = jnp.broadcast_to(x, x.shape[:-1] + (3,))
    return (x - jnp.asarray(IMAGENET_MEAN)) / jnp.asarray(IMAGENET_STD)


def load_vgg19(path: str, last_layer: str = SRGAN_LAYER) -> Variables:
    """VGG19's variables ``{'params': {conv1_1: {kernel [3, 3, in, out], bias [out]}, ...}}`` (numpy)
    up to ``last_layer``, read from a ``.npz`` of torchvision's state-dict arrays (module docstring).
    ConfigError naming the file and the array if it is missing, unreadable, lacks an array or holds
    one of the wrong shape."""
    if not os.path.isfile(path):
        raise ConfigError(f"loss.{WEIGHTS_KEY}={path!r}: no such file; {RECIPE}")
    try:
        arrays = np.load(path)
    except (OSError, ValueError) as e:
        raise ConfigError(f"loss.{WEIGHTS_KEY}={path!r} is not a readable .npz ({e}); {RECIPE}") from e
    params = {}
    with arrays:
        for name, c_in, c_out in _convs_up_to(last_layer):
            i = TORCHVISION_INDEX[name]
            expected = {"weight": (c_out, c_in, 3, 3), "bias": (c_out,)}
            found = {}
            for kind, shape in expected.items():
                key = f"features.{i}.{kind}"
                if key not in arrays.files:
                    raise ConfigError(f"{path}: no array {key!r} ({name}'s {kind}, shape {shape}); the file must hold "
                                      f"torchvision's VGG19 conv arrays up to {last_layer}; {RECIPE}")
                if arrays[key].shape != shape:
                    raise ConfigError(f"{path}: array {key!r} ({name}'s {kind}) has shape {arrays[key].shape}, "
                                      f"VGG19 needs {shape} (torchvision's [out, in, 3, 3] layout); {RECIPE}")
                found[kind] = np.asarray(arrays[key], np.float32)
            params[name] = {"kernel": found["weight"].transpose(2, 3, 1, 0), "bias": found["bias"]}  # OIHW -> HWIO.
    return {"params": params}


def deepest(layers: Sequence[str]) -> str:
    """The deepest of ``layers`` (the VGG19 must run up to it)."""
    for layer in layers:
        _check_layer(layer)
    return max(layers, key=LAYERS.index)


def vgg19_features(variables: Variables, images: jax.Array, layers: Sequence[str]) -> Tuple[jax.Array, ...]:
    """phi_l(images) for each l of ``layers``, in that order; ``images`` [B, H, W, 1 or 3] in [-1, 1]
    (``vgg_input`` normalises them). Pure: ``variables`` from ``load_vgg19`` (up to ``deepest(layers)``
    or further). E.g. pix2pixHD / SPADE: ``vgg19_features(v, x, PIX2PIXHD_LAYERS)``."""
    features = VGG19Features(deepest(layers)).apply(variables, vgg_input(images))
    return tuple(features[layer] for layer in layers)


def vgg19_from_config(loss_config: Mapping[str, Any], layers: Sequence[str], *,
                      weight_key: Optional[str] = "vgg_weight", instead: str = "") -> Optional[Variables]:
    """The VGG19 variables a method's VGG term needs (up to the deepest of ``layers``), read from
    ``loss_config.vgg_weights``; None when ``loss_config[weight_key]`` is 0 (the term is off and no file
    is needed; ``weight_key=None``: the term cannot be off). Unset path: a ConfigError naming
    ``loss.vgg_weights``, how to make the file, and the alternative (``instead``, or the weight 0)."""
    if weight_key is not None and loss_config.get(weight_key, None) == 0:
        return None
    path = loss_config.get(WEIGHTS_KEY) or ""
    if not path:
        alternative = instead or f"turn the term off with loss.{weight_key}=0"
        raise ConfigError(f"the VGG19 perceptual loss needs pretrained weights and none are set: set "
                          f"loss.{WEIGHTS_KEY}=/path/to/vgg19.npz, or {alternative}; {RECIPE}")
    return load_vgg19(path, deepest(layers))


# ----------------------------------------------------------------------------- distances


def feature_mse(*, prediction: Sequence[jax.Array], target: Sequence[jax.Array], rescale: float = 1.0
                ) -> jax.Array:
    """sum_i mean((rescale * (phi_i(prediction) - phi_i(target)))^2) over the feature maps given,
    the mean over positions and channels. With phi_5,4 and rescale 1/12.75 this is SRGAN's content
    loss l_VGG/5,4 = 1/(W H) sum_{x,y} (phi(I_HR) - phi(G(I_LR)))^2 on rescaled maps (Ledig et al.
    2017, eq. 5; the mean also runs over the channels, so its scale is comparable to the pixel MSE)."""
    return sum(jnp.mean(jnp.square(rescale * (jnp.asarray(p, jnp.float32) - jnp.asarray(t, jnp.float32))))
               for p, t in zip(prediction, target))


def weighted_feature_l1(*, prediction: Sequence[jax.Array], target: Sequence[jax.Array],
                        weights: Sequence[float] = PIX2PIXHD_WEIGHTS) -> jax.Array:
    """sum_i w_i mean|phi_i(prediction) - phi_i(target)|: pix2pixHD's and SPADE's VGG loss with
    ``PIX2PIXHD_LAYERS`` and ``PIX2PIXHD_WEIGHTS`` (the caller holds phi(target) fixed)."""
    if not len(prediction) == len(target) == len(weights):
        raise ValueError(f"{len(prediction)} predicted, {len(target)} target feature maps, {len(weights)} weights")
    return sum(w * jnp.mean(jnp.abs(jnp.asarray(p, jnp.float32) - jnp.asarray(t, jnp.float32)))
               for w, p, t in zip(weights, prediction, target))


# ----------------------------------------------------------------------------- content networks

CONTENT_LOSSES = ("mse", "vgg", "mnist_classifier")


@dataclasses.dataclass(frozen=True)
class ContentNetwork:
    """A frozen phi for a feature-space content loss: ``features(variables, images) -> tuple of maps``
    (images in [-1, 1]), its ``variables`` (numpy, to be carried in the method state) and the
    ``rescale`` of ``feature_mse``."""

    name: str
    features: Callable[[Variables, jax.Array], Tuple[jax.Array, ...]]
    variables: Variables = dataclasses.field(compare=False)  # Arrays: left out of eq and hash.
    rescale: float = 1.0


def _classifier_features(variables: Variables, images: jax.Array) -> Tuple[jax.Array, ...]:
    from jaxgan.metrics.classifier import MNISTClassifier

    return (MNISTClassifier().apply(variables, images)[1],)


def content_network(loss_config: Mapping[str, Any], image_shape: Tuple[int, ...]) -> Optional[ContentNetwork]:
    """phi of ``loss_config.content``: 'mse' -> None (pixel space); 'vgg' -> VGG19 ``relu5_4`` rescaled
    by 1/12.75 (SRGAN-VGG54), weights from ``loss.vgg_weights``; 'mnist_classifier' -> the shipped MNIST
    classifier's 128-d penultimate features, for 28x28x1 targets."""
    content = loss_config.get("content", "mse")
    if content not in CONTENT_LOSSES:
        raise ConfigError(f"loss.content={content!r} is not one of {CONTENT_LOSSES}")
    if content == "mse":
        return None
    if content == "vgg":
        variables = vgg19_from_config(loss_config, (SRGAN_LAYER,), weight_key=None,
                                      instead="use loss.content='mse' (or 'mnist_classifier' for 28x28 digits)")
        return ContentNetwork("vgg", lambda v, x: vgg19_features(v, x, (SRGAN_LAYER,)), variables, SRGAN_RESCALE)
    from jaxgan.metrics import classifier

    if tuple(image_shape) != classifier.IMAGE_SHAPE:
        raise ConfigError(f"loss.content='mnist_classifier' needs 28x28x1 targets (the MNIST classifier's input); "
                          f"the data's are {tuple(image_shape)}: use loss.content='vgg' or 'mse'")
    try:
        variables = classifier.load_variables()
    except (FileNotFoundError, ValueError) as e:
        raise ConfigError(f"loss.content='mnist_classifier': {e}") from e
    return ContentNetwork("mnist_classifier", _classifier_features, variables)
