"""Orbax checkpoints of the whole GAN state, with the run's config and data shape as JSON
beside each one, so a workdir alone is enough to sample or evaluate."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

import jax
import orbax.checkpoint as ocp
# Neither is re-exported by Orbax: the store its default array handler keeps, and the process's registry.
from orbax.checkpoint._src.metadata import array_metadata_store
from orbax.checkpoint._src.serialization.type_handler_registry import GLOBAL_TYPE_HANDLER_REGISTRY

from jaxgan.errors import IncompatibleCheckpointError
from jaxgan.state import GANState

# Config entries that fix the shapes of the state: a workdir whose checkpoints
# disagree on them holds a different model, which cannot be resumed.
ARCHITECTURE_KEYS = ("method", "model")

# Orbax's default on CPU and TPU writes every replicated array from all its replicas, one slice each,
# cut by eager `lax.slice`s compiled per shape: on a process's first save of SPADE's state on 8 devices,
# 160 programs, 7 s of a 9.5-s save, to split writes of arrays far too small to gain from it. An array
# whose slices would be under 1 MiB is written whole by one replica instead (Orbax's GPU default for
# every array); larger ones keep the parallel write. Orbax holds one registry of type handlers per
# process, so this sets it for the process's other Orbax users too (without Orbax's warning that a
# handler was replaced, which `register_type_handler` would log on every run).
MIN_SLICE_BYTES_FOR_REPLICA_PARALLEL = 1 << 20
GLOBAL_TYPE_HANDLER_REGISTRY.add(
    jax.Array, ocp.type_handlers.ArrayHandler(
        array_metadata_store=array_metadata_store.Store(),
        min_slice_bytes_for_replica_parallel=MIN_SLICE_BYTES_FOR_REPLICA_PARALLEL),
    override=True, ignore_warnings=True)


class Checkpointer:
    """Periodic and final saves, keep-last-N, automatic resume from the latest step."""

    def __init__(self, workdir: str, *, config: Dict[str, Any], data_info: Dict[str, Any], keep: int):
        self.directory = os.path.abspath(os.path.join(workdir, "checkpoints"))
        # As it will read back (tuples become lists).
        self.run = json.loads(json.dumps({"config": config, "data": data_info}))
        self.config = self.run["config"]
        # Saves are asynchronous and atomic: Orbax writes into a temporary directory and renames it
        # when complete, so a crash mid-save leaves the previous checkpoints intact; the temporary
        # directory of an unfinished save is never listed as a step, and is deleted here.
        self.manager = ocp.CheckpointManager(self.directory, options=ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=True, cleanup_tmp_directories=True))

    def latest_step(self) -> Optional[int]:
        return self.manager.latest_step()

    def save(self, state: GANState) -> None:
        """Saves at ``state.step`` (asynchronously: the arrays are copied before this returns)."""
        step = int(jax.device_get(state.step))
        if step in self.manager.all_steps():
            return
        self.manager.save(step, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), run=ocp.args.JsonSave(self.run)), force=True)

    def restore(self, template: GANState, step: Optional[int] = None) -> GANState:
        """Restores ``step`` (default: latest) into arrays laid out like ``template``'s."""
        step = self.latest_step() if step is None else step
        saved = read_run(self.directory, step)["config"]
        for key in ARCHITECTURE_KEYS:
            if saved.get(key) != self.config.get(key):
                raise IncompatibleCheckpointError(
                    f"the checkpoints in {self.directory} were written with a different config.{key} "
                    f"({saved.get(key)!r}) than this run's ({self.config.get(key)!r}); "
                    "resume with the original config or use a new --workdir"
                )
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
        try:
            restored = self.manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))
        except ValueError as e:  # Same config, another state tree: written by another version of the code.
            detail = " ".join(line.strip() for line in str(e).splitlines()[:2])[:300].rstrip(":")  # The first leaf.
            raise IncompatibleCheckpointError(
                f"checkpoint {step} in {self.directory} does not fit the state this version of jaxgan builds "
                f"for its config (its networks or optimizers changed since it was written): {detail}; "
                "restore it with the version that wrote it, or train afresh in a new --workdir") from e
        return restored.state

    def wait(self) -> None:
        """Blocks until an asynchronous save in flight is complete (finalised on disk)."""
        self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


def read_run(directory: str, step: int) -> Dict[str, Any]:
    """The {'config': ..., 'data': ...} saved with checkpoint ``step`` in ``directory``."""
    with open(os.path.join(directory, str(step), "run", "metadata")) as f:
        return json.load(f)
