"""The training loop: build everything from the config, resume, step, log, sample, save."""

from __future__ import annotations

import os
import time
from typing import Optional, Tuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.sharding import Mesh
from tqdm import tqdm

from jaxgan import checkpoint, config as config_lib, images, methods, optim, sharding, samples, summary
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.sources import build_source
from jaxgan.methods.base import DataInfo, split_variables
from jaxgan.state import GANState, Side
from jaxgan.train_step import compile_train_step, make_train_step


def init_state(method, config: ml_collections.ConfigDict, generator_tx, discriminator_tx,
               example_batch) -> GANState:
    """The initial state, a pure function of the config's seed."""
    init_rng, train_rng = jax.random.split(jax.random.PRNGKey(config.seed))
    g_vars, d_vars, method_state = method.init(init_rng, example_batch)
    g_params, g_collections = split_variables(g_vars)
    d_params, d_collections = split_variables(d_vars)
    return GANState(
        step=jnp.zeros((), jnp.int32),
        rng=train_rng,
        generator=Side(g_params, g_collections, generator_tx.init(g_params)),
        discriminator=Side(d_params, d_collections, discriminator_tx.init(d_params)),
        ema_params=g_params if config.train.ema_decay > 0 else None,
        method_state=method_state,
    )


class Trainer:
    """Everything a run needs, built once from the config; ``run`` trains to ``train.steps``."""

    def __init__(self, config: ml_collections.ConfigDict, workdir: str, mesh: Optional[Mesh] = None):
        config_lib.validate(config)
        self.config, self.workdir = config, workdir
        self.mesh = sharding.make_mesh() if mesh is None else mesh
        sharding.check_batch_size(config.train.batch_size, self.mesh)
        source = build_source(config.data.source, config.data.split)
        self.method = methods.build(config, DataInfo(source.image_shape, source.num_classes))
        self.num_classes = source.num_classes
        self.pipeline = Pipeline(source, global_batch_size=config.train.batch_size, seed=config.seed,
                                 process_index=jax.process_index(), process_count=jax.process_count())
        g_tx, d_tx = optim.build(config.optimizer.generator), optim.build(config.optimizer.discriminator)
        example = {k: v[:1] for k, v in self.pipeline.local_batch(0).items()}
        self.state = jax.jit(lambda b: init_state(self.method, config, g_tx, d_tx, b),
                             out_shardings=sharding.replicated(self.mesh))(example)
        self.step_fn = compile_train_step(make_train_step(
            discriminator_loss=self.method.discriminator_loss, generator_loss=self.method.generator_loss,
            discriminator_tx=d_tx, generator_tx=g_tx,
            n_critic=config.train.n_critic, ema_decay=config.train.ema_decay), self.mesh)
        self.checkpointer = checkpoint.Checkpointer(
            workdir, config=config.to_dict(), keep=config.train.keep_checkpoints,
            data_info=dict(image_shape=source.image_shape, num_classes=source.num_classes))
        if self.checkpointer.latest_step() is not None:
            self.state = self.checkpointer.restore(self.state)

    @property
    def step(self) -> int:
        return int(jax.device_get(self.state.step))

    def train_steps(self, num_steps: int):
        """Runs ``num_steps`` steps with no logging; returns the last metrics (for tests and benchmarks)."""
        metrics = None
        for step in range(self.step, self.step + num_steps):
            batch = sharding.global_batch(self.pipeline.local_batch(step), self.mesh)
            self.state, metrics = self.step_fn(self.state, batch)
        return metrics

    def run(self) -> Tuple[GANState, dict]:
        config, workdir = self.config, self.workdir
        is_main = jax.process_index() == 0
        start, total = self.step, config.train.steps
        writer = summary.SummaryWriter(os.path.join(workdir, "tensorboard")) if is_main else None
        grid_fn = samples.class_grid_fn(self.method, range(self.num_classes), config.sample.per_class, config.seed + 1)
        sample_dir = os.path.join(workdir, "samples")
        if is_main:
            os.makedirs(workdir, exist_ok=True)
            with open(os.path.join(workdir, "config.json"), "w") as f:
                f.write(config.to_json(indent=2))
        metrics, last_grid = {}, None
        bar = tqdm(total=total, initial=start, desc="train", unit="step", disable=not is_main,
                   dynamic_ncols=True, mininterval=1.0)
        for step in range(start, total):
            batch = sharding.global_batch(self.pipeline.local_batch(step), self.mesh)
            self.state, metrics = self.step_fn(self.state, batch)
            done = step + 1
            bar.update(1)
            if done % config.train.log_every == 0 or done == total:
                metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
                bad = [k for k, v in metrics.items() if not np.isfinite(v)]
                if bad:
                    raise FloatingPointError(
                        f"non-finite {', '.join(bad)} at step {done}; the last good checkpoint is kept in "
                        f"{self.checkpointer.directory}")
                bar.set_postfix({k: f"{metrics[k]:.3f}" for k in ("d/loss", "g/loss")})
                if writer:
                    writer.scalars(done, metrics)
            if done % config.train.sample_every == 0 or done == total:
                grid = grid_fn(self.state.generator_variables(config.sample.use_ema))
                if is_main:
                    last_grid = os.path.join(sample_dir, f"step_{done:07d}.png")
                    pixels = samples.write_grid(last_grid, grid, config.sample.per_class)
                    writer.image(done, "samples", images.encode_png(pixels), *pixels.shape)
            if done % config.train.checkpoint_every == 0 or done == total:
                self.checkpointer.save(self.state)
        bar.close()
        self.checkpointer.close()
        if writer:
            writer.close()
        if is_main:
            print(f"Finished at step {self.step}. Checkpoints: {self.checkpointer.directory}; "
                  f"samples: {last_grid or sample_dir}; "
                  f"TensorBoard: tensorboard --logdir {os.path.join(workdir, 'tensorboard')}")
        return self.state, metrics


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> GANState:
    return Trainer(config, workdir).run()[0]
