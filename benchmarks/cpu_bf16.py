"""bfloat16 on this CPU: XLA:CPU's kernels against PyTorch's (oneDNN) on one layer and one product (issue 14).

A CPU with bf16 units (AMX-BF16, AVX512-BF16) lets PyTorch's autocast run convolutions several times faster
than in float32. This times, on the shapes of CycleGAN's residual blocks (the step's largest layer family):

* a 3x3 convolution 256 -> 256 at 64x64, batch 1, forward and forward + both gradients, in XLA with its
  default YNNPACK kernels and with Eigen's (``train.cpu_ynnpack=False``), float32 and bfloat16 (bf16
  operands, float32 results); PyTorch eager float32 and bf16 autocast, NCHW and channels_last;
* the same layer's multiply-adds as one matrix product, [4096, 2304] @ [2304, 256] (its im2col form), in
  float32, bf16 -> bf16 and bf16 -> float32 (``preferred_element_type``), XLA and PyTorch.

    python benchmarks/cpu_bf16.py [--calls 7] [--threads 2]

Medians of ``--calls`` calls after one warm-up; the XLA:CPU bf16 results are checked against float32.
torch is optional (the 'bench' extra); without it only XLA's rows are printed.
"""

import datetime
import os
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags
from jax import lax

from jaxgan.train_step import compiler_options

flags.DEFINE_integer("calls", 7, "Timed calls per case (median reported).")
flags.DEFINE_integer("threads", 2, "torch.set_num_threads for PyTorch's rows.")
FLAGS = flags.FLAGS

SIZE, FEATURES = 64, 256  # CycleGAN's residual blocks at 256x256 inputs.
DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def median_ms(fn, calls: int) -> float:
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            words = next(line for line in f if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    return ", ".join(w for w in ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if w in words) or "none of note"


def xla_rows(calls: int):
    """(case, forward ms, forward + gradients ms or None, the gradients' max relative difference to float32's)."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(1, SIZE, SIZE, FEATURES)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(3, 3, FEATURES, FEATURES)) * 0.05, jnp.float32)
    dy = jnp.asarray(rng.normal(size=(1, SIZE, SIZE, FEATURES)), jnp.float32)
    a = jnp.asarray(rng.normal(size=(SIZE * SIZE, 9 * FEATURES)), jnp.float32)
    b = jnp.asarray(rng.normal(size=(9 * FEATURES, FEATURES)), jnp.float32)
    reference = None
    for kernels, options in (("YNNPACK", compiler_options(True)), ("Eigen", compiler_options(False))):
        for dtype in (jnp.float32, jnp.bfloat16):
            def conv(x, w, dtype=dtype):
                return lax.conv_general_dilated(x.astype(dtype), w.astype(dtype), (1, 1), "SAME",
                                                dimension_numbers=DIMENSIONS, preferred_element_type=jnp.float32)

            forward = jax.jit(conv, compiler_options=options)
            gradients = jax.jit(jax.grad(lambda x, w: jnp.vdot(conv(x, w), dy), argnums=(0, 1)),
                                compiler_options=options)
            out = gradients(x, w)
            reference = out if reference is None else reference
            error = max(float(jnp.abs(o - r).max() / jnp.abs(r).max()) for o, r in zip(out, reference))
            name = jnp.dtype(dtype).name
            yield (f"XLA {kernels}, conv {name}", median_ms(lambda: jax.block_until_ready(forward(x, w)), calls),
                   median_ms(lambda: jax.block_until_ready(gradients(x, w)), calls), error)
        for name, dtype, out_dtype in (("float32", jnp.float32, None), ("bf16 -> bf16", jnp.bfloat16, None),
                                       ("bf16 -> float32", jnp.bfloat16, jnp.float32)):
            product = jax.jit(lambda a, b, out_dtype=out_dtype: jnp.matmul(a, b, preferred_element_type=out_dtype),
                              compiler_options=options)
            a_, b_ = a.astype(dtype), b.astype(dtype)
            yield (f"XLA {kernels}, product {name}", median_ms(lambda: jax.block_until_ready(product(a_, b_)), calls),
                   None, None)


def torch_rows(calls: int, threads: int):
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)
    conv = torch.nn.Conv2d(FEATURES, FEATURES, 3, padding=1)
    for name, bf16, channels_last in (("float32", False, False), ("bf16 autocast", True, False),
                                      ("bf16 autocast, channels_last", True, True)):
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        net = conv.to(memory_format=fmt)
        x = torch.randn(1, FEATURES, SIZE, SIZE).contiguous(memory_format=fmt).requires_grad_()

        def forward(backward: bool):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                y = net(x)
            if backward:
                y.float().sum().backward()

        with torch.no_grad():
            fwd = median_ms(lambda: forward(False), calls)
        yield f"PyTorch {torch.__version__}, conv {name}", fwd, median_ms(lambda: forward(True), calls), None
    a, b = torch.randn(SIZE * SIZE, 9 * FEATURES), torch.randn(9 * FEATURES, FEATURES)
    for name, dtype in (("float32", torch.float32), ("bf16", torch.bfloat16)):
        a_, b_ = a.to(dtype), b.to(dtype)
        yield f"PyTorch, product {name}", median_ms(lambda: a_ @ b_, calls), None, None


def main(_):
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPU cores "
          f"({platform.machine()}; {cpu_flags()}); jax {jax.__version__}; load average {os.getloadavg()[0]:.1f}\n")
    print("| kernels, case | forward ms | forward + both gradients ms | note |")
    print("| --- | --- | --- | --- |")
    for name, forward, both, error in (*xla_rows(FLAGS.calls), *torch_rows(FLAGS.calls, FLAGS.threads)):
        note = "" if error is None else f"max rel. diff to float32 {error:.1e}"
        print(f"| {name} | {forward:.1f} | {'-' if both is None else f'{both:.1f}'} | {note} |", flush=True)


if __name__ == "__main__":
    app.run(main)
