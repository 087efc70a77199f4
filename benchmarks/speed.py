"""Speed of jaxgan's compiled train step, and of its PyTorch twin side by side (issue 14).

    python benchmarks/speed.py --configs configs/cgan_mnist.py,configs/pix2pix_facades.py \
        --batch_sizes 1,16 --synthetic_data [--peers] [--steps 20] [--set model.generator.features=8]

For every config and batch size: builds the Trainer (temporary workdir), compiles the step ahead of
time (compile time), runs ``--warmup`` steps, then times ``--steps`` steps one by one, each
synchronised with ``block_until_ready``, on one fixed device batch, and reports the median:

* ms/step and examples/s (an example is one item of the batch: an image, a pair, or one image per
  domain); with ``--set train.steps_per_call=K`` each timed call runs K steps (on K copies of the
  batch) and ms/step is its time / K;
* compile time (lowering + XLA compilation);
* peak device memory as the device reports it (``memory_stats()``; 'n/a' on CPU, which reports
  none; a process-wide peak, so a later row includes earlier ones) and XLA's own plan for the step
  (``memory_analysis()``: arguments + outputs + temporaries - aliased, every backend);
* GFLOP per step counted from the layer shapes: every convolution and matrix product in the step's
  jaxpr (forward and backward), 2 FLOPs per multiply-add (``count_flops``). This is the numerator of
  the utilisation on every backend, because XLA:GPU's ``cost_analysis()`` leaves cuDNN convolutions out
  (/work/shared/PERF-NOTES.md); on CPU XLA's figure (which also counts elementwise work) is shown too;
* utilisation = FLOPs / time / peak, with the peak from ``--peak_tflops`` or, on an H100 / H200, their
  dense bf16 peak (790 TFLOP/s measured on an H100, PERF-NOTES; 989 TFLOP/s for the H200, NVIDIA's
  figure); the steps run in float32, so this is the fraction of what bf16 could reach;
* the input pipeline's examples/s: the config's Pipeline decoding ``--pipeline_batches`` batches of
  the config's real source (after one warm-up batch);
* with ``--back_to_back``: ms/step over ``--steps`` steps in a row, run as training runs them: jaxgan
  dispatches step n before waiting for step n - 1's metrics (as ``Trainer.run``), so the host's work
  for one step overlaps the device's for the previous one; the twin synchronises once at the end (the
  reference loops read their losses every ``print_freq`` iterations). The per-step synchronised median
  above charges each step the host's dispatch time as well;
* with ``--peers``: the PyTorch twin (``benchmarks/peers``) on the same first batch, same sizes, in the
  same process, rounds alternating with jaxgan's; on CPU the best of ``--torch_threads`` (1 and 2) for each
  of ``--cpu_variants`` (eager fp32; add bf16 for autocast + channels_last, which oneDNN runs on a CPU's
  bf16 units), on GPU the best of eager fp32, bf16 autocast + channels_last and torch.compile.
* ``--transpose_form`` / ``--reflect_pad_form``: every transposed convolution / ResNet reflection pad in
  another exact form (``use_forms``), to compare forms on whole steps.

``--synthetic_data``: a config whose source is a user folder (``paired:DIR``, ``unpaired:DIR``) gets
a temporary folder of random JPEGs of the config's crop size instead (A|B pairs, or trainA/trainB).
Prints a markdown table with the device, versions, date and load average, for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import importlib.util
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

import flax
import jax
import ml_collections
import numpy as np
from absl import app, flags
from PIL import Image

import jaxgan
from jaxgan import sharding
from jaxgan.networks import combogan, conv, pix2pixhd, resnet_translator
from jaxgan.train import Trainer

PEAK_BF16_TFLOPS = {"H100": 790.0, "H200": 989.0}  # PERF-NOTES (H100, measured); NVIDIA (H200).


@dataclasses.dataclass
class Result:
    """One row: a config at one batch size."""

    config: str
    batch_size: int
    ms_per_step: float
    compile_s: float
    gflop: float  # Convolutions and matrix products of one step (count_flops).
    xla_gflop: Optional[float]  # XLA's cost analysis (CPU only: XLA:GPU misses cuDNN convolutions).
    peak_memory_mib: Optional[float]  # Device-reported process peak; None where the device reports none.
    step_memory_mib: Optional[float]  # XLA's memory plan of the compiled step.
    peak_tflops: Optional[float]
    pipeline_examples_per_s: Optional[float]
    load_average: float  # 1-minute load average at the end of the row.
    peers: Dict[str, float] = dataclasses.field(default_factory=dict)  # twin variant -> ms/step.
    # With back_to_back: 'jaxgan' and each twin variant -> ms/step over steps run as a training loop runs them.
    back_to_back: Dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def examples_per_s(self) -> float:
        return 1000.0 * self.batch_size / self.ms_per_step

    @property
    def utilisation(self) -> Optional[float]:
        if not self.peak_tflops:
            return None
        return self.gflop * 1e9 / (self.ms_per_step / 1000.0) / (self.peak_tflops * 1e12)


# ----------------------------------------------------------------------------------------------
# FLOPs from the jaxpr

def _conv_flops(eqn) -> float:
    """2 x output elements x (kernel window x input features per group) of a conv_general_dilated,
    divided by its input dilation: the zeros a strided convolution's input gradient inserts are not
    work (cuDNN skips them; PyTorch's FlopCounterMode counts that gradient at the forward's cost)."""
    out = eqn.outvars[0].aval.shape
    rhs = eqn.invars[1].aval.shape
    spec = eqn.params["dimension_numbers"].rhs_spec  # (out feature, in feature, spatial...)
    window = math.prod(rhs[d] for d in spec[2:])
    dilation = math.prod(eqn.params.get("lhs_dilation") or (1,))
    return 2.0 * math.prod(out) * window * rhs[spec[1]] / dilation


def _dot_flops(eqn) -> float:
    """2 x output elements x contracted size of a dot_general."""
    (lhs_contract, _), _ = eqn.params["dimension_numbers"]
    lhs = eqn.invars[0].aval.shape
    return 2.0 * math.prod(eqn.outvars[0].aval.shape) * math.prod(lhs[d] for d in lhs_contract)


def _sub_jaxprs(value) -> List:
    if hasattr(value, "eqns"):
        return [value]
    if hasattr(value, "jaxpr") and hasattr(value.jaxpr, "eqns"):
        return [value.jaxpr]
    if isinstance(value, (tuple, list)):
        return [j for v in value for j in _sub_jaxprs(v)]
    return []


def _jaxpr_flops(jaxpr) -> float:
    total = 0.0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "conv_general_dilated":
            total += _conv_flops(eqn)
        elif name == "dot_general":
            total += _dot_flops(eqn)
        inner = [_jaxpr_flops(j) for v in eqn.params.values() for j in _sub_jaxprs(v)]
        if name == "cond":
            total += max(inner, default=0.0)  # One branch runs.
        elif name == "scan":
            total += eqn.params["length"] * sum(inner)
        else:
            total += sum(inner)
    return total


def count_flops(fn: Callable, *args) -> float:
    """FLOPs of one call of ``fn(*args)``: its convolutions and matrix products (2 per multiply-add),
    counted from the shapes in its jaxpr, inside jit, vjp, cond (the larger branch) and scan (x length).
    Elementwise work is left out, and so are the zeros of input-dilated convolutions (``_conv_flops``);
    padding taps are counted, as PyTorch's FlopCounterMode counts them (PERF-NOTES' figures)."""
    traced = fn.trace(*args) if hasattr(fn, "trace") else None  # A jit with compiler options cannot nest.
    return _jaxpr_flops(traced.jaxpr.jaxpr if traced is not None else jax.make_jaxpr(fn)(*args).jaxpr)


# ----------------------------------------------------------------------------------------------
# Configs and synthetic folders

def load_config(spec: str) -> ml_collections.ConfigDict:
    """``path/to/config.py[:variant]`` -> its ``get_config()``, as ``jaxgan.main`` loads it."""
    path, _, variant = spec.partition(":")
    module_spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.get_config(variant) if variant else module.get_config()


def apply_overrides(config: ml_collections.ConfigDict, overrides: Sequence[str]) -> None:
    """``key.path=value`` assignments, values parsed as Python literals (else kept as strings)."""
    for item in overrides:
        key, _, text = item.partition("=")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        *parents, leaf = key.split(".")
        node = config
        for parent in parents:
            node = node[parent]
        node[leaf] = value


def _random_photo(rng: np.random.Generator, height: int, width: int) -> Image.Image:
    """Smooth colour blobs plus fine noise, which JPEG-compresses like a photograph."""
    coarse = Image.fromarray(rng.integers(0, 256, (max(1, height // 16), max(1, width // 16), 3), dtype=np.uint8))
    pixels = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), np.int16)
    return Image.fromarray(np.clip(pixels + rng.integers(-20, 21, pixels.shape), 0, 255).astype(np.uint8))


def synthetic_source(config: ml_collections.ConfigDict, root: str, count: int = 8, seed: int = 0) -> bool:
    """Points a ``paired:`` / ``unpaired:`` source at ``count`` random JPEGs of the config's crop size
    written under ``root`` (A|B side-by-side files; trainA/ and trainB/); False (config unchanged)
    for any other source."""
    kind = config.data.source.partition(":")[0]
    if kind not in ("paired", "unpaired"):
        return False
    size = config.data.get("crop_size") or config.data.get("load_size") or 256
    rng = np.random.default_rng(seed)
    if kind == "paired":
        for i in range(count):
            _random_photo(rng, size, 2 * size).save(os.path.join(root, f"{i:04d}.jpg"), quality=90)
    else:
        for domain in ("trainA", "trainB"):
            os.makedirs(os.path.join(root, domain))
            for i in range(count):
                _random_photo(rng, size, size).save(os.path.join(root, domain, f"{i:04d}.jpg"), quality=90)
    config.data.source = f"{kind}:{root}"
    return True


# ----------------------------------------------------------------------------------------------
# Timing

def _timed(call: Callable[[], None]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _pipeline_rate(pipeline, batches: int) -> float:
    pipeline.local_batch(1)  # Warm-up: opens files, starts reader threads.
    seconds = _timed(lambda: [pipeline.local_batch(step) for step in range(2, 2 + batches)])
    return batches * pipeline.global_batch_size / seconds


def _device_peak_mib() -> Optional[float]:
    stats = jax.local_devices()[0].memory_stats()
    if not stats or "peak_bytes_in_use" not in stats:
        return None
    return stats["peak_bytes_in_use"] / 2 ** 20


def _step_memory_mib(compiled) -> Optional[float]:
    try:
        m = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it; the column then says n/a.
        return None
    if m is None:
        return None
    total = m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes - m.alias_size_in_bytes
    return total / 2 ** 20


def _xla_flops(compiled) -> Optional[float]:
    if jax.default_backend() != "cpu":
        return None  # XLA:GPU leaves cuDNN convolutions out of its count (PERF-NOTES).
    analysis = compiled.cost_analysis()
    if isinstance(analysis, (list, tuple)):
        analysis = analysis[0]
    return analysis.get("flops") if analysis else None


def default_peak_tflops() -> Optional[float]:
    kind = jax.devices()[0].device_kind
    return next((tflops for name, tflops in PEAK_BF16_TFLOPS.items() if name in kind), None)


def peer_variants(threads: Sequence[int] = (1, 2), gpu_variants: Sequence[str] = ("eager", "bf16", "compile"),
                  cpu_variants: Sequence[str] = ("eager",)) -> Dict[str, dict]:
    """Twin variants to time: CPU: each of ``cpu_variants`` (eager fp32; bf16 autocast + channels_last,
    which oneDNN runs on a CPU's bf16 units where it has them) at each of ``threads`` torch threads;
    GPU: ``gpu_variants`` (of eager, bf16, compile)."""
    if jax.default_backend() == "gpu":
        return {name: dict(variant=name, threads=None) for name in gpu_variants}
    return {f"{variant}, {n} thread{'s' if n > 1 else ''}": dict(variant=variant, threads=n)
            for variant in cpu_variants for n in threads}


def benchmark(config: ml_collections.ConfigDict, *, name: str, steps: int = 20, warmup: int = 3,
              rounds: int = 1, pipeline_batches: int = 10, peers: bool = False,
              peak_tflops: Optional[float] = None, torch_threads: Sequence[int] = (1, 2),
              gpu_variants: Sequence[str] = ("eager", "bf16", "compile"), mesh=None,
              back_to_back: bool = False, cpu_variants: Sequence[str] = ("eager",)) -> Result:
    """Times ``config``'s train step (see the module docstring); ``rounds`` alternate jaxgan's ``steps``
    timed steps with each twin variant's, the median over all of them reported per side. With
    ``back_to_back``, each round also times ``steps`` steps in a row per side as a training loop runs them
    (see ``jax_back_to_back``), the mean per step reported (median over rounds)."""
    with tempfile.TemporaryDirectory() as workdir:
        trainer = Trainer(config, workdir, mesh=mesh)
        pipeline_rate = _pipeline_rate(trainer.pipeline, pipeline_batches) if pipeline_batches else None
        local = trainer.pipeline.local_batch(0)
        batch = sharding.global_batch(local, trainer.mesh)
        state = trainer.state
        gflop = count_flops(trainer.step_fn, state, batch, True) / 1e9
        k = config.train.steps_per_call  # > 1: each timed call is k steps on k copies of the batch.
        if k > 1:
            batch = sharding.global_batch({key: np.stack([v] * k) for key, v in local.items()}, trainer.mesh,
                                          stacked=True)
        start = time.perf_counter()
        compiled = (trainer.steps_fn.lower(state, batch) if k > 1 else trainer.step_fn.lower(state, batch, True)).compile()
        compile_s = time.perf_counter() - start
        holder = {"state": state}

        def jax_step() -> None:
            holder["state"], metrics = compiled(holder["state"], batch)
            jax.block_until_ready((holder["state"], metrics))

        def jax_back_to_back() -> None:
            """``steps`` calls as Trainer.run makes them: call n is dispatched before waiting for the
            metrics of call n - 1, so the host prepares the next call while the device runs one."""
            pending = None
            for _ in range(steps):
                holder["state"], metrics = compiled(holder["state"], batch)
                if pending is not None:
                    jax.block_until_ready(pending)
                pending = metrics
            jax.block_until_ready((holder["state"], pending))

        twins = {}
        if peers:
            import torch
            from peers import build_twin

            device = "cuda" if jax.default_backend() == "gpu" else "cpu"
            for label, spec in peer_variants(torch_threads, gpu_variants, cpu_variants).items():
                twins[label] = (build_twin(config, local, trainer.data.num_classes, device=device,
                                           variant=spec["variant"]), spec["threads"])

            def run_twin(label: str) -> Callable[[], None]:
                twin, threads = twins[label]
                if threads:
                    torch.set_num_threads(threads)
                return twin.step

            def twin_back_to_back(label: str) -> Callable[[], None]:
                """``steps`` iterations synchronised once at the end, as the reference training loops
                run them (they read the losses every ``print_freq`` iterations)."""
                step, twin = run_twin(label), twins[label][0]

                def run() -> None:
                    for _ in range(steps):
                        step(synchronize=False)
                    twin.synchronize()
                return run
        times: Dict[str, List[float]] = {"jaxgan": [], **{label: [] for label in twins}}
        in_a_row: Dict[str, List[float]] = {label: [] for label in times} if back_to_back else {}
        for _ in range(warmup):
            jax_step()
            for label in twins:
                run_twin(label)()
        for round_ in range(rounds):
            order = list(times) if round_ % 2 == 0 else list(times)[::-1]
            for label in order:
                call = jax_step if label == "jaxgan" else run_twin(label)
                times[label] += [_timed(call) for _ in range(steps)]
                if back_to_back:
                    run = jax_back_to_back if label == "jaxgan" else twin_back_to_back(label)
                    in_a_row[label].append(_timed(run) / steps)
        steps_per_call = {label: k if label == "jaxgan" else 1 for label in times}
        ms = {label: 1000.0 * statistics.median(t) / steps_per_call[label] for label, t in times.items()}
        ms_in_a_row = {label: 1000.0 * statistics.median(t) / steps_per_call[label] for label, t in in_a_row.items()}
        return Result(config=name, batch_size=config.train.batch_size, ms_per_step=ms.pop("jaxgan"),
                      compile_s=compile_s, gflop=gflop,
                      xla_gflop=None if (f := _xla_flops(compiled)) is None else f / 1e9,
                      peak_memory_mib=_device_peak_mib(), step_memory_mib=_step_memory_mib(compiled),
                      peak_tflops=peak_tflops or default_peak_tflops(), pipeline_examples_per_s=pipeline_rate,
                      load_average=os.getloadavg()[0], peers=ms, back_to_back=ms_in_a_row)


# ----------------------------------------------------------------------------------------------
# Report

def _fmt(value: Optional[float], spec: str = ".1f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def jaxgan_source() -> str:
    """Where the benchmarked ``jaxgan`` was imported from, with its checkout's commit ('+' if it has
    uncommitted changes): a script run from another worktree imports the editable install's checkout
    unless PYTHONPATH names the worktree, and this line shows which code ran."""
    folder = os.path.dirname(os.path.dirname(os.path.abspath(jaxgan.__file__)))
    try:
        commit = subprocess.run(["git", "-C", folder, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", folder, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"jaxgan from {folder}"
    return f"jaxgan from {folder} at {commit}{'+' if dirty else ''}"


def header() -> str:
    """Device, versions, date, machine and the jaxgan source, one paragraph."""
    versions = [f"jax {jax.__version__}", f"jaxlib {jax.lib.__version__}", f"flax {flax.__version__}",
                f"numpy {np.__version__}", f"Python {platform.python_version()}"]
    if "torch" in sys.modules:
        versions.append(f"torch {sys.modules['torch'].__version__}")
    devices = jax.devices()
    return (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {len(devices)}x "
            f"{devices[0].device_kind} ({jax.default_backend()}); {os.cpu_count()} CPU cores "
            f"({platform.processor() or platform.machine()}); {', '.join(versions)}; {jaxgan_source()}")


def markdown(results: Sequence[Result]) -> str:
    """The table: one row per (config, batch); a twin column per variant and the ratio to the best."""
    labels = sorted({label for r in results for label in r.peers})
    columns = ["config", "batch", "ms/step", "examples/s", "compile s", "GFLOP/step (XLA)", "utilisation",
               "peak device MiB", "step MiB (XLA plan)", "pipeline examples/s", "load avg"]
    columns += [f"PyTorch {label} ms" for label in labels]
    if labels:
        columns.append("best PyTorch / jaxgan")
    in_a_row = any(r.back_to_back for r in results)
    if in_a_row:
        columns += ["jaxgan ms in a row", "best PyTorch ms in a row", "best PyTorch / jaxgan in a row"]
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for r in results:
        cells = [r.config, str(r.batch_size), f"{r.ms_per_step:.1f}", f"{r.examples_per_s:.1f}", f"{r.compile_s:.1f}",
                 f"{r.gflop:.2f} ({_fmt(r.xla_gflop, '.2f')})", _fmt(None if r.utilisation is None
                                                                       else 100 * r.utilisation, ".1f", "%"),
                 _fmt(r.peak_memory_mib, ".0f"), _fmt(r.step_memory_mib, ".0f"),
                 _fmt(r.pipeline_examples_per_s, ".0f"), f"{r.load_average:.1f}"]
        cells += [_fmt(r.peers.get(label), ".1f") for label in labels]
        if labels:
            best = min(r.peers.values()) if r.peers else None
            cells.append(_fmt(None if best is None else best / r.ms_per_step, ".2f", "x"))
        if in_a_row:
            ours = r.back_to_back.get("jaxgan")
            best = min((v for label, v in r.back_to_back.items() if label != "jaxgan"), default=None)
            cells += [_fmt(ours, ".1f"), _fmt(best, ".1f"),
                      _fmt(None if best is None or ours is None else best / ours, ".2f", "x")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


FLAGS = flags.FLAGS
flags.DEFINE_list("configs", ["configs/cgan_mnist.py"], "Config files (path[:variant]), comma-separated.")
flags.DEFINE_list("batch_sizes", [], "Batch sizes; empty: each config's own.")
flags.DEFINE_multi_string("set", [], "key.path=value override applied to every config (repeatable).")
flags.DEFINE_integer("steps", 20, "Timed steps per round and side (median reported).")
flags.DEFINE_integer("warmup", 3, "Untimed steps per side after compilation.")
flags.DEFINE_integer("rounds", 1, "Rounds alternating jaxgan and the twins.")
flags.DEFINE_integer("pipeline_batches", 10, "Batches the input pipeline reads for its rate (0: skip).")
flags.DEFINE_bool("peers", False, "Also time the PyTorch twin (benchmarks/peers; needs torch).")
flags.DEFINE_list("torch_threads", ["1", "2"], "CPU: torch thread counts to try for the twin (best reported).")
flags.DEFINE_list("gpu_variants", ["eager", "bf16", "compile"], "GPU: the twin's variants to time.")
flags.DEFINE_list("cpu_variants", ["eager"], "CPU: the twin's variants to time (eager, bf16), at each --torch_threads.")
flags.DEFINE_bool("back_to_back", False, "Also time --steps steps in a row per side, as training runs them.")
flags.DEFINE_enum("transpose_form", None, [d for d in conv.DECOMPOSITIONS if d not in ("auto", "single_position")],
                  "Run every transposed convolution left at 'auto' in this form (conv.ConvTranspose's "
                  "decomposition), to compare the forms on whole steps.")
flags.DEFINE_enum("reflect_pad_form", None, ["concatenate", "gather", "gather_fold"],
                  "Run every reflection pad in this form of benchmarks/reflect_pad.py (concatenate = jnp.pad, "
                  "what the networks run), to compare the forms on whole steps.")
flags.DEFINE_bool("synthetic_data", False, "Random JPEGs for configs that read a user folder.")
flags.DEFINE_float("peak_tflops", None, "Device peak in TFLOP/s for the utilisation (default: H100/H200 bf16).")


REFLECT_PAD_USERS = (resnet_translator, combogan, pix2pixhd)  # The modules that call reflect_pad.


def use_forms(transpose_form: Optional[str] = None, reflect_pad_form: Optional[str] = None) -> List[str]:
    """Swaps in the forms the flags name for the rest of the process: every transposed convolution left at
    'auto' in ``transpose_form`` (``conv.auto_decomposition``), every ResNet generator's reflection pad in
    ``reflect_pad_form`` (a form of benchmarks/reflect_pad.py). Returns the settings, for the table's names."""
    settings = []
    if transpose_form:
        conv.auto_decomposition = lambda *_, form=transpose_form: form
        settings.append(f"transposed convolutions as {transpose_form}")
    if reflect_pad_form:
        import reflect_pad  # benchmarks/reflect_pad.py (this script's folder is on sys.path).

        for module in REFLECT_PAD_USERS:
            module.reflect_pad = reflect_pad.FORMS[reflect_pad_form]
        settings.append(f"reflection pads as {reflect_pad_form}")
    return settings


def main(argv):
    del argv
    if FLAGS.peers:
        import torch  # noqa: F401 - imported first so that the header names its version.
    forms = use_forms(FLAGS.transpose_form, FLAGS.reflect_pad_form)
    print(header())
    print(f"command: python {' '.join(sys.argv)}; load average at start {os.getloadavg()[0]:.1f}\n", flush=True)
    results = []
    for spec in FLAGS.configs:
        for batch_size in FLAGS.batch_sizes or [None]:
            config = load_config(spec)
            apply_overrides(config, FLAGS.set)
            if batch_size is not None:
                config.train.batch_size = int(batch_size)
            with tempfile.TemporaryDirectory() as data_root:
                if FLAGS.synthetic_data:
                    synthetic_source(config, data_root, count=max(8, 2 * config.train.batch_size))
                settings = FLAGS.set + forms
                name = os.path.basename(spec) + (f" ({', '.join(settings)})" if settings else "")
                results.append(benchmark(config, name=name, steps=FLAGS.steps, warmup=FLAGS.warmup,
                                         rounds=FLAGS.rounds, pipeline_batches=FLAGS.pipeline_batches,
                                         peers=FLAGS.peers, peak_tflops=FLAGS.peak_tflops,
                                         torch_threads=[int(n) for n in FLAGS.torch_threads],
                                         gpu_variants=FLAGS.gpu_variants, back_to_back=FLAGS.back_to_back,
                                         cpu_variants=FLAGS.cpu_variants))
            print(markdown(results[-1:]), flush=True)
    print("\n" + markdown(results))


if __name__ == "__main__":
    app.run(main)
