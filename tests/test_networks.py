"""Every network: output shapes and parameter counts computed by hand from the layer sizes."""

import jax
import jax.numpy as jnp
import pytest

from jaxgan import networks
from jaxgan.errors import ConfigError


def dense(n_in, n_out):
    return n_in * n_out + n_out


def _init(net, *args):
    return net.init({"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)}, *args, train=False)


def _count(variables):
    return sum(x.size for x in jax.tree.leaves(variables["params"]))


def test_mlp_generator_paper_sizes():
    g = networks.build("mlp_generator", num_classes=10)
    variables = _init(g, jnp.zeros((3, 100)), jnp.arange(3))
    x = g.apply(variables, jnp.zeros((3, 100)), jnp.arange(3), train=False)
    assert x.shape == (3, 28, 28, 1) and float(x.min()) >= -1 and float(x.max()) <= 1
    # z -> 200, y -> 1000, [200 + 1000] -> 1200, 1200 -> 784 (Mirza & Osindero 2014, sec. 4.1).
    assert _count(variables) == dense(100, 200) + dense(10, 1000) + dense(1200, 1200) + dense(1200, 784)


def test_mlp_discriminator_paper_sizes():
    d = networks.build("mlp_discriminator", num_classes=10)
    variables = _init(d, jnp.zeros((3, 28, 28, 1)), jnp.arange(3))
    assert d.apply(variables, jnp.zeros((3, 28, 28, 1)), jnp.arange(3), train=False).shape == (3,)
    # maxout(784 -> 240 x 5), maxout(10 -> 50 x 5), maxout(290 -> 240 x 4), 240 -> 1.
    assert _count(variables) == dense(784, 1200) + dense(10, 250) + dense(290, 960) + dense(240, 1)


def test_maxout_takes_the_max_over_pieces():
    layer = networks.mlp.Maxout(features=2, pieces=3)
    variables = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 4)))
    h = jnp.ones((1, 4)) @ variables["params"]["Dense_0"]["kernel"] + variables["params"]["Dense_0"]["bias"]
    expected = h.reshape(1, 2, 3).max(-1)
    assert jnp.allclose(layer.apply(variables, jnp.ones((1, 4))), expected)


def test_dcgan_generator_shapes_and_count():
    g = networks.build("dcgan_generator", num_classes=10, features=(256, 128), embed_dim=50)
    variables = _init(g, jnp.zeros((2, 100)), jnp.arange(2))
    assert g.apply(variables, jnp.zeros((2, 100)), jnp.arange(2), train=False).shape == (2, 28, 28, 1)
    expected = (dense(100, 7 * 7 * 256) + 2 * 256          # projection + batch norm
                + 10 * 50 + dense(50, 7 * 7)                 # label embedding -> 7x7 map
                + 4 * 4 * 257 * 128 + 2 * 128                # 7 -> 14 transposed conv (no bias) + BN
                + 4 * 4 * 128 * 1 + 1)                       # 14 -> 28 transposed conv to the image
    assert _count(variables) == expected
    assert set(variables["batch_stats"]) == {"BatchNorm_0", "BatchNorm_1"}


def test_dcgan_discriminator_shapes_and_count():
    d = networks.build("dcgan_discriminator", num_classes=10, features=(64, 128), embed_dim=50)
    variables = _init(d, jnp.zeros((2, 28, 28, 1)), jnp.arange(2))
    assert d.apply(variables, jnp.zeros((2, 28, 28, 1)), jnp.arange(2), train=False).shape == (2,)
    expected = (10 * 50 + dense(50, 28 * 28)              # label embedding -> 28x28 map
                + 4 * 4 * 2 * 64 + 64                      # conv on [image, label map]
                + 4 * 4 * 64 * 128 + 2 * 128               # conv (no bias) + BN
                + dense(7 * 7 * 128, 1))
    assert _count(variables) == expected


def test_dcgan_generator_other_resolution():
    g = networks.build("dcgan_generator", num_classes=3, image_shape=(32, 32, 3), features=(16, 8, 4), embed_dim=4)
    variables = _init(g, jnp.zeros((2, 8)), jnp.arange(2))
    assert g.apply(variables, jnp.zeros((2, 8)), jnp.arange(2), train=False).shape == (2, 32, 32, 3)


def test_bad_network_config_names_the_problem():
    with pytest.raises(ConfigError, match="unknown network 'resnet'"):
        networks.build("resnet", num_classes=10)
    with pytest.raises(ConfigError, match=r"has no hyper-parameter\(s\) \['hiden_units'\]"):
        networks.build("mlp_generator", num_classes=10, hiden_units=3)
    g = networks.build("dcgan_generator", num_classes=10, image_shape=(30, 30, 1))
    with pytest.raises(ConfigError, match="not divisible by 2\\^len\\(features\\) = 4"):
        _init(g, jnp.zeros((1, 100)), jnp.arange(1))
