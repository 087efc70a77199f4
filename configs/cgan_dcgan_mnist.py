"""DCGAN-style conditional GAN with a learned label embedding, trained with the
least-squares loss, on built-in MNIST.

Networks: DCGAN (Radford et al. 2016): strided 4x4 (transposed) convolutions,
batch norm, ReLU in G / LeakyReLU(0.2) in D, tanh output; the label is embedded
(50-d), mapped to a feature map and concatenated on channels (G: with the
projected noise at 7x7; D: with the 28x28 input image). Loss: LSGAN (Mao et al.
2017) with a=0, b=1, c=1. Optimizer: Adam(2e-4, b1=0.5), batch 64 (DCGAN).
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "cgan"
    config.model.latent_dim = 100  # DCGAN: 100-d noise.
    config.model.noise = "normal"
    # DCGAN widths halved from (256, 128) to keep a CPU run short: at full width the 7->14
    # transposed convolution alone made a batch-64 step take ~1.6 s on 2 cores.
    config.model.generator = dict(name="dcgan_generator", features=(128, 64), embed_dim=50)
    config.model.discriminator = dict(name="dcgan_discriminator", features=(64, 128), embed_dim=50)
    config.loss.adversarial = "least_squares"  # Mao et al. 2017.
    config.train.batch_size = 64  # DCGAN: minibatch 128; 64 keeps a CPU run short.
    config.train.steps = 10000
    config.train.ema_decay = 0.999
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    return config
