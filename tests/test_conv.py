"""jaxgan.networks.conv.ConvTranspose against flax.linen.ConvTranspose and a direct scatter loop."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.errors import ConfigError
from jaxgan.networks import conv

# The settings jaxgan uses: (kernel size, options). DCGAN's 'SAME'; PyTorch's ConvTranspose2d(4, 2,
# padding=1) (pix2pix's U-Net, Context Encoders); PyTorch's ConvTranspose2d(3, 2, padding=1,
# output_padding=1) (pix2pixHD, CycleGAN's ResNet generator).
LAYOUTS = {"dcgan_same": (4, dict(padding="SAME", transpose_kernel=False)),
           "torch_k4_p1": (4, dict(padding=((2, 2), (2, 2)), transpose_kernel=True)),
           "torch_k3_p1_op1": (3, dict(padding=((1, 2), (1, 2)), transpose_kernel=True))}
# (batch, height, width, C_in, C_out, use_bias): odd and even sizes, C_out on both sides of the
# 'auto' threshold, bias on and off.
SHAPES = [(2, 5, 7, 3, 1, True), (1, 4, 6, 5, 16, False), (3, 3, 4, 8, 4, False), (1, 6, 5, 2, 20, True)]
DECOMPOSITIONS = ("input_dilation", "one_convolution", "phase_convolutions", "tap_products")


def _layers(c_out, use_bias, layout, decomposition):
    kernel, options = LAYOUTS[layout]
    ref = nn.ConvTranspose(c_out, (kernel, kernel), (2, 2), use_bias=use_bias, **options)
    return ref, conv.ConvTranspose(c_out, (kernel, kernel), (2, 2), use_bias=use_bias, decomposition=decomposition,
                                   **options)


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _inputs(batch, height, width, c_in, seed=0):
    return jnp.asarray(_normal(batch, height, width, c_in, seed=seed))


def _random_params(ref, x):
    """Random parameters of Flax's shapes, with a nonzero bias (the initialiser's bias is 0, which
    would hide a wrongly placed bias); numpy draws them (cheaper in tests than compiled inits)."""
    shapes = jax.eval_shape(ref.init, jax.random.PRNGKey(1), x)["params"]
    return jax.tree.map(lambda p: jnp.asarray(_normal(*p.shape, seed=p.size)), shapes)


def _as_stored(params, layout):
    """Flax's parameters as :class:`conv.ConvTranspose` holds them: with ``transpose_kernel=True``,
    the kernel as W' (``conv.correlation_kernel``) under the name 'correlation_kernel'."""
    if not LAYOUTS[layout][1]["transpose_kernel"]:
        return dict(params)
    return {("correlation_kernel" if k == "kernel" else k): (conv.correlation_kernel(v) if k == "kernel" else v)
            for k, v in params.items()}


@pytest.mark.parametrize("decomposition", DECOMPOSITIONS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_outputs_and_gradients_equal_flax(shape, layout, decomposition):
    batch, height, width, c_in, c_out, use_bias = shape
    ref, new = _layers(c_out, use_bias, layout, decomposition)
    x = _inputs(batch, height, width, c_in)
    params = _random_params(ref, x)
    cotangent = _inputs(batch, 2 * height, 2 * width, c_out, seed=2)

    def output_and_grads(layer, params):
        """y = layer(x) and the gradients of sum(y * cotangent) w.r.t. params and x."""
        def loss(p, x):
            y = layer.apply({"params": p}, x)
            return jnp.sum(y * cotangent), y

        (_, y), grads = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))(params, x)
        return y, grads

    (expected, (ref_params, ref_x)) = output_and_grads(ref, params)
    (output, (new_params, new_x)) = output_and_grads(new, _as_stored(params, layout))
    assert expected.shape == (batch, 2 * height, 2 * width, c_out)
    np.testing.assert_allclose(output, expected, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(new_x, ref_x, atol=1e-5, rtol=1e-5)
    ref_params = _as_stored(ref_params, layout)  # W' is a permutation of W: its gradient is permuted alike.
    assert set(new_params) == set(ref_params)
    for name in ref_params:
        np.testing.assert_allclose(new_params[name], ref_params[name], atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("decomposition", DECOMPOSITIONS)
@pytest.mark.parametrize("layout", ["torch_k4_p1", "torch_k3_p1_op1"])
def test_torch_layouts_are_the_scatter_definition(layout, decomposition):
    """PyTorch's ConvTranspose2d(k, s=2, p=1[, output_padding=1]): each input pixel i scatters x[i] W[k] to
    output s i + k - p, output size 2 N. With ``transpose_kernel=True``, W is Flax's kernel [k_h, k_w, C_out, C_in]
    and the layer holds W' = ``conv.correlation_kernel(W)``."""
    _, new = _layers(2, False, layout, decomposition)
    size = LAYOUTS[layout][0]
    x = _inputs(1, 3, 4, 3)
    kernel = _normal(size, size, 2, 3, seed=3)
    expected = np.zeros((1, 6, 8, 2), np.float32)
    xs = np.asarray(x)
    for i in range(3):
        for j in range(4):
            for kh in range(size):
                for kw in range(size):
                    oh, ow = 2 * i + kh - 1, 2 * j + kw - 1
                    if 0 <= oh < 6 and 0 <= ow < 8:
                        expected[0, oh, ow] += kernel[kh, kw] @ xs[0, i, j]
    stored = {"correlation_kernel": conv.correlation_kernel(jnp.asarray(kernel))}
    np.testing.assert_allclose(new.apply({"params": stored}, x), expected, atol=1e-5)


# 1x1 inputs: (kernel, stride, options). CoGAN's first layer (PyTorch's ConvTranspose2d(100, 1024, 4)); DCGAN's
# 'SAME' (the output crops the flipped kernel); low padding beyond the kernel (zero outputs first) and a short high
# padding (the kernel cut), per axis; a low padding past every output (zero outputs only).
SINGLE_POSITION = {"cogan_k4_s1": (4, 1, dict(padding=((3, 3), (3, 3)), transpose_kernel=True)),
                   "dcgan_same": (4, 2, dict(padding="SAME", transpose_kernel=False)),
                   "uneven": (5, 1, dict(padding=((1, 4), (6, 2)), transpose_kernel=True)),
                   "past_the_kernel": (3, 1, dict(padding=((6, -2), (1, 1)), transpose_kernel=False))}


@pytest.mark.parametrize("case", SINGLE_POSITION)
def test_single_position_outputs_and_gradients_equal_flax(case):
    """'single_position' (one product with W' flipped and cut; 'auto' takes it for 1x1 inputs on CPU): the
    outputs and both gradients equal Flax's, with zero outputs where the padding reaches past the kernel."""
    kernel, stride, options = SINGLE_POSITION[case]
    ref = nn.ConvTranspose(6, (kernel, kernel), (stride, stride), **options)
    new = conv.ConvTranspose(6, (kernel, kernel), (stride, stride), **options)
    x = _inputs(3, 1, 1, 5)
    params = _random_params(ref, x)
    layout = "torch_k4_p1" if options["transpose_kernel"] else "dcgan_same"  # For _as_stored.
    out_shape = jax.eval_shape(ref.apply, {"params": params}, x).shape
    cotangent = _inputs(*out_shape, seed=2)

    def output_and_grads(layer, params):
        def loss(p, x):
            y = layer.apply({"params": p}, x)
            return jnp.sum(y * cotangent), y

        return jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))(params, x)

    jaxpr = str(jax.make_jaxpr(new.apply)({"params": _as_stored(params, layout)}, x))
    assert (jaxpr.count("dot_general"), jaxpr.count("conv_general_dilated")) == (1, 0)
    (_, expected), (ref_params, ref_x) = output_and_grads(ref, params)
    (_, output), (new_params, new_x) = output_and_grads(new, _as_stored(params, layout))
    np.testing.assert_allclose(output, expected, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(new_x, ref_x, atol=1e-5, rtol=1e-5)
    ref_params = _as_stored(ref_params, layout)
    for name in ref_params:
        np.testing.assert_allclose(new_params[name], ref_params[name], atol=1e-4, rtol=1e-5)
    if case == "uneven":  # Outputs 0, 1 of the second axis read no tap: the bias alone.
        np.testing.assert_allclose(output[:, :, :2], np.broadcast_to(params["bias"], output[:, :, :2].shape), atol=1e-6)
    if case == "past_the_kernel":  # The low padding reaches past every output on the first axis: the bias alone.
        np.testing.assert_allclose(output, np.broadcast_to(params["bias"], output.shape), atol=1e-6)


class _TwoLayers(nn.Module):
    """A parent with two transposed convolutions, to compare parameter trees and names."""

    layer: type

    @nn.compact
    def __call__(self, x):
        x = self.layer(6, (4, 4), (2, 2), padding="SAME", use_bias=False)(x)
        return self.layer(3, (4, 4), (2, 2), padding=((2, 2), (2, 2)), transpose_kernel=True)(nn.relu(x))


def test_same_initialisation_from_the_same_rng():
    """Flax's kernels from the same rng, the transposed one held as W': the same draws (and so Flax's
    fan-in, [C_out, C_in]'s for PyTorch's layout) and the same outputs."""
    x = _inputs(2, 3, 5, 4)
    ref_net, new_net = _TwoLayers(nn.ConvTranspose), _TwoLayers(conv.ConvTranspose)
    ref = jax.jit(ref_net.init)(jax.random.PRNGKey(7), x)
    new = jax.jit(new_net.init)(jax.random.PRNGKey(7), x)
    assert jax.tree.map(jnp.shape, new) == {"params": {"ConvTranspose_0": {"kernel": (4, 4, 4, 6)},
                                                       "ConvTranspose_1": {"correlation_kernel": (4, 4, 6, 3),
                                                                           "bias": (3,)}}}
    ref_as_stored = {"params": {"ConvTranspose_0": ref["params"]["ConvTranspose_0"],
                                "ConvTranspose_1": _as_stored(ref["params"]["ConvTranspose_1"], "torch_k4_p1")}}
    jax.tree.map(np.testing.assert_array_equal, new, ref_as_stored)
    np.testing.assert_allclose(jax.jit(new_net.apply)(new, x), jax.jit(ref_net.apply)(ref, x), atol=1e-5)


@pytest.mark.parametrize("features, size, convolutions, products", [
    (4, 5, 1, 0),    # 25 positions > 4 features (and > 16 outputs of the one convolution): one convolution.
    (16, 8, 4, 0),   # 64 positions > 16 features: a convolution per phase.
    (16, 4, 0, 1),   # 16 positions <= 16 features: one batched product over the 16 taps.
])
def test_auto_picks_the_decomposition_by_features_and_positions(features, size, convolutions, products):
    layer = conv.ConvTranspose(features, (4, 4), (2, 2))
    x = _inputs(1, size, size, 2)
    variables = layer.init(jax.random.PRNGKey(0), x)
    jaxpr = str(jax.make_jaxpr(lambda v: layer.apply(v, x))(variables))
    assert (jaxpr.count("conv_general_dilated"), jaxpr.count("dot_general")) == (convolutions, products)


def test_auto_keeps_convolutions_off_cpu(monkeypatch):
    """The matrix-product forms are chosen for XLA:CPU only (measured there), and no backend gets the
    input-dilated convolution (cuDNN ran it 20x slower on an H200)."""
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    x = _inputs(1, 2, 2, 8)
    layer = conv.ConvTranspose(16, (4, 4), (2, 2))
    jaxpr = str(jax.make_jaxpr(lambda v: layer.apply(v, x))(layer.init(jax.random.PRNGKey(0), x)))
    assert jaxpr.count("conv_general_dilated") == 4 and "dot_general" not in jaxpr and "lhs_dilation=(2" not in jaxpr
    x1 = _inputs(1, 1, 1, 8)
    jaxpr = str(jax.make_jaxpr(lambda v: layer.apply(v, x1))(layer.init(jax.random.PRNGKey(0), x1)))
    assert "conv_general_dilated" in jaxpr and "dot_general" not in jaxpr  # A 1x1 input too.
    jaxpr = str(jax.make_jaxpr(lambda x, k: conv.conv_general_dilated(
        x, k, (2, 2), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")))(x, jnp.ones((4, 4, 8, 16))))
    assert "conv_general_dilated" in jaxpr and "dot_general" not in jaxpr
    jaxpr = str(jax.make_jaxpr(lambda x, k: conv.conv_general_dilated(
        x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))(x, jnp.ones((3, 3, 8, 3))))
    assert "conv_general_dilated" in jaxpr and "dot_general" not in jaxpr


# (input shape, kernel shape, strides, padding, lhs dimension spec): 1-, 2- and 3-d, string and explicit
# (also negative) padding, a batch, and a channels-first layout that must go to lax unchanged; the next
# five have 1-5 output features (lax, except the 7x7 one, whose output is shorter than its kernel); then
# two outputs shorter than the kernel with more positions than features (products) and one that is not (lax).
CONVOLUTIONS = [
    ((1, 4, 4, 8), (4, 4, 8, 64), (2, 2), ((1, 1), (1, 1)), "NHWC"),
    ((2, 5, 6, 3), (3, 3, 3, 64), (1, 2), "SAME", "NHWC"),
    ((1, 7, 7, 4), (3, 2, 4, 64), (2, 1), "VALID", "NHWC"),
    ((1, 7, 6, 4), (3, 3, 4, 64), (2, 2), ((-1, 2), (0, -1)), "NHWC"),
    ((1, 6, 4), (5, 4, 32), (1,), "SAME", "NHC"),
    ((1, 3, 3, 2, 4), (2, 2, 2, 4, 64), (1, 1, 1), "SAME", "NHWDC"),
    ((1, 8, 4, 4), (3, 3, 8, 64), (2, 2), "SAME", "NCHW"),
    ((2, 9, 8, 5), (3, 3, 5, 3), (1, 1), "SAME", "NHWC"),
    ((1, 13, 12, 6), (7, 7, 6, 3), (1, 1), "VALID", "NHWC"),
    ((1, 9, 4), (4, 4, 1), (1,), ((2, -1),), "NHC"),
    ((1, 4, 5, 3, 2), (2, 3, 2, 2, 4), (1, 1, 1), "SAME", "NHWDC"),
    ((1, 9, 9, 4), (4, 4, 4, 1), (2, 2), ((1, 1), (1, 1)), "NHWC"),
    ((8, 7, 7, 4), (4, 4, 4, 16), (2, 2), ((1, 1), (1, 1)), "NHWC"),
    ((4, 2, 3, 4), (3, 3, 4, 8), (1, 1), "SAME", "NHWC"),
    ((2, 9, 9, 4), (4, 4, 4, 8), (2, 2), ((1, 1), (1, 1)), "NHWC"),
]


@pytest.mark.parametrize("shape, kernel_shape, strides, padding, spec", CONVOLUTIONS)
def test_product_convolutions_equal_lax(shape, kernel_shape, strides, padding, spec):
    """conv.conv_general_dilated: outputs and gradients equal lax's; a matrix-product form is taken
    exactly where the layout is channels-last and the output positions are no more than the output
    features, or the output is shorter than the kernel on some axis (checked in the jaxpr)."""
    x, kernel = jnp.asarray(_normal(*shape)), jnp.asarray(_normal(*kernel_shape, seed=1))
    n = len(shape) - 2
    numbers = (spec, "HWD"[:n] + "IO", spec)
    expected = jax.lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=numbers)
    cotangent = jnp.asarray(_normal(*expected.shape, seed=2))

    def output_and_grads(fn):
        """y = fn(x, kernel) and the gradients of sum(y * cotangent) w.r.t. x and the kernel."""
        def loss(x, kernel):
            y = fn(x, kernel, strides, padding, dimension_numbers=numbers)
            return jnp.sum(y * cotangent), y
        (_, y), grads = jax.jit(jax.value_and_grad(loss, (0, 1), has_aux=True))(x, kernel)
        return y, grads

    y, grads = output_and_grads(conv.conv_general_dilated)
    _, ref_grads = output_and_grads(jax.lax.conv_general_dilated)
    np.testing.assert_allclose(y, expected, atol=1e-4, rtol=1e-5)
    for g, ref in zip(grads, ref_grads):
        np.testing.assert_allclose(g, ref, atol=1e-4, rtol=1e-5)
    jaxpr = str(jax.make_jaxpr(lambda x, k: conv.conv_general_dilated(x, k, strides, padding,
                                                                      dimension_numbers=numbers))(x, kernel))
    positions = expected.shape[0] * int(np.prod(expected.shape[2:] if spec.index("C") == 1 else expected.shape[1:-1]))
    out_size = expected.shape[2:] if spec.index("C") == 1 else expected.shape[1:-1]
    short = any(o < k for o, k in zip(out_size, kernel_shape[:n]))
    as_product = spec.endswith("C") and (positions <= kernel_shape[-1] or short)
    assert ("dot_general" in jaxpr, "conv_general_dilated" in jaxpr) == (as_product, not as_product)


def test_conv_is_flax_conv_with_the_same_parameters_and_outputs():
    x = _inputs(1, 4, 4, 16)
    ref, new = nn.Conv(64, (4, 4), (2, 2), padding=((1, 1), (1, 1))), conv.Conv(64, (4, 4), (2, 2), padding=((1, 1), (1, 1)))
    params = ref.init(jax.random.PRNGKey(0), x)
    jax.tree.map(np.testing.assert_array_equal, params, new.init(jax.random.PRNGKey(0), x))
    assert "dot_general" in str(jax.make_jaxpr(new.apply)(params, x))
    np.testing.assert_allclose(new.apply(params, x), ref.apply(params, x), atol=1e-5)


@pytest.mark.parametrize("options, message", [
    (dict(kernel_dilation=(2, 2)), "kernel_dilation"),
    (dict(padding="CIRCULAR"), "CIRCULAR"),
    (dict(decomposition="fft"), "decomposition"),
    (dict(decomposition="single_position"), "1x1 input"),
])
def test_unsupported_settings_raise(options, message):
    with pytest.raises(ConfigError, match=message):
        conv.ConvTranspose(4, (4, 4), (2, 2), **options).init(jax.random.PRNGKey(0), _inputs(1, 4, 4, 2))
