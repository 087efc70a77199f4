"""The generic train step and loop: learning, compile-once, 1 vs 8 devices (exact resume for every
method is in test_reliability.py)."""

import re

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh

from jaxgan import sharding
from jaxgan import train as train_lib
from jaxgan import train_step
from jaxgan.sharding import DATA_AXIS

from conftest import tiny_cgan


def _mesh(n):
    return Mesh(np.asarray(jax.devices()[:n]), (DATA_AXIS,))


def _params(state):
    return jax.device_get((state.generator.params, state.discriminator.params, state.ema_params))


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_few_real_steps_move_losses_and_stay_finite(kind, tmp_path):
    config = tiny_cgan(kind)
    trainer = train_lib.Trainer(config, str(tmp_path))
    first = jax.device_get(trainer.train_steps(1))
    for _ in range(5):
        last = jax.device_get(trainer.train_steps(1))
    for name in ("d/loss", "g/loss"):
        assert np.isfinite(first[name]) and np.isfinite(last[name])
        assert first[name] != last[name], name
    assert all(np.isfinite(v).all() for v in jax.tree.leaves(_params(trainer.state)))
    assert trainer.step == 6


def test_step_compiles_once(tmp_path, monkeypatch):
    compile_step = train_lib.compile_train_step
    monkeypatch.setattr(train_lib, "compile_train_step",
                        lambda step, mesh, options: compile_step(chex.assert_max_traces(step, n=1), mesh, options))
    trainer = train_lib.Trainer(tiny_cgan("dcgan"), str(tmp_path))
    trainer.train_steps(4)  # A retrace (new shapes, weak types, python scalars) would raise here.


def _ynn_fused_opcodes(hlo: str) -> set:
    """The opcodes inside the computations the compiled module hands to YNNPACK (``__ynn_fusion``)."""
    called = set(re.findall(r"calls=(%[\w.-]+)[^\n]*__ynn_fusion", hlo))
    opcodes = set()
    for block in re.split(r"\n(?=%|ENTRY)", hlo):
        if block.split(" ", 1)[0] in called:
            opcodes |= set(re.findall(r"= \S+ ([a-z][\w-]*)\(", block))
    return opcodes


def test_cpu_ynnpack_chooses_the_kernels_xla_cpu_runs(tmp_path):
    """``train.cpu_ynnpack`` reaches XLA:CPU: the compiled step hands its dots to YNNPACK with True
    (XLA's default) and no dot or convolution with False; both compute the same step."""
    assert jax.default_backend() == "cpu"
    results = {}
    for ynnpack in (True, False):
        config = tiny_cgan("dcgan")
        config.train.cpu_ynnpack = ynnpack
        trainer = train_lib.Trainer(config, str(tmp_path / str(ynnpack)))
        batch = sharding.global_batch(trainer.pipeline.local_batch(0), trainer.mesh)
        hlo = trainer.step_fn.lower(trainer.state, batch, True).compile().as_text()
        results[ynnpack] = (_ynn_fused_opcodes(hlo), jax.device_get(trainer.train_steps(2)))
    assert "dot" in results[True][0]
    assert not {"convolution", "dot"} & results[False][0]
    for k, v in results[True][1].items():
        np.testing.assert_allclose(v, results[False][1][k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_cpu_ynnpack_false_leaves_reductions_to_ynnpack():
    """With ``cpu_ynnpack=False`` a norm layer's statistics stay YNNPACK reductions: with no YNNPACK
    at all, XLA:CPU rewrites them into reduce-windows (6x slower at this size, RESULTS.md)."""
    norm = nn.InstanceNorm()  # As the ResNet translators use it.
    x = jnp.ones((1, 64, 64, 256))
    variables = norm.init(jax.random.PRNGKey(0), x)

    def instance_norm(x):
        return norm.apply(variables, x)

    hlo = {name: jax.jit(jax.grad(lambda x: jnp.sum(instance_norm(x) * x)), compiler_options=options)
           .lower(x).compile().as_text()
           for name, options in (("step", train_step.compiler_options(False)),
                                 ("no ynnpack", {train_step.YNN_FUSION_OPTION: ""}))}
    assert "reduce" in _ynn_fused_opcodes(hlo["step"])
    assert "reduce-window(" not in hlo["step"]
    assert "reduce-window(" in hlo["no ynnpack"] and not _ynn_fused_opcodes(hlo["no ynnpack"])


def test_n_critic_updates_generator_on_every_nth_step_only(tmp_path):
    config = tiny_cgan("mlp")
    config.train.n_critic = 3
    trainer = train_lib.Trainer(config, str(tmp_path))
    for step in range(6):
        g_before, d_before, _ = _params(trainer.state)
        metrics = jax.device_get(trainer.train_steps(1))
        g_after, d_after, _ = _params(trainer.state)
        g_moved = not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(g_before), jax.tree.leaves(g_after)))
        d_moved = not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(d_before), jax.tree.leaves(d_after)))
        assert d_moved, step
        assert g_moved == (step % 3 == 2), step
        assert (metrics["g/loss"] != 0) == g_moved, step  # G's metrics are 0 on D-only steps.
    assert trainer.step == 6


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_one_device_and_eight_devices_agree(kind, tmp_path):
    assert len(jax.devices()) == 8
    results = []
    for n in (1, 8):
        trainer = train_lib.Trainer(tiny_cgan(kind), str(tmp_path / str(n)), mesh=_mesh(n))
        metrics = jax.device_get(trainer.train_steps(3))
        results.append((metrics, _params(trainer.state)))
    (m1, p1), (m8, p8) = results
    for k in m1:
        np.testing.assert_allclose(m1[k], m8[k], rtol=1e-5, atol=1e-6, err_msg=k)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), p1, p8)

