"""pix2pix's U-Net and PatchGAN, pix2pixHD's multi-scale D: shapes, skips, dropout, norms, receptive
fields and parameter counts computed by hand from the layer sizes."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import networks
from jaxgan.errors import ConfigError
from jaxgan.networks.conv import ConvTranspose, correlation_kernel
from jaxgan.networks.patchgan import MultiScaleDiscriminator, PatchGANDiscriminator, receptive_field
from jaxgan.networks.unet import UP_PADDING, UNetGenerator, normalize

RNGS = {"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)}


def _count(variables):
    return sum(x.size for x in jax.tree.leaves(variables["params"]))


def _image(shape, seed=0):
    return jax.random.uniform(jax.random.PRNGKey(seed), shape, minval=-1.0, maxval=1.0)


def conv(n_in, n_out, bias):
    return 16 * n_in * n_out + (n_out if bias else 0)  # 4x4 kernels.


def unet_count(c_in, c_out, n, ngf, bn=True):
    """Parameters of the U-Net with batch norm (no conv biases but the output's)."""
    w = [ngf * min(2 ** i, 8) for i in range(n)]
    down = conv(c_in, w[0], False) + sum(conv(w[i - 1], w[i], False) + 2 * w[i] * (i < n - 1) for i in range(1, n))
    up = conv(w[n - 1], w[n - 2], False) + 2 * w[n - 2]  # Innermost: no skip to concatenate yet.
    up += sum(conv(2 * w[i], w[i - 1], False) + 2 * w[i - 1] for i in range(1, n - 1))
    return down + up + conv(2 * w[0], c_out, True)


def patchgan_count(c_in, ndf, n):
    w = [ndf * min(2 ** j, 8) for j in range(n + 1)]
    return conv(c_in, w[0], True) + sum(conv(w[j - 1], w[j], False) + 2 * w[j] for j in range(1, n + 1)) + conv(
        w[n], 1, True)


def test_unet_shapes_skips_and_count():
    g = UNetGenerator(output_channels=2, num_downs=5, features=4)
    x = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)
    variables = jax.eval_shape(lambda x: g.init(RNGS, x, train=False), x)
    y = jax.eval_shape(lambda v, x: g.apply(v, x, train=False, rngs={"dropout": RNGS["dropout"]}), variables, x)
    assert y.shape == (2, 32, 32, 2)
    params = variables["params"]
    # Encoder 3 -> 4 -> 8 -> 16 -> 32 -> 32; each decoder layer but the innermost sees [skip, up] channels.
    assert [params[f"Conv_{i}"]["kernel"].shape[2:] for i in range(5)] == [(3, 4), (4, 8), (8, 16), (16, 32), (32, 32)]
    assert [params[f"ConvTranspose_{i}"]["correlation_kernel"].shape[2:] for i in range(5)] == [
        (32, 32), (64, 16), (32, 8), (16, 4), (8, 2)]  # (in, out): W' of transpose_kernel.
    assert _count(variables) == unet_count(3, 2, 5, 4)
    assert set(variables["batch_stats"]) == {f"BatchNorm_{i}" for i in range(7)}  # 3 encoder + 4 decoder norms.


# The small U-Net of most tests (1 -> 1 channels, 32x32); tests share its layer shapes because every
# new shape costs XLA:CPU a compilation of its random initialiser.
SMALL_UNET = dict(output_channels=1, num_downs=5, features=4)


@pytest.fixture(scope="module")
def small_unet():
    g = UNetGenerator(**SMALL_UNET)
    return g, jax.jit(lambda: g.init(RNGS, jnp.zeros((2, 32, 32, 1)), train=False))()


def test_unet_skip_connections_carry_the_input(small_unet):
    g, variables = small_unet
    x = _image((1, 32, 32, 1))
    params = variables["params"]

    @jax.jit
    def run(p, inputs):  # Batch statistics keep every layer's activations at unit scale.
        return g.apply({**variables, "params": p}, inputs, train=True, mutable=["batch_stats"])[0]

    assert float(jnp.abs(run(params, x)).max()) <= 1.0  # tanh output.

    def changed(a, b):
        return float(jnp.abs(a - b).max()) > 0.01 * float(jnp.abs(b).max())

    # Cut the bottleneck: the innermost encoder conv (no bias under batch norm) now outputs zeros.
    cut = {**params, "Conv_4": {"kernel": jnp.zeros_like(params["Conv_4"]["kernel"])}}
    assert changed(run(cut, x), run(params, x))
    # Only the skips can carry x to the output now: without them G would be a constant.
    grad = jax.jit(jax.grad(lambda p, inputs: run(p, inputs)[0, 16, 16, 0], argnums=1))
    assert float(jnp.abs(grad(cut, x)).max()) > 1e-3 * float(jnp.abs(grad(params, x)).max())
    # The outermost skip (the first ngf input channels of the output layer) is used.
    kernel = params["ConvTranspose_4"]["correlation_kernel"]  # [4, 4, C_in, C_out].
    no_skip = {**params, "ConvTranspose_4": {**params["ConvTranspose_4"],
                                             "correlation_kernel": kernel.at[:, :, :4].set(0)}}
    assert changed(run(no_skip, x), run(params, x))


def test_transposed_conv_is_aligned_as_pytorch():
    """ConvTranspose2d(k=4, s=2, p=1) by its definition: input pixel (y, x) adds W[i, o, ky, kx]
    to output pixel (2y - 1 + ky, 2x - 1 + kx); Flax's kernel is W transposed to [ky, kx, o, i], and
    jaxgan's holds that as W' (``correlation_kernel``)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 3, 2)).astype(np.float32)
    w = rng.normal(size=(2, 5, 4, 4)).astype(np.float32)  # PyTorch layout [in, out, kh, kw].
    expected = np.zeros((6, 6, 5), np.float32)
    for y in range(3):
        for xx in range(3):
            for ky in range(4):
                for kx in range(4):
                    oy, ox = 2 * y - 1 + ky, 2 * xx - 1 + kx
                    if 0 <= oy < 6 and 0 <= ox < 6:
                        expected[oy, ox] += x[y, xx] @ w[:, :, ky, kx]
    flax_kernel = jnp.asarray(w.transpose(2, 3, 1, 0))
    for layer_class, params in ((nn.ConvTranspose, {"kernel": flax_kernel}),  # Flax's and the U-Net's.
                                (ConvTranspose, {"correlation_kernel": correlation_kernel(flax_kernel)})):
        layer = layer_class(5, (4, 4), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True, use_bias=False)
        out = layer.apply({"params": params}, x[None])
        np.testing.assert_allclose(out[0], expected, rtol=1e-5, atol=1e-5)


def test_unet_bad_sizes_name_the_problem():
    with pytest.raises(ConfigError, match=r"36x36 is not divisible by 2\^num_downs = 32"):
        UNetGenerator(output_channels=1, num_downs=5, features=2).init(RNGS, jnp.zeros((1, 36, 36, 1)), train=False)
    with pytest.raises(ConfigError, match="num_downs >= 5"):
        UNetGenerator(output_channels=1, num_downs=4, features=2).init(RNGS, jnp.zeros((1, 32, 32, 1)), train=False)
    with pytest.raises(ConfigError, match="norm='group'"):
        UNetGenerator(output_channels=1, num_downs=5, norm="group").init(RNGS, jnp.zeros((1, 32, 32, 1)), train=False)


def _outputs_for_two_dropout_rngs(num_downs, size, *, train, test_time_dropout):
    g = UNetGenerator(**{**SMALL_UNET, "num_downs": num_downs}, test_time_dropout=test_time_dropout)
    x = _image((1, size, size, 1))
    variables = jax.jit(lambda x: g.init(RNGS, x, train=False))(x)
    apply = jax.jit(lambda key: g.apply(variables, x, train=train, rngs={"dropout": key}, mutable=["batch_stats"])[0])
    return [apply(jax.random.PRNGKey(seed)) for seed in (3, 4)]


def test_dropout_at_test_time_only_with_the_switch():
    # Exact comparisons: at init, eval-mode activations are small and dropout's effect on them too.
    a, b = _outputs_for_two_dropout_rngs(6, 64, train=False, test_time_dropout=True)
    assert not np.array_equal(a, b)
    a, b = _outputs_for_two_dropout_rngs(6, 64, train=False, test_time_dropout=False)
    np.testing.assert_array_equal(a, b)
    a, b = _outputs_for_two_dropout_rngs(6, 64, train=True, test_time_dropout=False)
    assert not np.array_equal(a, b)
    # The reference puts dropout in the num_downs - 5 blocks outside the innermost: none for num_downs = 5.
    a, b = _outputs_for_two_dropout_rngs(5, 32, train=True, test_time_dropout=True)
    np.testing.assert_array_equal(a, b)


def test_instance_norm_against_numpy():
    x = np.asarray(_image((2, 3, 5, 4)), np.float64) * 3.0 + 1.0
    class Norm(nn.Module):
        @nn.compact
        def __call__(self, h):
            return normalize(h, "instance", train=True)

    variables = Norm().init(jax.random.PRNGKey(0), jnp.asarray(x, jnp.float32))
    assert variables == {}  # No affine parameters, no running statistics.
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(Norm().apply(variables, jnp.asarray(x, jnp.float32)), (x - mean) / np.sqrt(var + 1e-5),
                               rtol=1e-4, atol=1e-4)


def test_batch_norm_couples_examples_and_instance_norm_does_not():
    a, b, c = (_image((1, 32, 32, 1), seed) for seed in (5, 6, 7))
    outputs = {}
    for norm in ("batch", "instance"):
        g = UNetGenerator(**SMALL_UNET, norm=norm)
        variables = jax.jit(lambda x, g=g: g.init(RNGS, x, train=False))(jnp.concatenate([a, b]))
        assert ("batch_stats" in variables) == (norm == "batch")

        @functools.partial(jax.jit, static_argnums=1)
        def run(x, train, g=g, variables=variables):
            return g.apply(variables, x, train=train, mutable=["batch_stats"])[0]

        ab, ac = run(jnp.concatenate([a, b]), True), run(jnp.concatenate([a, c]), True)
        outputs[norm] = (ab, ac, run(jnp.concatenate([a, b]), False))
    ab, ac, ab_eval = outputs["batch"]
    assert not np.allclose(ab[0], ac[0])  # Batch statistics: example a's output depends on its batch-mate.
    assert not np.allclose(ab, ab_eval)  # Running averages at eval time.
    ab, ac, ab_eval = outputs["instance"]
    np.testing.assert_allclose(ab[0], ac[0], atol=1e-6)
    np.testing.assert_allclose(ab, ab_eval, atol=1e-6)


def test_init_follows_the_reference(small_unet):
    params = small_unet[1]["params"]
    kernel = np.asarray(params["Conv_4"]["kernel"])  # 4 * 4 * 32 * 32 weights ~ N(0, 0.02^2).
    assert abs(kernel.std() - 0.02) < 0.001 and abs(kernel.mean()) < 0.001
    scales = np.concatenate([np.asarray(p["scale"]) for name, p in params.items() if name.startswith("BatchNorm")])
    assert scales.size == 116 and abs(scales.mean() - 1.0) < 0.01 and 0.015 < scales.std() < 0.025  # N(1, 0.02^2).
    assert all(np.all(np.asarray(p["bias"]) == 0) for name, p in params.items() if name.startswith("BatchNorm"))
    assert "bias" not in params["Conv_1"]  # Batch norm follows: no bias.
    assert "bias" in params["ConvTranspose_4"] and np.all(np.asarray(params["ConvTranspose_4"]["bias"]) == 0)


def _gradient_support(d, size, position):
    x = _image((1, size, size, 2))
    variables = d.init(RNGS, x, train=False)
    grad = jax.grad(lambda inputs: d.apply(variables, inputs, train=False)[0, position, position, 0])(x)
    return np.abs(np.asarray(grad)[0]).sum(-1) > 0


@pytest.mark.parametrize("n_layers, size, first", [(1, 24, 1), (3, 72, 1)])
def test_patchgan_receptive_field(n_layers, size, first):
    """Logit (3, 3) sees input rows and columns [first, first + RF): a full RF x RF window, nothing else
    (without norm: batch and instance norm in training couple all pixels)."""
    rf = {1: 16, 3: 70}[n_layers]
    assert receptive_field(n_layers) == rf
    support = _gradient_support(PatchGANDiscriminator(features=2, n_layers=n_layers, norm="none"), size, 3)
    window = np.zeros_like(support)
    window[first:first + rf, first:first + rf] = True
    np.testing.assert_array_equal(support, window)


def test_receptive_fields_of_the_paper():
    assert [receptive_field(n) for n in (1, 3, 5)] == [16, 70, 286]  # 16x16, 70x70, 286x286 ImageGAN.
    assert receptive_field(3, "pixel") == 1


def test_pixelgan_sees_one_pixel():
    d = PatchGANDiscriminator(variant="pixel")
    variables = jax.eval_shape(lambda: d.init(RNGS, jnp.zeros((1, 8, 8, 6)), train=False))
    assert [variables["params"][f"Conv_{i}"]["kernel"].shape for i in range(3)] == [
        (1, 1, 6, 64), (1, 1, 64, 128), (1, 1, 128, 1)]
    support = _gradient_support(PatchGANDiscriminator(features=2, variant="pixel", norm="none"), 8, 5)
    expected = np.zeros_like(support)
    expected[5, 5] = True
    np.testing.assert_array_equal(support, expected)


def test_patchgan_features_and_errors():
    d = PatchGANDiscriminator(features=2, n_layers=3, norm="instance")
    x = _image((2, 32, 32, 2))
    variables = d.init(RNGS, x, train=False)
    logits, activations = d.apply(variables, x, train=False, return_features=True)
    # 32 -> 16 -> 8 -> 4 (stride 2, padding 1) -> 3 -> 2 (stride 1).
    assert logits.shape == (2, 2, 2, 1)
    assert [a.shape for a in activations] == [(2, 16, 16, 2), (2, 8, 8, 4), (2, 4, 4, 8), (2, 3, 3, 16)]
    np.testing.assert_array_equal(logits, d.apply(variables, x, train=False))
    with pytest.raises(ConfigError, match="too small"):
        PatchGANDiscriminator(features=2, n_layers=3).init(RNGS, jnp.zeros((1, 8, 8, 2)), train=False)
    with pytest.raises(ConfigError, match="variant='image'"):
        PatchGANDiscriminator(variant="image").init(RNGS, jnp.zeros((1, 8, 8, 2)), train=False)


def test_spectral_norm_keeps_its_power_iteration_state():
    x = _image((1, 32, 32, 2))
    plain = jax.eval_shape(lambda x: PatchGANDiscriminator(features=2, norm="none").init(RNGS, x, train=False), x)
    assert set(plain) == {"params"}
    d = PatchGANDiscriminator(features=2, norm="none", spectral_norm=True)
    variables = jax.jit(lambda x: d.init(RNGS, x, train=False))(x)
    assert sorted(variables["batch_stats"]) == [f"SpectralNorm_{i}" for i in range(5)]
    _, updated = jax.jit(lambda v, x: d.apply(v, x, train=True, mutable=["batch_stats"]))(variables, x)
    u = variables["batch_stats"]["SpectralNorm_0"]["Conv_0/kernel/u"]
    assert not np.allclose(u, updated["batch_stats"]["SpectralNorm_0"]["Conv_0/kernel/u"])


def _avg_pool_3x3_s2_exclude_pad(x):
    """3x3 average pooling, stride 2, padding 1, padded pixels left out of each mean."""
    b, h, w, c = x.shape
    out = np.zeros((b, (h + 1) // 2, (w + 1) // 2, c))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            rows, cols = slice(max(2 * i - 1, 0), 2 * i + 2), slice(max(2 * j - 1, 0), 2 * j + 2)
            out[:, i, j] = x[:, rows, cols].mean(axis=(1, 2))
    return out


def test_multiscale_discriminator():
    m = MultiScaleDiscriminator(num_d=3, features=2, n_layers=3)
    x = _image((2, 32, 32, 2))
    variables = jax.jit(lambda x: m.init(RNGS, x, train=False))(x)
    assert sorted(variables["params"]) == ["scale_0", "scale_1", "scale_2"]
    outputs = jax.jit(lambda v, x: m.apply(v, x, train=False, return_features=True))(variables, x)
    # Padding 2 (pix2pixHD): s -> s // 2 + 1 three times, then s + 1 twice. 32, 16 and 8 pixels per side.
    assert [logits.shape[1] for logits, _ in outputs] == [7, 5, 4]
    assert all([a.shape[-1] for a in activations] == [2, 4, 8, 16] for _, activations in outputs)
    # Scale 1 is its own PatchGAN applied to the pooled input.
    pooled = jnp.asarray(_avg_pool_3x3_s2_exclude_pad(np.asarray(x, np.float64)), jnp.float32)
    single = PatchGANDiscriminator(features=2, n_layers=3, norm="instance", padding=2)
    alone = jax.jit(lambda v, x: single.apply(v, x, train=False))({"params": variables["params"]["scale_1"]}, pooled)
    np.testing.assert_allclose(outputs[1][0], alone, rtol=1e-4, atol=1e-5)
    assert not np.allclose(variables["params"]["scale_0"]["Conv_0"]["kernel"],
                           variables["params"]["scale_1"]["Conv_0"]["kernel"])
    logits = jax.eval_shape(lambda v, x: m.apply(v, x, train=False), variables, x)
    assert [o.shape for o in logits] == [(2, 7, 7, 1), (2, 5, 5, 1), (2, 4, 4, 1)]


def test_registered_by_name():
    assert isinstance(networks.build("unet_generator", output_channels=3), UNetGenerator)
    assert isinstance(networks.build("patchgan_discriminator", n_layers=1), PatchGANDiscriminator)
    assert isinstance(networks.build("multiscale_discriminator", num_d=3), MultiScaleDiscriminator)


@pytest.mark.parametrize("channels, g_count, d_count", [
    (3, 54_413_955, 2_768_705),  # RGB -> RGB: 54.414 M and 2.769 M.
    (1, 54_407_809, 2_764_609),  # Grayscale: the reference prints 54.408 M and 2.765 M (its issue #1152).
])
def test_paper_size_unet_256_and_70x70_patchgan(channels, g_count, d_count):
    """unet_256 (ngf 64) and the 70x70 PatchGAN (ndf 64) on the (input, output) pair at 256x256,
    shapes only (jax.eval_shape: no convolution runs)."""
    g, d = UNetGenerator(output_channels=channels), PatchGANDiscriminator()
    x = jax.ShapeDtypeStruct((1, 256, 256, channels), jnp.float32)
    pair = jax.ShapeDtypeStruct((1, 256, 256, 2 * channels), jnp.float32)
    g_vars = jax.eval_shape(lambda x: g.init(RNGS, x, train=False), x)
    d_vars = jax.eval_shape(lambda x: d.init(RNGS, x, train=False), pair)
    assert _count(g_vars) == unet_count(channels, channels, 8, 64) == g_count
    assert _count(d_vars) == patchgan_count(2 * channels, 64, 3) == d_count
    y = jax.eval_shape(lambda v, x: g.apply(v, x, train=False, rngs={"dropout": RNGS["dropout"]}), g_vars, x)
    assert y.shape == (1, 256, 256, channels)
    assert jax.eval_shape(lambda v, x: d.apply(v, x, train=False), d_vars, pair).shape == (1, 30, 30, 1)
