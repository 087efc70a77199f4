"""CycleGAN (Zhu et al. 2017) on the built-in unpaired digit domains thin upright <-> thick slanted
strokes (``builtin:mnist/plain`` | ``builtin:mnist/thick_slanted``: dilation and shear, a map that is
not pixel-wise).

The paper's method and weights with its networks shrunk to the task and to a CPU: the 28x28 digits
resized to 32x32 (no crop or flip: a flip would change the slant the task is about), resnet_6blocks
at ngf 16, a PatchGAN with n_layers 2 at ndf 16 (34x34 receptive field: at 32x32 the 70x70 patch
would see the whole image), instance norm, least squares (weight 2: the paper's unhalved MSE),
lambda 10, identity 0.5, pools of 50, G then D, Adam(2e-4, b1 0.5) constant for the first half of the run and
decaying linearly to 0 over the second. Batch 8 instead of 1 (CPU time); 10,000 steps (~30 min on one core).
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "cyclegan"
    config.data.source = "domains:builtin:mnist/plain|builtin:mnist/thick_slanted"
    config.data.load_size = 32  # 28 -> 32 (bicubic): the two stride-2 levels need a multiple of 4.
    config.data.crop_size = 32
    config.model.generator = dict(name="resnet_translator", features=16, blocks=6, norm="instance")
    config.model.discriminator = dict(name="patchgan_discriminator", features=16, n_layers=2, norm="instance")
    config.model.pool_size = 50  # Zhu et al. 2017.
    config.loss.adversarial = "least_squares"  # Zhu et al. 2017, sec. 4.
    config.loss.adversarial_weight = 2.0  # The paper's (D - 1)^2 against jaxgan's 1/2 (D - 1)^2.
    config.loss.lambda_a = 10.0  # Zhu et al. 2017.
    config.loss.lambda_b = 10.0
    config.loss.lambda_identity = 0.5  # Zhu et al. 2017, sec. 5.2.
    config.loss.cycle_norm = "l1"
    steps = config.train.get_ref("steps")  # The decay follows --config.train.steps.
    for side in ("generator", "discriminator"):
        # Adam(2e-4, 0.5): constant for the first half, then linearly to 0 (the paper's 100 + 100 epochs).
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999, linear_decay=True,
                                           decay_start=steps // 2))
    config.train.batch_size = 8
    config.train.steps = 10000  # Keeps >= 97% of digits both ways (3,000 constant: 94-96%; RESULTS.md).
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    return config
