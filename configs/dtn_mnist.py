"""The Domain Transfer Network (Taigman et al. 2017) from grey digits to thick slanted digits
(``domains:builtin:mnist/plain|builtin:mnist/thick_slanted``; a map that is not pixel-wise), with f the
project's shipped MNIST classifier (trained on the source domain, plain digits, as the paper trains f on
SVHN) and its 128-d features.

    python -m jaxgan.main --config configs/dtn_mnist.py --workdir runs/dtn_mnist

The paper's losses and digit weights (sec. 5.1: alpha = beta = 15, gamma = 0), its networks' shape (g:
a dense layer then transposed-conv blocks with batch norm and ReLU and a tanh; D: conv blocks with batch
norm and ReLU to 3 classes) at widths for a CPU; 28x28 images (f's input). Adam(2e-4, b1 0.5) and batch
64 are DCGAN's (we found no optimizer settings in the paper).
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "dtn"
    config.data.source = "domains:builtin:mnist/plain|builtin:mnist/thick_slanted"
    config.model.generator = dict(name="feature_decoder", features=(256, 128, 64))  # 4 -> 8 -> 16 -> 32, crop 28.
    config.model.discriminator = dict(name="ternary_discriminator", features=(64, 128, 256))
    config.loss.feature_network = "mnist_classifier"  # f: jaxgan.metrics.classifier (128-d features).
    config.loss.alpha = 15.0  # L_CONST weight, digits (sec. 5.1).
    config.loss.beta = 15.0  # L_TID weight, digits (sec. 5.1).
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999))
    config.train.batch_size = 64
    config.train.steps = 5000
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    config.sample.examples = 8
    return config
