"""pix2pixHD: the feature-matching loss by hand."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import losses


def test_feature_matching_loss_by_hand():
    """Two scales of two layers: L_FM = 1/2 sum_k (4/2) sum_i mean|real - fake|; no gradient into real."""
    real = [[jnp.zeros((1, 2, 2, 1)), jnp.ones((1, 1, 1, 2))], [jnp.full((1, 1, 1, 1), 2.0), jnp.zeros((1, 1, 1, 3))]]
    fake = [[jnp.asarray([1.0, -1.0, 3.0, 0.0]).reshape(1, 2, 2, 1), jnp.asarray([0.0, 3.0]).reshape(1, 1, 1, 2)],
            [jnp.full((1, 1, 1, 1), 5.0), jnp.asarray([1.0, 2.0, 3.0]).reshape(1, 1, 1, 3)]]
    means = [(1 + 1 + 3 + 0) / 4, (1 + 2) / 2, 3.0, (1 + 2 + 3) / 3]
    expected = 0.5 * 2.0 * sum(means)  # 1/K, w = 4/T with T = 2 layers.
    np.testing.assert_allclose(losses.feature_matching_loss(real_features=real, fake_features=fake), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(losses.feature_matching_loss(real_features=real, fake_features=fake, layer_weight=1.0),
                               0.5 * sum(means), rtol=1e-6)
    grad_real = jax.grad(lambda r: losses.feature_matching_loss(real_features=r, fake_features=fake))(real)
    assert all(float(jnp.abs(g).sum()) == 0 for g in jax.tree.leaves(grad_real))
    grad_fake = jax.grad(lambda f: losses.feature_matching_loss(real_features=real, fake_features=f))(fake)
    np.testing.assert_allclose(grad_fake[0][1], np.asarray([-0.5, 0.5]).reshape(1, 1, 1, 2))  # 1/K * w * sign / 2.
