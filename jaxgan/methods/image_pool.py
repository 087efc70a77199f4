"""The image history pool of CycleGAN (Zhu et al. 2017, sec. 4; Shrivastava et al. 2017, sec. 2.3) as
pure functions on arrays, so that it runs inside the compiled train step and lives in the GAN state.

D is updated on a history of generated images rather than only the latest generator's: the pool
holds up to ``size`` images. For each new image x of a batch, in batch order (the reference's
``ImagePool.query`` in junyanz/pytorch-CycleGAN-and-pix2pix, pool size 50):

* while the pool holds fewer than ``size`` images: store x and return x;
* then, with probability 1/2 (u > 0.5, u ~ U[0, 1)): return a stored image chosen uniformly,
  and store x in its place; otherwise return x.

Image i's draws come from the i-th of ``len(batch)`` sub-keys split from the pool's key (drawn
whether or not the pool is full), and the pool keeps the remaining key: the same pool and batch
give the same answer on any device count, and a restored pool continues exactly. ``size`` 0 is no
pool (the images pass through; DualGAN and DiscoGAN train D on the latest images only).
"""

from __future__ import annotations

from typing import Dict, Tuple

import jax
import jax.numpy as jnp

Pool = Dict[str, jax.Array]  # images [size, H, W, C], count int32 [] (stored so far), key uint32 [2].


def init(size: int, image_shape: Tuple[int, ...], key: jax.Array, dtype=jnp.float32) -> Pool:
    """An empty pool of ``size`` images of ``image_shape`` (H, W, C), its draws from ``key``."""
    if size < 1:
        raise ValueError(f"image pool size {size} < 1; a method without a pool keeps none")
    return {"images": jnp.zeros((size,) + tuple(image_shape), dtype), "count": jnp.zeros((), jnp.int32),
            "key": jnp.asarray(key, jnp.uint32)}


def draws(key: jax.Array, n: int, size: int) -> Tuple[jax.Array, jax.Array, jax.Array]:
    """(the pool's next key, u [n] ~ U[0, 1), slot [n] ~ uniform on {0, ..., size - 1}): the random
    numbers ``query`` uses for a batch of ``n`` images (once full, image i swaps with stored image
    slot[i] when u[i] > 0.5)."""
    keys = jax.random.split(key, n + 1)
    per_image = jax.vmap(jax.random.split)(keys[1:])
    u = jax.vmap(jax.random.uniform)(per_image[:, 0])
    slot = jax.vmap(lambda k: jax.random.randint(k, (), 0, size))(per_image[:, 1])
    return keys[0], u, slot


def query(pool: Pool, images: jax.Array) -> Tuple[jax.Array, Pool]:
    """(the images D sees, the updated pool) for a batch ``images`` [N, H, W, C] (module docstring)."""
    size = pool["images"].shape[0]
    key, u, slot = draws(pool["key"], images.shape[0], size)

    def one(carry, inputs):
        stored, count = carry
        x, u_i, slot_i = inputs
        filling = count < size
        swap = ~filling & (u_i > 0.5)
        index = jnp.where(filling, count, slot_i)
        old = stored[index]
        returned = jnp.where(swap, old, x)
        stored = stored.at[index].set(jnp.where(filling | swap, x, old))
        return (stored, count + filling.astype(jnp.int32)), returned

    (stored, count), returned = jax.lax.scan(one, (pool["images"], pool["count"]),
                                             (images.astype(pool["images"].dtype), u, slot))
    return returned.astype(images.dtype), {"images": stored, "count": count, "key": key}
