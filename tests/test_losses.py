"""Tests for jaxgan.losses against numbers worked out by hand from each equation."""

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import losses


def softplus(x: float) -> float:
    return math.log(1.0 + math.exp(x))


# Shared logits: real r = [0, 2], fake f = [-1, 3].
REAL = jnp.array([0.0, 2.0])
FAKE = jnp.array([-1.0, 3.0])

# Hand values per loss type: (D real term, D fake term, G loss).
EXPECTED = {
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f).
    "minimax": (
        (softplus(-0.0) + softplus(-2.0)) / 2,
        (softplus(-1.0) + softplus(3.0)) / 2,
        -(softplus(-1.0) + softplus(3.0)) / 2,
    ),
    "non_saturating": (
        (softplus(-0.0) + softplus(-2.0)) / 2,
        (softplus(-1.0) + softplus(3.0)) / 2,
        (softplus(1.0) + softplus(-3.0)) / 2,
    ),
    # 1/2 mean((r-1)^2) = 1/2 * (1 + 1)/2; 1/2 mean(f^2) = 1/2 * (1 + 9)/2;
    # 1/2 mean((f-1)^2) = 1/2 * (4 + 4)/2.
    "least_squares": (0.5, 2.5, 2.0),
    # mean(relu(1 - r)) = (1 + 0)/2; mean(relu(1 + f)) = (0 + 4)/2; -mean(f) = -(2)/2.
    "hinge": (0.5, 2.0, -1.0),
    # -mean(r) = -1; mean(f) = 1; -mean(f) = -1.
    "wasserstein": (-1.0, 1.0, -1.0),
}


def test_expected_table_covers_every_loss_type():
    assert set(EXPECTED) == set(losses.ADVERSARIAL_LOSSES)


@pytest.mark.parametrize("loss_type", losses.ADVERSARIAL_LOSSES)
def test_discriminator_real_loss(loss_type):
    out = losses.discriminator_real_loss(loss_type, logits=REAL)
    assert out.shape == () and out.dtype == jnp.float32
    np.testing.assert_allclose(out, EXPECTED[loss_type][0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("loss_type", losses.ADVERSARIAL_LOSSES)
def test_discriminator_fake_loss(loss_type):
    out = losses.discriminator_fake_loss(loss_type, logits=FAKE)
    assert out.shape == () and out.dtype == jnp.float32
    np.testing.assert_allclose(out, EXPECTED[loss_type][1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("loss_type", losses.ADVERSARIAL_LOSSES)
def test_discriminator_loss_is_real_plus_fake(loss_type):
    # Logits shaped [B, 1] as many discriminators emit: the mean is over all elements.
    out = losses.discriminator_loss(
        loss_type, real_logits=REAL[:, None], fake_logits=FAKE[:, None]
    )
    real_term, fake_term, _ = EXPECTED[loss_type]
    np.testing.assert_allclose(out, real_term + fake_term, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("loss_type", losses.ADVERSARIAL_LOSSES)
def test_generator_loss(loss_type):
    out = losses.generator_loss(loss_type, fake_logits=FAKE)
    assert out.shape == () and out.dtype == jnp.float32
    np.testing.assert_allclose(out, EXPECTED[loss_type][2], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda: losses.discriminator_real_loss("bogus", logits=REAL),
        lambda: losses.discriminator_fake_loss("bogus", logits=FAKE),
        lambda: losses.discriminator_loss("bogus", real_logits=REAL, fake_logits=FAKE),
        lambda: losses.generator_loss("bogus", fake_logits=FAKE),
    ],
)
def test_unknown_loss_type_raises(call):
    with pytest.raises(ValueError, match=r"'bogus'.*minimax.*wasserstein"):
        call()


def test_bfloat16_logits_are_computed_in_float32():
    out = losses.discriminator_loss(
        "non_saturating",
        real_logits=REAL.astype(jnp.bfloat16),
        fake_logits=FAKE.astype(jnp.bfloat16),
    )
    assert out.dtype == jnp.float32
    real_term, fake_term, _ = EXPECTED["non_saturating"]
    np.testing.assert_allclose(out, real_term + fake_term, rtol=1e-6)


@pytest.mark.parametrize("loss_type", ["minimax", "non_saturating"])
def test_extreme_logits_give_finite_values_and_gradients(loss_type):
    logits = jnp.array([-100.0, 100.0])
    d_real, d_fake = jax.grad(
        lambda r, f: losses.discriminator_loss(loss_type, real_logits=r, fake_logits=f),
        argnums=(0, 1),
    )(logits, logits)
    g = jax.grad(lambda f: losses.generator_loss(loss_type, fake_logits=f))(logits)
    for grad in (d_real, d_fake, g):
        assert np.all(np.isfinite(grad))
    # softplus(100) = 100 to float32 precision and softplus(-100) ~ 0, so each
    # term is (100 + 0) / 2 and the total is 100.
    total = losses.discriminator_loss(loss_type, real_logits=logits, fake_logits=logits)
    np.testing.assert_allclose(total, 100.0, rtol=1e-6)
    # d/dr mean(softplus(-r)) = -sigmoid(-r)/B: -1/2 at r=-100, 0 at r=100.
    np.testing.assert_allclose(d_real, [-0.5, 0.0], atol=1e-6)


def test_jit_matches_eager():
    jitted = jax.jit(partial(losses.discriminator_loss, "hinge"))
    np.testing.assert_allclose(
        jitted(real_logits=REAL, fake_logits=FAKE),
        losses.discriminator_loss("hinge", real_logits=REAL, fake_logits=FAKE),
        rtol=1e-6,
    )
    jitted_g = jax.jit(partial(losses.generator_loss, "non_saturating"))
    np.testing.assert_allclose(
        jitted_g(fake_logits=FAKE), EXPECTED["non_saturating"][2], rtol=1e-6
    )


# ----------------------------------------------------------------------------
# Penalties
# ----------------------------------------------------------------------------

W = jnp.array([1.0, 2.0, 2.0])  # ||W|| = 3


def linear_critic(x):
    """critic(x) = sum(W * x) per example: gradient W everywhere."""
    return x @ W


def quadratic_critic(x):
    """critic(x) = sum(x^2) per example: gradient 2x."""
    return jnp.sum(jnp.square(x), axis=1, keepdims=True)  # shape [B, 1]


RNG = jax.random.PRNGKey(0)


def test_gradient_penalty_linear_critic_is_independent_of_eps():
    real = jnp.array([[1.0, 0.0, -1.0], [2.0, 2.0, 2.0]])
    fake = jnp.zeros_like(real)
    for seed in range(3):
        rng = jax.random.PRNGKey(seed)
        gp = losses.gradient_penalty(linear_critic, real=real, fake=fake, rng=rng)
        np.testing.assert_allclose(gp, (3.0 - 1.0) ** 2, rtol=1e-6)
    gp0 = losses.gradient_penalty(linear_critic, real=real, fake=fake, rng=RNG, target=0.0)
    np.testing.assert_allclose(gp0, 3.0**2, rtol=1e-6)


def test_gradient_penalty_quadratic_critic():
    # real == fake makes xhat == real for every eps; gradient 2x has norms
    # 2*||(3,4)|| = 10 and 2*||(0,1)|| = 2, so GP = ((10-1)^2 + (2-1)^2)/2 = 41.
    real = jnp.array([[3.0, 4.0], [0.0, 1.0]])
    gp = losses.gradient_penalty(quadratic_critic, real=real, fake=real, rng=RNG)
    np.testing.assert_allclose(gp, 41.0, rtol=1e-6)


def test_gradient_penalty_eps_lies_in_unit_interval():
    # real = ones [1, 2, 2], fake = 0: xhat = eps * ones, gradient of sum(x^2) is
    # 2 * eps * ones with norm 2 * eps * sqrt(4) = 4 eps; target 0 gives 16 eps^2.
    real = jnp.ones((1, 2, 2))

    def critic(x):
        return jnp.sum(jnp.square(x), axis=(1, 2))

    eps = [
        math.sqrt(
            float(
                losses.gradient_penalty(
                    critic,
                    real=real,
                    fake=jnp.zeros_like(real),
                    rng=jax.random.PRNGKey(s),
                    target=0.0,
                )
            )
        )
        / 4.0
        for s in range(4)
    ]
    assert all(0.0 <= e <= 1.0 for e in eps)
    assert len(set(eps)) > 1  # eps really is random


def test_gradient_penalty_eps_is_shared_within_and_drawn_per_example():
    real = jnp.ones((2, 2, 2))
    fake = jnp.zeros_like(real)

    def spread_within(x):
        # Zero gradient everywhere iff every example of xhat is constant over its
        # own elements, i.e. one eps per example broadcast over the other axes.
        return jnp.sum(jnp.square(x - x[:, :1, :1]), axis=(1, 2))

    gp = losses.gradient_penalty(spread_within, real=real, fake=fake, rng=RNG, target=0.0)
    assert float(gp) == 0.0

    def gap_between(x):
        # Nonzero gradient iff the two examples got different eps.
        return jnp.stack([jnp.sum(jnp.square(x[0] - x[1])), jnp.zeros(())])

    gp = losses.gradient_penalty(gap_between, real=real, fake=fake, rng=RNG, target=0.0)
    assert float(gp) > 0.0


def test_gradient_penalty_double_backprop():
    # GP(w) = (||w|| - 1)^2, so dGP/dw = 2 (||w|| - 1) w / ||w|| = 4/3 w at ||w|| = 3.
    real = jnp.ones((2, 3))

    def gp_of(w):
        return losses.gradient_penalty(lambda x: x @ w, real=real, fake=-real, rng=RNG)

    np.testing.assert_allclose(jax.grad(gp_of)(W), 4.0 / 3.0 * W, rtol=1e-5)
    # A flat critic (w = 0) has zero input gradient: the penalty's gradient must stay finite.
    assert np.all(np.isfinite(jax.grad(gp_of)(jnp.zeros(3))))


def test_gradient_penalty_jit_matches_eager():
    real = jnp.array([[3.0, 4.0], [0.0, 1.0]])
    fake = jnp.array([[1.0, 0.0], [2.0, 2.0]])
    jitted = jax.jit(partial(losses.gradient_penalty, quadratic_critic))
    np.testing.assert_allclose(
        jitted(real=real, fake=fake, rng=RNG),
        losses.gradient_penalty(quadratic_critic, real=real, fake=fake, rng=RNG),
        rtol=1e-6,
    )


def test_penalty_rejects_critic_without_batch_axis():
    with pytest.raises(ValueError, match="leading batch axis"):
        losses.r1_penalty(lambda x: jnp.sum(x), real=jnp.ones((2, 3)))


def test_r1_penalty_linear_critic():
    # ||grad||^2 = ||W||^2 = 9 for every example.
    real = jnp.array([[1.0, 0.0, -1.0], [5.0, 2.0, 2.0]])
    np.testing.assert_allclose(losses.r1_penalty(linear_critic, real=real), 9.0, rtol=1e-6)


def test_r1_penalty_quadratic_critic():
    # ||2x||^2 = 4 ||x||^2: 4 * 25 = 100 and 4 * 1 = 4, mean 52.
    real = jnp.array([[3.0, 4.0], [0.0, 1.0]])
    np.testing.assert_allclose(losses.r1_penalty(quadratic_critic, real=real), 52.0, rtol=1e-6)


def test_r1_penalty_jit_matches_eager():
    real = jnp.array([[3.0, 4.0], [0.0, 1.0]])
    jitted = jax.jit(partial(losses.r1_penalty, quadratic_critic))
    np.testing.assert_allclose(jitted(real=real), 52.0, rtol=1e-6)


# ----------------------------------------------------------------------------
# Reconstruction and auxiliary losses
# ----------------------------------------------------------------------------

PRED = jnp.array([[1.0, -2.0], [0.5, 4.0]])
TARGET = jnp.zeros((2, 2))
DIAG_MASK = jnp.array([[1.0, 0.0], [0.0, 1.0]])
ROW_MASK = jnp.array([[1.0], [0.0]])  # broadcasts to [[1, 1], [0, 0]]: 2 elements count


def test_l1_loss():
    np.testing.assert_allclose(
        losses.l1_loss(prediction=PRED, target=TARGET), (1 + 2 + 0.5 + 4) / 4, rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.l1_loss(prediction=PRED, target=TARGET, mask=DIAG_MASK), (1 + 4) / 2, rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.l1_loss(prediction=PRED, target=TARGET, mask=ROW_MASK), (1 + 2) / 2, rtol=1e-6
    )
    empty = losses.l1_loss(prediction=PRED, target=TARGET, mask=jnp.zeros((2, 2)))
    assert float(empty) == 0.0


def test_l2_loss():
    np.testing.assert_allclose(
        losses.l2_loss(prediction=PRED, target=TARGET), (1 + 4 + 0.25 + 16) / 4, rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.l2_loss(prediction=PRED, target=TARGET, mask=DIAG_MASK), (1 + 16) / 2, rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.l2_loss(prediction=PRED, target=TARGET, mask=ROW_MASK), (1 + 4) / 2, rtol=1e-6
    )
    jitted = jax.jit(losses.l2_loss)
    np.testing.assert_allclose(
        jitted(prediction=PRED, target=TARGET, mask=DIAG_MASK), 8.5, rtol=1e-6
    )


def test_classification_loss():
    logits = jnp.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    labels = jnp.array([1, 2])
    # -log(1/3) and -log(e^3 / (e^1 + e^2 + e^3)).
    ce0 = math.log(3.0)
    ce1 = math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 3.0
    np.testing.assert_allclose(
        losses.classification_loss(logits=logits, labels=labels), (ce0 + ce1) / 2, rtol=1e-6
    )


def test_multilabel_classification_loss():
    logits = jnp.array([[0.0, 2.0], [-1.0, 3.0]])
    targets = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    # target 1: -log sigmoid(l) = softplus(-l); target 0: -log(1 - sigmoid(l)) = softplus(l).
    example0 = softplus(-0.0) + softplus(2.0)
    example1 = softplus(-1.0) + softplus(-3.0)
    np.testing.assert_allclose(
        losses.multilabel_classification_loss(logits=logits, targets=targets),
        (example0 + example1) / 2,
        rtol=1e-6,
    )


def test_kl_standard_normal_is_zero_at_prior():
    out = losses.kl_standard_normal(mean=jnp.zeros((3, 4)), log_variance=jnp.zeros((3, 4)))
    assert float(out) == 0.0


def test_kl_standard_normal_hand_value():
    mean = jnp.array([[1.0, 0.0], [0.0, 0.0]])
    log_variance = jnp.array([[0.0, math.log(2.0)], [0.0, 0.0]])
    # Example 0: -1/2 (1 + 0 - 1 - 1) = 1/2 and -1/2 (1 + log 2 - 0 - 2) = (1 - log 2)/2.
    # Example 1 sits at the prior and contributes 0.
    example0 = 0.5 + (1.0 - math.log(2.0)) / 2
    np.testing.assert_allclose(
        losses.kl_standard_normal(mean=mean, log_variance=log_variance), example0 / 2, rtol=1e-6
    )
