"""Times one convolution layer, forward + gradient (input and kernel), as ``lax.conv_general_dilated``
and as ``jaxgan.networks.conv.conv_general_dilated`` (which, on CPU, computes a layer with no more
output positions than output features as one matrix product of im2col patches), with PyTorch's
``conv2d`` beside them when torch is installed (the ``bench`` extra).

    python benchmarks/small_conv.py [--repeats 7] [--torch_threads 2]

Layers: the pix2pix U-Net encoder's 4x4 stride-2 convolutions (batch 1, padding 1) from 128x128 down
to 2x2 inputs. Each repeat runs the variants back to back (interleaved); the table gives the median
of the repeats after one warm-up call, and which form ``conv.conv_general_dilated`` took. Prints a
markdown table with the machine, versions and date, for benchmarks/RESULTS.md.
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

from jaxgan.networks import conv

FLAGS = flags.FLAGS
flags.DEFINE_integer("repeats", 7, "Timed calls per variant (interleaved); the median is reported.")
flags.DEFINE_integer("torch_threads", 2, "PyTorch's intra-op threads (0: skip PyTorch).")

# (input side, C_in, C_out): pix2pix's encoder at 256x256 (the first layer's input gradient is never
# needed in a network, but is timed here like the others).
LAYERS = [(128, 64, 128), (64, 128, 256), (32, 256, 512), (16, 512, 512), (8, 512, 512), (4, 512, 512),
          (2, 512, 512)]
NUMBERS = ("NHWC", "HWIO", "NHWC")


def _grad(fn):
    def loss(x, kernel, g):
        return jnp.sum(fn(x, kernel, (2, 2), ((1, 1), (1, 1)), dimension_numbers=NUMBERS) * g)
    return jax.jit(jax.grad(loss, argnums=(0, 1)))


def _torch_step(side, c_in, c_out):
    import torch
    x = torch.randn(1, c_in, side, side, requires_grad=True)
    w = (0.02 * torch.randn(c_out, c_in, 4, 4)).requires_grad_()
    g = torch.randn(1, c_out, side // 2, side // 2)

    def step():
        x.grad = w.grad = None
        (torch.nn.functional.conv2d(x, w, stride=2, padding=1) * g).sum().backward()
    return step


def _timed(fn) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def main(argv):
    del argv
    if FLAGS.torch_threads:
        import torch
        torch.set_num_threads(FLAGS.torch_threads)
    rng = np.random.default_rng(0)
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPU cores "
          f"({platform.machine()}), load average {os.getloadavg()[0]:.1f} at start; {jax.devices()[0].device_kind}; "
          f"jax {jax.__version__}; median of {FLAGS.repeats} interleaved repeats after 1 warm-up, forward + grad "
          "(input and kernel)\n")
    print(f"| layer (4x4, stride 2, batch 1) | lax ms | conv.conv_general_dilated ms | speed-up | form taken |"
          f"{' PyTorch ms |' if FLAGS.torch_threads else ''}")
    print(f"| --- | --- | --- | --- | --- |{' --- |' if FLAGS.torch_threads else ''}")
    for side, c_in, c_out in LAYERS:
        x = jnp.asarray(rng.standard_normal((1, side, side, c_in)), jnp.float32)
        kernel = jnp.asarray(0.02 * rng.standard_normal((4, 4, c_in, c_out)), jnp.float32)
        g = jnp.asarray(rng.standard_normal((1, side // 2, side // 2, c_out)), jnp.float32)
        variants = [lambda f=_grad(fn): f(x, kernel, g) for fn in (jax.lax.conv_general_dilated,
                                                                    conv.conv_general_dilated)]
        if FLAGS.torch_threads:
            variants.append(_torch_step(side, c_in, c_out))
        reference, candidate = variants[0](), variants[1]()  # Compile + warm-up; check they agree.
        for a, b in zip(reference, candidate):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3 * float(jnp.abs(a).max()))
        if FLAGS.torch_threads:
            variants[2]()
        times = [[] for _ in variants]
        for _ in range(FLAGS.repeats):
            for fn, t in zip(variants, times):
                t.append(_timed(fn))
        ms = [1e3 * statistics.median(t) for t in times]
        form = "matrix product" if conv.few_output_positions((side // 2) ** 2, c_out) else "convolution"
        torch_column = f" {ms[2]:.1f} |" if FLAGS.torch_threads else ""
        print(f"| {side}x{side}x{c_in} -> {side // 2}x{side // 2}x{c_out} | {ms[0]:.1f} | {ms[1]:.1f} | "
              f"{ms[0] / ms[1]:.2f}x | {form} |{torch_column}", flush=True)


if __name__ == "__main__":
    app.run(main)
