"""Two processes with four CPU devices each, joined with jax.distributed, train like one process
with eight devices; each reads only its share of the data; the checkpoint they write once
restores into other device counts (8 -> 1 and 1 -> 8)."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
from jax.sharding import Mesh

from jaxgan import train as train_lib
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.sources import build_source
from jaxgan.sharding import DATA_AXIS

from conftest import ROOT, subprocess_env, tiny_cgan

STEPS = 3


def _mesh(n):
    return Mesh(np.asarray(jax.devices()[:n]), (DATA_AXIS,))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config():
    config = tiny_cgan("mlp")
    config.train.update(steps=STEPS, checkpoint_every=STEPS)
    return config


def _start_two_processes(config, workdir, tmp_path):
    """Starts tests/multihost_worker.py as processes 0 and 1 of one run."""
    (tmp_path / "config.json").write_text(config.to_json())
    port = _free_port()
    return [subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "multihost_worker.py"), str(tmp_path / "config.json"), str(workdir),
         str(tmp_path / f"worker{i}.json")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=subprocess_env(4, PYTHONPATH=str(ROOT), JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
                           JAX_NUM_PROCESSES="2", JAX_PROCESS_ID=str(i)))
        for i in range(2)]


def _params(state):
    return jax.device_get((state.generator.params, state.discriminator.params, state.step))


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("multihost")
    workers = _start_two_processes(_config(), tmp_path / "run", tmp_path)
    for worker in workers:
        _, stderr = worker.communicate(timeout=400)
        assert worker.returncode == 0, stderr
    return tmp_path / "run", [json.loads((tmp_path / f"worker{i}.json").read_text()) for i in range(2)]


def test_two_processes_train_like_one_with_eight_devices(two_process_run, tmp_path):
    workdir, reports = two_process_run
    assert [(r["process_index"], r["process_count"], r["local_devices"], r["devices"]) for r in reports] == \
        [(0, 2, 4, 8), (1, 2, 4, 8)]
    assert os.listdir(workdir / "checkpoints") == [str(STEPS)]  # Written once, by both together.
    assert len(os.listdir(workdir / "tensorboard")) == 1  # By process 0 only.
    single = train_lib.Trainer(_config(), str(tmp_path / "single"))
    single.train_steps(STEPS)
    restored = train_lib.Trainer(_config(), str(workdir), mesh=_mesh(1))  # 8 devices -> 1.
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 _params(single.state), _params(restored.state))


def test_each_process_reads_only_its_share(two_process_run):
    _, reports = two_process_run
    config = _config()
    source = build_source(config.data.source, config.data.split)
    for report in reports:
        pipeline = Pipeline(source, global_batch_size=config.train.batch_size, seed=config.seed,
                            process_index=report["process_index"], process_count=2)
        # The example batch that shapes the state, then one batch per step.
        expected = [sorted(pipeline.local_indices(step).tolist()) for step in [0, *range(STEPS)]]
        assert report["reads"] == expected
    shares = [set(sum(r["reads"], [])) for r in reports]
    assert not shares[0] & shares[1]


def test_checkpoint_of_one_device_restores_on_eight(tmp_path):
    one = train_lib.Trainer(_config(), str(tmp_path), mesh=_mesh(1))
    one.run()
    eight = train_lib.Trainer(_config(), str(tmp_path))
    assert all(len(x.sharding.device_set) == 8 for x in jax.tree.leaves(eight.state))
    jax.tree.map(np.testing.assert_array_equal, jax.device_get(one.state), jax.device_get(eight.state))


def test_sigterm_to_one_process_stops_both_at_the_same_step_with_a_checkpoint(tmp_path):
    """JAX's preemption service spreads one process's SIGTERM to the other; both save the same step
    together and exit 143, as the command with --distributed does."""
    config = _config()
    config.train.update(steps=100000, log_every=100000, sample_every=100000, checkpoint_every=100000)
    workers = _start_two_processes(config, tmp_path / "run", tmp_path)
    deadline = time.time() + 300
    while not (tmp_path / "run" / "config.json").exists():  # Process 0 writes it when training starts.
        assert all(w.poll() is None for w in workers) and time.time() < deadline
        time.sleep(0.1)
    time.sleep(2.0)
    workers[1].send_signal(signal.SIGTERM)
    steps = set()
    for worker in workers:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 128 + signal.SIGTERM, stderr
        steps.add(int(re.search(r"Stopped by SIGTERM after step (\d+); saved checkpoint", stderr).group(1)))
    assert len(steps) == 1 and os.listdir(tmp_path / "run" / "checkpoints") == [str(steps.pop())]
