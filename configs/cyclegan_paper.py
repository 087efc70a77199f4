"""CycleGAN (Zhu et al. 2017) at the paper's setting, on your own folder in CycleGAN's layout
(DIR/trainA, DIR/trainB, DIR/testA, DIR/testB; e.g. horse2zebra):

    python -m jaxgan.main --config configs/cyclegan_paper.py --workdir runs/horse2zebra \
        --config.data.source=unpaired:/path/to/horse2zebra

Defaults of the paper and of its code (junyanz/pytorch-CycleGAN-and-pix2pix, ``--model cycle_gan``):
resnet_9blocks G_A and G_B (ngf 64), 70x70 PatchGAN D_A and D_B (ndf 64, n_layers 3), instance norm,
least-squares GAN loss, lambda_A = lambda_B = 10, identity 0.5, each D's loss halved, G then D,
image pools of 50, Adam(2e-4, b1 0.5), batch 1, load 286 -> random crop 256 + flip, 100 epochs at
the rate then 100 decaying linearly to 0. An epoch is the larger domain once (the reference's
unaligned dataset): 1334 steps at batch 1 for horse2zebra's 1067 horses and 1334 zebras; set EPOCH
for your data (train.steps and both decay_start follow from it).
"""

from jaxgan.config import base_config

EPOCH = 1334  # Steps per epoch at batch 1: max(|trainA|, |trainB|) of horse2zebra.


def get_config():
    config = base_config()
    config.method = "cyclegan"
    config.data.source = "unpaired:/path/to/horse2zebra"  # Override with --config.data.source=unpaired:DIR.
    config.data.load_size = 286  # junyanz: --load_size 286.
    config.data.crop_size = 256  # junyanz: --crop_size 256.
    config.data.flip = True  # junyanz: flip unless --no_flip.
    config.model.generator = dict(name="resnet_translator", features=64, blocks=9,
                                  norm="instance")  # resnet_9blocks, ngf 64, instance norm, no dropout.
    config.model.discriminator = dict(name="patchgan_discriminator", features=64, n_layers=3,
                                      norm="instance")  # 70x70 PatchGAN (basic), ndf 64.
    config.model.pool_size = 50  # junyanz: --pool_size 50 (Shrivastava et al. 2017's history).
    config.loss.adversarial = "least_squares"  # Zhu et al. 2017, sec. 4 (junyanz: --gan_mode lsgan).
    # jaxgan's least_squares terms are 1/2 (D - 1)^2: weight 2 gives the paper's (D(G(x)) - 1)^2 for G
    # (and the reference's 0.5 (MSE_real + MSE_fake) for each D), in balance with lambda = 10.
    config.loss.adversarial_weight = 2.0
    config.loss.lambda_a = 10.0  # Zhu et al. 2017, sec. 4 (junyanz: --lambda_A 10).
    config.loss.lambda_b = 10.0  # junyanz: --lambda_B 10.
    config.loss.lambda_identity = 0.5  # Sec. 5.2: 0.5 x lambda (junyanz: --lambda_identity 0.5).
    config.loss.cycle_norm = "l1"  # Eq. 2: L1.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999,  # Adam, sec. 4.
                                           linear_decay=True, decay_start=100 * EPOCH))  # 100 + 100 epochs.
    config.train.batch_size = 1  # Sec. 4: batch size 1.
    config.train.steps = 200 * EPOCH
    config.train.log_every = 100
    config.train.sample_every = 2 * EPOCH
    config.train.checkpoint_every = 5 * EPOCH
    # XLA:CPU: Eigen's convolutions run this step 1.8x faster than YNNPACK's (benchmarks/RESULTS.md).
    config.train.cpu_ynnpack = False
    config.sample.examples = 4
    return config
