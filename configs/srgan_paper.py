"""SRGAN (Ledig et al. 2017) at the paper's setting on your own high-resolution images.

    python -m jaxgan.main --config configs/srgan_paper.py --workdir runs/srgan \
        --config.data.source=images:/path/to/hr --config.loss.vgg_weights=/path/to/vgg19.npz

``images:DIR`` holds the HR images (``DIR/train``, ``DIR/test`` or directly in DIR), all of one size
(jaxgan does not resize: cut or resize them beforehand; the paper takes random crops of 350,000
ImageNet images of any size). Each step takes a random 96x96 HR crop of 16 images and makes the LR
input by bicubic 4x downsampling after the crop (``data.downscale``; Ledig et al. 2017, sec. 3.2).
The VGG19 weights file: see ``jaxgan.perceptual`` (a 3-line torchvision export).

Paper defaults (sec. 3.2): SRResNet G with B = 16 residual blocks of 64 channels, two sub-pixel x2
layers; D with 8 convs 64 -> 512 and dense 1024; l_SR = l_VGG/5,4 + 10^-3 l_Gen (SRGAN-VGG54, phi_5,4
rescaled by 1/12.75); Adam(1e-4, b1 0.9); batch 16; G pre-trained as SRResNet-MSE for 10^6 updates
(``model.pretrain_steps``), then 10^5 SRGAN updates at 1e-4 and 10^5 at 1e-5. Departures: the
inputs are in [-1, 1] (the paper: LR in [0, 1]; an affine map the first conv absorbs); jaxgan's
optimizers have no step decay, so the last 10^5 updates at 1e-5 are a resume: run to
train.steps=1100000, then rerun the same command with --config.train.steps=1200000
--config.optimizer.generator.learning_rate=1e-5 --config.optimizer.discriminator.learning_rate=1e-5
(the schedule is recomputed from the saved update count, so the resume is the paper's drop).
Variant ``:srresnet``: SRResNet-MSE alone, 10^6 updates, adversarial weight 0.
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError

PRETRAIN = 1_000_000  # SRResNet updates (Ledig et al. 2017, sec. 3.2).


def get_config(variant: str = ""):
    config = base_config()
    config.method = "srgan"
    config.data.source = "images:/path/to/hr"  # Override with --config.data.source=images:DIR.
    config.data.crop_size = 96  # 96x96 HR sub-images (sec. 3.2).
    config.data.downscale = 4  # LR = bicubic 4x downsampling of the HR crop (r = 4).
    config.model.generator = dict(name="srresnet_generator", residual_blocks=16, features=64,
                                  upsample_features=256)  # B = 16, k3n64; k3n256 before each PixelShuffle x2.
    config.model.discriminator = dict(name="srgan_discriminator", stages=4, features=64,
                                      dense_features=1024)  # k3n64 .. k3n512, dense 1024 (fig. 4).
    config.model.pretrain_steps = PRETRAIN
    config.loss.adversarial = "non_saturating"  # -log D(G(I_LR)), eq. 6.
    config.loss.content = "vgg"  # l_VGG/5,4 (SRGAN-VGG54, the paper's best).
    config.loss.content_weight = 1.0
    config.loss.adversarial_weight = 1e-3  # eq. 3.
    config.loss.vgg_weights = ""  # Required: --config.loss.vgg_weights=/path/to/vgg19.npz.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=1e-4, b1=0.9, b2=0.999))  # Adam, beta1 0.9.
    config.train.batch_size = 16  # sec. 3.2.
    config.train.steps = PRETRAIN + 100_000  # + 10^5 at 1e-5 by the resume in the docstring.
    config.train.log_every = 1000
    config.train.sample_every = 10_000
    config.train.checkpoint_every = 10_000
    config.sample.examples = 4
    if variant == "srresnet":
        config.loss.content = "mse"
        config.loss.adversarial_weight = 0.0
        config.model.pretrain_steps = 0
        config.train.steps = PRETRAIN  # 10^6 updates at 1e-4.
    elif variant:
        raise ConfigError(f"unknown variant {variant!r} of srgan_paper; the one variant is 'srresnet'")
    return config
