"""Augmentation as a pure function of ``(seed, step, position)``: pix2pix/CycleGAN's 'resize_and_crop'.

The preprocessing of Isola et al. 2017 and Zhu et al. 2017 as their code does it
(junyanz/pytorch-CycleGAN-and-pix2pix, ``--preprocess resize_and_crop``): resize every image of an
example to ``load_size x load_size`` (286 there), take a random ``crop_size x crop_size`` crop (256
there), and flip it left-right with probability 1/2 (unless ``--no_flip``). Photographs are resized
bicubically; class-id maps (``label_map``, ``instance_map``) and ``mask`` by nearest neighbour, so
no resized pixel holds a class id or mask value that was not in the original.

The crop offset and the flip of the example at position ``j`` of the global batch of step ``k`` are
drawn from ``np.random.default_rng([TAG, seed, k, j, stream])``: a counter-based draw, so the batch of
a step is the same on 1 process or 8 and after a resume, with nothing to save. Every image-like key
of one example (both halves of a pair, a label map and its target) gets the same draw; the domains of
an unpaired source are independent examples and draw with their own ``stream`` (the domain index).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from jaxgan.errors import ConfigError

# Separates the augmentation's draws from the pipeline's permutations (which are seeded with
# [seed, epoch] or [seed, domain, epoch]): the bytes of "augment".
_TAG = 0x6175676D656E74

# Keys resized by nearest neighbour (class ids and masks must keep their values); a key may carry a
# domain suffix ('label_map_a'). Keys whose name starts with 'image' are photographs: bicubic.
NEAREST_KEYS = ("label_map", "instance_map", "mask")


def _base_key(key: str) -> str:
    """'image_a' -> 'image_a' (kept: pairs), 'label_map_b' -> 'label_map' (domain suffix dropped)."""
    for base in NEAREST_KEYS:
        if key == base or (key.startswith(base + "_") and len(key) == len(base) + 2):
            return base
    return key


def resampling(key: str) -> Optional[str]:
    """How the value under ``key`` is resized: 'bicubic' (photographs), 'nearest' (class ids, masks),
    or None: not an image (labels, attributes), left alone."""
    if key.startswith("image"):
        return "bicubic"
    return "nearest" if _base_key(key) in NEAREST_KEYS else None


@dataclasses.dataclass(frozen=True)
class Draw:
    """The random part of one example's augmentation."""

    top: int
    left: int
    flip: bool


@dataclasses.dataclass(frozen=True)
class ResizeAndCrop:
    """Resize to ``load_size`` (0: keep the size), random crop to ``crop_size`` (0: no crop), random
    horizontal flip (``flip``). All zeros/False is the identity, the default of every config."""

    load_size: int = 0  # junyanz --load_size 286 (pix2pix, CycleGAN).
    crop_size: int = 0  # junyanz --crop_size 256.
    flip: bool = False  # junyanz flips unless --no_flip.
    # s > 0: super-resolution pairs made from single images after the crop: 'image' becomes the target
    # 'image_b' and its bicubic s-fold downsample the input 'image_a' (SRGAN's LR from HR crops,
    # Ledig et al. 2017, sec. 3.2). Set by a config as config.data.downscale (absent: 0).
    downscale: int = 0

    @classmethod
    def from_config(cls, data) -> "ResizeAndCrop":
        """From ``config.data`` (keys ``load_size``, ``crop_size``, ``flip``, optional ``downscale``)."""
        downscale = data.get("downscale", 0)
        if not isinstance(downscale, int) or isinstance(downscale, bool) or downscale < 0 or downscale == 1:
            raise ConfigError(f"data.downscale={downscale!r} must be 0 (off) or an integer factor >= 2")
        return cls(int(data.load_size), int(data.crop_size), bool(data.flip), downscale)

    def for_evaluation(self) -> "ResizeAndCrop":
        """The deterministic version for test-time inputs, as junyanz's test options do: resize to
        the crop size (load_size = crop_size), no crop, no flip."""
        return ResizeAndCrop(load_size=self.crop_size or self.load_size, downscale=self.downscale)

    @property
    def is_identity(self) -> bool:
        return not (self.load_size or self.crop_size or self.flip or self.downscale)

    def output_size(self, height: int, width: int, name: str = "the images") -> Tuple[int, int]:
        """(height, width) of an image of ``height x width`` after the transform; a ConfigError if
        the crop does not fit in it."""
        if self.load_size:
            height = width = self.load_size
        if self.crop_size:
            if self.crop_size > min(height, width):
                loaded = f"resized to data.load_size={self.load_size}" if self.load_size else "not resized"
                raise ConfigError(
                    f"data.crop_size={self.crop_size} does not fit in {name} ({height}x{width}, {loaded}); "
                    "set data.crop_size <= data.load_size (or <= the image size when data.load_size=0)")
            height = width = self.crop_size
        return height, width

    def draw(self, height: int, width: int, *, seed: int, step: int, position: int, stream: int = 0) -> Draw:
        """The crop offset and flip of the example at ``position`` of the global batch of ``step``,
        for images of ``height x width`` after the resize."""
        rng = np.random.default_rng([_TAG, seed, step, position, stream])
        top = int(rng.integers(0, height - self.crop_size + 1)) if self.crop_size else 0
        left = int(rng.integers(0, width - self.crop_size + 1)) if self.crop_size else 0
        return Draw(top, left, bool(self.flip and rng.random() < 0.5))

    def __call__(self, example: Dict[str, np.ndarray], *, seed: int, step: int, positions: Sequence[int],
                 stream: int = 0) -> Dict[str, np.ndarray]:
        """Applies the transform to every image-like key of ``example`` (arrays ``[n, H, W(, C)]``,
        row ``i`` at global batch position ``positions[i]``); other keys pass through."""
        if self.is_identity:
            return example
        spatial = [k for k in example if resampling(k)]
        if not spatial:
            return example
        height, width = example[spatial[0]].shape[1:3]
        out_height, out_width = self.output_size(height, width)
        loaded = (self.load_size, self.load_size) if self.load_size else (height, width)
        draws = [self.draw(*loaded, seed=seed, step=step, position=int(p), stream=stream) for p in positions]
        out = dict(example)
        for key in spatial:
            value = example[key]
            if value.shape[1:3] != (height, width):
                raise ValueError(f"{key!r} is {value.shape[1:3]}, {spatial[0]!r} is {(height, width)}: the "
                                 "image-like values of one example must be of one size to be cropped together")
            rows = [self._one(row, d, resampling(key), (out_height, out_width)) for row, d in zip(value, draws)]
            out[key] = np.stack(rows) if rows else np.empty((0, out_height, out_width) + value.shape[3:], value.dtype)
        return self._downscaled(out) if self.downscale else out

    def _downscaled(self, example: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """{'image': HR, ...} -> {'image_a': bicubic HR / s, 'image_b': HR, ...} (``downscale`` = s)."""
        if "image" not in example:
            raise ConfigError(f"data.downscale={self.downscale} makes (low-res, high-res) pairs from single images "
                              f"('image'); this source gives {sorted(example)}: use images:DIR or folder:DIR")
        out = dict(example)
        hr = out.pop("image")
        height, width = hr.shape[1:3]
        if height % self.downscale or width % self.downscale:
            raise ConfigError(f"data.downscale={self.downscale} does not divide the {height}x{width} images; set "
                              "data.crop_size (or load_size) to a multiple of it")
        size = (height // self.downscale, width // self.downscale)
        rows = [_resize(image, size, "bicubic") for image in hr]
        out["image_a"] = np.stack(rows) if rows else np.empty((0, *size) + hr.shape[3:], hr.dtype)
        out["image_b"] = hr
        return out

    def _one(self, image: np.ndarray, draw: Draw, method: str, size: Tuple[int, int]) -> np.ndarray:
        if self.load_size and image.shape[:2] != (self.load_size, self.load_size):
            image = _resize(image, self.load_size, method)
        image = image[draw.top:draw.top + size[0], draw.left:draw.left + size[1]]
        return np.ascontiguousarray(image[:, ::-1] if draw.flip else image)


def _resize(image: np.ndarray, size, method: str) -> np.ndarray:
    """Resizes one ``[H, W(, C)]`` image to ``size x size`` (or ``size`` = (height, width)) with Pillow
    (uint8 images bicubic; int32 class ids and float32 masks, as Pillow's 'I' and 'F' modes, nearest)."""
    from PIL import Image  # Pillow is needed only when images are resized.

    squeeze = image.ndim == 3 and image.shape[-1] == 1
    plane = image[..., 0] if squeeze else image
    if plane.dtype != np.uint8:
        plane = plane.astype(np.int32 if plane.dtype.kind in "iu" else np.float32)
    resample = Image.Resampling.BICUBIC if method == "bicubic" else Image.Resampling.NEAREST
    height, width = (size, size) if isinstance(size, int) else size
    resized = np.asarray(Image.fromarray(plane).resize((width, height), resample)).astype(image.dtype)
    return resized[..., None] if squeeze else resized
