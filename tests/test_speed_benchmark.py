"""benchmarks/speed.py (issue 14) runs on CPU with tiny configs, so it cannot rot; no timing asserts.
The PyTorch twins are tried only where torch is importable (it is not in the test extra)."""

import dataclasses
import importlib.util
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import ROOT, load_config, tiny_cgan

sys.path.insert(0, str(ROOT / "benchmarks"))
import speed  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_count_flops_by_hand():
    a, b = jnp.ones((100, 784)), jnp.ones((784, 1200))
    assert speed.count_flops(jnp.dot, a, b) == 2 * 100 * 784 * 1200
    x, w = jnp.ones((8, 28, 28, 2)), jnp.ones((4, 4, 2, 32))

    def loss(w, x):
        y = jax.lax.conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jnp.sum(y ** 2)

    forward = 2 * 8 * 14 * 14 * 32 * (4 * 4 * 2)  # Output elements x window x input features.
    assert speed.count_flops(loss, w, x) == forward
    # The gradient's two convolutions (input: dilated by the stride, zeros not counted; weights) cost a
    # forward each, inside jit too.
    assert speed.count_flops(jax.jit(jax.grad(loss, argnums=(0, 1))), w, x) == 3 * forward


def test_header_names_the_jaxgan_checkout_that_ran():
    """The header says which checkout's jaxgan ran (and its commit), so an A/B run from a second worktree
    that silently imports the first one's code shows it."""
    import jaxgan
    folder = os.path.dirname(os.path.dirname(os.path.abspath(jaxgan.__file__)))
    source = speed.jaxgan_source()
    assert source.startswith(f"jaxgan from {folder}") and source in speed.header()
    if os.path.isdir(os.path.join(folder, ".git")):
        commit = source.split(" at ")[1].rstrip("+")
        assert len(commit) >= 7 and all(c in "0123456789abcdef" for c in commit)


def _check(result, batch_size):
    assert result.batch_size == batch_size
    assert result.ms_per_step > 0 and result.compile_s > 0 and result.gflop > 0
    assert result.xla_gflop > 0  # CPU: XLA's cost analysis is reported beside the count.
    assert result.peak_memory_mib is None  # XLA:CPU reports no device memory: 'n/a'.
    assert result.pipeline_examples_per_s > 0
    assert result.examples_per_s == pytest.approx(1000 * batch_size / result.ms_per_step)
    table = speed.markdown([result]).splitlines()
    assert len(table) == 3 and table[2].startswith(f"| {result.config} | {batch_size} |")
    assert "| n/a |" in table[2]


def test_benchmark_tiny_cgan():
    config = tiny_cgan("dcgan")
    config.train.batch_size = 8
    result = speed.benchmark(config, name="tiny", steps=2, warmup=1, pipeline_batches=1)
    _check(result, 8)
    assert result.peers == {} and result.utilisation is None  # No peak known for a CPU.
    at_one_tflops = dataclasses.replace(result, peak_tflops=1.0)
    assert at_one_tflops.utilisation == pytest.approx(result.gflop / result.ms_per_step)  # GFLOP/ms = TFLOP/s.


def test_benchmark_times_calls_of_k_steps(monkeypatch):
    """With train.steps_per_call=4 the compiled and timed function is the call of 4 steps on 4 stacked
    batches, and ms/step is its time / 4 (each call is timed as 8 ms)."""
    config = tiny_cgan("mlp")
    config.train.update(batch_size=8, steps_per_call=4, log_every=4, sample_every=4, checkpoint_every=4)
    lowered = []

    class Recording(speed.Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            steps_fn = self.steps_fn

            class Spy:
                def lower(self, state, batch):
                    lowered.append(batch["image"].shape)
                    return steps_fn.lower(state, batch)

            self.steps_fn = Spy()

    monkeypatch.setattr(speed, "Trainer", Recording)
    monkeypatch.setattr(speed, "_timed", lambda call: call() or 0.008)
    result = speed.benchmark(config, name="tiny", steps=2, warmup=1, pipeline_batches=0)
    assert lowered == [(4, 8, 28, 28, 1)]
    assert result.ms_per_step == pytest.approx(2.0)


def test_back_to_back_dispatches_before_waiting(monkeypatch):
    """--back_to_back runs steps as Trainer.run does: step n is dispatched before the wait for step
    n - 1's metrics, and ms/step is the run's time / steps (each timed run is 12 ms here)."""
    config = tiny_cgan("mlp")
    config.train.batch_size = 8
    events = []

    class Recording(speed.Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            step_fn = self.step_fn

            class Spy:
                def trace(self, *args):
                    return step_fn.trace(*args)

                def lower(self, *args):
                    compiled = step_fn.lower(*args).compile()

                    class Compiled:
                        def compile(self):
                            return self

                        def __call__(self, state, batch):
                            state, metrics = compiled(state, batch)
                            events.append(("call", id(metrics)))
                            return state, metrics

                        def __getattr__(self, name):
                            return getattr(compiled, name)
                    return Compiled()

            self.step_fn = Spy()

    def wait(tree):
        metrics = tree if isinstance(tree, dict) else tree[1]
        events.append(("wait", id(metrics)))
        return tree

    monkeypatch.setattr(speed, "Trainer", Recording)
    monkeypatch.setattr(speed.jax, "block_until_ready", wait)
    monkeypatch.setattr(speed, "_timed", lambda call: call() or 0.012)
    result = speed.benchmark(config, name="tiny", steps=3, warmup=0, pipeline_batches=0, back_to_back=True)
    in_a_row = events[6:]  # After the three steps timed one by one (a call and its wait each).
    assert [e[0] for e in events[:6]] == ["call", "wait"] * 3
    calls = [e[1] for e in in_a_row if e[0] == "call"]
    assert in_a_row == [("call", calls[0]), ("call", calls[1]), ("wait", calls[0]),
                        ("call", calls[2]), ("wait", calls[1]), ("wait", calls[2])]
    assert result.back_to_back == {"jaxgan": pytest.approx(4.0)}
    assert result.ms_per_step == pytest.approx(12.0)
    assert speed.markdown([result]).splitlines()[0].endswith("| jaxgan ms in a row | best PyTorch ms in a row "
                                                             "| best PyTorch / jaxgan in a row |")


@pytest.mark.parametrize("name", ["pix2pix_facades", "cyclegan_paper"])
def test_synthetic_folders(tmp_path, name):
    """The configs that read a user folder run on generated JPEGs of their crop size."""
    config = load_config(name)
    config.train.batch_size = 8
    config.data.load_size, config.data.crop_size = 36, 32
    if name == "pix2pix_facades":
        config.model.generator.update(dict(num_downs=5, features=2))
    else:
        config.model.generator.update(dict(features=2, blocks=1))
    config.model.discriminator.update(dict(features=2, n_layers=1))
    assert speed.synthetic_source(config, str(tmp_path), count=8)
    files = sorted(os.listdir(tmp_path))
    assert files == (["trainA", "trainB"] if name == "cyclegan_paper" else [f"{i:04d}.jpg" for i in range(8)])
    _check(speed.benchmark(config, name=name, steps=1, warmup=1, pipeline_batches=1), 8)


def test_synthetic_source_leaves_other_sources():
    config = load_config("cgan_mnist")
    assert not speed.synthetic_source(config, "/nonexistent")
    assert config.data.source == "builtin:mnist"


@pytest.mark.skipif(not HAS_TORCH, reason="torch is the optional 'bench' extra")
def test_peers_tiny():
    config = tiny_cgan("dcgan")
    config.train.batch_size = 8
    result = speed.benchmark(config, name="tiny", steps=1, warmup=1, pipeline_batches=0, peers=True)
    assert set(result.peers) == {"eager, 1 thread", "eager, 2 threads"}
    assert "best PyTorch / jaxgan" in speed.markdown([result])


def test_peer_variants_on_gpu_are_the_chosen_ones(monkeypatch):
    monkeypatch.setattr(speed.jax, "default_backend", lambda: "gpu")
    assert list(speed.peer_variants(gpu_variants=("eager", "bf16"))) == ["eager", "bf16"]
    assert list(speed.peer_variants()) == ["eager", "bf16", "compile"]
    monkeypatch.setattr(speed.jax, "default_backend", lambda: "cpu")
    assert list(speed.peer_variants((1, 2), ("eager",))) == ["eager, 1 thread", "eager, 2 threads"]
    assert list(speed.peer_variants((2,), cpu_variants=("eager", "bf16"))) == ["eager, 2 threads", "bf16, 2 threads"]


def test_use_forms_reaches_the_networks(monkeypatch):
    from jaxgan.networks import resnet_translator

    for module in speed.REFLECT_PAD_USERS:  # Restored after the test.
        monkeypatch.setattr(module, "reflect_pad", module.reflect_pad)
    monkeypatch.setattr(speed.conv, "auto_decomposition", speed.conv.auto_decomposition)
    net = resnet_translator.ResNetTranslator(output_channels=3, features=4, blocks=1)
    x = jax.random.normal(jax.random.PRNGKey(0), (1, 16, 16, 3))
    variables = net.init(jax.random.PRNGKey(1), x, train=False)

    def apply(x):
        return net.apply(variables, x, train=False)

    before, before_jaxpr = apply(x), str(jax.make_jaxpr(apply)(x))
    assert speed.use_forms("one_convolution", "gather_fold") == [
        "transposed convolutions as one_convolution", "reflection pads as gather_fold"]
    assert speed.conv.auto_decomposition(False, 64, 64) == "one_convolution"
    after_jaxpr = str(jax.make_jaxpr(lambda x: apply(x))(x))  # A new function: make_jaxpr caches per function.
    # Four pads (the two 7x7 layers', the block's two), each a gather now instead of a concatenate per axis.
    assert after_jaxpr.count("gather[") == before_jaxpr.count("gather[") + 4
    assert after_jaxpr.count("concatenate[") < before_jaxpr.count("concatenate[")
    np.testing.assert_allclose(apply(x), before, rtol=1e-5, atol=1e-5)


def test_cpu_bf16_benchmark_runs_at_tiny_shapes(monkeypatch):
    """benchmarks/cpu_bf16.py's XLA rows at 8x8x16: every case timed, bf16 convolutions' gradients within
    bf16 precision of float32's and not equal to them."""
    import cpu_bf16

    monkeypatch.setattr(cpu_bf16, "SIZE", 8)
    monkeypatch.setattr(cpu_bf16, "FEATURES", 16)
    rows = list(cpu_bf16.xla_rows(calls=1))
    assert len(rows) == 10 and all(forward > 0 for _, forward, _, _ in rows)
    errors = {name: error for name, _, _, error in rows if error is not None}
    assert set(errors) == {f"XLA {k}, conv {d}" for k in ("YNNPACK", "Eigen") for d in ("float32", "bfloat16")}
    assert all(0 < errors[f"XLA {k}, conv bfloat16"] < 2e-2 for k in ("YNNPACK", "Eigen"))
