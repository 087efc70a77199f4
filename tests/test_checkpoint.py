"""jaxgan.checkpoint's Orbax setup: what a save of a replicated state costs and that it reads back."""

from typing import Any, NamedTuple

import jax
import jax.monitoring
import numpy as np
import pytest

from jaxgan import checkpoint, sharding

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"  # jax._src.dispatch.BACKEND_COMPILE_EVENT


class State(NamedTuple):  # What Checkpointer.save reads of a GANState: .step, then the whole tree.
    step: Any
    params: Any


@pytest.fixture
def compiles():
    """The XLA compilations in the test's body, counted by JAX's monitoring events."""
    events = []

    def listener(event, duration, **kwargs):
        if event == COMPILE_EVENT:
            events.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield events
    jax.monitoring.unregister_event_duration_listener(listener)


def test_small_replicated_arrays_save_without_compiling_and_read_back(tmp_path, compiles):
    """Orbax's CPU/TPU default cuts every replicated array into one slice per replica with an eager
    `lax.slice` compiled per shape; when a slice would be under 1 MiB, jaxgan writes the array whole
    instead. The shapes are new to this process, so any slicing would compile. An 8-MiB array (1 MiB
    slices) keeps the parallel write and reads back the same."""
    mesh = sharding.make_mesh()
    assert mesh.size == 8
    rng = np.random.default_rng(0)
    small = {f"w{i}": rng.normal(size=(3, 5 + i, 7)).astype(np.float32) for i in range(6)}
    state = jax.device_put(State(np.int32(4), small), sharding.replicated(mesh))
    compiles.clear()
    saver = checkpoint.Checkpointer(str(tmp_path / "small"), config={}, data_info={}, keep=1)
    saver.save(state)
    saver.close()
    assert compiles == []

    restored = checkpoint.Checkpointer(str(tmp_path / "small"), config={}, data_info={}, keep=1).restore(state)
    jax.tree.map(np.testing.assert_array_equal, jax.device_get(restored), jax.device_get(state))

    large = jax.device_put(State(np.int32(4), rng.normal(size=(2048, 1031)).astype(np.float32)),
                           sharding.replicated(mesh))
    compiles.clear()
    saver = checkpoint.Checkpointer(str(tmp_path / "large"), config={}, data_info={}, keep=1)
    saver.save(large)
    saver.close()
    assert len(compiles) >= 1  # Sliced across the replicas, as Orbax's default does.
    restored = checkpoint.Checkpointer(str(tmp_path / "large"), config={}, data_info={}, keep=1).restore(large)
    np.testing.assert_array_equal(jax.device_get(restored.params), jax.device_get(large.params))
