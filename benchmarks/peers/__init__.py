"""PyTorch twins of jaxgan's configs, for side-by-side step times (``benchmarks/speed.py --peers``).

Written from the papers and from the documented architecture of the reference code (not copied):
junyanz/pytorch-CycleGAN-and-pix2pix for pix2pix and CycleGAN; jaxgan's own networks
(``jaxgan/networks/mlp.py``, ``dcgan.py``) for the MLP cGAN, the DCGAN cGAN and AC-GAN, whose sizes
the twin reads from the same config. Each twin is one full training iteration on a fixed batch,
written the way a PyTorch user writes it (one generator forward per iteration, D on its detached
output). torch is the ``bench`` extra of setup.cfg, never a dependency of jaxgan or its tests.

    twin = build_twin(config, batch, device="cpu")   # batch: the Pipeline's numpy batch (NHWC)
    twin.step()                                      # one D + G iteration
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from peers.common import Twin


def build_twin(config, batch: Mapping[str, np.ndarray], num_classes: int | None, *, device: str = "cpu",
               variant: str = "eager") -> Twin:
    """The twin of ``config`` (by ``config.method`` and the generator's name) on ``batch``.
    ``variant``: 'eager' (fp32), 'bf16' (autocast + channels_last) or 'compile' (torch.compile);
    the last two are for GPUs."""
    method, generator = config.method, config.model.generator.name
    if method == "cgan" and generator == "mlp_generator":
        from peers.label_conditional import MLPcGAN as cls
    elif method == "cgan" and generator == "dcgan_generator":
        from peers.label_conditional import DCGANcGAN as cls
    elif method == "acgan" and generator == "dcgan_generator":
        from peers.label_conditional import ACGAN as cls
    elif method == "pix2pix":
        from peers.pix2pix import Pix2Pix as cls
    elif method == "cyclegan":
        from peers.cyclegan import CycleGAN as cls
    else:
        raise ValueError(f"no PyTorch twin for method {method!r} with generator {generator!r}; twins exist for "
                         "cgan (mlp_generator, dcgan_generator), acgan, pix2pix and cyclegan")
    return cls(config, batch, num_classes, device=device, variant=variant)
