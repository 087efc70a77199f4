"""Image-to-image tasks and domains derived from the built-in MNIST, offline: ``builtin:mnist/NAME``.

Every example is a pure function of ``(task, split, index)``: the MNIST digit ``index`` of the split
(MNIST's own 'train' and 'test'), and, where the task draws masks, colours, textures or layouts,
``np.random.default_rng([TASK_SEED, SPLIT, index])`` with a fixed seed per task (``_task_seed``). So the
same index of a split always gives the same example (runs, resume and evaluation are reproducible) and
a task's length is its MNIST split's (60,000 / 10,000). Everything is vectorised over the batch.

Paired tasks (pix2pix's ``image_a`` = input, ``image_b`` = target, uint8; plus ``label``, int32 [n]):

* ``edges2digit``: input the digit's outline (``edges``), target the digit; 28x28x1 both.
* ``sr4x``: input 7x7x1, the 4x4 box (area) average of the 28x28x1 target (SRGAN, Ledig et al. 2017,
  downsamples with a bicubic kernel; for an integer factor the box average is the area filter that a
  bicubic anti-aliased resize approximates, and it makes the input an exact function of the target).
* ``inpaint_center``, ``inpaint_block``, ``inpaint_region``: Context Encoders' three hole shapes
  (Pathak et al. 2016, Sec. 3.3): the central 14x14 square; one 14x14 square (a quarter of the image,
  like the centre) at a random position; random regions, a union of random ellipses and rectangles
  grown until they cover at least a quarter of the image. ``image_a`` is the digit with the hole set to
  ``FILL_VALUE`` = 128 (which the pipeline maps to 128 / 127.5 - 1 = +0.004, the nearest uint8 to 0),
  ``image_b`` the whole digit, ``mask`` float32 [n, 28, 28, 1], 1 inside the hole.
* ``scenes``: label-map scenes for pix2pixHD / SPADE: 2-4 digits on a 64x64 canvas, one per cell of a
  2x2 grid with a random offset (strokes never overlap). ``label_map`` int32 [n, 64, 64] is
  1 + the digit's class on its stroke (pixel > 127), 0 elsewhere (``label_classes`` = 11);
  ``instance_map`` int32 [n, 64, 64] is the digit's number 1..k there, 0 elsewhere; ``image_b`` uint8
  [n, 64, 64, 3] draws each digit in its class's colour with stripes of its class's orientation and
  frequency (random phase) over a random textured background. No ``label``.

Single domains for unpaired translation (``image``, uint8 [n, 28, 28, C]; ``label``):

* ``plain`` (C=1): the digit, as ``builtin:mnist``.   * ``negative`` (C=1): 255 - digit.
* ``edges`` (C=1): the outline, as in ``edges2digit``.
* ``grey_edges`` (C=1): dilate(x) - x of the grey digit, the 3x3 grey-scale morphological gradient:
  CoGAN's edge images as its authors' code computes them (``cv2.dilate`` with a 3x3 kernel, minus the
  image), graded, and thicker than ``edges`` (they include the stroke's anti-aliased border).
* ``thick_slanted`` (C=1): strokes dilated by a 3x3 max filter (radius ``THICK_RADIUS`` = 1) and
  sheared by ``SHEAR`` = 0.4 (row y moves 0.4 (13.5 - y) pixels right: italic); not pixel-wise.
* ``coloured`` (C=3): the digit in a random bright colour on a random dark textured background.
* ``plain_rgb`` (C=3): the plain digit in three equal channels. Unpaired domains must share H, W and
  C: pair ``coloured`` with ``plain_rgb``, the others with ``plain``.

Attribute sources for StarGAN / Fader Networks (``image`` uint8 [n, 28, 28, 3], ``label``,
``attributes`` float32 [n, A] in {0, 1}; the source has ``attribute_names``); each attribute is an
independent fair coin of the example's generator, and the image is rendered with exactly those:

* ``attributes``: (thick, slanted, coloured, negative), applied in that order (thick and slanted as
  in ``thick_slanted``; coloured as ``coloured``; negative = 255 - the RGB image).
* ``attributes2`` (the mask-vector run's second label set): (rotated_90, small, noisy): small = 2x box
  downsampled into the central 14x14; rotated_90 = rotated 90 degrees counter-clockwise; noisy = plus
  Gaussian noise of standard deviation ``NOISE_STD`` = 48 per pixel and channel, clipped.
* ``attribute_thick_slanted`` (C=1) and ``attribute_coloured`` (C=3): the two non-pixel-wise two-domain
  tasks as one attribute (``thick_slanted``: the ``plain`` or ``thick_slanted`` digit; ``coloured``: the
  ``plain_rgb`` or ``coloured`` digit), so that StarGAN, whose labels are attributes, trains and is
  measured on the same tasks as the two-domain systems.
"""

from __future__ import annotations

import dataclasses
import functools
import zlib
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from jaxgan.data import mnist
from jaxgan.errors import DataSourceError

__all__ = ["CLASS_COLOURS", "DerivedSource", "FILL_VALUE", "TASKS", "Task", "box_downsample", "dilate", "edges",
           "grey_edges", "open_task", "scene_layout", "shear"]

FILL_VALUE = 128  # The hole's value: 128 / 127.5 - 1 = 0.004 after the pipeline's conversion.
HOLE = 14  # Side of the centre and block holes: a quarter of the 28x28 image's area, as Context Encoders.
REGION_COVERAGE = 0.25  # Random regions grow until they cover this fraction of the image.
THICK_RADIUS = 1  # Dilation radius of 'thick' strokes (a (2r+1) x (2r+1) max filter).
SHEAR = 0.4  # Horizontal shear of 'slanted' digits: x' = x + SHEAR * (cy - y), about 22 degrees.
NOISE_STD = 48.0  # 'noisy': Gaussian noise in uint8 units.
SCENE_SIZE = 64  # Canvas of 'scenes'.
SCENE_JITTER = 4  # A scene digit's offset inside its 32x32 cell: 0..4, so 28x28 digits never overlap.
_SPLITS = {"train": 0, "test": 1}


# ----------------------------------------------------------------------------- pure image functions

def dilate(images: np.ndarray, radius: int = THICK_RADIUS) -> np.ndarray:
    """Grey-scale dilation of [n, H, W] images: the max over a (2 radius + 1)^2 square, zero outside."""
    h, w = images.shape[1:]
    padded = np.pad(images, ((0, 0), (radius, radius), (radius, radius)))
    size = 2 * radius + 1
    return np.max([padded[:, i:i + h, j:j + w] for i in range(size) for j in range(size)], axis=0)


def edges(images: np.ndarray) -> np.ndarray:
    """The outline of the strokes of uint8 [n, H, W] images: 255 on pixels outside the stroke
    (pixel <= 127) that touch it in their 3x3 neighbourhood, 0 elsewhere (the outer morphological
    gradient, dilate(S) minus S, of the thresholded stroke S). The stroke itself is 0, so a model must
    fill the space between the lines; MNIST strokes are 2-4 pixels wide, which an inner or symmetric
    gradient would mostly fill."""
    stroke = images > 127
    return np.where(dilate(stroke, 1) & ~stroke, 255, 0).astype(np.uint8)


def grey_edges(images: np.ndarray) -> np.ndarray:
    """dilate(x) - x of uint8 [n, H, W] images x: each pixel's 3x3 neighbourhood maximum minus the pixel
    (the outer grey-scale morphological gradient; never negative, so uint8 holds it). CoGAN's edge
    domain (Liu & Tuzel 2016, sec. 5; the authors' code: ``cv2.dilate(img, ones((3, 3))) - img``)."""
    return dilate(images, 1) - images


def shear(images: np.ndarray, amount: float = SHEAR) -> np.ndarray:
    """Shears uint8 [n, H, W] images horizontally: row y moves ``amount`` (cy - y) pixels to the right,
    cy = (H - 1) / 2 (top to the right, bottom to the left), by linear interpolation, zero outside."""
    n, h, w = images.shape
    source_x = np.arange(w)[None, :] - amount * ((h - 1) / 2 - np.arange(h))[:, None]  # [H, W]
    x0 = np.floor(source_x).astype(np.int64)
    weight = (source_x - x0)[None]
    rows = np.arange(h)[:, None]

    def gather(x):
        inside = (x >= 0) & (x < w)
        return np.where(inside[None], images[:, rows, np.clip(x, 0, w - 1)], 0).astype(np.float32)

    out = (1 - weight) * gather(x0) + weight * gather(x0 + 1)
    return np.round(out).astype(np.uint8)


def box_downsample(images: np.ndarray, factor: int) -> np.ndarray:
    """The mean of each ``factor`` x ``factor`` block of uint8 [n, H, W] images, rounded half up."""
    n, h, w = images.shape
    sums = images.reshape(n, h // factor, factor, w // factor, factor).sum(axis=(2, 4), dtype=np.int64)
    area = factor * factor
    return ((sums + area // 2) // area).astype(np.uint8)


def _texture(params: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Procedural texture in [0, 1], float32 [n, H, W]: three oriented sinusoidal gratings (random
    frequency 1.5-6 cycles per image, orientation, phase and weight from ``params`` [n, 3, 4] uniforms)
    plus 20% per-pixel grain (``noise`` [n, H, W] uniforms)."""
    h, w = noise.shape[1:]
    params = params.astype(np.float32)
    freq = 2 * np.pi * (1.5 + 4.5 * params[..., 0]) / max(h, w)  # [n, 3], radians per pixel
    angle, phase, weight = np.pi * params[..., 1], 2 * np.pi * params[..., 2], 0.2 + params[..., 3]
    # sin(u x + v y + phase) = sin(u x + phase) cos(v y) + cos(u x + phase) sin(v y): sines of [n, 3, H]
    # and [n, 3, W] and one batched matrix product instead of sines of [n, 3, H, W].
    across = (freq * np.cos(angle))[..., None] * np.arange(w, dtype=np.float32) + phase[..., None]
    down = (freq * np.sin(angle))[..., None] * np.arange(h, dtype=np.float32)
    scale = (0.8 * 0.5 * weight / weight.sum(axis=1, keepdims=True))[..., None]  # 80% gratings in [0, 0.8]
    rows = np.concatenate([scale * np.cos(down), scale * np.sin(down)], axis=1)  # [n, 6, H]
    cols = np.concatenate([np.sin(across), np.cos(across)], axis=1)  # [n, 6, W]
    return 0.4 + rows.swapaxes(1, 2) @ cols + 0.2 * noise


def _hue_colour(hue: np.ndarray) -> np.ndarray:
    """Fully saturated colours [..., 3] (brightest channel 1) of hues in [0, 1)."""
    rgb = 0.5 + 0.5 * np.cos(2 * np.pi * (hue[..., None] - np.arange(3) / 3))
    return (rgb / rgb.max(axis=-1, keepdims=True)).astype(np.float32)


CLASS_COLOURS = _hue_colour(np.arange(10) / 10)  # 'scenes': one hue per digit class, 36 degrees apart.


def _composite(alpha: np.ndarray, foreground: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Digits of opacity ``alpha`` [n, ...] in [0, 1] in float ``foreground`` colours over ``background``,
    both channels first, [n, 3, ...] (or broadcastable), in [0, 1] -> uint8 [n, 3, ...], rounded.
    Channels first because numpy is slow on a trailing axis of 3."""
    alpha = alpha.astype(np.float32)[:, None]
    return (255 * (background + alpha * (foreground - background)) + 0.5).astype(np.uint8)


def _channels_last(images: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(images, 1, -1))


def _background(u: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """A dark textured background [n, 3, H, W] in [0, 0.35]: two random colours blended by a texture.
    ``u`` [n, 18] uniforms (6 colour channels, 12 texture parameters)."""
    u = u.astype(np.float32)
    low, high = 0.35 * u[:, 0:3, None, None], 0.35 * u[:, 3:6, None, None]
    t = _texture(u[:, 6:18].reshape(-1, 3, 4), noise)[:, None]
    return low + (high - low) * t


def _colourize(digits: np.ndarray, u: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """uint8 [n, H, W] digits -> uint8 [n, H, W, 3]: the digit in a random bright colour (hue u[:, 0],
    brightness 0.8-1) over a random dark texture (``_background`` of u[:, 2:20])."""
    colour = (0.8 + 0.2 * u[:, 1, None]) * _hue_colour(u[:, 0])
    return _channels_last(_composite(digits / np.float32(255), colour[..., None, None],
                                     _background(u[:, 2:20], noise)))


def _colour_draws(rngs: List[np.random.Generator]) -> Tuple[np.ndarray, np.ndarray]:
    """What ``_colourize`` takes: uniforms [n, 20] and grain [n, 28, 28], float32."""
    return (_draw(rngs, lambda rng: rng.random(20, dtype=np.float32)),
            _draw(rngs, lambda rng: rng.random((28, 28), dtype=np.float32)))


def _rgb(images: np.ndarray) -> np.ndarray:
    return np.repeat(images[..., None], 3, axis=-1)


# ----------------------------------------------------------------------------- per-index randomness

def _task_seed(task: str) -> int:
    return zlib.crc32(task.encode())


def _rngs(task: str, split: str, indices: np.ndarray) -> List[np.random.Generator]:
    """One generator per index, ``default_rng([seed of task, split, index])``: what an example draws is a
    pure function of (task, split, index) as long as each task draws in a fixed order."""
    return [np.random.default_rng([_task_seed(task), _SPLITS[split], int(i)]) for i in indices]


def _draw(rngs: List[np.random.Generator], draw: Callable[[np.random.Generator], np.ndarray]) -> np.ndarray:
    """``draw`` from each generator, stacked: [n, ...]."""
    return np.stack([draw(rng) for rng in rngs])


@functools.lru_cache(maxsize=None)
def _mnist(split: str) -> Tuple[np.ndarray, np.ndarray]:
    """The built-in MNIST split (read once per process), uint8 [N, 28, 28] and int32 [N]."""
    images, labels = mnist.load_mnist(split, mnist.BUILTIN_DIR)
    images.flags.writeable = False
    return images, labels


# ----------------------------------------------------------------------------- tasks

Example = Dict[str, np.ndarray]


def _edges2digit(split: str, indices: np.ndarray) -> Example:
    images, labels = _mnist(split)
    digits = images[indices]
    return {"image_a": edges(digits)[..., None], "image_b": digits[..., None], "label": labels[indices]}


def _sr4x(split: str, indices: np.ndarray) -> Example:
    images, labels = _mnist(split)
    digits = images[indices]
    return {"image_a": box_downsample(digits, 4)[..., None], "image_b": digits[..., None],
            "label": labels[indices]}


def _square_masks(tops: np.ndarray, lefts: np.ndarray, side: int, size: int) -> np.ndarray:
    """Boolean [n, size, size] masks of side x side squares at (tops, lefts)."""
    r = np.arange(size)
    rows = (r >= tops[:, None]) & (r < tops[:, None] + side)
    cols = (r >= lefts[:, None]) & (r < lefts[:, None] + side)
    return rows[:, :, None] & cols[:, None, :]


_REGION_SHAPES = 12  # Candidate shapes per region mask; the first ones that cover a quarter are kept.


def _region_masks(u: np.ndarray, size: int) -> np.ndarray:
    """Random-region masks [n, size, size] from uniforms ``u`` [n, _REGION_SHAPES, 5]: each shape is an
    ellipse or a rectangle (u[..., 4] < 0.5) centred in the middle 20x20 with half-axes of 2-6 pixels;
    the mask is the union of the fewest first shapes covering >= REGION_COVERAGE of the image (all of
    them if they never do)."""
    centre = 4 + 20 * u[..., 0:2, None, None]  # [n, S, 2, 1, 1]: (row, column)
    half = 2 + 4 * u[..., 2:4, None, None]
    r = np.arange(size)
    dy = (r[:, None] - centre[:, :, 0]) / half[:, :, 0]
    dx = (r[None, :] - centre[:, :, 1]) / half[:, :, 1]
    ellipse = dy ** 2 + dx ** 2 <= 1
    rectangle = (np.abs(dy) <= 1) & (np.abs(dx) <= 1)
    shapes = np.where(u[..., 4, None, None] < 0.5, ellipse, rectangle)  # [n, S, size, size]
    unions = np.logical_or.accumulate(shapes, axis=1)
    covered = unions.mean(axis=(2, 3)) >= REGION_COVERAGE
    count = np.where(covered.any(axis=1), covered.argmax(axis=1), _REGION_SHAPES - 1)
    return unions[np.arange(len(u)), count]


def _inpaint(kind: str) -> Callable[[str, np.ndarray], Example]:
    def render(split: str, indices: np.ndarray) -> Example:
        images, labels = _mnist(split)
        digits = images[indices]
        n, size = len(indices), digits.shape[1]
        if kind == "center":
            start = np.full(n, (size - HOLE) // 2)
            hole = _square_masks(start, start, HOLE, size)
        elif kind == "block":
            rngs = _rngs(f"inpaint_{kind}", split, indices)
            corner = _draw(rngs, lambda rng: rng.integers(0, size - HOLE + 1, 2))
            hole = _square_masks(corner[:, 0], corner[:, 1], HOLE, size)
        else:
            hole = _region_masks(_draw(_rngs(f"inpaint_{kind}", split, indices),
                                       lambda rng: rng.random((_REGION_SHAPES, 5))), size)
        return {"image_a": np.where(hole, np.uint8(FILL_VALUE), digits)[..., None],
                "image_b": digits[..., None], "mask": hole[..., None].astype(np.float32),
                "label": labels[indices]}

    return render


def scene_layout(split: str, indices: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The digits of scenes ``indices``: (MNIST indices [n, 4], top-left corners [n, 4, 2], count [n] in
    2..4); digit j < count is drawn. Digit 0 is the scene's own MNIST digit ``index``; the others are
    drawn from the split; digit j sits in cell (a random permutation of the 2x2 grid)[j]."""
    images, _ = _mnist(split)
    rngs = _rngs("scenes", split, indices)
    count = _draw(rngs, lambda rng: rng.integers(2, 5))
    others = _draw(rngs, lambda rng: rng.integers(0, len(images), 3))
    cells = _draw(rngs, lambda rng: rng.permutation(4))
    jitter = _draw(rngs, lambda rng: rng.integers(0, SCENE_JITTER + 1, (4, 2)))
    digits = np.concatenate([np.asarray(indices)[:, None], others], axis=1)
    corners = np.stack([cells // 2, cells % 2], axis=-1) * (SCENE_SIZE // 2)
    return digits, corners + jitter, count


@functools.lru_cache(maxsize=None)
def _class_stripes() -> Tuple[np.ndarray, np.ndarray]:
    """sin and cos of each class's stripe argument A_c(y, x) on the scene canvas, in cell layout,
    float32 [10, 4, S/2, S/2]."""
    y, x = np.mgrid[0:SCENE_SIZE, 0:SCENE_SIZE] / 28
    c = np.arange(10)[:, None, None]
    argument = 2 * np.pi * (4 + c / 2) * (x * np.cos(np.pi * c / 10) + y * np.sin(np.pi * c / 10))
    return tuple(_cell_layout(f(argument).astype(np.float32)) for f in (np.sin, np.cos))


def _scenes(split: str, indices: np.ndarray) -> Example:
    images, labels = _mnist(split)
    n, half, digit = len(indices), SCENE_SIZE // 2, images.shape[1]
    mnist_index, corners, count = scene_layout(split, indices)
    rngs = _rngs("scenes/colour", split, indices)
    u, phases = (_draw(rngs, lambda rng: rng.random(k, dtype=np.float32)) for k in (18, 4))
    noise = _draw(rngs, lambda rng: rng.random((SCENE_SIZE, SCENE_SIZE), dtype=np.float32))
    # Digit j lies inside its own 32x32 cell, so the canvas is four cells side by side, each pasted once,
    # and everything about a digit (its class, instance number, stripe phase) is constant over its cell.
    cell, offset = np.divmod(corners, half)  # [n, 4, 2]: cell (row, column) of digit j, offset in it.
    cell = cell[..., 0] * 2 + cell[..., 1]  # [n, 4], row-major cell number.
    drawn = np.arange(4) < count[:, None]
    cells = np.zeros((n, 4, half, half), np.uint8)
    cells[np.arange(n)[:, None, None, None], cell[..., None, None],
          offset[..., 0, None, None] + np.arange(digit)[:, None],
          offset[..., 1, None, None] + np.arange(digit)] = images[mnist_index] * drawn[..., None, None]
    slot = np.argsort(cell, axis=1)  # [n, 4]: the digit in each cell.
    cell_class = np.take_along_axis(labels[mnist_index], slot, axis=1)  # [n, 4]
    stroke = cells > 127
    label_map = np.where(stroke, 1 + cell_class[..., None, None], 0).astype(np.int32)
    instance_map = np.where(stroke, 1 + slot[..., None, None], 0).astype(np.int32)
    # Each class: its colour, striped at angle 18 c degrees, 4 + c/2 cycles per digit width, random phase
    # p per digit: sin(A_c + p) = sin(A_c) cos(p) + cos(A_c) sin(p) with the class tables A_c cached.
    sin_c, cos_c = _class_stripes()
    phase = 2 * np.pi * np.take_along_axis(phases, slot, axis=1)[..., None, None]
    stripes = 0.5 + 0.5 * (sin_c[cell_class, np.arange(4)] * np.cos(phase)
                           + cos_c[cell_class, np.arange(4)] * np.sin(phase))
    foreground = (0.6 + 0.4 * stripes)[:, None] * CLASS_COLOURS[cell_class].transpose(0, 2, 1)[..., None, None]
    image = _composite(cells / np.float32(255), foreground, _cell_layout(_background(u, noise)))
    return {"label_map": _canvas_layout(label_map), "instance_map": _canvas_layout(instance_map),
            "image_b": _channels_last(_canvas_layout(image))}


def _cell_layout(canvas: np.ndarray) -> np.ndarray:
    """[..., 64, 64] -> [..., 4, 32, 32]: the scene's 2x2 cells, row-major."""
    *lead, size, _ = canvas.shape
    half = size // 2
    return canvas.reshape(*lead, 2, half, 2, half).swapaxes(-3, -2).reshape(*lead, 4, half, half)


def _canvas_layout(cells: np.ndarray) -> np.ndarray:
    """The inverse of ``_cell_layout``."""
    *lead, _, half, _ = cells.shape
    return cells.reshape(*lead, 2, 2, half, half).swapaxes(-3, -2).reshape(*lead, 2 * half, 2 * half)


def _domain(transform: Callable[[np.ndarray], np.ndarray]) -> Callable[[str, np.ndarray], Example]:
    def render(split: str, indices: np.ndarray) -> Example:
        images, labels = _mnist(split)
        image = transform(images[indices])
        return {"image": image if image.ndim == 4 else image[..., None], "label": labels[indices]}

    return render


def _coloured(split: str, indices: np.ndarray) -> Example:
    images, labels = _mnist(split)
    rngs = _rngs("coloured", split, indices)
    u, noise = _colour_draws(rngs)
    return {"image": _colourize(images[indices], u, noise), "label": labels[indices]}


ATTRIBUTES = ("thick", "slanted", "coloured", "negative")
ATTRIBUTES2 = ("rotated_90", "small", "noisy")


def _attributes(split: str, indices: np.ndarray) -> Example:
    images, labels = _mnist(split)
    rngs = _rngs("attributes", split, indices)
    on = _draw(rngs, lambda rng: rng.random(len(ATTRIBUTES)) < 0.5)  # [n, 4] in ATTRIBUTES order.
    u, noise = _colour_draws(rngs)
    digits = images[indices]
    digits = np.where(on[:, 0, None, None], dilate(digits), digits)
    digits = np.where(on[:, 1, None, None], shear(digits), digits)
    image = np.where(on[:, 2, None, None, None], _colourize(digits, u, noise), _rgb(digits))
    image = np.where(on[:, 3, None, None, None], 255 - image, image)
    return {"image": image, "label": labels[indices], "attributes": on.astype(np.float32)}


def _one_attribute(task: str, name: str) -> Callable[[str, np.ndarray], Example]:
    """A two-domain task as one attribute: a fair coin per example picks the ``name`` domain (1) or the
    plain digit (0), rendered as those domains are."""
    def render(split: str, indices: np.ndarray) -> Example:
        images, labels = _mnist(split)
        rngs = _rngs(task, split, indices)
        on = _draw(rngs, lambda rng: rng.random(1) < 0.5)  # [n, 1].
        digits = images[indices]
        if name == "coloured":
            u, noise = _colour_draws(rngs)
            image = np.where(on[:, :, None, None], _colourize(digits, u, noise), _rgb(digits))
        else:
            image = np.where(on[:, :, None], shear(dilate(digits)), digits)[..., None]
        return {"image": image, "label": labels[indices], "attributes": on.astype(np.float32)}

    return render


def _attributes2(split: str, indices: np.ndarray) -> Example:
    images, labels = _mnist(split)
    rngs = _rngs("attributes2", split, indices)
    on = _draw(rngs, lambda rng: rng.random(len(ATTRIBUTES2)) < 0.5)  # [n, 3] in ATTRIBUTES2 order.
    noise = _draw(rngs, lambda rng: rng.normal(0.0, NOISE_STD, (28, 28, 3)))
    digits = images[indices]
    small = np.zeros_like(digits)
    small[:, 7:21, 7:21] = box_downsample(digits, 2)
    digits = np.where(on[:, 1, None, None], small, digits)
    digits = np.where(on[:, 0, None, None], np.rot90(digits, 1, axes=(1, 2)), digits)
    noisy = np.clip(np.round(_rgb(digits) + noise), 0, 255).astype(np.uint8)
    image = np.where(on[:, 2, None, None, None], noisy, _rgb(digits))
    return {"image": image, "label": labels[indices], "attributes": on.astype(np.float32)}


@dataclasses.dataclass(frozen=True)
class Task:
    """What a derived task yields: ``render(split, indices) -> example`` and its description."""

    render: Callable[[str, np.ndarray], Example]
    image_shape: Tuple[int, int, int]  # Of the main image: 'image', or the target 'image_b'.
    input_shape: Optional[Tuple[int, int, int]] = None  # Of 'image_a' (paired tasks).
    num_classes: Optional[int] = 10  # Digit classes of 'label'; None without 'label'.
    attribute_names: Optional[Tuple[str, ...]] = None
    label_classes: Optional[int] = None  # Classes of 'label_map' (scenes).


_GREY, _RGB = (28, 28, 1), (28, 28, 3)
TASKS: Dict[str, Task] = {
    "edges2digit": Task(_edges2digit, _GREY, _GREY),
    "sr4x": Task(_sr4x, _GREY, (7, 7, 1)),
    "inpaint_center": Task(_inpaint("center"), _GREY, _GREY),
    "inpaint_block": Task(_inpaint("block"), _GREY, _GREY),
    "inpaint_region": Task(_inpaint("region"), _GREY, _GREY),
    "scenes": Task(_scenes, (SCENE_SIZE, SCENE_SIZE, 3), num_classes=None, label_classes=11),
    "plain": Task(_domain(lambda x: x), _GREY),
    "plain_rgb": Task(_domain(_rgb), _RGB),
    "negative": Task(_domain(lambda x: 255 - x), _GREY),
    "edges": Task(_domain(edges), _GREY),
    "grey_edges": Task(_domain(grey_edges), _GREY),
    "thick_slanted": Task(_domain(lambda x: shear(dilate(x))), _GREY),
    "coloured": Task(_coloured, _RGB),
    "attributes": Task(_attributes, _RGB, attribute_names=ATTRIBUTES),
    "attributes2": Task(_attributes2, _RGB, attribute_names=ATTRIBUTES2),
    "attribute_thick_slanted": Task(_one_attribute("attribute_thick_slanted", "thick_slanted"), _GREY,
                                    attribute_names=("thick_slanted",)),
    "attribute_coloured": Task(_one_attribute("attribute_coloured", "coloured"), _RGB, attribute_names=("coloured",)),
}


@dataclasses.dataclass(frozen=True)
class DerivedSource:
    """``builtin:mnist/NAME``: task NAME of ``TASKS`` on one MNIST split (see the module docstring)."""

    name: str
    task: Task
    split: str

    image_shape = property(lambda self: self.task.image_shape)
    input_shape = property(lambda self: self.task.input_shape)
    num_classes = property(lambda self: self.task.num_classes)
    attribute_names = property(lambda self: self.task.attribute_names)
    label_classes = property(lambda self: self.task.label_classes)
    num_label_classes = label_classes  # The name jaxgan.data.paired.LabelMapSource gives it.

    def __len__(self) -> int:
        return len(_mnist(self.split)[1])

    def get(self, indices: Sequence[int]) -> Example:
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise DataSourceError(f"{self.name} ({self.split}): indices must be in [0, {len(self)}), "
                                  f"got {indices.min()}..{indices.max()}")
        if not indices.size:  # Render one example for the keys, shapes and dtypes; return none of it.
            return {key: value[:0] for key, value in self.task.render(self.split, np.zeros(1, np.int64)).items()}
        return self.task.render(self.split, indices)


def open_task(name: str, split: str) -> DerivedSource:
    """The derived task ``name`` (``builtin:mnist/NAME``) on MNIST's ``split`` ('train' or 'test')."""
    spec = f"builtin:mnist/{name}"
    if name not in TASKS:
        raise DataSourceError(f"unknown built-in derived task {name!r} in {spec!r}; known: "
                              f"{', '.join('builtin:mnist/' + known for known in TASKS)}")
    if split not in _SPLITS:
        raise DataSourceError(f"{spec} has splits 'train' and 'test' (MNIST's), not {split!r}")
    return DerivedSource(spec, TASKS[name], split)
