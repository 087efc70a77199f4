"""pix2pix twin (Isola et al. 2017; junyanz's ``--model pix2pix`` iteration): fake_B = G(A) once per
iteration; D step on (A, B) and (A, fake_B.detach()) with D's loss halved; G step on D(A, fake_B)
(D's gradients off) + lambda_L1 |fake_B - B|."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from peers.common import Twin, adam, adversarial_criterion, image, set_requires_grad, target_like
from peers.image_to_image import patchgan, unet


class Pix2Pix(Twin):
    def __init__(self, config, batch, num_classes=None, *, device="cpu", variant="eager"):
        super().__init__(device, variant)
        self.a = image(batch["image_a"], device, self.channels_last)
        self.b = image(batch["image_b"], device, self.channels_last)
        g = {k: v for k, v in config.model.generator.to_dict().items() if k != "name"}
        d = {k: v for k, v in config.model.discriminator.to_dict().items() if k != "name"}
        if config.model.generator.name != "unet_generator" or config.model.discriminator.name != "patchgan_discriminator":
            raise ValueError("the pix2pix twin has the U-Net G and the PatchGAN D")
        self.G = unet(self.a.shape[1], self.b.shape[1], **g)
        self.D = patchgan(self.a.shape[1] + self.b.shape[1], **d)
        self.networks = {"G": self.G, "D": self.D}
        self._finish()
        self.opt_g = adam(self.networks["G"].parameters(), config.optimizer.generator)
        self.opt_d = adam(self.networks["D"].parameters(), config.optimizer.discriminator)
        self.criterion = adversarial_criterion(config.loss.adversarial)
        self.lambda_l1 = config.loss.lambda_l1
        self.adversarial_weight = config.loss.get("adversarial_weight", 1.0)

    def _iteration(self):
        fake_b = self.G(self.a)
        set_requires_grad(self.networks["D"], True)
        self.opt_d.zero_grad(set_to_none=True)
        pred_fake = self.D(torch.cat([self.a, fake_b.detach()], 1))
        pred_real = self.D(torch.cat([self.a, self.b], 1))
        d_loss = 0.5 * (self.criterion(pred_fake, target_like(pred_fake, 0.0))
                        + self.criterion(pred_real, target_like(pred_real, 1.0)))
        d_loss.backward()
        self.opt_d.step()
        set_requires_grad(self.networks["D"], False)
        self.opt_g.zero_grad(set_to_none=True)
        pred = self.D(torch.cat([self.a, fake_b], 1))
        g_loss = (self.adversarial_weight * self.criterion(pred, target_like(pred, 1.0))
                  + self.lambda_l1 * F.l1_loss(fake_b, self.b))
        g_loss.backward()
        self.opt_g.step()
