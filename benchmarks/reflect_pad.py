"""Times reflection padding (PyTorch's ReflectionPad2d), forward and forward + gradient, in three forms on the
shapes of CycleGAN's ResNet generator (issue 14):

* 'concatenate': ``jnp.pad(mode='reflect')``, what ``jaxgan.networks.resnet_translator.reflect_pad`` runs: per
  padded axis a concatenate of reversed slices and the input; its gradient splits, reverses and pads back;
* 'gather': one gather, y[:, i, j] = x[:, r_H(i - p), r_W(j - p)] with r_N(k) = N - 1 - |N - 1 - |k||; its
  gradient is a scatter-add;
* 'gather_fold': the same gather forward, and as gradient the centre of g plus its mirrored borders added back
  (slices, reversals and pads: no scatter).

In the H200 profile of CycleGAN b8 bf16 (RESULTS.md, "Steps timed in a row, ...") concatenate fusions took
11.5 ms of the 73.8 ms the stream was busy; the step's jaxpr holds 480 concatenates, all from reflection pads
(8.8 GB of outputs per step at batch 8).

    python benchmarks/reflect_pad.py [--batch 8] [--dtype bfloat16] [--repeats 15]

Each form's output and input gradient are checked against 'concatenate' (exactly equal outputs). The median
of ``--repeats`` calls after one warm-up; the gradient is of sum(tanh(pad(x)) * w), so an elementwise op is
there to fuse with, as a convolution's input is in the step.
"""

import datetime
import functools
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("batch", 1, "Batch size of every shape.")
flags.DEFINE_enum("dtype", "float32", ["float32", "bfloat16"], "Dtype of the padded activations.")
flags.DEFINE_integer("repeats", 15, "Timed calls per form (median reported).")

# (description, H, W, C, p): CycleGAN resnet_9blocks at 256x256: the residual blocks' 3x3 convolutions and
# the first and last 7x7 convolutions.
SHAPES = [("residual block, 64x64x256, pad 1", 64, 64, 256, 1),
          ("first 7x7, 256x256x3, pad 3", 256, 256, 3, 3),
          ("last 7x7, 256x256x64, pad 3", 256, 256, 64, 3)]


def concatenate(x: jax.Array, p: int) -> jax.Array:
    return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


def _mirror(n: int, p: int) -> np.ndarray:
    """r_N(k) for k = -p ... N + p - 1: the reflected index (the edge pixel is not repeated)."""
    k = np.abs(np.arange(-p, n + p))
    return (n - 1) - np.abs(n - 1 - k)


def gather(x: jax.Array, p: int) -> jax.Array:
    return x[:, _mirror(x.shape[1], p)[:, None], _mirror(x.shape[2], p)[None, :], :]


def _fold(g: jax.Array, axis: int, n: int, p: int) -> jax.Array:
    """Adjoint of reflect-padding one axis of length n by p: the centre of g plus its two borders, reversed,
    added onto input positions 1 ... p and n - 1 - p ... n - 2."""
    def part(start, stop):
        return jax.lax.slice_in_dim(g, start, stop, axis=axis)

    def place(v, low, high):
        return jnp.pad(v, [(low, high) if a == axis else (0, 0) for a in range(g.ndim)])
    return (part(p, p + n) + place(jnp.flip(part(0, p), axis), 1, n - 1 - p)
            + place(jnp.flip(part(p + n, 2 * p + n), axis), n - 1 - p, 1))


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def gather_fold(x: jax.Array, p: int) -> jax.Array:
    return gather(x, p)


gather_fold.defvjp(lambda x, p: (gather(x, p), x.shape),
                   lambda p, shape, g: (_fold(_fold(g, 1, shape[1], p), 2, shape[2], p),))
FORMS = {"concatenate": concatenate, "gather": gather, "gather_fold": gather_fold}


def _median_ms(fn, *args) -> float:
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(FLAGS.repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main(argv):
    del argv
    dtype = jnp.dtype(FLAGS.dtype)
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {jax.devices()[0].device_kind}; "
          f"jax {jax.__version__}; batch {FLAGS.batch}, {FLAGS.dtype}; median of {FLAGS.repeats} after 1 warm-up\n")
    print("| shape | " + " | ".join(f"{name} forward / + gradient ms" for name in FORMS) + " |")
    print("| --- |" + " --- |" * len(FORMS))
    rng = np.random.default_rng(0)
    for description, h, w, c, p in SHAPES:
        x = jnp.asarray(rng.standard_normal((FLAGS.batch, h, w, c)), dtype)
        weights = jnp.asarray(rng.standard_normal((FLAGS.batch, h + 2 * p, w + 2 * p, c)), dtype)
        cells, reference = [], None
        for name, pad in FORMS.items():
            forward = jax.jit(lambda x, pad=pad: jnp.tanh(pad(x, p)))
            gradient = jax.jit(jax.grad(lambda x, pad=pad: jnp.sum(jnp.tanh(pad(x, p)) * weights).astype(jnp.float32)))
            outputs = (np.asarray(forward(x), np.float32), np.asarray(gradient(x), np.float32))
            if reference is None:
                reference = outputs
            np.testing.assert_array_equal(outputs[0], reference[0])
            tolerance = 1e-5 if dtype == jnp.float32 else 2e-2
            np.testing.assert_allclose(outputs[1], reference[1], rtol=tolerance, atol=tolerance)
            cells.append(f"{_median_ms(forward, x):.3f} / {_median_ms(gradient, x):.3f}")
        print(f"| {description} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    app.run(main)
