"""Conditional GAN with a projection discriminator (Miyato & Koyama 2018) on built-in MNIST.

Method 'cgan' (G(z, y), D(x, y)) with:
  * G: a ResNet generator with conditional batch norm in both norms of every up-block: every batch
    norm's scale and shift are per-class rows gamma_y, beta_y (Miyato & Koyama 2018's generator;
    de Vries et al. 2017; Dumoulin et al. 2017), 2 up-blocks of 64 channels for 28x28 (the paper's
    CIFAR G: 3 blocks of 256). Measured on CPU-2 (benchmarks/RESULTS.md): the DCGAN generator with
    CBN in its two norms (this config until 2026-11-24) ignored the label (27.6% accuracy after
    5,000 G updates) although the projection D used it; with this G, a 3,000-step n_dis = 1 run
    reached 96.8%.
  * D: the DCGAN discriminator with projection conditioning,
    D(x, y) = psi(phi(x)) + <embed(y), phi(x)>, spectral norm on every layer and embedding
    (Miyato et al. 2018) and no batch norm (SN-GAN discriminators have none).
  * Hinge loss (Miyato & Koyama 2018; Lim & Ye 2017).
  * Adam(lr 2e-4, b1 0, b2 0.9) for both sides and n_dis = 5 discriminator updates per generator
    update (Miyato & Koyama 2018, experiments; pfnet-research/sngan_projection configs). The engine
    counts steps as D updates, so train.steps = 5 x the generator updates. Kept on CPU because
    b1 = 0 with hinge and spectral norm is tuned for n_dis = 5, at a price: every D step also
    runs G to draw its fakes, and the ResNet G's 3x3 convolutions at 28x28 are slow on CPU (the
    3,000-step n_dis = 1 run above took 41 min on 2 cores shared with other runs; the DCGAN G's
    took 5). Measured with the ResNet G (25,000 steps, 1 h 40 min on CPU-2): 70.4% label
    accuracy with the EMA generator, 81.6% without, FCD 100.8; at this length the ``:n_dis1``
    schedule below is far ahead (benchmarks/RESULTS.md).
    Both rates decay linearly to 0 over the run (pfnet-research/sngan_projection: LinearShift of
    Adam's alpha from iteration 0 to the last, for G and D), so a longer --config.train.steps
    stretches the decay.
  * EMA of G's weights (decay 0.999) for samples: not in the paper, an engine option.
TTUR (Heusel et al. 2017) would be per-side learning rates in config.optimizer; the paper uses
equal rates, so none here. DiffAugment (Zhao et al. 2020) is off; turn it on with
--config.loss.diffaugment=color,translation,cutout.

Variant ``:n_dis1`` (``--config configs/projection_mnist.py:n_dis1``), the schedule measured on CPU
(not the paper's): one D update per G update, DCGAN's Adam(2e-4, b1 0.5, b2 0.999) at a constant
rate, 8,000 steps. Measured: 99.45% label accuracy, FCD 11.1 (benchmarks/RESULTS.md).
"""

from jaxgan.config import base_config, optimizer_config
from jaxgan.errors import ConfigError


def get_config(variant: str = ""):
    if variant not in ("", "n_dis1"):
        raise ConfigError(f"unknown variant {variant!r} of projection_mnist; the one variant is 'n_dis1'")
    config = base_config()
    config.method = "cgan"
    # Protocol of Goodfellow et al. 2014 (followed by Mirza & Osindero 2014, whose Parzen LL is 132): train on the
    # first 50,000 MNIST training images; `jaxgan.evaluate --parzen` chooses sigma on the held-out last 10,000.
    config.data.split = "train[:50000]"
    config.model.latent_dim = 128  # Miyato & Koyama 2018 code: dim_z 128.
    config.model.noise = "normal"
    config.model.generator = dict(name="resnet_generator", features=(64, 64))
    config.model.discriminator = dict(name="dcgan_discriminator", features=(32, 64), conditioning="projection",
                                      spectral_norm=True, batch_norm=False)
    config.loss.adversarial = "hinge"  # Miyato & Koyama 2018.
    # Miyato & Koyama 2018: Adam(2e-4, 0, 0.9), decayed linearly to 0.
    adam = dict(learning_rate=2e-4, b1=0.0, b2=0.9, linear_decay=True)
    config.optimizer.generator = optimizer_config(**adam)
    config.optimizer.discriminator = optimizer_config(**adam)
    config.train.n_critic = 5  # Miyato & Koyama 2018: n_dis = 5.
    config.train.batch_size = 64  # Miyato & Koyama 2018, CIFAR-10: batch 64.
    config.train.steps = 25000  # 5000 generator updates, as configs/cgan_dcgan_mnist.py makes.
    config.train.ema_decay = 0.999
    config.train.log_every = 100
    config.train.sample_every = 2500
    config.train.checkpoint_every = 2500
    config.train.cpu_ynnpack = False  # XLA:CPU: Eigen's kernels run this step 1.36x faster (RESULTS.md).
    if variant == "n_dis1":
        config.optimizer.generator = optimizer_config()  # Adam(2e-4, 0.5, 0.999), constant.
        config.optimizer.discriminator = optimizer_config()
        config.train.n_critic = 1
        config.train.steps = 8000
        config.train.sample_every = 1000
        config.train.checkpoint_every = 1000
    return config
