"""UNIT (Liu, Breuel & Kautz 2017) on the built-in unpaired digit domains thin upright <-> thick slanted
strokes (``builtin:mnist/plain`` | ``builtin:mnist/thick_slanted``: dilation and shear, a map that is
not pixel-wise), the task of configs/cyclegan_mnist.py.

The losses, weights and optimizer of the authors' code (configs/unit_*.yaml, see configs/unit_paper.py)
with the networks shrunk to the task and to a CPU: the 28x28 digits resized to 32x32 (the two
downsamplings need a multiple of 4), encoders and generators of width 16 (the code: 64) with 4
residual blocks of which 1 shared, 3-scale D of width 16. Batch 8 instead of 1 (CPU time); no flip (a
flip would change the slant the task is about).
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "unit"
    config.data.source = "domains:builtin:mnist/plain|builtin:mnist/thick_slanted"
    config.data.load_size = 32  # 28 -> 32: divisible by 2^2 for the two downsamplings.
    config.data.crop_size = 32
    config.model.generator = dict(name="unit_generator", features=16, downsamplings=2, blocks=4, shared_blocks=1)
    config.model.discriminator = dict(name="multiscale_discriminator", num_d=3, features=16, n_layers=3,
                                      norm="none")  # 3 scales: 32, 16, 8 pixels.
    config.loss.adversarial = "least_squares"  # UNIT code: gan_type lsgan.
    config.loss.adversarial_weight = 2.0  # gan_w 1 against the code's unhalved (D - 1)^2.
    config.loss.lambda_reconstruction = 10.0  # recon_x_w.
    config.loss.lambda_kl = 0.01  # recon_kl_w.
    config.loss.lambda_cycle = 10.0  # recon_x_cyc_w.
    config.loss.lambda_cycle_kl = 0.01  # recon_kl_cyc_w.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=1e-4, b1=0.5, b2=0.999, weight_decay=1e-4))  # UNIT code.
    config.train.batch_size = 8
    config.train.steps = 3000  # The CycleGAN MNIST config's budget.
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    return config
