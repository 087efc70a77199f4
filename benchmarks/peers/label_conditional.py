"""Twins of jaxgan's label-conditional configs: the MLP cGAN (configs/cgan_mnist.py; Mirza & Osindero
2014, jaxgan/networks/mlp.py), the DCGAN cGAN (configs/cgan_dcgan_mnist.py; jaxgan/networks/dcgan.py)
and AC-GAN (configs/acgan_mnist.py; Odena et al. 2017). Sizes are read from the config, so a shrunk
config gets a shrunk twin.

Iteration (the PyTorch DCGAN idiom): z ~ noise, fake = G(z, y) once; D step on (x, y) and
(fake.detach(), y); G step through the updated D on (fake, y) with D's gradients off; EMA of G.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from peers.common import GeneratorEMA, Twin, adam, adversarial_criterion, image, set_requires_grad, target_like


class Maxout(nn.Module):
    """h_i = max_j (W x + b)_{ij} over ``pieces`` (Goodfellow et al. 2013)."""

    def __init__(self, in_features: int, features: int, pieces: int):
        super().__init__()
        self.features, self.pieces = features, pieces
        self.linear = nn.Linear(in_features, features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(x.shape[0], self.features, self.pieces).amax(-1)


class MLPGenerator(nn.Module):
    """z -> 200 ReLU, one-hot y -> 1000 ReLU, concat, dropout, 1200 ReLU, dropout, sigmoid image (as 2s - 1)."""

    def __init__(self, num_classes, image_shape, latent_dim, noise_units=200, label_units=1000, hidden_units=1200,
                 dropout_rate=0.5, **unused):
        super().__init__()
        self.num_classes, self.image_shape = num_classes, tuple(image_shape)
        self.noise = nn.Linear(latent_dim, noise_units)
        self.label = nn.Linear(num_classes, label_units)
        self.hidden = nn.Linear(noise_units + label_units, hidden_units)
        self.out = nn.Linear(hidden_units, math.prod(image_shape))
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, z, labels):
        y = F.one_hot(labels, self.num_classes).to(z.dtype)
        h = self.dropout(torch.cat([F.relu(self.noise(z)), F.relu(self.label(y))], 1))
        h = self.dropout(F.relu(self.hidden(h)))
        height, width, channels = self.image_shape
        return (2 * torch.sigmoid(self.out(h)) - 1).view(-1, channels, height, width)


class MLPDiscriminator(nn.Module):
    """Maxout branches for x (240 x 5) and y (50 x 5), joint maxout 240 x 4, dropout, one logit."""

    def __init__(self, num_classes, image_shape, image_units=240, image_pieces=5, label_units=50, label_pieces=5,
                 hidden_units=240, hidden_pieces=4, dropout_rate=0.5, **unused):
        super().__init__()
        self.num_classes = num_classes
        self.image = Maxout(math.prod(image_shape), image_units, image_pieces)
        self.label = Maxout(num_classes, label_units, label_pieces)
        self.hidden = Maxout(image_units + label_units, hidden_units, hidden_pieces)
        self.out = nn.Linear(hidden_units, 1)
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, x, labels):
        y = F.one_hot(labels, self.num_classes).to(x.dtype)
        h = self.dropout(torch.cat([self.image(x.flatten(1)), self.label(y)], 1))
        return self.out(self.dropout(self.hidden(h)))[:, 0]


class LabelMap(nn.Module):
    """Embedding of y mapped by a linear layer to a one-channel H x W map."""

    def __init__(self, num_classes, embed_dim, height, width):
        super().__init__()
        self.size = (height, width)
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.linear = nn.Linear(embed_dim, height * width)

    def forward(self, labels):
        return self.linear(self.embed(labels)).view(-1, 1, *self.size)


class DCGANGenerator(nn.Module):
    """Linear projection to features[0] maps at image / 2^len(features), BN, ReLU, the label map
    concatenated; per further width a 4x4 stride-2 transposed convolution, BN, ReLU; a last one to the
    image channels, tanh (Radford et al. 2016)."""

    def __init__(self, num_classes, image_shape, latent_dim, features=(256, 128), embed_dim=50,
                 conditioning="concat", **unused):
        super().__init__()
        if conditioning != "concat":
            raise ValueError(f"the twin's DCGAN generator has conditioning 'concat' only, not {conditioning!r}")
        height, width, channels = image_shape
        scale = 2 ** len(features)
        self.base = (features[0], height // scale, width // scale)
        self.project = nn.Linear(latent_dim, math.prod(self.base))
        self.norm = nn.BatchNorm2d(features[0])
        self.label_map = LabelMap(num_classes, embed_dim, *self.base[1:])
        layers, c_in = [], features[0] + 1
        for f in features[1:]:
            layers += [nn.ConvTranspose2d(c_in, f, 4, 2, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU()]
            c_in = f
        layers += [nn.ConvTranspose2d(c_in, channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z, labels):
        h = F.relu(self.norm(self.project(z).view(-1, *self.base)))
        return self.body(torch.cat([h, self.label_map(labels)], 1))


class DCGANDiscriminator(nn.Module):
    """The label map concatenated with x ('concat') or no label ('none'); per width a 4x4 stride-2
    convolution (BN after all but the first if ``batch_norm``), LeakyReLU 0.2, dropout; a logit, and
    ``aux_classes`` class logits (AC-GAN)."""

    def __init__(self, num_classes, image_shape, features=(64, 128), embed_dim=50, conditioning="concat",
                 batch_norm=True, dropout_rate=0.0, aux_classes=0, spectral_norm=False, **unused):
        super().__init__()
        if conditioning not in ("concat", "none") or spectral_norm:
            raise ValueError("the twin's DCGAN discriminator has conditioning 'concat' or 'none', no spectral norm")
        height, width, channels = image_shape
        self.label_map = LabelMap(num_classes, embed_dim, height, width) if conditioning == "concat" else None
        layers, c_in = [], channels + (1 if self.label_map else 0)
        for i, f in enumerate(features):
            with_bn = batch_norm and i > 0
            layers.append(nn.Conv2d(c_in, f, 4, 2, 1, bias=not with_bn))
            if with_bn:
                layers.append(nn.BatchNorm2d(f))
            layers += [nn.LeakyReLU(0.2), nn.Dropout(dropout_rate)]
            c_in = f
        self.body = nn.Sequential(*layers)
        phi = c_in * (height // 2 ** len(features)) * (width // 2 ** len(features))
        self.logit = nn.Linear(phi, 1)
        self.aux = nn.Linear(phi, aux_classes) if aux_classes else None

    def forward(self, x, labels):
        if self.label_map is not None:
            x = torch.cat([x, self.label_map(labels)], 1)
        phi = self.body(x).flatten(1)
        logit = self.logit(phi)[:, 0]
        return (logit, self.aux(phi)) if self.aux is not None else logit


class _LabelConditional(Twin):
    networks_of = None  # (generator class, discriminator class)
    aux_classes = False

    def __init__(self, config, batch, num_classes, *, device="cpu", variant="eager"):
        super().__init__(device, variant)
        g_cls, d_cls = self.networks_of
        shape = batch["image"].shape[1:]
        g_kwargs = {k: v for k, v in config.model.generator.to_dict().items() if k != "name"}
        d_kwargs = {k: v for k, v in config.model.discriminator.to_dict().items() if k != "name"}
        if self.aux_classes:
            d_kwargs["aux_classes"] = num_classes
        self.G = g_cls(num_classes, shape, config.model.latent_dim, **g_kwargs)
        self.D = d_cls(num_classes, shape, **d_kwargs)
        self.networks = {"G": self.G, "D": self.D}
        self._finish()
        self.opt_g = adam(self.networks["G"].parameters(), config.optimizer.generator)
        self.opt_d = adam(self.networks["D"].parameters(), config.optimizer.discriminator)
        self.ema = GeneratorEMA(self.networks["G"], config.train.ema_decay) if config.train.ema_decay > 0 else None
        self.criterion = adversarial_criterion(config.loss.adversarial)
        self.class_weight = config.loss.get("classification_weight", 1.0)
        self.uniform = config.model.noise == "uniform"
        self.latent_dim = config.model.latent_dim
        self.x = image(batch["image"], device, self.channels_last)
        self.y = torch.from_numpy(batch["label"]).long().to(device)

    def _d_terms(self, out, real: bool):
        """Adversarial (+ AC-GAN's class) loss of D's output ``out`` on real or generated images."""
        logit, classes = out if self.aux_classes else (out, None)
        loss = self.criterion(logit, target_like(logit, 1.0 if real else 0.0))
        return loss if classes is None else loss + self.class_weight * F.cross_entropy(classes, self.y)

    def _iteration(self):
        n = self.y.shape[0]
        z = (torch.rand if self.uniform else torch.randn)(n, self.latent_dim, device=self.device)
        fake = self.G(z, self.y)
        set_requires_grad(self.networks["D"], True)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss = self._d_terms(self.D(self.x, self.y), True) + self._d_terms(self.D(fake.detach(), self.y), False)
        d_loss.backward()
        self.opt_d.step()
        set_requires_grad(self.networks["D"], False)
        self.opt_g.zero_grad(set_to_none=True)
        self._d_terms(self.D(fake, self.y), True).backward()  # Non-saturating / least-squares G target 1.
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update()


class MLPcGAN(_LabelConditional):
    networks_of = (MLPGenerator, MLPDiscriminator)


class DCGANcGAN(_LabelConditional):
    networks_of = (DCGANGenerator, DCGANDiscriminator)


class ACGAN(_LabelConditional):
    networks_of = (DCGANGenerator, DCGANDiscriminator)
    aux_classes = True
