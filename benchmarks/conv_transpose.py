"""Times one transposed-convolution layer, forward + gradient (input and parameters), as
``flax.linen.ConvTranspose`` and as ``jaxgan.networks.conv.ConvTranspose`` in its exact forms: one
convolution over the input dilated with zeros, as Flax's but with the kernel held as W'
('input_dilation'), and the three sub-pixel forms: one stride-1 convolution with s^2 * C_out
outputs + depth-to-space ('one_convolution'), s^2 stride-1 convolutions, one per output phase with
only the taps that phase uses ('phase_convolutions'), and one batched matrix product over the
kernel's taps ('tap_products'); the column 'auto' names the one the layer's default picks on this
backend.

    python benchmarks/conv_transpose.py [--repeats 7] [--layers pix2pix,pix2pix_deep,dcgan] \
        [--batch_scale 32] [--dtype bfloat16]

Layers: the pix2pix U-Net decoder's (batch 1, 4x4 stride 2, PyTorch's padding 1 =
``((2, 2), (2, 2))`` with ``transpose_kernel=True``; 'pix2pix_deep': its innermost ones, from
1x1 to 4x4 inputs) and the DCGAN generator's (batch 64, 4x4
stride 2 'SAME'), at DCGAN's widths (256, 128) (configs/cgan_dcgan_mnist.py) and the reduced (64, 32).
Each repeat runs the variants of a layer back to back (interleaved), so load from other jobs on
the cores affects them alike; the table gives the median of the repeats after one warm-up call.
Prints a markdown table with the machine, versions and date, for benchmarks/RESULTS.md.
"""

import datetime
import os
import platform
import statistics
import time

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from jaxgan.networks import conv

FLAGS = flags.FLAGS
flags.DEFINE_integer("repeats", 7, "Timed calls per variant (interleaved); the median is reported.")
flags.DEFINE_list("layers", ["pix2pix", "pix2pix_deep", "dcgan"], "Layer groups to time.")
flags.DEFINE_integer("batch_scale", 1, "Multiplies every layer's batch (e.g. 32: pix2pix at batch 32, DCGAN at 2048).")
flags.DEFINE_enum("dtype", "float32", ["float32", "bfloat16"], "Input, kernel and output-gradient dtype.")

PIX2PIX = dict(padding=((2, 2), (2, 2)), transpose_kernel=True)  # PyTorch ConvTranspose2d(4, 2, 1).
DCGAN = dict(padding="SAME", transpose_kernel=False)
FORMS = ("input_dilation", "one_convolution", "phase_convolutions", "tap_products")
# (group, description, batch, H, W, C_in, C_out, use_bias, layer options)
LAYERS = [
    ("pix2pix_deep", "pix2pix 1x1x512 -> 2x2x512", 1, 1, 1, 512, 512, False, PIX2PIX),
    ("pix2pix_deep", "pix2pix 2x2x1024 -> 4x4x512", 1, 2, 2, 1024, 512, False, PIX2PIX),
    ("pix2pix_deep", "pix2pix 4x4x1024 -> 8x8x512", 1, 4, 4, 1024, 512, False, PIX2PIX),
    ("pix2pix", "pix2pix 128x128x128 -> 256x256x3", 1, 128, 128, 128, 3, True, PIX2PIX),
    ("pix2pix", "pix2pix 64x64x256 -> 128x128x64", 1, 64, 64, 256, 64, False, PIX2PIX),
    ("pix2pix", "pix2pix 32x32x512 -> 64x64x128", 1, 32, 32, 512, 128, False, PIX2PIX),
    ("pix2pix", "pix2pix 16x16x1024 -> 32x32x256", 1, 16, 16, 1024, 256, False, PIX2PIX),
    ("pix2pix", "pix2pix 8x8x1024 -> 16x16x512", 1, 8, 8, 1024, 512, False, PIX2PIX),
    ("dcgan", "DCGAN (256, 128) 7x7x257 -> 14x14x128", 64, 7, 7, 257, 128, False, DCGAN),
    ("dcgan", "DCGAN (256, 128) 14x14x128 -> 28x28x1", 64, 14, 14, 128, 1, True, DCGAN),
    ("dcgan", "DCGAN (64, 32) 7x7x65 -> 14x14x32", 64, 7, 7, 65, 32, False, DCGAN),
    ("dcgan", "DCGAN (64, 32) 14x14x32 -> 28x28x1", 64, 14, 14, 32, 1, True, DCGAN),
]


def timed(fn, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def grad_fn(apply):
    """jit of (params, x) -> gradients of sum(y * g) w.r.t. params and x (forward + backward)."""
    def loss(params, x, g):
        return jnp.sum(apply(params, x) * g)
    return jax.jit(jax.grad(loss, argnums=(0, 1)))


def main(argv):
    del argv
    rng = np.random.default_rng(0)
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.node()}; "
          f"{os.cpu_count()} CPU cores ({_cpu_model()}), load average {os.getloadavg()[0]:.1f} at start; "
          f"{jax.devices()[0].device_kind}; jax {jax.__version__}, flax {flax.__version__}; "
          f"{FLAGS.dtype}; median of {FLAGS.repeats} interleaved repeats after 1 warm-up, forward + grad (input and "
          "params)\n")
    print("| layer | batch | nn.ConvTranspose ms | " + " | ".join(f"{d} ms | speed-up" for d in FORMS) + " | auto |")
    print("| --- | --- | --- | " + "--- | --- | " * len(FORMS) + "--- |")
    dtype = jnp.dtype(FLAGS.dtype)
    for group, name, batch, h, w, c_in, c_out, use_bias, options in LAYERS:
        if group not in FLAGS.layers:
            continue
        batch *= FLAGS.batch_scale
        x = jnp.asarray(rng.standard_normal((batch, h, w, c_in)), dtype)
        ref = nn.ConvTranspose(c_out, (4, 4), (2, 2), use_bias=use_bias, **options)
        params = jax.tree.map(lambda p: p.astype(dtype), ref.init(jax.random.PRNGKey(0), x)["params"])
        g = jnp.asarray(rng.standard_normal(ref.apply({"params": params}, x).shape), dtype)
        # jaxgan's layer holds W' (conv.correlation_kernel) where Flax's holds a transposed kernel W: each
        # variant gets its parameters as held (converted outside the timed function), and the gradients of
        # W' are converted back to compare with Flax's.
        as_held = conv.correlation_kernel if options["transpose_kernel"] else (lambda kernel: kernel)
        name_held = "correlation_kernel" if options["transpose_kernel"] else "kernel"
        held = {**{k: v for k, v in params.items() if k != "kernel"}, name_held: as_held(params["kernel"])}
        variants = [grad_fn(lambda p, x: ref.apply({"params": p}, x))] + [
            grad_fn(lambda p, x, d=d: conv.ConvTranspose(c_out, (4, 4), (2, 2), use_bias=use_bias, decomposition=d,
                                                         **options).apply({"params": p}, x))
            for d in FORMS]
        arguments = [params] + [held] * len(FORMS)
        outputs = [fn(p, x, g) for fn, p in zip(variants, arguments)]  # Compile + warm-up; check they agree.
        for grads, x_grad in outputs[1:]:
            grads = {("kernel" if k == name_held else k): (as_held(v) if k == name_held else v) for k, v in grads.items()}
            for a, b in zip(jax.tree.leaves(outputs[0]), jax.tree.leaves((grads, x_grad))):
                tolerance = 1e-3 if dtype == jnp.float32 else 5e-2
                np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), rtol=tolerance,
                                           atol=tolerance * float(jnp.abs(a).max()))
        times = [[] for _ in variants]
        for _ in range(FLAGS.repeats):
            for fn, p, t in zip(variants, arguments, times):
                t.append(timed(fn, p, x, g))
        ref_ms, *form_ms = (1e3 * statistics.median(t) for t in times)
        auto = conv.auto_decomposition(h == w == 1, batch * h * w, c_out)  # Stride 2: h x w outputs per phase.
        print(f"| {name} | {batch} | {ref_ms:.2f} | " + " | ".join(f"{ms:.2f} | {ref_ms / ms:.2f}x" for ms in form_ms)
              + f" | {auto} |", flush=True)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    app.run(main)
