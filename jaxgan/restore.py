"""Rebuild a trained run from its workdir alone: config, method and state."""

from __future__ import annotations

import os
from typing import NamedTuple, Optional

import jax
import ml_collections

from jaxgan import checkpoint, methods, optim, sharding
from jaxgan.config import base_config
from jaxgan.methods.base import DataInfo, Method
from jaxgan.state import GANState
from jaxgan.train import init_state


class Run(NamedTuple):
    config: ml_collections.ConfigDict
    data: DataInfo
    method: Method
    state: GANState


def restore_run(workdir: str, step: Optional[int] = None) -> Run:
    """Restores checkpoint ``step`` (default: the latest) of the run in ``workdir``."""
    directory = os.path.join(workdir, "checkpoints")
    steps = sorted(int(d) for d in os.listdir(directory) if d.isdigit()) if os.path.isdir(directory) else []
    if not steps:
        raise FileNotFoundError(f"no checkpoint in {directory}; train first with "
                                f"python -m jaxgan.main --config CONFIG --workdir {workdir}")
    step = steps[-1] if step is None else step
    if step not in steps:
        raise FileNotFoundError(f"no checkpoint of step {step} in {directory}; there are {steps}")
    saved = checkpoint.read_run(directory, step)
    # Over the current base config, so a run saved before a key existed still restores.
    config = base_config()
    config.update(saved["config"])
    for name, network in saved["config"]["model"].items():  # Hyper-parameters are per network: no merge.
        if isinstance(network, dict) and "name" in network:
            config.model[name] = network
    data = DataInfo.from_json(saved["data"])
    method = methods.build(config, data)
    example = data.example()
    g_tx, d_tx = optim.build_pair(config, method)
    mesh = sharding.make_mesh()
    template = jax.jit(lambda b: init_state(method, config, g_tx, d_tx, b),
                       out_shardings=sharding.replicated(mesh)).eval_shape(example)
    ckpt = checkpoint.Checkpointer(workdir, config=config.to_dict(), data_info=saved["data"], keep=len(steps))
    try:
        state = ckpt.restore(template, step)
    finally:
        ckpt.close()
    return Run(config, data, method, state)
