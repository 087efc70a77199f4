"""Metrics of translated images against their targets (paired image-to-image).

Images are in the engine's range [-1, 1]; PSNR and SSIM are computed by dm-pix on [0, 1] images:

- PSNR = 10 log10(1 / MSE) per image on [0, 1] (peak 1), averaged over images;
- SSIM (Wang et al. 2004): Gaussian window 11 px, sigma 1.5, K1 0.01, K2 0.03, per image then
  averaged (dm-pix's defaults, those of the paper), on windows that fit the image;
- mean L1 and mean L2 per pixel in [-1, 1], as the pix2pix and Context Encoders tables report them.

Images smaller than the SSIM window (7x7 inputs of super-resolution) get a window of their size.
"""

from __future__ import annotations

from typing import Dict

import dm_pix
import jax.numpy as jnp
import numpy as np


def _unit(x) -> jnp.ndarray:
    return (jnp.asarray(x, jnp.float32) + 1.0) / 2.0


def psnr(prediction, target) -> np.ndarray:
    """Per-image PSNR in dB of images in [-1, 1] (peak 1 after mapping to [0, 1])."""
    return np.asarray(dm_pix.psnr(_unit(prediction), _unit(target)))


def ssim(prediction, target, filter_size: int = 11) -> np.ndarray:
    """Per-image SSIM of images in [-1, 1] (on [0, 1], max_val 1)."""
    size = min(filter_size, prediction.shape[1], prediction.shape[2])
    return np.asarray(dm_pix.ssim(_unit(prediction), _unit(target), max_val=1.0, filter_size=size))


def pixel_metrics(prediction, target) -> Dict[str, float]:
    """PSNR, SSIM, mean L1 and mean L2 of a batch of translations against their targets."""
    prediction, target = np.asarray(prediction, np.float32), np.asarray(target, np.float32)
    return {"psnr": float(psnr(prediction, target).mean()), "ssim": float(ssim(prediction, target).mean()),
            "l1": float(np.abs(prediction - target).mean()), "l2": float(np.square(prediction - target).mean())}


# Super-resolution: PSNR and SSIM on the luma channel with a border crop, as SR papers report them
# (Ledig et al. 2017, sec. 3.1: "calculated on the y-channel of center-cropped, removal of a 4-pixel
# wide strip from each border images"; the border is the scale factor).

BT601_LUMA = (65.481, 128.553, 24.966)  # ITU-R BT.601 Y' = 16 + these . (R, G, B), R, G, B in [0, 1], over 255.


def y_channel(images) -> np.ndarray:
    """ITU-R BT.601 luma of images in [-1, 1], [N, H, W, C], as MATLAB's rgb2ycbcr (the SR benchmarks'):
    Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255 with R, G, B in [0, 1], so Y in [16/255, 235/255];
    a grey image (C = 1) is R = G = B. Returns [N, H, W, 1]."""
    rgb = np.broadcast_to(np.asarray(images, np.float32), np.shape(images)[:-1] + (3,))
    unit = (rgb + 1.0) / 2.0
    return ((16.0 + unit @ np.asarray(BT601_LUMA, np.float32)) / 255.0)[..., None]


def crop_border(images, border: int) -> np.ndarray:
    """``images`` [N, H, W, C] without ``border`` pixels on each side (border 0: unchanged)."""
    images = np.asarray(images)
    if border < 0 or 2 * border >= min(images.shape[1:3]):
        raise ValueError(f"a border of {border} pixels leaves nothing of {images.shape[1]}x{images.shape[2]} images")
    return images[:, border:images.shape[1] - border, border:images.shape[2] - border]


def _y_unit(images, border: int) -> np.ndarray:
    """Border-cropped luma mapped to [-1, 1] for ``psnr`` / ``ssim`` (which take [-1, 1] images)."""
    return crop_border(y_channel(images), border) * 2.0 - 1.0


def psnr_y(prediction, target, border: int) -> np.ndarray:
    """Per-image PSNR (dB, peak 1) of the BT.601 luma of images in [-1, 1], ``border`` pixels cropped."""
    return psnr(_y_unit(prediction, border), _y_unit(target, border))


def ssim_y(prediction, target, border: int) -> np.ndarray:
    """Per-image SSIM of the BT.601 luma of images in [-1, 1], ``border`` pixels cropped."""
    return ssim(_y_unit(prediction, border), _y_unit(target, border))


def super_resolution_metrics(prediction, target, scale: int) -> Dict[str, float]:
    """Mean PSNR and SSIM on the Y channel with a ``scale``-pixel border cropped (Ledig et al. 2017)."""
    return {"psnr_y": float(psnr_y(prediction, target, scale).mean()),
            "ssim_y": float(ssim_y(prediction, target, scale).mean())}


# ---------------------------------------------------------------------------- inpainting (over the hole)

def _hole_errors(prediction, target, mask) -> tuple:
    """Per-image sums of |e| and e^2 on [0, 1] over the hole, and the hole's element count (pixels x
    channels); a ValueError if an image has no hole (its metrics would be undefined)."""
    prediction = (np.asarray(prediction, np.float64) + 1.0) / 2.0
    target = (np.asarray(target, np.float64) + 1.0) / 2.0
    mask = np.broadcast_to(np.asarray(mask, np.float64), prediction.shape)
    count = mask.reshape(len(mask), -1).sum(axis=1)
    if (count == 0).any():
        raise ValueError(f"hole metrics: image(s) {np.flatnonzero(count == 0)[:5].tolist()} have an empty mask")
    error = (prediction - target).reshape(len(mask), -1)
    weights = mask.reshape(len(mask), -1)
    return (weights * np.abs(error)).sum(axis=1), (weights * error ** 2).sum(axis=1), count


def hole_metrics(prediction, target, mask) -> Dict[str, float]:
    """Context Encoders' Table 1 metrics (Pathak et al. 2016) over the hole only: mean L1 and mean L2
    (squared error) per hole pixel and channel on [0, 1] images (the table's percentages: its L2 of
    1.96% with a mean PSNR of 18.58 dB fits [0, 1], since the mean of per-image PSNRs is at least the PSNR
    of the mean L2, 17.1 dB), and PSNR = 10 log10(1 / L2_i) of each image's hole, averaged over images.
    Images [N, H, W, C] in [-1, 1]; ``mask`` [N, H, W, 1] (or [N, H, W, C]), 1 in the hole."""
    abs_sum, sq_sum, count = _hole_errors(prediction, target, mask)
    with np.errstate(divide="ignore"):
        psnr_per_image = 10.0 * np.log10(count / sq_sum)  # inf for an exact hole, as dm_pix.psnr.
    return {"hole_l1": float(abs_sum.sum() / count.sum()), "hole_l2": float(sq_sum.sum() / count.sum()),
            "hole_psnr": float(psnr_per_image.mean())}
