"""The MLP conditional GAN of Mirza & Osindero (2014), section 4.1, on built-in MNIST.

Networks and their sizes, uniform noise on the unit hypercube, dropout 0.5 and
minibatch 100 are the paper's.

Optimizer: the paper trains with SGD (lr 0.1 divided by 1.00004 per update down
to 1e-6, momentum 0.5 rising to 0.7). Without the weight-norm constraints of the
original pylearn2 code (which the paper does not state), that schedule drove the
losses to NaN within 100 steps here (measured 2026-11-23), so this config uses
Adam(2e-4, b1=0.5) from DCGAN (Radford et al. 2016). The paper's schedule is
one override away: configs/cgan_mnist.py:paper_sgd (see get_config's argument).

Known problem (measured 2026-12-01, benchmarks/RESULTS.md "The MLP cGAN ignores its noise"): trained
so, G takes its randomness from its own dropout, not from z. With dropout off (inference, the
sample grids) every sample of a class is the same image (within-class MS-SSIM 0.999); with G's
dropout on they vary (0.55). Without dropout in G, with normal noise, with pylearn2's initialisation
and input dropout in D, G collapsed further; the paper's SGD diverged. This config is the paper
reproduction, not the quick start (README: configs/matching_mnist.py).
"""

from jaxgan.config import base_config, optimizer_config
from jaxgan.errors import ConfigError


def get_config(variant: str = ""):
    """``--config configs/cgan_mnist.py:paper_sgd`` selects the paper's SGD schedule."""
    config = base_config()
    config.method = "cgan"
    # Protocol of Goodfellow et al. 2014 (followed by Mirza & Osindero 2014, whose Parzen LL is 132): train on the
    # first 50,000 MNIST training images; `jaxgan.evaluate --parzen` chooses sigma on the held-out last 10,000.
    config.data.split = "train[:50000]"
    config.model.latent_dim = 100  # Paper: 100-d noise.
    config.model.noise = "uniform"  # Paper: uniform within the unit hypercube.
    config.model.generator = dict(name="mlp_generator", noise_units=200, label_units=1000,
                                  hidden_units=1200, dropout_rate=0.5)
    config.model.discriminator = dict(name="mlp_discriminator", image_units=240, image_pieces=5,
                                      label_units=50, label_pieces=5, hidden_units=240, hidden_pieces=4,
                                      dropout_rate=0.5)
    config.loss.adversarial = "non_saturating"
    if variant == "paper_sgd":  # Mirza & Osindero 2014, sec. 4.1 (momentum ramp length not given).
        sgd = dict(name="sgd", learning_rate=0.1, decay_factor=1.00004, min_learning_rate=1e-6,
                   momentum=0.5, final_momentum=0.7, momentum_steps=10000)
        config.optimizer.generator = optimizer_config(**sgd)
        config.optimizer.discriminator = optimizer_config(**sgd)
    elif variant:
        raise ConfigError(f"unknown variant {variant!r} of cgan_mnist; the one variant is 'paper_sgd'")
    config.train.batch_size = 100  # Paper: minibatch 100.
    config.train.steps = 5000
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    config.train.cpu_ynnpack = False  # XLA:CPU: Eigen's kernels run this step 1.15x faster (RESULTS.md).
    return config
