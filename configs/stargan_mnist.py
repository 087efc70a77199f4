"""StarGAN (Choi et al. 2018) on the built-in attribute digits ``builtin:mnist/attributes`` (thick, slanted,
coloured, negative: each an independent coin, combined freely), and, as the variant ``:mask_vector``,
on two datasets with different label sets at once (sec. 3.2): ``attributes`` and ``attributes2``
(rotated_90, small, noisy), alternating per step, with the mask vector.

    python -m jaxgan.main --config configs/stargan_mnist.py --workdir runs/stargan_mnist
    python -m jaxgan.main --config configs/stargan_mnist.py:mask_vector --workdir runs/stargan_mask

The paper's method, losses, weights and optimizer; the networks shrunk to 32x32 on a CPU: the 28x28
digits resized to 32x32 (two stride-2 levels in G, five in D down to a 1x1 map, whose classification
kernel is then 1x1), ngf = ndf = 32 instead of 64, G's 6 residual blocks kept. No flip (the paper flips
faces; a flip would reverse the 'slanted' attribute). 10,000 steps = 2,000 G updates.
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError

STEPS = 10000
N_CRITIC = 5  # Choi et al. 2018, sec. 4.4: one G update per five D updates.


def get_config(variant: str = ""):
    if variant not in ("", "mask_vector"):
        raise ConfigError(f"unknown variant {variant!r} of stargan_mnist; the one variant is 'mask_vector'")
    config = base_config()
    config.method = "stargan"
    config.data.source = ("domains:builtin:mnist/attributes|builtin:mnist/attributes2" if variant == "mask_vector"
                          else "builtin:mnist/attributes")
    config.data.load_size = 32  # 28 -> 32: D's five stride-2 convolutions need a multiple of 32.
    config.data.crop_size = 32
    config.model.generator = dict(name="stargan_generator", features=32, residual_blocks=6)  # Paper: 64, 6.
    config.model.discriminator = dict(name="stargan_discriminator", features=32, layers=5)  # Paper: 64, 6 at 128.
    config.loss.adversarial = "wasserstein"  # Choi et al. 2018, eq. 8 (WGAN-GP).
    config.loss.gradient_penalty = 10.0  # lambda_gp = 10 (sec. 3.3).
    config.loss.lambda_cls = 1.0  # Sec. 3.1.
    config.loss.lambda_rec = 10.0  # Sec. 3.1.
    config.loss.lambda_identity = 0.0  # Not in the paper: |x - G(x, c)| (method docstring; RESULTS.md measures 5).
    config.train.n_critic = N_CRITIC
    steps = config.train.get_ref("steps")  # The decay follows --config.train.steps and --config.train.n_critic.
    for side, updates in (("generator", steps // config.train.get_ref("n_critic")), ("discriminator", steps)):
        # Adam(1e-4, 0.5, 0.999), constant for the first half, then linearly to 0 (sec. 4.4).
        config.optimizer[side].update(dict(learning_rate=1e-4, b1=0.5, b2=0.999, linear_decay=True,
                                           decay_start=updates // 2))
    config.train.batch_size = 16  # Sec. 4.4.
    config.train.steps = STEPS
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    config.sample.examples = 8
    config.train.cpu_ynnpack = False  # XLA:CPU: Eigen's kernels ran this step 1.2-1.4x faster, twice (RESULTS.md).
    return config
