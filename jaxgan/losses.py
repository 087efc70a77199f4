"""GAN losses, penalties and auxiliary objectives as pure, jit-safe functions.

Every function takes keyword arguments only (after ``loss_type`` / ``critic``),
computes in float32 so bf16 network outputs are safe, and returns a scalar
float32 mean over the batch. ``loss_type`` is a static Python string: it is
checked in Python, so it must not be passed as a traced value.
"""

from __future__ import annotations

from typing import Callable, Optional

import jax
import jax.numpy as jnp
import optax

ADVERSARIAL_LOSSES = ("minimax", "non_saturating", "least_squares", "hinge", "wasserstein")


def _f32(x) -> jax.Array:
    return jnp.asarray(x, jnp.float32)


def _check_loss_type(loss_type: str) -> None:
    if loss_type not in ADVERSARIAL_LOSSES:
        raise ValueError(
            f"unknown adversarial loss {loss_type!r}; expected one of {ADVERSARIAL_LOSSES}"
        )


def _sum_per_example(x: jax.Array) -> jax.Array:
    """Sum over every axis but the leading (batch) one: [B, ...] -> [B]."""
    return jnp.sum(x, axis=tuple(range(1, x.ndim)))


# ----------------------------------------------------------------------------
# Adversarial losses
# ----------------------------------------------------------------------------


def discriminator_real_loss(loss_type: str, *, logits) -> jax.Array:
    """The term D pays on inputs it should call real; ``r`` are raw D logits.

    minimax / non_saturating (Goodfellow et al. 2014): E[-log sigmoid(r)] = E[softplus(-r)]
    least_squares (Mao et al. 2017):                   1/2 E[(r - 1)^2]
    hinge (Lim & Ye 2017; Miyato et al. 2018):         E[relu(1 - r)]
    wasserstein (Arjovsky et al. 2017):                -E[r]
    """
    _check_loss_type(loss_type)
    r = _f32(logits)
    if loss_type in ("minimax", "non_saturating"):
        # softplus(-r) == -log sigmoid(r) without overflow for large |r|.
        return jnp.mean(jax.nn.softplus(-r))
    if loss_type == "least_squares":
        return 0.5 * jnp.mean(jnp.square(r - 1.0))
    if loss_type == "hinge":
        return jnp.mean(jax.nn.relu(1.0 - r))
    return -jnp.mean(r)  # wasserstein


def discriminator_fake_loss(loss_type: str, *, logits) -> jax.Array:
    """The term D pays on inputs it should call fake; ``f`` are raw D logits.

    minimax / non_saturating (Goodfellow et al. 2014): E[-log(1 - sigmoid(f))] = E[softplus(f)]
    least_squares (Mao et al. 2017):                   1/2 E[f^2]
    hinge (Lim & Ye 2017; Miyato et al. 2018):         E[relu(1 + f)]
    wasserstein (Arjovsky et al. 2017):                E[f]
    """
    _check_loss_type(loss_type)
    f = _f32(logits)
    if loss_type in ("minimax", "non_saturating"):
        # softplus(f) == -log(1 - sigmoid(f)) without overflow for large |f|.
        return jnp.mean(jax.nn.softplus(f))
    if loss_type == "least_squares":
        return 0.5 * jnp.mean(jnp.square(f))
    if loss_type == "hinge":
        return jnp.mean(jax.nn.relu(1.0 + f))
    return jnp.mean(f)  # wasserstein


def discriminator_loss(loss_type: str, *, real_logits, fake_logits) -> jax.Array:
    """Full discriminator loss: real term + fake term (see the two functions above).

    The real and fake logits are averaged separately, so their shapes may differ.
    """
    return discriminator_real_loss(loss_type, logits=real_logits) + discriminator_fake_loss(
        loss_type, logits=fake_logits
    )


def generator_loss(loss_type: str, *, fake_logits) -> jax.Array:
    """Generator loss on D's logits ``f`` for generated samples.

    minimax (Goodfellow et al. 2014):         E[log(1 - sigmoid(f))] = -E[softplus(f)]
    non_saturating (Goodfellow et al. 2014):  E[-log sigmoid(f)]     =  E[softplus(-f)]
    least_squares (Mao et al. 2017):          1/2 E[(f - 1)^2]
    hinge (Lim & Ye 2017; Miyato et al. 2018): -E[f]
    wasserstein (Arjovsky et al. 2017):       -E[f]
    """
    _check_loss_type(loss_type)
    f = _f32(fake_logits)
    if loss_type == "minimax":
        return -jnp.mean(jax.nn.softplus(f))
    if loss_type == "non_saturating":
        return jnp.mean(jax.nn.softplus(-f))
    if loss_type == "least_squares":
        return 0.5 * jnp.mean(jnp.square(f - 1.0))
    return -jnp.mean(f)  # hinge and wasserstein share the generator objective


# ----------------------------------------------------------------------------
# Gradient penalties
# ----------------------------------------------------------------------------


def _per_example_input_grad(critic: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """d critic(x)_i / d x_i for every example i, shape [B, ...].

    Summing the critic's output over the whole batch gives each example's
    gradient w.r.t. its own input, because examples do not interact (a critic
    that mixes examples, e.g. with batch norm, breaks that assumption).
    """
    batch = x.shape[0]

    def total(inputs: jax.Array) -> jax.Array:
        out = critic(inputs)
        if out.ndim == 0 or out.shape[0] != batch:
            raise ValueError(
                f"critic must return an output with leading batch axis {batch}; "
                f"got shape {out.shape}"
            )
        return jnp.sum(_f32(out))

    return jax.grad(total)(x)


def gradient_penalty(
    critic: Callable[[jax.Array], jax.Array],
    *,
    real,
    fake,
    rng: jax.Array,
    target: float = 1.0,
) -> jax.Array:
    """WGAN-GP penalty (Gulrajani et al. 2017).

    E[(||grad_xhat critic(xhat)||_2 - target)^2],  xhat = eps * real + (1 - eps) * fake,
    with eps ~ U[0, 1] drawn once per example and broadcast over its other axes.
    ``critic`` maps [B, ...] to an output with leading axis B. The caller
    multiplies the result by lambda (10 in the paper).
    """
    real = _f32(real)
    fake = _f32(fake)
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = jax.random.uniform(rng, eps_shape, jnp.float32)
    xhat = eps * real + (1.0 - eps) * fake
    grads = _per_example_input_grad(critic, xhat)
    sq_norm = _sum_per_example(jnp.square(grads))
    # sqrt has an infinite derivative at 0; the double `where` keeps the
    # second-order gradient finite when a critic is flat at xhat.
    nonzero = sq_norm > 0
    norm = jnp.where(nonzero, jnp.sqrt(jnp.where(nonzero, sq_norm, 1.0)), 0.0)
    return jnp.mean(jnp.square(norm - target))


def r1_penalty(critic: Callable[[jax.Array], jax.Array], *, real) -> jax.Array:
    """R1 penalty on real data (Mescheder et al. 2018).

    E_x[||grad_x critic(x)||_2^2] over real x. This returns the plain expectation:
    the caller multiplies it by gamma / 2 to get the paper's regulariser.
    """
    grads = _per_example_input_grad(critic, _f32(real))
    return jnp.mean(_sum_per_example(jnp.square(grads)))


# ----------------------------------------------------------------------------
# Reconstruction and auxiliary losses
# ----------------------------------------------------------------------------


def _masked_mean(values: jax.Array, mask) -> jax.Array:
    """mean(values), or sum(mask * values) / max(sum(mask), 1) with mask broadcast to values."""
    if mask is None:
        return jnp.mean(values)
    mask = jnp.broadcast_to(_f32(mask), values.shape)
    # Clamping the denominator at 1 makes an all-zero mask give 0 instead of NaN.
    return jnp.sum(mask * values) / jnp.maximum(jnp.sum(mask), 1.0)


def l1_loss(*, prediction, target, mask: Optional[jax.Array] = None) -> jax.Array:
    """Mean absolute error: E[|p - t|].

    With ``mask`` (broadcastable to ``prediction``): sum(mask * |p - t|) / max(sum(mask), 1).
    """
    return _masked_mean(jnp.abs(_f32(prediction) - _f32(target)), mask)


def l2_loss(*, prediction, target, mask: Optional[jax.Array] = None) -> jax.Array:
    """Mean squared error: E[(p - t)^2] (masked L2 of Context Encoders, Pathak et al. 2016).

    With ``mask`` (broadcastable to ``prediction``): sum(mask * (p - t)^2) / max(sum(mask), 1).
    """
    return _masked_mean(jnp.square(_f32(prediction) - _f32(target)), mask)


def classification_loss(*, logits, labels) -> jax.Array:
    """Softmax cross-entropy with integer labels, as in AC-GAN (Odena et al. 2017).

    E_i[-log softmax(logits_i)[labels_i]], logits [B, K], labels [B] ints.
    """
    per_example = optax.softmax_cross_entropy_with_integer_labels(
        _f32(logits), jnp.asarray(labels, jnp.int32)
    )
    return jnp.mean(per_example)


def multilabel_classification_loss(*, logits, targets) -> jax.Array:
    """Sigmoid binary cross-entropy over attributes, as in StarGAN (Choi et al. 2018).

    E_i[sum_a -(t_ia log sigmoid(l_ia) + (1 - t_ia) log(1 - sigmoid(l_ia)))],
    logits and {0, 1} targets [B, A]; summed over attributes, mean over batch.
    """
    per_attribute = optax.sigmoid_binary_cross_entropy(_f32(logits), _f32(targets))
    return jnp.mean(_sum_per_example(per_attribute))


def gaussian_nll(*, x, mean, sigma: float) -> jax.Array:
    """-log N(x; mean, sigma^2 I): sum_d [(x_d - mean_d)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2],
    summed over each example's elements, mean over the batch (a VAE's Gaussian decoder)."""
    per_element = 0.5 * jnp.square((_f32(x) - _f32(mean)) / sigma) + jnp.log(sigma) + 0.5 * jnp.log(2.0 * jnp.pi)
    return jnp.mean(_sum_per_example(per_element))


def kl_standard_normal(*, mean, log_variance) -> jax.Array:
    """KL(N(mean, exp(log_variance)) || N(0, I)) (Kingma & Welling 2014).

    -1/2 sum(1 + logvar - mean^2 - exp(logvar)), summed over non-batch axes, mean over batch.
    """
    mean = _f32(mean)
    log_variance = _f32(log_variance)
    per_dim = -0.5 * (1.0 + log_variance - jnp.square(mean) - jnp.exp(log_variance))
    return jnp.mean(_sum_per_example(per_dim))


# ----------------------------------------------------------------------------
# Feature matching (pix2pixHD, SPADE)
# ----------------------------------------------------------------------------


def feature_matching_loss(*, real_features, fake_features, layer_weight: Optional[float] = None) -> jax.Array:
    """The discriminator feature-matching loss of pix2pixHD (Wang et al. 2018, eq. 4):

        L_FM = 1/K sum_k w sum_i mean |D_k^(i)(s, x) - D_k^(i)(s, G(s))|

    over the K discriminators (scales) k and the T intermediate activations i of each (logits
    excluded); ``mean`` averages over a layer's elements, the paper's 1/N_i. The real activations
    are held fixed (no gradient flows into them). ``real_features`` and ``fake_features`` are lists
    over scales of lists over layers. The weights are those of the authors' code
    (NVIDIA/pix2pixHD ``models/pix2pixHD_model.py``: ``D_weights = 1 / num_D``, ``feat_weights =
    4 / (n_layers_D + 1)``, n_layers_D + 1 being T): w = 4 / T by default; SPADE's code (NVlabs/SPADE
    ``models/pix2pix_model.py``) uses w = 1 (``layer_weight=1``), the same at their default T = 4.
    The caller multiplies by lambda_FM (10 in both papers).
    """
    if len(real_features) != len(fake_features):
        raise ValueError(f"feature matching: {len(real_features)} real scales but {len(fake_features)} fake ones")
    total = jnp.zeros((), jnp.float32)
    for real_layers, fake_layers in zip(real_features, fake_features):
        if len(real_layers) != len(fake_layers) or not real_layers:
            raise ValueError(f"feature matching: a scale has {len(real_layers)} real and {len(fake_layers)} fake "
                             "layers; they must be equal and non-zero")
        w = 4.0 / len(real_layers) if layer_weight is None else layer_weight
        for real, fake in zip(real_layers, fake_layers):
            total += w * jnp.mean(jnp.abs(_f32(fake) - jax.lax.stop_gradient(_f32(real))))
    return total / len(real_features)


def mean_feature_matching_loss(*, real_features, fake_features) -> jax.Array:
    """Feature matching on the batch means of D's activations (Salimans et al. 2016, sec. 3.1:
    ||E_x f(x) - E_z f(G(z))||^2), as DiscoGAN's code computes it per layer (SKTBrain/DiscoGAN
    ``get_fm_loss``: the squared difference of the batch means, averaged over the layer's elements by
    ``HingeEmbeddingLoss`` with target 1) and sums over layers i:

        L_FM = sum_i mean_{h, w, c} (mean_n f_i(x_n) - mean_n f_i(G(z)_n))^2

    ``real_features`` and ``fake_features`` are lists over layers of [B, ...] activations; the real ones
    are held fixed (no gradient flows into them).
    """
    if len(real_features) != len(fake_features) or not real_features:
        raise ValueError(f"feature matching: {len(real_features)} real and {len(fake_features)} fake layers; "
                         "they must be equal and non-zero")
    total = jnp.zeros((), jnp.float32)
    for real, fake in zip(real_features, fake_features):
        difference = jnp.mean(_f32(fake), axis=0) - jax.lax.stop_gradient(jnp.mean(_f32(real), axis=0))
        total += jnp.mean(jnp.square(difference))
    return total
