"""DiscoGAN (Kim et al. 2017) as its authors' code trains it (SKTBrain/DiscoGAN ``discogan/image_translation.py``
and ``model.py``), on your own two domains in CycleGAN's layout (DIR/trainA, DIR/trainB, DIR/testA, DIR/testB;
e.g. edges and photos of shoes, or CelebA faces with and without an attribute):

    python -m jaxgan.main --config configs/discogan_paper.py --workdir runs/discogan \
        --config.data.source=unpaired:/path/to/edges2shoes_unpaired

What the paper states: two coupled GANs, L_G = L_GAN_B + L_GAN_A + L_CONST_A + L_CONST_B
with the reconstruction distance the squared error; 64x64 images; G an encoder-decoder of 4x4 convolutions
(leaky ReLU down, ReLU up), D the encoder with one more 4x4 convolution and a sigmoid. What the code adds,
and this config follows:

* images resized to 64x64 (``--image_size 64``, "64 for every experiment in the paper"), no crop, no flip;
* G ``encoder_decoder_translator``: C64-C128-C256-C512 stride-2 convolutions (batch norm but on the first,
  leaky ReLU 0.2) to 4x4x512, back through 256, 128 and 64 channels (batch norm, ReLU) to tanh, no biases:
  5,513,856 parameters, as the code's ``Generator``;
* D ``patchgan_discriminator`` variant 'dcgan': the same four convolutions, then an unpadded 4x4 one to one
  logit: 2,765,568 parameters, as the code's ``Discriminator``;
* the GAN loss BCE (``non_saturating``: G's target 1; each D's real and fake terms 0.5 each, the method's
  halving); G's adversarial term 0.1 GAN + 0.9 feature matching of D's batch-mean activations past its first
  layer (``loss.feature_matching_fraction``; the code's ``get_fm_loss`` on relu2-relu4);
* the terms mixed as (1 - r) adversarial + r reconstruction, r = 0.01 during the GAN curriculum, then 0.5
  (``--starting_rate``, ``--default_rate``, ``--gan_curriculum`` 10,000 iterations);
* D updated on one iteration in three and G on the other two (``--update_interval 3``); here each step
  updates G and every second step D (``train.n_generator`` 2): the same two G updates per D update, so the
  code's 10,000-iteration curriculum is 6,667 G updates = 6,667 steps;
* Adam(2e-4, 0.5, 0.999) with weight decay 1e-5 (PyTorch's, added to the gradient), batch 64.

The reconstruction MSE is taken on jaxgan's [-1, 1] images, 4 times the code's on [0, 1]; lambda = 0.25 keeps
the code's balance. The code trains until stopped (``--epoch_size 5000`` epochs, a checkpoint every 10,000
iterations); train.steps = 100,000 G updates (150,000 of its iterations) is ours: set it to your budget.
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "cyclegan"
    config.data.source = "unpaired:/path/to/edges2shoes"  # Override with --config.data.source=unpaired:DIR.
    config.data.load_size = 64  # SKTBrain/DiscoGAN: --image_size 64, a resize, no crop.
    config.data.crop_size = 64
    config.data.flip = False
    config.model.generator = dict(name="encoder_decoder_translator", features=64, layers=4, norm="batch")
    config.model.discriminator = dict(name="patchgan_discriminator", variant="dcgan", features=64, n_layers=4,
                                      norm="batch")
    config.model.pool_size = 0  # No image pool.
    config.loss.adversarial = "non_saturating"  # BCELoss; G's target 1.
    config.loss.adversarial_weight = 1.0
    config.loss.feature_matching_fraction = 0.9  # gen_loss * 0.1 + fm_loss * 0.9.
    config.loss.cycle_norm = "l2"  # recon_criterion = nn.MSELoss().
    config.loss.lambda_a = 0.25  # MSE on [-1, 1] / 4 = the code's MSE on [0, 1].
    config.loss.lambda_b = 0.25
    config.loss.lambda_identity = 0.0  # No identity loss.
    config.loss.starting_rate = 0.01  # --starting_rate 0.01.
    config.loss.default_rate = 0.5  # --default_rate 0.5.
    config.loss.gan_curriculum = 6667  # --gan_curriculum 10000 iterations = 6,667 G updates.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999,
                                           weight_decay=1e-5))  # optim.Adam(..., weight_decay=0.00001).
    config.train.n_generator = 2  # --update_interval 3: two G updates per D update.
    config.train.batch_size = 64  # --batch_size 64.
    config.train.steps = 100_000
    config.train.log_every = 50  # --log_interval 50.
    config.train.sample_every = 1000  # --image_save_interval 1000.
    config.train.checkpoint_every = 5000
    config.sample.examples = 8
    return config
