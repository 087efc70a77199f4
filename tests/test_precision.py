"""train.compute_dtype='bfloat16': networks compute in bfloat16, the state and the losses stay float32."""

import flax.linen as nn
import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY_CONFIGS, one_device_mesh

from jaxgan import config as config_lib, optim
from jaxgan.errors import ConfigError
from jaxgan.precision import cast_floating
from jaxgan.train import Trainer
from jaxgan.train_step import make_train_step


def _operand_dtypes(jaxpr) -> list:
    """(lhs, rhs) dtypes of every convolution and matrix product in ``jaxpr`` and the jaxprs inside it."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in ("conv_general_dilated", "dot_general"):
            found.append(tuple(str(v.aval.dtype) for v in eqn.invars[:2]))
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            found += _operand_dtypes(sub)
    return found


def _steps(trainer):
    g_tx, d_tx = optim.build_pair(trainer.config, trainer.method)
    return {name: make_train_step(trainer.method, discriminator_tx=d_tx, generator_tx=g_tx, compute_dtype=dtype,
                                  activation_dtype=activations)
            for name, dtype, activations in (("float32", None, None), ("bfloat16", jnp.bfloat16, None),
                                             ("bfloat16_activations", jnp.bfloat16, jnp.bfloat16))}


# One of each form: D then G with G run inside each loss and batch statistics (cgan_dcgan), one shared
# forward D-first (pix2pix), G-first with an image pool (cyclegan), a gradient penalty (stargan).
@pytest.mark.parametrize("name", ["cgan_dcgan", "pix2pix", "cyclegan", "stargan"])
def test_bfloat16_step_convolves_in_bfloat16_and_keeps_a_float32_state(name, tmp_path):
    trainer = Trainer(TINY_CONFIGS[name](), str(tmp_path), mesh=one_device_mesh())
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    for dtype, step in _steps(trainer).items():
        trace = jax.make_jaxpr(lambda s, b: step(s, b, True))(trainer.state, batch)  # noqa: B023
        operands = _operand_dtypes(trace.jaxpr)
        assert len(operands) > 10
        expected = "float32" if dtype == "float32" else "bfloat16"
        assert all(pair == (expected, expected) for pair in operands), (dtype, sorted(set(operands)))
        new_state, metrics = jax.eval_shape(lambda s, b: step(s, b, True), trainer.state, batch)  # noqa: B023
        before = jax.tree.map(lambda x: (x.shape, x.dtype), trainer.state)
        assert jax.tree.map(lambda x: (x.shape, x.dtype), new_state) == before
        assert all(m.dtype == jnp.float32 for m in jax.tree.leaves(metrics) if jnp.issubdtype(m.dtype, jnp.floating))


@pytest.mark.parametrize("variant", ["bfloat16", "bfloat16_activations"])
def test_bfloat16_step_updates_float32_params_close_to_the_float32_step(variant, tmp_path):
    """Same state and batch: bf16's losses and gradient norms within 1% of fp32's, and not equal to them (the
    networks did compute in bf16); the updated params stay float32."""
    trainer = Trainer(TINY_CONFIGS["pix2pix"](), str(tmp_path), mesh=one_device_mesh())
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    out = {name: jax.jit(lambda s, b: step(s, b, True))(trainer.state, batch)  # noqa: B023
           for name, step in _steps(trainer).items() if name in ("float32", variant)}
    (_, m32), (state16, m16) = out["float32"], out[variant]
    for key in ("d/loss", "g/loss", "d/grad_norm", "g/grad_norm"):
        assert float(m16[key]) == pytest.approx(float(m32[key]), rel=1e-2), key
        assert float(m16[key]) != float(m32[key]), key
    for new, old in zip(jax.tree.leaves(state16.generator.params), jax.tree.leaves(trainer.state.generator.params)):
        assert new.dtype == jnp.float32 and new.shape == old.shape


def _layer_output_dtypes(step, state, batch) -> set:
    """dtypes of the outputs of every network call nested in another, seen by a spy interceptor outside
    the step's own (which casts them)."""
    seen = set()

    def spy(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if isinstance(context.module.parent, nn.Module) and type(context.module).__name__ in ("BatchNorm", "InstanceNorm"):
            seen.update(str(x.dtype) for x in jax.tree.leaves(out))
        return out

    with nn.intercept_methods(spy):
        jax.eval_shape(lambda s, b: step(s, b, True), state, batch)
    return seen


def test_activation_dtype_bfloat16_hands_bfloat16_between_layers(tmp_path):
    """A normalisation computes in float32 (its float32 scale); with activation_dtype='bfloat16' what the
    next layer receives from it is bfloat16, with the default float32."""
    trainer = Trainer(TINY_CONFIGS["pix2pix"](), str(tmp_path), mesh=one_device_mesh())
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    steps = _steps(trainer)
    assert _layer_output_dtypes(steps["bfloat16"], trainer.state, batch) == {"float32"}
    assert _layer_output_dtypes(steps["bfloat16_activations"], trainer.state, batch) == {"bfloat16"}


def test_dense_returns_the_float32_sum_of_its_bfloat16_products():
    """300 x 1.0078125 = 302.34375 in float32; a bfloat16 result (spacing 2 there) would be 302."""
    from jaxgan.networks.layers import Dense

    layer = Dense(1, use_bias=False)
    x = jnp.ones((1, 300), jnp.bfloat16)
    kernel = jnp.full((300, 1), 1.0078125, jnp.bfloat16)
    y = layer.apply({"params": {"kernel": kernel}}, x)
    assert y.dtype == jnp.float32 and float(y[0, 0]) == 302.34375
    assert layer.apply({"params": {"kernel": kernel.astype(jnp.float32)}}, x.astype(jnp.float32)).dtype == jnp.float32


def test_float32_sum_product_gradients_are_bfloat16_products():
    """Its gradients match float32 autodiff's to bf16 precision, come back in the operands' dtype, and are
    computed by products of bfloat16 operands (not of the float32 output gradient)."""
    from jaxgan.networks.layers import float32_sum_product

    x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 64)).astype(jnp.bfloat16)
    w = jax.random.normal(jax.random.PRNGKey(1), (64, 32)).astype(jnp.bfloat16)
    g = jax.random.normal(jax.random.PRNGKey(2), (2, 5, 32))

    def loss(product, x, w):
        return jnp.sum(product(x, w).astype(jnp.float32) * g)

    grads = jax.grad(lambda x, w: loss(float32_sum_product, x, w), argnums=(0, 1))(x, w)
    reference = jax.grad(lambda x, w: loss(lambda a, b: a @ b, x, w), argnums=(0, 1))(
        x.astype(jnp.float32), w.astype(jnp.float32))
    for got, want in zip(grads, reference):
        assert got.dtype == jnp.bfloat16
        np.testing.assert_allclose(np.asarray(got, np.float32), want, rtol=2e-2, atol=2e-2 * float(jnp.abs(want).max()))
    trace = jax.make_jaxpr(jax.grad(lambda x, w: loss(float32_sum_product, x, w), argnums=(0, 1)))(x, w)
    assert _operand_dtypes(trace.jaxpr) == [("bfloat16", "bfloat16")] * 3
    # An input that gets no gradient (an image, noise) gets no gradient product.
    assert len(_operand_dtypes(jax.make_jaxpr(jax.grad(lambda w: loss(float32_sum_product, x, w)))(w).jaxpr)) == 2


def test_cast_floating_casts_floating_leaves_only():
    tree = {"w": np.ones(2, np.float32), "step": np.int32(3), "key": jax.random.PRNGKey(0), "name": "a"}
    cast = cast_floating(tree, jnp.bfloat16)
    assert cast["w"].dtype == jnp.bfloat16
    assert cast["step"].dtype == np.int32 and cast["key"].dtype == jnp.uint32 and cast["name"] == "a"


def test_bfloat16_activations_need_bfloat16_compute():
    config = config_lib.base_config()
    config.train.activation_dtype = "bfloat16"
    with pytest.raises(ConfigError, match=r"activation_dtype='bfloat16' needs train.compute_dtype='bfloat16'"):
        config_lib.validate(config)
    config.train.compute_dtype = "bfloat16"
    config_lib.validate(config)


def test_an_unknown_compute_dtype_is_a_config_error():
    config = config_lib.base_config()
    config.train.compute_dtype = "float16"
    with pytest.raises(ConfigError, match=r"train.compute_dtype='float16' must be one of 'float32', 'bfloat16'"):
        config_lib.validate(config)
