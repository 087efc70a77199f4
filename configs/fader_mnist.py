"""Fader Networks (Lample et al. 2017) on the built-in attribute digits ``builtin:mnist/attributes``
(thick, slanted, coloured, negative: independent fair coins, combined freely).

    python -m jaxgan.main --config configs/fader_mnist.py --workdir runs/fader_mnist

The paper's method, losses, weights and optimizer (defaults of facebookresearch/FaderNetworks), its
networks shrunk to 32x32 digits on a CPU: the 28x28 digits resized to 32x32, 4 encoder blocks of
16-32-64-128 filters down to a 2x2 code (the paper: 7 blocks of 16 .. 512 from 256x256 to 2x2), the
latent discriminator's conv and hidden layer 128 wide (the paper: 512). No flip (the code flips faces
left-right; a flip would reverse 'slanted').

lambda_E ramp, scaled: the authors ramp lambda_E from 0 to 1e-4 over 500,000 iterations of a run of
1,000 epochs x 50,000 images at batch 32 = 1,562,500 iterations, i.e. over the first 32% of the run;
here over the first 32% of the run's steps (``loss.lambda_latent_ramp_steps``).
"""

from jaxgan.config import base_config

STEPS = 10000
AUTHORS_RAMP, AUTHORS_ITERATIONS = 500_000, 1000 * 50_000 // 32  # --lambda_schedule; --n_epochs x --epoch_size / bs.


def get_config():
    config = base_config()
    config.method = "fader"
    config.data.source = "builtin:mnist/attributes"
    config.data.load_size = 32  # 28 -> 32: four stride-2 blocks to a 2x2 code.
    config.data.crop_size = 32
    config.model.generator = dict(name="fader_autoencoder", features=16, max_features=128, layers=4,
                                  norm="batch")  # Paper: 16 .. 512, 7 layers; batch norm (the code's default).
    config.model.discriminator = dict(name="latent_discriminator", features=128, hidden=128,
                                      dropout=0.3)  # Paper: C512 + FC 512; the code's --lat_dis_dropout 0.3.
    config.loss.lambda_ae = 1.0  # The code's --lambda_ae 1.
    config.loss.lambda_lat_dis = 1e-4  # Sec. 5 / --lambda_lat_dis 0.0001.
    # 3200 at 10,000 steps: 32% of the run, following --config.train.steps.
    config.loss.lambda_latent_ramp_steps = config.train.get_ref("steps") * AUTHORS_RAMP // AUTHORS_ITERATIONS
    config.loss.clip_grad_norm = 5.0  # The code's --clip_grad_norm 5.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(learning_rate=2e-4, b1=0.5, b2=0.999))  # "adam,lr=0.0002", betas (0.5, 0.999).
    config.train.batch_size = 32  # --batch_size 32.
    config.train.steps = STEPS
    config.train.log_every = 100
    config.train.sample_every = 1000
    config.train.checkpoint_every = 1000
    config.sample.examples = 8
    return config
