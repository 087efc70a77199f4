"""pix2pix (Isola et al. 2017) on the built-in edges -> digit task (``builtin:mnist/edges2digit``).

The paper's networks shrunk to the task: the 28x28 images are resized to 32x32 (bicubic) so a
5-level U-Net (32 -> 1) fits, ngf = ndf = 32, a PatchGAN with n_layers 2 (a 34x34 receptive
field: at 32x32 the 70x70 patch would see the whole image). Everything else is the paper's: the
vanilla GAN loss, lambda_L1 100, D's loss halved, D then G, Adam(2e-4, b1 0.5), dropout at test
time. Batch 16 instead of 1 (CPU time). Variant ``:l1``: the same G with the adversarial weight 0,
the paper's L1-only baseline (Table 1), to show side by side the blur the adversarial term removes.
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError


def get_config(variant: str = ""):
    config = base_config()
    config.method = "pix2pix"
    config.data.source = "builtin:mnist/edges2digit"
    config.data.load_size = 32  # 28 -> 32, no crop or flip: the digit's position and handedness matter.
    config.data.crop_size = 32
    config.model.generator = dict(name="unet_generator", num_downs=5, features=32, norm="batch",
                                  dropout=0.5, test_time_dropout=True)
    config.model.discriminator = dict(name="patchgan_discriminator", features=32, n_layers=2, norm="batch")
    config.loss.adversarial = "non_saturating"  # The paper's 'vanilla' loss.
    config.loss.lambda_l1 = 100.0  # Isola et al. 2017.
    config.loss.adversarial_weight = 1.0
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999))
    config.train.batch_size = 16
    config.train.steps = 3000
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    if variant == "l1":
        config.loss.adversarial_weight = 0.0  # The L1-only baseline.
    elif variant:
        raise ConfigError(f"unknown variant {variant!r} of pix2pix_mnist_edges; the one variant is 'l1'")
    return config
