"""ComboGAN (Anoosheh et al. 2018) at the paper's setting, on your own domain folders in the authors' layout
(DIR/trainA, DIR/trainB, DIR/trainC, ... and testA, testB, ...; e.g. the four seasons of their Alps set):

    python -m jaxgan.main --config configs/combogan_paper.py --workdir runs/alps \
        --config.data.source=unpaired:/path/to/alps

Defaults of the paper and its code (AAnoosheh/ComboGAN, scripts/train_combogan.sh): per domain a
resnet_9blocks generator (ngf 64, instance norm) split into an encoder of 9 // 2 = 4 residual blocks and
a decoder of 5, a 70x70 PatchGAN (ndf 64, CycleGAN's D, which the paper reuses), least squares, lambda_cycle 10,
no identity loss, pools of 50 per domain, G then D, Adam(2e-4, b1 0.5), batch 1, load 286 -> random
crop 256 + flip; for 4 domains 200 epochs at the rate and 200 decaying linearly to 0 (--niter 200
--niter_decay 200, "try 50*n_domains"). An epoch is EPOCH steps at batch 1 (the authors' loader walks
the largest domain once): set it for your data (train.steps and decay_start follow).
"""

from jaxgan.config import base_config

EPOCH = 1000  # Steps per epoch at batch 1: the number of images of your largest domain.
NITER = NITER_DECAY = 200  # scripts/train_combogan.sh for 4 domains.


def get_config():
    config = base_config()
    config.method = "combogan"
    config.data.source = "unpaired:/path/to/alps"  # Override with --config.data.source=unpaired:DIR.
    config.data.load_size = 286  # --loadSize 286.
    config.data.crop_size = 256  # --fineSize 256.
    config.data.flip = True  # Flip unless --no_flip.
    config.model.encoder = dict(name="resnet_encoder", features=64, blocks=4, norm="instance")  # --ngf 64, 9 // 2.
    config.model.decoder = dict(name="resnet_decoder", features=64, blocks=5, norm="instance")  # 9 - 9 // 2.
    config.model.discriminator = dict(name="patchgan_discriminator", features=64, n_layers=3,
                                      norm="instance")  # 70x70 PatchGAN, ndf 64.
    config.model.pool_size = 50  # --pool_size 50.
    config.loss.adversarial = "least_squares"  # LSGAN (default; --no_lsgan off).
    config.loss.adversarial_weight = 2.0  # The code's MSE against jaxgan's halved least-squares terms.
    config.loss.lambda_cycle = 10.0  # --lambda_cycle 10.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999,  # --lr 0.0002, --beta1 0.5.
                                           linear_decay=True, decay_start=NITER * EPOCH))
    config.train.batch_size = 1  # --batchSize 1.
    config.train.steps = (NITER + NITER_DECAY) * EPOCH
    config.train.log_every = 100
    config.train.sample_every = 2 * EPOCH
    config.train.checkpoint_every = 5 * EPOCH  # --save_epoch_freq 5.
    config.sample.examples = 4
    return config
