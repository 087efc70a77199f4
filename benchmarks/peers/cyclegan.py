"""CycleGAN twin (Zhu et al. 2017; junyanz's ``--model cycle_gan`` iteration): fake_B = G_A(A),
rec_A = G_B(fake_B), fake_A = G_B(B), rec_B = G_A(fake_A); G step (both Ds' gradients off): LSGAN
terms on D_A(fake_B) and D_B(fake_A), cycle L1 x lambda, identity L1 of G_A(B) and G_B(A) x lambda x
lambda_idt; then D step on each D with the image pool's fakes: 0.5 (MSE(D(real), 1) + MSE(D(fake), 0))."""

from __future__ import annotations

import itertools
import random

import torch
import torch.nn.functional as F

from peers.common import Twin, adam, image, set_requires_grad
from peers.image_to_image import patchgan, resnet_translator


class ImagePool:
    """Shrivastava et al. 2017's history: fills to ``size``; then each image goes in, and with
    probability 1/2 a random stored image comes out in its place."""

    def __init__(self, size: int):
        self.size, self.images = size, []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for x in images.detach():
            x = x.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(x)
                out.append(x)
            elif random.random() > 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = x
            else:
                out.append(x)
        return torch.cat(out, 0)


def lsgan(prediction: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(prediction, torch.full_like(prediction, target))


class CycleGAN(Twin):
    def __init__(self, config, batch, num_classes=None, *, device="cpu", variant="eager"):
        super().__init__(device, variant)
        if config.loss.adversarial != "least_squares" or config.loss.get("cycle_norm", "l1") != "l1":
            raise ValueError("the CycleGAN twin has the paper's LSGAN loss and L1 cycle")
        self.real_a = image(batch["image_a"], device, self.channels_last)
        self.real_b = image(batch["image_b"], device, self.channels_last)
        ca, cb = self.real_a.shape[1], self.real_b.shape[1]
        g = {k: v for k, v in config.model.generator.to_dict().items() if k != "name"}
        d = {k: v for k, v in config.model.discriminator.to_dict().items() if k != "name"}
        self.G_A, self.G_B = resnet_translator(ca, cb, **g), resnet_translator(cb, ca, **g)
        self.D_A, self.D_B = patchgan(cb, **d), patchgan(ca, **d)
        self.networks = {"G_A": self.G_A, "G_B": self.G_B, "D_A": self.D_A, "D_B": self.D_B}
        self._finish()
        n = self.networks
        self.opt_g = adam(itertools.chain(n["G_A"].parameters(), n["G_B"].parameters()), config.optimizer.generator)
        self.opt_d = adam(itertools.chain(n["D_A"].parameters(), n["D_B"].parameters()),
                          config.optimizer.discriminator)
        pool = config.model.get("pool_size", 50)
        self.pool_a, self.pool_b = ImagePool(pool), ImagePool(pool)
        self.lambda_a, self.lambda_b = config.loss.lambda_a, config.loss.lambda_b
        self.lambda_idt = config.loss.lambda_identity

    def _iteration(self):
        a, b = self.real_a, self.real_b
        fake_b = self.G_A(a)
        rec_a = self.G_B(fake_b)
        fake_a = self.G_B(b)
        rec_b = self.G_A(fake_a)
        for name in ("D_A", "D_B"):
            set_requires_grad(self.networks[name], False)
        self.opt_g.zero_grad(set_to_none=True)
        loss = (lsgan(self.D_A(fake_b), 1.0) + lsgan(self.D_B(fake_a), 1.0)
                + self.lambda_a * F.l1_loss(rec_a, a) + self.lambda_b * F.l1_loss(rec_b, b))
        if self.lambda_idt > 0:
            loss = loss + self.lambda_idt * (self.lambda_b * F.l1_loss(self.G_A(b), b)
                                             + self.lambda_a * F.l1_loss(self.G_B(a), a))
        loss.backward()
        self.opt_g.step()
        for name in ("D_A", "D_B"):
            set_requires_grad(self.networks[name], True)
        self.opt_d.zero_grad(set_to_none=True)
        pooled_b, pooled_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        d_loss = (0.5 * (lsgan(self.D_A(b), 1.0) + lsgan(self.D_A(pooled_b), 0.0))
                  + 0.5 * (lsgan(self.D_B(a), 1.0) + lsgan(self.D_B(pooled_a), 0.0)))
        d_loss.backward()
        self.opt_d.step()
