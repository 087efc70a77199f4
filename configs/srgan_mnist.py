"""SRGAN (Ledig et al. 2017) on the built-in 4x super-resolution task (``builtin:mnist/sr4x``: 7x7 -> 28x28).

The paper's method shrunk for the CPU: the SRResNet G with 6 residual blocks of 32 channels (the paper:
16 of 64) and 128-channel sub-pixel layers (256), D with 2 conv stages of 32 and 64 channels (the
paper: 4 stages, 64 -> 512; 28x28 halves only twice to 7x7) and a 256-unit dense layer (1024).
As the paper: l_SR = l_X + 10^-3 l_Gen with the non-saturating l_Gen, D's loss not halved, D then G,
Adam(1e-4, b1 0.9), batch 16, G pre-trained as SRResNet-MSE first (``model.pretrain_steps``, here
2000 of 4000 steps; the paper 10^6 SRResNet updates, then 10^5 + 10^5 SRGAN updates). The input is
the 4x4 box average of the digit (the paper: bicubic downsampling; see jaxgan.data.derived).
The content loss is pixel MSE (SRGAN-MSE of the paper's table 2): phi = VGG19 needs ImageNet
weights and RGB photographs.

Variants:
* ``:srresnet``: SRResNet-MSE, the adversarial weight 0 and no pre-training phase (the paper's
  baseline; its D still trains, only to report how well it tells the outputs from real digits).
* ``:classifier``: SRGAN with phi = the project's MNIST classifier's 128-d features as content loss
  (the built-in stand-in for phi_5,4). The evaluation's FCD uses that same network's features: its
  FCD is then not an independent measure.
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError


def get_config(variant: str = ""):
    config = base_config()
    config.method = "srgan"
    config.data.source = "builtin:mnist/sr4x"
    config.model.generator = dict(name="srresnet_generator", residual_blocks=6, features=32, upsample_features=128)
    config.model.discriminator = dict(name="srgan_discriminator", stages=2, features=32, dense_features=256)
    config.model.pretrain_steps = 2000  # SRResNet-MSE phase before SRGAN (Ledig et al. 2017, sec. 3.2).
    config.loss.adversarial = "non_saturating"  # -log D(G(I_LR)), eq. 6.
    config.loss.content = "mse"  # l_MSE, eq. 4 (SRGAN-MSE).
    config.loss.content_weight = 1.0
    config.loss.adversarial_weight = 1e-3  # Ledig et al. 2017, eq. 3.
    config.loss.vgg_weights = ""  # Path of a VGG19 .npz for loss.content='vgg' (jaxgan.perceptual).
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=1e-4, b1=0.9, b2=0.999))  # Adam, sec. 3.2.
    config.train.batch_size = 16  # Ledig et al. 2017: 16 sub-images per mini-batch.
    config.train.steps = 4000
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    if variant == "srresnet":
        config.loss.adversarial_weight = 0.0
        config.model.pretrain_steps = 0
    elif variant == "classifier":
        config.loss.content = "mnist_classifier"
    elif variant:
        raise ConfigError(f"unknown variant {variant!r} of srgan_mnist; the variants are 'srresnet' and 'classifier'")
    return config
