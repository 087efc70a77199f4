"""CoGAN (Liu & Tuzel 2016) on the paper's digit tasks with the built-in MNIST domains, learning the joint
distribution of two domains from unpaired samples of each:

    configs/cogan_mnist.py:edges      task A: digits and their edge images (builtin:mnist/grey_edges)
    configs/cogan_mnist.py:negative   task B: digits and their negatives (builtin:mnist/negative)

The edge images are the authors' (dilate(x) - x of the grey digit, graded); until 2026-12-05 this variant
used the binary outline ``builtin:mnist/edges`` (RESULTS.md says which a figure was measured on).

Networks, loss and optimizer of the paper's digit experiment as the authors' PyTorch port has them
(mingyuliutw/CoGAN ``cogan_pytorch``: net_cogan_mnistedge.py, trainer_cogan_mnistedge.py,
exps/mnistedge_cogan.yaml); ``jaxgan.networks.cogan`` gives the layers. The pair relation names the
function T of the task for the paper's pixel agreement ratio (``cogan.pair_agreement``).
"""

from jaxgan.config import base_config

# Variant -> (the second domain, the pair relation T of the paper's pixel agreement: jaxgan.methods.cogan).
TASKS = {"edges": ("builtin:mnist/grey_edges", "grey_edges"), "negative": ("builtin:mnist/negative", "negative")}


def get_config(variant: str = "edges"):
    if variant not in TASKS:
        raise ValueError(f"configs/cogan_mnist.py:{variant}: the variants are {sorted(TASKS)}")
    config = base_config()
    config.method = "cogan"
    domain, relation = TASKS[variant]
    config.data.source = f"domains:builtin:mnist/plain|{domain}"  # 28x28 digits, no resize.
    config.model.latent_dim = 100  # latent_dims: 100.
    config.model.noise = "normal"  # torch.randn.
    config.model.pair_relation = relation
    config.model.generator = dict(name="cogan_generator", features=(1024, 512, 256, 128),
                                  shared_layers=4)  # The paper: G's layers 1-4 shared, the output not.
    config.model.discriminator = dict(name="cogan_discriminator", features=(20, 50, 500),
                                      shared_layers=3,  # The paper: D's layers 2-4 shared, the first not.
                                      dropout=0.0)  # The port; the paper's Caffe net: 0.5 on the hidden layer.
    config.loss.adversarial = "non_saturating"  # The port trains G with cross-entropy to 'real'.
    for side in ("generator", "discriminator"):
        config.optimizer[side].update(dict(
            learning_rate=2e-4, b1=0.5, b2=0.999,  # The port's Adam(0.0002, betas (0.5, 0.999)).
            weight_decay=5e-4))  # The port's weight_decay 0.0005 (the Caffe solver's too).
    config.train.batch_size = 64  # batch_size: 64.
    config.train.steps = 5000  # max_iter: 5000 (the Caffe solver: 50000).
    config.train.log_every = 100
    config.train.sample_every = 500  # snapshot_iter: 500.
    config.train.checkpoint_every = 500
    config.train.cpu_ynnpack = False  # XLA:CPU: Eigen's kernels run this step 1.27x faster (RESULTS.md).
    config.sample.examples = 8
    return config
