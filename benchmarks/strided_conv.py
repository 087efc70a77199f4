"""Is the backward pass of XLA:CPU's strided convolutions slow (as its transposed convolutions are)?

    python benchmarks/strided_conv.py

Times, for the 4x4 stride-2 convolutions of pix2pix's 70x70 PatchGAN and U-Net encoder at 256x256
(batch 1), the forward and forward+backward (gradients w.r.t. input and kernel) of
``lax.conv_general_dilated`` against the same convolution written as space-to-depth followed by a
2x2 stride-1 convolution (y[i] = sum_{a,b} x_pad[2(i+a)+b] W[2a+b] = sum_a s2d(x_pad)[i+a, b] W[2a+b],
per axis), whose backward passes have no dilation. Equal outputs are checked. Median of 10 after
warm-up. Result (RESULTS.md, speed section): no gain, so the strided layers stay plain convolutions.
"""

import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

DN = ("NHWC", "HWIO", "NHWC")
SHAPES = ((256, 6, 64), (128, 64, 128), (64, 128, 256), (32, 256, 512), (16, 512, 512))  # (size, C_in, C_out).


def strided(x: jax.Array, w: jax.Array) -> jax.Array:
    return lax.conv_general_dilated(x, w, (2, 2), [(1, 1), (1, 1)], dimension_numbers=DN)


def space_to_depth_form(x: jax.Array, w: jax.Array) -> jax.Array:
    x = jnp.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    b, h, wd, c = x.shape
    x = x.reshape(b, h // 2, 2, wd // 2, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, h // 2, wd // 2, 4 * c)
    k, _, c_in, c_out = w.shape
    v = w.reshape(k // 2, 2, k // 2, 2, c_in, c_out).transpose(0, 2, 1, 3, 4, 5).reshape(k // 2, k // 2, 4 * c_in, c_out)
    return lax.conv_general_dilated(x, v, (1, 1), "VALID", dimension_numbers=DN)


def median_ms(fn, *args, repeats: int = 10) -> float:
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main() -> None:
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}; ms, median of 10")
    key = jax.random.PRNGKey(0)
    for size, c_in, c_out in SHAPES:
        x = jax.random.normal(key, (1, size, size, c_in))
        w = 0.1 * jax.random.normal(jax.random.fold_in(key, 1), (4, 4, c_in, c_out))
        error = float(jnp.abs(strided(x, w) - space_to_depth_form(x, w)).max())
        row = []
        for conv in (strided, space_to_depth_form):
            grad = jax.grad(lambda x, w, conv=conv: jnp.sum(conv(x, w) ** 2), argnums=(0, 1))
            row += [median_ms(jax.jit(conv), x, w), median_ms(jax.jit(grad), x, w)]
        print(f"{size}x{size} {c_in}->{c_out} (max |diff| {error:.1e}): forward {row[0]:.1f} vs {row[2]:.1f}, "
              f"forward+backward {row[1]:.1f} vs {row[3]:.1f} (lax vs space-to-depth)")


if __name__ == "__main__":
    main()
