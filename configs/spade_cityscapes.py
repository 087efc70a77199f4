"""SPADE (Park et al. 2019) at the Cityscapes setting of the authors' code, on your own label-map folder.

    python -m jaxgan.main --config configs/spade_cityscapes.py --workdir runs/spade \
        --config.data.source=labelmap:/path/to/cityscapes --config.loss.vgg_weights=/path/to/vgg19.npz

Resolution 512x256, the code's Cityscapes default (NVlabs/SPADE ``data/cityscapes_dataset.py``:
crop_size 512, aspect_ratio 2, ``preprocess_mode='fixed'``): give the folder images and maps resized
to 512x256 (``data.load_size`` resizes to squares only). From the code's options: 35 label classes
(``classes.txt``) plus instance edges; the SPADE generator with ngf 64, 6 up-samplings
(``num_upsampling_layers='more'`` for Cityscapes: 8x4 at the start), SPADE hidden width 128,
synchronised batch norm, spectral norm; 2 PatchGANs of ndf 64 with spectral and instance norm (the
code's ``n_layers_D`` 4 = 3 stride-2 convolutions + 1 stride-1, our ``n_layers=3``); hinge loss,
feature matching lambda 10, VGG lambda 10; TTUR Adam (G 1e-4, D 4e-4, betas 0 and 0.9; the paper's
text gives b2 0.999, the code 0.9); batch 16; flip. Epochs: 100 at the rate + 100 decaying to 0
(pix2pixHD's schedule; SPADE's code defaults to --niter 50 --niter_decay 0 and its README gives no
Cityscapes schedule: an assumption). Variant ``:vae``: the style encoder (multi-modal synthesis), KL
weight 0.05 (the code's --lambda_kld).
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError

EPOCH = 2975 // 16  # Steps per epoch: Cityscapes' 2975 training images at batch 16.


def get_config(variant: str = ""):
    config = base_config()
    config.method = "spade"
    config.data.source = "labelmap:/path/to/cityscapes"  # Override with --config.data.source=labelmap:DIR.
    config.data.flip = True  # The code flips unless --no_flip.
    config.model.generator = dict(name="spade_generator", features=64, num_upsampling_layers="more", hidden=128,
                                  norm="batch", spectral_norm=True)  # norm_G spectralspadesyncbatch3x3.
    config.model.discriminator = dict(name="multiscale_discriminator", num_d=2, features=64, n_layers=3,
                                      norm="instance", spectral_norm=True, padding=2)  # norm_D spectralinstance.
    config.model.use_instance_map = True  # The code: instance edges unless --no_instance.
    config.model.use_vae = False
    config.model.z_dim = 256  # --z_dim 256.
    config.model.encoder = dict(name="style_encoder", features=64, n_layers=6, input_size=256,
                                spectral_norm=True)  # ConvEncoder: ngf 64, layer6 for crop >= 256.
    config.loss.adversarial = "hinge"  # --gan_mode hinge.
    config.loss.adversarial_weight = 1.0
    config.loss.lambda_feat = 10.0  # --lambda_feat 10.
    config.loss.vgg_weight = 10.0  # --lambda_vgg 10.
    config.loss.vgg_weights = ""  # Required: --config.loss.vgg_weights=/path/to/vgg19.npz (jaxgan.perceptual).
    config.loss.kl_weight = 0.05  # --lambda_kld 0.05 (with use_vae).
    for side, lr in (("generator", 1e-4), ("discriminator", 4e-4)):  # TTUR: lr / 2 and lr * 2 of --lr 2e-4.
        config.optimizer[side].update(dict(learning_rate=lr, b1=0.0, b2=0.9, linear_decay=True,
                                           decay_start=100 * EPOCH))
    config.train.batch_size = 16  # The code's Cityscapes batch.
    config.train.steps = 200 * EPOCH
    config.train.log_every = 100
    config.train.sample_every = 10 * EPOCH
    config.train.checkpoint_every = 10 * EPOCH
    config.sample.examples = 4
    if variant == "vae":
        config.model.use_vae = True
    elif variant:
        raise ConfigError(f"unknown variant {variant!r} of spade_cityscapes; the one variant is 'vae'")
    return config
