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
