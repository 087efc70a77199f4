"""DCGAN-style conditional GAN with a learned label embedding, trained with the
least-squares loss, on built-in MNIST.

Networks: DCGAN (Radford et al. 2016): strided 4x4 (transposed) convolutions,
batch norm in G, ReLU in G / LeakyReLU(0.2) in D, tanh output; the label is
embedded (50-d), mapped to a feature map and concatenated on channels (G: with
the projected noise at 7x7; D: with the 28x28 input image). Loss: LSGAN (Mao et
al. 2017) with a=0, b=1, c=1. Optimizer: Adam(2e-4, b1=0.5) (DCGAN).

Widths: DCGAN's two-level ones for 28x28, (256, 128) in G and (128, 256) in D. They
were cut to (64, 32) / (32, 64) on 2026-11-23 for CPU speed only (1.6 s/step then);
with sub-pixel transposed convolutions the step is 219 ms on 2 CPU cores, the PyTorch
twin's 214 ms, and at 5,000 steps the paper widths draw the requested digit 86% of the
time against 71% (FCD 52 against 101; benchmarks/RESULTS.md, 2026-12-02). For a quick
CPU run: --config.model.generator.features='(64, 32)'
--config.model.discriminator.features='(32, 64)' (7x faster per step).

Departures: no batch norm in D: with D's batch norm and separate real and fake
batches, G ignored the label for the first 1,500 steps (every row of the sample grid
the same digit), D telling the batches apart by their statistics; batch 64 (DCGAN: 128).
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "cgan"
    # Protocol of Goodfellow et al. 2014 (followed by Mirza & Osindero 2014, whose Parzen LL is 132): train on the
    # first 50,000 MNIST training images; `jaxgan.evaluate --parzen` chooses sigma on the held-out last 10,000.
    config.data.split = "train[:50000]"
    config.model.latent_dim = 100  # DCGAN: 100-d noise.
    config.model.noise = "normal"
    config.model.generator = dict(name="dcgan_generator", features=(256, 128), embed_dim=50)  # DCGAN.
    config.model.discriminator = dict(name="dcgan_discriminator", features=(128, 256), embed_dim=50,
                                      batch_norm=False)
    config.loss.adversarial = "least_squares"  # Mao et al. 2017.
    config.train.batch_size = 64
    config.train.steps = 5000
    config.train.ema_decay = 0.999
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    config.train.cpu_ynnpack = False  # XLA:CPU: Eigen's kernels run this step 1.18x faster (RESULTS.md).
    return config
