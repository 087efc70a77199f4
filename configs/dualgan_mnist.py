"""DualGAN (Yi et al. 2017) as a config of the CycleGAN method, on the built-in digit domains thin
upright <-> thick slanted (``builtin:mnist/plain`` | ``builtin:mnist/thick_slanted``).

    python -m jaxgan.main --config configs/dualgan_mnist.py --workdir runs/dualgan        # the paper's WGAN
    python -m jaxgan.main --config configs/dualgan_mnist.py:code --workdir runs/dualgan   # the released code's GAN

Two variants, because the paper and the authors' released code train differently, and at this budget only
the code's works (RESULTS.md: 3,000 G updates each; the paper's learns a near-identity map, domain
fidelity 0.0 A->B; the code's keeps 96.3% / 94.8% of the digits with 97.0% / 99.5% read as the target).

DualGAN is CycleGAN's two-generator, two-discriminator cycle (the paper's primal G_A: U -> V and
dual G_B: V -> U, reconstruction errors weighted by lambda_U and lambda_V) with other parts:

* generators: pix2pix's U-Net with batch norm and dropout, kept at test time (the authors' code,
  duxingren14/DualGAN ``fcn``: unet_256 with dropout on the 3 decoder layers next to the bottleneck),
  here shrunk to 5 levels at ngf 32 for 32x32 digits;
* discriminators: the 70x70 PatchGAN with batch norm (the code's ``discriminator``), here n_layers 2;
* loss: the Wasserstein critic of the paper (Arjovsky et al. 2017) with weight clipping
  c = 0.01 (``loss.weight_clip``) and RMSProp at 5e-5 (the paper and the code: Adam-style momentum
  made training unstable); the code's decay 0.9 (``b2``);
* L1 reconstruction (the code's default ``--loss_metric L1``) weighted 20 in both directions (the
  code's ``--lambda_A 20 --lambda_B 20``);
* no identity loss and no image pool (D sees the latest translations).

Not as DualGAN (see the jaxgan README): the paper trains the critic n_critic times per generator update
(here ``train.n_critic`` = 2, each critic update on its own batch) and states lambda_U, lambda_V in the
hundreds, not verified here against the paper text; the authors' released code instead uses the
sigmoid cross-entropy GAN loss without clipping and makes two G updates per D update. "The code" here is
duxingren14/DualGAN as of August 2017 (3139ecf: ``--lambda_A 20``); its April 2017 version used WGAN
clipping with lambda 200 and n_critic 3, its 2020 version defaults to WGAN-GP, lambda 500 and a D with
one global logit. The method
halves each critic's loss (CycleGAN's convention): RMSProp divides the gradient by its running RMS,
so a constant factor on D's loss leaves D's updates unchanged up to the epsilon. Batch 16 (the
paper: 1 to 4) for CPU time. The method updates G then D within a step (DualGAN's code: D then G).
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError


def get_config(variant: str = ""):
    if variant not in ("", "code"):
        raise ConfigError(f"unknown variant {variant!r} of dualgan_mnist; the one variant is 'code'")
    config = base_config()
    config.method = "cyclegan"
    config.data.source = "domains:builtin:mnist/plain|builtin:mnist/thick_slanted"
    config.data.load_size = 32  # 28 -> 32: the 5-level U-Net needs a multiple of 32.
    config.data.crop_size = 32
    config.model.generator = dict(name="unet_generator", num_downs=5, features=32, norm="batch",
                                  dropout=0.5, test_time_dropout=True)
    config.model.discriminator = dict(name="patchgan_discriminator", features=32, n_layers=2, norm="batch")
    config.model.pool_size = 0  # DualGAN has no image pool.
    config.loss.adversarial = "wasserstein"  # Yi et al. 2017, sec. 3 (WGAN loss).
    config.loss.weight_clip = 0.01  # Arjovsky et al. 2017's c (WGAN critic clipping).
    config.loss.adversarial_weight = 1.0
    config.loss.lambda_a = 20.0  # duxingren14/DualGAN: --lambda_A 20.
    config.loss.lambda_b = 20.0  # --lambda_B 20.
    config.loss.lambda_identity = 0.0  # No identity loss.
    config.loss.cycle_norm = "l1"  # --loss_metric L1.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(name="rmsprop", learning_rate=5e-5, b2=0.9))  # RMSProp 5e-5, decay 0.9.
    config.train.n_critic = 2
    config.train.batch_size = 16
    config.train.steps = 6000  # 3000 generator updates.
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    if variant == "code":
        # duxingren14/DualGAN model.py: sigmoid cross-entropy GAN loss (D: real 1, fake 0; G: fake 1, the
        # non-saturating form), no clipping; one D update, then two G updates, per batch (here one G update
        # per D update: the engine updates G at most once per step); RMSProp and lambda 20 as above.
        config.loss.adversarial = "non_saturating"
        config.loss.weight_clip = 0.0
        config.train.n_critic = 1
        config.train.steps = 3000  # 3000 generator updates, as the paper variant's 6000 steps.
    return config
