"""The image history pool (jaxgan.methods.image_pool) by hand: the fill phase exactly, the swap phase
against a numpy re-implementation of the reference's per-image loop with the same random draws."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.methods import image_pool


def _images(values):
    """A batch of 1x1x1 images with the given values (an image's value names it)."""
    return jnp.asarray(values, jnp.float32).reshape(-1, 1, 1, 1)


def _reference(stored, count, size, batch, u, slot):
    """junyanz's ImagePool.query, image by image, with the draws u (swap when u > 0.5) and slot given."""
    stored, returned = list(stored), []
    for x, u_i, s in zip(batch, u, slot):
        if count < size:
            stored[count] = x
            count += 1
            returned.append(x)
        elif u_i > 0.5:
            returned.append(stored[s])
            stored[s] = x
        else:
            returned.append(x)
    return np.asarray(returned), np.asarray(stored), count


def test_fill_phase_stores_and_returns_each_new_image():
    pool = image_pool.init(2, (1, 1, 1), jax.random.PRNGKey(0))
    out, pool = image_pool.query(pool, _images([1.0]))
    np.testing.assert_array_equal(out.ravel(), [1.0])
    np.testing.assert_array_equal(pool["images"].ravel(), [1.0, 0.0])
    assert int(pool["count"]) == 1
    out, pool = image_pool.query(pool, _images([2.0]))
    np.testing.assert_array_equal(out.ravel(), [2.0])
    np.testing.assert_array_equal(pool["images"].ravel(), [1.0, 2.0])
    assert int(pool["count"]) == 2


def test_a_batch_crossing_the_fill_boundary():
    """Pool of 2, batch of 3: the first two images fill it (returned as they are), the third is
    already in the swap phase (the reference decides image by image)."""
    pool = image_pool.init(2, (1, 1, 1), jax.random.PRNGKey(3))
    _, u, slot = image_pool.draws(pool["key"], 3, 2)
    out, new = image_pool.query(pool, _images([1.0, 2.0, 3.0]))
    want_out, want_stored, want_count = _reference([0.0, 0.0], 0, 2, [1.0, 2.0, 3.0], np.asarray(u), np.asarray(slot))
    np.testing.assert_array_equal(out.ravel(), want_out)
    np.testing.assert_array_equal(new["images"].ravel(), want_stored)
    assert int(new["count"]) == want_count == 2
    np.testing.assert_array_equal(out.ravel()[:2], [1.0, 2.0])


def test_swap_phase_matches_the_reference_loop_over_many_batches():
    """A full pool of 2 over 30 batches of 3 (jit-compiled): each batch's returned images, the stored
    images and the key match the numpy loop fed the same draws; both branches (swap, keep) occur."""
    pool = image_pool.init(2, (1, 1, 1), jax.random.PRNGKey(7))
    pool, stored, count = {**pool, "images": _images([-1.0, -2.0]), "count": jnp.asarray(2, jnp.int32)}, [-1.0, -2.0], 2
    query = jax.jit(image_pool.query)
    swaps = keeps = 0
    for step in range(30):
        batch = [10.0 * step + i for i in range(3)]
        next_key, u, slot = image_pool.draws(pool["key"], 3, 2)
        out, pool = query(pool, _images(batch))
        want_out, stored, count = _reference(stored, count, 2, batch, np.asarray(u), np.asarray(slot))
        np.testing.assert_array_equal(out.ravel(), want_out)
        np.testing.assert_array_equal(pool["images"].ravel(), stored)
        np.testing.assert_array_equal(pool["key"], next_key)
        swaps += int(np.sum(np.asarray(u) > 0.5))
        keeps += int(np.sum(np.asarray(u) <= 0.5))
    assert swaps > 20 and keeps > 20  # About half each of 90 draws.
    assert set(np.asarray(slot).tolist()) <= {0, 1}


def test_pool_returns_stored_images_about_half_the_time():
    """A full pool of 50 answering 4000 new images returns a stored one (not the image it was given) in
    50% +- 2.5% of the cases (the reference's p > 0.5)."""
    pool = image_pool.init(50, (1, 1, 1), jax.random.PRNGKey(1))
    pool = {**pool, "images": -_images(np.arange(1, 51)), "count": jnp.asarray(50, jnp.int32)}
    out, _ = jax.jit(image_pool.query)(pool, _images(np.arange(1, 4001)))
    stored = np.asarray(out).ravel() != np.arange(1, 4001)
    assert 0.475 < stored.mean() < 0.525


def test_init_refuses_an_empty_pool():
    with pytest.raises(ValueError, match="size 0"):
        image_pool.init(0, (1, 1, 1), jax.random.PRNGKey(0))
