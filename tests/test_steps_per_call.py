"""train.steps_per_call: k train steps per compiled call (a lax.scan over their batches) train exactly as
one step per call, keep n_critic's schedule, log, sample, checkpoint and resume at call ends, and find a
non-finite step inside a call."""

import json

import jax
import numpy as np
import pytest
from conftest import TINY_CONFIGS, tiny_cgan
from test_reliability import _assert_same_tree, _nan_loss_at, _state, _steps

from jaxgan import config as config_lib
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError, NonFiniteError


def _trainer(name, tmp_path, k):
    config = TINY_CONFIGS[name]()
    config.train.update(steps=100, steps_per_call=k, log_every=k, sample_every=k, checkpoint_every=k)
    return train_lib.Trainer(config, str(tmp_path / f"{name}_{k}"))


def _twelve_steps(name, tmp_path):
    """(initial state, state and last metrics after 12 steps one per call, the same with 4 per call)."""
    one, four = _trainer(name, tmp_path, 1), _trainer(name, tmp_path, 4)
    initial = _state(one)
    one_metrics = one.train_steps(12)
    four.train_steps(3)  # Steps 0, 1, 2 one by one; then 3 alone, 4-7 and 8-11 as two calls.
    four_metrics = four.train_steps(9)
    assert four.steps_fn._cache_size() == 1  # The scanned calls ran (compiled once).
    a, b = _state(one), _state(four)
    assert int(a.step) == int(b.step) == 12
    last = {k: float(np.atleast_1d(v)[-1]) for k, v in jax.device_get(four_metrics).items()}
    return initial, (a, jax.device_get(one_metrics)), (b, last)


# n_critic = 2 with spectral-norm state and a linearly decaying rate (projection); batch statistics and an
# EMA (DCGAN cGAN).
@pytest.mark.parametrize("name", ["projection", "cgan_dcgan"])
def test_k_steps_per_call_train_as_one_step_per_call(name, tmp_path):
    initial, (a, metrics_a), (b, metrics_b) = _twelve_steps(name, tmp_path)
    for key, value in metrics_a.items():
        assert metrics_b[key] == pytest.approx(float(value), rel=1e-4, abs=1e-6), key
    for side in ("generator", "discriminator"):
        leaves = zip(jax.tree_util.tree_leaves_with_path(getattr(initial, side).params),
                     jax.tree.leaves(getattr(a, side).params), jax.tree.leaves(getattr(b, side).params))
        for (path, x0), x, y in leaves:
            # A bias before a normalisation has a gradient of rounding error only, which Adam scales up to
            # the learning rate, so the two compilations' roundings make it differ; it does not reach D or G's
            # outputs (the metrics above). Biases are left out.
            if path[-1].key == "bias":
                continue
            moved = np.abs(x - x0).max()
            assert moved > 0, jax.tree_util.keystr(path)  # Every weight trained: no side's steps skipped.
            assert np.abs(x - y).max() <= 1e-3 * moved, (side, jax.tree_util.keystr(path))


def test_k_steps_per_call_carry_cyclegan_pools_and_keys(tmp_path):
    """G first, then D on images drawn from the pools: the pools' counts and keys go through the calls as
    through single steps, and the losses follow (Adam amplifies rounding in this tiny instance-norm network's
    weights more than in the networks above, so only the losses are compared)."""
    _, (a, metrics_a), (b, metrics_b) = _twelve_steps("cyclegan", tmp_path)
    for x, y in zip(jax.tree.leaves(a.method_state), jax.tree.leaves(b.method_state)):
        if np.issubdtype(np.asarray(x).dtype, np.floating):
            np.testing.assert_allclose(x, y, atol=0.1)  # G's outputs, in [-1, 1].
        else:
            np.testing.assert_array_equal(x, y)
    for key in ("d/loss", "g/loss", "d/d_a", "g/cycle_a"):
        assert metrics_b[key] == pytest.approx(float(metrics_a[key]), rel=1e-3), key


def test_k_steps_per_call_keep_n_generators_schedule(tmp_path):
    """n_generator 2 (DiscoGAN's code): in calls of 4 steps D updates on the same steps as one step per call
    (its Adam count after 12 steps: 6), and the losses follow."""
    _, (a, metrics_a), (b, metrics_b) = _twelve_steps("discogan_code", tmp_path)
    counts = lambda s: {int(x) for p, x in jax.tree_util.tree_leaves_with_path(s.discriminator.opt_state)  # noqa: E731
                        if "count" in jax.tree_util.keystr(p)}
    assert counts(a) == counts(b) == {6}
    for key in ("d/loss", "g/loss", "g/fm_a", "g/cycle_a", "g/rate"):
        assert metrics_b[key] == pytest.approx(float(metrics_a[key]), rel=1e-3), key


def test_run_with_steps_per_call_logs_samples_checkpoints_and_resumes_exactly(tmp_path):
    def config(steps):
        c = tiny_cgan("mlp")
        c.train.update(steps=steps, steps_per_call=4, log_every=4, sample_every=4, checkpoint_every=4)
        return c

    train_lib.Trainer(config(4), str(tmp_path / "resumed")).run()
    resumed, _ = train_lib.Trainer(config(12), str(tmp_path / "resumed")).run()
    straight, metrics = train_lib.Trainer(config(12), str(tmp_path / "straight")).run()
    _assert_same_tree(jax.device_get(resumed), jax.device_get(straight))
    assert _steps(tmp_path / "straight") == [4, 8, 12]
    assert sorted(p.name for p in (tmp_path / "straight" / "samples").iterdir()) == [
        "step_0000004.png", "step_0000008.png", "step_0000012.png"]
    assert isinstance(metrics["d/nonfinite"], float) and metrics["d/nonfinite"] == 0.0


def test_a_nonfinite_step_inside_a_call_is_named(monkeypatch, tmp_path):
    _nan_loss_at(monkeypatch, "discriminator", step=5)  # The second step of the call on steps 4-7.
    config = tiny_cgan("mlp")
    config.train.update(steps=12, steps_per_call=4, log_every=4, sample_every=12, checkpoint_every=4)
    with pytest.raises(NonFiniteError, match=r"non-finite d/loss.*batch of step 5.*last good checkpoint is step 4"):
        train_lib.Trainer(config, str(tmp_path)).run()
    assert _steps(tmp_path) == [4]
    report = json.loads((tmp_path / "nonfinite_step_0000005.json").read_text())
    assert report["step"] == 5 and report["terms"] == ["d/loss"] and report["metrics"]["d/nonfinite"] == 1.0


@pytest.mark.parametrize("settings, message", [
    (dict(steps_per_call=3, n_critic=2), r"train.steps_per_call=3 must be a multiple of train.n_critic=2"),
    (dict(steps_per_call=4, log_every=6), r"train.log_every=6 must be a multiple of train.steps_per_call=4"),
    (dict(steps_per_call=4, checkpoint_every=10),
     r"train.checkpoint_every=10 must be a multiple of train.steps_per_call=4 .*; use e.g. 8"),
    (dict(steps_per_call=0), r"train.steps_per_call=0 must be"),
])
def test_steps_per_call_that_cannot_fit_the_schedule_is_a_config_error(settings, message):
    config = config_lib.base_config()
    config.train.update({"log_every": 8, "sample_every": 8, "checkpoint_every": 8, **settings})
    with pytest.raises(ConfigError, match=message):
        config_lib.validate(config)
