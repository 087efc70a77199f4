"""SPADE (Park et al. 2019) on the built-in label-map scenes (``builtin:mnist/scenes``: 64x64, 11
classes, instance maps), small enough for a CPU.

The code's method with its networks shrunk: ngf 8 (code 64: widths 128, 64, 32, 16, 8 from the 2x2 start
of 5 up-samplings; at ngf 8 a step costs about what configs/pix2pixhd_scenes.py's does, 202 against 165
ms on 2 idle CPU cores, the budget of the comparison in benchmarks/RESULTS.md), SPADE hidden width 16
(code 128); two PatchGANs of ndf 16 (code 64) with n_layers 2 (code 3 here, its n_layers_D 4: a 34x34
receptive field on 64x64 scenes); batch 8 (code 16 on Cityscapes). The rest is the code's: synchronised
batch norm in SPADE, spectral norm in G's blocks and D, hinge loss, feature matching lambda 10, TTUR
Adam (G 1e-4, D 4e-4, betas 0 and 0.9), constant then linear decay over the second half. VGG is off: it
needs ImageNet VGG19 weights, which do not ship with jaxgan (``--config.loss.vgg_weight=10
--config.loss.vgg_weights=vgg19.npz``: on). Variant ``:vae``: the style encoder (4 stride-2 layers on
the 64x64 image, z_dim 32; code 256), KL weight 0.05.
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError

STEPS = 4000


def get_config(variant: str = ""):
    config = base_config()
    config.method = "spade"
    config.data.source = "builtin:mnist/scenes"
    config.model.generator = dict(name="spade_generator", features=8, num_upsampling_layers="normal", hidden=16,
                                  norm="batch", spectral_norm=True)
    config.model.discriminator = dict(name="multiscale_discriminator", num_d=2, features=16, n_layers=2,
                                      norm="instance", spectral_norm=True, padding=2)
    config.model.use_instance_map = True
    config.model.use_vae = False
    config.model.z_dim = 32
    config.model.encoder = dict(name="style_encoder", features=8, n_layers=4, input_size=64, spectral_norm=True)
    config.loss.adversarial = "hinge"  # Park et al. 2019.
    config.loss.adversarial_weight = 1.0
    config.loss.lambda_feat = 10.0
    config.loss.vgg_weight = 0.0  # Code: 10, with ImageNet VGG19 weights (none ship with jaxgan).
    config.loss.vgg_weights = ""
    config.loss.kl_weight = 0.05  # The code's --lambda_kld.
    for side, lr in (("generator", 1e-4), ("discriminator", 4e-4)):  # TTUR.
        config.optimizer[side].update(dict(learning_rate=lr, b1=0.0, b2=0.9, linear_decay=True,
                                           decay_start=config.train.get_ref("steps") // 2))
    config.train.batch_size = 8
    config.train.steps = STEPS
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    config.sample.examples = 4
    if variant == "vae":
        config.model.use_vae = True
    elif variant:
        raise ConfigError(f"unknown variant {variant!r} of spade_scenes; the one variant is 'vae'")
    return config
