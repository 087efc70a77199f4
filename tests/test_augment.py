"""DiffAugment (Zhao et al. 2020): identity when off, shapes, hand-checked transforms, per-image
draws (the paper never shares a draw across the batch), differentiability, policy parsing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import augment
from jaxgan.errors import ConfigError

KEY = jax.random.PRNGKey(0)
ALL = ("color", "translation", "cutout")


def _images(batch=8, size=28, channels=1):
    return jax.random.uniform(jax.random.PRNGKey(1), (batch, size, size, channels), minval=-1.0, maxval=1.0)


def test_empty_policy_is_identity():
    x = _images()
    assert augment.diff_augment(x, KEY, ()) is x
    assert augment.parse_policy("") == ()


@pytest.mark.parametrize("shape", [(4, 28, 28, 1), (3, 32, 32, 3), (2, 8, 6, 2)])
def test_every_policy_keeps_shape_and_dtype(shape):
    x = jax.ShapeDtypeStruct(shape, jnp.float32)
    for policy in [(name,) for name in ALL] + [ALL]:
        out = jax.eval_shape(lambda v: augment.diff_augment(v, KEY, policy), x)
        assert out.shape == shape and out.dtype == x.dtype, policy


def test_parse_policy_and_bad_names():
    assert augment.parse_policy("color, translation,cutout") == ALL
    with pytest.raises(ConfigError, match=r"config.loss.diffaugment='color,flip'.*\['flip'\]"):
        augment.parse_policy("color,flip")


def test_shift_by_hand():
    x = jnp.arange(1.0, 6.0).reshape(1, 5, 1, 1).repeat(2, axis=0)  # rows 1..5, two images.
    out = augment._shift(x, jnp.array([2, -1]), axis=1)
    np.testing.assert_array_equal(out[0, :, 0, 0], [3, 4, 5, 0, 0])  # out[i] = x[i + 2], zero outside.
    np.testing.assert_array_equal(out[1, :, 0, 0], [0, 1, 2, 3, 4])  # out[i] = x[i - 1].


def test_translation_shifts_each_image_by_its_own_offset_within_an_eighth():
    batch, size = 256, 28
    grid = jnp.arange(size * size, dtype=jnp.float32).reshape(1, size, size, 1) + 1.0
    x = jnp.tile(grid, (batch, 1, 1, 1))
    out = np.asarray(augment.translation(x, KEY))
    # The centre pixel stays inside for any shift <= 4: it reveals each image's (row, col) shift.
    centre = out[:, 14, 14, 0].astype(int) - 1
    rows, cols = centre // size - 14, centre % size - 14
    assert rows.min() == cols.min() == -4 and rows.max() == cols.max() == 4  # round(28 / 8) = 4.
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 40  # Per-image draws, not one per batch.
    src = np.pad(np.asarray(grid[0, :, :, 0]), 4)  # Zero fill outside the image.
    for b in range(0, batch, 37):
        expected = src[4 + rows[b]:4 + rows[b] + size, 4 + cols[b]:4 + cols[b] + size]
        np.testing.assert_array_equal(out[b, :, :, 0], expected)


def test_cutout_zeroes_one_half_size_square_per_image():
    x = jnp.ones((64, 28, 28, 1))
    out = np.asarray(augment.cutout(x, KEY))
    assert set(np.unique(out)) <= {0.0, 1.0}
    zeroed = (out[..., 0] == 0)
    for b in range(64):
        r, c = np.nonzero(zeroed[b])
        height, width = r.max() - r.min() + 1, c.max() - c.min() + 1
        assert zeroed[b].sum() == height * width <= 14 * 14  # One rectangle, at most 14 x 14.
    assert (zeroed.sum(axis=(1, 2)) == 14 * 14).any()  # Whole squares where the centre allows.
    assert len({zeroed[b].tobytes() for b in range(64)}) > 20  # Per-image positions.


def test_color_by_hand():
    x = _images(batch=16, channels=3)
    key_b, key_s, key_c = jax.random.split(KEY, 3)
    brightened = augment.brightness(x, key_b)
    offset = (brightened - x)[:, 0, 0, 0]
    np.testing.assert_allclose(brightened - x, jnp.broadcast_to(offset[:, None, None, None], x.shape), atol=1e-6)
    assert (offset >= -0.5).all() and (offset < 0.5).all() and len(np.unique(offset)) == 16
    # Saturation keeps each pixel's channel mean; with one channel it is the identity.
    saturated = augment.saturation(x, key_s)
    np.testing.assert_allclose(saturated.mean(axis=3), x.mean(axis=3), atol=1e-5)
    gray = x[..., :1]
    np.testing.assert_allclose(augment.saturation(gray, key_s), gray, atol=1e-6)
    # Contrast keeps each image's mean and scales deviations by c in [0.5, 1.5), one c per image.
    contrasted = augment.contrast(x, key_c)
    np.testing.assert_allclose(contrasted.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), atol=1e-5)
    dev_in = x - x.mean(axis=(1, 2, 3), keepdims=True)
    dev_out = contrasted - contrasted.mean(axis=(1, 2, 3), keepdims=True)
    scale = (dev_out / dev_in)[:, 0, 0, 0]
    assert (scale >= 0.5).all() and (scale < 1.5).all() and len(np.unique(np.round(scale, 5))) == 16


def test_each_call_draws_anew_and_is_deterministic_per_key():
    x = _images()
    apply = jax.jit(lambda key: augment.diff_augment(x, key, ALL))
    a, b = apply(jax.random.PRNGKey(2)), apply(jax.random.PRNGKey(3))
    np.testing.assert_array_equal(a, apply(jax.random.PRNGKey(2)))
    assert not np.allclose(a, b)


def test_differentiable_through_every_policy():
    x = _images(batch=4, channels=3)
    weights = jax.random.normal(jax.random.PRNGKey(4), x.shape)
    policies = [(name,) for name in ALL] + [ALL]

    @jax.jit
    def grads(v):
        return [jax.grad(lambda u, p=p: jnp.sum(augment.diff_augment(u, KEY, p) * weights))(v) for p in policies]

    for policy, grad in zip(policies, grads(x)):
        assert np.isfinite(grad).all() and np.abs(grad).sum() > 0, policy
    # Cutout only masks pixels: d out / d x is the mask (times the upstream gradient).
    mask = augment.diff_augment(jnp.ones_like(x), KEY, ("cutout",))
    np.testing.assert_allclose(grads(x)[2], mask * weights, atol=1e-6)
