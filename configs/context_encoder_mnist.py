"""Context Encoders (Pathak et al. 2016) on the built-in centre-hole inpainting task
(``builtin:mnist/inpaint_center``: the central 14x14 of a 28x28 digit filled with grey, a quarter of
the image as the paper's central region).

The paper's inpainting networks (the authors' Torch ``train.lua``, DCGAN-style) shrunk to 28x28: the
encoder 28 -> 14 -> 7 (32, 64 filters), the paper's channel-wise fully-connected bottleneck on the 64
maps of 7x7 (64 x 7^4 = 153,664 weights) and a 1x1 convolution, the decoder 7 -> 14 -> 28 back to the
whole image; D a DCGAN discriminator (32, 64 filters) on the whole image, unconditional. Everything
else is the paper's: lambda_rec 0.999, lambda_adv 0.001, reconstruction weight 10x off the hole, D
then G, Adam with beta1 0.5, G's learning rate 10x D's, batch 64. F predicts the whole image, so the
overlap covers the whole context (``overlap`` 28: every context pixel weighs 10x, as the authors'
``train_random.lua`` with ``useOverlapPred=1``).

Variants: ``:l2`` the L2-only context encoder (lambda_adv 0; the paper's Fig. 1c and Table 1 "L2"
rows, blurrier); ``:random_region`` the random-region holes (``builtin:mnist/inpaint_region``,
sec. 3.3).
"""

from jaxgan.config import base_config
from jaxgan.errors import ConfigError


def get_config(variant: str = ""):
    config = base_config()
    config.method = "context_encoder"
    config.data.source = "builtin:mnist/inpaint_center"
    config.model.generator = dict(name="context_encoder_generator", encoder_features=(32, 64),
                                  decoder_features=(32,), norm="batch")
    # Unconditional (the authors' conditionAdv=0): num_classes is unused with conditioning 'none'.
    config.model.discriminator = dict(name="dcgan_discriminator", features=(32, 64), conditioning="none",
                                      num_classes=1)
    config.loss.adversarial = "non_saturating"  # The paper's BCE GAN loss.
    config.loss.lambda_rec = 0.999  # Pathak et al. 2016, sec. 5.1.
    config.loss.lambda_adv = 0.001  # Sec. 5.1.
    config.loss.overlap = 28  # F predicts the whole 28x28 image: all the context is the overlap.
    config.loss.overlap_weight = 10.0  # Sec. 5.1: 10x in the overlap.
    config.optimizer.generator.update(dict(learning_rate=2e-3, b1=0.5, b2=0.999))  # 10x D's (sec. 5.1, train.lua).
    config.optimizer.discriminator.update(dict(learning_rate=2e-4, b1=0.5, b2=0.999))  # train.lua: lr 0.0002, beta1 0.5.
    config.train.batch_size = 64  # train.lua: batchSize 64.
    config.train.steps = 3000
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    if variant == "l2":
        config.loss.lambda_adv = 0.0  # The L2-only context encoder.
    elif variant == "random_region":
        config.data.source = "builtin:mnist/inpaint_region"
    elif variant:
        raise ConfigError(f"unknown variant {variant!r} of context_encoder_mnist; the variants are 'l2' and "
                          "'random_region'")
    return config
