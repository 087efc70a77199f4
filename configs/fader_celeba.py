"""Fader Networks (Lample et al. 2017) at the paper's setting: 256x256 CelebA faces.

    python -m jaxgan.main --config configs/fader_celeba.py --workdir runs/fader_celeba \
        --config.data.source=attrs:/path/to/celeba:Smiling,Male

``attrs:DIR:NAMES`` (``jaxgan.data.attributes``) reads CelebA's layout: ``DIR/list_attr_celeba.txt`` and
the images in ``DIR/images/``, each centre-cropped to 178x178 (the authors' ``preprocess.py`` crops rows
20:-20 of the 218x178 aligned faces, the same square) and resized to 256x256. NAMES are the attributes
to model (the code's ``--attr``, default ``Smiling,Male``; the README trains ``Male`` alone).

The paper and its code (facebookresearch/FaderNetworks): encoder C16-C32-C64-C128-C256-C512-C512
(conv 4x4 stride 2, batch norm after the first, LeakyReLU 0.2) from 256x256x3 to a 2x2x512 code, a
mirrored decoder with the attributes appended at every layer, latent discriminator C512 + FC 512 +
FC 2A with dropout 0.3; reconstruction MSE; lambda_E 0 -> 1e-4 over the first 500,000 iterations;
Adam(2e-4, 0.5, 0.999) on both sides; batch 32; gradients clipped to norm 5; horizontal flip;
1,000 epochs of 50,000 images (1,562,500 iterations).
"""

from jaxgan.config import base_config

ITERATIONS = 1000 * 50_000 // 32  # --n_epochs 1000 x --epoch_size 50000 at --batch_size 32.


def get_config():
    config = base_config()
    config.method = "fader"
    config.data.source = "attrs:/path/to/celeba:Smiling,Male"  # The code's --attr default.
    config.data.load_size = 256  # --img_sz 256 (the authors' preprocess.py resizes the aligned faces).
    config.data.crop_size = 256
    config.data.flip = True  # --h_flip True.
    config.model.generator = dict(name="fader_autoencoder", features=16, max_features=512, layers=7,
                                  norm="batch")  # Sec. 5: C16 .. C512, 2x2x512 code; --instance_norm False.
    config.model.discriminator = dict(name="latent_discriminator", features=512, hidden=512,
                                      dropout=0.3)  # Sec. 5: C512 + 2 FC; --hid_dim 512, --lat_dis_dropout 0.3.
    config.loss.lambda_ae = 1.0  # --lambda_ae 1.
    config.loss.lambda_lat_dis = 1e-4  # Sec. 5 / --lambda_lat_dis 0.0001.
    config.loss.lambda_latent_ramp_steps = 500_000  # Sec. 5 / --lambda_schedule 500000.
    config.loss.clip_grad_norm = 5.0  # --clip_grad_norm 5.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999))  # "adam,lr=0.0002".
    config.train.batch_size = 32  # --batch_size 32.
    config.train.steps = ITERATIONS
    config.train.log_every = 100
    config.train.sample_every = 5000
    config.train.checkpoint_every = 50_000 // 32  # An epoch.
    config.sample.examples = 4
    return config
