"""AC-GAN (Odena et al. 2017) on built-in MNIST.

G(c, z): the DCGAN generator, the class entering with the noise at the lowest resolution.
D: the DCGAN discriminator without the label ('none') and with an auxiliary classifier head
(set by the method): a source logit P(S | X) and class logits P(C | X). D maximises L_S + L_C,
G maximises L_C - L_S; the class term is weighed 1, as in the paper.

Hyper-parameters from the paper's appendix tables (CIFAR-10 / ImageNet models): Adam(lr 2e-4,
b1 0.5, b2 0.999), batch 100, LeakyReLU slope 0.2, dropout 0.5 in D, 100-d noise. The paper's
networks are deeper and its D has batch norm; here the DCGAN widths and the D without batch norm
of configs/cgan_dcgan_mnist.py (measured there: with D's batch norm on separate real and fake
batches, D told them apart by their statistics and G ignored the label). G's adversarial term is the
non-saturating one (-log P(S = real | X_fake)) rather than the literal -L_S, which saturates
while D wins early on; 'minimax' gives the literal objective. EMA of G's weights (0.999) for
samples is an engine option, not the paper's. DiffAugment (Zhao et al. 2020) is off; turn it on
with --config.loss.diffaugment=color,translation,cutout.
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "acgan"
    # Protocol of Goodfellow et al. 2014 (followed by Mirza & Osindero 2014, whose Parzen LL is 132): train on the
    # first 50,000 MNIST training images; `jaxgan.evaluate --parzen` chooses sigma on the held-out last 10,000.
    config.data.split = "train[:50000]"
    config.model.latent_dim = 100  # Odena et al. 2017: 100-d noise (plus the class).
    config.model.noise = "normal"
    config.model.generator = dict(name="dcgan_generator", features=(64, 32), embed_dim=50)
    # Odena et al. 2017, appendix: dropout 0.5 in D.
    config.model.discriminator = dict(name="dcgan_discriminator", features=(32, 64), conditioning="none",
                                      batch_norm=False, dropout_rate=0.5)
    config.loss.adversarial = "non_saturating"
    config.loss.classification_weight = 1.0  # Odena et al. 2017: L_S + L_C, equal weights.
    # Odena et al. 2017, appendix: Adam(2e-4, b1 0.5, b2 0.999) for both sides (the base config's).
    config.train.batch_size = 100  # Odena et al. 2017, appendix: batch 100.
    # The paper trains 50000 iterations (--config.train.steps=50000: 99.34% label accuracy, FCD 15.8,
    # benchmarks/RESULTS.md); 5000 as configs/cgan_dcgan_mnist.py, for the one-budget table.
    config.train.steps = 5000
    config.train.ema_decay = 0.999
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    return config
