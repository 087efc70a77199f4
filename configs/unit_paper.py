"""UNIT (Liu, Breuel & Kautz 2017) at the setting of the authors' code, on your own folder in CycleGAN's
layout (DIR/trainA, DIR/trainB, DIR/testA, DIR/testB; e.g. summer2winter_yosemite):

    python -m jaxgan.main --config configs/unit_paper.py --workdir runs/summer2winter \
        --config.data.source=unpaired:/path/to/summer2winter_yosemite

Numbers from mingyuliutw/UNIT (master) configs/unit_summer2winter_yosemite256_folder.yaml (the same in
unit_gta2city_folder.yaml), with the paper's weight sharing (branch version_02: one shared residual
block per side). The code's step decay of the rate (x0.5 every 100,000 iterations) has no jaxgan
schedule: the rate stays 1e-4 here. Its domain-invariant perceptual loss (vgg_w) is 0 in this config.
"""

from jaxgan.config import base_config


def get_config():
    config = base_config()
    config.method = "unit"
    config.data.source = "unpaired:/path/to/summer2winter_yosemite"  # --config.data.source=unpaired:DIR.
    config.data.load_size = 256  # new_size: 256.
    config.data.crop_size = 256  # crop_image_height/width: 256.
    config.data.flip = True  # utils.get_data_loader_folder: RandomHorizontalFlip when training.
    config.model.generator = dict(
        name="unit_generator",
        features=64,  # gen.dim: 64.
        downsamplings=2,  # gen.n_downsample: 2.
        blocks=4,  # gen.n_res: 4 residual blocks per encoder and per generator.
        shared_blocks=1)  # version_02 COCOResGen: n_enc_shared_blk 1, n_gen_shared_blk 1.
    config.model.discriminator = dict(
        name="multiscale_discriminator",
        num_d=3,  # dis.num_scales: 3.
        features=64,  # dis.dim: 64.
        # dis.n_layer 4: four LeakyReLU(0.2) conv layers of widths 64-128-256-512 before the logit layer;
        # the PatchGAN of n_layers 3 has those widths (its last layer has stride 1 and its logit layer a 4x4
        # kernel, the code's stride 2 and 1x1; zero padding, the code's reflection).
        n_layers=3,
        norm="none")  # dis.norm: none.
    config.loss.adversarial = "least_squares"  # dis.gan_type: lsgan.
    config.loss.adversarial_weight = 2.0  # gan_w 1 against the code's unhalved (D - 1)^2.
    config.loss.lambda_reconstruction = 10.0  # recon_x_w: 10.
    config.loss.lambda_kl = 0.01  # recon_kl_w: 0.01.
    config.loss.lambda_cycle = 10.0  # recon_x_cyc_w: 10.
    config.loss.lambda_cycle_kl = 0.01  # recon_kl_cyc_w: 0.01.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(
            learning_rate=1e-4,  # lr: 0.0001.
            b1=0.5, b2=0.999,  # beta1, beta2.
            weight_decay=1e-4))  # weight_decay: 0.0001 (PyTorch Adam's, added to the gradient).
    config.train.batch_size = 1  # batch_size: 1.
    config.train.steps = 1_000_000  # max_iter: 1000000.
    config.train.log_every = 100
    config.train.sample_every = 10_000  # image_save_iter: 10000.
    config.train.checkpoint_every = 10_000  # snapshot_save_iter: 10000.
    config.sample.examples = 4
    return config
