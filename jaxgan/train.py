"""The training loop: build everything from the config, resume, step, log, sample, save.

Reliability, in the order the loop meets it:

* Bad input fails before anything is written: the config is validated, the workdir
  probed for writing, the batch size checked against the devices, and a workdir
  holding another model's checkpoints refused.
* Image files that cannot be decoded (``data.on_corrupt``): named before training, or with
  'skip' dropped, counted in a message and in each checkpoint's run info (``skipped_images``).
* Non-finite losses or gradients (``train.on_nonfinite``). With 'skip' the jitted
  step drops the bad side's update itself (see ``jaxgan.train_step``). With 'stop'
  the step's cheap ``nonfinite`` flags are read *one step late*: after step k+1 is
  dispatched the host reads step k's flags, which waits for step k only, so the
  device always has the next step queued and no step is serialised behind a host
  sync. Before a checkpoint is written the flags of the step being saved are read,
  so a NaN state is never saved; on a bad step the run stops with a
  ``NonFiniteError`` naming the step and the non-finite terms, and writes a summary
  of that step's batch (rebuilt from ``(seed, step)`` by the stateless pipeline) to
  ``WORKDIR/nonfinite_step_K.json``.
* Preemption: SIGTERM or SIGINT (one process), or JAX's preemption notice (several
  processes, all of which must agree on the step), ends the run after the current
  step with a checkpoint and an ``Interrupted`` naming it; re-running the same
  command resumes from it. A second signal acts as usual (Ctrl-C twice aborts).
* Crashes: checkpoints are finalised atomically by Orbax (written to a temporary
  directory, renamed when complete); an unfinished one is ignored and deleted when
  the next run starts, which resumes from the last complete one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from typing import Dict, Iterator, Optional, Tuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh
from tqdm import tqdm

from jaxgan import checkpoint, config as config_lib, methods, optim, precision, sharding, samples, summary
from jaxgan.data.pipeline import Pipeline, summarize_batch
from jaxgan.data.sources import build_source
from jaxgan.data.transforms import ResizeAndCrop
from jaxgan.errors import Interrupted, NonFiniteError, WorkdirError
from jaxgan.methods.base import DataInfo, split_variables
from jaxgan.state import GANState, Side
from jaxgan.train_step import (NONFINITE_FLAGS, compile_train_step, compiler_options, make_train_step, scan_steps,
                               updates)


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
        nonfinite_steps=jnp.zeros((), jnp.int32),
    )


def report_skipped(source) -> int:
    """How many image files ``source`` dropped as undecodable (``data.on_corrupt='skip'``); prints
    the count with examples once, on process 0, if there are any."""
    skipped = getattr(source, "skipped", ())  # Only folder: and paired: sources decode files.
    if skipped and jax.process_index() == 0:
        print(f"{source.name}: skipped {len(skipped)} of {len(source) + len(skipped)} image files that cannot "
              f"be decoded (data.on_corrupt='skip'), e.g. {', '.join(skipped[:3])}")
    return len(skipped)


def check_workdir_writable(workdir: str) -> None:
    """Creates ``workdir`` and writes and removes a probe file in it, so that a read-only or
    mistyped workdir fails now, with its reason, rather than at the first checkpoint."""
    probe = os.path.join(workdir, f".write_probe.{jax.process_index()}.{os.getpid()}")
    try:
        os.makedirs(workdir, exist_ok=True)
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as e:
        raise WorkdirError(
            f"cannot write to the workdir {os.path.abspath(workdir)} ({e.strerror or e}); "
            "choose a writable --workdir, or fix its permissions or free space"
        ) from e


@contextlib.contextmanager
def stop_signals(signums: Tuple[int, ...]) -> Iterator[Dict[str, int]]:
    """Records the signals ``signums`` in the yielded dict (as ``'signum'``) instead of dying, so the
    loop can checkpoint first. The first signal restores the previous handlers, so a second one acts
    as it normally would. Does nothing outside the main thread, where Python cannot set handlers."""
    received: Dict[str, int] = {}
    previous = {}

    def restore():
        while previous:
            signum, handler = previous.popitem()
            signal.signal(signum, handler)

    def handle(signum, frame):
        received["signum"] = signum
        restore()

    if threading.current_thread() is threading.main_thread():
        for signum in signums:
            previous[signum] = signal.signal(signum, handle)
    try:
        yield received
    finally:
        restore()


def nonfinite_terms(metrics: Dict[str, float]) -> list:
    """Names of the metrics that are NaN/inf, or of the side whose gradients were (their norm
    can be finite when, e.g., an inf and a NaN cancel)."""
    bad = [k for k, v in metrics.items() if k not in NONFINITE_FLAGS and not np.isfinite(v)]
    return bad or [f"{flag.split('/')[0]}/gradients" for flag in NONFINITE_FLAGS if metrics.get(flag)]


class Trainer:
    """Everything a run needs, built once from the config; ``run`` trains to ``train.steps``."""

    def __init__(self, config: ml_collections.ConfigDict, workdir: str, mesh: Optional[Mesh] = None):
        config_lib.validate(config)
        check_workdir_writable(workdir)
        self.config, self.workdir = config, workdir
        self.mesh = sharding.make_mesh() if mesh is None else mesh
        sharding.check_batch_size(config.train.batch_size, self.mesh)
        source = build_source(config.data.source, config.data.split, on_corrupt=config.data.on_corrupt,
                              direction=config.data.direction)
        skipped_images = report_skipped(source)
        self.pipeline = Pipeline(source, global_batch_size=config.train.batch_size, seed=config.seed,
                                 process_index=jax.process_index(), process_count=jax.process_count(),
                                 transform=ResizeAndCrop.from_config(config.data),
                                 num_workers=config.data.num_workers)
        example = {k: v[:1] for k, v in self.pipeline.local_batch(0).items()}
        self.data = DataInfo.from_batch(example, source)
        self.method = methods.build(config, self.data)
        g_tx, d_tx = optim.build_pair(config, self.method)
        init = jax.jit(lambda b: init_state(self.method, config, g_tx, d_tx, b),
                       out_shardings=sharding.replicated(self.mesh))
        step = make_train_step(
            self.method, discriminator_tx=d_tx, generator_tx=g_tx,
            ema_decay=config.train.ema_decay, skip_nonfinite=config.train.on_nonfinite == "skip",
            compute_dtype=precision.compute_dtype(config.train.compute_dtype),
            activation_dtype=precision.compute_dtype(config.train.activation_dtype))
        options = compiler_options(config.train.cpu_ynnpack)
        self.step_fn = compile_train_step(step, self.mesh, options)
        k = config.train.steps_per_call  # Compiled on the first call of k steps (jit), if any.
        ratio = (config.train.n_critic, config.train.get("n_generator", 1))
        self.steps_fn = (compile_train_step(scan_steps(step, k, *ratio), self.mesh, options, stacked=True)
                         if k > 1 else None)
        self.checkpointer = checkpoint.Checkpointer(
            workdir, config=config.to_dict(), keep=config.train.keep_checkpoints,
            data_info={**self.data.to_json(), "skipped_images": skipped_images})
        if self.checkpointer.latest_step() is None:
            self.state = init(example)
        else:  # Restored into the state's shapes and shardings: the initialisation is neither compiled nor run.
            self.state = self.checkpointer.restore(jax.eval_shape(init, example))

    @property
    def step(self) -> int:
        return int(jax.device_get(self.state.step))

    def train_steps(self, num_steps: int):
        """Runs ``num_steps`` steps with no logging; returns the last call's metrics (for tests and
        benchmarks)."""
        step, end, metrics = self.step, self.step + num_steps, None
        while step < end:
            count, metrics = self.update(step, end)
            step += count
        return metrics

    def update(self, step: int, end: int):
        """The train steps from batch ``step`` (G on every n_critic-th step, D on every n_generator-th) in
        one compiled call: ``train.steps_per_call`` of them where the call starts at a multiple of it and
        ends by ``end``, else one. Returns (steps taken, their metrics still on device, stacked for a call of
        k steps)."""
        k = self.config.train.steps_per_call
        if k > 1 and step % k == 0 and step + k <= end:
            batches = [self.pipeline.local_batch(s) for s in range(step, step + k)]
            stacked = {key: np.stack([b[key] for b in batches]) for key in batches[0]}
            self.state, metrics = self.steps_fn(self.state, sharding.global_batch(stacked, self.mesh, stacked=True))
            return k, metrics
        batch = sharding.global_batch(self.pipeline.local_batch(step), self.mesh)
        self.state, metrics = self.step_fn(
            self.state, batch, *updates(step, self.config.train.n_critic, self.config.train.get("n_generator", 1)))
        return 1, metrics

    def check_finite(self, step: int, metrics) -> None:
        """With ``on_nonfinite='stop'``: raises NonFiniteError if an update of the call that started on
        batch ``step`` (whose metrics these are) met a NaN/inf, after writing that batch's summary."""
        if self.config.train.on_nonfinite != "stop":
            return
        flags = np.stack([np.atleast_1d(f) for f in jax.device_get([metrics[k] for k in NONFINITE_FLAGS])])
        bad = np.flatnonzero(flags.any(axis=0))
        if not bad.size:
            return
        step += int(bad[0])  # The first bad step of the call.
        values = {k: float(np.atleast_1d(v)[bad[0]]) for k, v in jax.device_get(metrics).items()}
        report = os.path.join(self.workdir, f"nonfinite_step_{step:07d}.json")
        if jax.process_index() == 0:
            with open(report, "w") as f:
                json.dump(dict(step=step, terms=nonfinite_terms(values), metrics=values,
                               batch=summarize_batch(self.pipeline.full_batch(step), self.data.num_classes)),
                          f, indent=2, default=str)
        self.checkpointer.wait()
        latest = self.checkpointer.latest_step()
        raise NonFiniteError(
            f"non-finite {', '.join(nonfinite_terms(values))} in the update on the batch of step {step}; "
            f"nothing after it was saved, the last good checkpoint is "
            f"{'step %d in %s' % (latest, self.checkpointer.directory) if latest is not None else 'none'}. "
            f"The batch is summarised in {report}. Lower the learning rate, or set "
            "--config.train.on_nonfinite=skip to skip such steps"
        )

    @staticmethod
    def _preempted(stop: Dict[str, int], done: int) -> Optional[int]:
        """The signal to stop on after step ``done``, if any. Several processes must stop at the same
        step (saving is collective), so they ask JAX's preemption service, which catches SIGTERM (or
        the TPU maintenance notice) on any process and agrees on a step with the others."""
        if jax.process_count() > 1:
            return signal.SIGTERM if multihost_utils.reached_preemption_sync_point(done) else None
        return stop.get("signum")

    def run(self) -> Tuple[GANState, dict]:
        """Trains to ``train.steps`` with logging, sample grids and checkpoints; see the module docstring
        for what happens on a non-finite step, a signal or a crash."""
        config, workdir = self.config, self.workdir
        is_main = jax.process_index() == 0
        start, total = self.step, config.train.steps
        writer = summary.SummaryWriter(os.path.join(workdir, "tensorboard")) if is_main else None
        panel = samples.training_panel(self.method, self.data, config)
        sample_dir = os.path.join(workdir, "samples")
        if is_main:
            with open(os.path.join(workdir, "config.json"), "w") as f:
                f.write(config.to_json(indent=2))
        metrics, last_grid = {}, None
        bar = tqdm(total=total, initial=start, desc="train", unit="step", disable=not is_main,
                   dynamic_ncols=True, mininterval=1.0)
        try:
            multi_process = jax.process_count() > 1  # Then JAX's preemption service owns SIGTERM.
            with stop_signals(() if multi_process else (signal.SIGTERM, signal.SIGINT)) as stop:
                step = last_call = start
                while step < total:
                    count, new_metrics = self.update(step, total)
                    if step > start:
                        self.check_finite(last_call, metrics)  # Waits for the previous call only.
                    metrics, last_call, done = new_metrics, step, step + count
                    bar.update(count)
                    signum = self._preempted(stop, done)
                    if done % config.train.log_every == 0 or done == total:
                        self.check_finite(step, metrics)
                        metrics = {k: float(np.atleast_1d(v)[-1])  # The call's last step.
                                   for k, v in jax.device_get(metrics).items()}
                        bar.set_postfix({k: f"{metrics[k]:.3f}" for k in ("d/loss", "g/loss")})
                        if writer:
                            writer.scalars(done, {**metrics, "train/nonfinite_steps": float(self.state.nonfinite_steps)})
                    if done % config.train.sample_every == 0 or done == total:
                        grid = panel.images(self.state.generator_variables(config.sample.use_ema))
                        if is_main:
                            last_grid = os.path.join(sample_dir, f"step_{done:07d}.png")
                            pixels = samples.write_grid(last_grid, grid, panel.columns)
                            writer.image(done, "samples", pixels)
                    if done % config.train.checkpoint_every == 0 or done == total or signum:
                        self.check_finite(step, metrics)
                        self.checkpointer.save(self.state)
                    if signum:
                        raise Interrupted(
                            f"Stopped by {signal.Signals(signum).name} after step {done}; saved checkpoint "
                            f"{os.path.join(self.checkpointer.directory, str(done))}. To resume, run the same "
                            f"command again with --workdir {workdir}.", signum)
                    step = done
        finally:
            bar.close()
            self.checkpointer.close()  # Lets an asynchronous save of a good state finish.
            if writer:
                writer.close()
        if is_main:
            print(f"Finished at step {self.step}. Checkpoints: {self.checkpointer.directory}; "
                  f"samples: {last_grid or sample_dir}; "
                  f"TensorBoard: tensorboard --logdir {os.path.join(workdir, 'tensorboard')}")
        return self.state, metrics


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> GANState:
    return Trainer(config, workdir).run()[0]
