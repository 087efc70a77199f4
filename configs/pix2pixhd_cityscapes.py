"""pix2pixHD (Wang et al. 2018) at the paper's Cityscapes setting, on your own label-map folder.

    python -m jaxgan.main --config configs/pix2pixhd_cityscapes.py --workdir runs/pix2pixhd \
        --config.data.source=labelmap:/path/to/cityscapes --config.loss.vgg_weights=/path/to/vgg19.npz

The resolution is the authors' default 1024x512 (NVIDIA/pix2pixHD ``--netG global``, their
``train_512p.sh``): the global generator G1 alone, 2 discriminators. Give the folder images and maps
already resized to 1024x512 (Cityscapes' 2048x1024 halved; the code's ``scale_width`` to 1024);
``data.load_size`` resizes to squares only. The paper's 2048x1024 result adds the local enhancer:
``--config.model.generator.n_local_enhancers=1 --config.model.generator.features=32
--config.model.discriminator.num_d=3`` and ``model.niter_fix_global`` (the code's 20 epochs, in steps).

Defaults of the paper and its code: one-hot labels (Cityscapes' 35 label ids, ``classes.txt``) plus
the instance boundary map; G1 with ngf 64, 4 down-samplings, 9 residual blocks, instance norm; 2
PatchGANs (ndf 64, n_layers 3, instance norm, padding 2) on the image and its 2x down-sampled copy;
LSGAN; feature matching lambda 10; VGG lambda 10 (torchvision's VGG19 weights as an .npz:
``--config.loss.vgg_weights=/path/to/vgg19.npz``, recipe in ``jaxgan.perceptual``); Adam(2e-4, b1 0.5);
batch 1; flip; 100 epochs at the rate, then 100 decaying linearly to 0. Cityscapes has 2975 training
images: 200 epochs are 595,000 steps at batch 1.
"""

from jaxgan.config import base_config

EPOCH = 2975  # Steps per epoch at batch 1: Cityscapes' training images.


def get_config():
    config = base_config()
    config.method = "pix2pixhd"
    config.data.source = "labelmap:/path/to/cityscapes"  # Override with --config.data.source=labelmap:DIR.
    config.data.flip = True  # pix2pixHD: flip unless --no_flip.
    config.model.generator = dict(name="pix2pixhd_generator", features=64, n_downsampling=4, n_blocks=9,
                                  n_local_enhancers=0, n_blocks_local=3)  # --netG global, ngf 64.
    config.model.discriminator = dict(name="multiscale_discriminator", num_d=2, features=64, n_layers=3,
                                      norm="instance", padding=2)  # --num_D 2, ndf 64, --n_layers_D 3.
    config.model.use_instance_map = True  # pix2pixHD: boundaries unless --no_instance.
    config.model.niter_fix_global = 0  # --niter_fix_global (steps here); for the local enhancer only.
    config.loss.adversarial = "least_squares"  # LSGAN (the code's default, --no_lsgan off).
    config.loss.adversarial_weight = 2.0  # The code's MSELoss E[(D - 1)^2] = 2 x Mao et al.'s 1/2 E[(D - 1)^2].
    config.loss.lambda_feat = 10.0  # Wang et al. 2018, eq. 5 (--lambda_feat 10).
    config.loss.vgg_weight = 10.0  # Wang et al. 2018, eq. 5 (the code's lambda_feat for VGGLoss too).
    config.loss.vgg_weights = ""  # Required: --config.loss.vgg_weights=/path/to/vgg19.npz.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999,  # --lr 2e-4, --beta1 0.5.
                                           linear_decay=True,
                                           decay_start=100 * EPOCH))  # --niter 100, --niter_decay 100.
    config.train.batch_size = 1  # --batchSize 1.
    config.train.steps = 200 * EPOCH
    config.train.log_every = 100
    config.train.sample_every = 5 * EPOCH
    config.train.checkpoint_every = 5 * EPOCH
    config.sample.examples = 4
    return config
