"""XGAN (Royer et al. 2017, "XGAN: Unsupervised Image-to-Image Translation for Many-to-Many Mappings") at
the paper's face <-> cartoon setting, 64x64 images, on your own folder in CycleGAN's layout (DIR/trainA:
faces, e.g. VGG-Face crops; DIR/trainB: cartoons, e.g. CartoonSet; DIR/testA, DIR/testB):

    python -m jaxgan.main --config configs/xgan_paper.py --workdir runs/xgan_faces \
        --config.data.source=unpaired:/path/to/faces2cartoons

What is the paper's: the model (encoders sharing their last layers into one embedding, decoders sharing
their first, sec. 3.1), the four losses L_rec, L_dann, L_sem, L_gan and their weighted sum (sec. 3.2),
the domain classifier trained through a gradient-reversal layer, 64x64 images. The teacher loss
(omega_teach) is left out (jaxgan ships no pretrained face network; see jaxgan/methods/xgan.py).

What is ours, because the paper's numbers could not be retrieved where this config was written (the
stored copies of the paper gave its abstract and introduction, not its appendix): the weights
omega_rec = omega_dann = omega_sem = omega_gan = 1, the layer widths (DCGAN's 64-128-256-512 with the
last two encoder and first two decoder convolutions shared), the 1024-d embedding, the PatchGAN Ds,
c_dann's 512 hidden units, Adam(2e-4, b1 0.5) and batch 32. Set them from the paper with
--config.loss.omega_sem=... etc. On the MNIST task these unit weights with the reversal collapse;
configs/xgan_mnist.py says what trains there (omega_rec 10, swapped-label encoder loss).
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "xgan"
    config.data.source = "unpaired:/path/to/faces2cartoons"  # --config.data.source=unpaired:DIR.
    config.data.load_size = 64  # The paper's 64x64 faces and cartoons.
    config.data.crop_size = 64
    config.data.flip = True
    config.model.generator = dict(
        name="xgan_autoencoders",
        features=(64, 128, 256, 512),  # 64 -> 32 -> 16 -> 8 -> 4 (ours, DCGAN's widths).
        embedding_dim=1024,  # (ours; see the docstring.)
        shared_layers=2,  # The encoders' last and the decoders' first layers shared (sec. 3.1).
        norm="batch")
    config.model.discriminator = dict(name="patchgan_discriminator", features=64, n_layers=3, norm="batch")
    config.model.domain_classifier = dict(name="latent_discriminator", hidden=512)  # c_dann on the embedding.
    config.loss.adversarial = "non_saturating"
    config.loss.dann = "non_saturating"  # c_dann: binary cross-entropy on the domain.
    config.loss.dann_encoder = "gradient_reversal"  # The paper's gradient-reversal layer.
    config.loss.distance = "l1"
    config.loss.omega_rec = 1.0  # (ours; see the docstring.)
    config.loss.omega_dann = 1.0
    config.loss.omega_sem = 1.0
    config.loss.omega_gan = 1.0
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999))
    config.train.batch_size = 32
    config.train.steps = 100_000
    config.train.log_every = 100
    config.train.sample_every = 5_000
    config.train.checkpoint_every = 5_000
    config.sample.examples = 8
    return config
