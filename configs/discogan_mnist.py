"""DiscoGAN (Kim et al. 2017) as a config of the CycleGAN method, on the built-in digit domains thin
upright <-> thick slanted (``builtin:mnist/plain`` | ``builtin:mnist/thick_slanted``).

DiscoGAN couples two GANs with reconstruction losses as CycleGAN does (its G_AB, G_BA, D_A, D_B):

    L_G = L_GAN_B + L_GAN_A + L_CONST_A + L_CONST_B,   L_CONST_A = d(G_BA(G_AB(x_A)), x_A)

with the GAN loss of Goodfellow et al. (the authors' code, SKTBrain/DiscoGAN: BCE, G's target 1 =
'non_saturating', D's real and fake terms each weighted 0.5), the distance d the squared error
(``loss.cycle_norm`` 'l2'; the code's MSELoss), unit weights, no identity loss and no image pool;
Adam(2e-4, betas 0.5, 0.999) as the code.

Networks: DiscoGAN's G is an encoder-decoder without skip connections (4x4 stride-2 convolutions
with batch norm and leaky ReLU down, transposed ones back up); here the ResNet translator with 0
residual blocks and batch norm is that encoder-decoder (3x3 kernels, 7x7 stem and head, ReLU), 3
stride-2 levels from 32x32 to 4x4 as the code's 64x64 to 4x4. D is a 4x4 stride-2 conv stack with
batch norm; the PatchGAN with n_layers 3 here has a 70x70 receptive field, so each of its logits
sees the whole 32x32 digit like DiscoGAN's one logit per image.

Not as DiscoGAN's code: its feature-matching term (0.9 of the GAN loss) and the reconstruction-weight
curriculum (0.01 for 10,000 iterations, then 0.5), weight decay 1e-5, and its schedule of one D update
per three iterations; batch 16 (the code: 64) for CPU time.

``:code`` trains as the authors' code does (configs/discogan_paper.py at 32x32): its encoder-decoder G
(3 levels to 4x4, widths 32-64-128) and DCGAN D (one logit), 0.1 GAN + 0.9 feature matching, the rates
0.01 then 0.5 (the curriculum scaled to a third of the run: 1,000 of 3,000 steps; the code's 10,000
iterations are a count, its runs have no fixed end), the reconstruction MSE at 0.25 (the code's on [0, 1]
images), two G updates per D update, weight decay 1e-5, batch 64.
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError


def get_config(variant: str = ""):
    if variant not in ("", "code"):
        raise ConfigError(f"unknown variant {variant!r} of discogan_mnist; the one variant is 'code'")
    config = base_config()
    config.method = "cyclegan"
    config.data.source = "domains:builtin:mnist/plain|builtin:mnist/thick_slanted"
    config.data.load_size = 32  # 28 -> 32: three stride-2 levels.
    config.data.crop_size = 32
    config.model.generator = dict(name="resnet_translator", features=16, blocks=0, downsamplings=3, norm="batch")
    config.model.discriminator = dict(name="patchgan_discriminator", features=16, n_layers=3, norm="batch")
    config.model.pool_size = 0  # DiscoGAN has no image pool.
    config.loss.adversarial = "non_saturating"  # Kim et al. 2017: BCE, G's target 1.
    config.loss.adversarial_weight = 1.0
    config.loss.lambda_a = 1.0  # Kim et al. 2017: L_G = L_GAN + L_CONST, unit weights.
    config.loss.lambda_b = 1.0
    config.loss.lambda_identity = 0.0  # No identity loss.
    config.loss.cycle_norm = "l2"  # Kim et al. 2017: squared error (MSE).
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999))  # The code's Adam.
    config.train.batch_size = 16
    config.train.steps = 3000
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    if variant == "code":  # SKTBrain/DiscoGAN, as configs/discogan_paper.py says line by line.
        config.model.generator = dict(name="encoder_decoder_translator", features=32, layers=3, norm="batch")
        config.model.discriminator = dict(name="patchgan_discriminator", variant="dcgan", features=32,
                                          n_layers=3, norm="batch")
        config.loss.feature_matching_fraction = 0.9
        config.loss.lambda_a = config.loss.lambda_b = 0.25
        config.loss.starting_rate, config.loss.default_rate, config.loss.gan_curriculum = 0.01, 0.5, 1000
        for side in ("generator", "discriminator"):
            config.optimizer[side].weight_decay = 1e-5
        config.train.n_generator = 2
        config.train.batch_size = 64
    return config
