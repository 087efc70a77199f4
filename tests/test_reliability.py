"""Faults and bad input (GitHub issue 4): exact resume and determinism for every method, the
divergence guard, preemption by a signal, SIGKILL while checkpoints are written, and one clear
error for each kind of bad input. benchmarks/RELIABILITY.md lists what these tests inject."""

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import config as config_lib, methods, samples
from jaxgan import train as train_lib
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.sources import ArraySource
from jaxgan.errors import ConfigError, DataSourceError, IncompatibleCheckpointError, Interrupted, NonFiniteError
from jaxgan.methods.cgan import ConditionalGAN

from conftest import ROOT, TINY_CONFIGS, resume_config, subprocess_env, tiny_cgan
from test_cli import TINY, _run

CGAN_MNIST = ["--config", "configs/cgan_mnist.py"]


def _state(trainer):
    return jax.device_get(trainer.state)


def _assert_same_tree(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    jax.tree.map(np.testing.assert_array_equal, a, b)


def _steps(workdir):
    """The complete checkpoint steps in a workdir."""
    return sorted(int(d) for d in os.listdir(workdir / "checkpoints") if d.isdigit())


# --- Exact resume and determinism, for every method -------------------------------------------------

def test_every_method_has_a_tiny_config():
    covered = {make().method for make in TINY_CONFIGS.values()}
    assert set(methods.METHODS) <= covered, "add a tiny config to TINY_CONFIGS in tests/conftest.py"


@pytest.mark.parametrize("name", sorted(TINY_CONFIGS))
def test_resume_is_exact(name, tmp_path):
    """A 4-step run checkpointed after 2 steps (as a preemption writes), and a new Trainer resumed from
    that checkpoint to step 4, end in the same state: params, optimizer and schedule state, batch
    statistics, spectral-norm vectors, EMA, rng and data order (a different batch would change the
    params). train.steps stays 4: a linear decay spans train.steps, so a run extended from 2 to 4 steps
    has another schedule. The straight run goes on from the arrays it saved: a save that changed or
    consumed them would show as a difference too. Both sides step with ``train_steps`` (the loop's own
    restart, signals and reruns of the command are tested below, on one method: here each method's
    sample panel would compile for nothing)."""
    config = resume_config(name)
    straight = train_lib.Trainer(config, str(tmp_path))
    straight.train_steps(2)
    straight.checkpointer.save(straight.state)
    straight.checkpointer.close()
    straight.train_steps(2)

    resumed = train_lib.Trainer(config, str(tmp_path))
    assert resumed.step == 2
    resumed.train_steps(2)
    _assert_same_tree(_state(straight), _state(resumed))


def test_resume_lowers_no_initialisation(tmp_path):
    """A Trainer resuming from a checkpoint reads it into the state's shapes (``jax.eval_shape`` of the
    initialisation): building it lowers no program at all (its train step compiles at its first call),
    where a fresh Trainer lowers its initialisation (jax.monitoring's lowering events)."""
    lowered = []

    def record(event, duration, **kwargs):
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            lowered.append(duration)

    jax.monitoring.register_event_duration_secs_listener(record)
    try:
        fresh = train_lib.Trainer(tiny_cgan("mlp"), str(tmp_path))
        assert lowered, "a fresh Trainer lowers its initialisation"
        fresh.train_steps(1)
        fresh.checkpointer.save(fresh.state)
        fresh.checkpointer.close()
        lowered.clear()
        resumed = train_lib.Trainer(tiny_cgan("mlp"), str(tmp_path))
        assert lowered == [] and resumed.step == 1
        resumed.train_steps(1)
        assert len(lowered) == 1  # The step, traced and lowered anew for this Trainer.
    finally:
        jax.monitoring.unregister_event_duration_listener(record)


def test_same_seed_same_run_other_seed_other_samples(tmp_path):
    def train(seed, name):
        config = tiny_cgan("mlp")
        config.seed = seed
        trainer = train_lib.Trainer(config, str(tmp_path / name))
        trainer.train_steps(2)
        grid = samples.class_grid_fn(trainer.method, range(10), 2, seed=0)(trainer.state.generator_variables())
        return _state(trainer), np.asarray(grid)

    (state_a, grid_a), (state_b, grid_b), (_, grid_c) = train(0, "a"), train(0, "b"), train(1, "c")
    _assert_same_tree(state_a, state_b)
    np.testing.assert_array_equal(grid_a, grid_b)
    assert np.abs(grid_a - grid_c).mean() > 1e-3


# --- Divergence guard --------------------------------------------------------------------------------

def _nan_loss_at(monkeypatch, side, step):
    """Makes ``side``'s loss NaN in the update on the batch of ``step`` (inside jit)."""
    loss_fn = getattr(ConditionalGAN, f"{side}_loss")

    def poisoned(self, *args):  # (params or generated images, state, batch, ...): the state comes second.
        loss, aux = loss_fn(self, *args)
        return jnp.where(args[1].step == step, jnp.nan, loss), aux

    monkeypatch.setattr(ConditionalGAN, f"{side}_loss", poisoned)


def test_nonfinite_stops_keeps_last_good_checkpoint_and_summarises_batch(monkeypatch, tmp_path):
    _nan_loss_at(monkeypatch, "discriminator", step=2)
    config = tiny_cgan("mlp")
    config.train.update(steps=6, checkpoint_every=2, log_every=100)  # Caught by the one-step-late check.
    with pytest.raises(NonFiniteError, match=r"non-finite d/loss.*batch of step 2.*last good checkpoint is step 2"):
        train_lib.Trainer(config, str(tmp_path)).run()
    assert _steps(tmp_path) == [2]  # The state after the bad update (step 3) was never saved.
    report = json.loads((tmp_path / "nonfinite_step_0000002.json").read_text())
    assert report["step"] == 2 and "d/loss" in report["terms"]
    assert report["batch"]["image"]["shape"] == [16, 28, 28, 1] and report["batch"]["image"]["nonfinite"] == 0
    assert sum(report["batch"]["label"]["histogram"]) == 16
    monkeypatch.undo()
    restored = train_lib.Trainer(config, str(tmp_path))
    assert restored.step == 2 and all(np.isfinite(x).all() for x in jax.tree.leaves(_state(restored)))


def test_nonfinite_skip_keeps_that_sides_weights_and_counts(monkeypatch, tmp_path):
    _nan_loss_at(monkeypatch, "generator", step=1)
    config = tiny_cgan("mlp")
    config.train.update(steps=3, on_nonfinite="skip", ema_decay=0.9)  # The skip must leave the EMA alone too.
    trainer = train_lib.Trainer(config, str(tmp_path))
    trainer.train_steps(1)
    before = _state(trainer)
    metrics = jax.device_get(trainer.train_steps(1))
    after = _state(trainer)
    assert metrics["g/nonfinite"] == 1 and metrics["d/nonfinite"] == 0 and after.nonfinite_steps == 1
    _assert_same_tree((before.generator, before.ema_params), (after.generator, after.ema_params))
    assert not np.array_equal(jax.tree.leaves(before.discriminator.params)[0],
                              jax.tree.leaves(after.discriminator.params)[0])
    trainer.run()  # Step 3, logged and checkpointed.
    assert train_lib.Trainer(config, str(tmp_path)).state.nonfinite_steps == 1  # Survives a resume.
    events = (tmp_path / "tensorboard").glob("events.out.tfevents*")
    assert any(b"train/nonfinite_steps" in path.read_bytes() for path in events)


# --- Preemption and crashes --------------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_checkpoints_current_step_and_rerun_resumes(signum, tmp_path):
    """A signal during step 3 saves checkpoint 3 and stops; the loop, run again, resumes there and ends
    where 8 uninterrupted steps end."""
    config = tiny_cgan("mlp")
    config.train.update(steps=8, checkpoint_every=8)
    workdir = tmp_path / "run"
    trainer = train_lib.Trainer(config, str(workdir))
    calls, step_fn = itertools.count(1), trainer.step_fn

    def signalled_during_third_step(state, batch, *updates):
        if next(calls) == 3:
            os.kill(os.getpid(), signum)
        return step_fn(state, batch, *updates)

    trainer.step_fn = signalled_during_third_step
    handler = signal.getsignal(signum)
    with pytest.raises(Interrupted, match=f"Stopped by {signum.name} after step 3; saved checkpoint .*3") as info:
        trainer.run()
    assert info.value.signum == signum and _steps(workdir) == [3]
    assert signal.getsignal(signum) == handler  # Restored.
    resumed = train_lib.Trainer(config, str(workdir))
    assert resumed.step == 3
    resumed.run()
    assert resumed.step == 8
    straight = train_lib.Trainer(config, str(tmp_path / "straight"))
    straight.train_steps(8)
    _assert_same_tree(_state(straight), _state(resumed))


def _start(workdir, *overrides):
    """The training command in the background, on one CPU device."""
    return subprocess.Popen([sys.executable, "-m", "jaxgan.main", *CGAN_MNIST, "--workdir", str(workdir), *TINY,
                             "--config.train.steps=100000", "--config.train.log_every=100000",
                             "--config.train.sample_every=100000", *overrides],
                            cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, process, timeout=180):
    deadline = time.time() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_sigterm_to_the_command_saves_exits_143_and_rerun_resumes(tmp_path):
    process = _start(tmp_path, "--config.train.checkpoint_every=100000")
    _wait_for(lambda: (tmp_path / "config.json").exists(), process)  # Training has started.
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    match = re.search(r"Stopped by SIGTERM after step (\d+); saved checkpoint (\S+)\. To resume, run the same "
                      r"command again with --workdir", stderr)
    assert match, stderr
    step = int(match.group(1))
    assert _steps(tmp_path) == [step] and match.group(2) == str(tmp_path / "checkpoints" / str(step))
    result = _run("jaxgan.main", *CGAN_MNIST, "--workdir", str(tmp_path), *TINY, f"--config.train.steps={step + 1}")
    assert result.returncode == 0 and f"Finished at step {step + 1}" in result.stdout, result.stderr


def test_sigkill_while_saving_keeps_last_complete_checkpoint(tmp_path):
    process = _start(tmp_path, "--config.train.checkpoint_every=1", "--config.train.keep_checkpoints=2")
    checkpoints = tmp_path / "checkpoints"
    _wait_for(lambda: checkpoints.is_dir() and len(_steps(tmp_path)) >= 2, process)
    process.kill()  # Saving every step: most likely in the middle of writing one.
    process.communicate()
    # Whatever the kill interrupted, also leave an unfinished save of a later step behind for certain.
    latest = _steps(tmp_path)[-1]
    unfinished = checkpoints / f"{latest + 1}.orbax-checkpoint-tmp"
    shutil.copytree(checkpoints / str(latest), unfinished, dirs_exist_ok=True)
    shutil.rmtree(unfinished / "state")
    result = _run("jaxgan.main", *CGAN_MNIST, "--workdir", str(tmp_path), *TINY,
                  f"--config.train.steps={latest + 1}", "--config.train.checkpoint_every=1")
    assert result.returncode == 0, result.stderr
    assert f"{latest}/{latest + 1}" in result.stderr and f"Finished at step {latest + 1}" in result.stdout
    assert not [p for p in os.listdir(checkpoints) if "tmp" in p]


# --- Bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, value, message", [
    ("seed", -1, "seed=-1 must be an integer >= 0"),
    ("train.steps", True, "train.steps=True must be a positive integer"),
    ("train.ema_decay", 1.0, r"train.ema_decay=1.0 must be in \[0, 1\)"),
    ("train.on_nonfinite", "ignore", "train.on_nonfinite='ignore' must be one of 'stop', 'skip'"),
    ("optimizer.discriminator.b2", 1.5, r"optimizer.discriminator.b2=1.5 must be in \[0, 1\)"),
    ("optimizer.generator.decay_factor", 0.5, "decay_factor=0.5 must be >= 1"),
    ("optimizer.generator.momentum_steps", -3, "momentum_steps=-3 must be an integer >= 0"),
    ("sample.use_ema", "yes", "sample.use_ema='yes' must be True or False"),
    ("eval.batch_size", 0, "eval.batch_size=0 must be a positive integer"),
])
def test_config_value_out_of_range(path, value, message):
    config = tiny_cgan("mlp")
    parent, _, key = path.rpartition(".")
    section = config_lib._lookup(config, parent) if parent else config
    with section.ignore_type():
        section[key] = value
    with pytest.raises(ConfigError, match=message):
        config_lib.validate(config)


def test_batch_size_not_divisible_by_devices(tmp_path):
    config = tiny_cgan("mlp")
    config.train.batch_size = 12
    with pytest.raises(ConfigError, match=r"batch_size=12 is not divisible by the 8 devices.*batch_size=8"):
        train_lib.Trainer(config, str(tmp_path))
    assert not (tmp_path / "checkpoints").exists()


class _BadLabels:
    """A source whose labels only go wrong in the rows read (as a large tfds dataset could)."""

    name, image_shape, num_classes = "bad", (2, 2, 1), 3

    def __len__(self):
        return 8

    def get(self, indices):
        return {"image": np.zeros((len(indices), 2, 2, 1), np.uint8), "label": np.asarray(indices) - 1}


def test_labels_outside_the_classes():
    with pytest.raises(DataSourceError, match=r"toy: 1 label\(s\) outside \[0, 3\), e.g. \[3\]"):
        ArraySource(np.zeros((4, 2, 2, 1), np.uint8), np.array([0, 1, 3, 2]), num_classes=3, name="toy")
    with pytest.raises(DataSourceError, match=r"'bad', batch of step 0: .* outside \[0, 3\)"):
        Pipeline(_BadLabels(), global_batch_size=8, seed=0).local_batch(0)


def _write_idx(directory, labels):
    """MNIST-format test split with len(labels) blank images."""
    directory.mkdir()
    n = len(labels)
    (directory / "t10k-images-idx3-ubyte").write_bytes(
        b"\x00\x00\x08\x03" + b"".join(d.to_bytes(4, "big") for d in (n, 28, 28)) + bytes(n * 28 * 28))
    (directory / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + n.to_bytes(4, "big") + bytes(labels))


def _workdir_under_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    return tmp_path / "file" / "w"


def _read_only_workdir(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write to a read-only directory")
    os.chmod(tmp_path, 0o500)
    return tmp_path / "w"


@pytest.mark.parametrize("labels, message", [
    ([1, 2, 12, 3], r"1 label\(s\) outside \[0, 10\), e.g. \[12\]"),
    ([], "is empty"),
])
def test_bad_data_through_the_command(labels, message, tmp_path):
    _write_idx(tmp_path / "data", labels)
    result = _run("jaxgan.main", *CGAN_MNIST, "--workdir", str(tmp_path / "w"), *TINY,
                  f"--config.data.source=idx:{tmp_path / 'data'}", "--config.data.split=test")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert re.search(message, result.stderr), result.stderr


@pytest.mark.parametrize("make_workdir, message", [
    (_workdir_under_a_file, "cannot write to the workdir .*/file/w \\(Not a directory\\)"),
    (_read_only_workdir, "cannot write to the workdir .* \\(Permission denied\\)"),
])
def test_unwritable_workdir_fails_before_training(make_workdir, message, tmp_path):
    result = _run("jaxgan.main", *CGAN_MNIST, "--workdir", str(make_workdir(tmp_path)), *TINY)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert re.search(message, result.stderr) and "choose a writable --workdir" in result.stderr, result.stderr


def test_workdir_of_another_architecture_is_refused_and_left_alone(tmp_path):
    config = tiny_cgan("mlp")
    config.train.steps = 1
    train_lib.Trainer(config, str(tmp_path)).run()
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    result = _run("jaxgan.main", "--config", "configs/cgan_dcgan_mnist.py", "--workdir", str(tmp_path),
                  "--config.train.steps=2")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "were written with a different config.model" in result.stderr
    assert "resume with the original config or use a new --workdir" in result.stderr
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


@pytest.mark.skipif(os.geteuid() != 0, reason="covered by test_unwritable_workdir_fails_before_training")
def test_read_only_workdir_as_an_unprivileged_user(tmp_path):
    """As root (CI, containers) permissions do not stop writes, so a forked child drops to the
    unprivileged uid 65534 ('nobody') and probes a read-only folder as jaxgan.main does."""
    parent = tmp_path / "read_only"
    parent.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(parent, 0o555)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # Child: no JAX work, only the probe.
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            train_lib.check_workdir_writable(str(parent / "w"))
            message = "no error"
        except BaseException as e:  # noqa: BLE001 - reported to the parent.
            message = f"{type(e).__name__}: {e}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        message = f.read()
    os.waitpid(pid, 0)
    assert re.search(r"WorkdirError: cannot write to the workdir .*read_only/w \(Permission denied\)", message), message
    assert "choose a writable --workdir" in message and not (parent / "w").exists()


def test_checkpoint_of_another_state_tree_is_one_clear_error(tmp_path):
    """Same config, but the code now builds a state with another tree (a network gained a layer since the
    checkpoint was written): a JaxganError naming the checkpoint and the first differing leaf."""
    config = tiny_cgan("mlp")
    config.train.steps = 1
    trainer = train_lib.Trainer(config, str(tmp_path))
    trainer.run()
    state = trainer.state
    template = state.replace(generator=state.generator.replace(
        params={**state.generator.params, "new_layer": {"kernel": jnp.zeros((2, 2))}}))
    with pytest.raises(IncompatibleCheckpointError,
                       match=r"checkpoint 1 in .* does not fit the state .*new_layer.*train afresh in a new --workdir"):
        trainer.checkpointer.restore(template, 1)
