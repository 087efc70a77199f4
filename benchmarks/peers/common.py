"""What every twin shares: tensors from the Pipeline's batch, Adam as the configs set it, the variants."""

from __future__ import annotations

import contextlib
from typing import Iterable, Mapping

import numpy as np
import torch
from torch import nn

VARIANTS = ("eager", "bf16", "compile")


def image(array: np.ndarray, device: str, channels_last: bool) -> torch.Tensor:
    """NHWC numpy -> NCHW float tensor (channels_last memory format if asked)."""
    t = torch.from_numpy(np.ascontiguousarray(np.moveaxis(np.asarray(array, np.float32), -1, 1))).to(device)
    return t.contiguous(memory_format=torch.channels_last) if channels_last else t


def adam(params: Iterable[torch.nn.Parameter], side) -> torch.optim.Adam:
    """Adam with the config's rate and betas for one side (``config.optimizer.generator`` / ``.discriminator``)."""
    return torch.optim.Adam(list(params), lr=side.learning_rate, betas=(side.b1, side.b2))


class Twin:
    """One iteration = ``step()``; subclasses set ``self.networks`` (name -> module) and ``_iteration()``."""

    networks: Mapping[str, nn.Module]

    def __init__(self, device: str, variant: str):
        if variant not in VARIANTS:
            raise ValueError(f"variant {variant!r} is not one of {VARIANTS}")
        self.device, self.variant = device, variant
        self.channels_last = variant == "bf16"

    def _finish(self) -> None:
        """Moves the networks to the device and applies the variant; call at the end of __init__."""
        for name, net in self.networks.items():
            net.to(self.device)
            if self.channels_last:
                net.to(memory_format=torch.channels_last)
            if self.variant == "compile":
                setattr(self, name, torch.compile(net))
        self._compiled = self.variant == "compile"

    def autocast(self):
        if self.variant == "bf16":
            return torch.autocast(device_type=self.device.split(":")[0], dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step(self, synchronize: bool = True) -> None:
        """One iteration; waits for the device to finish it unless ``synchronize`` is False."""
        with self.autocast():
            self._iteration()
        if synchronize:
            self.synchronize()

    def synchronize(self) -> None:
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()

    def _iteration(self) -> None:
        raise NotImplementedError


def set_requires_grad(net: nn.Module, flag: bool) -> None:
    for p in net.parameters():
        p.requires_grad_(flag)


def adversarial_criterion(name: str) -> nn.Module:
    """The loss on D's logits for jaxgan's ``config.loss.adversarial``: the GAN's binary cross-entropy
    (Goodfellow et al. 2014; its non-saturating G form) or least squares (Mao et al. 2017)."""
    if name in ("non_saturating", "minimax"):
        return nn.BCEWithLogitsLoss()
    if name == "least_squares":
        return nn.MSELoss()
    raise ValueError(f"the twins implement the non_saturating, minimax and least_squares losses, not {name!r}")


def target_like(prediction: torch.Tensor, value: float) -> torch.Tensor:
    return torch.full_like(prediction, value)


class GeneratorEMA:
    """Exponential moving average of G's parameters after each G update, as jaxgan's ``train.ema_decay``."""

    def __init__(self, generator: nn.Module, decay: float):
        self.decay = decay
        self.params = list(generator.parameters())
        self.average = [p.detach().clone() for p in self.params]

    def update(self) -> None:
        with torch.no_grad():
            torch._foreach_lerp_(self.average, [p.detach() for p in self.params], 1.0 - self.decay)
