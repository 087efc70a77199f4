"""StarGAN (Choi et al. 2018) at the paper's CelebA setting, on your copy of CelebA in StarGAN's layout
(``DIR/images/*.jpg`` aligned 178x218 faces and ``DIR/list_attr_celeba.txt``):

    python -m jaxgan.main --config configs/stargan_celeba.py --workdir runs/stargan_celeba \
        --config.data.source=attrs:/path/to/celeba:Black_Hair,Blond_Hair,Brown_Hair,Male,Young

Defaults of the paper and of its code (yunjey/stargan ``main.py``): the 5 attributes Black_Hair,
Blond_Hair, Brown_Hair, Male, Young; faces centre-cropped to 178x178 (the ``attrs:`` source) and resized
to 128x128, flipped with p = 1/2 (sec. 4.4); G with ngf 64 and 6 residual blocks, D with ndf 64 and 6
stride-2 layers; WGAN-GP (lambda_gp 10), lambda_cls 1, lambda_rec 10; n_critic 5; Adam(1e-4, 0.5,
0.999); batch 16; 200,000 D iterations, the rate constant for the first 100,000 and decaying linearly to
0 over the last 100,000 (the paper's 10 + 10 epochs; the code's num_iters 200000, num_iters_decay 100000).
The 1,999 test images are the authors' (``jaxgan.data.attributes``). Panels flip each attribute on its
own; the authors' sample grids set one hair colour and clear the others (not done here).
"""

from jaxgan.config import base_config

STEPS = 200_000  # D updates (the code's --num_iters 200000).
N_CRITIC = 5  # Sec. 4.4 (--n_critic 5).
ATTRIBUTES = "Black_Hair,Blond_Hair,Brown_Hair,Male,Young"  # --selected_attrs.


def get_config():
    config = base_config()
    config.method = "stargan"
    config.data.source = f"attrs:/path/to/celeba:{ATTRIBUTES}"  # Override with your folder.
    config.data.load_size = 128  # --image_size 128 (after the 178x178 centre crop).
    config.data.crop_size = 128
    config.data.flip = True  # Sec. 4.4: horizontal flips with probability 0.5.
    config.model.generator = dict(name="stargan_generator", features=64, residual_blocks=6)  # --g_conv_dim, --g_repeat_num.
    config.model.discriminator = dict(name="stargan_discriminator", features=64, layers=6)  # --d_conv_dim, --d_repeat_num.
    config.loss.adversarial = "wasserstein"  # Eq. 8.
    config.loss.gradient_penalty = 10.0  # --lambda_gp 10.
    config.loss.lambda_cls = 1.0  # --lambda_cls 1.
    config.loss.lambda_rec = 10.0  # --lambda_rec 10.
    config.loss.lambda_identity = 0.0  # Not in the paper (an option of the method).
    config.train.n_critic = N_CRITIC
    steps = config.train.get_ref("steps")  # The decay follows --config.train.steps and --config.train.n_critic.
    for side, updates in (("generator", steps // config.train.get_ref("n_critic")), ("discriminator", steps)):
        # --g_lr = --d_lr = 1e-4, --beta1 0.5, --beta2 0.999; linear decay over the second half (sec. 4.4).
        config.optimizer[side].update(dict(learning_rate=1e-4, b1=0.5, b2=0.999, linear_decay=True,
                                           decay_start=updates // 2))
    config.train.batch_size = 16  # --batch_size 16.
    config.train.steps = STEPS
    config.train.log_every = 100
    config.train.sample_every = 1000  # --sample_step 1000.
    config.train.checkpoint_every = 10000  # --model_save_step 10000.
    config.sample.examples = 8
    return config
