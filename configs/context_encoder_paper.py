"""Context Encoders (Pathak et al. 2016) at the paper's semantic-inpainting setting, on your own folder
of photographs (Paris StreetView, ImageNet): the central region task, 128x128 images, F predicting the
64x64 centre.

    python -m jaxgan.main --config configs/context_encoder_paper.py --workdir runs/paris \
        --config.data.source=images:/path/to/paris_train

Defaults of the paper (sec. 5.1) and of the authors' Torch code (pathak22/context-encoder, the
centre-region command of its README: ``train.lua`` with overlapPred=4 wtl2=0.999 loadSize=350
fineSize=128): DCGAN-style encoder 128 -> 4 (64, 64, 128, 256, 512 filters) and decoder 4 -> 64
(256, 128, 64, 3), batch norm, here with the paper's channel-wise fully-connected bottleneck (sec. 3.1:
512 maps of 4x4, 512 x 4^4 weights) plus a 1x1 convolution instead of the code's 4000-unit layer; an
unconditional DCGAN D (64, 128, 256, 512) on the 64x64 centre; the hole is the central 56x56 (the
64x64 centre less the 4-pixel overlap), filled with the ImageNet mean (117, 104, 123); reconstruction
weight 10x on the overlap; lambda_rec 0.999, lambda_adv 0.001; D then G; Adam(beta1 0.5), D at 2e-4 and
G at 10x that (sec. 5.1: "a higher learning rate for context encoder (10 times)"; train.lua); batch 64;
500 epochs (niter=500). Random 128x128 crops and left-right flips of the images resized to 350: the
authors resize the shorter side to 350 keeping the aspect ratio, ``data.load_size`` resizes to 350x350
(pre-resize your photos to keep their aspect). Paris StreetView has 14,900 training images: set
``train.steps`` for another dataset (epochs x images / 64).
"""

from jaxgan.config import base_config

IMAGES = 14_900  # Paris StreetView training images (Doersch et al. 2012), as the paper.
OVERLAP = 4  # The authors' overlapPred=4 (the paper's text says 7 pixels).


def get_config():
    config = base_config()
    config.method = "context_encoder"
    config.data.source = "images:/path/to/paris_train"  # Override with --config.data.source=images:DIR.
    config.data.load_size = 350  # train.lua: loadSize 350.
    config.data.crop_size = 128  # train.lua: fineSize 128.
    config.data.flip = True  # donkey_folder.lua flips with p = 1/2.
    config.model.center_hole = 128 // 2 - 2 * OVERLAP  # 56: the 64x64 centre F predicts, less the overlap.
    config.model.fill = (117, 104, 123)  # train.lua: the hole is the ImageNet mean colour.
    config.model.generator = dict(name="context_encoder_generator", encoder_features=(64, 64, 128, 256, 512),
                                  decoder_features=(256, 128, 64), norm="batch")  # nef = ngf = 64.
    config.model.discriminator = dict(name="dcgan_discriminator", features=(64, 128, 256, 512),
                                      conditioning="none", num_classes=1)  # ndf 64; conditionAdv=0.
    config.loss.adversarial = "non_saturating"  # The paper's BCE GAN loss.
    config.loss.lambda_rec = 0.999  # Sec. 5.1 (train.lua: wtl2=0.999).
    config.loss.lambda_adv = 0.001  # Sec. 5.1 (1 - wtl2).
    config.loss.overlap = OVERLAP
    config.loss.overlap_weight = 10.0  # Sec. 5.1; train.lua's overlapL2Weight.
    config.optimizer.generator.update(dict(learning_rate=2e-3, b1=0.5, b2=0.999))  # 10x lr (train.lua: lr*10).
    config.optimizer.discriminator.update(dict(learning_rate=2e-4, b1=0.5, b2=0.999))  # lr 0.0002, beta1 0.5.
    config.train.batch_size = 64  # train.lua: batchSize 64.
    config.train.steps = 500 * IMAGES // 64  # niter=500 epochs.
    config.train.log_every = 100
    config.train.sample_every = 2000
    config.train.checkpoint_every = 5000
    config.sample.examples = 8
    return config
