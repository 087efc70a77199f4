"""Every network: output shapes and parameter counts computed by hand from the layer sizes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import networks
from jaxgan.errors import ConfigError


def dense(n_in, n_out):
    return n_in * n_out + n_out


def _init(net, *args):
    """``net``'s variables, initialised in one compiled program (op by op, XLA:CPU compiles each initialiser)."""
    return jax.jit(lambda *args: net.init({"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)},
                                          *args, train=False))(*args)


def _count(variables):
    return sum(x.size for x in jax.tree.leaves(variables["params"]))


def test_mlp_generator_paper_sizes():
    g = networks.build("mlp_generator", num_classes=10)
    variables = _init(g, jnp.zeros((3, 100)), jnp.arange(3))
    x = g.apply(variables, jnp.zeros((3, 100)), jnp.arange(3), train=False)
    assert x.shape == (3, 28, 28, 1)
    # The output layer is 2 sigmoid(a) - 1: with its kernel 0, a is its bias b whatever the input.
    b = jnp.linspace(-3.0, 3.0, 784)
    params = {**variables["params"], "Dense_3": {"kernel": jnp.zeros((1200, 784)), "bias": b}}
    x = g.apply({"params": params}, jnp.ones((3, 100)), jnp.arange(3), train=False)
    np.testing.assert_allclose(x, np.broadcast_to((2 / (1 + np.exp(-np.asarray(b))) - 1).reshape(1, 28, 28, 1),
                                                  (3, 28, 28, 1)), rtol=1e-5, atol=1e-6)
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


# ----------------------------------------------------------------------------
# DCGAN options: conditional batch norm, projection, spectral norm, auxiliary classifier
# ----------------------------------------------------------------------------


def _shapes(net, *args):
    """(variables, output) as shapes only (jax.eval_shape traces, computes nothing): enough for
    names, shapes and parameter counts, and much faster than running the layers op by op."""
    def init_and_apply():
        variables = _init(net, *args)
        return variables, net.apply(variables, *args, train=False)
    return jax.eval_shape(init_and_apply)


def test_dcgan_default_variable_names_unchanged():
    """The defaults keep the original layer names, so checkpoints of earlier runs restore."""
    g = networks.build("dcgan_generator", num_classes=10, features=(8, 4), embed_dim=4)
    d = networks.build("dcgan_discriminator", num_classes=10, features=(4, 8), embed_dim=4)
    g_vars, _ = _shapes(g, jnp.zeros((2, 8)), jnp.arange(2))
    d_vars, _ = _shapes(d, jnp.zeros((2, 28, 28, 1)), jnp.arange(2))
    assert set(g_vars["params"]) == {"Dense_0", "BatchNorm_0", "LabelMap_0", "ConvTranspose_0", "BatchNorm_1",
                                     "ConvTranspose_1"}
    assert set(d_vars["params"]) == {"LabelMap_0", "Conv_0", "Conv_1", "BatchNorm_0", "Dense_0"}
    assert set(d_vars["batch_stats"]) == {"BatchNorm_0"}


def test_dcgan_generator_cbn_shapes_and_count():
    g = networks.build("dcgan_generator", num_classes=10, features=(256, 128), conditioning="cbn")
    variables, x = _shapes(g, jnp.zeros((2, 100)), jnp.arange(2))
    assert x.shape == (2, 28, 28, 1)
    expected = (dense(100, 7 * 7 * 256) + 2 * 10 * 256   # projection + CBN (gamma_y, beta_y per class)
                + 4 * 4 * 256 * 128 + 2 * 10 * 128       # 7 -> 14 transposed conv (no bias, no label map) + CBN
                + 4 * 4 * 128 * 1 + 1)                   # 14 -> 28 transposed conv to the image
    assert _count(variables) == expected
    assert set(variables["batch_stats"]) == {"ConditionalBatchNorm_0", "ConditionalBatchNorm_1"}


def test_dcgan_generator_cbn_output_depends_on_the_label():
    g = networks.build("dcgan_generator", num_classes=3, image_shape=(8, 8, 1), features=(4, 2), conditioning="cbn")
    z = jax.random.normal(jax.random.PRNGKey(2), (3, 4))
    variables = _init(g, z, jnp.arange(3))
    gamma = variables["params"]["ConditionalBatchNorm_0"]["gamma"]
    variables["params"]["ConditionalBatchNorm_0"]["gamma"] = gamma.at[1].set(3.0)  # Class 1 only.
    same_z = jnp.tile(z[:1], (3, 1))
    x = g.apply(variables, same_z, jnp.array([0, 1, 2]), train=False)
    assert jnp.allclose(x[0], x[2]) and not jnp.allclose(x[0], x[1])


def test_dcgan_discriminator_projection_spectral_norm_count():
    d = networks.build("dcgan_discriminator", num_classes=10, features=(64, 128), conditioning="projection",
                       spectral_norm=True, batch_norm=False)
    variables, logit = _shapes(d, jnp.zeros((2, 28, 28, 1)), jnp.arange(2))
    assert logit.shape == (2,)
    expected = (4 * 4 * 1 * 64 + 64                     # conv on the image alone (no label map)
                + 4 * 4 * 64 * 128 + 128                 # conv with bias (no batch norm)
                + dense(7 * 7 * 128, 1)                  # psi
                + 10 * 7 * 7 * 128)                      # embedding V, one row of phi's size per class
    assert _count(variables) == expected
    # Spectral norm adds no parameters, only each weight's power-iteration state (u, sigma).
    stats = {k for layer in variables["batch_stats"].values() for k in layer}
    assert stats == {f"{w}/{s}" for w in ("Conv_0/kernel", "Conv_1/kernel", "Dense_0/kernel", "Embed_0/embedding")
                     for s in ("u", "sigma")}


def test_dcgan_discriminator_auxiliary_classifier_count():
    d = networks.build("dcgan_discriminator", num_classes=10, features=(64, 128), conditioning="none",
                       dropout_rate=0.5, aux_classes=10)
    variables, (logit, classes) = _shapes(d, jnp.zeros((2, 28, 28, 1)), jnp.arange(2))
    assert logit.shape == (2,) and classes.shape == (2, 10)
    expected = (4 * 4 * 1 * 64 + 64 + 4 * 4 * 64 * 128 + 2 * 128     # convs, batch norm, no label map
                + dense(7 * 7 * 128, 1) + dense(7 * 7 * 128, 10))     # source logit + class logits
    assert _count(variables) == expected


def test_dcgan_discriminator_none_ignores_the_label():
    d = networks.build("dcgan_discriminator", num_classes=3, features=(4, 8), conditioning="none")
    x = jax.random.normal(jax.random.PRNGKey(3), (1, 8, 8, 1))
    variables = _init(d, x, jnp.zeros(1, jnp.int32))
    out = [d.apply(variables, x, jnp.array([y]), train=False) for y in range(3)]
    assert jnp.allclose(out[0], out[1]) and jnp.allclose(out[0], out[2])


def _flat(w):
    return np.asarray(w).reshape(-1, w.shape[-1])


def test_spectral_norm_largest_singular_value_is_one():
    d = networks.build("dcgan_discriminator", num_classes=3, features=(4, 8), conditioning="projection",
                       spectral_norm=True, batch_norm=False)
    x = jax.random.normal(jax.random.PRNGKey(4), (2, 8, 8, 1))
    variables = _init(d, x, jnp.arange(2))

    @jax.jit
    def power_iteration(stats):  # One training-mode pass = one power-iteration step per weight.
        _, updates = d.apply({**variables, "batch_stats": stats}, x, jnp.arange(2), train=True,
                             mutable=["batch_stats"], rngs={"dropout": jax.random.PRNGKey(0)})
        return updates["batch_stats"]

    stats = variables["batch_stats"]
    for _ in range(30):
        stats = power_iteration(stats)
    params = variables["params"]
    weights = {"Conv_0/kernel": params["Conv_0"]["kernel"], "Conv_1/kernel": params["Conv_1"]["kernel"],
               "Embed_0/embedding": params["Embed_0"]["embedding"]}
    sigmas = {k[:-len("/sigma")]: v for layer in stats.values() for k, v in layer.items() if k.endswith("/sigma")}
    for name, w in weights.items():
        top = np.linalg.svd(_flat(w), compute_uv=False)[0]
        assert abs(top / float(sigmas[name]) - 1.0) < 1e-2, name  # sigma_max(W / sigma_hat) ~ 1.


def test_spectral_norm_makes_the_output_invariant_to_weight_scale():
    """D uses W / sigma(W): scaling every weight matrix (not the biases) leaves D unchanged."""
    d = networks.build("dcgan_discriminator", num_classes=3, features=(4, 8), conditioning="projection",
                       spectral_norm=True, batch_norm=False)
    x = jax.random.normal(jax.random.PRNGKey(5), (3, 8, 8, 1))
    variables = _init(d, x, jnp.arange(3))
    scaled = jax.tree_util.tree_map_with_path(
        lambda path, w: w * 7.0 if path[-1].key in ("kernel", "embedding") else w, variables["params"])
    out = d.apply(variables, x, jnp.arange(3), train=False)
    out_scaled = d.apply({**variables, "params": scaled}, x, jnp.arange(3), train=False)
    np.testing.assert_allclose(out, out_scaled, rtol=1e-4, atol=1e-5)
    plain = networks.build("dcgan_discriminator", num_classes=3, features=(4, 8), conditioning="projection",
                           batch_norm=False)
    assert not np.allclose(plain.apply({"params": scaled}, x, jnp.arange(3), train=False),
                           plain.apply({"params": variables["params"]}, x, jnp.arange(3), train=False))


def test_bad_conditioning_names_the_key():
    g = networks.build("dcgan_generator", num_classes=10, conditioning="film")
    with pytest.raises(ConfigError, match=r"conditioning='film'.*model.generator.conditioning"):
        _init(g, jnp.zeros((1, 100)), jnp.arange(1))
    d = networks.build("dcgan_discriminator", num_classes=10, conditioning="cbn")
    with pytest.raises(ConfigError, match=r"conditioning='cbn'.*model.discriminator.conditioning"):
        _init(d, jnp.zeros((1, 28, 28, 1)), jnp.arange(1))


def test_resnet_generator_shapes_and_count():
    g = networks.build("resnet_generator", num_classes=10, features=(4, 3))
    variables = _init(g, jnp.zeros((3, 5)), jnp.arange(3))
    x = g.apply(variables, jnp.zeros((3, 5)), jnp.arange(3), train=False)
    assert x.shape == (3, 28, 28, 1)
    # The output is tanh of the last 3x3 convolution: with its kernel 0, tanh(bias) everywhere.
    params = {**variables["params"], "Conv_0": {"kernel": jnp.zeros((3, 3, 3, 1)), "bias": jnp.array([0.7])}}
    x = g.apply({**variables, "params": params}, jnp.ones((3, 5)), jnp.arange(3), train=False)
    np.testing.assert_allclose(x, np.full((3, 28, 28, 1), np.tanh(0.7)), rtol=1e-6)

    def conv(k, c_in, c_out):
        return k * k * c_in * c_out + c_out

    def cbn(c):  # gamma_y and beta_y for 10 classes.
        return 2 * 10 * c

    def block(c_in, c_out):
        return cbn(c_in) + conv(3, c_in, c_out) + cbn(c_out) + conv(3, c_out, c_out) + conv(1, c_in, c_out)

    assert _count(variables) == dense(5, 7 * 7 * 4) + block(4, 4) + block(4, 3) + 2 * 3 + conv(3, 3, 1)


def test_resnet_generator_label_reaches_every_block():
    g = networks.build("resnet_generator", num_classes=10, features=(4, 3))
    variables = _init(g, jnp.zeros((3, 5)), jnp.arange(3))
    names = [k for k in variables["params"] if k.startswith("UpBlock")]
    assert sorted(names) == ["UpBlock_0", "UpBlock_1"]
    assert all(sorted(k for k in variables["params"][n] if k.startswith("ConditionalBatchNorm"))
               == ["ConditionalBatchNorm_0", "ConditionalBatchNorm_1"] for n in names)
    with pytest.raises(ConfigError, match="not divisible by 2\\^len\\(features\\) = 8"):
        _init(networks.build("resnet_generator", num_classes=10, features=(4, 4, 4)), jnp.zeros((1, 5)),
              jnp.arange(1))
