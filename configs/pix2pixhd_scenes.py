"""pix2pixHD (Wang et al. 2018) on the built-in label-map scenes (``builtin:mnist/scenes``: 64x64,
11 classes, instance maps), small enough for a CPU.

The paper's method with its networks shrunk to 64x64 scenes: G1 with ngf 16 (paper 64), 3
down-samplings (paper 4: 64 / 2^3 = 8x8 at the bottleneck) and 3 residual blocks (paper 9); two
PatchGANs with ndf 16 (paper 64), n_layers 2 (paper 3: a 34x34 receptive field on a 64x64 scene,
where 70x70 would see all of it); batch 8 (paper 1) for CPU time. The rest is the paper's: one-hot
labels plus instance boundaries, LSGAN, feature matching lambda 10, Adam(2e-4, b1 0.5), constant
then linear decay over the second half. The VGG loss is off: it needs ImageNet VGG19 weights, which
do not ship with jaxgan (``--config.loss.vgg_weight=10 --config.loss.vgg_weights=vgg19.npz``: on).
"""

from jaxgan.config import base_config

STEPS = 4000


def get_config():
    config = base_config()
    config.method = "pix2pixhd"
    config.data.source = "builtin:mnist/scenes"
    config.model.generator = dict(name="pix2pixhd_generator", features=16, n_downsampling=3, n_blocks=3,
                                  n_local_enhancers=0, n_blocks_local=3)
    config.model.discriminator = dict(name="multiscale_discriminator", num_d=2, features=16, n_layers=2,
                                      norm="instance", padding=2)
    config.model.use_instance_map = True
    config.model.niter_fix_global = 0
    config.loss.adversarial = "least_squares"  # LSGAN, as the paper.
    config.loss.adversarial_weight = 2.0  # The authors' MSELoss has no 1/2 (see jaxgan.methods.pix2pixhd).
    config.loss.lambda_feat = 10.0  # Wang et al. 2018.
    config.loss.vgg_weight = 0.0  # Paper: 10, with ImageNet VGG19 weights (none ship with jaxgan).
    config.loss.vgg_weights = ""
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999, linear_decay=True,
                                           decay_start=config.train.get_ref("steps") // 2))  # niter = niter_decay, as the paper.
    config.train.batch_size = 8
    config.train.steps = STEPS
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    config.sample.examples = 4
    return config
