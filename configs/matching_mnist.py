"""Matching-aware discriminator (GAN-CLS, Reed et al. 2016) on built-in MNIST, labels as the condition.

D is trained on real images with their labels (real), generated images with theirs (fake) and real
images with a wrong label (fake). ``get_config()`` is GAN-CLS's joint score; the variant
``configs/matching_mnist.py:separate`` scores realism (image alone) and match (image and label)
with two networks (see jaxgan.methods.matching).

Reed et al. 2016, sec. 5: Adam(lr 2e-4, b1 0.5), minibatch 64, 100-d standard normal noise,
the log-loss of Algorithm 1 (G maximises log s_f: non-saturating). Networks: DCGAN with the label
embedded and concatenated (G at the lowest resolution, D with the input image); the paper
replicates a 128-d text embedding at D's 4x4 features instead. Widths and D without batch norm
as configs/cgan_dcgan_mnist.py (with D's batch norm, each of the three batches brings its own
statistics, which D can use to tell them apart). EMA of G's weights (0.999) for
samples is an engine option, not the paper's. DiffAugment (Zhao et al. 2020) is off; turn it on
with --config.loss.diffaugment=color,translation,cutout.
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError


def get_config(variant: str = ""):
    """``--config configs/matching_mnist.py:separate`` selects separate realism and match scores."""
    if variant not in ("", "separate"):
        raise ConfigError(f"unknown variant {variant!r} of matching_mnist; the one variant is 'separate'")
    config = base_config()
    config.method = "matching_aware"
    # Protocol of Goodfellow et al. 2014 (followed by Mirza & Osindero 2014, whose Parzen LL is 132): train on the
    # first 50,000 MNIST training images; `jaxgan.evaluate --parzen` chooses sigma on the held-out last 10,000.
    config.data.split = "train[:50000]"
    config.model.discriminator_structure = variant or "joint"
    config.model.latent_dim = 100  # Reed et al. 2016: 100-d noise.
    config.model.noise = "normal"  # Reed et al. 2016: unit normal.
    config.model.generator = dict(name="dcgan_generator", features=(64, 32), embed_dim=50)
    config.model.discriminator = dict(name="dcgan_discriminator", features=(32, 64), embed_dim=50,
                                      conditioning="concat", batch_norm=False)
    config.loss.adversarial = "non_saturating"  # Reed et al. 2016, Algorithm 1.
    config.loss.mismatch_weight = 0.5  # GAN-CLS: D's fake term split evenly with the mismatched pairs.
    # Reed et al. 2016: Adam(2e-4, b1 0.5) for both sides (the base config's).
    config.train.batch_size = 64  # Reed et al. 2016: minibatch 64.
    config.train.steps = 5000  # As configs/cgan_dcgan_mnist.py (the paper: 600 epochs).
    config.train.ema_decay = 0.999
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    config.train.cpu_ynnpack = False  # XLA:CPU: Eigen's kernels run this step 1.14x faster (RESULTS.md).
    return config
