"""Where a config's compiled train step spends its time: per XLA op, from a profiler trace (issue 14).

    XLA_FLAGS=--xla_cpu_enable_xprof_traceme=true python benchmarks/profile_step.py \
        --config configs/pix2pix_facades.py --synthetic_data --steps 3 [--set train.cpu_ynnpack=False] [--top 30]

Builds the Trainer as ``speed.py`` does, runs ``--steps`` compiled steps untraced (the ms/step printed)
and then under ``jax.profiler.trace``, and sums the trace's op durations per step: by kind (the op name
without its number: ``ynn_fusion`` for YNNPACK's dots and convolutions, ``convolution`` for Eigen's,
``transpose_copy_fusion``, ...) and, with ``--top``, the single slowest ops. Op times overlap where XLA
runs ops concurrently, so their sum can exceed the wall time. On a GPU the ops are the HLO ops of the
device's 'XLA Ops' line, and each device line's busy time is printed first (the step's wall time less
a stream's busy time is that stream's idle time: launch gaps, host work). ``--hlo FILE`` writes the compiled step's
HLO, to look an op up by name. On XLA:CPU the per-op events need the XLA flag above.
"""

import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time

import jax
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speed  # noqa: E402

from jaxgan import sharding  # noqa: E402
from jaxgan.train import Trainer  # noqa: E402

# --set, --steps (timed, then traced) and --synthetic_data are speed.py's flags.
flags.DEFINE_string("config", "configs/pix2pix_facades.py", "Config file (path[:variant]).")
flags.DEFINE_integer("top", 0, "Also list the N slowest single ops.")
flags.DEFINE_string("hlo", "", "Write the compiled step's HLO text here.")
FLAGS = flags.FLAGS
RUNTIME_EVENTS = ("Thunk", "Slinky", "PjitFunction")  # The executor's own spans, not ops.


def op_times(trace_dir: str) -> tuple:
    """(total microseconds per op name, total per device timeline) of the (one) perfetto trace under
    ``trace_dir``. On a GPU the ops are the device's 'XLA Ops' line (HLO ops, each spanning its kernels;
    the kernels' stream lines where there is none) and the timelines say how busy each stream was; on
    CPU every span except the executor's own, and no timelines."""
    path = glob.glob(os.path.join(trace_dir, "**", "*.trace.json.gz"), recursive=True)[0]
    with gzip.open(path) as f:
        events = json.load(f)["traceEvents"]
    processes = {e["pid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e.get("ph") == "M" and e.get("name") == "thread_name"}
    spans = [e for e in events if e.get("ph") == "X" and not e.get("name", "").startswith("$")]
    devices = {pid for pid, name in processes.items() if "/device:" in name}
    timelines = collections.Counter()
    for e in spans:
        if e["pid"] in devices:
            timelines[f"{processes[e['pid']]} {threads.get((e['pid'], e.get('tid')), e.get('tid'))}"] += e["dur"]

    def line(e) -> str:
        return threads.get((e["pid"], e.get("tid")), "")

    if devices:
        ops = [e for e in spans if e["pid"] in devices and line(e) == "XLA Ops"]
        ops = ops or [e for e in spans if e["pid"] in devices and line(e).startswith("Stream")]
    else:
        ops = [e for e in spans if not any(r in e["name"] for r in RUNTIME_EVENTS)]
    totals = collections.Counter()
    for e in ops:
        totals[e["name"]] += e["dur"]
    return totals, timelines


def family(kernel: str) -> str:
    """A GPU kernel's family: 'convolution kernels' (cuDNN / CUTLASS: forward, data and weight gradients,
    and cuDNN's own padding), 'XLA fusions and ops' (normalisation, elementwise, transposes, pads,
    reductions), 'copies'."""
    if re.search(r"xmma|cutlass|cudnn|convolve|implicit_gemm|nhwc|nchw", kernel, re.IGNORECASE):
        return "convolution kernels"
    if re.search(r"memcpy|memset", kernel, re.IGNORECASE):
        return "copies"
    return "XLA fusions and ops"


def main(argv):
    del argv
    config = speed.load_config(FLAGS.config)
    speed.apply_overrides(config, FLAGS.set)
    with tempfile.TemporaryDirectory() as data_root, tempfile.TemporaryDirectory() as workdir:
        if FLAGS.synthetic_data:
            speed.synthetic_source(config, data_root, count=max(8, 2 * config.train.batch_size))
        trainer = Trainer(config, workdir)
        batch = sharding.global_batch(trainer.pipeline.local_batch(0), trainer.mesh)
        compiled = trainer.step_fn.lower(trainer.state, batch, True).compile()
        if FLAGS.hlo:
            with open(FLAGS.hlo, "w") as f:
                f.write(compiled.as_text())
        state = trainer.state

        def run(n: int) -> float:
            nonlocal state
            start = time.perf_counter()
            for _ in range(n):
                state, metrics = compiled(state, batch)
                jax.block_until_ready((state, metrics))
            return (time.perf_counter() - start) / n

        run(1)
        print(f"{FLAGS.config}: {1000 * run(FLAGS.steps):.1f} ms/step untraced")
        with tempfile.TemporaryDirectory() as trace_dir:
            with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
                run(FLAGS.steps)
            totals, timelines = op_times(trace_dir)
    if not totals:
        raise SystemExit("the trace has no op events; on CPU set XLA_FLAGS=--xla_cpu_enable_xprof_traceme=true")
    for name, micros in timelines.most_common(8):  # Busy time per device line (GPU): the rest is idle.
        print(f"{micros / 1000 / FLAGS.steps:9.1f} ms  busy: {name}")
    kinds, families = collections.Counter(), collections.Counter()
    for name, micros in totals.items():
        kinds[re.sub(r"[._]\d+$", "", name)] += micros
        families[family(name)] += micros
    if timelines:  # GPU kernels: cuDNN's convolutions, XLA's fusions, copies.
        for name, micros in families.most_common():
            print(f"{micros / 1000 / FLAGS.steps:9.1f} ms  all {name}")
    print(f"op time per step: {sum(kinds.values()) / 1000 / FLAGS.steps:.1f} ms")
    for name, micros in kinds.most_common(25):
        print(f"{micros / 1000 / FLAGS.steps:9.1f} ms  {name}")
    for name, micros in totals.most_common(FLAGS.top):
        print(f"{micros / 1000 / FLAGS.steps:9.1f} ms  {name}")


if __name__ == "__main__":
    app.run(main)
