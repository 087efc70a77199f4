"""pix2pix (Isola et al. 2017) at the paper's setting, on your own A|B folder (e.g. CMP Facades).

    python -m jaxgan.main --config configs/pix2pix_facades.py --workdir runs/facades \
        --config.data.source=paired:/path/to/facades

Defaults of the paper and of its code (junyanz/pytorch-CycleGAN-and-pix2pix, ``--model pix2pix``):
unet_256 G with dropout, 70x70 PatchGAN D (n_layers 3) on the (input, output) pair, batch norm,
the vanilla GAN loss, lambda_L1 100, D's loss halved, D then G, Adam(2e-4, b1 0.5), batch 1,
load 286 -> random crop 256 + flip, 100 epochs at the rate then 100 decaying linearly to 0.
Facades has 400 training pairs, so 200 epochs are 80,000 steps at batch 1 (set train.steps and
both decay_start values for another dataset: steps = epochs x pairs / batch). The facades files
hold the photo on the left and the label map on the right: the paper translates labels -> photo,
``data.direction='BtoA'``.
"""

from jaxgan.config import base_config

EPOCH = 400  # Steps per epoch at batch 1: the 400 training pairs of CMP Facades.


def get_config():
    config = base_config()
    config.method = "pix2pix"
    config.data.source = "paired:/path/to/facades"  # Override with --config.data.source=paired:DIR.
    config.data.direction = "BtoA"  # Facades: label map (B) -> photo (A), as the paper.
    config.data.load_size = 286  # junyanz: --load_size 286.
    config.data.crop_size = 256  # junyanz: --crop_size 256.
    config.data.flip = True  # junyanz: flip unless --no_flip.
    config.model.generator = dict(name="unet_generator", num_downs=8, features=64, norm="batch",
                                  dropout=0.5, test_time_dropout=True)  # unet_256, ngf 64, dropout 0.5.
    config.model.discriminator = dict(name="patchgan_discriminator", features=64, n_layers=3,
                                      norm="batch")  # 70x70 PatchGAN, ndf 64.
    config.loss.adversarial = "non_saturating"  # The paper's 'vanilla' cGAN loss (G maximises log D).
    config.loss.lambda_l1 = 100.0  # Isola et al. 2017, sec. 4.
    config.loss.adversarial_weight = 1.0  # 0: the L1-only baseline.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999,  # Adam, sec. 3.3.
                                           linear_decay=True, decay_start=100 * EPOCH))  # 100 + 100 epochs.
    config.train.batch_size = 1  # The paper's facades batch.
    config.train.steps = 200 * EPOCH
    config.train.log_every = 100
    config.train.sample_every = 2 * EPOCH
    config.train.checkpoint_every = 5 * EPOCH
    config.sample.examples = 4
    return config
