"""ComboGAN (Anoosheh et al. 2018) among 4 built-in digit domains: plain, negative, edges and thick slanted
(``domains:builtin:mnist/plain|builtin:mnist/negative|builtin:mnist/edges|builtin:mnist/thick_slanted``):
4 encoders, 4 decoders and 4 discriminators translate all 12 directions (pairwise CycleGANs would need 12
generators).

    python -m jaxgan.main --config configs/combogan_mnist.py --workdir runs/combogan_mnist

The paper's method, losses and weights (and its code's defaults, AAnoosheh/ComboGAN): CycleGAN's ResNet
generator split into a per-domain encoder (first half of the residual blocks) and decoder, a PatchGAN
per domain, instance norm, least squares (weight 2: the code's unhalved MSE), lambda_cycle 10, no
identity loss (--lambda_identity 0), pools of 50 per domain, G then D, Adam(2e-4, b1 0.5), a constant rate
for the first half and a linear decay to 0 over the second (--niter = --niter_decay, "try 50*n_domains"
epochs each). Shrunk to the task and a CPU as configs/cyclegan_mnist.py: 28x28 digits resized to 32x32
(no flip: it would change the slant), resnet_6blocks at ngf 16 cut 3 + 3 (the code: n_blocks // 2 in the
encoder), PatchGANs of n_layers 2 at ndf 16, batch 8 (the code: 1). A step trains one of the 6 pairs, so
6,000 steps give each pair about 1,000 updates.
"""

from jaxgan.config import base_config

STEPS = 6000
DOMAINS = ("plain", "negative", "edges", "thick_slanted")


def get_config():
    config = base_config()
    config.method = "combogan"
    config.data.source = "domains:" + "|".join(f"builtin:mnist/{d}" for d in DOMAINS)
    config.data.load_size = 32  # 28 -> 32 (bicubic): the two stride-2 levels need a multiple of 4.
    config.data.crop_size = 32
    config.model.encoder = dict(name="resnet_encoder", features=16, blocks=3, norm="instance")  # Code: ngf 64, 9 // 2.
    config.model.decoder = dict(name="resnet_decoder", features=16, blocks=3, norm="instance")  # Code: 9 - 9 // 2.
    config.model.discriminator = dict(name="patchgan_discriminator", features=16, n_layers=2, norm="instance")
    config.model.pool_size = 50  # --pool_size 50.
    config.loss.adversarial = "least_squares"  # LSGAN (the code's GANLoss without --no_lsgan).
    config.loss.adversarial_weight = 2.0  # The code's (D - 1)^2 against jaxgan's 1/2 (D - 1)^2.
    config.loss.lambda_cycle = 10.0  # --lambda_cycle 10.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999,  # --lr 0.0002, --beta1 0.5.
                                           linear_decay=True, decay_start=config.train.get_ref("steps") // 2))  # --niter = --niter_decay.
    config.train.batch_size = 8
    config.train.steps = STEPS
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    config.sample.examples = 4
    return config
