"""The MLP conditional GAN of Mirza & Osindero (2014), section 4.1, on built-in MNIST.

The paper's settings: its networks and sizes (jaxgan/networks/mlp.py), uniform noise on the unit
hypercube, dropout 0.5 in both networks, minibatch 100, and SGD with learning rate 0.1 divided by
1.00004 per update down to 1e-6 and momentum rising from 0.5 to 0.7 (the ramp's length is not
given: 10,000 updates here). From the pylearn2 code the paper builds on (Goodfellow et al. 2014,
goodfeli/adversarial mnist.yaml), not stated in the paper: weights drawn from U(-0.05, 0.05) in G
and U(-0.005, 0.005) in D, D's input pixels kept with probability 0.8, and D reading pixels in
[0, 1] (without which this SGD sent D's logits to infinity within 26 updates).

G's dropout is its main source of variety (benchmarks/RESULTS.md, "The MLP cGAN takes its variety
from its dropout"): with it off, every sample of a class is nearly one image; trained and sampled
with it on, this config's 30,000 updates (60 epochs of train[:50000]; the paper stops at the best
validation log-likelihood) gave Parzen LL 155.7 +/- 1.5 with held-out sigma (the paper: 132 +/- 1.8),
FCD 16.8 and 94.8% of samples read as their label (2, 4 and 8 at 0.88-0.91). ``dropout_noise`` makes the masks part of G's noise input, so the sample grids,
``jaxgan.evaluate`` and ``jaxgan.sample`` draw samples as the model was trained.

``--config configs/cgan_mnist.py:adam`` trains with Adam(2e-4, b1=0.5) (DCGAN's, Radford et al.
2016) instead, as this config did before 2026-12-02.

``--config configs/cgan_mnist.py:matching`` keeps the paper's networks, noise, dropout and SGD, and trains
D as a matching-aware discriminator (Reed et al. 2016, jaxgan.methods.matching): D is also shown real images
with a wrong label as fake (a quarter of its fake term, ``loss.mismatch_weight``; GAN-CLS gives them half), so
it must check the label, not only realism; samples from an EMA of G's weights (0.999). Trained as the paper's
config for 30,000 updates it draws every class right >= 96.8% of the time (the paper's config: 2, 4 and 8 at
0.88-0.91) with the paper config's within-class variety (MS-SSIM 0.485 against 0.486; real digits 0.430;
recall 0.60 against 0.63) and FCD 9.1 (16.8): benchmarks/RESULTS.md, "The paper's MLP with a matching-aware D".
Not the paper's method: its Parzen figure is the paper config's to reproduce.
"""

from jaxgan.config import base_config, optimizer_config
from jaxgan.errors import ConfigError


VARIANTS = ("adam", "matching")


def get_config(variant: str = ""):
    """``--config configs/cgan_mnist.py:adam`` selects Adam instead of the paper's SGD; ``:matching`` the
    matching-aware D loss with the paper's networks and SGD."""
    if variant and variant not in VARIANTS:
        raise ConfigError(f"unknown variant {variant!r} of cgan_mnist; the variants are {', '.join(VARIANTS)}")
    config = base_config()
    config.method = "cgan"
    # Protocol of Goodfellow et al. 2014 (followed by Mirza & Osindero 2014, whose Parzen LL is 132): train on the
    # first 50,000 MNIST training images; `jaxgan.evaluate --parzen` chooses sigma on the held-out last 10,000.
    config.data.split = "train[:50000]"
    config.model.latent_dim = 100  # Paper: 100-d noise.
    config.model.noise = "uniform"  # Paper: uniform within the unit hypercube.
    config.model.generator = dict(name="mlp_generator", noise_units=200, label_units=1000,
                                  hidden_units=1200, dropout_rate=0.5, dropout_noise=True, init_range=0.05)
    config.model.discriminator = dict(name="mlp_discriminator", image_units=240, image_pieces=5,
                                      label_units=50, label_pieces=5, hidden_units=240, hidden_pieces=4,
                                      dropout_rate=0.5, input_dropout_rate=0.2, init_range=0.005)
    config.loss.adversarial = "non_saturating"
    if variant == "matching":  # Reed et al. 2016's D loss on (x, y), (G(z, y), y) and (x, y' != y).
        config.method = "matching_aware"
        config.model.discriminator_structure = "joint"
        # A quarter of D's fake term on mismatched pairs (GAN-CLS: a half): every class >= 96.8% with the paper config's
        # variety; a half reads 98.8%+ with less variety (benchmarks/RESULTS.md).
        config.loss.mismatch_weight = 0.25
        config.train.ema_decay = 0.999
    if variant == "adam":
        config.optimizer.generator = optimizer_config()
        config.optimizer.discriminator = optimizer_config()
    else:  # Mirza & Osindero 2014, sec. 4.1.
        sgd = dict(name="sgd", learning_rate=0.1, decay_factor=1.00004, min_learning_rate=1e-6,
                   momentum=0.5, final_momentum=0.7, momentum_steps=10000)
        config.optimizer.generator = optimizer_config(**sgd)
        config.optimizer.discriminator = optimizer_config(**sgd)
    config.train.batch_size = 100  # Paper: minibatch 100.
    config.train.steps = 30000  # 60 epochs of train[:50000].
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    config.train.cpu_ynnpack = False  # XLA:CPU: Eigen's kernels run this step 1.15x faster (RESULTS.md).
    return config
